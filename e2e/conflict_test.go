package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

const (
	consoleSel      = detailSel + ` [data-testid="console-data"]`
	consoleSaveSel  = detailSel + ` [data-testid="console-save"]`
	consoleNoteSel  = detailSel + ` [data-testid="console-remote-change"]`
	conflictSel     = `dialog[data-testid="conflict-dialog"]`
	keepMineSel     = conflictSel + ` [data-testid="conflict-keep-mine"]`
	takeTheirsSel   = conflictSel + ` [data-testid="conflict-take-theirs"]`
	consoleValueJS  = `(sel, want) => document.querySelector(sel)?.value === want`
	conflictGoneJS  = `(sel) => !document.querySelector(sel)`
	remoteNoteShown = `(sel) => { const el = document.querySelector(sel); return el && !el.hidden; }`
)

// TestConsoleDataConflict produces a real 412 through the UI: the console-data
// editor keeps the version it was opened with while the agent types; someone
// else saves new console data through REST (the live update reaches the page,
// which warns but keeps the agent's text); Save then sends If-Match with the old
// version and the server refuses it. The conflict dialog shows the newer value,
// and both of its choices do what they say.
func TestConsoleDataConflict(t *testing.T) {
	f := newFixture(t, hubConfig{})
	s := f.createCall(t, map[string]any{"fromName": "Gus Conflict", "callState": "Connected", "consoleData": "original notes"})
	b := newBrowser(t, "alice")
	f.openBoard(b, f.agentToken)
	b.click(rowSel(s.ID))
	b.waitTrue("the editor shows the session's console data", waitShort, consoleValueJS, consoleSel, "original notes")

	// Round 1: keep mine.
	b.typeInto(consoleSel, "alice was here")
	f.agent.patch(t, s.ID, map[string]any{"consoleData": "bob's notes v1"})
	b.waitTrue("the editor warns that the console data changed", waitShort, remoteNoteShown, consoleNoteSel)
	if got := b.value(consoleSel); got != "alice was here" {
		t.Fatalf("the live update replaced the agent's unsaved text: editor has %q, want %q", got, "alice was here")
	}
	b.click(consoleSaveSel)
	b.visible(conflictSel)
	dialog := b.textOf(conflictSel)
	for _, want := range []string{"bob's notes v1", "alice was here"} {
		if !strings.Contains(dialog, want) {
			t.Errorf("the conflict dialog does not show %q; it says: %q", want, dialog)
		}
	}
	b.screenshot("conflict-dialog")
	b.click(keepMineSel)
	b.waitTrue("the dialog closes", waitShort, conflictGoneJS, conflictSel)
	b.waitTrue("the console status says Saved", waitShort,
		`(sel) => (document.querySelector(sel)?.textContent ?? '').startsWith('Saved')`, detailSel+` [data-testid="console-status"]`)
	if got := b.value(consoleSel); got != "alice was here" {
		t.Errorf("after Keep mine the editor has %q, want %q", got, "alice was here")
	}
	if got := f.agent.get(t, s.ID).ConsoleData; got != "alice was here" {
		t.Errorf("after Keep mine the server has consoleData %q, want %q", got, "alice was here")
	}
	// Created (1), bob's save (2), alice's save after Keep mine (3): her first,
	// stale save was refused, not stored.
	if _, etag, _ := f.agent.do(t, "GET", "/sessions/"+s.ID, nil, nil); etag != `"3"` {
		t.Errorf("after Keep mine the session's ETag is %s, want \"3\"", etag)
	}

	// Round 2: take theirs.
	b.typeInto(consoleSel, "alice again")
	f.agent.patch(t, s.ID, map[string]any{"consoleData": "bob's notes v2"})
	b.waitTrue("the editor warns that the console data changed", waitShort, remoteNoteShown, consoleNoteSel)
	b.click(consoleSaveSel)
	b.visible(conflictSel)
	if dialog := b.textOf(conflictSel); !strings.Contains(dialog, "bob's notes v2") {
		t.Errorf("the conflict dialog does not show the newer value %q; it says: %q", "bob's notes v2", dialog)
	}
	b.click(takeTheirsSel)
	b.waitTrue("the dialog closes", waitShort, conflictGoneJS, conflictSel)
	b.waitTrue("the editor shows their console data", waitShort, consoleValueJS, consoleSel, "bob's notes v2")
	if got := f.agent.get(t, s.ID).ConsoleData; got != "bob's notes v2" {
		t.Errorf("after Use theirs the server has consoleData %q, want %q (unchanged)", got, "bob's notes v2")
	}
	b.screenshot("took-theirs")
}

// typeInto replaces the text of a field by typing, as a person would: click,
// select all, type.
func (b *browser) typeInto(sel, text string) {
	b.tb.Helper()
	b.do("type into "+sel, waitShort,
		chromedp.Click(chromedp.CSS(sel)),
		chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.KeyEvent(text))
	b.waitTrue("the typed text is in "+sel, waitShort, consoleValueJS, sel, text)
}

// value returns the value of a form field.
func (b *browser) value(sel string) string {
	b.tb.Helper()
	return eval[string](b, `document.querySelector(`+jsString(sel)+`)?.value ?? ''`)
}
