package api

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sessionhub/sessionhub/auth"
)

// TestErrorsListAlwaysPresent: ServiceStack's CreateResponseStatus always makes
// Errors a list, so clients may iterate responseStatus.errors on any error.
func TestErrorsListAlwaysPresent(t *testing.T) {
	e := newEnv(t)
	tok := bearer(e.token(t, auth.RoleViewer, "A"))
	for _, tt := range []struct {
		method, path, tok string
		status            int
	}{
		{"GET", "/sessions/missing", tok, 404},
		{"GET", "/sessions/missing", "", 401},
		{"PATCH", "/sessions/missing", tok, 403},
		{"GET", "/sessions/missing.xml", tok, 406},
		{"POST", "/sessions/missing", tok, 405},
	} {
		r := e.req(t, tt.method, tt.path, "", tt.tok)
		wantStatus(t, r, tt.status)
		wantContains(t, r.body, `,"errors":[]}}`)
	}
}

// TestErrorMessagesReadWell covers the wording of the auth errors.
func TestErrorMessagesReadWell(t *testing.T) {
	e := newEnv(t)
	e.seed(t, "s1", "A")
	r := e.req(t, "DELETE", "/sessions/s1", "", bearer(e.token(t, auth.RoleAgent, "A")))
	wantStatus(t, r, 403)
	wantContains(t, r.body, "an agent token may not")
	r = e.req(t, "GET", "/sessions/s1", "", "Authorization: Basic dXNlcjpwYXNz")
	wantStatus(t, r, 401)
	if strings.Contains(r.body, ".;") || strings.Contains(r.body, "was rejected") {
		t.Errorf("401 for another scheme reads %s", r.body)
	}
	if got := r.header.Get("WWW-Authenticate"); got != "Bearer" {
		t.Errorf("WWW-Authenticate %q, want Bearer", got)
	}
}

// TestCreateValidatesBeforeAccount: a malformed create is a 400 naming every
// bad field, even when it also names an account outside the token.
func TestCreateValidatesBeforeAccount(t *testing.T) {
	e := newEnv(t)
	tok := bearer(e.token(t, auth.RoleService, "A"))
	r := e.req(t, "POST", "/sessions", `{"id":"a b","accountId":"B C"}`, tok)
	wantStatus(t, r, 400)
	wantContains(t, r.body, `"fieldName":"Id"`)
	wantContains(t, r.body, `"fieldName":"AccountId"`)
	wantStatus(t, e.req(t, "POST", "/sessions", `{"id":"ok","accountId":"B"}`, tok), 403)
}

// TestInvalidUTF8IsRefused: invalid UTF-8 is a 400, never quietly turned into
// U+FFFD and stored.
func TestInvalidUTF8IsRefused(t *testing.T) {
	e := newEnv(t)
	tok := bearer(e.token(t, auth.RoleAgent, "A"))
	e.seed(t, "s1", "A")
	for _, tt := range []struct {
		name, path, body, contentType, contains string
	}{
		{"json body", "/sessions/s1", "{\"consoleData\":\"a\xffb\"}", "application/json", "UTF-8"},
		{"query", "/sessions/s1?consoleData=a%FFb", "", "", `"fieldName":"ConsoleData"`},
		{"form", "/sessions/s1", "consoleData=a%FFb", "application/x-www-form-urlencoded", `"fieldName":"ConsoleData"`},
		{"log form", "/sessions/s1/log", "message=a%C0%80", "application/x-www-form-urlencoded", `"fieldName":"Message"`},
	} {
		method := "PATCH"
		if strings.HasSuffix(tt.path, "/log") {
			method = "POST"
		}
		r := e.req(t, method, tt.path, tt.body, tok, "Content-Type: "+tt.contentType)
		if r.status != 400 || !strings.Contains(r.body, tt.contains) {
			t.Errorf("%s: %d %s, want 400 containing %s", tt.name, r.status, r.body, tt.contains)
		}
	}
	if got := e.get(t, "s1"); got.Version != 1 {
		t.Errorf("refused writes moved the session to version %d", got.Version)
	}
	// Valid UTF-8, NUL included, is kept byte for byte.
	r := e.req(t, "PATCH", "/sessions/s1", `{"consoleData":"nul\u0000 ☎ 日本"}`, tok)
	wantStatus(t, r, 200)
	if got := e.get(t, "s1").Info.ConsoleData; got != "nul\x00 ☎ 日本" {
		t.Errorf("consoleData %q", got)
	}
}

