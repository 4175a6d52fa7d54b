// Package storetest is the contract suite every session store passes (DESIGN §8:
// one contract suite runs against every store). It drives a store only through
// session.Store, session.Feed and session.Broker, so memstore and redisstore are
// held to exactly the same semantics.
//
// A store's test calls Run with a function that opens a fresh, empty, isolated
// backend configured as the Options say:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, o storetest.Options) storetest.Backend {
//			s := memstore.New(memstore.Config{StreamMax: o.StreamMax, Now: o.Now})
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sessionhub/sessionhub/session"
)

// Backend is what a store offers: the store itself, the hub's read side and the
// live broker.
type Backend interface {
	session.Store
	session.Feed
	session.Broker
}

// Options configure the backend one test needs. open must honour both fields.
type Options struct {
	// StreamMax bounds each account's change log (the recovery window); 0 means
	// the store's default. Trimming may be approximate (Redis MAXLEN ~), but
	// the newest StreamMax events must stay retained.
	StreamMax int
	// Now is the store's clock (Config.Now). It starts at the real time and
	// moves only when the suite advances it. Never nil.
	Now func() time.Time
}

// Opener opens a fresh, empty, isolated backend; it registers its own cleanup
// with t.Cleanup.
type Opener func(t *testing.T, o Options) Backend

// Run runs the whole contract suite against the backends open makes. Each
// subtest opens its own backend.
func Run(t *testing.T, open Opener) {
	t.Run("Create", func(t *testing.T) { testCreate(t, newEnv(t, open, 0)) })
	t.Run("CreateEnded", func(t *testing.T) { testCreateEnded(t, newEnv(t, open, 0)) })
	t.Run("NoCopyAliasing", func(t *testing.T) { testNoAliasing(t, newEnv(t, open, 0)) })
	t.Run("NoOpWrite", func(t *testing.T) { testNoOp(t, newEnv(t, open, 0)) })
	t.Run("Hold", func(t *testing.T) { testHold(t, newEnv(t, open, 0)) })
	t.Run("DisconnectEnds", func(t *testing.T) { testDisconnect(t, newEnv(t, open, 0)) })
	t.Run("LogOnStateChange", func(t *testing.T) { testStateLog(t, newEnv(t, open, 0)) })
	t.Run("LogKeepsNewest", func(t *testing.T) { testLogBound(t, newEnv(t, open, 0)) })
	t.Run("Replace", func(t *testing.T) { testReplace(t, newEnv(t, open, 0)) })
	t.Run("AppendLog", func(t *testing.T) { testAppendLog(t, newEnv(t, open, 0)) })
	t.Run("EndIdempotent", func(t *testing.T) { testEndIdempotent(t, newEnv(t, open, 0)) })
	t.Run("InvalidWrite", func(t *testing.T) { testInvalidWrite(t, newEnv(t, open, 0)) })
	t.Run("CondMismatch", func(t *testing.T) { testCondMismatch(t, newEnv(t, open, 0)) })
	t.Run("ConcurrentPatches", func(t *testing.T) { testConcurrentPatches(t, newEnv(t, open, 0)) })
	t.Run("ConcurrentCond", func(t *testing.T) { testConcurrentCond(t, newEnv(t, open, 0)) })
	t.Run("ListFilters", func(t *testing.T) { testListFilters(t, newEnv(t, open, 0)) })
	t.Run("ListPagingSorting", func(t *testing.T) { testListPaging(t, newEnv(t, open, 0)) })
	t.Run("AccountSnapshot", func(t *testing.T) { testAccountSnapshot(t, newEnv(t, open, 0)) })
	t.Run("SessionSnapshot", func(t *testing.T) { testSessionSnapshot(t, newEnv(t, open, 0)) })
	t.Run("Replay", func(t *testing.T) { testReplay(t, newEnv(t, open, 0)) })
	t.Run("ReplayBadOffsets", func(t *testing.T) { testReplayBadOffsets(t, newEnv(t, open, 0)) })
	t.Run("StreamTrim", func(t *testing.T) { testStreamTrim(t, newEnv(t, open, 10)) })
	t.Run("Broker", func(t *testing.T) { testBroker(t, newEnv(t, open, 0)) })
	t.Run("BrokerUnsubscribe", func(t *testing.T) { testBrokerUnsubscribe(t, newEnv(t, open, 0)) })
	t.Run("BrokerConcurrent", func(t *testing.T) { testBrokerConcurrent(t, newEnv(t, open, 0)) })
}

