package redisstore

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"

	"github.com/sessionhub/sessionhub/session"
)

// Get returns a session: its account from the cache (or its sid key), then one HMGET.
func (s *Store) Get(ctx context.Context, id string) (session.Versioned, error) {
	acct, err := s.accountOf(ctx, id)
	if err != nil {
		return session.Versioned{}, err
	}
	v, err := s.load(ctx, acct, id)
	if errors.Is(err, session.ErrNotFound) && s.recheck(ctx, id, acct) {
		return s.Get(ctx, id)
	}
	return v, err
}

// List gathers the candidates the account indexes give (active when the query
// asks for sessions not ended, else all), reads their states in one pipeline,
// and filters, sorts and pages them with session.SelectPage as every store does.
// Ids whose state has expired are dropped from the all index on the way.
func (s *Store) List(ctx context.Context, q session.Query) (session.Page, error) {
	accts := q.AccountIDs
	if accts == nil {
		all, err := s.rdb.SMembers(ctx, s.k.accounts()).Result()
		if err != nil {
			return session.Page{}, s.fail(ctx, "list", err)
		}
		accts = all
	}
	valid := accts[:0:0]
	for _, a := range accts {
		if s.validID(a) {
			valid = append(valid, a)
		}
	}
	onlyActive := q.Ended != nil && !*q.Ended

	idCmds := make([]*redis.StringSliceCmd, len(valid))
	if len(valid) > 0 {
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, a := range valid {
				key := s.k.all(a)
				if onlyActive {
					key = s.k.active(a)
				}
				idCmds[i] = p.ZRange(ctx, key, 0, -1)
			}
			return nil
		})
		if err != nil {
			return session.Page{}, s.fail(ctx, "list", err)
		}
	}

	type ref struct{ acct, id string }
	var refs []ref
	for i, a := range valid {
		for _, id := range idCmds[i].Val() {
			refs = append(refs, ref{a, id})
		}
	}
	states := make([]*redis.SliceCmd, len(refs))
	if len(refs) > 0 {
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, r := range refs {
				states[i] = p.HMGet(ctx, s.k.state(r.acct, r.id), "v", "d")
			}
			return nil
		})
		if err != nil {
			return session.Page{}, s.fail(ctx, "list", err)
		}
	}

	cands := make([]session.Versioned, 0, len(refs))
	var gone []ref
	for i, r := range refs {
		vals := states[i].Val()
		ver, _ := vals[0].(string)
		data, _ := vals[1].(string)
		if ver == "" || data == "" {
			gone = append(gone, r)
			continue
		}
		v, err := decodeState(r.id, ver, data)
		if err != nil {
			s.log.Warn("redisstore: skipping an unreadable session in a list", "session", r.id, "err", err)
			continue
		}
		cands = append(cands, v)
	}
	if len(gone) > 0 && !onlyActive {
		// Lazy cleanup; a failure here only leaves work for the next list.
		_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, r := range gone {
				p.ZRem(ctx, s.k.all(r.acct), r.id)
			}
			return nil
		})
	}
	return session.SelectPage(cands, q), nil
}
