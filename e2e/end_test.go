package e2e

import (
	"testing"
)

// Selectors of the End action: the button in the detail panel and the
// confirmation dialog's button.
const (
	endBtnSel     = detailSel + ` [data-testid="end-button"]`
	endConfirmSel = `[data-testid="end-confirm"]`
)

// TestEndFromDetailPanel: an agent presses End in the detail panel and confirms;
// the server has the session ended (Disconnected, dateCompleted set), the
// agent's panel shows it ended with End disabled, and the call leaves a second
// agent's board.
func TestEndFromDetailPanel(t *testing.T) {
	f := newFixture(t, hubConfig{})
	s := f.createCall(t, map[string]any{"fromName": "Gus Goodbye", "callState": "Connected"})

	alice, bob := f.openTwoBoards(t)
	bob.waitText("bob's row", rowStateSel(s.ID), "Connected", waitShort)

	alice.click(rowSel(s.ID))
	alice.waitText("alice's detail", detailCallSel, "Connected", waitShort)
	alice.click(endBtnSel)
	alice.click(endConfirmSel)

	alice.waitText("alice's detail after End", detailCallSel, "Disconnected", waitShort)
	alice.waitTrue("alice's End button is disabled once ended", waitShort,
		`(sel) => document.querySelector(sel)?.disabled === true`, endBtnSel)
	bob.waitTrue("the ended call leaves bob's board", waitLong,
		`(sel) => !document.querySelector(sel)`, rowSel(s.ID))
	got := f.agent.get(t, s.ID)
	if got.CallState != "Disconnected" || !got.Ended || got.DateCompleted == "" {
		t.Errorf("after End the server has callState %q ended %v dateCompleted %q, want Disconnected, true and a date",
			got.CallState, got.Ended, got.DateCompleted)
	}
}
