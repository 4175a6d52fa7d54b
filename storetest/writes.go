package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sessionhub/sessionhub/session"
)

// testCreate: version 1, server fields, Get, ErrExists on a duplicate id (in any
// account) without touching the stored session or emitting an event.
func testCreate(t *testing.T, e *env) {
	ctx := testCtx(t)
	if _, err := e.b.Get(ctx, "nope"); err == nil {
		t.Fatal("Get of a missing session: got no error, want ErrNotFound")
	} else {
		wantErr(t, "Get of a missing session", err, session.ErrNotFound)
	}
	if _, err := e.b.Update(ctx, "nope", session.Cond{}, "u", session.End()); err == nil {
		t.Fatal("Update of a missing session: got no error, want ErrNotFound")
	} else {
		wantErr(t, "Update of a missing session", err, session.ErrNotFound)
	}

	mark := e.mark(t, "A1")
	in := session.Info{ID: "s1", AccountID: "A1", CallState: session.CallRinging, EndpointID: "E1",
		Channel: session.ChannelChat, Direction: session.DirectionOutgoing, ConsoleData: "hello",
		Members: []session.Member{{Identity: "m1", Role: session.RoleCaller, ApplicationData: map[string]string{"k": "v"}}}}
	now := e.now()
	v := e.create(t, in)
	if v.Version != 1 {
		t.Fatalf("Create: got version %d, want 1", v.Version)
	}
	if v.Info.ID != "s1" || v.Info.AccountID != "A1" || v.Info.DateCreated != now || v.Info.DateLastModified != now ||
		v.Info.CreatedBy != creator || v.Info.LastModifiedBy != creator {
		t.Fatalf("Create: server fields: got id=%q account=%q created=%q modified=%q by=%q/%q, want s1 A1 %s %s %s/%s",
			v.Info.ID, v.Info.AccountID, v.Info.DateCreated, v.Info.DateLastModified, v.Info.CreatedBy, v.Info.LastModifiedBy,
			now, now, creator, creator)
	}
	got := e.get(t, "s1")
	if got.Version != 1 {
		t.Fatalf("Get after Create: got version %d, want 1", got.Version)
	}
	equalInfo(t, "Get after Create", got.Info, v.Info)

	dup, err := session.New(session.Info{ID: "s1", AccountID: "A1", CallState: session.CallConnected}, "other", e.clock.Now(), session.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.b.Create(ctx, dup)
	wantErr(t, "Create of an existing id", err, session.ErrExists)
	dup.AccountID = "A2"
	_, err = e.b.Create(ctx, dup)
	wantErr(t, "Create of an existing id in another account", err, session.ErrExists)
	if after := e.get(t, "s1"); after.Version != 1 || after.Info.CallState != session.CallRinging {
		t.Fatalf("after a refused duplicate: got version %d callState %s, want 1 Ringing", after.Version, after.Info.CallState)
	}

	evs := e.replay(t, "A1", mark)
	if len(evs) != 1 {
		t.Fatalf("events after one create and a refused duplicate: got %d, want 1", len(evs))
	}
	checkEvent(t, evs[0], v)
	if evs := e.replay(t, "A2", e.mark(t, "A2")); len(evs) != 0 {
		t.Fatalf("account A2 after a refused create: got %d events, want 0", len(evs))
	}
}

// now is the clock's time as a wire date.
func (e *env) now() string { return session.FormatTime(e.clock.Now()) }

// testCreateEnded: a session created Disconnected is ended and never active.
func testCreateEnded(t *testing.T, e *env) {
	s, err := session.New(session.Info{ID: "gone", AccountID: "A1", CallState: session.CallDisconnected}, creator, e.clock.Now(), session.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.b.Create(testCtx(t), s)
	if err != nil {
		t.Fatalf("Create of an ended session: %v", err)
	}
	if !v.Info.Ended || v.Info.DateCompleted == "" {
		t.Fatalf("Create Disconnected: got ended=%v dateCompleted=%q, want true and set", v.Info.Ended, v.Info.DateCompleted)
	}
	snap, err := e.b.AccountSnapshot(testCtx(t), "A1")
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Sessions) != 0 {
		t.Fatalf("AccountSnapshot after creating an ended session: got %d sessions, want 0", len(snap.Sessions))
	}
	if got := e.get(t, "gone"); !got.Info.Ended {
		t.Fatal("Get: got ended=false, want true")
	}
}

// testNoAliasing: changing what a store returned never changes what it stored.
func testNoAliasing(t *testing.T, e *env) {
	v := e.create(t, session.Info{ID: "s1", AccountID: "A1", Members: []session.Member{{Identity: "m", ApplicationData: map[string]string{"k": "v"}}}})
	v = e.update(t, "s1", "u1", session.AppendLog("first"))
	want := string(v.Info.Marshal())
	v.Info.Log[0].Message = "tampered"
	v.Info.Members[0].ApplicationData["k"] = "tampered"
	v.Info.ConsoleData = "tampered"
	got := e.get(t, "s1")
	if string(got.Info.Marshal()) != want {
		t.Fatalf("stored state changed through a returned value:\n got %s\nwant %s", got.Info.Marshal(), want)
	}
	got.Info.Log[0].Message = "tampered again"
	if again := e.get(t, "s1"); string(again.Info.Marshal()) != want {
		t.Fatalf("stored state changed through a value Get returned:\n got %s\nwant %s", again.Info.Marshal(), want)
	}
}

// testNoOp: a write that changes nothing keeps the version and emits nothing.
func testNoOp(t *testing.T, e *env) {
	v := e.create(t, session.Info{ID: "s1", AccountID: "A1", ConsoleData: "x", CallState: session.CallConnected})
	mark := e.mark(t, "A1")
	e.clock.Advance(time.Second)
	for _, p := range []session.Patch{
		{ConsoleData: ptr("x")},
		{CallState: ptr(session.CallConnected)},
		{QueueState: ptr(session.QueueNone)},
		{HoldReason: ptr(session.HoldNone)},
		{},
	} {
		got := e.patch(t, "s1", "someone-else", p)
		if got.Version != 1 {
			t.Fatalf("no-op patch %+v: got version %d, want 1", p, got.Version)
		}
		equalInfo(t, "no-op patch result", got.Info, v.Info)
	}
	if evs := e.replay(t, "A1", mark); len(evs) != 0 {
		t.Fatalf("no-op writes emitted %d events, want 0", len(evs))
	}
	equalInfo(t, "Get after no-op writes", e.get(t, "s1").Info, v.Info)
}

// testHold: Hold sets heldByUserId (and holdReason), leaving Hold clears both.
func testHold(t *testing.T, e *env) {
	e.create(t, session.Info{ID: "s1", AccountID: "A1", CallState: session.CallConnected})
	v := e.patch(t, "s1", "agent-7", session.Patch{CallState: ptr(session.CallHold), HoldReason: ptr(session.HoldTransferring)})
	if v.Version != 2 || v.Info.HeldByUserID != "agent-7" || v.Info.HoldReason != session.HoldTransferring {
		t.Fatalf("to Hold: got version %d heldBy %q holdReason %s, want 2 agent-7 Transferring", v.Version, v.Info.HeldByUserID, v.Info.HoldReason)
	}
	v = e.patch(t, "s1", "agent-8", session.Patch{HoldReason: ptr(session.HoldNone)})
	if v.Version != 3 || v.Info.HeldByUserID != "agent-7" || v.Info.HoldReason != session.HoldNone {
		t.Fatalf("holdReason while held: got version %d heldBy %q holdReason %s, want 3 agent-7 None", v.Version, v.Info.HeldByUserID, v.Info.HoldReason)
	}
	v = e.patch(t, "s1", "agent-8", session.Patch{HoldReason: ptr(session.HoldTransferring)})
	v = e.patch(t, "s1", "agent-9", session.Patch{CallState: ptr(session.CallConnected)})
	if v.Version != 5 || v.Info.HeldByUserID != "" || v.Info.HoldReason != session.HoldNone {
		t.Fatalf("leaving Hold: got version %d heldBy %q holdReason %s, want 5, empty, None", v.Version, v.Info.HeldByUserID, v.Info.HoldReason)
	}
	_, err := e.b.Update(testCtx(t), "s1", session.Cond{}, "agent-9", session.Patch{HoldReason: ptr(session.HoldTransferring)}.Mutation())
	wantErr(t, "holdReason Transferring while Connected", err, session.ErrConflict)
	if got := e.get(t, "s1"); got.Version != 5 {
		t.Fatalf("after a refused write: got version %d, want 5", got.Version)
	}
}

// testDisconnect: Disconnected ends the session and sets dateCompleted; then
// callState and queueState are final but consoleData stays writable.
func testDisconnect(t *testing.T, e *env) {
	e.create(t, session.Info{ID: "s1", AccountID: "A1", CallState: session.CallConnected, QueueState: session.QueueConnected})
	e.clock.Advance(time.Second)
	ended := e.now()
	v := e.patch(t, "s1", "agent-1", session.Patch{CallState: ptr(session.CallDisconnected)})
	if v.Version != 2 || !v.Info.Ended || v.Info.DateCompleted != ended {
		t.Fatalf("to Disconnected: got version %d ended %v dateCompleted %q, want 2 true %s", v.Version, v.Info.Ended, v.Info.DateCompleted, ended)
	}
	ctx := testCtx(t)
	_, err := e.b.Update(ctx, "s1", session.Cond{}, "agent-1", session.Patch{CallState: ptr(session.CallConnected)}.Mutation())
	wantErr(t, "callState change of an ended session", err, session.ErrConflict)
	_, err = e.b.Update(ctx, "s1", session.Cond{}, "agent-1", session.Patch{QueueState: ptr(session.QueueQueued)}.Mutation())
	wantErr(t, "queueState change of an ended session", err, session.ErrConflict)
	_, err = e.b.Update(ctx, "s1", session.Cond{}, "agent-1", session.Patch{ConsoleData: ptr("x"), CallState: ptr(session.CallRinging)}.Mutation())
	wantErr(t, "consoleData with a callState change of an ended session", err, session.ErrConflict)
	if got := e.get(t, "s1"); got.Version != 2 || got.Info.ConsoleData != "" {
		t.Fatalf("after refused writes: got version %d consoleData %q, want 2 and empty", got.Version, got.Info.ConsoleData)
	}
	e.clock.Advance(time.Second)
	v = e.patch(t, "s1", "agent-2", session.Patch{ConsoleData: ptr("wrap-up notes"), CallState: ptr(session.CallDisconnected)})
	if v.Version != 3 || v.Info.ConsoleData != "wrap-up notes" || v.Info.DateCompleted != ended || v.Info.LastModifiedBy != "agent-2" {
		t.Fatalf("consoleData of an ended session: got version %d consoleData %q dateCompleted %q by %q, want 3 \"wrap-up notes\" %s agent-2",
			v.Version, v.Info.ConsoleData, v.Info.DateCompleted, v.Info.LastModifiedBy, ended)
	}
}

// testStateLog: each write that moves callState, queueState or holdReason adds
// exactly one log entry naming the changes and the caller; others add none.
func testStateLog(t *testing.T, e *env) {
	e.create(t, session.Info{ID: "s1", AccountID: "A1", CallState: session.CallRinging})
	v := e.patch(t, "s1", "agent-3", session.Patch{CallState: ptr(session.CallConnected), QueueState: ptr(session.QueueConnected)})
	if len(v.Info.Log) != 1 {
		t.Fatalf("after one state change: got %d log entries, want 1", len(v.Info.Log))
	}
	msg := v.Info.Log[0].Message
	for _, want := range []string{"callState Ringing -> Connected", "queueState None -> Connected", "agent-3"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("log entry %q: want it to contain %q", msg, want)
		}
	}
	if v.Info.Log[0].Date != v.Info.DateLastModified {
		t.Fatalf("log entry date: got %q, want %q", v.Info.Log[0].Date, v.Info.DateLastModified)
	}
	v = e.patch(t, "s1", "agent-3", session.Patch{ConsoleData: ptr("notes")})
	if len(v.Info.Log) != 1 {
		t.Fatalf("after a consoleData write: got %d log entries, want 1", len(v.Info.Log))
	}
}

