package api

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sessionhub/sessionhub/auth"
	"github.com/sessionhub/sessionhub/memstore"
	"github.com/sessionhub/sessionhub/session"
)

var testSecret = []byte("test-secret-test-secret-test-secret")

// testEnv is a real HTTP server running the API on a memstore.
type testEnv struct {
	srv   *httptest.Server
	store *memstore.Store
	authn *auth.Authenticator
	reg   *prometheus.Registry
	logs  *syncBuffer
	ready error
	mu    sync.Mutex
	ticks int64 // the test clock: one second more on every reading
}

// now is the test clock: every reading is a second after the one before, so
// sessions sort by date deterministically.
func (e *testEnv) now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ticks++
	return time.Date(2026, 11, 26, 16, 0, 0, 0, time.UTC).Add(time.Duration(e.ticks) * time.Second)
}

// syncBuffer is a log sink the handler goroutines and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newEnv starts a server; edit may change the Config (e.g. wrap the store).
func newEnv(tb testing.TB, edit ...func(*Config)) *testEnv {
	tb.Helper()
	authn, err := auth.New(auth.Config{Secret: testSecret})
	if err != nil {
		tb.Fatal(err)
	}
	e := &testEnv{authn: authn, reg: prometheus.NewRegistry(), logs: &syncBuffer{}}
	e.store = memstore.New(memstore.Config{Now: e.now})
	tb.Cleanup(func() { e.store.Close() })
	n := 0
	cfg := Config{
		Store: e.store,
		Auth:  authn,
		Now:   e.now,
		Ready: func(context.Context) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			return e.ready
		},
		Live: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusTeapot)
			io.WriteString(w, "live")
		}),
		UI: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "ui:"+r.URL.Path)
		}),
		Metrics:    promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{}),
		Registerer: e.reg,
		Logger:     slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		NewID: func() string {
			e.mu.Lock()
			defer e.mu.Unlock()
			n++
			return "gen-" + string(rune('a'+n-1))
		},
	}
	for _, f := range edit {
		f(&cfg)
	}
	e.srv = httptest.NewServer(New(cfg))
	tb.Cleanup(e.srv.Close)
	return e
}

