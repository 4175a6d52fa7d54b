package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/sessionhub/sessionhub/session"
)

// result is what one concurrent writer got back.
type result struct {
	actor string
	patch session.Patch
	v     session.Versioned
	err   error
}

// effective reports whether r's own write was stored: a write that changed
// something returns the state it stored, which names its (unique) actor.
func (r result) effective() bool { return r.err == nil && r.v.Info.LastModifiedBy == r.actor }

// testConcurrentPatches: 100 concurrent PATCHes of one session touching
// different fields. Every write that changed something is stored as its own
// version (none lost, none duplicated), the final version is 1 + the number of
// effective writes, and each field holds the value of its newest effective write.
func testConcurrentPatches(t *testing.T, e *env) {
	const n = 100
	e.create(t, session.Info{ID: "s1", AccountID: "A1", CallState: session.CallConnected})
	mark := e.mark(t, "A1")
	queue := []session.QueueState{session.QueueQueued, session.QueueRinging, session.QueueConnected, session.QueueHold}
	results := make([]result, n)
	ctx := testCtx(t)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		var p session.Patch
		switch i % 3 {
		case 0:
			p.ConsoleData = ptr(fmt.Sprintf("console-%d", i)) // distinct: always effective
		case 1:
			p.CallState = ptr([]session.CallState{session.CallHold, session.CallConnected}[(i/3)%2])
		case 2:
			p.QueueState = ptr(queue[(i/3)%len(queue)])
		}
		results[i] = result{actor: fmt.Sprintf("writer-%d", i), patch: p}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := &results[i]
			r.v, r.err = e.b.Update(ctx, "s1", session.Cond{}, r.actor, r.patch.Mutation())
		}()
	}
	close(start)
	wg.Wait()

	byVersion := map[int64]result{}
	var newest [3]result
	consoleWrites := 0
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("writer %d (%+v): %v", i, r.patch, r.err)
		}
		if !r.effective() {
			continue
		}
		if i%3 == 0 {
			consoleWrites++
		}
		if prev, dup := byVersion[r.v.Version]; dup {
			t.Fatalf("version %d stored twice: by %s and %s (a lost update)", r.v.Version, prev.actor, r.actor)
		}
		byVersion[r.v.Version] = r
		if r.v.Version > newest[i%3].v.Version {
			newest[i%3] = r
		}
	}
	if want := (n + 2) / 3; consoleWrites != want {
		t.Fatalf("effective consoleData writes: got %d, want %d (each had a distinct value)", consoleWrites, want)
	}
	final := e.get(t, "s1")
	if want := int64(1 + len(byVersion)); final.Version != want {
		t.Fatalf("final version: got %d, want %d (1 + %d effective writes)", final.Version, want, len(byVersion))
	}
	for v := int64(2); v <= final.Version; v++ {
		if _, ok := byVersion[v]; !ok {
			t.Fatalf("no writer was told it stored version %d", v)
		}
	}
	if got, want := final.Info.ConsoleData, *newest[0].patch.ConsoleData; got != want {
		t.Fatalf("final consoleData: got %q, want %q (the newest effective consoleData write)", got, want)
	}
	if newest[1].actor != "" && final.Info.CallState != *newest[1].patch.CallState {
		t.Fatalf("final callState: got %s, want %s (the newest effective callState write)", final.Info.CallState, *newest[1].patch.CallState)
	}
	if newest[2].actor != "" && final.Info.QueueState != *newest[2].patch.QueueState {
		t.Fatalf("final queueState: got %s, want %s (the newest effective queueState write)", final.Info.QueueState, *newest[2].patch.QueueState)
	}

	// The change log holds every version once, in order, each the state its
	// writer was told it stored.
	evs := e.replay(t, "A1", mark)
	if len(evs) != len(byVersion) {
		t.Fatalf("events: got %d, want %d (one per effective write)", len(evs), len(byVersion))
	}
	checkOrdered(t, evs)
	for k, ev := range evs {
		if want := int64(k + 2); ev.Version != want {
			t.Fatalf("event %d: got version %d, want %d", k, ev.Version, want)
		}
		checkEvent(t, ev, byVersion[ev.Version].v)
	}
}

