package redisstore

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionhub/sessionhub/session"
)

var (
	errIdle      = errors.New("nothing subscribed")
	errProbeLost = errors.New("the subscription probe did not come back")
	errDropped   = errors.New("redis dropped a subscription")
)

// sub is one subscription connection and the channels wanted on it. Its reader
// goroutine (loop) owns receiving; Subscribe and Unsubscribe write SSUBSCRIBE
// and SUNSUBSCRIBE on the live connection (watch.ps) under mu, and the reader
// matches the confirmations in order (pending counts the unconfirmed commands
// per channel).
type sub struct {
	b       *broker
	kick    chan struct{} // something new is wanted
	running bool          // guarded by b.mu

	mu      sync.Mutex
	watch   *echoWatch // the live connection (watch.ps) and its echo watch; nil between connections
	chans   map[string]*chanState
	pending map[string]int
}

// want registers ch; done is true when it is already confirmed, else w closes
// once it is.
func (u *sub) want(ctx context.Context, ch, acct string) (w chan struct{}, done bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	st := u.chans[ch]
	if st == nil {
		st = &chanState{acct: acct}
		u.chans[ch] = st
		if u.watch != nil {
			u.pending[ch]++
			// A write error means the connection is broken: the reader sees it
			// too, reconnects and subscribes every wanted channel again.
			_ = u.watch.ps.SSubscribe(ctx, ch)
		} else {
			select {
			case u.kick <- struct{}{}:
			default:
			}
		}
	}
	if st.confirmed {
		return nil, true
	}
	w = make(chan struct{})
	st.waiters = append(st.waiters, w)
	return w, false
}

// abandon withdraws a Subscribe that gave up: nobody will Unsubscribe it.
func (u *sub) abandon(ctx context.Context, ch string, w chan struct{}) {
	u.mu.Lock()
	st := u.chans[ch]
	if st == nil {
		u.mu.Unlock()
		return
	}
	for i, x := range st.waiters {
		if x == w {
			st.waiters = append(st.waiters[:i], st.waiters[i+1:]...)
			break
		}
	}
	idle := len(st.waiters) == 0 && !st.confirmed && !st.everConfirmed
	u.mu.Unlock()
	if idle {
		u.drop(ctx, ch)
	}
}

// drop stops wanting ch.
func (u *sub) drop(ctx context.Context, ch string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	st := u.chans[ch]
	if st == nil {
		return
	}
	delete(u.chans, ch)
	if u.watch != nil {
		u.pending[ch]++
		_ = u.watch.ps.SUnsubscribe(ctx, ch)
	}
}

func (u *sub) unconfirmed() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, st := range u.chans {
		if !st.confirmed {
			n++
		}
	}
	return n
}

func (u *sub) closeConn() {
	u.mu.Lock()
	w := u.watch
	u.mu.Unlock()
	if w != nil {
		_ = w.ps.Close()
	}
}

// loop keeps a connection up while anything is wanted, reconnecting with a
// capped backoff after a failure.
func (u *sub) loop(ctx context.Context, h session.EventHandler) {
	var backoff time.Duration
	for {
		u.mu.Lock()
		idle := len(u.chans) == 0
		u.mu.Unlock()
		if idle {
			select {
			case <-ctx.Done():
				return
			case <-u.kick:
				continue
			}
		}
		healthy, err := u.session(ctx, h)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errIdle) {
			backoff = 0
			continue
		}
		if healthy {
			backoff = 0
		}
		u.b.refreshSlots()
		u.b.s.log.Warn("redisstore: subscription connection lost; restoring it", "err", err, "retry_in", backoff)
		if backoff > 0 {
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		backoff = min(max(2*backoff, 50*time.Millisecond), 2*time.Second)
	}
}

