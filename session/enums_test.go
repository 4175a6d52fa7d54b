package session

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
)

// enumValue is what every enum type is: an int with JSON methods on its pointer.
type enumValue interface {
	~int
	String() string
}

// checkEnum runs the DESIGN §1 parsing rules against one enum type: names in
// any case and ordinals (as numbers or strings) parse; anything else is an
// EnumError naming the allowed members; null leaves the value unchanged; the
// wire form is always the name.
func checkEnum[T enumValue](t *testing.T, typ string, names []string) {
	t.Run(typ, func(t *testing.T) {
		for i, name := range names {
			for _, in := range []string{
				strconv.Quote(name), strconv.Quote(strings.ToLower(name)), strconv.Quote(strings.ToUpper(name)),
				strconv.Itoa(i), strconv.Quote(strconv.Itoa(i)), strconv.Quote(" " + name + " "),
			} {
				var v T
				if err := json.Unmarshal([]byte(in), &v); err != nil {
					t.Fatalf("%s from %s: %v", typ, in, err)
				}
				if int(v) != i {
					t.Fatalf("%s from %s: got %d, want %d", typ, in, int(v), i)
				}
			}
			out, err := json.Marshal(T(i))
			if err != nil || string(out) != strconv.Quote(name) {
				t.Fatalf("marshal %s(%d): got %s %v, want %q", typ, i, out, err, name)
			}
		}
		for _, in := range []string{
			`"Nope"`, `""`, `" "`, strconv.Itoa(len(names)), strconv.Quote(strconv.Itoa(len(names))), `-1`, `"-1"`,
			`1.5`, `1e0`, `"0x1"`, `99999999999999999999999`, `true`, `false`, `{}`, `{"name":"x"}`, `[]`, `["Voice"]`,
			`"` + strings.Repeat("x", 1000) + `"`, `"<script>"`,
		} {
			var v T
			err := json.Unmarshal([]byte(in), &v)
			var ee *EnumError
			if !errors.As(err, &ee) {
				t.Fatalf("%s from %s: got error %v, want an EnumError", typ, in, err)
			}
			if ee.Type != typ || !strings.Contains(err.Error(), strings.Join(names, ", ")) {
				t.Fatalf("%s from %s: got %q, want it to name %s and list %v", typ, in, err, typ, names)
			}
			if len(err.Error()) > 300 {
				t.Fatalf("%s from a long value: message of %d bytes, want it truncated", typ, len(err.Error()))
			}
		}
		v := T(1)
		if err := json.Unmarshal([]byte(`null`), &v); err != nil || int(v) != 1 {
			t.Fatalf("%s from null: got %d %v, want the value unchanged and no error", typ, int(v), err)
		}
		if got := T(len(names)).String(); got != strconv.Itoa(len(names)) {
			t.Fatalf("String of an out-of-range %s: got %q, want its number", typ, got)
		}
	})
}

func TestEnumJSON(t *testing.T) {
	checkEnum[DialState](t, "SessionDialState", []string{"None", "Active"})
	checkEnum[CallState](t, "SessionCallState", []string{"Disconnected", "Ringing", "Connected", "Hold", "Passive"})
	checkEnum[HoldReason](t, "SessionHoldReasons", []string{"None", "Transferring"})
	checkEnum[QueueState](t, "SessionQueueStates", []string{"None", "Queued", "Ringing", "Connected", "Hold", "Disconnected"})
	checkEnum[Channel](t, "FlowChannels", []string{"Voice", "Chat", "Fax"})
	checkEnum[Direction](t, "SessionDirections", []string{"Incoming", "Outgoing"})
	checkEnum[MemberCallState](t, "SessionMemberCallState", []string{"None", "Ringing", "Connected", "Hold"})
	checkEnum[MemberRole](t, "SessionMemberRoles", []string{"None", "Caller", "Agent", "Transfer"})
}

// TestEnumInInfo: a whole SessionInfo with enums in every accepted form, and a
// bad one whose error names the value.
func TestEnumInInfo(t *testing.T) {
	var in Info
	body := `{"dialState":"active","callState":2,"queueState":"QUEUED","channel":"1","direction":null,"holdReason":"none",
		"members":[{"callState":"hold","role":"3"}]}`
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		t.Fatal(err)
	}
	if in.DialState != DialActive || in.CallState != CallConnected || in.QueueState != QueueQueued || in.Channel != ChannelChat ||
		in.Direction != DirectionIncoming || in.Members[0].CallState != MemberHold || in.Members[0].Role != RoleTransfer {
		t.Fatalf("got %+v", in)
	}
	out := string(in.Marshal())
	for _, want := range []string{`"dialState":"Active"`, `"callState":"Connected"`, `"channel":"Chat"`, `"direction":"Incoming"`, `"role":"Transfer"`, `"muted":false`, `"ended":false`} {
		if !strings.Contains(out, want) {
			t.Fatalf("marshal: got %s, want it to contain %s", out, want)
		}
	}
	err := json.Unmarshal([]byte(`{"callState":"Parked"}`), &in)
	var ee *EnumError
	if !errors.As(err, &ee) || ee.Value != "Parked" {
		t.Fatalf("bad callState: got %v, want an EnumError for \"Parked\"", err)
	}
}

func TestParseFunctions(t *testing.T) {
	for _, tc := range []struct {
		in    string
		parse func(string) (int, error)
		want  int
		ok    bool
	}{
		{"connected", func(s string) (int, error) { v, err := ParseCallState(s); return int(v), err }, 2, true},
		{"4", func(s string) (int, error) { v, err := ParseCallState(s); return int(v), err }, 4, true},
		{"5", func(s string) (int, error) { v, err := ParseCallState(s); return int(v), err }, 0, false},
		{"", func(s string) (int, error) { v, err := ParseCallState(s); return int(v), err }, 0, false},
		{`"Hold"`, func(s string) (int, error) { v, err := ParseCallState(s); return int(v), err }, 0, false},
		{"TRANSFERRING", func(s string) (int, error) { v, err := ParseHoldReason(s); return int(v), err }, 1, true},
		{"disconnected", func(s string) (int, error) { v, err := ParseQueueState(s); return int(v), err }, 5, true},
		{"fax", func(s string) (int, error) { v, err := ParseChannel(s); return int(v), err }, 2, true},
		{"sms", func(s string) (int, error) { v, err := ParseChannel(s); return int(v), err }, 0, false},
	} {
		got, err := tc.parse(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("parse %q: got %d %v, want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
	if got := CallStates(); strings.Join(got, ",") != "Disconnected,Ringing,Connected,Hold,Passive" {
		t.Errorf("CallStates: got %v", got)
	}
	CallStates()[0] = "changed"
	if CallStates()[0] != "Disconnected" {
		t.Error("CallStates returned the package's own slice")
	}
	if got := QueueStates(); len(got) != 6 || got[5] != "Disconnected" {
		t.Errorf("QueueStates: got %v", got)
	}
}
