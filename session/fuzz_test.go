package session

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

// FuzzEnumUnmarshal: any JSON value either parses to a member (whose name
// then parses back to it) or is an EnumError; nothing panics.
func FuzzEnumUnmarshal(f *testing.F) {
	for _, s := range []string{`"Connected"`, `"hold"`, `3`, `"4"`, `null`, `"\u0048old"`, `-1`, `1e3`, `{}`, `"Ringing\u0000"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzEnum[DialState](t, b)
		fuzzEnum[CallState](t, b)
		fuzzEnum[HoldReason](t, b)
		fuzzEnum[QueueState](t, b)
		fuzzEnum[Channel](t, b)
		fuzzEnum[Direction](t, b)
		fuzzEnum[MemberCallState](t, b)
		fuzzEnum[MemberRole](t, b)
	})
}

func fuzzEnum[T enumValue](t *testing.T, b []byte) {
	var v T
	err := json.Unmarshal(b, &v)
	if err != nil {
		var ee *EnumError
		var se *json.SyntaxError
		if !errors.As(err, &ee) && !errors.As(err, &se) {
			t.Fatalf("%T from %q: got %v (%T), want an EnumError or a JSON syntax error", v, b, err, err)
		}
		return
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %T(%d): %v", v, int(v), err)
	}
	var back T
	if err := json.Unmarshal(out, &back); err != nil || back != v {
		t.Fatalf("%T: %q parsed to %d, whose name %s parses to %d (%v)", v, b, int(v), out, int(back), err)
	}
}

// FuzzApplyPatch: any PATCH on any session state either is refused with a
// domain error, leaving nothing changed, or yields a state that obeys every
// write rule of DESIGN §2.
func FuzzApplyPatch(f *testing.F) {
	f.Add(uint8(0b0010), "", uint8(3), uint8(0), uint8(0), uint8(2), uint8(2), uint8(0), false)
	f.Add(uint8(0b0011), "notes", uint8(0), uint8(0), uint8(1), uint8(3), uint8(4), uint8(1), false)
	f.Add(uint8(0b0100), "", uint8(0), uint8(1), uint8(0), uint8(1), uint8(0), uint8(0), false)
	f.Add(uint8(0b1111), "x", uint8(3), uint8(1), uint8(5), uint8(0), uint8(5), uint8(0), true)
	f.Add(uint8(0b0001), "\xff", uint8(0), uint8(0), uint8(0), uint8(2), uint8(0), uint8(0), true)
	f.Fuzz(func(t *testing.T, set uint8, console string, call, hold, queue, curCall, curQueue, curHold uint8, curEnded bool) {
		cur := base()
		cur.CallState = CallState(curCall % 5)
		cur.QueueState = QueueState(curQueue % 6)
		if cur.CallState == CallHold {
			cur.HeldByUserID = "holder"
			cur.HoldReason = HoldReason(curHold % 2)
		}
		if curEnded || cur.CallState == CallDisconnected {
			cur.Ended, cur.DateCompleted = true, t0s
		}
		var p Patch
		if set&1 != 0 {
			p.ConsoleData = &console
		}
		if set&2 != 0 {
			p.CallState = ptr(CallState(call % 5))
		}
		if set&4 != 0 {
			p.HoldReason = ptr(HoldReason(hold % 2))
		}
		if set&8 != 0 {
			p.QueueState = ptr(QueueState(queue % 6))
		}
		lim := Limits{MaxConsoleData: 64, MaxLogEntries: 3}
		before := string(cur.Marshal())
		next, changed, err := Apply(cur, p.Mutation(), "u1", t1, lim)
		if string(cur.Marshal()) != before {
			t.Fatal("Apply changed its input")
		}
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrConflict) {
				t.Fatalf("got %v, want ErrInvalid or ErrConflict", err)
			}
			if changed != nil || string(next.Marshal()) != before {
				t.Fatal("a refused write changed something")
			}
			return
		}
		if len(changed) == 0 {
			if string(next.Marshal()) != before {
				t.Fatal("a write with no changed field changed the state")
			}
			return
		}
		if !slices.Equal(changed, Diff(cur, next)) {
			t.Fatalf("changed: got %v, want %v", changed, Diff(cur, next))
		}
		if next.LastModifiedBy != "u1" || next.DateLastModified != t1s {
			t.Fatal("rule 6: lastModified not set")
		}
		if next.HoldReason != HoldNone && next.CallState != CallHold {
			t.Fatalf("rule 2: holdReason %s while %s", next.HoldReason, next.CallState)
		}
		if (next.CallState == CallHold) != (next.HeldByUserID != "") {
			t.Fatalf("rule 2: callState %s with heldBy %q", next.CallState, next.HeldByUserID)
		}
		if next.CallState == CallDisconnected && (!next.Ended || next.DateCompleted == "") {
			t.Fatal("rule 3: Disconnected but not ended")
		}
		if cur.Ended && (next.CallState != cur.CallState || next.QueueState != cur.QueueState || !next.Ended || next.DateCompleted != cur.DateCompleted) {
			t.Fatal("rule 4: an ended session's state moved")
		}
		moved := cur.CallState != next.CallState || cur.QueueState != next.QueueState || cur.HoldReason != next.HoldReason
		if grew := len(next.Log) - len(cur.Log); moved != (grew == 1) || grew > 1 {
			t.Fatalf("rule 5: moved=%v but the log grew by %d", moved, grew)
		}
		if len(next.Log) > lim.MaxLogEntries || len(next.ConsoleData) > lim.MaxConsoleData {
			t.Fatal("limits exceeded")
		}
		var round Info
		if err := json.Unmarshal(next.Marshal(), &round); err != nil || string(round.Marshal()) != string(next.Marshal()) {
			t.Fatalf("JSON round trip: %v\n got %s\nwant %s", err, round.Marshal(), next.Marshal())
		}
	})
}

// FuzzNormalTime: normalTime is parse-then-FormatTime, whether or not it takes
// its shortcut for a date already in the wire's form.
func FuzzNormalTime(f *testing.F) {
	for _, s := range []string{
		"2026-11-26T16:21:44.120Z", "2026-11-26T16:21:44.12Z", "2026-11-26T17:21:44.120+01:00",
		"2026-11-31T16:21:44.120Z", "2026-11-26T24:00:00.000Z", "2026-11-26t16:21:44.120z",
		"2026-11-26T16:21:44.120000Z", "+026-11-26T16:21:44.120Z", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := normalTime(s)
		ts, err := ParseTime(s)
		if ok != (err == nil) {
			t.Fatalf("normalTime(%q): ok %v, but ParseTime's error is %v", s, ok, err)
		}
		if want := FormatTime(ts); ok && got != want {
			t.Fatalf("normalTime(%q): got %q, want %q", s, got, want)
		}
	})
}
