package redisstore

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionhub/sessionhub/internal/redistest"
	"github.com/sessionhub/sessionhub/session"
)

// TestBrokerEvents: a subscribed account's events arrive in order with the
// offsets Replay gives; after Unsubscribe they stop.
func TestBrokerEvents(t *testing.T) {
	s := openStore(t, Config{ProbeInterval: 200 * time.Millisecond})
	r := newRecorder()
	runBroker(t, s, r)
	if err := s.Subscribe(testCtx(t), "A1"); err != nil {
		t.Fatal(err)
	}
	snap, err := s.AccountSnapshot(testCtx(t), "A1")
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "s1", "A1")
	for i := range 20 {
		mustPatch(t, s, "s1", string(rune('a'+i)))
	}
	r.waitFor(t, "21 events", func(ev []session.Event, _ []string) bool { return len(ev) >= 21 })
	replayed, err := s.Replay(testCtx(t), "A1", snap.Offset)
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	got := slices.Clone(r.events)
	r.mu.Unlock()
	if len(got) != 21 || len(replayed) != 21 {
		t.Fatalf("got %d live and %d replayed events, want 21 each", len(got), len(replayed))
	}
	for k := range got {
		if got[k].Version != int64(k+1) || got[k].Offset != replayed[k].Offset || string(got[k].Session) != string(replayed[k].Session) {
			t.Fatalf("event %d: live v%d %s, replayed v%d %s; want version %d and equal offsets",
				k, got[k].Version, got[k].Offset, replayed[k].Version, replayed[k].Offset, k+1)
		}
		if got[k].AccountID != "A1" || got[k].SessionID != "s1" {
			t.Fatalf("event %d: got %s/%s, want A1/s1", k, got[k].AccountID, got[k].SessionID)
		}
	}
	// dateLastModified changes too unless the write fell in the create's millisecond.
	if c := got[1].Changed; len(c) < 2 || c[0] != "consoleData" || c[len(c)-1] != "lastModifiedBy" {
		t.Fatalf("changed of a PATCH: got %v, want consoleData, [dateLastModified,] lastModifiedBy", c)
	}

	// After Unsubscribe(A1), a write to A1 then one to A2 (subscribed on the
	// same connection) shows only A2's.
	if err := s.Unsubscribe(testCtx(t), "A1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Subscribe(testCtx(t), "A2"); err != nil {
		t.Fatal(err)
	}
	mustPatch(t, s, "s1", "after unsubscribe")
	mustCreate(t, s, "s2", "A2")
	r.waitFor(t, "A2's event", func(ev []session.Event, _ []string) bool {
		return len(ev) > 0 && ev[len(ev)-1].AccountID == "A2"
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.events); n != 22 {
		t.Fatalf("after Unsubscribe(A1): got %d events, want 22 (A1's write not delivered)", n)
	}
}

// TestSubscribeWaitsForRun: Subscribe before Run returns once Run confirms it.
func TestSubscribeWaitsForRun(t *testing.T) {
	s := openStore(t, Config{})
	done := make(chan error, 1)
	go func() { done <- s.Subscribe(testCtx(t), "A1") }()
	r := newRecorder()
	runBroker(t, s, r)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Subscribe did not return after Run started")
	}
	if err := s.Ready(); err != nil {
		t.Fatalf("Ready after Subscribe: %v", err)
	}
	mustCreate(t, s, "s1", "A1")
	r.waitFor(t, "the create", func(ev []session.Event, _ []string) bool { return len(ev) == 1 })
}

