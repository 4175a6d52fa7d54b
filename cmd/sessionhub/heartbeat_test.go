package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServeHeartbeatFlags: --ping-interval and --pong-timeout reach the hub.
// The welcome states the interval, and a client that never reads (so never
// answers a ping) is dropped within about one interval plus the timeout.
func TestServeHeartbeatFlags(t *testing.T) {
	h := startHub(t, []string{"--ping-interval", "300ms", "--pong-timeout", "300ms"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, msg := dialWelcome(t, ctx, h)
	var welcome struct{ HeartbeatSeconds int }
	if err := json.Unmarshal(msg, &welcome); err != nil {
		t.Fatalf("welcome %s: %v", msg, err)
	}
	if welcome.HeartbeatSeconds != 1 {
		t.Errorf("heartbeatSeconds = %d, want 1 (300ms rounded up)", welcome.HeartbeatSeconds)
	}
	// Not reading from ws now: its pings go unanswered.
	eventually(t, 5*time.Second, "the hub drops a client that does not answer pings", func() bool {
		_, _, body := request(t, http.MethodGet, h.URL+"/metrics", "", "")
		return strings.Contains(body, "\nsessionhub_hub_ping_timeouts_total 1\n")
	})
}

func TestHeartbeatFlagDefaults(t *testing.T) {
	c, err := parseServe(nil, env(nil), newSyncBuffer())
	if err != nil {
		t.Fatal(err)
	}
	if c.PingInterval != 25*time.Second || c.PongTimeout != 10*time.Second {
		t.Errorf("ping interval %v, pong timeout %v; want 25s and 10s (DESIGN §3)", c.PingInterval, c.PongTimeout)
	}
	c, err = parseServe(nil, env(map[string]string{"SESSIONHUB_PING_INTERVAL": "5s", "SESSIONHUB_PONG_TIMEOUT": "2s"}), newSyncBuffer())
	if err != nil {
		t.Fatal(err)
	}
	if c.PingInterval != 5*time.Second || c.PongTimeout != 2*time.Second {
		t.Errorf("from env: ping interval %v, pong timeout %v; want 5s and 2s", c.PingInterval, c.PongTimeout)
	}
}
