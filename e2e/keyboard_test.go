package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestKeyboardNavigation: a supervisor can work the board without a mouse. Tab
// from the toolbar reaches the list (one row is in the tab order), the arrow
// keys move between rows, Enter opens the session's panel, and Escape closes it
// and puts focus back on the row. "/" jumps to search, and ArrowDown from there
// returns to the list.
func TestKeyboardNavigation(t *testing.T) {
	f := newFixture(t, hubConfig{})
	var ids []string
	for _, name := range []string{"Kai Keys", "Lou Arrow", "Mo Enter"} {
		ids = append(ids, f.createCall(t, map[string]any{"fromName": name, "callState": "Connected"}).ID)
	}
	b := newBrowser(t, "alice")
	f.openBoard(b, f.agentToken)
	for _, id := range ids {
		b.visible(rowSel(id))
	}
	order := b.rowOrder()
	if len(order) != len(ids) {
		t.Fatalf("the board shows rows %v, want the %d sessions %v", order, len(ids), ids)
	}

	// Tab from the last toolbar control lands on the first row.
	b.do("focus the sort control", waitShort, chromedp.Focus(chromedp.CSS(`[data-testid="sort"]`)))
	b.press("Tab", kb.Tab)
	if got := b.focusedRow(); got != order[0] {
		t.Fatalf("after Tab from the sort control the focused row is %q, want the first row %q", got, order[0])
	}
	if n := eval[int](b, `document.querySelectorAll('[data-testid="session-row"][tabindex="0"]').length`); n != 1 {
		t.Errorf("%d rows are in the tab order, want exactly 1 (a roving tabindex)", n)
	}
	b.press("ArrowDown", kb.ArrowDown)
	b.press("ArrowDown", kb.ArrowDown)
	if got := b.focusedRow(); got != order[2] {
		t.Fatalf("after ArrowDown twice the focused row is %q, want the third row %q", got, order[2])
	}
	b.press("ArrowUp", kb.ArrowUp)
	if got := b.focusedRow(); got != order[1] {
		t.Fatalf("after ArrowUp the focused row is %q, want the second row %q", got, order[1])
	}
	b.screenshot("row-focused")

	// Enter opens the focused row's session.
	b.press("Enter", kb.Enter)
	b.visible(detailSel)
	b.waitText("the panel's session id", detailSel+` [data-testid="detail-id"]`, order[1], waitShort)
	if loc := eval[string](b, `location.search`); !strings.Contains(loc, "session="+order[1]) {
		t.Errorf("with the panel open the address is %q, want it to name session=%s", loc, order[1])
	}
	b.screenshot("detail-open")

	// Escape closes it and gives focus back to the row.
	b.press("Escape", kb.Escape)
	b.waitTrue("the panel closes", waitShort, `(sel) => document.querySelector(sel)?.hidden === true`, detailSel)
	if got := b.focusedRow(); got != order[1] {
		t.Errorf("after Escape the focused row is %q, want the row that was open, %q", got, order[1])
	}
	if loc := eval[string](b, `location.search`); strings.Contains(loc, "session=") {
		t.Errorf("after Escape the address still names a session: %q", loc)
	}

	// "/" jumps to search; ArrowDown goes back to the first row.
	b.press("/", "/")
	if got := eval[string](b, `document.activeElement?.dataset?.testid ?? ''`); got != "search" {
		t.Fatalf(`after "/" the focus is on %q, want the search field`, got)
	}
	b.press("ArrowDown", kb.ArrowDown)
	if got := b.focusedRow(); got != order[0] {
		t.Errorf("after ArrowDown from search the focused row is %q, want the first row %q", got, order[0])
	}
	if !slices.Equal(b.rowOrder(), order) {
		t.Errorf("the rows moved while the keyboard moved between them: %v, then %v", order, b.rowOrder())
	}
}
