package hub

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/sessionhub/sessionhub/auth"
)

// Close codes of DESIGN §3 beyond the standard ones.
const (
	StatusTokenExpired websocket.StatusCode = 4001 // bad or expired token
	StatusSlowConsumer websocket.StatusCode = 4008 // the queue overflowed
)

// conn is one WebSocket connection. Its reader is the HTTP handler's goroutine
// (it runs the commands); its writer goroutine drains the queue. Nothing else
// runs per connection: pings and token expiry are driven by the hub's one
// janitor, which only sets flags here and wakes the writer.
type conn struct {
	h    *Hub
	ws   *websocket.Conn
	id   string
	user string

	// Reader goroutine only.
	claims auth.Claims
	subs   map[chanKey]*sub

	expires  atomic.Int64 // token expiry, unix nanoseconds
	nextPing atomic.Int64 // when the janitor asks for the next ping, unix nanoseconds

	wake       chan struct{} // capacity 1: "the writer has something to do"
	writerDone chan struct{}

	mu       sync.Mutex
	queue    []qitem // messages waiting for the writer, oldest first
	spare    []qitem // the writer's drained slice, reused to avoid allocating
	updBytes int     // bytes of queued updates (bounded by QueueBytes)
	ctlBytes int     // bytes of queued replies and snapshots (bounded more loosely)
	pingDue  bool
	closed   bool // no more enqueues: the connection is ending
	code     websocket.StatusCode
	reason   string
}

// qitem is one queued message. The bytes may be shared with other connections
// and must not be changed. An update carries its subscription and session so
// that it can be coalesced with a newer update of the same session.
type qitem struct {
	msg     []byte
	s       *sub
	session string
}

// sub is one connection's subscription to one channel.
type sub struct {
	c       *conn
	key     chanKey
	account string
	idx     int // position in channel.subs, guarded by the shard's lock

	// Guarded by c.mu.
	live         bool // false while a snapshot or replay is being taken: events wait in pending
	subscribing  bool // the first catch-up has not finished
	resetPending bool // a reset came during the first catch-up
	removed      bool
	gen          uint64 // bumped by every resync; a stale resync's result is dropped
	pending      []pendingEvent
	pendingBytes int
	overflow     bool // pending outgrew its bound and was dropped: take the snapshot again
}

// pendingEvent is an update that arrived while its subscription was catching up.
type pendingEvent struct {
	msg     []byte
	offset  string
	session string
}

func newConn(h *Hub, ws *websocket.Conn, id string, claims auth.Claims) *conn {
	c := &conn{
		h:          h,
		ws:         ws,
		id:         id,
		user:       claims.Subject,
		claims:     claims,
		subs:       map[chanKey]*sub{},
		wake:       make(chan struct{}, 1),
		writerDone: make(chan struct{}),
	}
	c.expires.Store(claims.Expires.UnixNano())
	c.nextPing.Store(time.Now().Add(h.cfg.PingInterval).UnixNano())
	return c
}

// signal wakes the writer without blocking.
func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// deliver queues a live update for s, or parks it while s is catching up.
// It runs on the broadcast path: it never blocks and, in steady state, never
// allocates.
func (c *conn) deliver(s *sub, sessionID, offset string, msg []byte) {
	c.mu.Lock()
	if c.closed || s.removed {
		c.mu.Unlock()
		return
	}
	if !s.live {
		c.park(s, pendingEvent{msg: msg, offset: offset, session: sessionID})
		c.mu.Unlock()
		return
	}
	c.push(qitem{msg: msg, s: s, session: sessionID})
	c.mu.Unlock()
	c.signal()
}

// park keeps an event for a subscription that is catching up. Past the queue
// bound the events are dropped and the subscription takes a newer snapshot
// instead; c.mu is held.
func (c *conn) park(s *sub, p pendingEvent) {
	if s.overflow {
		return
	}
	s.pending = append(s.pending, p)
	s.pendingBytes += len(p.msg)
	if s.pendingBytes > c.h.cfg.QueueBytes {
		s.pending, s.pendingBytes, s.overflow = nil, 0, true
	}
}

// send queues a reply, a snapshot or another message that is not an update.
func (c *conn) send(msg []byte) {
	c.mu.Lock()
	c.pushCtl(msg)
	c.mu.Unlock()
	c.signal()
}

// pushCtl queues a message that is never coalesced; c.mu is held. Such
// messages answer the client's own commands, so they have a looser bound (a
// snapshot may be larger than QueueBytes), but a client that sends commands and
// never reads the replies is closed all the same.
func (c *conn) pushCtl(msg []byte) {
	if c.closed {
		return
	}
	c.queue = append(c.queue, qitem{msg: msg})
	c.ctlBytes += len(msg)
	if c.ctlBytes > c.h.cfg.QueueBytes*ctlQueueFactor {
		c.slow()
	}
}

// ctlQueueFactor sizes the bound of queued replies relative to QueueBytes.
const ctlQueueFactor = 16

// push queues an update; c.mu is held. Over the bound, queued updates of the
// same session are coalesced to the newest; if that is not enough, the
// connection is closed as a slow consumer.
func (c *conn) push(it qitem) {
	if c.closed {
		return
	}
	c.queue = append(c.queue, it)
	c.updBytes += len(it.msg)
	if c.updBytes <= c.h.cfg.QueueBytes {
		return
	}
	c.coalesce()
	if c.updBytes > c.h.cfg.QueueBytes && c.updBytes > len(it.msg) {
		// A lone update larger than the bound is let through: nothing
		// smaller could carry the session.
		c.slow()
	}
}