// TestMultipartForm: curl -F sends multipart/form-data, which ServiceStack
// binds like any form; file parts are ignored.
func TestMultipartForm(t *testing.T) {
	e := newEnv(t)
	tok := bearer(e.token(t, auth.RoleService, "A"))
	e.seed(t, "s1", "A")
	body := "--XB\r\nContent-Disposition: form-data; name=\"CallState\"\r\n\r\nHold\r\n" +
		"--XB\r\nContent-Disposition: form-data; name=\"consoleData\"\r\n\r\nline1\r\nline2\r\n" +
		"--XB\r\nContent-Disposition: form-data; name=\"queueState\"; filename=\"q.txt\"\r\n\r\nQueued\r\n" +
		"--XB--\r\n"
	r := e.req(t, "PATCH", "/sessions/s1?consoleData=fromquery", body, tok, "Content-Type: multipart/form-data; boundary=XB")
	wantStatus(t, r, 200)
	wantContains(t, r.body, `"callState":"Hold"`)
	wantContains(t, r.body, `"consoleData":"line1\r\nline2"`)
	wantContains(t, r.body, `"queueState":"None"`)

	for _, tt := range []struct{ name, contentType, body string }{
		{"no boundary", "multipart/form-data", body},
		{"wrong boundary", "multipart/form-data; boundary=OTHER", body},
		{"truncated", "multipart/form-data; boundary=XB", body[:60]},
	} {
		r := e.req(t, "PATCH", "/sessions/s1", tt.body, tok, "Content-Type: "+tt.contentType)
		if r.status != 400 || !strings.Contains(r.body, "multipart") {
			t.Errorf("%s: %d %s, want a 400 about the multipart body", tt.name, r.status, r.body)
		}
	}
	many := strings.Repeat("--XB\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\ny\r\n", maxFormParts+1) + "--XB--\r\n"
	r = e.req(t, "PATCH", "/sessions/s1", many, tok, "Content-Type: multipart/form-data; boundary=XB")
	wantStatus(t, r, 400)
}

// TestCallbackErrorCode: a refused callback is a plain InvalidValue error.
func TestCallbackErrorCode(t *testing.T) {
	e := newEnv(t)
	r := e.req(t, "GET", "/sessions/s1?callback=%3Cx", "", bearer(e.token(t, auth.RoleViewer, "A")))
	wantStatus(t, r, 400)
	wantContains(t, r.body, `{"responseStatus":{"errorCode":"InvalidValue"`)
}

// TestHead: HEAD answers as GET without a body (curl -I).
func TestHead(t *testing.T) {
	e := newEnv(t)
	tok := bearer(e.token(t, auth.RoleViewer, "A"))
	e.seed(t, "s1", "A")
	for _, tt := range []struct {
		path   string
		status int
		etag   string
	}{
		{"/sessions/s1", 200, `"1"`},
		{"/sessions/s1.json", 200, `"1"`},
		{"/sessions", 200, ""},
		{"/sessions/none", 404, ""},
	} {
		r := e.req(t, http.MethodHead, tt.path, "", tok)
		if r.status != tt.status || r.body != "" || r.header.Get("ETag") != tt.etag {
			t.Errorf("HEAD %s: %d ETag %q body %q, want %d ETag %q and no body", tt.path, r.status, r.header.Get("ETag"), r.body, tt.status, tt.etag)
		}
		if got := r.header.Get("Content-Type"); got != "application/json; charset=utf-8" {
			t.Errorf("HEAD %s: Content-Type %q", tt.path, got)
		}
	}
}

