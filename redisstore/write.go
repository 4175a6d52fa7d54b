package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/sessionhub/sessionhub/session"
)

// errExists is the script's answer to a create whose state key is taken.
var errExists = errors.New("state exists")

// Create stores a session prepared by session.New as version 1. It reserves the
// id's sid key first (SET NX, with the account added to the account set in the
// same round trip), then runs the compare-and-set script expecting no state.
// A sid key left by a create that died between the two steps names the same
// account and has no state, so it is reused.
func (s *Store) Create(ctx context.Context, in session.Info) (session.Versioned, error) {
	id, acct := in.ID, in.AccountID
	if !s.validID(id) {
		return session.Versioned{}, session.Invalid("Id", session.CodeInvalid, "'Id' must be 1 to %d characters of A-Z a-z 0-9 . _ : @ - and must not end in .json.", s.cfg.Limits.MaxIDLength)
	}
	if !s.validID(acct) {
		return session.Versioned{}, session.Invalid("AccountId", session.CodeInvalid, "'AccountId' must be 1 to %d characters of A-Z a-z 0-9 . _ : @ -.", s.cfg.Limits.MaxIDLength)
	}
	var setNX *redis.BoolCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		setNX = p.SetNX(ctx, s.k.sid(id), acct, 0)
		p.SAdd(ctx, s.k.accounts(), acct)
		return nil
	})
	if err != nil {
		return session.Versioned{}, s.fail(ctx, "create", err)
	}
	exists := func() error {
		return session.Errorf(session.ErrExists, "session %s already exists: use another id, or PUT/PATCH to change it.", id)
	}
	if !setNX.Val() {
		owner, err := s.rdb.Get(ctx, s.k.sid(id)).Result()
		if errors.Is(err, redis.Nil) {
			// It expired in between: the id is free again, but let the caller retry.
			return session.Versioned{}, s.fail(ctx, "create", errors.New("id reservation expired during create"))
		}
		if err != nil {
			return session.Versioned{}, s.fail(ctx, "create", err)
		}
		if owner != acct {
			return session.Versioned{}, exists()
		}
	}
	s.cache.put(id, acct)
	v := session.Versioned{Version: 1, Info: in.Clone()}
	v.JSON = v.Info.Marshal() // stored, published and answered with as it is
	err = s.cas(ctx, 0, v, session.Diff(session.Info{}, in))
	if errors.Is(err, errExists) {
		return session.Versioned{}, exists()
	}
	if err != nil {
		return session.Versioned{}, err
	}
	if in.Ended {
		s.expireSid(ctx, id)
	}
	return v, nil
}

// Update runs session.RunUpdate on the session's state: a read (HMGET) and a
// compare-and-set (the script), two round trips once the id's account is cached.
func (s *Store) Update(ctx context.Context, id string, c session.Cond, actor string, m session.Mutation) (session.Versioned, error) {
	acct, err := s.accountOf(ctx, id)
	if err != nil {
		return session.Versioned{}, err
	}
	ended := false
	load := func(ctx context.Context) (session.Versioned, error) { return s.load(ctx, acct, id) }
	store := func(ctx context.Context, prev, next session.Versioned, changed []string) error {
		err := s.cas(ctx, prev.Version, next, changed)
		if errors.Is(err, errExists) {
			return session.ErrStale // cannot happen with prev.Version > 0; be safe
		}
		ended = err == nil && next.Info.Ended
		return err
	}
	v, err := session.RunUpdate(ctx, c, actor, m, s.cfg.Limits, s.cfg.Now, load, store)
	if errors.Is(err, session.ErrNotFound) && s.recheck(ctx, id, acct) {
		return s.Update(ctx, id, c, actor, m)
	}
	if err == nil && ended {
		s.expireSid(ctx, id)
	}
	return v, err
}