// coalesceKey names the updates that replace each other.
type coalesceKey struct {
	s       *sub
	session string
}

// coalesce drops every queued update that a newer queued update of the same
// session on the same subscription supersedes. Sessions travel whole, so the
// newest update alone leaves the client with the exact state. c.mu is held.
func (c *conn) coalesce() {
	seen := make(map[coalesceKey]struct{}, len(c.queue))
	keep := len(c.queue)
	for i := len(c.queue) - 1; i >= 0; i-- {
		it := c.queue[i]
		if it.s != nil {
			k := coalesceKey{it.s, it.session}
			if _, dup := seen[k]; dup {
				c.updBytes -= len(it.msg)
				c.h.stats.coalesced.Add(1)
				continue
			}
			seen[k] = struct{}{}
		}
		keep--
		c.queue[keep] = it
	}
	n := copy(c.queue, c.queue[keep:])
	clear(c.queue[n:])
	c.queue = c.queue[:n]
}

// slow marks the connection for closing with 4008; c.mu is held.
func (c *conn) slow() {
	if c.closed {
		return
	}
	c.h.stats.slowClosed.Add(1)
	c.closeLocked(StatusSlowConsumer, "slow consumer: the outgoing queue overflowed; reconnect and resume with since")
}

// requestClose asks the writer to close the connection with code. It reports
// false when the connection was already closing.
func (c *conn) requestClose(code websocket.StatusCode, reason string) bool {
	c.mu.Lock()
	first := !c.closed
	c.closeLocked(code, reason)
	c.mu.Unlock()
	c.signal()
	return first
}

// closeLocked stops all enqueueing and drops what is queued; c.mu is held.
func (c *conn) closeLocked(code websocket.StatusCode, reason string) {
	if c.closed {
		return
	}
	c.closed = true
	c.code, c.reason = code, reason
	clear(c.queue)
	c.queue = nil
	c.updBytes, c.ctlBytes = 0, 0
}

// requestPing asks the writer to ping the client.
func (c *conn) requestPing() {
	c.mu.Lock()
	c.pingDue = true
	c.mu.Unlock()
	c.signal()
}

// maxFrameBytes bounds the frame the writer packs messages into; a larger
// message travels in a frame of its own.
const maxFrameBytes = 256 << 10

// framePool holds the writer's frame buffers, so an idle connection holds none.
var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

// writeLoop drains the queue into as few text frames as it can (messages
// separated by "\n"), pings when the janitor asks, and closes the connection
// when asked to. It returns when the connection ends.
func (c *conn) writeLoop() {
	defer close(c.writerDone)
	for range c.wake {
		c.mu.Lock()
		q := c.queue
		c.queue, c.spare = c.spare[:0], nil
		c.updBytes, c.ctlBytes = 0, 0
		ping := c.pingDue
		c.pingDue = false
		closed, code, reason := c.closed, c.code, c.reason
		c.mu.Unlock()

		if closed {
			if code != 0 {
				// Close sends the code and waits (bounded) for the client's reply.
				_ = c.ws.Close(code, reason)
			}
			return
		}
		if len(q) > 0 {
			err := c.writeQueue(q)
			clear(q)
			if cap(q) <= 4096 {
				c.mu.Lock()
				c.spare = q[:0]
				c.mu.Unlock()
			}
			if err != nil {
				c.h.log.Debug("hub: write failed", "conn", c.id, "err", err)
				_ = c.ws.CloseNow()
				return
			}
		}
		if ping {
			ctx, cancel := context.WithTimeout(context.Background(), c.h.cfg.PongTimeout)
			err := c.ws.Ping(ctx)
			cancel()
			if err != nil {
				c.h.stats.pingTimeouts.Add(1)
				c.h.log.Debug("hub: no pong in time; closing", "conn", c.id, "err", err)
				_ = c.ws.CloseNow()
				return
			}
		}
	}
}

// writeQueue writes q's messages in as few frames as possible.
func (c *conn) writeQueue(q []qitem) error {
	if len(q) == 1 {
		return c.writeFrame(q[0].msg, 1)
	}
	bp := framePool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxFrameBytes*2 {
			framePool.Put(bp)
		}
	}()
	buf, n := (*bp)[:0], 0
	for _, it := range q {
		if len(buf) > 0 && len(buf)+1+len(it.msg) > maxFrameBytes {
			if err := c.writeFrame(buf, n); err != nil {
				return err
			}
			buf, n = buf[:0], 0
		}
		if len(buf) == 0 && len(it.msg) > maxFrameBytes {
			if err := c.writeFrame(it.msg, 1); err != nil {
				return err
			}
			continue
		}
		if len(buf) > 0 {
			buf = append(buf, '\n')
		}
		buf = append(buf, it.msg...)
		n++
	}
	*bp = buf[:0]
	if len(buf) > 0 {
		return c.writeFrame(buf, n)
	}
	return nil
}

// writeFrame writes one text frame holding n messages, bounded by WriteTimeout.
func (c *conn) writeFrame(b []byte, n int) error {
	ctx, cancel := context.WithTimeout(context.Background(), c.h.cfg.WriteTimeout)
	err := c.ws.Write(ctx, websocket.MessageText, b)
	cancel()
	if err == nil {
		c.h.stats.messagesSent.Add(uint64(n))
		c.h.stats.framesSent.Add(1)
		c.h.stats.bytesSent.Add(uint64(len(b)))
	}
	return err
}