// testConcurrentCond: 20 concurrent writes naming the same version: exactly one
// succeeds, the other 19 get ErrVersion.
func testConcurrentCond(t *testing.T, e *env) {
	const n = 20
	e.create(t, session.Info{ID: "s1", AccountID: "A1"})
	cur := e.patch(t, "s1", "u", session.Patch{ConsoleData: ptr("start")})
	mark := e.mark(t, "A1")
	errs := make([]error, n)
	vs := make([]session.Versioned, n)
	ctx := testCtx(t)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			m := session.Patch{ConsoleData: ptr(fmt.Sprintf("cond-%d", i))}.Mutation()
			vs[i], errs[i] = e.b.Update(ctx, "s1", session.Cond{Version: cur.Version}, fmt.Sprintf("w%d", i), m)
		}()
	}
	close(start)
	wg.Wait()
	winner, lost := -1, 0
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("writers %d and %d both succeeded with If-Match %d", winner, i, cur.Version)
			}
			winner = i
		case errors.Is(err, session.ErrVersion):
			lost++
		default:
			t.Fatalf("writer %d: got %v, want nil or ErrVersion", i, err)
		}
	}
	if winner < 0 || lost != n-1 {
		t.Fatalf("got %d successes and %d ErrVersion, want 1 and %d", n-lost, lost, n-1)
	}
	final := e.get(t, "s1")
	if final.Version != cur.Version+1 || final.Info.ConsoleData != fmt.Sprintf("cond-%d", winner) {
		t.Fatalf("final: got version %d consoleData %q, want %d \"cond-%d\"", final.Version, final.Info.ConsoleData, cur.Version+1, winner)
	}
	evs := e.replay(t, "A1", mark)
	if len(evs) != 1 {
		t.Fatalf("events: got %d, want 1", len(evs))
	}
	checkEvent(t, evs[0], vs[winner])
}

// checkEvent fails unless ev is the stored change that produced want.
func checkEvent(t testing.TB, ev session.Event, want session.Versioned) {
	t.Helper()
	if ev.AccountID != want.Info.AccountID || ev.SessionID != want.Info.ID || ev.Version != want.Version || ev.Ended != want.Info.Ended {
		t.Fatalf("event: got account %q session %q version %d ended %v, want %q %q %d %v",
			ev.AccountID, ev.SessionID, ev.Version, ev.Ended, want.Info.AccountID, want.Info.ID, want.Version, want.Info.Ended)
	}
	if _, err := session.ParseOffset(ev.Offset); err != nil {
		t.Fatalf("event version %d: offset: %v", ev.Version, err)
	}
	if g, w := string(ev.Session), string(want.Info.Marshal()); g != w {
		t.Fatalf("event version %d: Session:\n got %s\nwant %s", ev.Version, g, w)
	}
	if !json.Valid(ev.Session) {
		t.Fatalf("event version %d: Session is not JSON", ev.Version)
	}
}

// checkOrdered fails unless offsets strictly increase within one epoch and
// each session's versions strictly increase.
func checkOrdered(t testing.TB, evs []session.Event) {
	t.Helper()
	var prev session.Offset
	versions := map[string]int64{}
	for k, ev := range evs {
		o, err := session.ParseOffset(ev.Offset)
		if err != nil {
			t.Fatalf("event %d: %v", k, err)
		}
		if k > 0 && (o.Epoch != prev.Epoch || !prev.Less(o)) {
			t.Fatalf("event %d: offset %s does not follow %s", k, o, prev)
		}
		prev = o
		if ev.Version <= versions[ev.SessionID] {
			t.Fatalf("event %d: session %s version %d after version %d", k, ev.SessionID, ev.Version, versions[ev.SessionID])
		}
		versions[ev.SessionID] = ev.Version
	}
}
