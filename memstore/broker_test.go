package memstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sessionhub/sessionhub/memstore"
	"github.com/sessionhub/sessionhub/session"
	"github.com/sessionhub/sessionhub/storetest"
)

// runBroker runs s.Run with a Recorder and returns a stop that waits for Run.
func runBroker(t testing.TB, s *memstore.Store) (*storetest.Recorder, func() error) {
	t.Helper()
	rec := storetest.NewRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, rec) }()
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after its context ended")
			return nil
		}
	}
	t.Cleanup(func() { cancel() })
	return rec, stop
}

func TestSubscribeWaitsForRun(t *testing.T) {
	s, _ := newStore(t, memstore.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := s.Subscribe(ctx, "A1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Subscribe with no Run: got %v, want the context's deadline", err)
	}
}

func TestOneRunAtATime(t *testing.T) {
	s, _ := newStore(t, memstore.Config{})
	_, stop := runBroker(t, s)
	if err := s.Subscribe(context.Background(), "A1"); err != nil { // returns once Run is active
		t.Fatal(err)
	}
	if err := s.Run(context.Background(), storetest.NewRecorder()); err == nil {
		t.Fatal("a second concurrent Run: got nil, want an error")
	}
	if err := stop(); err != nil {
		t.Fatalf("Run after its context ended: got %v, want nil", err)
	}
}

// TestRunRestartResets: events written while no Run was active are lost to
// the live side, so the next Run resets every subscribed account.
func TestRunRestartResets(t *testing.T) {
	ctx := context.Background()
	s, clock := newStore(t, memstore.Config{})
	_, stop := runBroker(t, s)
	if err := s.Subscribe(ctx, "A1"); err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, clock.Now(), session.Info{ID: "s1", AccountID: "A1"})
	rec, _ := runBroker(t, s)
	if err := s.Subscribe(ctx, "A2"); err != nil { // returns once the new Run has reset
		t.Fatal(err)
	}
	if got := rec.Resets(); len(got) != 1 || got[0] != "A1" {
		t.Fatalf("resets after a restart: got %v, want [A1]", got)
	}
	if n := len(rec.Events()); n != 0 {
		t.Fatalf("events written while no Run was active: got %d delivered, want 0", n)
	}
}

func TestClose(t *testing.T) {
	ctx := context.Background()
	s, clock := newStore(t, memstore.Config{})
	mustCreate(t, s, clock.Now(), session.Info{ID: "s1", AccountID: "A1"})
	_, stop := runBroker(t, s)
	if err := s.Subscribe(ctx, "A1"); err != nil { // returns once Run is active
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatalf("Run after Close: %v", err)
	}
	if _, err := s.Get(ctx, "s1"); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("Get after Close: got %v, want ErrUnavailable", err)
	}
	if err := s.Ping(ctx); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("Ping after Close: got %v, want ErrUnavailable", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestOffsetsOfAnotherStore: a store never accepts another process's offsets.
func TestOffsetsOfAnotherStore(t *testing.T) {
	ctx := context.Background()
	a, clock := newStore(t, memstore.Config{})
	b, _ := newStore(t, memstore.Config{})
	mustCreate(t, a, clock.Now(), session.Info{ID: "s1", AccountID: "A1"})
	snap, err := a.AccountSnapshot(ctx, "A1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Replay(ctx, "A1", snap.Offset); !errors.Is(err, session.ErrOffsetGone) {
		t.Fatalf("Replay of another store's offset: got %v, want ErrOffsetGone", err)
	}
	future, _ := session.ParseOffset(snap.Offset)
	future.Ms += 10
	if _, err := a.Replay(ctx, "A1", future.String()); !errors.Is(err, session.ErrOffsetGone) {
		t.Fatalf("Replay of an offset past the newest: got %v, want ErrOffsetGone", err)
	}
}