// token signs a token for user u with role and accounts.
func (e *testEnv) token(tb testing.TB, role auth.Role, accounts ...string) string {
	tb.Helper()
	tok, err := auth.Sign(testSecret, auth.Claims{Subject: "u-" + string(role), Accounts: accounts, Role: role}, time.Now().Add(time.Hour), time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

type resp struct {
	status int
	header http.Header
	body   string
}

// req is one request: headers as "Name: value" strings; a token as "Bearer ...".
func (e *testEnv) req(tb testing.TB, method, path, body string, headers ...string) resp {
	tb.Helper()
	r, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		if h == "" {
			continue
		}
		k, v, _ := strings.Cut(h, ":")
		r.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	res, err := e.srv.Client().Do(r)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: string(b)}
}

func bearer(tok string) string { return "Authorization: Bearer " + tok }

// seed creates a session directly in the store.
func (e *testEnv) seed(tb testing.TB, id, account string) session.Versioned {
	tb.Helper()
	s, err := session.New(session.Info{ID: id, AccountID: account, CallState: session.CallRinging}, "seed", e.now(), session.Limits{})
	if err != nil {
		tb.Fatal(err)
	}
	v, err := e.store.Create(context.Background(), s)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func (e *testEnv) get(tb testing.TB, id string) session.Versioned {
	tb.Helper()
	v, err := e.store.Get(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func wantStatus(tb testing.TB, r resp, want int) {
	tb.Helper()
	if r.status != want {
		tb.Fatalf("status = %d, want %d; body %s", r.status, want, r.body)
	}
}

func wantContains(tb testing.TB, s, sub string) {
	tb.Helper()
	if !strings.Contains(s, sub) {
		tb.Fatalf("%q does not contain %q", s, sub)
	}
}

func TestRoutes(t *testing.T) {
	e := newEnv(t)
	svc := bearer(e.token(t, auth.RoleService, "A"))
	tests := []struct {
		method, path, body string
		headers            []string
		want               int
		contains           string
	}{
		{"POST", "/sessions", `{"id":"s1","accountId":"A"}`, []string{svc}, 200, `"id":"s1"`},
		{"GET", "/sessions/s1", "", []string{svc}, 200, `"callState":"Ringing"`},
		{"GET", "/sessions", "", []string{svc}, 200, `"totalCount":1`},
		{"PATCH", "/sessions/s1", `{"callState":"Connected"}`, []string{svc}, 200, `"callState":"Connected"`},
		{"POST", "/sessions/s1/log", `{"message":"hello"}`, []string{svc}, 200, `"message":"hello"`},
		{"PUT", "/sessions/s1", `{"callState":"Connected","displayName":"D"}`, []string{svc}, 200, `"displayName":"D"`},
		{"DELETE", "/sessions/s1", "", []string{svc}, 204, ""},
		{"DELETE", "/sessions/s1", "", []string{svc}, 204, ""},
		{"DELETE", "/sessions/nope", "", []string{svc}, 404, `"errorCode":"NotFound"`},
		{"GET", "/healthz", "", nil, 200, `"ok"`},
		{"GET", "/readyz", "", nil, 200, `"ok"`},
		{"GET", "/metrics", "", nil, 200, "sessionhub_http_requests_total"},
		{"GET", "/ws", "", nil, 418, "live"},
		{"GET", "/", "", nil, 200, "ui:/"},
		{"GET", "/some/page", "", nil, 200, "ui:/some/page"},
		{"GET", "/sessions/s1/other", "", []string{svc}, 404, `"responseStatus"`},
		{"GET", "/sessions/", "", []string{svc}, 404, `"responseStatus"`},
		{"POST", "/nothing", "", nil, 404, `"responseStatus"`},
		{"POST", "/sessions/s1", `{}`, []string{svc}, 405, `"MethodNotAllowed"`},
		{"GET", "/sessions/s1/log", "", []string{svc}, 405, `"MethodNotAllowed"`},
		{"DELETE", "/sessions", "", []string{svc}, 405, `"MethodNotAllowed"`},
		{"POST", "/healthz", "", nil, 405, `"MethodNotAllowed"`},
	}
	for _, tt := range tests {
		r := e.req(t, tt.method, tt.path, tt.body, tt.headers...)
		if r.status != tt.want || !strings.Contains(r.body, tt.contains) {
			t.Errorf("%s %s: got %d %s, want %d containing %q", tt.method, tt.path, r.status, r.body, tt.want, tt.contains)
		}
	}
	r := e.req(t, "POST", "/sessions/s1", "{}", svc)
	if got, want := r.header.Get("Allow"), "GET, HEAD, PATCH, PUT, DELETE"; got != want {
		t.Errorf("Allow = %q, want %q", got, want)
	}
	if got := e.req(t, "GET", "/sessions/s1/log", "", svc).header.Get("Allow"); got != "POST" {
		t.Errorf("Allow for /log = %q, want POST", got)
	}
}

func TestReadyz(t *testing.T) {
	e := newEnv(t)
	e.mu.Lock()
	e.ready = context.DeadlineExceeded
	e.mu.Unlock()
	r := e.req(t, "GET", "/readyz", "")
	wantStatus(t, r, 503)
	if r.header.Get("Retry-After") == "" {
		t.Error("503 readyz has no Retry-After")
	}
	if got := e.req(t, "GET", "/healthz", ""); got.status != 200 {
		t.Errorf("healthz while not ready = %d, want 200", got.status)
	}
}

func TestNoAuthenticatorRefuses(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Auth = nil })
	r := e.req(t, "GET", "/sessions", "", bearer(e.token(t, auth.RoleService, "*")))
	wantStatus(t, r, 401)
}

func TestRequestIDAndLog(t *testing.T) {
	e := newEnv(t)
	tok := e.token(t, auth.RoleViewer, "A")
	e.seed(t, "s1", "A")

	r := e.req(t, "GET", "/sessions/s1", "", bearer(tok), "X-Request-Id: my-req-1")
	wantStatus(t, r, 200)
	if got := r.header.Get("X-Request-Id"); got != "my-req-1" {
		t.Errorf("X-Request-Id = %q, want the caller's my-req-1", got)
	}
	r = e.req(t, "GET", "/sessions/s1?access_token="+tok+"&x=1", "", "X-Request-Id: <bad id>")
	wantStatus(t, r, 200)
	gen := r.header.Get("X-Request-Id")
	if gen == "" || strings.Contains(gen, "<") {
		t.Errorf("X-Request-Id = %q, want a generated id in place of a hostile one", gen)
	}
	logs := e.logs.String()
	wantContains(t, logs, "request_id=my-req-1")
	wantContains(t, logs, "request_id="+gen)
	wantContains(t, logs, "route=/sessions/:sessionId")
	if strings.Contains(logs, tok) || strings.Contains(logs, "access_token") {
		t.Errorf("the log holds the token or the access_token parameter:\n%s", logs)
	}
}

func TestMetricsUseRouteTemplates(t *testing.T) {
	e := newEnv(t)
	tok := bearer(e.token(t, auth.RoleViewer, "A"))
	for _, id := range []string{"m1", "m2", "m3"} {
		e.req(t, "GET", "/sessions/"+id, "", tok)
	}
	r := e.req(t, "GET", "/metrics", "")
	wantContains(t, r.body, `sessionhub_http_requests_total{method="GET",route="/sessions/:sessionId",status="404"} 3`)
	wantContains(t, r.body, `sessionhub_http_request_duration_seconds_bucket{method="GET",route="/sessions/:sessionId"`)
	if strings.Contains(r.body, "m1") {
		t.Error("a raw path reached a metric label")
	}
	// A second API on the same registry shares the series instead of panicking.
	New(Config{Store: e.store, Registerer: e.reg, Logger: slog.New(slog.DiscardHandler)})
}

func TestPanicIs500WithoutInternals(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.UI = http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("secret-panic-detail") })
	})
	r := e.req(t, "GET", "/boom", "")
	wantStatus(t, r, 500)
	if strings.Contains(r.body, "secret-panic-detail") {
		t.Errorf("500 body shows the panic: %s", r.body)
	}
	wantContains(t, r.body, "internal error (request id "+r.header.Get("X-Request-Id")+")")
	wantContains(t, e.logs.String(), "secret-panic-detail")
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func nowForBench() time.Time { return time.Now() }