// testLogBound: the log keeps its newest 200 entries.
func testLogBound(t *testing.T, e *env) {
	e.create(t, session.Info{ID: "s1", AccountID: "A1", CallState: session.CallRinging})
	full := session.Info{CallState: session.CallRinging}
	for i := range 250 {
		full.Log = append(full.Log, session.LogEntry{Message: fmt.Sprintf("entry %d", i)})
	}
	v := e.update(t, "s1", "svc", session.Replace(full))
	if len(v.Info.Log) != 200 || v.Info.Log[0].Message != "entry 50" {
		t.Fatalf("Replace with 250 log entries: got %d entries starting %q, want 200 starting \"entry 50\"", len(v.Info.Log), v.Info.Log[0].Message)
	}
	v = e.patch(t, "s1", "agent", session.Patch{CallState: ptr(session.CallConnected)})
	if n := len(v.Info.Log); n != 200 || v.Info.Log[0].Message != "entry 51" || !strings.Contains(v.Info.Log[199].Message, "callState") {
		t.Fatalf("state change on a full log: got %d entries, first %q last %q; want 200, \"entry 51\", the callState change",
			n, v.Info.Log[0].Message, v.Info.Log[n-1].Message)
	}
	v = e.update(t, "s1", "agent", session.AppendLog("appended"))
	if n := len(v.Info.Log); n != 200 || v.Info.Log[0].Message != "entry 52" || v.Info.Log[199].Message != "appended" {
		t.Fatalf("AppendLog on a full log: got %d entries, first %q last %q; want 200, \"entry 52\", \"appended\"", n, v.Info.Log[0].Message, v.Info.Log[n-1].Message)
	}
	equalInfo(t, "Get after log writes", e.get(t, "s1").Info, v.Info)
}

