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

// conn is one WebSocket connection. Its reader goroutine waits, in a shallow
// frame, for the client's bytes; a read goroutine that lives only while they
// come reads the messages and runs the commands (see idleConn). Its writer
// goroutine exists only while there is something to write: it is
// started when the queue gains a message and ends once it has drained it, so
// an idle connection has one goroutine. Pings, token expiry and write
// timeouts are driven by the hub's one janitor, which only sets flags here
// (and closes the socket under a write that has stalled).
type conn struct {
	h  *Hub
	ws *websocket.Conn
	fw *frameWriter // under ws's bufio.Writer (slimWriter.Hijack made it)
	ic *idleConn    // what ws reads from (slimWriter.Hijack made it)
	// startWriter is c.writeLoop, made once: a go statement with a method
	// value made on the spot allocates, and a writer starts per burst.
	startWriter func()
	// startRead is c.readAvailableAsync, made once for the same reason; the
	// reader waits on reading for it and finds its result in readOK.
	startRead func()
	reading   sync.WaitGroup
	readOK    bool
	id        string
	user      string

	// Read goroutine only (one at a time).
	accounts []string // the token's accounts; of its claims, only these and the expiry matter after the upgrade
	subs     subSet

	expires    atomic.Int64 // token expiry, unix nanoseconds
	nextPing   atomic.Int64 // when the janitor asks for the next ping, unix nanoseconds
	writeSince atomic.Int64 // when the frame being written began, unix nanoseconds; 0 when none is

	// workers counts the writer and ping goroutines; finish waits for them.
	// Add is called with mu held and only while !ended, or by a worker.
	workers sync.WaitGroup

	mu       sync.Mutex
	queue    []qitem // messages waiting for the writer, oldest first
	spare    []qitem // the writer's drained slice, reused to avoid allocating
	updBytes int     // bytes of queued updates (bounded by QueueBytes)
	ctlBytes int     // bytes of queued replies and snapshots (bounded more loosely)
	pingDue  bool
	writing  bool // a writer goroutine is running
	ended    bool // no writer starts again: the close was sent or the connection is gone
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

func newConn(h *Hub, ws *websocket.Conn, sw *slimWriter, id string, claims auth.Claims) *conn {
	c := &conn{
		h:        h,
		ws:       ws,
		fw:       sw.fw,
		ic:       sw.ic,
		id:       id,
		user:     claims.Subject,
		accounts: claims.Accounts,
	}
	c.startWriter = c.writeLoop
	c.startRead = c.readAvailableAsync
	c.expires.Store(claims.Expires.UnixNano())
	c.nextPing.Store(time.Now().Add(h.cfg.PingInterval).UnixNano())
	return c
}

// hasAccount reports whether the connection's token covers account.
func (c *conn) hasAccount(account string) bool {
	return auth.Claims{Accounts: c.accounts}.HasAccount(account)
}

// kick starts the writer if there is something to write and none runs; c.mu
// is held.
func (c *conn) kick() {
	if c.writing || c.ended {
		return
	}
	if c.closed && c.code == 0 {
		c.ended = true // dropped without a close frame: nothing more to send
		return
	}
	if len(c.queue) == 0 && !c.pingDue && !c.closed {
		return
	}
	c.writing = true
	c.workers.Add(1)
	go c.startWriter()
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
	c.kick()
	c.mu.Unlock()
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
	c.kick()
	c.mu.Unlock()
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

// requestClose asks the writer to close the connection with code; code 0
// drops it without a close frame (the caller closes the socket). It reports
// false when the connection was already closing.
func (c *conn) requestClose(code websocket.StatusCode, reason string) bool {
	c.mu.Lock()
	first := !c.closed
	c.closeLocked(code, reason)
	c.kick()
	c.mu.Unlock()
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
	c.kick()
	c.mu.Unlock()
}

// maxFrameBytes bounds the frame the writer packs messages into; a larger
// message travels in a frame of its own.
const maxFrameBytes = 256 << 10

// framePool holds the writer's frame buffers, so an idle connection holds none.
var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

// writeLoop drains the queue into as few text frames as it can (messages
// separated by "\n"), starts a ping when the janitor asks, and closes the
// connection when asked to. It returns once there is nothing left to do.
func (c *conn) writeLoop() {
	defer c.workers.Done()
	for {
		c.mu.Lock()
		q := c.queue
		ping := c.pingDue
		c.pingDue = false
		closed, code, reason := c.closed, c.code, c.reason
		if closed || (len(q) == 0 && !ping) {
			c.writing = false
			c.ended = c.ended || closed
			// An idle connection keeps at most a tiny queue for the next
			// message, not the slices a burst grew. The queue is empty here
			// and, after a single write, has no capacity: the slice just
			// drained is kept instead, so the next message needs no new one.
			if cap(c.queue) == 0 {
				c.queue = c.spare
			}
			if cap(c.queue) > idleQueueCap {
				c.queue = nil
			}
			c.spare = nil
			c.mu.Unlock()
			if closed && code != 0 {
				// Close sends the code and waits (bounded) for the client's
				// reply, reading it itself when the reader is idle: those
				// reads must block.
				c.ic.closing.Store(true)
				_ = c.ws.Close(code, reason)
			}
			return
		}
		c.queue, c.spare = c.spare[:0], nil
		c.updBytes, c.ctlBytes = 0, 0
		c.mu.Unlock()

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
				c.mu.Lock()
				c.writing, c.ended = false, true
				c.mu.Unlock()
				_ = c.ws.CloseNow()
				return
			}
		}
		if ping {
			// The pong is awaited on a goroutine of its own so that updates
			// keep flowing meanwhile; the writer holds a worker count, so Add
			// is safe here.
			c.workers.Add(1)
			go c.awaitPong()
		}
	}
}

// awaitPong pings the client and closes the connection if no pong comes back
// within PongTimeout.
func (c *conn) awaitPong() {
	defer c.workers.Done()
	ctx, cancel := context.WithTimeout(context.Background(), c.h.cfg.PongTimeout)
	err := c.ws.Ping(ctx)
	cancel()
	if err != nil {
		// Dropped without a close frame: the client is not answering.
		if c.requestClose(0, "") {
			c.h.stats.pingTimeouts.Add(1)
			c.h.log.Debug("hub: no pong in time; closing", "conn", c.id, "err", err)
		}
		_ = c.ws.CloseNow()
	}
}

// idleQueueCap is the largest queue capacity an idle connection keeps.
const idleQueueCap = 2

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

// writeFrame writes one text frame holding n messages. It passes no deadline
// to the WebSocket (a deadline costs a timer per frame); the janitor closes a
// connection whose write has taken longer than WriteTimeout.
func (c *conn) writeFrame(b []byte, n int) error {
	c.writeSince.Store(time.Now().UnixNano())
	c.fw.begin()
	err := c.ws.Write(context.Background(), websocket.MessageText, b)
	if rerr := c.fw.release(); err == nil {
		err = rerr
	}
	c.writeSince.Store(0)
	if err == nil {
		c.h.stats.messagesSent.Add(uint64(n))
		c.h.stats.framesSent.Add(1)
		c.h.stats.bytesSent.Add(uint64(len(b)))
	}
	return err
}
