package memstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/sessionhub/sessionhub/memstore"
	"github.com/sessionhub/sessionhub/session"
)

// nopHandler takes events and drops them, as a hub with no slow work would.
type nopHandler struct{ n atomic.Int64 }

func (h *nopHandler) HandleEvent(session.Event) { h.n.Add(1) }
func (h *nopHandler) HandleReset(string)        {}

// benchStore is a store with a running broker subscribed to account A1, so
// every PATCH also pays for its event's delivery.
func benchStore(b *testing.B, sessions int) *memstore.Store {
	b.Helper()
	s, clock := newStore(b, memstore.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	go func() { _ = s.Run(ctx, &nopHandler{}) }()
	if err := s.Subscribe(context.Background(), "A1"); err != nil {
		b.Fatal(err)
	}
	for i := range sessions {
		mustCreate(b, s, clock.Now(), session.Info{ID: fmt.Sprintf("s%d", i), AccountID: "A1", CallState: session.CallConnected})
	}
	return s
}

// patches alternates two effective PATCHes, so every write stores a version.
var patches = func() [2]session.Mutation {
	a, b := "console data A", "console data B"
	return [2]session.Mutation{session.Patch{ConsoleData: &a}.Mutation(), session.Patch{ConsoleData: &b}.Mutation()}
}()

// BenchmarkPatch is one PATCH (Update with a Patch) of one session.
func BenchmarkPatch(b *testing.B) {
	s := benchStore(b, 1)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := s.Update(ctx, "s0", session.Cond{}, "agent", patches[i&1]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkPatchParallel is PATCHes of many sessions of one account from
// many goroutines: the account lock's contention.
func BenchmarkPatchParallel(b *testing.B) {
	const n = 1000
	s := benchStore(b, n)
	ctx := context.Background()
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1))
		for pb.Next() {
			i++
			if _, err := s.Update(ctx, fmt.Sprintf("s%d", i%n), session.Cond{}, "agent", patches[(i/n)&1]); err != nil {
				b.Fatal(err)
			}
		}
	})
}