// testReplace: PUT replaces the state, resets omitted fields, keeps identity.
func testReplace(t *testing.T, e *env) {
	orig := e.create(t, session.Info{ID: "s1", AccountID: "A1", CallState: session.CallRinging, ConsoleData: "old", EndpointID: "E1"})
	e.clock.Advance(time.Second)
	in := session.Info{
		ID: "other", AccountID: "A9", DateCreated: "2001-01-01T00:00:00.000Z", CreatedBy: "mallory",
		DateLastModified: "2001-01-01T00:00:00.000Z", LastModifiedBy: "mallory",
		CallState: session.CallConnected, AnsweredByID: "agent-5", AnsweredByName: "Ann",
		Members: []session.Member{{Identity: "caller", Role: session.RoleCaller, CallState: session.MemberConnected},
			{Identity: "agent-5", Role: session.RoleAgent, CallState: session.MemberConnected, Muted: true}},
	}
	v := e.update(t, "s1", "svc-1", session.Replace(in))
	if v.Version != 2 {
		t.Fatalf("Replace: got version %d, want 2", v.Version)
	}
	i := v.Info
	if i.ID != "s1" || i.AccountID != "A1" || i.DateCreated != orig.Info.DateCreated || i.CreatedBy != creator {
		t.Fatalf("Replace changed identity: got id=%q account=%q created=%q by %q; want s1 A1 %s %s", i.ID, i.AccountID, i.DateCreated, i.CreatedBy, orig.Info.DateCreated, creator)
	}
	if i.LastModifiedBy != "svc-1" || i.DateLastModified != e.now() {
		t.Fatalf("Replace: got modified %q by %q, want %s by svc-1", i.DateLastModified, i.LastModifiedBy, e.now())
	}
	if i.ConsoleData != "" || i.EndpointID != "" {
		t.Fatalf("Replace kept omitted fields: consoleData %q endpointId %q, want both reset", i.ConsoleData, i.EndpointID)
	}
	if len(i.Members) != 2 || !i.Members[1].Muted || i.AnsweredByName != "Ann" || i.CallState != session.CallConnected {
		t.Fatalf("Replace lost fields: %s", i.Marshal())
	}
	equalInfo(t, "Get after Replace", e.get(t, "s1").Info, i)
	if _, err := e.b.Get(testCtx(t), "other"); err == nil {
		t.Fatal("Replace with another id created that id")
	}
}

