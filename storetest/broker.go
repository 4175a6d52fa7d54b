package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sessionhub/sessionhub/session"
)

var jsonUnmarshal = json.Unmarshal

// waitTimeout bounds every wait for a live event.
const waitTimeout = 10 * time.Second

// Recorder is a session.EventHandler that keeps what it hears, without blocking.
type Recorder struct {
	mu     sync.Mutex
	events []session.Event
	resets []string
	signal chan struct{}
}

// NewRecorder makes an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{signal: make(chan struct{}, 1)} }

// HandleEvent records e.
func (r *Recorder) HandleEvent(e session.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	r.notify()
}

// HandleReset records the account.
func (r *Recorder) HandleReset(accountID string) {
	r.mu.Lock()
	r.resets = append(r.resets, accountID)
	r.mu.Unlock()
	r.notify()
}

func (r *Recorder) notify() {
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

// Events returns a copy of what was heard so far.
func (r *Recorder) Events() []session.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]session.Event(nil), r.events...)
}

// Resets returns the accounts reset so far.
func (r *Recorder) Resets() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.resets...)
}

// Wait returns the recorded events once ok accepts them, failing the test when
// they do not come within a few seconds.
func (r *Recorder) Wait(t testing.TB, what string, ok func([]session.Event) bool) []session.Event {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		evs := r.Events()
		if ok(evs) {
			return evs
		}
		select {
		case <-r.signal:
		case <-deadline.C:
			t.Fatalf("waiting for %s: gave up after %s with %d events", what, waitTimeout, len(evs))
		}
	}
}

// StartBroker runs b.Run with a Recorder until the test ends, and checks that
// Run returns once its context does.
func StartBroker(t testing.TB, b session.Broker) *Recorder {
	t.Helper()
	rec := NewRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = b.Run(ctx, rec)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(waitTimeout):
			t.Errorf("Broker.Run did not return within %s of its context ending", waitTimeout)
		}
	})
	return rec
}

// forAccount keeps the events of one account.
func forAccount(evs []session.Event, account string) []session.Event {
	var out []session.Event
	for _, e := range evs {
		if e.AccountID == account {
			out = append(out, e)
		}
	}
	return out
}

// testBroker: a subscribed account's events arrive in stored order, creation
// and ending included, identical to what Replay returns; other accounts' do not.
func testBroker(t *testing.T, e *env) {
	rec := StartBroker(t, e.b)
	ctx := testCtx(t)
	if err := e.b.Subscribe(ctx, "A1"); err != nil {
		t.Fatalf("Subscribe(A1): %v", err)
	}
	mark := e.mark(t, "A1")
	var want []session.Versioned
	e.create(t, session.Info{ID: "b1", AccountID: "B"})
	want = append(want, e.create(t, session.Info{ID: "s1", AccountID: "A1"}))
	want = append(want, e.patch(t, "s1", "agent", session.Patch{CallState: ptr(session.CallConnected), QueueState: ptr(session.QueueConnected)}))
	e.patch(t, "b1", "agent", session.Patch{ConsoleData: ptr("b")})
	want = append(want, e.create(t, session.Info{ID: "s2", AccountID: "A1"}))
	want = append(want, e.patch(t, "s1", "agent", session.Patch{CallState: ptr(session.CallHold)}))
	want = append(want, e.update(t, "s1", "agent", session.End()))
	want = append(want, e.patch(t, "s1", "agent", session.Patch{ConsoleData: ptr("wrap-up")}))
	want = append(want, e.update(t, "s2", "svc", session.Replace(session.Info{CallState: session.CallConnected, AnsweredByID: "x"})))

	evs := rec.Wait(t, "the A1 events", func(evs []session.Event) bool { return len(evs) >= len(want) })
	if b := forAccount(evs, "B"); len(b) != 0 {
		t.Fatalf("got %d events of the unsubscribed account B", len(b))
	}
	if len(evs) != len(want) {
		t.Fatalf("live events: got %d, want %d", len(evs), len(want))
	}
	checkOrdered(t, evs)
	for k := range evs {
		checkEvent(t, evs[k], want[k])
	}
	if !evs[4].Ended || evs[3].Ended {
		t.Fatalf("Ended: got %v on the ending change and %v before it, want true and false", evs[4].Ended, evs[3].Ended)
	}
	replayed := e.replay(t, "A1", mark)
	if len(replayed) != len(evs) {
		t.Fatalf("Replay: got %d events, want the %d live ones", len(replayed), len(evs))
	}
	for k := range evs {
		if a, b := evs[k], replayed[k]; a.Offset != b.Offset || a.Version != b.Version || string(a.Session) != string(b.Session) || a.Ended != b.Ended {
			t.Fatalf("event %d: live %s v%d, replayed %s v%d: want the same", k, a.Offset, a.Version, b.Offset, b.Version)
		}
	}
	if r := rec.Resets(); len(r) != 0 {
		t.Fatalf("got resets %v with a healthy store, want none", r)
	}
}