// cas runs the compare-and-set script: store next if the stored version is
// expected (0: no state yet), index it, append its event and publish it. The
// session JSON is next.Marshal(), so the bytes RunUpdate (or Create) encoded.
func (s *Store) cas(ctx context.Context, expected int64, next session.Versioned, changed []string) error {
	info := next.Info
	acct, id := info.AccountID, info.ID
	created := int64(0)
	if t, err := session.ParseTime(info.DateCreated); err == nil {
		created = t.UnixMilli()
	}
	ended := "0"
	if info.Ended {
		ended = "1"
	}
	keys := []string{s.k.state(acct, id), s.k.active(acct), s.k.all(acct), s.k.log(acct), s.k.channel(acct), s.k.epoch(acct)}
	// start precedes the event's publication: anything a subscription hears
	// after it proves the subscription delivers (see echoWatch).
	start := s.broker.now()
	res, err := s.sc.cas.Run(ctx, s.rdb, keys,
		strconv.FormatInt(expected, 10), strconv.FormatInt(next.Version, 10), next.Marshal(), id, ended,
		created, s.cfg.Retention.Milliseconds(), s.cfg.StreamMax,
		eventHeader(next.Version, info.Ended, id, changed), newEpoch()).Slice()
	if err != nil {
		return s.fail(ctx, "write", err)
	}
	if len(res) >= 2 {
		if ok, _ := res[0].(int64); ok == 1 {
			s.broker.wrote(keys[4], start)
			return nil
		}
		if why, _ := res[1].(string); why == "exists" {
			return errExists
		}
	}
	return session.ErrStale
}

// load reads a session's state: one HMGET.
func (s *Store) load(ctx context.Context, acct, id string) (session.Versioned, error) {
	vals, err := s.rdb.HMGet(ctx, s.k.state(acct, id), "v", "d").Result()
	if err != nil {
		return session.Versioned{}, s.fail(ctx, "read", err)
	}
	ver, _ := vals[0].(string)
	data, _ := vals[1].(string)
	if ver == "" || data == "" {
		return session.Versioned{}, notFound(id)
	}
	return decodeState(id, ver, data)
}

// decodeState reads a stored version and JSON.
func decodeState(id, ver, data string) (session.Versioned, error) {
	v, err := strconv.ParseInt(ver, 10, 64)
	if err != nil {
		return session.Versioned{}, &unavailableError{op: "read", cause: errors.New("stored version of " + id + " is not a number")}
	}
	var info session.Info
	if err := json.Unmarshal([]byte(data), &info); err != nil {
		return session.Versioned{}, &unavailableError{op: "read", cause: err}
	}
	return session.Versioned{Version: v, Info: info}, nil
}

// accountOf finds the session's account: from the cache, else from its sid key.
func (s *Store) accountOf(ctx context.Context, id string) (string, error) {
	if !s.validID(id) {
		return "", notFound(id)
	}
	if acct, ok := s.cache.get(id); ok {
		return acct, nil
	}
	acct, err := s.rdb.Get(ctx, s.k.sid(id)).Result()
	if errors.Is(err, redis.Nil) {
		return "", notFound(id)
	}
	if err != nil {
		return "", s.fail(ctx, "read", err)
	}
	s.cache.put(id, acct)
	return acct, nil
}

// recheck is called when a session's state is missing under the account the
// cache named. The cache can only be wrong if Redis lost its data and the id was
// created again in another account; it reports whether Redis now names a
// different account (the caller then tries once more).
func (s *Store) recheck(ctx context.Context, id, cached string) bool {
	s.cache.drop(id)
	acct, err := s.rdb.Get(ctx, s.k.sid(id)).Result()
	if err != nil || acct == cached {
		return false
	}
	s.cache.put(id, acct)
	return true
}

// expireSid starts the retention clock of an ended session's sid key (the
// script did the state's; the sid key is in another slot, so it takes its own
// round trip, once per write to an ended session). A failure only delays
// cleanup: the write is already stored.
func (s *Store) expireSid(ctx context.Context, id string) {
	if err := s.rdb.Expire(ctx, s.k.sid(id), s.cfg.Retention).Err(); err != nil {
		s.log.Warn("redisstore: could not set the expiry of an ended session's id", "session", id, "err", err)
	}
}
