package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

var (
	t0   = time.Date(2026, 11, 26, 16, 21, 44, 120_000_000, time.UTC)
	t0s  = "2026-11-26T16:21:44.120Z"
	t1   = t0.Add(time.Minute)
	t1s  = "2026-11-26T16:22:44.120Z"
	errX = errors.New("mutation failed")
)

func ptr[T any](v T) *T { return &v }

// base is a live session as New would store it.
func base() Info {
	return Info{ID: "s1", AccountID: "A1", CallState: CallConnected, QueueState: QueueConnected,
		DateCreated: t0s, DateLastModified: t0s, CreatedBy: "svc", LastModifiedBy: "svc"}
}

func with(f func(*Info)) Info {
	i := base()
	f(&i)
	return i
}

func ended() Info {
	return with(func(i *Info) { i.CallState, i.Ended, i.DateCompleted = CallDisconnected, true, t0s })
}

func TestApply(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cur     Info
		m       Mutation
		err     error    // the kind wanted, nil for success
		changed []string // nil: the write changes nothing
		check   func(t *testing.T, next Info)
	}{
		{name: "empty patch", cur: base(), m: Patch{}.Mutation()},
		{name: "same consoleData", cur: with(func(i *Info) { i.ConsoleData = "x" }), m: Patch{ConsoleData: ptr("x")}.Mutation()},
		{name: "same callState", cur: base(), m: Patch{CallState: ptr(CallConnected)}.Mutation()},
		{name: "holdReason None while not held", cur: base(), m: Patch{HoldReason: ptr(HoldNone)}.Mutation()},
		{name: "Disconnected again", cur: ended(), m: End()},
		{
			name: "consoleData", cur: base(), m: Patch{ConsoleData: ptr("notes")}.Mutation(),
			changed: []string{"consoleData", "dateLastModified", "lastModifiedBy"},
			check: func(t *testing.T, n Info) {
				if n.ConsoleData != "notes" || n.Log != nil || n.DateLastModified != t1s || n.LastModifiedBy != "u1" {
					t.Fatalf("got %+v", n)
				}
			},
		},
		{
			name: "empty consoleData clears it", cur: with(func(i *Info) { i.ConsoleData = "x" }), m: Patch{ConsoleData: ptr("")}.Mutation(),
			changed: []string{"consoleData", "dateLastModified", "lastModifiedBy"},
		},
		{
			name: "callState logs", cur: with(func(i *Info) { i.CallState = CallRinging }), m: Patch{CallState: ptr(CallConnected)}.Mutation(),
			changed: []string{"callState", "log", "dateLastModified", "lastModifiedBy"},
			check: func(t *testing.T, n Info) {
				if len(n.Log) != 1 || n.Log[0].Message != "callState Ringing -> Connected (by u1)" || n.Log[0].Date != t1s {
					t.Fatalf("log: got %+v", n.Log)
				}
			},
		},
		{
			name: "callState and queueState log once", cur: base(), m: Patch{CallState: ptr(CallPassive), QueueState: ptr(QueueDisconnected)}.Mutation(),
			changed: []string{"callState", "queueState", "log", "dateLastModified", "lastModifiedBy"},
			check: func(t *testing.T, n Info) {
				if len(n.Log) != 1 || n.Log[0].Message != "callState Connected -> Passive, queueState Connected -> Disconnected (by u1)" {
					t.Fatalf("log: got %+v", n.Log)
				}
			},
		},
		{
			name: "to Hold", cur: base(), m: Patch{CallState: ptr(CallHold)}.Mutation(),
			changed: []string{"callState", "heldByUserId", "log", "dateLastModified", "lastModifiedBy"},
			check: func(t *testing.T, n Info) {
				if n.HeldByUserID != "u1" || n.HoldReason != HoldNone {
					t.Fatalf("got heldBy %q holdReason %s, want u1 None", n.HeldByUserID, n.HoldReason)
				}
			},
		},
		{
			name: "to Hold transferring", cur: base(), m: Patch{CallState: ptr(CallHold), HoldReason: ptr(HoldTransferring)}.Mutation(),
			changed: []string{"callState", "heldByUserId", "holdReason", "log", "dateLastModified", "lastModifiedBy"},
			check: func(t *testing.T, n Info) {
				if n.HeldByUserID != "u1" || n.HoldReason != HoldTransferring || !strings.Contains(n.Log[0].Message, "holdReason None -> Transferring") {
					t.Fatalf("got %+v", n)
				}
			},
		},
		{
			name: "holdReason while held keeps the holder",
			cur:  with(func(i *Info) { i.CallState, i.HeldByUserID = CallHold, "agent-0" }), m: Patch{HoldReason: ptr(HoldTransferring)}.Mutation(),
			changed: []string{"holdReason", "log", "dateLastModified", "lastModifiedBy"},
			check: func(t *testing.T, n Info) {
				if n.HeldByUserID != "agent-0" {
					t.Fatalf("heldBy: got %q, want agent-0", n.HeldByUserID)
				}
			},
		},
		{
			name: "Hold again is a no-op", cur: with(func(i *Info) { i.CallState, i.HeldByUserID, i.HoldReason = CallHold, "agent-0", HoldTransferring }),
			m: Patch{CallState: ptr(CallHold)}.Mutation(),
		},
		{
			name: "leaving Hold clears", cur: with(func(i *Info) { i.CallState, i.HeldByUserID, i.HoldReason = CallHold, "agent-0", HoldTransferring }),
			m:       Patch{CallState: ptr(CallConnected)}.Mutation(),
			changed: []string{"callState", "heldByUserId", "holdReason", "log", "dateLastModified", "lastModifiedBy"},
			check: func(t *testing.T, n Info) {
				if n.HeldByUserID != "" || n.HoldReason != HoldNone {
					t.Fatalf("got heldBy %q holdReason %s, want empty None", n.HeldByUserID, n.HoldReason)
				}
			},
		},
		{name: "holdReason without Hold", cur: base(), m: Patch{HoldReason: ptr(HoldTransferring)}.Mutation(), err: ErrConflict},
		{
			name: "Disconnected ends", cur: base(), m: End(),
			changed: []string{"callState", "dateCompleted", "ended", "log", "dateLastModified", "lastModifiedBy"},
			check: func(t *testing.T, n Info) {
				if !n.Ended || n.DateCompleted != t1s {
					t.Fatalf("got ended %v dateCompleted %q, want true %s", n.Ended, n.DateCompleted, t1s)
				}
			},
		},
		{
			name: "Disconnected keeps a dateCompleted already set", cur: with(func(i *Info) { i.DateCompleted = t0s }), m: End(),
			changed: []string{"callState", "ended", "log", "dateLastModified", "lastModifiedBy"},
		},
		{name: "ended refuses callState", cur: ended(), m: Patch{CallState: ptr(CallRinging)}.Mutation(), err: ErrConflict},
		{name: "ended refuses queueState", cur: ended(), m: Patch{QueueState: ptr(QueueQueued)}.Mutation(), err: ErrConflict},
		{name: "ended refuses reopening", cur: ended(), m: func(i *Info, _ string) error { i.Ended = false; return nil }, err: ErrConflict},
		{
			name: "ended takes consoleData", cur: ended(), m: Patch{ConsoleData: ptr("wrap-up"), CallState: ptr(CallDisconnected)}.Mutation(),
			changed: []string{"consoleData", "dateLastModified", "lastModifiedBy"},
		},
		{
			name: "PUT of an ended session keeps dateCompleted", cur: ended(),
			m:       Replace(Info{CallState: CallDisconnected, QueueState: QueueConnected, Ended: true, Outcome: "done"}),
			changed: []string{"outcome", "dateLastModified", "lastModifiedBy"},
			check: func(t *testing.T, n Info) {
				if n.DateCompleted != t0s || n.QueueState != QueueConnected {
					t.Fatalf("got dateCompleted %q queueState %s, want %s Connected", n.DateCompleted, n.QueueState, t0s)
				}
			},
		},
		{
			name: "Replace keeps identity and resets the rest",
			cur:  with(func(i *Info) { i.ConsoleData, i.EndpointID = "x", "E1" }),
			m: Replace(Info{ID: "evil", AccountID: "A9", DateCreated: "2001-01-01T00:00:00Z", CreatedBy: "mallory", LastModifiedBy: "mallory",
				CallState: CallConnected, QueueState: QueueConnected, AnsweredByID: "a5",
				Log: []LogEntry{{Date: "2026-11-26T17:00:00+01:00", Message: "hi"}}}),
			changed: []string{"endpointId", "consoleData", "log", "answeredById", "dateLastModified", "lastModifiedBy"},
			check: func(t *testing.T, n Info) {
				if n.ID != "s1" || n.AccountID != "A1" || n.DateCreated != t0s || n.CreatedBy != "svc" || n.LastModifiedBy != "u1" {
					t.Fatalf("identity: got %+v", n)
				}
				if n.Log[0].Date != "2026-11-26T16:00:00.000Z" {
					t.Fatalf("log date: got %q, want it normalised to UTC with milliseconds", n.Log[0].Date)
				}
			},
		},
		{name: "Replace with a bad dateCompleted", cur: base(), m: Replace(Info{CallState: CallConnected, DateCompleted: "yesterday"}), err: ErrInvalid},
		{name: "Replace with a bad log date", cur: base(), m: Replace(Info{CallState: CallConnected, Log: []LogEntry{{Date: "soon", Message: "m"}}}), err: ErrInvalid},
		{
			name: "AppendLog", cur: base(), m: AppendLog("called back"),
			changed: []string{"log", "dateLastModified", "lastModifiedBy"},
			check: func(t *testing.T, n Info) {
				if len(n.Log) != 1 || n.Log[0] != (LogEntry{Date: t1s, Message: "called back"}) {
					t.Fatalf("log: got %+v", n.Log)
				}
			},
		},
		{name: "AppendLog blank", cur: base(), m: AppendLog(" \t\n"), err: ErrInvalid},
		{name: "AppendLog too long", cur: base(), m: AppendLog(strings.Repeat("x", 4<<10+1)), err: ErrInvalid},
		{
			name: "log keeps the newest 200",
			cur: with(func(i *Info) {
				for k := range 200 {
					i.Log = append(i.Log, LogEntry{Date: t0s, Message: fmt.Sprint(k)})
				}
			}),
			m: AppendLog("new"), changed: []string{"log", "dateLastModified", "lastModifiedBy"},
			check: func(t *testing.T, n Info) {
				if len(n.Log) != 200 || n.Log[0].Message != "1" || n.Log[199].Message != "new" {
					t.Fatalf("log: got %d entries from %q to %q", len(n.Log), n.Log[0].Message, n.Log[len(n.Log)-1].Message)
				}
			},
		},
		{name: "consoleData too long", cur: base(), m: Patch{ConsoleData: ptr(strings.Repeat("x", 64<<10+1))}.Mutation(), err: ErrInvalid},
		{
			name: "consoleData at the limit", cur: base(), m: Patch{ConsoleData: ptr(strings.Repeat("x", 64<<10))}.Mutation(),
			changed: []string{"consoleData", "dateLastModified", "lastModifiedBy"},
		},
		{name: "consoleData not UTF-8", cur: base(), m: Patch{ConsoleData: ptr("a\xffb")}.Mutation(), err: ErrInvalid},
		{name: "mutation error", cur: base(), m: func(*Info, string) error { return errX }, err: errX},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := string(tc.cur.Marshal())
			next, changed, err := Apply(tc.cur, tc.m, "u1", t1, Limits{})
			if got := string(tc.cur.Marshal()); got != before {
				t.Fatalf("Apply changed its input:\n got %s\nwant %s", got, before)
			}
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("got error %v, want %v", err, tc.err)
				}
				if string(next.Marshal()) != before || changed != nil {
					t.Fatalf("on error: got next %s changed %v, want the current state and nothing changed", next.Marshal(), changed)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if strings.Join(changed, ",") != strings.Join(tc.changed, ",") {
				t.Fatalf("changed: got %v, want %v", changed, tc.changed)
			}
			if tc.changed == nil && string(next.Marshal()) != before {
				t.Fatalf("a no-op write: got %s, want the current state", next.Marshal())
			}
			if tc.check != nil {
				tc.check(t, next)
			}
		})
	}
}

