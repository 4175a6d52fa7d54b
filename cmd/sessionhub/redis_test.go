package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sessionhub/sessionhub/internal/redistest"
)

// TestRedisStateSurvivesRestart: a session written through one hub process is
// there, at the same version, for the next process on the same Redis.
func TestRedisStateSurvivesRestart(t *testing.T) {
	url, prefix := redistest.URL(t)
	const secret = "restart-test-secret-0123456789abc"
	environ := map[string]string{"SESSIONHUB_REDIS_URL": url, "SESSIONHUB_AUTH_SECRET": secret}
	args := []string{"--key-prefix", prefix}
	tok, err := mintToken([]byte(secret), "ops", "", []string{"acme-1"}, "service", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}

	first := startHub(t, args, environ)
	if status, _, body := request(t, http.MethodGet, first.URL+"/readyz", "", ""); status != http.StatusOK {
		t.Fatalf("readyz on Redis: %d %s", status, body)
	}
	if status, _, body := request(t, http.MethodPost, first.URL+"/sessions", tok, `{"id":"r1","accountId":"acme-1"}`); status != http.StatusOK {
		t.Fatalf("create: %d %s", status, body)
	}
	if status, _, body := request(t, http.MethodPatch, first.URL+"/sessions/r1", tok, `{"consoleData":"before restart","callState":"Connected"}`); status != http.StatusOK {
		t.Fatalf("patch: %d %s", status, body)
	}
	if err := first.stop(t); err != nil {
		t.Fatalf("first hub: %v", err)
	}

	second := startHub(t, args, environ)
	status, hdr, body := request(t, http.MethodGet, second.URL+"/sessions/r1", tok, "")
	if status != http.StatusOK {
		t.Fatalf("GET after restart: %d %s", status, body)
	}
	if !strings.Contains(body, `"consoleData":"before restart"`) || !strings.Contains(body, `"callState":"Connected"`) {
		t.Errorf("after restart the session is %s, want the patched state", body)
	}
	if got, want := hdr.Get("ETag"), `"2"`; got != want {
		t.Errorf("ETag after restart = %s, want %s", got, want)
	}
}

// TestRedisDownAtStart: the hub starts anyway, not ready, with a warning, and
// becomes ready once Redis answers.
func TestRedisDownAtStart(t *testing.T) {
	srv := redistest.Start(t)
	srv.Kill()
	h := startHub(t, []string{"--auth-secret", "redis-down-secret-0123456789abcd"}, map[string]string{"SESSIONHUB_REDIS_URL": srv.URL()})
	if !strings.Contains(h.stderr.String(), "Redis does not answer yet") {
		t.Errorf("no warning about Redis on stderr:\n%s", h.stderr.String())
	}
	if status, _, _ := request(t, http.MethodGet, h.URL+"/healthz", "", ""); status != http.StatusOK {
		t.Errorf("healthz with Redis down: %d, want 200 (alive)", status)
	}
	if status, _, _ := request(t, http.MethodGet, h.URL+"/readyz", "", ""); status != http.StatusServiceUnavailable {
		t.Errorf("readyz with Redis down: %d, want 503", status)
	}
	// A write that cannot be stored is a 503 with Retry-After, never a success.
	tok, err := mintToken([]byte("redis-down-secret-0123456789abcd"), "ops", "", []string{"acme-1"}, "service", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct{ method, path, body string }{
		{http.MethodPost, "/sessions", `{"id":"d1","accountId":"acme-1"}`},
		{http.MethodPatch, "/sessions/d1", `{"consoleData":"lost?"}`},
	} {
		status, hdr, body := request(t, w.method, h.URL+w.path, tok, w.body)
		if status != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
			t.Errorf("%s %s with Redis down: %d (Retry-After %q) %s, want 503 with Retry-After", w.method, w.path, status, hdr.Get("Retry-After"), body)
		}
	}
	srv.Restart(t)
	eventually(t, 15*time.Second, "readyz turns 200 once Redis is up", func() bool {
		status, _, _ := request(t, http.MethodGet, h.URL+"/readyz", "", "")
		return status == http.StatusOK
	})
}
