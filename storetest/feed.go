package storetest

import (
	"fmt"
	"testing"

	"github.com/sessionhub/sessionhub/session"
)

// entries indexes a snapshot's sessions by id, checking each is the stored
// version's JSON.
func entries(t testing.TB, snap session.Snapshot) map[string]session.Entry {
	t.Helper()
	out := map[string]session.Entry{}
	for _, en := range snap.Sessions {
		var probe struct {
			ID string `json:"id"`
		}
		if err := jsonUnmarshal(en.Session, &probe); err != nil {
			t.Fatalf("snapshot entry: %v: %s", err, en.Session)
		}
		if _, dup := out[probe.ID]; dup {
			t.Fatalf("snapshot holds session %s twice", probe.ID)
		}
		out[probe.ID] = en
	}
	return out
}

// checkEntry fails unless en is want.
func checkEntry(t testing.TB, en session.Entry, want session.Versioned) {
	t.Helper()
	if en.Version != want.Version || string(en.Session) != string(want.Info.Marshal()) {
		t.Fatalf("snapshot entry: got version %d %s, want version %d %s", en.Version, en.Session, want.Version, want.Info.Marshal())
	}
}

// testAccountSnapshot: only active sessions, each at its current version, and
// an offset after which every event is newer than the snapshot.
func testAccountSnapshot(t *testing.T, e *env) {
	ctx := testCtx(t)
	empty, err := e.b.AccountSnapshot(ctx, "A1")
	if err != nil {
		t.Fatalf("AccountSnapshot of an empty account: %v", err)
	}
	if len(empty.Sessions) != 0 {
		t.Fatalf("AccountSnapshot of an empty account: got %d sessions", len(empty.Sessions))
	}
	if _, err := session.ParseOffset(empty.Offset); err != nil {
		t.Fatalf("AccountSnapshot of an empty account: offset: %v", err)
	}
	s1 := e.create(t, session.Info{ID: "s1", AccountID: "A1"})
	e.create(t, session.Info{ID: "s2", AccountID: "A1"})
	e.create(t, session.Info{ID: "s3", AccountID: "A1"})
	e.create(t, session.Info{ID: "other", AccountID: "A2"})
	s2 := e.patch(t, "s2", "agent", session.Patch{CallState: ptr(session.CallConnected)})
	e.update(t, "s3", "agent", session.End())

	snap, err := e.b.AccountSnapshot(ctx, "A1")
	if err != nil {
		t.Fatal(err)
	}
	got := entries(t, snap)
	if len(got) != 2 {
		t.Fatalf("AccountSnapshot: got %d sessions, want 2 (s1, s2; s3 ended, other is another account's)", len(got))
	}
	checkEntry(t, got["s1"], s1)
	checkEntry(t, got["s2"], s2)

	// Everything from the empty snapshot on is replayable, and nothing after
	// the new snapshot is missing from it.
	if evs := e.replay(t, "A1", empty.Offset); len(evs) != 5 {
		t.Fatalf("Replay from the empty account's offset: got %d events, want 5", len(evs))
	}
	if evs := e.replay(t, "A1", snap.Offset); len(evs) != 0 {
		t.Fatalf("Replay from a fresh snapshot: got %d events, want 0", len(evs))
	}
	s1 = e.patch(t, "s1", "agent", session.Patch{QueueState: ptr(session.QueueQueued)})
	evs := e.replay(t, "A1", snap.Offset)
	if len(evs) != 1 {
		t.Fatalf("Replay after one write: got %d events, want 1", len(evs))
	}
	checkEvent(t, evs[0], s1)
}

// testSessionSnapshot: one session, ended or not, with its account and offset.
func testSessionSnapshot(t *testing.T, e *env) {
	ctx := testCtx(t)
	_, _, err := e.b.SessionSnapshot(ctx, "missing")
	wantErr(t, "SessionSnapshot of a missing session", err, session.ErrNotFound)

	e.create(t, session.Info{ID: "s1", AccountID: "A1"})
	ended := e.update(t, "s1", "agent", session.End())
	acct, snap, err := e.b.SessionSnapshot(ctx, "s1")
	if err != nil {
		t.Fatalf("SessionSnapshot of an ended session: %v", err)
	}
	if acct != "A1" || len(snap.Sessions) != 1 {
		t.Fatalf("SessionSnapshot: got account %q and %d sessions, want A1 and 1", acct, len(snap.Sessions))
	}
	checkEntry(t, snap.Sessions[0], ended)
	if evs := e.replay(t, "A1", snap.Offset); len(evs) != 0 {
		t.Fatalf("Replay from a fresh session snapshot: got %d events, want 0", len(evs))
	}
	v := e.patch(t, "s1", "agent", session.Patch{ConsoleData: ptr("notes")})
	evs := e.replay(t, "A1", snap.Offset)
	if len(evs) != 1 {
		t.Fatalf("Replay after one write: got %d events, want 1", len(evs))
	}
	checkEvent(t, evs[0], v)
}