// testBrokerUnsubscribe: after Unsubscribe an account's events stop; others'
// keep flowing.
func testBrokerUnsubscribe(t *testing.T, e *env) {
	rec := StartBroker(t, e.b)
	ctx := testCtx(t)
	for _, a := range []string{"A1", "A2"} {
		if err := e.b.Subscribe(ctx, a); err != nil {
			t.Fatalf("Subscribe(%s): %v", a, err)
		}
	}
	e.create(t, session.Info{ID: "s1", AccountID: "A1"})
	e.create(t, session.Info{ID: "s2", AccountID: "A2"})
	rec.Wait(t, "both creations", func(evs []session.Event) bool { return len(evs) >= 2 })
	if err := e.b.Unsubscribe(ctx, "A1"); err != nil {
		t.Fatalf("Unsubscribe(A1): %v", err)
	}
	if err := e.b.Subscribe(ctx, "A3"); err != nil {
		t.Fatalf("Subscribe(A3): %v", err)
	}
	e.patch(t, "s1", "agent", session.Patch{ConsoleData: ptr("unheard")})
	e.patch(t, "s2", "agent", session.Patch{ConsoleData: ptr("heard")})
	last := e.create(t, session.Info{ID: "s3", AccountID: "A3"})
	evs := rec.Wait(t, "the A3 creation", func(evs []session.Event) bool { return len(forAccount(evs, "A3")) > 0 })
	if n := len(forAccount(evs, "A1")); n != 1 {
		t.Fatalf("A1 events: got %d, want only the creation from before Unsubscribe", n)
	}
	a2 := rec.Wait(t, "the A2 patch", func(evs []session.Event) bool { return len(forAccount(evs, "A2")) >= 2 })
	if got := forAccount(a2, "A2"); len(got) != 2 || got[1].Version != 2 {
		t.Fatalf("A2 events: got %d, want 2 ending at version 2", len(got))
	}
	checkEvent(t, forAccount(evs, "A3")[0], last)
}

// testBrokerConcurrent: writers racing on several sessions of two accounts;
// each account's live events still come in stored order, exactly as Replay
// returns them, with nothing lost or duplicated.
func testBrokerConcurrent(t *testing.T, e *env) {
	rec := StartBroker(t, e.b)
	ctx := testCtx(t)
	accts := []string{"A1", "A2"}
	marks := map[string]string{}
	for _, a := range accts {
		if err := e.b.Subscribe(ctx, a); err != nil {
			t.Fatalf("Subscribe(%s): %v", a, err)
		}
		marks[a] = e.mark(t, a)
	}
	const writers, writes = 4, 25
	ids := []string{"a1", "a2", "b1", "b2"}
	for k, id := range ids {
		e.create(t, session.Info{ID: id, AccountID: accts[k/2]})
	}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range writes {
				id := ids[(w+i)%len(ids)]
				data := fmt.Sprintf("w%d-%d", w, i)
				if _, err := e.b.Update(ctx, id, session.Cond{}, "agent", session.Patch{ConsoleData: &data}.Mutation()); err != nil {
					t.Errorf("Update(%s): %v", id, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	total := len(ids) + writers*writes
	evs := rec.Wait(t, "every event", func(evs []session.Event) bool { return len(evs) >= total })
	if len(evs) != total {
		t.Fatalf("live events: got %d, want %d", len(evs), total)
	}
	for _, a := range accts {
		live := forAccount(evs, a)
		checkOrdered(t, live)
		replayed := e.replay(t, a, marks[a])
		if len(replayed) != len(live) {
			t.Fatalf("account %s: got %d live events and %d replayed, want the same", a, len(live), len(replayed))
		}
		for k := range live {
			if live[k].Offset != replayed[k].Offset || live[k].Version != replayed[k].Version || string(live[k].Session) != string(replayed[k].Session) {
				t.Fatalf("account %s event %d: live %s v%d, replayed %s v%d", a, k, live[k].Offset, live[k].Version, replayed[k].Offset, replayed[k].Version)
			}
		}
	}
}
