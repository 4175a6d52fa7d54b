package hub

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sessionhub/sessionhub/session"
)

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "new\nline\r\ttab", "\x00\x01\x1f control",
		"unicode é ✓ 😀", "bad utf8 \xff\xfe end", "line sep \u2028 and \u2029",
	} {
		got := string(appendString(nil, s))
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Errorf("appendString(%q) = %s: not valid JSON: %v", s, got, err)
			continue
		}
		want, _ := json.Marshal(s)
		var wantBack string
		_ = json.Unmarshal(want, &wantBack)
		if back != wantBack {
			t.Errorf("appendString(%q) decodes to %q, want %q", s, back, wantBack)
		}
		if strings.ContainsAny(got, "\n\r") {
			t.Errorf("appendString(%q) = %s: holds a raw line break", s, got)
		}
	}
}

func TestEncodeUpdate(t *testing.T) {
	e := &session.Event{
		AccountID: "A", SessionID: "s1", Version: 7, Offset: "ep:12-0",
		Changed: []string{"callState", "log"},
		Session: json.RawMessage("{\n  \"id\": \"s1\",\n  \"consoleData\": \"a\\nb\"\n}"),
	}
	b := encodeUpdate(chanKey{kindSession, "s1"}, e)
	if strings.ContainsAny(string(b), "\n") {
		t.Fatalf("got %s: a raw newline would split the message", b)
	}
	var m struct {
		Type, Channel, Offset string
		Version               int64
		Changed               []string
		Session               map[string]string
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("got %s: %v", b, err)
	}
	if m.Type != "update" || m.Channel != "session:s1" || m.Offset != "ep:12-0" || m.Version != 7 ||
		strings.Join(m.Changed, ",") != "callState,log" || m.Session["consoleData"] != "a\nb" {
		t.Errorf("got %s, want the event's fields", b)
	}
}

func TestEncodeSnapshot(t *testing.T) {
	b := encodeSnapshot(chanKey{kindAccount, "A"}, session.Snapshot{Offset: "ep:1-0", Sessions: []session.Entry{
		{Version: 2, Session: json.RawMessage(`{"id":"s1"}`)},
		{Version: 5, Session: json.RawMessage(`{"id":"s2"}`)},
	}})
	want := `{"type":"snapshot","channel":"account:A","offset":"ep:1-0","sessions":[{"version":2,"session":{"id":"s1"}},{"version":5,"session":{"id":"s2"}}]}`
	if string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	if b := encodeSnapshot(chanKey{kindAccount, "A"}, session.Snapshot{Offset: "ep:0-0"}); !strings.Contains(string(b), `"sessions":[]`) {
		t.Errorf("empty snapshot: got %s, want an empty sessions array", b)
	}
}

func TestParseChannel(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want chanKey
		ok   bool
	}{
		{"account:ACC1", chanKey{kindAccount, "ACC1"}, true},
		{"session:a:b@c.d-e_f", chanKey{kindSession, "a:b@c.d-e_f"}, true},
		{"", chanKey{}, false},
		{"account:", chanKey{}, false},
		{"account", chanKey{}, false},
		{"room:A", chanKey{}, false},
		{"Account:A", chanKey{}, false},
		{"account:A B", chanKey{}, false},
		{"account:" + strings.Repeat("a", 129), chanKey{}, false},
		{"session:x.json", chanKey{}, false},
	} {
		got, err := parseChannel(tc.in, 128)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseChannel(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestAccountChannelWants(t *testing.T) {
	k := chanKey{kindAccount, "A"}
	for _, tc := range []struct {
		name string
		e    session.Event
		want bool
	}{
		{"active change", session.Event{AccountID: "A", Version: 3, Changed: []string{"consoleData"}}, true},
		{"the change that ends it", session.Event{AccountID: "A", Version: 3, Ended: true, Changed: []string{"callState", "ended"}}, true},
		{"after it ended", session.Event{AccountID: "A", Version: 4, Ended: true, Changed: []string{"consoleData"}}, false},
		{"created ended", session.Event{AccountID: "A", Version: 1, Ended: true}, true},
		{"another account", session.Event{AccountID: "B", Version: 2}, false},
	} {
		if got := k.wants(&tc.e); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
