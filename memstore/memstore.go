// Package memstore is the embedded session store and broker: everything the
// Redis store does (DESIGN §4), in process, for a single hub run without Redis.
// It passes the same contract suite (storetest) as redisstore.
//
// State is split per account: each account has one lock guarding its
// sessions, its active index and its change log, so accounts never wait for
// each other. A small store-wide lock guards only the maps that find an
// account and a session's owner. Writers of one session are serialised by a
// per-session mutex, so concurrent PATCHes queue instead of spinning on
// compare-and-set. Stored session values are immutable: a write replaces them,
// so readers may copy them out shallowly and clone only what they hand out.
package memstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionhub/sessionhub/session"
)

// Config configures a Store; zero fields take the defaults.
type Config struct {
	Limits    session.Limits
	StreamMax int              // events each account's log keeps (the recovery window); default 10000
	Retention time.Duration    // how long ended sessions stay; default 24h
	Now       func() time.Time // the clock; default time.Now
}

// Store is the in-process session.Store, session.Feed and session.Broker.
type Store struct {
	cfg   Config
	epoch string

	mu       sync.RWMutex
	accounts map[string]*account
	owner    map[string]*account // sessionId -> its account

	broker broker
	closed atomic.Bool
}

var (
	_ session.Store  = (*Store)(nil)
	_ session.Feed   = (*Store)(nil)
	_ session.Broker = (*Store)(nil)
)

// account is one account's sessions, active index and change log.
type account struct {
	id string

	mu         sync.Mutex
	sessions   map[string]*slot
	active     map[string]*slot
	log        []session.Event // oldest first; log[i] has sequence trimmed+1+i
	seq        uint64          // the newest event's sequence; 0 before the first
	trimmed    uint64          // the newest sequence dropped from log
	subscribed bool
	nextSweep  time.Time // the earliest expiry among ended sessions; zero for none
}

// slot is one session. wmu serialises its writers; the other fields are
// guarded by the account's mu and replaced, never changed in place.
type slot struct {
	wmu     sync.Mutex
	v       session.Versioned // v.JSON always set: snapshots and events carry it
	expires time.Time         // zero while the session is active
}

// New makes an empty Store with a fresh random epoch, so offsets of an
// earlier process are never mistaken for this one's.
func New(cfg Config) *Store {
	if cfg.StreamMax <= 0 {
		cfg.StreamMax = 10000
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Limits = cfg.Limits.Defaults()
	s := &Store{
		cfg:      cfg,
		epoch:    newEpoch(),
		accounts: map[string]*account{},
		owner:    map[string]*account{},
	}
	s.broker.init()
	return s
}

func newEpoch() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms.
		panic("memstore: epoch: " + err.Error())
	}
	return "m" + hex.EncodeToString(b[:])
}

// Ping reports whether the store can serve: always, until Close.
func (s *Store) Ping(ctx context.Context) error {
	return s.check(ctx)
}

// Close stops Run and makes every later call fail with session.ErrUnavailable.
func (s *Store) Close() error {
	if s.closed.CompareAndSwap(false, true) {
		s.broker.close()
	}
	return nil
}

// check refuses work after Close or once ctx has ended.
func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return session.Errorf(session.ErrUnavailable, "the session store is closed; retry against a running hub.")
	}
	return ctx.Err()
}

// notFound is the error for a session that does not exist (or has expired).
func notFound(id string) error {
	return session.Errorf(session.ErrNotFound, "session %s not found: check the id, or create it first.", id)
}

// find returns the account of an existing account id, or nil.
func (s *Store) find(accountID string) *account {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.accounts[accountID]
}

// ownerOf returns the account holding session id, or nil.
func (s *Store) ownerOf(id string) *account {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.owner[id]
}

// accountLocked returns the account, making it when absent; s.mu is held.
func (s *Store) accountLocked(accountID string) *account {
	a := s.accounts[accountID]
	if a == nil {
		a = &account{id: accountID, sessions: map[string]*slot{}, active: map[string]*slot{}}
		s.accounts[accountID] = a
	}
	return a
}

// live returns session id of a when it exists and has not expired; a.mu is held.
func (a *account) live(id string, now time.Time) *slot {
	sl := a.sessions[id]
	if sl == nil || (!sl.expires.IsZero() && !now.Before(sl.expires)) {
		return nil
	}
	return sl
}

// offset renders sequence seq of this store's epoch.
func (s *Store) offset(seq uint64) string {
	return session.Offset{Epoch: s.epoch, Ms: seq}.String()
}
