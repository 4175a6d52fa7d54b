package hub

import (
	"bytes"
	"context"
	"net/http"

	"github.com/coder/websocket"
	"github.com/google/uuid"
	"github.com/sessionhub/sessionhub/auth"
)

// ServeHTTP upgrades GET /ws. The token comes from "Authorization: Bearer" or
// the access_token query parameter (browsers cannot set headers on a
// WebSocket); it is checked before the upgrade (401) and never logged.
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
	claims, err := h.cfg.Auth.Verify(token)
	if err != nil {
		h.stats.rejected.Add(1)
		w.Header().Set("WWW-Authenticate", `Bearer realm="sessionhub"`)
		writeHTTPError(w, http.StatusUnauthorized, "Unauthorized", err.Error())
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		OriginPatterns:  h.cfg.AllowedOrigins,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		// Accept has answered (403 for a foreign origin, 426 for a plain GET).
		h.log.Debug("hub: upgrade refused", "remote", r.RemoteAddr, "origin", r.Header.Get("Origin"), "err", err)
		return
	}
	ws.SetReadLimit(h.cfg.MaxMessageBytes)
	c := newConn(h, ws, uuid.NewString(), claims)
	if !h.register(c) {
		_ = ws.Close(websocket.StatusGoingAway, "server going away: reconnect elsewhere")
		return
	}
	defer h.unregister(c)
	h.log.Debug("hub: connected", "conn", c.id, "user", c.user, "remote", r.RemoteAddr)

	c.send(encodeWelcome(c.id, c.user, claims.Accounts, h.heartbeatSeconds()))
	go c.writeLoop()
	c.readLoop()
	c.finish()
	h.log.Debug("hub: disconnected", "conn", c.id, "user", c.user)
}

// writeHTTPError answers a refused upgrade in the REST API's error shape.
func writeHTTPError(w http.ResponseWriter, status int, code, msg string) {
	b := []byte(`{"responseStatus":{"errorCode":`)
	b = appendString(b, code)
	b = append(b, `,"message":`...)
	b = appendString(b, msg)
	b = append(b, "}}"...)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// readLoop reads the client's frames and runs the commands in them, one after
// another, until the connection ends. A frame may hold several commands
// separated by "\n", as the server's frames do.
func (c *conn) readLoop() {
	for {
		// A context without Done: the read blocks until a frame comes or the
		// connection closes, and costs no timer per read.
		typ, data, err := c.ws.Read(context.Background())
		if err != nil {
			c.h.log.Debug("hub: read ended", "conn", c.id, "status", websocket.CloseStatus(err), "err", err)
			return
		}
		if typ != websocket.MessageText {
			c.sendError("", CodeBadRequest, "binary frames are not accepted: send JSON commands in text frames")
			continue
		}
		for len(data) > 0 {
			var line []byte
			line, data, _ = bytes.Cut(data, []byte{'\n'})
			line = bytes.TrimSpace(line)
			if len(line) > 0 {
				c.handle(line)
			}
		}
	}
}

// finish ends the connection once its reader is done: it stops the writer,
// drops the subscriptions (releasing the Broker's accounts) and waits for the
// writer, so nothing of the connection outlives ServeHTTP.
func (c *conn) finish() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		clear(c.queue)
		c.queue = nil
	}
	c.mu.Unlock()
	c.signal()
	_ = c.ws.CloseNow()
	<-c.writerDone
	for _, s := range c.subs {
		c.dropSub(s)
	}
}