// TestApplyValidationNamesFields: a refused write lists each bad field in
// PascalCase, as ResponseStatus.Errors carries it.
func TestApplyValidationNamesFields(t *testing.T) {
	in := Info{CallState: CallConnected, ConsoleData: strings.Repeat("x", 10), DateCompleted: "nope"}
	_, _, err := Apply(base(), Replace(in), "u1", t1, Limits{MaxConsoleData: 5})
	var v *ValidationError
	if !errors.As(err, &v) || len(v.Fields) != 2 || v.Fields[0].Field != "ConsoleData" || v.Fields[0].Code != CodeTooLong || v.Fields[1].Field != "DateCompleted" {
		t.Fatalf("got %v (%+v), want ConsoleData MaximumLength and DateCompleted", err, v)
	}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     Info
		fields []string // bad fields, in order; nil for success
		check  func(t *testing.T, s Info)
	}{
		{
			name: "server fields", in: Info{ID: "s1", AccountID: "A1", CallState: CallRinging, CreatedBy: "mallory", DateCreated: "2001-01-01T00:00:00Z"},
			check: func(t *testing.T, s Info) {
				if s.DateCreated != t0s || s.DateLastModified != t0s || s.CreatedBy != "u1" || s.LastModifiedBy != "u1" || s.Ended || s.HeldByUserID != "" {
					t.Fatalf("got %+v", s)
				}
			},
		},
		{
			name: "created on Hold", in: Info{ID: "s1", AccountID: "A1", CallState: CallHold, HoldReason: HoldTransferring, HeldByUserID: "x"},
			check: func(t *testing.T, s Info) {
				if s.HeldByUserID != "u1" || s.HoldReason != HoldTransferring {
					t.Fatalf("got heldBy %q holdReason %s", s.HeldByUserID, s.HoldReason)
				}
			},
		},
		{
			name: "created Disconnected", in: Info{ID: "s1", AccountID: "A1", CallState: CallDisconnected},
			check: func(t *testing.T, s Info) {
				if !s.Ended || s.DateCompleted != t0s {
					t.Fatalf("got ended %v dateCompleted %q", s.Ended, s.DateCompleted)
				}
			},
		},
		{
			name: "created ended keeps its dateCompleted", in: Info{ID: "s1", AccountID: "A1", CallState: CallConnected, Ended: true, DateCompleted: "2026-11-26T10:00:00+00:00"},
			check: func(t *testing.T, s Info) {
				if s.DateCompleted != "2026-11-26T10:00:00.000Z" {
					t.Fatalf("dateCompleted: got %q", s.DateCompleted)
				}
			},
		},
		{
			name: "log trimmed", in: Info{ID: "s1", AccountID: "A1", CallState: CallRinging, Log: make([]LogEntry, 250)},
			check: func(t *testing.T, s Info) {
				if len(s.Log) != 200 {
					t.Fatalf("log: got %d entries, want 200", len(s.Log))
				}
			},
		},
		{name: "no ids", in: Info{CallState: CallRinging}, fields: []string{"Id", "AccountId"}},
		{name: "bad id", in: Info{ID: "a b", AccountID: "A1"}, fields: []string{"Id"}},
		{name: "json suffix", in: Info{ID: "s1.JSON", AccountID: "A1"}, fields: []string{"Id"}},
		{name: "long account", in: Info{ID: "s1", AccountID: strings.Repeat("a", 129)}, fields: []string{"AccountId"}},
		{name: "holdReason without Hold", in: Info{ID: "s1", AccountID: "A1", CallState: CallRinging, HoldReason: HoldTransferring}, fields: []string{"HoldReason"}},
		{name: "everything wrong", in: Info{ID: "<", AccountID: "", ConsoleData: strings.Repeat("x", 64<<10+1), DateCompleted: "x"},
			fields: []string{"Id", "AccountId", "ConsoleData", "DateCompleted"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.in, "u1", t0, Limits{})
			if tc.fields != nil {
				var v *ValidationError
				if !errors.As(err, &v) || !errors.Is(err, ErrInvalid) {
					t.Fatalf("got %v, want a ValidationError", err)
				}
				var got []string
				for _, f := range v.Fields {
					got = append(got, f.Field)
				}
				if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
					t.Fatalf("bad fields: got %v, want %v", got, tc.fields)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, s)
		})
	}
}

