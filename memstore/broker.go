package memstore

import (
	"context"
	"errors"
	"sync"

	"github.com/sessionhub/sessionhub/session"
)

// broker hands stored events to the one running EventHandler. Delivery is
// synchronous, in the writer's goroutine under its account's lock, so events
// of one account reach the handler in exactly the stored order; the handler
// contract (it must not block) keeps writers fast.
type broker struct {
	mu      sync.RWMutex // held for reading while delivering; for writing to swap the handler
	handler session.EventHandler
	running chan struct{} // closed while a Run is active
	stop    chan struct{} // closed by Close
	// restarted is set once a Run has ended: a later Run must reset every
	// subscribed account, since events in between were not delivered.
	restarted bool
}

func (b *broker) init() {
	b.running = make(chan struct{})
	b.stop = make(chan struct{})
}

func (b *broker) close() { close(b.stop) }

// deliver passes e to the handler, if one is running.
func (b *broker) deliver(e session.Event) {
	b.mu.RLock()
	if b.handler != nil {
		b.handler.HandleEvent(e)
	}
	b.mu.RUnlock()
}

// Run delivers the subscribed accounts' events to h until ctx ends or the
// store closes. One Run at a time.
func (s *Store) Run(ctx context.Context, h session.EventHandler) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	b := &s.broker
	// Accounts subscribed before this Run missed whatever came while no Run
	// was active. Collect them before taking b.mu: writers hold an account's
	// lock while waiting for b.mu, so the opposite order could deadlock.
	var reset []string
	if b.restartedOnce() {
		s.mu.RLock()
		for _, a := range s.accounts {
			a.mu.Lock()
			if a.subscribed {
				reset = append(reset, a.id)
			}
			a.mu.Unlock()
		}
		s.mu.RUnlock()
	}
	b.mu.Lock()
	if b.handler != nil {
		b.mu.Unlock()
		return errors.New("memstore: the broker is already running; run one hub per store")
	}
	b.handler = h
	b.mu.Unlock()
	for _, id := range reset {
		h.HandleReset(id)
	}
	// Subscribe returns only now, so a subscriber never sees a reset after it.
	b.mu.Lock()
	close(b.running)
	b.mu.Unlock()

	select {
	case <-ctx.Done():
	case <-b.stop:
	}

	b.mu.Lock()
	b.handler = nil
	b.running = make(chan struct{})
	b.restarted = true
	b.mu.Unlock()
	return nil
}

func (b *broker) restartedOnce() bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.restarted
}

// Subscribe starts the account's events. It returns once a Run is active, so
// every write after it reaches the handler.
func (s *Store) Subscribe(ctx context.Context, accountID string) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	b := &s.broker
	b.mu.RLock()
	running := b.running
	b.mu.RUnlock()
	select {
	case <-running:
	case <-ctx.Done():
		return ctx.Err()
	case <-b.stop:
		return s.check(ctx)
	}
	s.mu.Lock()
	a := s.accountLocked(accountID)
	s.mu.Unlock()
	a.mu.Lock()
	a.subscribed = true
	a.mu.Unlock()
	return nil
}

// Unsubscribe stops the account's events.
func (s *Store) Unsubscribe(ctx context.Context, accountID string) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if a := s.find(accountID); a != nil {
		a.mu.Lock()
		a.subscribed = false
		a.mu.Unlock()
	}
	return nil
}
