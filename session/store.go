package session

import (
	"context"
	"errors"
	"sort"
	"time"
)

// Store keeps sessions. Both stores (redisstore, memstore) implement it with the
// same semantics; storetest holds the contract suite they both pass.
type Store interface {
	// Create stores a session prepared by New as version 1 and emits its event.
	// ErrExists if the id is taken.
	Create(ctx context.Context, s Info) (Versioned, error)
	// Get returns a session or ErrNotFound.
	Get(ctx context.Context, id string) (Versioned, error)
	// List returns one page of the sessions that match q.
	List(ctx context.Context, q Query) (Page, error)
	// Update applies m under the write rules (Apply), honouring c: a changed
	// session is stored as the next version and its event emitted atomically; a
	// write that changes nothing returns the current version. Concurrent updates
	// of one session are serialised: none is lost.
	Update(ctx context.Context, id string, c Cond, actor string, m Mutation) (Versioned, error)
}

// Query selects sessions for GET /sessions.
type Query struct {
	// AccountIDs limits the accounts searched; nil means every account.
	AccountIDs  []string
	EndpointIDs []string
	CallStates  []CallState
	QueueStates []QueueState
	Channels    []Channel
	Ended       *bool
	Page        int // 0-based
	PerPage     int // default 25
	SortField   string
	Ascending   bool
}

// Sort fields.
const (
	SortDateCreated      = "dateCreated"
	SortDateLastModified = "dateLastModified"
)

// Page is one page of a list.
type Page struct {
	Items []Versioned
	Total int
}

// Match reports whether s passes q's filters (AccountIDs included).
func (q Query) Match(s Info) bool {
	if q.AccountIDs != nil && !contains(q.AccountIDs, s.AccountID) {
		return false
	}
	if len(q.EndpointIDs) > 0 && !contains(q.EndpointIDs, s.EndpointID) {
		return false
	}
	if len(q.CallStates) > 0 && !contains(q.CallStates, s.CallState) {
		return false
	}
	if len(q.QueueStates) > 0 && !contains(q.QueueStates, s.QueueState) {
		return false
	}
	if len(q.Channels) > 0 && !contains(q.Channels, s.Channel) {
		return false
	}
	if q.Ended != nil && *q.Ended != s.Ended {
		return false
	}
	return true
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// SelectPage filters, sorts and pages candidates as q says. Stores gather the
// candidates their indexes give and call it, so both order and page alike.
func SelectPage(candidates []Versioned, q Query) Page {
	items := make([]Versioned, 0, len(candidates))
	for _, c := range candidates {
		if q.Match(c.Info) {
			items = append(items, c)
		}
	}
	key := func(v Versioned) string { return v.Info.DateCreated }
	if q.SortField == SortDateLastModified {
		key = func(v Versioned) string { return v.Info.DateLastModified }
	}
	sort.SliceStable(items, func(i, j int) bool {
		ki, kj := key(items[i]), key(items[j])
		if ki == kj {
			ki, kj = items[i].Info.ID, items[j].Info.ID
		}
		if q.Ascending {
			return ki < kj
		}
		return ki > kj
	})
	per := q.PerPage
	if per <= 0 {
		per = 25
	}
	total := len(items)
	start := q.Page * per
	if q.Page < 0 || start >= total {
		return Page{Items: []Versioned{}, Total: total}
	}
	end := min(start+per, total)
	return Page{Items: items[start:end], Total: total}
}

// ErrStale is what a store's compare-and-set returns when the stored version has
// moved since it was read. Update retries, or answers ErrVersion under If-Match.
var ErrStale = errors.New("session changed since it was read")

// RunUpdate is the optimistic write loop both stores share: load, check c, apply
// the rules, compare-and-set; on ErrStale retry (or fail with ErrVersion when the
// caller named a version). store is called only when something changed, with
// next.JSON already encoded; what succeeded is returned with it.
func RunUpdate(ctx context.Context, c Cond, actor string, m Mutation, lim Limits, now func() time.Time,
	load func(context.Context) (Versioned, error),
	store func(ctx context.Context, prev Versioned, next Versioned, changed []string) error,
) (Versioned, error) {
	for attempt := 0; ; attempt++ {
		cur, err := load(ctx)
		if err != nil {
			return Versioned{}, err
		}
		if c.Version != 0 && c.Version != cur.Version {
			return cur, Errorf(ErrVersion, "session %s is at version %d, not %d: reload it and try again.", cur.Info.ID, cur.Version, c.Version)
		}
		next, changed, err := Apply(cur.Info, m, actor, now(), lim)
		if err != nil {
			return cur, err
		}
		if len(changed) == 0 {
			return cur, nil
		}
		// Encoded once here: the store writes these bytes and the caller answers with them.
		nv := Versioned{Version: cur.Version + 1, Info: next, JSON: next.Marshal()}
		err = store(ctx, cur, nv, changed)
		if errors.Is(err, ErrStale) {
			if c.Version != 0 {
				return cur, Errorf(ErrVersion, "session %s changed while this write was applied: reload it and try again.", cur.Info.ID)
			}
			if err := ctx.Err(); err != nil {
				return cur, err
			}
			continue
		}
		if err != nil {
			return cur, err
		}
		return nv, nil
	}
}