// testAppendLog: POST /log appends one entry dated now; an empty one is refused.
func testAppendLog(t *testing.T, e *env) {
	e.create(t, session.Info{ID: "s1", AccountID: "A1"})
	e.clock.Advance(time.Second)
	v := e.update(t, "s1", "agent-1", session.AppendLog("customer asked for a callback"))
	if v.Version != 2 || len(v.Info.Log) != 1 || v.Info.Log[0].Message != "customer asked for a callback" || v.Info.Log[0].Date != e.now() {
		t.Fatalf("AppendLog: got version %d log %+v, want 2 and one entry dated %s", v.Version, v.Info.Log, e.now())
	}
	_, err := e.b.Update(testCtx(t), "s1", session.Cond{}, "agent-1", session.AppendLog("  "))
	wantErr(t, "AppendLog of a blank message", err, session.ErrInvalid)
	if got := e.get(t, "s1"); got.Version != 2 {
		t.Fatalf("after a refused AppendLog: got version %d, want 2", got.Version)
	}
}

// testEndIdempotent: End twice is one change.
func testEndIdempotent(t *testing.T, e *env) {
	e.create(t, session.Info{ID: "s1", AccountID: "A1", CallState: session.CallConnected})
	mark := e.mark(t, "A1")
	v1 := e.update(t, "s1", "svc", session.End())
	e.clock.Advance(time.Second)
	v2 := e.update(t, "s1", "svc2", session.End())
	if v1.Version != 2 || v2.Version != 2 || !v2.Info.Ended {
		t.Fatalf("End twice: got versions %d, %d (ended %v), want 2, 2, true", v1.Version, v2.Version, v2.Info.Ended)
	}
	equalInfo(t, "second End", v2.Info, v1.Info)
	evs := e.replay(t, "A1", mark)
	if len(evs) != 1 || !evs[0].Ended {
		t.Fatalf("End twice: got %d events, want 1 with Ended", len(evs))
	}
}

