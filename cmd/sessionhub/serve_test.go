package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"github.com/golang-jwt/jwt/v5"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sessionhub/sessionhub/auth"
)

func TestServePrintsAWorkingDashboardLink(t *testing.T) {
	h := startHub(t, nil, nil)
	if h.Token == "" {
		t.Fatalf("no token in the printed link; stdout:\n%s", h.stdout.String())
	}
	if !strings.Contains(h.stdout.String(), "--auth-secret") {
		t.Errorf("stdout does not say how to set --auth-secret:\n%s", h.stdout.String())
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if status, _, body := request(t, http.MethodGet, h.URL+path, "", ""); status != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200; body %s", path, status, body)
		}
	}
	status, hdr, body := request(t, http.MethodPost, h.URL+"/sessions", h.Token, `{"id":"call-1","accountId":"acme-1"}`)
	if status != http.StatusOK {
		t.Fatalf("POST /sessions with the printed token: status %d, want 200; body %s", status, body)
	}
	if got, want := hdr.Get("ETag"), `"1"`; got != want {
		t.Errorf("ETag = %s, want %s", got, want)
	}
	status, _, body = request(t, http.MethodGet, h.URL+"/sessions/call-1", h.Token, "")
	if status != http.StatusOK || !strings.Contains(body, `"createdBy":"admin"`) {
		t.Errorf("GET /sessions/call-1: status %d, body %s; want 200 created by admin", status, body)
	}
	if status, _, _ := request(t, http.MethodGet, h.URL+"/sessions/call-1", "", ""); status != http.StatusUnauthorized {
		t.Errorf("GET without a token: status %d, want 401", status)
	}
	status, _, body = request(t, http.MethodGet, h.URL+"/metrics", "", "")
	for _, want := range []string{"sessionhub_hub_connections", "go_goroutines", "sessionhub_build_info"} {
		if status != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET /metrics: status %d, no %s", status, want)
		}
	}
	// The UI answers at /.
	if status, _, body := request(t, http.MethodGet, h.URL+"/", "", ""); status != http.StatusOK || !strings.Contains(strings.ToLower(body), "<html") {
		t.Errorf("GET /: status %d, want the dashboard's HTML", status)
	}
}

