package memstore

import (
	"context"
	"time"

	"github.com/sessionhub/sessionhub/session"
)

// Get returns a session or session.ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (session.Versioned, error) {
	if err := s.check(ctx); err != nil {
		return session.Versioned{}, err
	}
	a := s.ownerOf(id)
	if a == nil {
		return session.Versioned{}, notFound(id)
	}
	a.mu.Lock()
	sl := a.live(id, s.cfg.Now())
	var v session.Versioned
	if sl != nil {
		v = sl.v
	}
	a.mu.Unlock()
	if sl == nil {
		return session.Versioned{}, notFound(id)
	}
	v.Info = v.Info.Clone()
	return v, nil
}

// List returns one page of the sessions that match q, ordered and paged by
// session.SelectPage like every store.
func (s *Store) List(ctx context.Context, q session.Query) (session.Page, error) {
	if err := s.check(ctx); err != nil {
		return session.Page{}, err
	}
	var accts []*account
	s.mu.RLock()
	if q.AccountIDs == nil {
		for _, a := range s.accounts {
			accts = append(accts, a)
		}
	} else {
		seen := make(map[string]bool, len(q.AccountIDs))
		for _, id := range q.AccountIDs {
			if a := s.accounts[id]; a != nil && !seen[id] {
				seen[id] = true
				accts = append(accts, a)
			}
		}
	}
	s.mu.RUnlock()

	now := s.cfg.Now()
	var candidates []session.Versioned
	for _, a := range accts {
		s.sweep(a, now)
		a.mu.Lock()
		// Only active sessions can match Ended=false, so use the smaller index.
		from := a.sessions
		if q.Ended != nil && !*q.Ended {
			from = a.active
		}
		for id, sl := range from {
			if a.live(id, now) != nil && q.Match(sl.v.Info) {
				candidates = append(candidates, sl.v)
			}
		}
		a.mu.Unlock()
	}
	p := session.SelectPage(candidates, q)
	for k := range p.Items {
		p.Items[k].Info = p.Items[k].Info.Clone()
	}
	return p, nil
}

// sweep drops a's expired sessions, when any is due, and forgets their owners.
func (s *Store) sweep(a *account, now time.Time) {
	a.mu.Lock()
	if a.nextSweep.IsZero() || now.Before(a.nextSweep) {
		a.mu.Unlock()
		return
	}
	var gone []string
	a.nextSweep = time.Time{}
	for id, sl := range a.sessions {
		switch {
		case sl.expires.IsZero():
		case !now.Before(sl.expires):
			a.remove(id)
			gone = append(gone, id)
		case a.nextSweep.IsZero() || sl.expires.Before(a.nextSweep):
			a.nextSweep = sl.expires
		}
	}
	a.mu.Unlock()
	if len(gone) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range gone {
		if s.owner[id] != a {
			continue
		}
		a.mu.Lock()
		_, back := a.sessions[id] // re-created meanwhile
		a.mu.Unlock()
		if !back {
			delete(s.owner, id)
		}
	}
}