// session runs one connection: subscribe everything wanted, then receive until
// the connection fails, a probe goes unanswered, or nothing is wanted. healthy
// reports whether every channel was confirmed at some point.
func (u *sub) session(ctx context.Context, h session.EventHandler) (healthy bool, err error) {
	ps := u.b.s.rdb.SSubscribe(ctx)
	u.mu.Lock()
	if len(u.chans) == 0 {
		u.mu.Unlock()
		_ = ps.Close()
		return false, errIdle
	}
	names := make([]string, 0, len(u.chans))
	clear(u.pending)
	for ch, st := range u.chans {
		names = append(names, ch)
		st.confirmed = false
		u.pending[ch] = 1
	}
	w := &echoWatch{b: u.b, ps: ps, timeout: u.b.s.cfg.EchoTimeout}
	u.watch = w
	err = ps.SSubscribe(ctx, names...)
	u.mu.Unlock()
	defer func() {
		w.done.Store(true)
		u.mu.Lock()
		u.watch = nil
		for _, st := range u.chans {
			st.confirmed = false
		}
		u.mu.Unlock()
		_ = ps.Close()
	}()
	if err != nil {
		return false, err
	}

	probeEvery, probeTimeout := u.b.s.cfg.ProbeInterval, u.b.probeTO
	var probeDeadline time.Time // zero while no probe is outstanding
	for {
		wait := probeEvery
		if !probeDeadline.IsZero() {
			wait = time.Until(probeDeadline)
			if wait <= 0 {
				return healthy, errProbeLost
			}
		}
		w.receiving()
		msg, err := ps.ReceiveTimeout(ctx, wait)
		w.received(err == nil)
		if err != nil {
			if ctx.Err() != nil {
				return healthy, ctx.Err()
			}
			if w.lost.Load() {
				return healthy, errEchoLost
			}
			if !isTimeout(err) {
				return healthy, err
			}
			if !probeDeadline.IsZero() {
				return healthy, errProbeLost
			}
			probeDeadline = time.Now().Add(probeTimeout)
			if err := u.sendProbe(ctx, probeTimeout); err != nil {
				return healthy, err
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			all, err := u.confirm(m, h)
			if err != nil {
				return healthy, err
			}
			healthy = healthy || all
		case *redis.Message:
			// Anything heard proves the connection delivers.
			probeDeadline = time.Time{}
			if strings.HasPrefix(m.Payload, probeTag) {
				continue
			}
			u.deliver(m, h)
		}
	}
}

// confirm matches a (s)subscribe/(s)unsubscribe reply; all reports whether
// every wanted channel is now confirmed. A reset is due for a channel whose
// events flowed on an earlier connection: it is told before any event of the
// new one, which this reader delivers next.
func (u *sub) confirm(m *redis.Subscription, h session.EventHandler) (all bool, err error) {
	u.mu.Lock()
	ch := m.Channel
	n, expected := u.pending[ch]
	if !expected {
		u.mu.Unlock()
		if m.Kind == "sunsubscribe" || m.Kind == "unsubscribe" {
			// Redis dropped it on its own (a Cluster slot moved): start over.
			return false, errDropped
		}
		return false, nil
	}
	if n <= 1 {
		delete(u.pending, ch)
	} else {
		u.pending[ch] = n - 1
	}
	var reset string
	if st := u.chans[ch]; st != nil && n <= 1 && m.Kind == "ssubscribe" && !st.confirmed {
		st.confirmed = true
		if st.everConfirmed {
			reset = st.acct
		}
		st.everConfirmed = true
		st.wake()
	}
	all = true
	for _, st := range u.chans {
		all = all && st.confirmed
	}
	idle := len(u.chans) == 0 && len(u.pending) == 0
	u.mu.Unlock()
	if reset != "" {
		h.HandleReset(reset)
	}
	if idle {
		return all, errIdle
	}
	return all, nil
}

// deliver hands one published event to the handler.
func (u *sub) deliver(m *redis.Message, h session.EventHandler) {
	u.mu.Lock()
	st := u.chans[m.Channel]
	ok := st != nil && st.confirmed
	u.mu.Unlock()
	if !ok {
		return // in flight when it was unsubscribed
	}
	e, err := parseMessage(st.acct, m.Payload)
	if err != nil {
		// Continuity cannot be vouched for past an unreadable event.
		u.b.s.log.Warn("redisstore: unreadable event on a subscription", "account", st.acct)
		h.HandleReset(st.acct)
		return
	}
	h.HandleEvent(e)
}

// sendProbe publishes a probe on one of the connection's channels; the reader
// must hear it back (or anything else) within timeout.
func (u *sub) sendProbe(ctx context.Context, timeout time.Duration) error {
	u.mu.Lock()
	ch := ""
	for c, st := range u.chans {
		if st.confirmed {
			ch = c
			break
		}
	}
	u.mu.Unlock()
	if ch == "" {
		// Nothing confirmed yet: keep waiting for the confirmations.
		return errProbeLost
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return u.b.s.rdb.SPublish(pctx, ch, probeTag+strconv.FormatUint(rand.Uint64(), 36)).Err()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
