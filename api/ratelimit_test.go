package api

import (
	"testing"
	"time"

	"github.com/sessionhub/sessionhub/auth"
)

func TestLimiterBucket(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	l := newLimiter(2, 3, func() time.Time { return now })
	for i := range 3 {
		if !l.allow("u") {
			t.Fatalf("request %d of a burst of 3 refused", i+1)
		}
	}
	if l.allow("u") {
		t.Fatal("4th request in the same instant allowed, want refused")
	}
	if !l.allow("v") {
		t.Fatal("another user refused, want buckets per user")
	}
	now = now.Add(500 * time.Millisecond) // 2/s refills one token
	if !l.allow("u") || l.allow("u") {
		t.Fatal("after 0.5s at 2/s: want exactly one more request")
	}
	now = now.Add(2 * time.Minute)
	l.allow("v")
	if _, ok := l.buckets["u"]; ok {
		t.Error("an idle, refilled bucket was kept, want it swept")
	}
	if newLimiter(0, 0, time.Now) != nil {
		t.Error("rate 0 made a limiter, want none")
	}
}

func TestRateLimit429(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.RateLimit, c.RateBurst = 0.001, 2 })
	e.seed(t, "s1", "A")
	tok := bearer(e.token(t, auth.RoleViewer, "A"))
	for range 2 {
		wantStatus(t, e.req(t, "GET", "/sessions/s1", "", tok), 200)
	}
	r := e.req(t, "GET", "/sessions/s1", "", tok)
	wantStatus(t, r, 429)
	wantContains(t, r.body, `"errorCode":"TooManyRequests"`)
	if got := r.header.Get("Retry-After"); got == "" {
		t.Error("429 without Retry-After")
	}
	wantStatus(t, e.req(t, "GET", "/healthz", ""), 200)
}
