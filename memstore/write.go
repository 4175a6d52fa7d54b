package memstore

import (
	"context"
	"time"

	"github.com/sessionhub/sessionhub/session"
)

// Create stores a session prepared by session.New as version 1 and emits its
// event. Ids are unique across accounts, as DESIGN §4's sid key makes them.
func (s *Store) Create(ctx context.Context, in session.Info) (session.Versioned, error) {
	if err := s.check(ctx); err != nil {
		return session.Versioned{}, err
	}
	if in.ID == "" || in.AccountID == "" {
		return session.Versioned{}, session.Errorf(session.ErrInvalid, "a session needs an id and an accountId.")
	}
	v := session.Versioned{Version: 1, Info: in.Clone()}
	v.JSON = v.Info.Marshal()
	now := s.cfg.Now()

	s.mu.Lock()
	if old := s.owner[in.ID]; old != nil {
		old.mu.Lock()
		taken := old.live(in.ID, now) != nil
		if !taken {
			old.remove(in.ID)
		}
		old.mu.Unlock()
		if taken {
			s.mu.Unlock()
			return session.Versioned{}, session.Errorf(session.ErrExists, "session %s already exists: choose another id, or PATCH/PUT it.", in.ID)
		}
	}
	a := s.accountLocked(in.AccountID)
	s.owner[in.ID] = a
	// Take the account before letting go of the store so a duplicate Create
	// waits for this one and then sees it.
	a.mu.Lock()
	s.mu.Unlock()
	sl := &slot{v: v}
	a.sessions[in.ID] = sl
	a.place(sl, now, s.cfg.Retention)
	s.emit(a, sl, session.Diff(session.Info{}, v.Info))
	a.mu.Unlock()
	// New calls keep coming to a busy account, so this is where its ended
	// sessions are swept even when nobody lists them.
	s.sweep(a, now)
	return session.Versioned{Version: 1, Info: in.Clone(), JSON: v.JSON}, nil
}

// Update applies m under the write rules (session.RunUpdate). Writers of one
// session take turns, so the compare-and-set only fails if the session
// expired or was re-created meanwhile.
func (s *Store) Update(ctx context.Context, id string, c session.Cond, actor string, m session.Mutation) (session.Versioned, error) {
	if err := s.check(ctx); err != nil {
		return session.Versioned{}, err
	}
	a := s.ownerOf(id)
	if a == nil {
		return session.Versioned{}, notFound(id)
	}
	a.mu.Lock()
	sl := a.live(id, s.cfg.Now())
	a.mu.Unlock()
	if sl == nil {
		return session.Versioned{}, notFound(id)
	}
	sl.wmu.Lock()
	defer sl.wmu.Unlock()

	load := func(context.Context) (session.Versioned, error) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.live(id, s.cfg.Now()) != sl {
			return session.Versioned{}, notFound(id)
		}
		return sl.v, nil
	}
	store := func(_ context.Context, prev, next session.Versioned, changed []string) error {
		now := s.cfg.Now()
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.live(id, now) != sl {
			return notFound(id)
		}
		if sl.v.Version != prev.Version {
			return session.ErrStale
		}
		sl.v = next
		a.place(sl, now, s.cfg.Retention)
		s.emit(a, sl, changed)
		return nil
	}
	v, err := session.RunUpdate(ctx, c, actor, m, s.cfg.Limits, s.cfg.Now, load, store)
	// The stored value stays immutable: the caller gets its own copy.
	v.Info = v.Info.Clone()
	return v, err
}

// place files sl in the active index or schedules its expiry; a.mu is held.
func (a *account) place(sl *slot, now time.Time, retention time.Duration) {
	id := sl.v.Info.ID
	if !sl.v.Info.Ended {
		a.active[id] = sl
		sl.expires = time.Time{}
		return
	}
	delete(a.active, id)
	sl.expires = now.Add(retention)
	if a.nextSweep.IsZero() || sl.expires.Before(a.nextSweep) {
		a.nextSweep = sl.expires
	}
}

// remove forgets session id; a.mu is held.
func (a *account) remove(id string) {
	delete(a.sessions, id)
	delete(a.active, id)
}

// emit appends sl's current version to the account's log, trims the log to
// the recovery window and delivers the event; a.mu is held, so events reach
// the handler in exactly the stored order.
func (s *Store) emit(a *account, sl *slot, changed []string) {
	a.seq++
	e := session.Event{
		AccountID: a.id,
		SessionID: sl.v.Info.ID,
		Version:   sl.v.Version,
		Offset:    s.offset(a.seq),
		Changed:   changed,
		Ended:     sl.v.Info.Ended,
		Session:   sl.v.JSON,
	}
	a.log = append(a.log, e)
	if max := s.cfg.StreamMax; len(a.log) > max+max/2 {
		// Trim in batches (as Redis's MAXLEN ~ does) so appends stay O(1)
		// amortised; the newest max events are always kept.
		drop := len(a.log) - max
		a.trimmed += uint64(drop)
		n := copy(a.log, a.log[drop:])
		clear(a.log[n:])
		a.log = a.log[:n]
	}
	if a.subscribed {
		s.broker.deliver(e)
	}
}
