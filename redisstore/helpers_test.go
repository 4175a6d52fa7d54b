package redisstore

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionhub/sessionhub/internal/redistest"
	"github.com/sessionhub/sessionhub/session"
)

// openStore opens a Store on the shared test Redis under a prefix of its own.
func openStore(tb testing.TB, cfg Config) *Store {
	tb.Helper()
	url, prefix := redistest.URL(tb)
	if cfg.Prefix == "" {
		cfg.Prefix = prefix
	}
	return openURL(tb, url, cfg)
}

// openURL opens a Store on url, closed when tb ends.
func openURL(tb testing.TB, url string, cfg Config) *Store {
	tb.Helper()
	c, err := NewClient(url)
	if err != nil {
		tb.Fatalf("NewClient(%s): %v", url, err)
	}
	s := New(c, cfg)
	tb.Cleanup(func() { s.Close() })
	return s
}

// rawClient is a plain client on url for inspecting keys.
func rawClient(tb testing.TB, url string) *redis.Client {
	tb.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		tb.Fatal(err)
	}
	c := redis.NewClient(opt)
	tb.Cleanup(func() { c.Close() })
	return c
}

func testCtx(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

// mustCreate prepares and stores a live session.
func mustCreate(tb testing.TB, s *Store, id, acct string) session.Versioned {
	tb.Helper()
	in, err := session.New(session.Info{ID: id, AccountID: acct, CallState: session.CallRinging}, "creator", time.Now(), session.Limits{})
	if err != nil {
		tb.Fatal(err)
	}
	v, err := s.Create(testCtx(tb), in)
	if err != nil {
		tb.Fatalf("Create(%s): %v", id, err)
	}
	return v
}

func mustPatch(tb testing.TB, s *Store, id string, console string) session.Versioned {
	tb.Helper()
	v, err := s.Update(testCtx(tb), id, session.Cond{}, "agent", session.Patch{ConsoleData: &console}.Mutation())
	if err != nil {
		tb.Fatalf("Update(%s): %v", id, err)
	}
	return v
}

// recorder is an EventHandler that keeps what it hears and signals each call.
type recorder struct {
	mu     sync.Mutex
	events []session.Event
	resets []string
	signal chan struct{}
}

func newRecorder() *recorder { return &recorder{signal: make(chan struct{}, 1)} }

func (r *recorder) HandleEvent(e session.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) HandleReset(acct string) {
	r.mu.Lock()
	r.resets = append(r.resets, acct)
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) poke() {
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

// waitFor waits until cond holds over what r heard, or fails after timeout.
func (r *recorder) waitFor(tb testing.TB, what string, cond func(events []session.Event, resets []string) bool) {
	tb.Helper()
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok := cond(r.events, r.resets)
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.signal:
		case <-deadline.C:
			r.mu.Lock()
			defer r.mu.Unlock()
			tb.Fatalf("timed out waiting for %s; heard %d events, resets %v", what, len(r.events), r.resets)
		}
	}
}

// runBroker runs s's broker with r until the test ends.
func runBroker(tb testing.TB, s *Store, r session.EventHandler) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, r) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			tb.Errorf("Run did not return after its context ended")
		}
	})
}

// liveSession runs s's broker with a new recorder, subscribes account A1 and
// creates its session s1, and returns once the create was heard.
func liveSession(tb testing.TB, s *Store) *recorder {
	tb.Helper()
	r := newRecorder()
	runBroker(tb, s, r)
	if err := s.Subscribe(testCtx(tb), "A1"); err != nil {
		tb.Fatal(err)
	}
	mustCreate(tb, s, "s1", "A1")
	r.waitFor(tb, "the create", func(ev []session.Event, _ []string) bool { return len(ev) == 1 })
	return r
}

// poll waits until cond is true, polling with a deadline.
func poll(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition with a deadline
	}
}
