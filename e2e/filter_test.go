package e2e

import (
	"strings"
	"testing"
)

// rowsAreJS is true when the board's rows are exactly the given ids, in any order.
const rowsAreJS = `(want) => {
	const got = [...document.querySelectorAll('[data-testid="session-row"]')].map((r) => r.dataset.sessionId).sort();
	return JSON.stringify(got) === JSON.stringify([...(want ?? [])].sort());
}`

// TestBoardFiltersAndSearch: the toolbar's call-state, queue-state and channel
// filters and the text search narrow the board to the matching sessions, the
// choice is kept in the URL (so a filtered board can be bookmarked), a live
// change moves a session into a filter, and clearing the filters brings every
// row back.
func TestBoardFiltersAndSearch(t *testing.T) {
	f := newFixture(t, hubConfig{})
	ada := f.createCall(t, map[string]any{"fromName": "Ada Lovelace", "callState": "Connected"})
	bob := f.createCall(t, map[string]any{"fromName": "Bob Queued", "callState": "Ringing", "queueState": "Queued"})
	cy := f.createCall(t, map[string]any{"fromName": "Cy Chat", "callState": "Connected", "channel": "Chat"})
	all := []string{ada.ID, bob.ID, cy.ID}

	b := newBrowser(t, "alice")
	f.openBoard(b, f.agentToken)
	b.waitTrue("every row on the board", waitShort, rowsAreJS, all)

	choose := func(sel, value string) {
		t.Helper()
		eval[bool](b, `(() => { const s = document.querySelector(`+jsString(sel)+`);
			s.value = `+jsString(value)+`; s.dispatchEvent(new Event('change', { bubbles: true })); return true; })()`)
	}
	checks := []struct {
		name, sel, value string
		want             []string
	}{
		{"call state Connected", `[data-testid="filter-call-state"]`, "Connected", []string{ada.ID, cy.ID}},
		{"channel Chat", `[data-testid="filter-channel"]`, "Chat", []string{cy.ID}},
	}
	for _, c := range checks {
		choose(c.sel, c.value)
		b.waitTrue("rows after filtering by "+c.name, waitShort, rowsAreJS, c.want)
	}
	if q := eval[string](b, `location.search`); !strings.Contains(q, "call=Connected") || !strings.Contains(q, "channel=Chat") {
		t.Errorf("the URL after filtering is %q, want call=Connected and channel=Chat in it (bookmarkable)", q)
	}

	// Queue filter: only the queued call; a live PATCH that queues Ada adds her.
	choose(`[data-testid="filter-call-state"]`, "")
	choose(`[data-testid="filter-channel"]`, "")
	choose(`[data-testid="filter-queue-state"]`, "Queued")
	b.waitTrue("rows after filtering by queue state Queued", waitShort, rowsAreJS, []string{bob.ID})
	f.agent.patch(t, ada.ID, map[string]any{"queueState": "Queued"})
	b.waitTrue("a session queued by a live change joins the filtered board", waitShort, rowsAreJS, []string{ada.ID, bob.ID})
	choose(`[data-testid="filter-queue-state"]`, "")

	// Text search matches words of the caller's name, case-insensitively.
	b.typeInto(`[data-testid="search"]`, "lovelace")
	b.waitTrue("rows after searching for lovelace", waitShort, rowsAreJS, []string{ada.ID})
	if q := eval[string](b, `location.search`); !strings.Contains(q, "q=lovelace") {
		t.Errorf("the URL after searching is %q, want q=lovelace in it", q)
	}
	b.typeInto(`[data-testid="search"]`, "nobody-matches-this")
	b.waitTrue("no row matches", waitShort, rowsAreJS, []string{})
	b.visible(`[data-testid="clear-filters"]`)
	b.click(`[data-testid="clear-filters"]`)
	b.waitTrue("every row after clearing the filters", waitShort, rowsAreJS, all)
	if q := eval[string](b, `location.search`); strings.Contains(q, "q=") || strings.Contains(q, "queue=") {
		t.Errorf("the URL after clearing the filters is %q, want no filter in it", q)
	}
}
