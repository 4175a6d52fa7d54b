package api

import (
	"strings"
	"testing"

	"github.com/sessionhub/sessionhub/auth"
)

func TestFormatsAndSuffixes(t *testing.T) {
	e := newEnv(t)
	tok := bearer(e.token(t, auth.RoleAgent, "A"))
	e.seed(t, "s1", "A")
	tests := []struct {
		method, path, body string
		headers            []string
		want               int
	}{
		{"GET", "/sessions/s1.json", "", nil, 200},
		{"GET", "/sessions/s1.JSON", "", nil, 200},
		{"GET", "/sessions.json", "", nil, 200},
		{"POST", "/sessions/s1/log.json", `{"message":"m"}`, nil, 200},
		{"PATCH", "/sessions/s1.json", `{"consoleData":"x"}`, nil, 200},
		{"GET", "/sessions/s1?format=json", "", nil, 200},
		{"GET", "/sessions/s1?FORMAT=JSON", "", nil, 200},
		{"GET", "/sessions/s1", "", []string{"Accept: application/json"}, 200},
		{"GET", "/sessions/s1", "", []string{"Accept: */*"}, 200},
		{"GET", "/sessions/s1", "", []string{"Accept: application/*"}, 200},
		{"GET", "/sessions/s1", "", []string{"Accept: text/html, application/xhtml+xml, */*;q=0.8"}, 200},
		{"GET", "/sessions/s1.json", "", []string{"Accept: application/xml"}, 200}, // the suffix overrides Accept
		{"GET", "/sessions/s1?format=json", "", []string{"Accept: application/xml"}, 200},
		{"GET", "/sessions/s1?format=xml", "", nil, 406},
		{"GET", "/sessions/s1?format=csv", "", nil, 406},
		{"GET", "/sessions/s1.xml", "", nil, 406},
		{"GET", "/sessions.csv", "", nil, 406},
		{"POST", "/sessions/s1/log.jsv", `{"message":"m"}`, nil, 406},
		{"GET", "/sessions/s1.json?format=xml", "", nil, 406},
		{"GET", "/sessions/s1", "", []string{"Accept: application/xml"}, 406},
		{"GET", "/sessions/s1", "", []string{"Accept: text/html"}, 406},
		{"GET", "/sessions/s1", "", []string{"Accept: application/json;q=0, text/xml"}, 406},
		{"GET", "/sessions/nope.xml", "", nil, 406},
		{"GET", "/sessions/s1/x.xml", "", nil, 406},
	}
	for _, tt := range tests {
		r := e.req(t, tt.method, tt.path, tt.body, append([]string{tok}, tt.headers...)...)
		if r.status != tt.want {
			t.Errorf("%s %s %v: status %d, want %d; %s", tt.method, tt.path, tt.headers, r.status, tt.want, r.body)
			continue
		}
		if got := r.header.Get("Content-Type"); got != "application/json; charset=utf-8" {
			t.Errorf("%s %s: Content-Type %q, want application/json; charset=utf-8", tt.method, tt.path, got)
		}
		if got := r.header.Get("Vary"); got != "Accept" {
			t.Errorf("%s %s: Vary %q, want Accept", tt.method, tt.path, got)
		}
		if tt.want == 406 && !strings.Contains(r.body, `"errorCode":"NotAcceptable"`) {
			t.Errorf("%s %s: 406 body %s", tt.method, tt.path, r.body)
		}
	}
}

