package e2e

import (
	"testing"

	"github.com/sessionhub/sessionhub/internal/redistest"
)

// TestBoardResumesAfterHubRestart: with the Redis store, the hub process is
// stopped (SIGTERM) under an open board; the indicator leaves "live". A new hub
// starts on the same port and the same Redis; a PATCH through it shows on the
// same, never reloaded, page, and the indicator is live again.
func TestBoardResumesAfterHubRestart(t *testing.T) {
	needBrowser(t)
	redisURL, prefix := redistest.URL(t)
	secret := newSecret(t)
	cfg := hubConfig{Secret: secret, RedisURL: redisURL, KeyPrefix: prefix}
	f := newFixture(t, cfg)
	s := f.createCall(t, map[string]any{"fromName": "Hal Restart", "callState": "Connected"})

	b := newBrowser(t, "alice")
	f.openBoard(b, f.agentToken)
	b.waitText("row before the restart", rowStateSel(s.ID), "Connected", waitShort)
	// A mark on the page proves later that it was never reloaded.
	eval[bool](b, `(window.e2eMark = true)`)

	f.hub.Stop()
	b.waitTrue("the indicator leaves live", waitShort,
		`(sel) => { const t = (document.querySelector(sel)?.textContent ?? '').trim(); return t !== '' && t !== 'live'; }`, connSel)
	t.Logf("with the hub down the indicator says %q", b.textOf(connSel))
	b.screenshot("hub-down")

	cfg.Addr = f.hub.Addr
	h2 := startHub(t, cfg)
	if h2.Addr != f.hub.Addr {
		t.Fatalf("the new hub listens on %s, want the old address %s", h2.Addr, f.hub.Addr)
	}
	newREST(h2.Base, f.agentToken).patch(t, s.ID, map[string]any{"callState": "Hold"})
	b.waitText("row after a PATCH through the new hub", rowStateSel(s.ID), "Hold", waitLong)
	b.waitText("the indicator after the restart", connSel, "live", waitLong)
	if !eval[bool](b, `window.e2eMark === true`) {
		t.Errorf("the page was reloaded during the restart; it should have resumed in place")
	}
	b.screenshot("resumed")
}