// testInvalidWrite: a write the rules refuse stores nothing.
func testInvalidWrite(t *testing.T, e *env) {
	e.create(t, session.Info{ID: "s1", AccountID: "A1", ConsoleData: "keep"})
	mark := e.mark(t, "A1")
	big := strings.Repeat("x", 64<<10+1)
	_, err := e.b.Update(testCtx(t), "s1", session.Cond{}, "u", session.Patch{ConsoleData: &big}.Mutation())
	wantErr(t, "consoleData over 64 KiB", err, session.ErrInvalid)
	if got := e.get(t, "s1"); got.Version != 1 || got.Info.ConsoleData != "keep" {
		t.Fatalf("after a refused write: got version %d consoleData %q, want 1 \"keep\"", got.Version, got.Info.ConsoleData)
	}
	if evs := e.replay(t, "A1", mark); len(evs) != 0 {
		t.Fatalf("a refused write emitted %d events", len(evs))
	}
}

// testCondMismatch: If-Match with another version is ErrVersion and changes
// nothing; with the current version it succeeds.
func testCondMismatch(t *testing.T, e *env) {
	e.create(t, session.Info{ID: "s1", AccountID: "A1", ConsoleData: "a"})
	e.patch(t, "s1", "u", session.Patch{ConsoleData: ptr("b")})
	mark := e.mark(t, "A1")
	ctx := testCtx(t)
	for _, ver := range []int64{1, 3, 99} {
		_, err := e.b.Update(ctx, "s1", session.Cond{Version: ver}, "u", session.Patch{ConsoleData: ptr("c")}.Mutation())
		wantErr(t, fmt.Sprintf("If-Match %d on version 2", ver), err, session.ErrVersion)
	}
	if got := e.get(t, "s1"); got.Version != 2 || got.Info.ConsoleData != "b" {
		t.Fatalf("after mismatched writes: got version %d consoleData %q, want 2 \"b\"", got.Version, got.Info.ConsoleData)
	}
	if evs := e.replay(t, "A1", mark); len(evs) != 0 {
		t.Fatalf("mismatched writes emitted %d events", len(evs))
	}
	v, err := e.b.Update(ctx, "s1", session.Cond{Version: 2}, "u", session.Patch{ConsoleData: ptr("c")}.Mutation())
	if err != nil || v.Version != 3 || v.Info.ConsoleData != "c" {
		t.Fatalf("If-Match 2 on version 2: got version %d consoleData %q err %v, want 3 \"c\" nil", v.Version, v.Info.ConsoleData, err)
	}
	_, err = e.b.Update(ctx, "missing", session.Cond{Version: 1}, "u", session.Patch{ConsoleData: ptr("c")}.Mutation())
	wantErr(t, "If-Match on a missing session", err, session.ErrNotFound)
}