// testReplay: Replay(since) returns exactly the events after since, in order,
// creation and ending included.
func testReplay(t *testing.T, e *env) {
	mark := e.mark(t, "A1")
	var want []session.Versioned
	want = append(want, e.create(t, session.Info{ID: "s1", AccountID: "A1"}))
	e.create(t, session.Info{ID: "x", AccountID: "A2"})
	want = append(want, e.create(t, session.Info{ID: "s2", AccountID: "A1"}))
	want = append(want, e.patch(t, "s1", "agent", session.Patch{CallState: ptr(session.CallConnected)}))
	e.patch(t, "x", "agent", session.Patch{CallState: ptr(session.CallConnected)})
	want = append(want, e.patch(t, "s2", "agent", session.Patch{ConsoleData: ptr("n")}))
	want = append(want, e.update(t, "s1", "agent", session.End()))
	want = append(want, e.update(t, "s1", "agent", session.AppendLog("after the end")))

	evs := e.replay(t, "A1", mark)
	if len(evs) != len(want) {
		t.Fatalf("Replay: got %d events, want %d", len(evs), len(want))
	}
	checkOrdered(t, evs)
	for k := range evs {
		checkEvent(t, evs[k], want[k])
	}
	if !evs[4].Ended {
		t.Fatal("the ending change: got Ended false, want true")
	}
	if !contains(evs[2].Changed, "callState") || contains(evs[3].Changed, "callState") || !contains(evs[3].Changed, "consoleData") {
		t.Fatalf("Changed: got %v and %v, want callState in the first and consoleData (not callState) in the second", evs[2].Changed, evs[3].Changed)
	}
	for k := range evs {
		rest := e.replay(t, "A1", evs[k].Offset)
		if len(rest) != len(evs)-k-1 {
			t.Fatalf("Replay after event %d: got %d events, want %d", k, len(rest), len(evs)-k-1)
		}
		for j := range rest {
			if rest[j].Offset != evs[k+1+j].Offset || rest[j].Version != evs[k+1+j].Version {
				t.Fatalf("Replay after event %d, event %d: got %s v%d, want %s v%d", k, j, rest[j].Offset, rest[j].Version, evs[k+1+j].Offset, evs[k+1+j].Version)
			}
		}
	}
	if other := e.replay(t, "A2", e.mark(t, "A2")); len(other) != 0 {
		t.Fatalf("Replay of A2 from its current offset: got %d events, want 0", len(other))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// testReplayBadOffsets: garbage and other epochs are ErrOffsetGone.
func testReplayBadOffsets(t *testing.T, e *env) {
	e.create(t, session.Info{ID: "s1", AccountID: "A1"})
	mark := e.mark(t, "A1")
	o, err := session.ParseOffset(mark)
	if err != nil {
		t.Fatal(err)
	}
	other := o
	other.Epoch += "x"
	for _, since := range []string{"", "garbage", ":", "x:", o.Epoch, o.Epoch + ":", o.Epoch + ":abc", o.Epoch + ":1", o.Epoch + ":-1-0",
		other.String(), "0-0", o.StreamID(), "<script>:1-0"} {
		_, err := e.b.Replay(testCtx(t), "A1", since)
		wantErr(t, fmt.Sprintf("Replay(%q)", since), err, session.ErrOffsetGone)
	}
}

// testStreamTrim: with StreamMax 10, the newest events stay replayable and an
// offset from before the trimmed ones is ErrOffsetGone.
func testStreamTrim(t *testing.T, e *env) {
	const writes = 300
	start := e.mark(t, "A1")
	e.create(t, session.Info{ID: "s1", AccountID: "A1"})
	first := e.mark(t, "A1")
	var recent string
	var tail []session.Versioned
	for i := range writes {
		if i == writes-5 {
			recent = e.mark(t, "A1")
		}
		v := e.patch(t, "s1", "u", session.Patch{ConsoleData: ptr(fmt.Sprintf("w%d", i))})
		if i >= writes-5 {
			tail = append(tail, v)
		}
	}
	for _, since := range []string{start, first} {
		_, err := e.b.Replay(testCtx(t), "A1", since)
		wantErr(t, "Replay from before 300 events with StreamMax 10", err, session.ErrOffsetGone)
	}
	evs := e.replay(t, "A1", recent)
	if len(evs) != len(tail) {
		t.Fatalf("Replay of the last 5 events: got %d, want %d", len(evs), len(tail))
	}
	for k := range evs {
		checkEvent(t, evs[k], tail[k])
	}
	snap, err := e.b.AccountSnapshot(testCtx(t), "A1")
	if err != nil || len(snap.Sessions) != 1 || snap.Sessions[0].Version != writes+1 {
		t.Fatalf("AccountSnapshot after trimming: got %+v err %v, want s1 at version %d", snap.Sessions, err, writes+1)
	}
}
