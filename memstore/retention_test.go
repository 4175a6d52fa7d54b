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

// newStore opens a store on a manual clock.
func newStore(t testing.TB, cfg memstore.Config) (*memstore.Store, *storetest.Clock) {
	t.Helper()
	c := storetest.NewClock()
	cfg.Now = c.Now
	s := memstore.New(cfg)
	t.Cleanup(func() { _ = s.Close() })
	return s, c
}

func mustCreate(t testing.TB, s *memstore.Store, now time.Time, in session.Info) session.Versioned {
	t.Helper()
	if in.CallState == session.CallDisconnected {
		in.CallState = session.CallRinging // as the API defaults it
	}
	info, err := session.New(in, "creator", now, session.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Create(context.Background(), info)
	if err != nil {
		t.Fatalf("Create(%s): %v", in.ID, err)
	}
	return v
}

func mustUpdate(t testing.TB, s *memstore.Store, id string, m session.Mutation) session.Versioned {
	t.Helper()
	v, err := s.Update(context.Background(), id, session.Cond{}, "agent", m)
	if err != nil {
		t.Fatalf("Update(%s): %v", id, err)
	}
	return v
}

func TestRetention(t *testing.T) {
	ctx := context.Background()
	s, clock := newStore(t, memstore.Config{Retention: time.Hour})
	mustCreate(t, s, clock.Now(), session.Info{ID: "ended", AccountID: "A1", CallState: session.CallConnected})
	mustCreate(t, s, clock.Now(), session.Info{ID: "active", AccountID: "A1", CallState: session.CallConnected})
	mustUpdate(t, s, "ended", session.End())

	clock.Advance(59 * time.Minute)
	if _, err := s.Get(ctx, "ended"); err != nil {
		t.Fatalf("Get 59m after the end of a session kept 1h: %v", err)
	}
	notes := "wrap-up"
	mustUpdate(t, s, "ended", session.Patch{ConsoleData: &notes}.Mutation()) // a write restarts the hour

	clock.Advance(59 * time.Minute)
	if _, err := s.Get(ctx, "ended"); err != nil {
		t.Fatalf("Get 59m after the last write: %v", err)
	}
	clock.Advance(time.Minute)

	if _, err := s.Get(ctx, "ended"); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Get after retention: got %v, want ErrNotFound", err)
	}
	if _, err := s.Update(ctx, "ended", session.Cond{}, "agent", session.Patch{ConsoleData: &notes}.Mutation()); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Update after retention: got %v, want ErrNotFound", err)
	}
	if _, _, err := s.SessionSnapshot(ctx, "ended"); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("SessionSnapshot after retention: got %v, want ErrNotFound", err)
	}
	p, err := s.List(ctx, session.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 1 || p.Total != 1 || p.Items[0].Info.ID != "active" {
		t.Fatalf("List after retention: got %d items (total %d), want only the active session", len(p.Items), p.Total)
	}

	// The id is free again, and the active session never expires.
	if v := mustCreate(t, s, clock.Now(), session.Info{ID: "ended", AccountID: "A2", CallState: session.CallRinging}); v.Version != 1 {
		t.Fatalf("re-create after expiry: got version %d, want 1", v.Version)
	}
	clock.Advance(72 * time.Hour)
	if _, err := s.Get(ctx, "active"); err != nil {
		t.Fatalf("an active session 3 days on: %v", err)
	}
	if v, err := s.Get(ctx, "ended"); err != nil || v.Info.AccountID != "A2" {
		t.Fatalf("the re-created session: got %+v %v, want it in A2", v.Info.AccountID, err)
	}
}

// TestRetentionSweepKeepsLaterExpiries: sweeping one expired session keeps
// those that expire later, and still finds them when their time comes.
func TestRetentionSweepKeepsLaterExpiries(t *testing.T) {
	ctx := context.Background()
	s, clock := newStore(t, memstore.Config{Retention: time.Hour})
	for _, id := range []string{"s1", "s2", "s3"} {
		mustCreate(t, s, clock.Now(), session.Info{ID: id, AccountID: "A1"})
		mustUpdate(t, s, id, session.End())
		clock.Advance(20 * time.Minute)
	}
	// s1 ended at 0, s2 at 20m, s3 at 40m; now is 60m.
	yes := true
	elapsed := 60 * time.Minute
	for _, tc := range []struct {
		advance time.Duration
		want    int
	}{{0, 2}, {20 * time.Minute, 1}, {20 * time.Minute, 0}} {
		clock.Advance(tc.advance)
		elapsed += tc.advance
		p, err := s.List(ctx, session.Query{AccountIDs: []string{"A1"}, Ended: &yes})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != tc.want {
			t.Fatalf("%s after the first end: got %d retained, want %d", elapsed, p.Total, tc.want)
		}
	}
}