func TestJSONP(t *testing.T) {
	e := newEnv(t)
	tok := e.token(t, auth.RoleViewer, "A")
	e.seed(t, "s1", "A")

	r := e.req(t, "GET", "/sessions/s1?callback=app.onSession", "", bearer(tok))
	wantStatus(t, r, 200)
	if !strings.HasPrefix(r.body, `app.onSession({"dialState"`) || !strings.HasSuffix(r.body, "})") {
		t.Errorf("body %s, want app.onSession({...})", r.body)
	}
	if got := r.header.Get("Content-Type"); got != "application/javascript; charset=utf-8" {
		t.Errorf("Content-Type %q, want application/javascript", got)
	}
	if r.header.Get("ETag") != `"1"` {
		t.Errorf("ETag %q, want \"1\"", r.header.Get("ETag"))
	}

	// Errors are wrapped too, with status 200 so the script still runs.
	for _, tt := range []struct{ path, code string }{
		{"/sessions/missing?callback=cb", "NotFound"},
		{"/sessions/s1?callback=$cb_1&format=xml", "NotAcceptable"},
		{"/sessions/s1/other?callback=cb", "NotFound"},
	} {
		r = e.req(t, "GET", tt.path, "", bearer(tok))
		wantStatus(t, r, 200)
		if !strings.HasPrefix(r.body, "cb({\"responseStatus\":") && !strings.HasPrefix(r.body, "$cb_1({\"responseStatus\":") {
			t.Errorf("%s: body %s, want a wrapped ResponseStatus", tt.path, r.body)
		}
		wantContains(t, r.body, tt.code)
	}
	// 401 keeps its WWW-Authenticate even as a 200.
	r = e.req(t, "GET", "/sessions/s1?callback=cb", "")
	wantStatus(t, r, 200)
	wantContains(t, r.body, "Unauthorized")
	if r.header.Get("WWW-Authenticate") == "" {
		t.Error("wrapped 401 lost WWW-Authenticate")
	}
	// A token in the query string serves script tags.
	r = e.req(t, "GET", "/sessions/s1?callback=cb&access_token="+tok, "")
	wantContains(t, r.body, `cb({"dialState"`)

	// Hostile callbacks are a plain-JSON 400 that never echoes them.
	for _, cb := range []string{"alert(1)//", "<script>alert(1)</script>", "a.b(", "1abc", "a..b", "a-b", "a%20b", strings.Repeat("a", 129), "cb%0Aalert(1)", "cb%E2%80%A8"} {
		r = e.req(t, "GET", "/sessions/s1?callback="+cb, "", bearer(tok))
		if r.status != 400 || !strings.HasPrefix(r.body, `{"responseStatus"`) {
			t.Errorf("callback %q: %d %s, want a plain-JSON 400", cb, r.status, r.body)
		}
		if strings.Contains(r.body, "<") || strings.Contains(r.body, "alert") {
			t.Errorf("callback %q echoed: %s", cb, r.body)
		}
		if got := r.header.Get("Content-Type"); got != "application/json; charset=utf-8" {
			t.Errorf("callback %q: Content-Type %q", cb, got)
		}
	}
	// A markup-bearing value elsewhere in a JSONP body is escaped by encoding/json.
	svc := bearer(e.token(t, auth.RoleService, "A"))
	e.req(t, "PATCH", "/sessions/s1", `{"consoleData":"</script><script>alert(1)</script>\u2028"}`, svc)
	r = e.req(t, "GET", "/sessions/s1?callback=cb", "", bearer(tok))
	if strings.Contains(r.body, "</script>") || strings.Contains(r.body, "\u2028") {
		t.Errorf("JSONP body carries raw markup or U+2028: %s", r.body)
	}
}

func TestMethodOverride(t *testing.T) {
	e := newEnv(t)
	tok := bearer(e.token(t, auth.RoleService, "A"))
	e.seed(t, "s1", "A")

	r := e.req(t, "POST", "/sessions/s1", `{"callState":"Connected"}`, tok, "X-Http-Method-Override: PATCH")
	wantStatus(t, r, 200)
	wantContains(t, r.body, `"callState":"Connected"`)
	r = e.req(t, "POST", "/sessions/s1.json", `{"callState":"Connected","displayName":"P"}`, tok, "X-HTTP-Method-Override: put")
	wantStatus(t, r, 200)
	wantContains(t, r.body, `"displayName":"P"`)
	r = e.req(t, "POST", "/sessions/s1", "", tok, "X-Http-Method-Override: DELETE")
	wantStatus(t, r, 204)
	if !e.get(t, "s1").Info.Ended {
		t.Error("override DELETE did not end the session")
	}
	// Only POST is overridden, and only to PATCH, PUT or DELETE.
	wantStatus(t, e.req(t, "GET", "/sessions/s1", "", tok, "X-Http-Method-Override: DELETE"), 200)
	wantStatus(t, e.req(t, "POST", "/sessions/s1", "", tok, "X-Http-Method-Override: GET"), 405)
}
