package redisstore

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionhub/sessionhub/session"
)

// Config tunes a Store. Zero fields take the defaults named beside them.
type Config struct {
	Prefix        string         // key prefix; default "sessionhub"
	Limits        session.Limits // write limits; zero fields take session's defaults
	StreamMax     int            // events kept per account (MAXLEN ~); default 10000
	Retention     time.Duration  // how long an ended session is kept; default 24h
	Now           func() time.Time
	Logger        *slog.Logger
	ProbeInterval time.Duration // silence after which a subscription is probed; default 5s
	// EchoTimeout is how long a subscription may stay silent after this Store
	// published an event on it before it is restarted; default 1s.
	EchoTimeout time.Duration
}

const (
	defaultPrefix        = "sessionhub"
	defaultStreamMax     = 10000
	defaultRetention     = 24 * time.Hour
	defaultProbeInterval = 5 * time.Second
	accountCacheSize     = 100_000
)

func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = defaultPrefix
	}
	c.Limits = c.Limits.Defaults()
	if c.StreamMax <= 0 {
		c.StreamMax = defaultStreamMax
	}
	if c.Retention <= 0 {
		c.Retention = defaultRetention
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.ProbeInterval <= 0 {
		c.ProbeInterval = defaultProbeInterval
	}
	if c.EchoTimeout <= 0 {
		c.EchoTimeout = defaultEchoTimeout
	}
	return c
}

// Store is sessionhub's state in Redis: a session.Store, session.Feed and
// session.Broker on one go-redis UniversalClient, so the same code serves
// standalone, Sentinel and Cluster.
type Store struct {
	rdb    redis.UniversalClient
	cfg    Config
	k      keys
	sc     scripts
	cache  *accountCache
	log    *slog.Logger
	broker *broker
}

var (
	_ session.Store  = (*Store)(nil)
	_ session.Feed   = (*Store)(nil)
	_ session.Broker = (*Store)(nil)
)

// New returns a Store on client. The Store owns client from now on: Close
// closes it.
func New(client redis.UniversalClient, cfg Config) *Store {
	cfg = cfg.withDefaults()
	s := &Store{
		rdb:   client,
		cfg:   cfg,
		k:     keys{prefix: cfg.Prefix},
		sc:    newScripts(),
		cache: newAccountCache(accountCacheSize),
		log:   cfg.Logger,
	}
	s.broker = newBroker(s)
	return s
}

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.fail(ctx, "ping", s.rdb.Ping(ctx).Err())
}

// Ready reports whether the store can vouch for its live events: Redis answers
// and every subscription is confirmed and has passed its last probe.
func (s *Store) Ready() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.Ping(ctx); err != nil {
		return err
	}
	return s.broker.ready()
}

// Close stops the subscriptions and closes the client.
func (s *Store) Close() error {
	s.broker.close()
	return s.rdb.Close()
}

// unavailableError is every Redis failure as callers see it: ErrUnavailable with
// a message that holds no address or internals. The cause stays reachable with
// errors.Is/As for logs and for context errors.
type unavailableError struct {
	op    string
	cause error
}

func (e *unavailableError) Error() string {
	return "the session store is unavailable (" + e.op + "): retry in a few seconds"
}

func (e *unavailableError) Unwrap() []error { return []error{session.ErrUnavailable, e.cause} }

// fail turns a Redis error into one callers can test: nil stays nil, redis.Nil
// is ErrNotFound, anything else is ErrUnavailable (logged with its cause here,
// since the message callers see holds none).
func (s *Store) fail(ctx context.Context, op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, redis.Nil):
		return session.ErrNotFound
	}
	if ctx.Err() == nil {
		s.log.Warn("redisstore: redis failed", "op", op, "err", err)
	}
	return &unavailableError{op: op, cause: err}
}

// newEpoch is a fresh random epoch, offered to the scripts for an account that
// has none. It is random per call, not per process, so that an account whose
// data Redis lost never gets its old epoch back.
func newEpoch() string { return strconv.FormatUint(rand.Uint64(), 36) }

// validID guards every id that becomes part of a key.
func (s *Store) validID(id string) bool { return session.ValidID(id, s.cfg.Limits.MaxIDLength) }

func notFound(id string) error {
	return session.Errorf(session.ErrNotFound, "session %s was not found: check the id, or it may have expired after ending.", id)
}

func badAccount(acct string) error {
	return session.Errorf(session.ErrInvalid, "account id %q is not valid: use 1 to 128 characters of A-Z a-z 0-9 . _ : @ -.", trunc(acct))
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// epochOffset renders an offset from its parts as the scripts return them.
func epochOffset(epoch, streamID string) string { return epoch + ":" + streamID }