// TestStalledBodyTimesOut: a body that stops arriving is a 408 after
// IOTimeout, not a goroutine held forever; the deadline does not outlive its
// request on a keep-alive connection.
func TestStalledBodyTimesOut(t *testing.T) {
	const limit = 150 * time.Millisecond
	e := newEnv(t, func(c *Config) { c.IOTimeout = limit })
	tok := e.token(t, auth.RoleAgent, "A")
	e.seed(t, "s1", "A")

	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	fmt.Fprintf(conn, "PATCH /sessions/s1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{", tok)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestTimeout || time.Since(start) > 3*time.Second {
		t.Errorf("stalled body: %d after %v, want 408 after about %v", res.StatusCode, time.Since(start), limit)
	}

	// Keep-alive: a request sent after the first one's deadline has passed works.
	conn2, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	br := bufio.NewReader(conn2)
	for i := range 2 {
		fmt.Fprintf(conn2, "GET /sessions/s1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", tok)
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d on a kept-alive connection: %v", i, err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("request %d: status %d", i, res.StatusCode)
		}
		<-time.After(3 * limit) // let the first request's deadlines pass
	}
}

// TestTypeErrorsReadWell: JSON type errors name the type with the right article.
func TestTypeErrorsReadWell(t *testing.T) {
	e := newEnv(t)
	tok := bearer(e.token(t, auth.RoleService, "A"))
	e.seed(t, "s1", "A")
	for body, want := range map[string]string{
		`{"consoleData":{"a":1}}`:                   "not an object",
		`{"members":[{"applicationData":[1]}]}`:     "an array where 'Members.applicationData' belongs",
		`{"customerBreadcrumb":"x"}`:                "a string where 'CustomerBreadcrumb' belongs",
		`{"members":[{"applicationData":{"a":1}}]}`: "a number where",
	} {
		r := e.req(t, "PUT", "/sessions/s1", body, tok)
		wantStatus(t, r, 400)
		wantContains(t, r.body, want)
	}
}

// TestHeaderSpelling: ETag and WWW-Authenticate go out spelled as the RFCs (and
// ServiceStack) spell them, not as Go canonicalises them, for people who grep
// curl -i output.
func TestHeaderSpelling(t *testing.T) {
	e := newEnv(t)
	tok := e.token(t, auth.RoleViewer, "A")
	e.seed(t, "s1", "A")
	raw := func(req string) string {
		t.Helper()
		conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatal(err)
		}
		io.WriteString(conn, req)
		b, _ := io.ReadAll(conn)
		head, _, _ := strings.Cut(string(b), "\r\n\r\n")
		return head
	}
	head := raw("GET /sessions/s1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer " + tok + "\r\n\r\n")
	wantContains(t, head, "\r\nETag: \"1\"")
	head = raw("GET /sessions/s1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	wantContains(t, head, "\r\nWWW-Authenticate: Bearer")
	if strings.Contains(head, "Www-Authenticate") {
		t.Errorf("the challenge is sent twice:\n%s", head)
	}
}

// TestJSONSentAsFormIsRefused: curl -d '{"callState":"Hold"}' sends a form
// content type; binding it as a form would silently change nothing.
func TestJSONSentAsFormIsRefused(t *testing.T) {
	e := newEnv(t)
	before := e.seed(t, "s1", "A")
	tok := bearer(e.token(t, auth.RoleAgent, "A"))
	r := e.req(t, "PATCH", "/sessions/s1", `{"callState":"Hold"}`, tok, "Content-Type: application/x-www-form-urlencoded")
	wantStatus(t, r, 400)
	wantContains(t, r.body, "Content-Type: application/json")
	if got := e.get(t, "s1"); got.Version != before.Version {
		t.Errorf("version %d after a refused write, want %d", got.Version, before.Version)
	}
	r = e.req(t, "PATCH", "/sessions/s1", `callState=Hold`, tok, "Content-Type: application/x-www-form-urlencoded")
	wantStatus(t, r, 200)
}
