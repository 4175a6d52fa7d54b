package redisstore

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// errEchoLost is why a connection is restarted when it stayed silent after this
// Store wrote an event to one of its confirmed channels.
var errEchoLost = errors.New("an event this store published did not come back on the subscription")

// defaultEchoTimeout is Config.EchoTimeout's default.
const defaultEchoTimeout = time.Second

// echoWatch checks one subscription connection against this Store's own
// writes: every write to a confirmed channel publishes an event that a working
// connection hears within milliseconds. If the connection hears nothing at all
// for EchoTimeout after such a write while its reader waits on it, it is taken
// for silent and closed, so the reader reconnects (and resets the accounts).
// This is how a subscription left on a Sentinel master that was failed over
// (go-redis moves commands to the new master, not an open subscription) is
// found within about a second instead of the probe's ProbeInterval.
//
// It never needs the event itself: anything heard after the write began proves
// the connection delivers (messages on a connection arrive in order, and the
// event was published after the write began). Times are monotonic nanoseconds
// since the broker began (see broker.now), 0 meaning none.
type echoWatch struct {
	b       *broker
	ps      *redis.PubSub
	timeout time.Duration

	heard     atomic.Int64 // when the reader last received anything
	recvSince atomic.Int64 // when the reader began its current receive; 0 while it handles a message
	due       atomic.Int64 // start of the oldest write not yet vouched for; 0 if none
	lastWrite atomic.Int64 // start of the newest write
	lost      atomic.Bool  // the watch closed ps
	done      atomic.Bool  // the connection's session ended
}

// wrote records a write, begun at start, whose event goes to a channel
// confirmed on this connection. It costs a few atomics; a timer is armed only
// when no earlier write is waiting.
func (w *echoWatch) wrote(start int64) {
	for {
		l := w.lastWrite.Load()
		if start <= l || w.lastWrite.CompareAndSwap(l, start) {
			break
		}
	}
	if w.due.CompareAndSwap(0, start) {
		time.AfterFunc(w.timeout, w.check)
	}
}

// receiving and received bracket the reader's receive.
func (w *echoWatch) receiving() { w.recvSince.Store(w.b.now()) }

func (w *echoWatch) received(got bool) {
	if got {
		w.heard.Store(w.b.now())
	}
	w.recvSince.Store(0)
}

// check runs EchoTimeout after the oldest unvouched write began.
func (w *echoWatch) check() {
	if w.done.Load() {
		return
	}
	due := w.due.Load()
	if due == 0 {
		return
	}
	now := w.b.now()
	if heard := w.heard.Load(); heard >= due {
		// Vouched for; wait on the newest write not yet followed by anything heard.
		next := w.lastWrite.Load()
		if next <= heard {
			next = 0
		}
		if w.due.CompareAndSwap(due, next) && next != 0 {
			time.AfterFunc(w.timeout-time.Duration(now-next), w.check)
		}
		return
	}
	since := w.recvSince.Load()
	if w.heard.Load() >= due {
		w.check() // heard just now
		return
	}
	if since == 0 {
		// The reader is busy with earlier messages (a slow handler, a burst):
		// the event, if it came, waits in its buffer. Look again shortly.
		time.AfterFunc(w.timeout/4, w.check)
		return
	}
	if waited := time.Duration(now - max(due, since)); waited < w.timeout {
		time.AfterFunc(w.timeout-waited, w.check)
		return
	}
	w.lost.Store(true)
	_ = w.ps.Close() // the reader's receive fails and it reconnects
}

// now is monotonic nanoseconds since the broker began, never 0.
func (b *broker) now() int64 { return int64(time.Since(b.began)) + 1 }

// wrote tells the subscription of ch that this Store wrote an event to it; the
// write began at start (broker.now, taken before the write was sent).
func (b *broker) wrote(ch string, start int64) {
	b.mu.Lock()
	u := b.subs[b.group(ch)]
	b.mu.Unlock()
	if u == nil {
		return
	}
	u.mu.Lock()
	st, w := u.chans[ch], u.watch
	ok := st != nil && st.confirmed && w != nil
	u.mu.Unlock()
	if ok {
		w.wrote(start)
	}
}