func TestServeWithSecretPrintsLinkWithoutToken(t *testing.T) {
	const secret = "correct-horse-battery-staple-42"
	h := startHub(t, nil, map[string]string{"SESSIONHUB_AUTH_SECRET": secret})
	if h.Token != "" {
		t.Fatalf("printed a token although a secret is configured:\n%s", h.stdout.String())
	}
	if !strings.Contains(h.stdout.String(), "sessionhub token") {
		t.Errorf("stdout does not point to `sessionhub token`:\n%s", h.stdout.String())
	}
	out := newSyncBuffer()
	err := run(context.Background(), []string{"token", "--user", "u1", "--accounts", "acme-1", "--role", "service"},
		env(map[string]string{"SESSIONHUB_AUTH_SECRET": secret}), out, out)
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	tok := strings.TrimSpace(out.String())
	if status, _, body := request(t, http.MethodPost, h.URL+"/sessions", tok, `{"id":"s1","accountId":"acme-1"}`); status != http.StatusOK {
		t.Errorf("POST with a minted token: status %d, want 200; %s", status, body)
	}
	other, err := mintToken([]byte("another-secret-entirely-000"), "u1", "", []string{"*"}, auth.RoleService, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if status, _, _ := request(t, http.MethodGet, h.URL+"/sessions/s1", other, ""); status != http.StatusUnauthorized {
		t.Errorf("GET with a token of another secret: status %d, want 401", status)
	}
}

func TestServeMetricsAddr(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	h := startHub(t, []string{"--metrics-addr", addr}, nil)
	if status, _, body := request(t, http.MethodGet, "http://"+addr+"/metrics", "", ""); status != http.StatusOK || !strings.Contains(body, "sessionhub_hub_connections") {
		t.Errorf("GET /metrics on --metrics-addr: status %d, want 200 with hub metrics", status)
	}
	if _, _, body := request(t, http.MethodGet, h.URL+"/metrics", "", ""); strings.Contains(body, "sessionhub_hub_connections") {
		t.Errorf("GET /metrics on the main address still serves metrics, want them moved to --metrics-addr")
	}
}

func TestServePprofOnlyOnMetricsAddr(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	h := startHub(t, []string{"--metrics-addr", addr, "--pprof", "on"}, nil)
	if status, _, body := request(t, http.MethodGet, "http://"+addr+"/debug/pprof/heap?debug=1", "", ""); status != http.StatusOK || !strings.Contains(body, "heap profile") {
		t.Errorf("GET /debug/pprof/heap on --metrics-addr: status %d, want 200 with a heap profile", status)
	}
	if status, _, body := request(t, http.MethodGet, h.URL+"/debug/pprof/heap?debug=1", "", ""); strings.Contains(body, "heap profile") {
		t.Errorf("GET /debug/pprof/heap on the main address: status %d with a profile, want no profiler there", status)
	}
}

// TestServeShutdown: readiness goes false first, WebSockets close with 1001,
// then run returns nil.
func TestServeShutdown(t *testing.T) {
	h := startHub(t, []string{"--shutdown-delay", "1s", "--log-level", "info"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _ := dialWelcome(t, ctx, h)
	closed := make(chan error, 1)
	go func() {
		for {
			if _, _, err := ws.Read(ctx); err != nil {
				closed <- err
				return
			}
		}
	}()

	h.cancel() // as SIGTERM does
	eventually(t, 5*time.Second, "readyz answers 503 while stopping", func() bool {
		status, _, _ := request(t, http.MethodGet, h.URL+"/readyz", "", "")
		return status == http.StatusServiceUnavailable
	})
	select {
	case err := <-closed:
		if got, want := websocket.CloseStatus(err), websocket.StatusGoingAway; got != want {
			t.Errorf("WebSocket closed with %v (%v), want %v", got, err, want)
		}
	case <-ctx.Done():
		t.Fatal("the WebSocket was not closed")
	}
	if err := h.wait(t); err != nil {
		t.Fatalf("serve returned %v after a stop, want nil", err)
	}
	if _, err := http.Get(h.URL + "/healthz"); err == nil {
		t.Errorf("the hub still accepts connections after it stopped")
	}
	for _, want := range []string{"readiness is now false", "sessionhub stopped"} {
		if !strings.Contains(h.stderr.String(), want) {
			t.Errorf("stderr has no %q:\n%s", want, h.stderr.String())
		}
	}
}

func TestDashboardBase(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want string
	}{
		{"[::]:8080", "http://localhost:8080/"},
		{"0.0.0.0:9000", "http://localhost:9000/"},
		{"127.0.0.1:8081", "http://127.0.0.1:8081/"},
		{"[::1]:8082", "http://[::1]:8082/"},
	} {
		a, err := net.ResolveTCPAddr("tcp", tc.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := dashboardBase(a); got != tc.want {
			t.Errorf("dashboardBase(%s) = %s, want %s", tc.addr, got, tc.want)
		}
	}
}

// TestServeLimitFlags: the limit flags reach the REST side.
func TestServeLimitFlags(t *testing.T) {
	h := startHub(t, []string{"--max-log-message", "10", "--max-id-length", "8", "--max-console-data", "16"}, nil)
	for _, tc := range []struct {
		method, path, body string
		status             int
		field              string
	}{
		{http.MethodPost, "/sessions", `{"id":"toolong-9","accountId":"a"}`, 400, `"fieldName":"Id"`},
		{http.MethodPost, "/sessions", `{"id":"s1","accountId":"a"}`, 200, `"id":"s1"`},
		{http.MethodPost, "/sessions/s1/log", `{"message":"0123456789x"}`, 400, `"fieldName":"Message"`},
		{http.MethodPost, "/sessions/s1/log", `{"message":"0123456789"}`, 200, `"message":"0123456789"`},
		{http.MethodPatch, "/sessions/s1", `{"consoleData":"0123456789abcdefg"}`, 400, `"fieldName":"ConsoleData"`},
	} {
		status, _, body := request(t, tc.method, h.URL+tc.path, h.Token, tc.body)
		if status != tc.status || !strings.Contains(body, tc.field) {
			t.Errorf("%s %s %s: status %d body %s, want %d with %s", tc.method, tc.path, tc.body, status, body, tc.status, tc.field)
		}
	}
}

func TestServeRateLimitFlags(t *testing.T) {
	h := startHub(t, []string{"--rate-limit", "1", "--rate-burst", "3"}, nil)
	codes := map[int]int{}
	for range 6 {
		status, _, _ := request(t, http.MethodGet, h.URL+"/sessions", h.Token, "")
		codes[status]++
	}
	// A burst of 3 at 1/s: six requests made at once get at least two 429s
	// (even if the run took a few seconds), and never more than three.
	if codes[http.StatusTooManyRequests] < 2 || codes[http.StatusOK] < 3 || codes[http.StatusOK]+codes[http.StatusTooManyRequests] != 6 {
		t.Errorf("six requests under --rate-limit 1 --rate-burst 3 got %v, want 3 to 4 OK and the rest 429", codes)
	}
}

// TestServeAuthPublicKeys: ES256 tokens from another issuer verify with the
// keys of --auth-public-keys; a file without a key is refused before start.
func TestServeAuthPublicKeys(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "issuer.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	h := startHub(t, []string{"--auth-public-keys", file}, nil)
	tok, err := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"sub": "idp-user", "accounts": []string{"A"}, "role": "viewer", "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	if status, _, body := request(t, http.MethodGet, h.URL+"/sessions", tok, ""); status != http.StatusOK {
		t.Errorf("GET /sessions with an ES256 token of the configured key: status %d %s, want 200", status, body)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	forged, _ := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"sub": "x", "accounts": []string{"A"}, "role": "viewer", "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString(other)
	if status, _, _ := request(t, http.MethodGet, h.URL+"/sessions", forged, ""); status != http.StatusUnauthorized {
		t.Errorf("GET /sessions with an ES256 token of another key: status %d, want 401", status)
	}

	empty := filepath.Join(t.TempDir(), "empty.pem")
	if err := os.WriteFile(empty, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err = run(context.Background(), []string{"serve", "--auth-public-keys", empty}, func(string) string { return "" }, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "--auth-public-keys") {
		t.Errorf("serve with a PEM file without keys: %v, want an error naming --auth-public-keys", err)
	}
}
