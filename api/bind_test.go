package api

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sessionhub/sessionhub/auth"
	"github.com/sessionhub/sessionhub/session"
)

func TestBindPatchSources(t *testing.T) {
	tests := []struct {
		name, ct, body, query string
		want                  string // consoleData
	}{
		{"json", "application/json", `{"consoleData":"j"}`, "", "j"},
		{"query", "", "", "consoleData=q", "q"},
		{"form", "application/x-www-form-urlencoded", "consoleData=f", "", "f"},
		{"query beats json", "application/json", `{"consoleData":"j"}`, "consoleData=q", "q"},
		{"form beats query", "application/x-www-form-urlencoded", "consoleData=f", "consoleData=q", "f"},
		{"no content type is json", "", `{"consoleData":"j"}`, "", "j"},
		{"charset", "application/json; charset=utf-8", `{"consoleData":"j"}`, "", "j"},
		{"names any case", "application/json", `{"CONSOLEDATA":"j"}`, "", "j"},
		{"query any case", "", "", "ConsoleData=q", "q"},
		{"later name wins", "application/json", `{"consoleData":"a","ConsoleData":"b"}`, "", "b"},
		{"escaped query", "", "", "consoleData=a%20b%26c", "a b&c"},
		{"empty clears", "application/json", `{"consoleData":""}`, "", ""},
		{"empty query clears", "", "", "consoleData=", ""},
		{"unknown names ignored", "application/json", `{"consoleData":"j","bogus":{"x":[1]},"accountId":"X"}`, "", "j"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := parseInput(tt.ct, []byte(tt.body), tt.query)
			if err != nil {
				t.Fatal(err)
			}
			p, err := bindPatch(in, session.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if p.ConsoleData == nil {
				t.Fatalf("consoleData unset, want %q", tt.want)
			}
			if got := *p.ConsoleData; got != tt.want {
				t.Errorf("consoleData = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBindPatchAbsentAndNull(t *testing.T) {
	for _, body := range []string{``, `{}`, `{"consoleData":null,"callState":null,"holdReason":null,"queueState":null}`, `{"sessionId":"x","dialState":"Active"}`} {
		in, err := parseInput("application/json", []byte(body), "callState=&queueState=")
		if err != nil {
			t.Fatal(err)
		}
		p, err := bindPatch(in, session.Limits{})
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if !p.Empty() {
			t.Errorf("%s: patch %+v, want empty", body, p)
		}
	}
}

func TestBindEnums(t *testing.T) {
	tests := []struct {
		ct, body, query string
		want            session.CallState
		badField        string
	}{
		{"application/json", `{"callState":"Hold"}`, "", session.CallHold, ""},
		{"application/json", `{"callState":"hOLD"}`, "", session.CallHold, ""},
		{"application/json", `{"callState":3}`, "", session.CallHold, ""},
		{"application/json", `{"callState":"3"}`, "", session.CallHold, ""},
		{"", "", "callState=connected", session.CallConnected, ""},
		{"", "", "callstate=2", session.CallConnected, ""},
		{"application/x-www-form-urlencoded", "CallState=Passive", "", session.CallPassive, ""},
		{"application/json", `{"callState":"Holding"}`, "", 0, "CallState"},
		{"application/json", `{"callState":9}`, "", 0, "CallState"},
		{"application/json", `{"callState":-1}`, "", 0, "CallState"},
		{"application/json", `{"callState":true}`, "", 0, "CallState"},
		{"application/json", `{"callState":{}}`, "", 0, "CallState"},
		{"application/json", `{"callState":1.5}`, "", 0, "CallState"},
		{"", "", "holdReason=maybe", 0, "HoldReason"},
		{"", "", "queueState=7", 0, "QueueState"},
	}
	for _, tt := range tests {
		in, err := parseInput(tt.ct, []byte(tt.body), tt.query)
		if err != nil {
			t.Fatal(err)
		}
		p, err := bindPatch(in, session.Limits{})
		if tt.badField != "" {
			var ve *session.ValidationError
			if !errors.As(err, &ve) || ve.Fields[0].Field != tt.badField {
				t.Errorf("%s %s: err %v, want a ValidationError naming %s", tt.body, tt.query, err, tt.badField)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %s: %v", tt.body, tt.query, err)
			continue
		}
		if p.CallState == nil || *p.CallState != tt.want {
			t.Errorf("%s %s: callState %v, want %v", tt.body, tt.query, p.CallState, tt.want)
		}
	}
}

func TestBindErrors(t *testing.T) {
	tests := []struct {
		name, ct, body, query string
		status                int
		field                 string
	}{
		{"malformed json", "application/json", `{"consoleData":`, "", 400, ""},
		{"not an object", "application/json", `["x"]`, "", 400, ""},
		{"trailing value", "application/json", `{} {}`, "", 400, ""},
		{"garbage", "application/json", `<xml/>`, "", 400, ""},
		{"wrong type", "application/json", `{"consoleData":5}`, "", 400, "ConsoleData"},
		{"wrong type object", "application/json", `{"consoleData":{"a":1}}`, "", 400, "ConsoleData"},
		{"bad form escape", "application/x-www-form-urlencoded", "consoleData=%zz", "", 400, ""},
		{"bad query escape", "", "", "consoleData=%zz", 400, ""},
		{"unsupported type", "text/plain", "hello", "", 415, ""},
		{"unreadable type", "application/json; ===", "{}", "", 400, ""},
		{"too long", "application/json", `{"consoleData":"` + strings.Repeat("x", 65<<10) + `"}`, "", 400, "ConsoleData"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := parseInput(tt.ct, []byte(tt.body), tt.query)
			if err == nil {
				_, err = bindPatch(in, session.Limits{})
			}
			status, rs, _ := statusOf(err)
			if status != tt.status {
				t.Fatalf("status %d (%v), want %d", status, err, tt.status)
			}
			if tt.field != "" && (len(rs.Errors) == 0 || rs.Errors[0].FieldName != tt.field) {
				t.Errorf("errors %+v, want one naming %s", rs.Errors, tt.field)
			}
		})
	}
}

func TestBindInfo(t *testing.T) {
	body := `{"accountId":"A","members":[{"identity":"i","Role":"agent","callState":1,"applicationData":{"k":"v"}}],
		"log":[{"date":"2026-01-02T03:04:05Z","message":"m"}],"customerBreadcrumb":[{"id":"c","name":"n"}],
		"ended":false,"wasMissed":true,"channel":"chat","direction":1}`
	in, err := parseInput("application/json", []byte(body), "displayName=Q&wasMissed=false")
	if err != nil {
		t.Fatal(err)
	}
	s, err := bindInfo(in, session.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if s.AccountID != "A" || len(s.Members) != 1 || s.Members[0].Role != session.RoleAgent || s.Members[0].CallState != session.MemberRinging ||
		s.Members[0].ApplicationData["k"] != "v" || len(s.Log) != 1 || len(s.CustomerBreadcrumb) != 1 || s.Channel != session.ChannelChat ||
		s.Direction != session.DirectionOutgoing || s.DisplayName != "Q" || s.WasMissed {
		t.Errorf("bound %+v", s)
	}

	in, _ = parseInput("application/x-www-form-urlencoded", []byte(`accountId=B&ended=true&members=[{"identity":"x"}]`), "")
	if s, err = bindInfo(in, session.Limits{}); err != nil || s.AccountID != "B" || !s.Ended || len(s.Members) != 1 {
		t.Errorf("form bound %+v, %v", s, err)
	}

	in, _ = parseInput("", nil, "ended=maybe&members=[oops&channel=Pigeon")
	err = func() error { _, err := bindInfo(in, session.Limits{}); return err }()
	var ve *session.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err %v, want a ValidationError", err)
	}
	var got []string
	for _, f := range ve.Fields {
		got = append(got, f.Field)
	}
	if want := "Channel,Ended,Members"; strings.Join(got, ",") != want {
		t.Errorf("bad fields %v, want %s (in DTO order)", got, want)
	}
}

func TestPatchOverHTTP(t *testing.T) {
	e := newEnv(t)
	tok := bearer(e.token(t, auth.RoleAgent, "A"))
	e.seed(t, "s1", "A")

	// Each source, and the path beating a sessionId in the body.
	r := e.req(t, "PATCH", "/sessions/s1?callState=Connected", `{"sessionId":"other","consoleData":"j","callState":"Hold"}`, tok)
	wantStatus(t, r, 200)
	var got session.Info
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatal(err)
	}
	if got.ID != "s1" || got.ConsoleData != "j" || got.CallState != session.CallConnected {
		t.Errorf("after PATCH: id %s consoleData %q callState %s, want s1, j, Connected", got.ID, got.ConsoleData, got.CallState)
	}
	r = e.req(t, "PATCH", "/sessions/s1?consoleData=q", "consoleData=f&CALLSTATE=hold&holdReason=1", tok, "Content-Type: application/x-www-form-urlencoded")
	wantStatus(t, r, 200)
	wantContains(t, r.body, `"consoleData":"f"`)
	wantContains(t, r.body, `"holdReason":"Transferring"`)
	wantContains(t, r.body, `"heldByUserId":"u-agent"`)

	// Absent fields stay; an empty consoleData clears.
	r = e.req(t, "PATCH", "/sessions/s1", `{"queueState":"Queued"}`, tok)
	wantContains(t, r.body, `"consoleData":"f"`)
	r = e.req(t, "PATCH", "/sessions/s1", `{"consoleData":""}`, tok)
	if strings.Contains(r.body, "consoleData") {
		t.Errorf("consoleData not cleared: %s", r.body)
	}
	// An empty body changes nothing and keeps the version.
	before := e.get(t, "s1").Version
	r = e.req(t, "PATCH", "/sessions/s1", "", tok)
	wantStatus(t, r, 200)
	if got := e.get(t, "s1").Version; got != before {
		t.Errorf("empty PATCH moved the version %d -> %d", before, got)
	}
	// A bad enum names its field.
	r = e.req(t, "PATCH", "/sessions/s1", `{"callState":"Dancing"}`, tok)
	wantStatus(t, r, 400)
	wantContains(t, r.body, `"fieldName":"CallState"`)
}

func TestBadInputOverHTTP(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxBodyBytes = 100 << 10 })
	tok := bearer(e.token(t, auth.RoleService, "A"))
	e.seed(t, "s1", "A")
	big := `{"consoleData":"` + strings.Repeat("x", 200<<10) + `"}`
	tests := []struct {
		name, method, path, body string
		headers                  []string
		status                   int
		contains                 string
	}{
		{"malformed json", "PATCH", "/sessions/s1", `{"callState":`, nil, 400, "not valid JSON"},
		{"wrong type", "PATCH", "/sessions/s1", `{"consoleData":[1]}`, nil, 400, `"fieldName":"ConsoleData"`},
		{"oversized body", "PATCH", "/sessions/s1", big, nil, 413, "RequestEntityTooLarge"},
		{"oversized chunked body", "PATCH", "/sessions/s1", big, []string{"Transfer-Encoding: chunked"}, 413, "RequestEntityTooLarge"},
		{"oversized consoleData", "PATCH", "/sessions/s1", `{"consoleData":"` + strings.Repeat("y", 65<<10) + `"}`, nil, 400, `"fieldName":"ConsoleData"`},
		{"bad id characters", "GET", "/sessions/bad%20id", "", nil, 400, `"fieldName":"SessionId"`},
		{"bad id markup", "PATCH", "/sessions/%3Cscript%3E", `{}`, nil, 400, `"fieldName":"SessionId"`},
		{"id too long", "GET", "/sessions/" + strings.Repeat("a", 129), "", nil, 400, `"fieldName":"SessionId"`},
		{"id ending .json", "GET", "/sessions/abc.json.json", "", nil, 400, `"fieldName":"SessionId"`},
		{"create id ending .json", "POST", "/sessions", `{"id":"x.JSON","accountId":"A"}`, nil, 400, `"fieldName":"Id"`},
		{"create empty body", "POST", "/sessions", "", nil, 400, `"fieldName":"AccountId"`},
		{"log empty message", "POST", "/sessions/s1/log", `{"message":" "}`, nil, 400, `"fieldName":"Message"`},
		{"log message too long", "POST", "/sessions/s1/log", `{"message":"` + strings.Repeat("m", 5000) + `"}`, nil, 400, `"fieldName":"Message"`},
		{"unsupported media", "PATCH", "/sessions/s1", "callState=Hold", []string{"Content-Type: text/plain"}, 415, "UnsupportedMediaType"},
		{"valid patch still works", "PATCH", "/sessions/s1", `{"callState":"Connected"}`, nil, 200, `"callState":"Connected"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.req(t, tt.method, tt.path, tt.body, append([]string{tok}, tt.headers...)...)
			wantStatus(t, r, tt.status)
			wantContains(t, r.body, tt.contains)
			if tt.status >= 400 && !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
				t.Errorf("error Content-Type %q, want JSON", r.header.Get("Content-Type"))
			}
		})
	}
	// Ended sessions refuse a callState change (409) but keep consoleData writable.
	wantStatus(t, e.req(t, "DELETE", "/sessions/s1", "", tok), 204)
	wantStatus(t, e.req(t, "PATCH", "/sessions/s1", `{"callState":"Connected"}`, tok), 409)
	wantStatus(t, e.req(t, "PATCH", "/sessions/s1", `{"consoleData":"wrap-up"}`, tok), 200)
}

// FuzzBindPatch feeds arbitrary bodies and query strings to the PATCH binding:
// it must never panic, and every failure must be the caller's (4xx).
func FuzzBindPatch(f *testing.F) {
	f.Add("application/json", `{"sessionId":"s","consoleData":"x","callState":"Hold","holdReason":"None","queueState":1}`, "")
	f.Add("application/json", `{"CALLSTATE":"3","consoleData":null}`, "callState=connected")
	f.Add("application/x-www-form-urlencoded", "consoleData=a%20b&holdReason=Transferring", "queueState=Queued")
	f.Add("", `{"callState":{"x":1}}`, "consoleData=%zz")
	f.Add("text/plain", "hello", "a=b&&c")
	f.Add("application/json", `[1,2]`, "")
	f.Add("application/json; charset=\"", `{"a":`, ";;")
	f.Fuzz(func(t *testing.T, ct, body, query string) {
		in, err := parseInput(ct, []byte(body), query)
		if err == nil {
			var p session.Patch
			p, err = bindPatch(in, session.Limits{MaxConsoleData: 64})
			if err == nil && p.ConsoleData != nil && len(*p.ConsoleData) > 64 {
				t.Fatalf("consoleData of %d bytes passed a 64-byte limit", len(*p.ConsoleData))
			}
		}
		if err != nil {
			if status, _, _ := statusOf(err); status < 400 || status >= 500 {
				t.Fatalf("error %v maps to %d, want a 4xx", err, status)
			}
		}
	})
}
