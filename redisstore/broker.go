package redisstore

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionhub/sessionhub/session"
)

// subscribeTimeout bounds how long Subscribe waits for Redis to confirm.
const subscribeTimeout = 10 * time.Second

// broker is the Store's session.Broker: SSUBSCRIBE on the accounts' shard
// channels. Subscriptions are grouped into subs, each one PubSub connection
// read by one goroutine: one group on a standalone or Sentinel Redis, one per
// slot on a Cluster (a subscription connection serves only the node that owns
// its channels' slot, and an account's channel never leaves its slot's group).
// One reader per group keeps each account's events in stored order.
type broker struct {
	s       *Store
	cluster bool

	mu      sync.Mutex
	subs    map[int]*sub
	h       session.EventHandler
	runCtx  context.Context // non-nil while Run runs
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	closed  bool
	probeTO time.Duration
	began   time.Time // the origin of now
}

func newBroker(s *Store) *broker {
	_, cluster := s.rdb.(*redis.ClusterClient)
	return &broker{
		s:       s,
		cluster: cluster,
		subs:    make(map[int]*sub),
		probeTO: max(s.cfg.ProbeInterval/3, 50*time.Millisecond),
		began:   time.Now(),
	}
}

// Run delivers events to h until ctx ends (or the Store is closed). h is called
// from the subscription readers, so it must not call Subscribe or Unsubscribe
// itself: those wait on the reader.
func (s *Store) Run(ctx context.Context, h session.EventHandler) error {
	return s.broker.run(ctx, h)
}

// Subscribe starts the account's events and returns once Redis has confirmed
// the subscription, so a snapshot taken after it misses nothing. It waits for
// Run when Run has not started yet.
func (s *Store) Subscribe(ctx context.Context, accountID string) error {
	if !s.validID(accountID) {
		return badAccount(accountID)
	}
	return s.broker.subscribe(ctx, accountID)
}

// Unsubscribe stops the account's events.
func (s *Store) Unsubscribe(ctx context.Context, accountID string) error {
	if !s.validID(accountID) {
		return badAccount(accountID)
	}
	s.broker.unsubscribe(ctx, accountID)
	return nil
}

func (b *broker) run(ctx context.Context, h session.EventHandler) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return errors.New("redisstore: Run on a closed store")
	}
	if b.runCtx != nil {
		b.mu.Unlock()
		return errors.New("redisstore: Run is already running")
	}
	rctx, cancel := context.WithCancel(ctx)
	b.h, b.runCtx, b.cancel = h, rctx, cancel
	for _, u := range b.subs {
		b.start(u)
	}
	b.mu.Unlock()

	<-rctx.Done()
	// Closing the connections wakes readers blocked in a receive.
	for _, u := range b.allSubs() {
		u.closeConn()
	}
	b.wg.Wait()
	b.mu.Lock()
	b.runCtx, b.cancel, b.h = nil, nil, nil
	b.mu.Unlock()
	cancel()
	return nil
}

// start runs u's reader; b.mu is held and Run is running.
func (b *broker) start(u *sub) {
	if u.running {
		return
	}
	u.running = true
	b.wg.Add(1)
	go func(ctx context.Context, h session.EventHandler) {
		defer b.wg.Done()
		u.loop(ctx, h)
		b.mu.Lock()
		u.running = false
		b.mu.Unlock()
	}(b.runCtx, b.h)
}

// refreshSlots has a Cluster client reload its slot map (lazily, coalesced by
// go-redis) after a subscription connection failed. A subscription reaches the
// node its client believes owns the slot, and only command replies (MOVED) make
// go-redis reload that belief; a subscription's own MOVED, or the SUNSUBSCRIBE
// Redis sends when a slot moves away, do not. Without this a resharded
// account's subscription would keep knocking on the old owner until the
// periodic reload (a minute by default) or an unrelated write noticed.
func (b *broker) refreshSlots() {
	if cc, ok := b.s.rdb.(*redis.ClusterClient); ok {
		cc.ReloadState(context.Background())
	}
}

// group names the sub an account's channel belongs to.
func (b *broker) group(ch string) int {
	if b.cluster {
		return slot(ch)
	}
	return 0
}

func (b *broker) subFor(ch string) *sub {
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.group(ch)
	u := b.subs[g]
	if u == nil {
		u = &sub{b: b, kick: make(chan struct{}, 1), chans: make(map[string]*chanState), pending: make(map[string]int)}
		b.subs[g] = u
	}
	if b.runCtx != nil {
		b.start(u)
	}
	return u
}

func (b *broker) subscribe(ctx context.Context, acct string) error {
	ch := b.s.k.channel(acct)
	u := b.subFor(ch)
	w, done := u.want(ctx, ch, acct)
	if done {
		return nil
	}
	t := time.NewTimer(subscribeTimeout)
	defer t.Stop()
	var cause error
	select {
	case <-w:
		return nil
	case <-ctx.Done():
		cause = ctx.Err()
	case <-t.C:
		cause = errors.New("subscription not confirmed in time")
	}
	u.abandon(ctx, ch, w)
	return &unavailableError{op: "subscribe", cause: cause}
}

func (b *broker) unsubscribe(ctx context.Context, acct string) {
	ch := b.s.k.channel(acct)
	b.mu.Lock()
	u := b.subs[b.group(ch)]
	b.mu.Unlock()
	if u != nil {
		u.drop(ctx, ch)
	}
}

// ready is nil when every wanted subscription is confirmed on a live connection.
func (b *broker) ready() error {
	waiting := 0
	for _, u := range b.allSubs() {
		waiting += u.unconfirmed()
	}
	if waiting > 0 {
		return session.Errorf(session.ErrUnavailable, "live updates of %d accounts are being restored: retry in a few seconds.", waiting)
	}
	return nil
}

// allSubs is the groups as they are now.
func (b *broker) allSubs() []*sub {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Collect(maps.Values(b.subs))
}

// close stops Run and refuses a new one.
func (b *broker) close() {
	b.mu.Lock()
	b.closed = true
	cancel := b.cancel
	b.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// chanState is one wanted channel.
type chanState struct {
	acct      string
	confirmed bool // Redis confirmed it on the current connection
	// everConfirmed means events flowed before: the next confirmation follows a
	// gap, so the handler hears HandleReset for the account.
	everConfirmed bool
	waiters       []chan struct{}
}

func (st *chanState) wake() {
	for _, w := range st.waiters {
		close(w)
	}
	st.waiters = nil
}
