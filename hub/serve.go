package hub

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/google/uuid"
	"github.com/sessionhub/sessionhub/auth"
)

// ServeHTTP upgrades GET /ws. The token comes from "Authorization: Bearer" or
// the access_token query parameter (browsers cannot set headers on a
// WebSocket), and is never logged. A WebSocket handshake with a missing, bad or
// expired token is upgraded and closed at once with 4001 and the reason, the
// close code DESIGN §3 gives a bad token: a browser cannot read the status of a
// refused upgrade, only a close code. Any other request without a good token
// is a 401.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.isClosing() {
		h.stats.rejected.Add(1)
		w.Header().Set("Retry-After", "1")
		writeHTTPError(w, http.StatusServiceUnavailable, "Unavailable", "this instance is shutting down: reconnect to another one")
		return
	}
	token := auth.BearerToken(r.Header.Get("Authorization"))
	if token == "" {
		token = r.URL.Query().Get("access_token")
	}
	claims, authErr := h.cfg.Auth.Verify(token)
	if authErr != nil && !isUpgrade(r) {
		h.stats.rejected.Add(1)
		w.Header().Set("WWW-Authenticate", "Bearer") // as the REST side answers
		writeHTTPError(w, http.StatusUnauthorized, "Unauthorized", authErr.Error())
		return
	}
	sw := &slimWriter{ResponseWriter: w}
	ws, err := websocket.Accept(sw, r, &websocket.AcceptOptions{
		OriginPatterns:  h.cfg.AllowedOrigins,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		// Accept has answered (403 for a foreign origin, 426 for a plain GET).
		h.log.Debug("hub: upgrade refused", "remote", r.RemoteAddr, "origin", r.Header.Get("Origin"), "err", err)
		return
	}
	if authErr != nil {
		h.stats.rejected.Add(1)
		h.log.Debug("hub: bad token; closing with 4001", "remote", r.RemoteAddr, "err", authErr)
		_ = ws.Close(StatusTokenExpired, closeReason(authErr.Error()+": reconnect with a valid token"))
		return
	}
	ws.SetReadLimit(h.cfg.MaxMessageBytes)
	c := newConn(h, ws, sw, uuid.NewString(), claims)
	if !h.register(c) {
		_ = ws.Close(websocket.StatusGoingAway, "server going away: reconnect elsewhere")
		return
	}
	h.log.Debug("hub: connected", "conn", c.id, "user", c.user, "remote", r.RemoteAddr)
	c.send(encodeWelcome(c.id, c.user, claims.Accounts, h.heartbeatSeconds()))
	// The reader runs on a goroutine of its own and ServeHTTP returns: the
	// request, net/http's and Gin's per-request state and the handler's deep
	// stack are freed, and an idle connection keeps only a shallow stack.
	go c.serve()
}

// serve runs the connection's reader until the connection ends, then cleans up.
func (c *conn) serve() {
	defer c.h.unregister(c)
	c.readLoop()
	c.finish()
	c.h.log.Debug("hub: disconnected", "conn", c.id, "user", c.user)
}

// writeHTTPError answers a refused upgrade in the REST API's error shape.
func writeHTTPError(w http.ResponseWriter, status int, code, msg string) {
	b := []byte(`{"responseStatus":{"errorCode":`)
	b = appendString(b, code)
	b = append(b, `,"message":`...)
	b = appendString(b, msg)
	b = append(b, `,"errors":[]}}`...) // the REST side's ResponseStatus shape
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// readLoop reads the client's frames and runs the commands in them, one after
// another, until the connection ends. A frame may hold several commands
// separated by "\n", as the server's frames do.
//
// Where the socket can be waited on (see idleConn), the frames are read and
// run on a goroutine that lives only while bytes come, and this goroutine,
// which an idle connection keeps, waits in a shallow frame between them.
func (c *conn) readLoop() {
	if c.ic.rc == nil {
		c.readBlocking()
		return
	}
	for {
		c.reading.Add(1)
		go c.startRead()
		c.reading.Wait()
		if !c.readOK {
			return
		}
		if err := c.ic.waitReadable(); err != nil {
			c.h.log.Debug("hub: read ended", "conn", c.id, "err", err)
			return
		}
	}
}

// readAvailableAsync is readAvailable for the read goroutine: it leaves the
// result in readOK for readLoop, which waits on reading.
func (c *conn) readAvailableAsync() {
	defer c.reading.Done()
	c.readOK = c.readAvailable()
}

// readAvailable reads and runs messages until none is waiting. It reports
// false when the connection has ended.
func (c *conn) readAvailable() bool {
	c.ic.armed.Store(true)
	defer c.ic.armed.Store(false)
	for {
		typ, data, err := c.ws.Read(context.Background())
		if errors.Is(err, errReadIdle) {
			return true
		}
		if !c.handleMessage(typ, data, err) {
			return false
		}
	}
}

// handleMessage runs one message Read returned; it reports false when err
// ended the connection.
func (c *conn) handleMessage(typ websocket.MessageType, data []byte, err error) bool {
	if err != nil {
		c.h.log.Debug("hub: read ended", "conn", c.id, "status", websocket.CloseStatus(err), "err", err)
		return false
	}
	if typ != websocket.MessageText {
		c.sendError("", CodeBadRequest, "binary frames are not accepted: send JSON commands in text frames")
		return true
	}
	c.handleFrame(data)
	return true
}

// readBlocking is readLoop where the socket cannot be waited on: the reader
// blocks in Read.
func (c *conn) readBlocking() {
	for {
		// A context without Done: the read blocks until a frame comes or the
		// connection closes, and costs no timer per read.
		typ, data, err := c.ws.Read(context.Background())
		if err != nil || typ != websocket.MessageText {
			if !c.handleMessage(typ, data, err) {
				return
			}
			continue
		}
		// The commands run on a goroutine of their own, one frame at a
		// time: decoding and subscribing need a deep stack, and the reader's
		// stack, which an idle connection keeps, would keep that depth.
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.handleFrame(data)
		}()
		<-done
	}
}

// handleFrame runs the commands of one frame in order.
func (c *conn) handleFrame(data []byte) {
	for len(data) > 0 {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte{'\n'})
		line = bytes.TrimSpace(line)
		if len(line) > 0 {
			c.handle(line)
		}
	}
}

// finish ends the connection once its reader is done: it stops the writer,
// drops the subscriptions (releasing the Broker's accounts) and waits for the
// writer and any ping, so nothing of the connection outlives it.
func (c *conn) finish() {
	c.mu.Lock()
	c.closeLocked(0, "")
	c.ended = true // a writer that runs sends what it must; none starts again
	c.mu.Unlock()
	_ = c.ws.CloseNow()
	c.workers.Wait()
	for _, s := range c.subs.list() {
		c.dropSub(s)
	}
}

// isUpgrade reports whether r asks for a WebSocket.
func isUpgrade(r *http.Request) bool {
	return strings.EqualFold(strings.TrimSpace(r.Header.Get("Upgrade")), "websocket")
}

// closeReason clips s to the 123 bytes a close frame's reason may hold,
// without splitting a UTF-8 sequence.
func closeReason(s string) string {
	const maxReason = 123
	if len(s) <= maxReason {
		return s
	}
	i := maxReason
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}
