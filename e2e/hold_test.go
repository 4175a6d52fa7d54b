package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Selectors inside the session detail panel.
const (
	detailSel     = `[data-testid="session-detail"]`
	holdBtnSel    = detailSel + ` [data-testid="hold-button"]`
	resumeBtnSel  = detailSel + ` [data-testid="resume-button"]`
	detailCallSel = detailSel + ` [data-testid="call-state"]`
	detailHoldSel = detailSel + ` [data-testid="hold-reason"]`

	holdReasonSelSel = detailSel + ` [data-testid="hold-reason-select"]`
)

// TestHoldInOneBrowserShowsInAnother: two agents, each in their own browser,
// watch the same account. Alice presses Hold (reason Transferring); Bob's board
// shows the call on hold, transferring. Bob presses Resume; Alice's board shows it connected again.
func TestHoldInOneBrowserShowsInAnother(t *testing.T) {
	f := newFixture(t, hubConfig{})
	s := f.createCall(t, map[string]any{"fromName": "Fay Twobrowsers", "callState": "Connected"})

	alice, bob := f.openTwoBoards(t)
	alice.waitText("alice's row", rowStateSel(s.ID), "Connected", waitShort)
	bob.waitText("bob's row", rowStateSel(s.ID), "Connected", waitShort)

	// Alice opens the call from her board and holds it.
	alice.click(rowSel(s.ID))
	alice.waitText("alice's detail", detailCallSel, "Connected", waitShort)
	// She is handing the caller over: hold, reason Transferring.
	alice.do("choose the hold reason", waitShort, chromedp.SetValue(chromedp.CSS(holdReasonSelSel), "Transferring"))
	alice.click(holdBtnSel)

	bob.waitText("bob's row after alice's Hold", rowStateSel(s.ID), "Hold", waitShort)
	alice.waitText("alice's row after her Hold", rowStateSel(s.ID), "Hold", waitShort)
	alice.waitText("alice's detail after her Hold", detailCallSel, "Hold", waitShort)
	alice.waitText("alice's hold reason", detailHoldSel, "Transferring", waitShort)
	bob.waitText("bob's hold reason badge", rowSel(s.ID)+` [data-testid="hold-reason"]`, "Transferring", waitShort)
	if got := alice.textOf(detailSel + ` [data-testid="detail-time-in-state"]`); !strings.HasSuffix(got, "held by alice") {
		t.Errorf("alice's panel says %q about the hold, want it to say who holds the call (held by alice)", got)
	}
	if got := f.agent.get(t, s.ID); got.CallState != "Hold" || got.HeldBy != "alice" || got.HoldReason != "Transferring" {
		t.Errorf("after alice's Hold the server has callState %q heldByUserId %q holdReason %q, want Hold, alice and Transferring",
			got.CallState, got.HeldBy, got.HoldReason)
	}
	bob.screenshot("sees-hold")

	// Bob opens the held call and resumes it.
	bob.click(rowSel(s.ID))
	bob.waitText("bob's detail", detailCallSel, "Hold", waitShort)
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
