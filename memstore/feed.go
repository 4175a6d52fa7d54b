package memstore

import (
	"context"
	"sort"

	"github.com/sessionhub/sessionhub/session"
)

// AccountSnapshot returns the account's active sessions and the offset of its
// newest event, taken under the account's lock so no event falls between.
func (s *Store) AccountSnapshot(ctx context.Context, accountID string) (session.Snapshot, error) {
	if err := s.check(ctx); err != nil {
		return session.Snapshot{}, err
	}
	a := s.find(accountID)
	if a == nil {
		// No event yet: the first one will come after offset 0.
		return session.Snapshot{Offset: s.offset(0), Sessions: []session.Entry{}}, nil
	}
	s.sweep(a, s.cfg.Now())
	type item struct {
		created, id string
		entry       session.Entry
	}
	a.mu.Lock()
	offset := s.offset(a.seq)
	items := make([]item, 0, len(a.active))
	for _, sl := range a.active {
		items = append(items, item{sl.v.Info.DateCreated, sl.v.Info.ID, session.Entry{Version: sl.v.Version, Session: sl.v.JSON}})
	}
	a.mu.Unlock()
	// Oldest first, so a dashboard shows calls in the order they came.
	sort.Slice(items, func(i, j int) bool {
		if items[i].created != items[j].created {
			return items[i].created < items[j].created
		}
		return items[i].id < items[j].id
	})
	snap := session.Snapshot{Offset: offset, Sessions: make([]session.Entry, len(items))}
	for k, it := range items {
		snap.Sessions[k] = it.entry
	}
	return snap, nil
}

// SessionSnapshot returns one session, ended or not, with its account's offset.
func (s *Store) SessionSnapshot(ctx context.Context, sessionID string) (string, session.Snapshot, error) {
	if err := s.check(ctx); err != nil {
		return "", session.Snapshot{}, err
	}
	a := s.ownerOf(sessionID)
	if a == nil {
		return "", session.Snapshot{}, notFound(sessionID)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	sl := a.live(sessionID, s.cfg.Now())
	if sl == nil {
		return "", session.Snapshot{}, notFound(sessionID)
	}
	return a.id, session.Snapshot{
		Offset:   s.offset(a.seq),
		Sessions: []session.Entry{{Version: sl.v.Version, Session: sl.v.JSON}},
	}, nil
}

// Replay returns the account's events after since, or session.ErrOffsetGone
// when since is not this store's offset or events after it were trimmed.
func (s *Store) Replay(ctx context.Context, accountID, since string) ([]session.Event, error) {
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	o, err := session.ParseOffset(since)
	if err != nil || o.Epoch != s.epoch || o.Seq != 0 {
		return nil, session.Errorf(session.ErrOffsetGone, "offset %q is not one of this hub's offsets: take a fresh snapshot.", truncate(since))
	}
	a := s.find(accountID)
	if a == nil {
		if o.Ms != 0 {
			return nil, gone(since)
		}
		return []session.Event{}, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if o.Ms > a.seq || o.Ms < a.trimmed {
		return nil, gone(since)
	}
	rest := a.log[o.Ms-a.trimmed:]
	return append(make([]session.Event, 0, len(rest)), rest...), nil
}

func gone(since string) error {
	return session.Errorf(session.ErrOffsetGone, "the changes after offset %q are no longer retained: take a fresh snapshot.", truncate(since))
}

func truncate(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
