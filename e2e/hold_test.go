package e2e

import (
	"testing"
)

// Selectors inside the session detail panel.
const (
	detailSel     = `[data-testid="session-detail"]`
	holdBtnSel    = detailSel + ` [data-testid="hold-button"]`
	resumeBtnSel  = detailSel + ` [data-testid="resume-button"]`
	detailCallSel = detailSel + ` [data-testid="call-state"]`
	detailHoldSel = detailSel + ` [data-testid="hold-reason"]`
)

// TestHoldInOneBrowserShowsInAnother: two agents, each in their own browser,
// watch the same account. Alice presses Hold; Bob's board shows the call on
// hold. Bob presses Resume; Alice's board shows it connected again.
func TestHoldInOneBrowserShowsInAnother(t *testing.T) {
	f := newFixture(t, hubConfig{})
	s := f.createCall(t, map[string]any{"fromName": "Fay Twobrowsers", "callState": "Connected"})

	alice := newBrowser(t, "alice")
	bob := newBrowser(t, "bob")
	f.openBoard(alice, f.agentToken)
	f.openBoard(bob, f.token(t, "bob", "Bob Agent"))
	alice.waitText("alice's row", rowStateSel(s.ID), "Connected", waitShort)
	bob.waitText("bob's row", rowStateSel(s.ID), "Connected", waitShort)

	// Alice opens the call from her board and holds it.
	alice.click(rowSel(s.ID))
	alice.waitText("alice's detail", detailCallSel, "Connected", waitShort)
	alice.click(holdBtnSel)

	bob.waitText("bob's row after alice's Hold", rowStateSel(s.ID), "Hold", waitShort)
	alice.waitText("alice's row after her Hold", rowStateSel(s.ID), "Hold", waitShort)
	alice.waitText("alice's detail after her Hold", detailHoldSel, "On hold", waitShort)
	if got := f.agent.get(t, s.ID); got.CallState != "Hold" || got.HeldBy != "alice" {
		t.Errorf("after alice's Hold the server has callState %q heldByUserId %q, want Hold and alice", got.CallState, got.HeldBy)
	}
	bob.screenshot("sees-hold")

	// Bob opens the held call and resumes it.
	bob.click(rowSel(s.ID))
	bob.waitText("bob's detail", detailHoldSel, "On hold", waitShort)
	bob.click(resumeBtnSel)
	alice.waitText("alice's row after bob's Resume", rowStateSel(s.ID), "Connected", waitShort)
	alice.waitText("alice's detail after bob's Resume", detailCallSel, "Connected", waitShort)
	// Alice's Hold button is usable again: her panel followed Bob's change.
	alice.waitTrue("alice's Hold button is enabled again", waitShort,
		`(sel) => document.querySelector(sel)?.disabled === false`, holdBtnSel)
	if got := f.agent.get(t, s.ID); got.CallState != "Connected" || got.HeldBy != "" {
		t.Errorf("after bob's Resume the server has callState %q heldByUserId %q, want Connected and none", got.CallState, got.HeldBy)
	}
	alice.screenshot("sees-resume")
}