// Clock is a manual clock: it starts at the real time (so a store that derives
// expiry from it stays sane) and moves only when advanced.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at the current time, truncated to milliseconds.
func NewClock() *Clock { return &Clock{t: time.Now().UTC().Truncate(time.Millisecond)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is one subtest's backend and clock.
type env struct {
	b     Backend
	clock *Clock
}

func newEnv(t *testing.T, open Opener, streamMax int) *env {
	t.Helper()
	c := NewClock()
	b := open(t, Options{StreamMax: streamMax, Now: c.Now})
	if b == nil {
		t.Fatal("open returned a nil Backend")
	}
	return &env{b: b, clock: c}
}

// ctx returns a context that ends with the test, bounded so a hung store fails
// the test rather than the whole run.
func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// creator is the user id the suite creates sessions as.
const creator = "creator-1"

// create prepares in with session.New at the clock's time and stores it.
func (e *env) create(t testing.TB, in session.Info) session.Versioned {
	t.Helper()
	if in.CallState == session.CallDisconnected && !in.Ended {
		// Tests name Ringing explicitly when they want a live session; the
		// zero value would end it, so default it as the API does.
		in.CallState = session.CallRinging
	}
	s, err := session.New(in, creator, e.clock.Now(), session.Limits{})
	if err != nil {
		t.Fatalf("session.New(%s): %v", in.ID, err)
	}
	v, err := e.b.Create(testCtx(t), s)
	if err != nil {
		t.Fatalf("Create(%s): %v", in.ID, err)
	}
	checkJSON(t, "Create", v)
	return v
}

// update runs a write that must succeed.
func (e *env) update(t testing.TB, id, actor string, m session.Mutation) session.Versioned {
	t.Helper()
	v, err := e.b.Update(testCtx(t), id, session.Cond{}, actor, m)
	if err != nil {
		t.Fatalf("Update(%s) by %s: %v", id, actor, err)
	}
	checkJSON(t, "Update", v)
	return v
}

// patch runs a Patch that must succeed.
func (e *env) patch(t testing.TB, id, actor string, p session.Patch) session.Versioned {
	t.Helper()
	return e.update(t, id, actor, p.Mutation())
}

// get reads a session that must exist.
func (e *env) get(t testing.TB, id string) session.Versioned {
	t.Helper()
	v, err := e.b.Get(testCtx(t), id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	checkJSON(t, "Get", v)
	return v
}

// checkJSON fails when the encoding a store hands back with v (which the API
// answers with) is not v's Info.
func checkJSON(t testing.TB, op string, v session.Versioned) {
	t.Helper()
	if g, w := string(v.Marshal()), string(v.Info.Marshal()); g != w {
		t.Fatalf("%s: Versioned.JSON is stale:\n got %s\nwant %s", op, g, w)
	}
}

// mark returns the account's current offset, for a later Replay.
func (e *env) mark(t testing.TB, account string) string {
	t.Helper()
	snap, err := e.b.AccountSnapshot(testCtx(t), account)
	if err != nil {
		t.Fatalf("AccountSnapshot(%s): %v", account, err)
	}
	if _, err := session.ParseOffset(snap.Offset); err != nil {
		t.Fatalf("AccountSnapshot(%s) offset: %v", account, err)
	}
	return snap.Offset
}

// replay returns the account's events after since; it must succeed.
func (e *env) replay(t testing.TB, account, since string) []session.Event {
	t.Helper()
	evs, err := e.b.Replay(testCtx(t), account, since)
	if err != nil {
		t.Fatalf("Replay(%s, %s): %v", account, since, err)
	}
	return evs
}

// wantErr fails unless err is kind.
func wantErr(t testing.TB, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("%s: got error %v, want %v", what, err, kind)
	}
}

// ptr returns a pointer to v, for Patch fields.
func ptr[T any](v T) *T { return &v }

// equalInfo fails unless got and want are the same session, compared by JSON
// (the form the wire and the events carry).
func equalInfo(t testing.TB, what string, got, want session.Info) {
	t.Helper()
	if g, w := string(got.Marshal()), string(want.Marshal()); g != w {
		t.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}
