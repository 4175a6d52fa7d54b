package hub

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// accountRef counts the local subscriptions fed by one account (its account
// channel and its session channels). The Broker subscribes an account once, so
// the hub subscribes when the first local subscriber arrives and unsubscribes
// when the last one goes.
type accountRef struct {
	mu         sync.Mutex // serialises this account's Broker calls
	refs       int        // guarded by Hub.acctMu
	subscribed bool       // guarded by mu
}

// acquire counts one subscriber of account and returns once the Broker
// delivers the account's events, so a snapshot taken after it misses nothing.
func (h *Hub) acquire(ctx context.Context, account string) error {
	h.acctMu.Lock()
	a := h.accounts[account]
	if a == nil {
		a = &accountRef{}
		h.accounts[account] = a
	}
	a.refs++
	h.acctMu.Unlock()

	a.mu.Lock()
	var err error
	if !a.subscribed {
		if err = h.cfg.Broker.Subscribe(ctx, account); err == nil {
			a.subscribed = true
			h.stats.accounts.Add(1)
		}
	}
	a.mu.Unlock()
	if err != nil {
		h.release(account)
		return fmt.Errorf("hub: subscribe to account %s: %w", account, err)
	}
	return nil
}

// release uncounts one subscriber of account; the last one unsubscribes.
func (h *Hub) release(account string) {
	h.acctMu.Lock()
	a := h.accounts[account]
	if a == nil {
		h.acctMu.Unlock()
		return
	}
	a.refs--
	h.acctMu.Unlock()
	h.settle(account, a)
}

// settle brings the Broker's subscription in line with the count, and forgets
// the account once nothing needs it. An acquire that comes while settle runs
// keeps the entry (refs > 0) and finds it subscribed, or subscribes it again.
func (h *Hub) settle(account string, a *accountRef) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h.acctMu.Lock()
	refs := a.refs
	h.acctMu.Unlock()
	if refs > 0 {
		return
	}
	if a.subscribed {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := h.cfg.Broker.Unsubscribe(ctx, account)
		cancel()
		if err != nil {
			h.log.Warn("hub: unsubscribe failed; the broker keeps delivering events nobody here needs", "account", account, "err", err)
		}
		a.subscribed = false
		h.stats.accounts.Add(-1)
	}
	h.acctMu.Lock()
	if a.refs == 0 && h.accounts[account] == a {
		delete(h.accounts, account)
	}
	h.acctMu.Unlock()
}