func TestValidID(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"abc", true}, {"A-Z_a.z:0@9", true}, {strings.Repeat("x", 128), true},
		{"", false}, {strings.Repeat("x", 129), false}, {"a b", false}, {"a/b", false}, {"a%2F", false},
		{"é", false}, {"x.json", false}, {"x.Json", false}, {"x.jsonp", true}, {"{a}", false}, {"a\x00", false},
	} {
		if got := ValidID(tc.id, 128); got != tc.want {
			t.Errorf("ValidID(%q): got %v, want %v", tc.id, got, tc.want)
		}
	}
}

func TestFormatTime(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 26, 16, 21, 44, 120_000_000, time.UTC), "2026-11-26T16:21:44.120Z"},
		{time.Date(2026, 11, 26, 16, 21, 44, 0, time.UTC), "2026-11-26T16:21:44.000Z"},
		{time.Date(2026, 11, 26, 17, 21, 44, 999_999_999, time.FixedZone("CET", 3600)), "2026-11-26T16:21:44.999Z"},
	} {
		if got := FormatTime(tc.in); got != tc.want {
			t.Errorf("FormatTime(%v): got %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestOffset(t *testing.T) {
	o := Offset{Epoch: "e1", Ms: 1700000000000, Seq: 3}
	got, err := ParseOffset(o.String())
	if err != nil || got != o {
		t.Fatalf("round trip of %s: got %+v %v", o, got, err)
	}
	if o.StreamID() != "1700000000000-3" {
		t.Fatalf("StreamID: got %s", o.StreamID())
	}
	if !o.Less(Offset{Ms: o.Ms, Seq: 4}) || !o.Less(Offset{Ms: o.Ms + 1}) || o.Less(o) || o.Less(Offset{Ms: o.Ms - 1, Seq: 9}) {
		t.Fatal("Less: wrong order")
	}
	for _, bad := range []string{"", "e1", ":1-0", "e1:", "e1:1", "e1:a-0", "e1:1-b", "e1:-1-0", "e1:1-0-0", strings.Repeat("e", 300) + ":1-0"} {
		if _, err := ParseOffset(bad); err == nil {
			t.Errorf("ParseOffset(%q): got no error", bad)
		}
	}
}

// TestRunUpdate drives the shared write loop with a fake store.
func TestRunUpdate(t *testing.T) {
	ctx := context.Background()
	now := func() time.Time { return t1 }
	type fake struct {
		cur    Versioned
		stale  int // how many stores answer ErrStale first
		stores int
	}
	run := func(f *fake, c Cond, m Mutation) (Versioned, error) {
		return RunUpdate(ctx, c, "u1", m, Limits{}, now,
			func(context.Context) (Versioned, error) { return f.cur, nil },
			func(_ context.Context, prev, next Versioned, _ []string) error {
				f.stores++
				if f.stale > 0 {
					f.stale--
					f.cur.Version++ // someone else wrote
					return ErrStale
				}
				if prev.Version != f.cur.Version || next.Version != prev.Version+1 {
					t.Fatalf("store: prev %d next %d, current %d", prev.Version, next.Version, f.cur.Version)
				}
				f.cur = next
				return nil
			})
	}
	edit := Patch{ConsoleData: ptr("x")}.Mutation()

	f := &fake{cur: Versioned{Version: 4, Info: base()}}
	if v, err := run(f, Cond{}, edit); err != nil || v.Version != 5 || f.stores != 1 {
		t.Fatalf("plain write: got v%d %v after %d stores, want v5 after 1", v.Version, err, f.stores)
	}
	if v, err := run(f, Cond{}, edit); err != nil || v.Version != 5 || f.stores != 1 {
		t.Fatalf("no-op write: got v%d %v after %d stores, want v5 and no store", v.Version, err, f.stores)
	}
	f = &fake{cur: Versioned{Version: 4, Info: base()}, stale: 3}
	if v, err := run(f, Cond{}, edit); err != nil || v.Version != 8 || f.stores != 4 {
		t.Fatalf("write racing 3 others: got v%d %v after %d stores, want v8 after 4", v.Version, err, f.stores)
	}
	f = &fake{cur: Versioned{Version: 4, Info: base()}}
	if _, err := run(f, Cond{Version: 3}, edit); !errors.Is(err, ErrVersion) || f.stores != 0 {
		t.Fatalf("If-Match 3 on v4: got %v after %d stores, want ErrVersion and no store", err, f.stores)
	}
	f = &fake{cur: Versioned{Version: 4, Info: base()}, stale: 1}
	if _, err := run(f, Cond{Version: 4}, edit); !errors.Is(err, ErrVersion) || f.stores != 1 {
		t.Fatalf("If-Match 4 racing a write: got %v after %d stores, want ErrVersion after 1", err, f.stores)
	}
	f = &fake{cur: Versioned{Version: 4, Info: base()}}
	if _, err := run(f, Cond{}, Patch{HoldReason: ptr(HoldTransferring)}.Mutation()); !errors.Is(err, ErrConflict) || f.stores != 0 {
		t.Fatalf("a refused write: got %v after %d stores, want ErrConflict and no store", err, f.stores)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	f = &fake{cur: Versioned{Version: 4, Info: base()}, stale: 1000}
	_, err := RunUpdate(cctx, Cond{}, "u1", edit, Limits{}, now,
		func(context.Context) (Versioned, error) { return f.cur, nil },
		func(context.Context, Versioned, Versioned, []string) error { f.stores++; return ErrStale })
	if !errors.Is(err, context.Canceled) || f.stores != 1 {
		t.Fatalf("retry after the context ended: got %v after %d stores, want context.Canceled after 1", err, f.stores)
	}
}

func TestSelectPage(t *testing.T) {
	var all []Versioned
	for k := range 5 {
		all = append(all, Versioned{Version: 1, Info: Info{ID: fmt.Sprint("s", k), AccountID: "A1", DateCreated: t0s}})
	}
	// Equal dates fall back to the id, so paging is stable.
	p := SelectPage(all, Query{PerPage: 2, Page: 1, Ascending: true})
	if p.Total != 5 || len(p.Items) != 2 || p.Items[0].Info.ID != "s2" || p.Items[1].Info.ID != "s3" {
		t.Fatalf("got %+v", p)
	}
	for _, q := range []Query{{Page: -1}, {Page: 5, PerPage: 1}, {AccountIDs: []string{}}} {
		if p := SelectPage(all, q); p.Items == nil || len(p.Items) != 0 {
			t.Fatalf("SelectPage(%+v): got %+v, want an empty, non-nil page", q, p.Items)
		}
	}
}

func TestMarshalLeavesHTMLCharactersAlone(t *testing.T) {
	got := string(Info{ConsoleData: "a -> b & <c>\u2028"}.Marshal())
	if !strings.Contains(got, `"consoleData":"a -> b & <c>\u2028"`) {
		t.Fatalf("Marshal = %s, want < > & unescaped and U+2028 escaped", got)
	}
	if strings.HasSuffix(got, "\n") {
		t.Fatal("Marshal ends in a newline, want compact JSON")
	}
}