// TestSubscribeTimesOut: without Run, Subscribe gives up with ctx, as
// ErrUnavailable, and leaves nothing wanted behind.
func TestSubscribeTimesOut(t *testing.T) {
	s := openStore(t, Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := s.Subscribe(ctx, "A1")
	if !errors.Is(err, session.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Subscribe without Run: got %v, want ErrUnavailable wrapping the deadline", err)
	}
	if err := s.Ready(); err != nil {
		t.Fatalf("Ready after an abandoned Subscribe: got %v, want nil", err)
	}
}

// TestOutage: with Redis down, writes fail with ErrUnavailable (never a
// success) and Ready says so; once it is back the broker resubscribes, resets
// the account and events flow again.
func TestOutage(t *testing.T) {
	srv := redistest.Start(t)
	// Fail fast while Redis is down: one dial, no retries.
	s := New(redis.NewClient(&redis.Options{Addr: srv.Addr(), DialerRetries: 1, MaxRetries: -1, ContextTimeoutEnabled: true}),
		Config{ProbeInterval: 200 * time.Millisecond})
	t.Cleanup(func() { s.Close() })
	r := liveSession(t, s)

	srv.Kill()
	in, _ := session.New(session.Info{ID: "s2", AccountID: "A1", CallState: session.CallRinging}, "u", time.Now(), session.Limits{})
	if _, err := s.Create(testCtx(t), in); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("Create during the outage: got %v, want ErrUnavailable", err)
	}
	console := "x"
	_, err := s.Update(testCtx(t), "s1", session.Cond{}, "u", session.Patch{ConsoleData: &console}.Mutation())
	if !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("Update during the outage: got %v, want ErrUnavailable", err)
	}
	if msg := err.Error(); containsAny(msg, srv.Addr(), "127.0.0.1", "refused") {
		t.Fatalf("error message leaks internals: %q", msg)
	}
	if _, err := s.AccountSnapshot(testCtx(t), "A1"); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("AccountSnapshot during the outage: got %v, want ErrUnavailable", err)
	}
	poll(t, "Ready to report the outage", func() bool { return s.Ready() != nil })

	srv.Restart(t)
	r.waitFor(t, "HandleReset(A1)", func(_ []session.Event, resets []string) bool { return slices.Contains(resets, "A1") })
	poll(t, "Ready after the restart", func() bool { return s.Ready() == nil })
	// The restarted Redis is empty: s1 is gone, new sessions flow live.
	if _, err := s.Get(testCtx(t), "s1"); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Get after data loss: got %v, want ErrNotFound", err)
	}
	mustCreate(t, s, "s3", "A1")
	r.waitFor(t, "the create after the restart", func(ev []session.Event, _ []string) bool {
		return ev[len(ev)-1].SessionID == "s3"
	})
}

// TestProbeRestartsSilentSubscription: a subscription connection that goes
// silent without closing is found by the probe and restarted, with a reset.
func TestProbeRestartsSilentSubscription(t *testing.T) {
	url, prefix := redistest.URL(t)
	target := rawClient(t, url).Options().Addr
	px := startProxy(t, target)
	s := openURL(t, "redis://"+px.addr()+"/0", Config{Prefix: prefix, ProbeInterval: 100 * time.Millisecond})
	r := newRecorder()
	runBroker(t, s, r)
	if err := s.Subscribe(testCtx(t), "A1"); err != nil {
		t.Fatal(err)
	}
	if n := px.freezeSubscribers(); n != 1 {
		t.Fatalf("froze %d subscription connections, want 1", n)
	}
	r.waitFor(t, "HandleReset(A1) after the probe failed", func(_ []session.Event, resets []string) bool {
		return slices.Contains(resets, "A1")
	})
	poll(t, "Ready after the restart", func() bool { return s.Ready() == nil })
	mustCreate(t, s, "s1", "A1")
	r.waitFor(t, "the create on the new connection", func(ev []session.Event, _ []string) bool {
		return len(ev) == 1 && ev[0].SessionID == "s1"
	})
}

// TestQuietSubscriptionStays: a healthy but quiet subscription passes its
// probes and is neither reset nor reported unready.
func TestQuietSubscriptionStays(t *testing.T) {
	s := openStore(t, Config{ProbeInterval: 50 * time.Millisecond})
	h := &countHook{}
	s.rdb.AddHook(h)
	r := newRecorder()
	runBroker(t, s, r)
	if err := s.Subscribe(testCtx(t), "A1"); err != nil {
		t.Fatal(err)
	}
	probes := 0
	poll(t, "three probe rounds", func() bool {
		_, cmds := h.reset()
		for _, c := range cmds {
			if c == "spublish" {
				probes++
			}
		}
		if err := s.Ready(); err != nil {
			t.Fatalf("Ready while quiet: %v", err)
		}
		return probes >= 3
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.resets) != 0 || len(r.events) != 0 {
		t.Fatalf("a quiet, healthy subscription heard resets %v and %d events, want none", r.resets, len(r.events))
	}
}

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}
