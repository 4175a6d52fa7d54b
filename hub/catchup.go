package hub

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sessionhub/sessionhub/session"
)

// The subscribe/snapshot race is closed by ordering: a subscription is
// registered (parking the events that reach it) before the Broker subscribes
// and before its snapshot or replay is read; once that is queued, the parked
// events newer than the snapshot's offset follow, and only then does the
// subscription go live. Resets (a Broker that lost continuity) go through the
// same steps with a fresh snapshot.

// catchUp sends a new subscription its starting point: `subscribed`, then the
// updates missed since `since` (recovered) or a snapshot, then the events that
// arrived meanwhile; then it makes the subscription live.
func (h *Hub) catchUp(ctx context.Context, s *sub, replyID, since string) error {
	c := s.c
	for attempt := 0; ; attempt++ {
		msgs, last, recovered, err := h.startingPoint(ctx, s.key, s.account, since)
		if err != nil {
			return err
		}
		c.mu.Lock()
		if s.overflow {
			// More events came during the catch-up than the queue holds:
			// they were dropped, so take a newer starting point.
			s.overflow = false
			c.mu.Unlock()
			if attempt >= 2 {
				return fmt.Errorf("hub: %s changes faster than this connection can catch up", s.key)
			}
			continue
		}
		c.pushCtl(encodeSubscribed(replyID, s.key, recovered))
		for _, m := range msgs {
			c.pushCtl(m)
		}
		c.flushPending(s, last)
		s.live, s.subscribing = true, false
		reset := s.resetPending
		s.resetPending = false
		c.kick()
		c.mu.Unlock()
		if reset {
			// The Broker lost continuity while this snapshot was being read.
			h.background(func() { h.resync(s.key, []*sub{s}) })
		}
		return nil
	}
}

// replayBudget bounds the replayed updates one subscribe queues; past it a
// snapshot is sent instead (recovered: false), which is smaller and equally exact.
func (h *Hub) replayBudget() int { return h.cfg.QueueBytes * ctlQueueFactor / 2 }

// startingPoint reads what a subscription starts from: the replayed updates
// after since, or a snapshot. last is the account offset it ends at.
func (h *Hub) startingPoint(ctx context.Context, k chanKey, account, since string) (msgs [][]byte, last string, recovered bool, err error) {
	if since != "" {
		evs, err := h.cfg.Feed.Replay(ctx, account, since)
		switch {
		case err == nil:
			last, size := since, 0
			for i := range evs {
				e := &evs[i]
				last = e.Offset
				if !k.wants(e) {
					continue
				}
				m := encodeUpdate(k, e)
				size += len(m)
				msgs = append(msgs, m)
			}
			if size <= h.replayBudget() {
				return msgs, last, true, nil
			}
			msgs = nil
		case errors.Is(err, session.ErrOffsetGone):
		default:
			return nil, "", false, fmt.Errorf("hub: replay %s since %q: %w", account, clip(since), err)
		}
	}
	snap, err := h.snapshot(ctx, k)
	if err != nil {
		return nil, "", false, err
	}
	return [][]byte{encodeSnapshot(k, snap)}, snap.Offset, false, nil
}

// snapshot reads channel k's current state.
func (h *Hub) snapshot(ctx context.Context, k chanKey) (session.Snapshot, error) {
	if k.kind == kindAccount {
		return h.cfg.Feed.AccountSnapshot(ctx, k.id)
	}
	_, snap, err := h.cfg.Feed.SessionSnapshot(ctx, k.id)
	return snap, err
}

// flushPending queues s's parked events that are newer than last (an offset
// of the account's log); c.mu is held. Events of another epoch than last are
// dropped: the store lost its data, and the Broker's reset brings a snapshot.
func (c *conn) flushPending(s *sub, last string) {
	lastOff, lerr := session.ParseOffset(last)
	for _, p := range s.pending {
		if lerr == nil {
			if po, err := session.ParseOffset(p.offset); err == nil && (po.Epoch != lastOff.Epoch || !lastOff.Less(po)) {
				continue
			}
		}
		c.push(qitem{msg: p.msg, s: s, session: p.session})
	}
	clear(s.pending)
	s.pending, s.pendingBytes = nil, 0
}

// HandleReset gives every local subscriber of account's channels (the account
// channel and its sessions' channels) a fresh snapshot: the Broker lost
// continuity, so events may have been missed. It does not block the Broker.
func (h *Hub) HandleReset(account string) {
	h.stats.resets.Add(1)
	h.background(func() {
		for k, subs := range h.subsOf(account) {
			h.resync(k, subs)
		}
	})
}

// background runs f on a goroutine that Shutdown waits for, unless the hub is
// shutting down.
func (h *Hub) background(f func()) {
	h.connMu.Lock()
	defer h.connMu.Unlock()
	if h.closing {
		return
	}
	h.bg.Add(1)
	go func() {
		defer h.bg.Done()
		f()
	}()
}

// resync sends the subscribers of channel k a fresh snapshot and the events
// after it. A subscription still in its first catch-up is flagged instead and
// resyncs when that ends; one whose resync is overtaken by a newer one is left
// to the newer.
func (h *Hub) resync(k chanKey, subs []*sub) {
	type target struct {
		s   *sub
		gen uint64
	}
	var ts []target
	for _, s := range subs {
		c := s.c
		c.mu.Lock()
		switch {
		case s.removed || c.closed:
		case s.subscribing:
			s.resetPending = true
		default:
			s.gen++
			s.live = false
			ts = append(ts, target{s, s.gen})
		}
		c.mu.Unlock()
	}
	for len(ts) > 0 {
		snap, err := h.snapshotRetry(k, ts[0].s.account)
		if err != nil {
			return // shutting down
		}
		msg := encodeSnapshot(k, snap)
		var again []target
		for _, t := range ts {
			c := t.s.c
			c.mu.Lock()
			switch {
			case t.s.removed || c.closed || t.s.gen != t.gen:
			case t.s.overflow:
				t.s.overflow = false
				again = append(again, t)
			default:
				c.pushCtl(msg)
				c.flushPending(t.s, snap.Offset)
				t.s.live = true
			}
			c.kick()
			c.mu.Unlock()
		}
		ts = again
	}
}

// snapshotRetry reads k's snapshot, retrying with backoff while the store
// fails, until the hub shuts down. A session that no longer exists (its data
// expired or was lost) gives an empty snapshot.
func (h *Hub) snapshotRetry(k chanKey, account string) (session.Snapshot, error) {
	wait := 50 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(h.ctx, commandTimeout)
		snap, err := h.snapshot(ctx, k)
		if errors.Is(err, session.ErrNotFound) {
			// The session is gone (retention, or the store lost its data): an
			// empty snapshot at its account's offset, so since still works.
			var acct session.Snapshot
			if acct, err = h.cfg.Feed.AccountSnapshot(ctx, account); err == nil {
				snap = session.Snapshot{Offset: acct.Offset, Sessions: []session.Entry{}}
			}
		}
		cancel()
		if err == nil {
			return snap, nil
		}
		h.log.Warn("hub: snapshot after reset failed; retrying", "channel", k.String(), "err", err, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-h.ctx.Done():
			t.Stop()
			return session.Snapshot{}, h.ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, 2*time.Second)
	}
}
