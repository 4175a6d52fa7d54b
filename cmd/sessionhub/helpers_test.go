package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// syncBuffer is an io.Writer tests can read while run writes to it, and wait on.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{changed: make(chan struct{})} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	close(b.changed)
	b.changed = make(chan struct{})
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor returns the first match of re in the buffer, waiting up to d for it.
func (b *syncBuffer) waitFor(tb testing.TB, re *regexp.Regexp, d time.Duration, stop <-chan error) []string {
	tb.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		b.mu.Lock()
		m := re.FindStringSubmatch(b.buf.String())
		ch := b.changed
		b.mu.Unlock()
		if m != nil {
			return m
		}
		select {
		case <-ch:
		case err := <-stop:
			tb.Fatalf("run ended before printing %s: %v\noutput:\n%s", re, err, b.String())
		case <-deadline.C:
			tb.Fatalf("no %s in the output after %s; got:\n%s", re, d, b.String())
		}
	}
}

// env is a getenv over a map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// hubProc is one in-process `sessionhub serve`.
type hubProc struct {
	URL    string // http://127.0.0.1:PORT (no trailing slash)
	Token  string // from the printed link; empty when a secret was configured
	stdout *syncBuffer
	stderr *syncBuffer
	cancel context.CancelFunc
	done   chan error
	waited bool
	result error
}

var dashboardRE = regexp.MustCompile(`Dashboard: (http://127\.0\.0\.1:\d+)/(?:#token=(\S+))?`)

// startHub runs serve on a free loopback port with args and environment, and
// waits for it to print its dashboard link. It is stopped when tb ends.
func startHub(tb testing.TB, args []string, environ map[string]string) *hubProc {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h := &hubProc{stdout: newSyncBuffer(), stderr: newSyncBuffer(), cancel: cancel, done: make(chan error, 1)}
	full := append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "warn", "--shutdown-timeout", "5s"}, args...)
	go func() { h.done <- run(ctx, full, env(environ), h.stdout, h.stderr) }()
	m := h.stdout.waitFor(tb, dashboardRE, 15*time.Second, h.done)
	h.URL, h.Token = m[1], m[2]
	tb.Cleanup(func() {
		if err := h.stop(tb); err != nil {
			tb.Errorf("serve returned %v; stderr:\n%s", err, h.stderr.String())
		}
	})
	return h
}

// stop cancels the hub (as SIGTERM does) and waits for run to return.
func (h *hubProc) stop(tb testing.TB) error {
	tb.Helper()
	h.cancel()
	return h.wait(tb)
}

func (h *hubProc) wait(tb testing.TB) error {
	tb.Helper()
	if h.waited {
		return h.result
	}
	select {
	case h.result = <-h.done:
		h.waited = true
		return h.result
	case <-time.After(15 * time.Second):
		tb.Fatalf("serve did not return within 15s of being stopped; stderr:\n%s", h.stderr.String())
		return nil
	}
}

// request sends one request with a bearer token and returns status and body.
func request(tb testing.TB, method, url, token, body string) (int, http.Header, string) {
	tb.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// listCount is totalCount of GET /sessions?query.
func listCount(tb testing.TB, h *hubProc, token, query string) int {
	tb.Helper()
	status, _, body := request(tb, http.MethodGet, h.URL+"/sessions?"+query, token, "")
	if status != http.StatusOK {
		tb.Fatalf("GET /sessions?%s: status %d, want 200; body %s", query, status, body)
	}
	var page struct {
		TotalCount int `json:"totalCount"`
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		tb.Fatalf("GET /sessions?%s: %v in %s", query, err, body)
	}
	return page.TotalCount
}

// eventually polls cond until it is true or d has passed.
func eventually(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(20 * time.Millisecond) // polling an outside condition with a deadline
	}
}

// dialWelcome opens /ws on h with its token and reads the first message, which
// must be a welcome; it returns the connection (closed at cleanup) and the
// welcome as JSON.
func dialWelcome(tb testing.TB, ctx context.Context, h *hubProc) (*websocket.Conn, []byte) {
	tb.Helper()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.URL, "http")+"/ws", &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + h.Token}},
	})
	if err != nil {
		tb.Fatalf("dial /ws: %v", err)
	}
	tb.Cleanup(func() { ws.CloseNow() })
	_, msg, err := ws.Read(ctx)
	if err != nil {
		tb.Fatalf("read welcome: %v", err)
	}
	line := []byte(strings.SplitN(string(msg), "\n", 2)[0])
	var welcome struct{ Type string }
	if err := json.Unmarshal(line, &welcome); err != nil || welcome.Type != "welcome" {
		tb.Fatalf("first message %s, want a welcome", msg)
	}
	return ws, line
}
