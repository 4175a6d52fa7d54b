package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// themeToggleSel is the top bar's theme button: system → dark → light → system.
const themeToggleSel = `[data-testid="theme-toggle"]`

// bodyLuminanceJS is the relative luminance (0 black … 1 white) of the page's
// background as the browser paints it.
const bodyLuminanceJS = `(() => {
	const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/[\d.]+/g).map(Number);
	const lin = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
	return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
})()`

// TestThemeToggle: the theme button switches the whole console to dark and to
// light (whatever the system prefers), the choice survives a reload (it is
// applied before the first paint), and T cycles it from the keyboard.
// Screenshots of both themes are saved.
func TestThemeToggle(t *testing.T) {
	f := newFixture(t, hubConfig{})
	for _, c := range []struct{ from, call, queue string }{
		{"Nia Dark", "Connected", "Connected"}, {"Oto Light", "Ringing", "Queued"}, {"Pia Hold", "Hold", "None"},
	} {
		f.createCall(t, map[string]any{"fromName": c.from, "callState": c.call, "queueState": c.queue})
	}
	b := newBrowser(t, "alice")
	f.openBoard(b, f.agentToken)
	b.waitText("the active tile", `[data-testid="count-active"]`, "3", waitShort)
	if got := eval[string](b, `document.documentElement.dataset.theme ?? 'system'`); got != "system" {
		t.Fatalf("a fresh browser starts with theme %q, want system", got)
	}

	b.click(themeToggleSel)
	b.waitTrue("the theme is dark", waitShort, `() => document.documentElement.dataset.theme === 'dark'`)
	if err := b.poll(waitShort, `() => `+bodyLuminanceJS+` <= 0.05`); err != nil {
		t.Errorf("in the dark theme the page background has luminance %.3f, want a dark one (≤ 0.05)", eval[float64](b, bodyLuminanceJS))
	}
	b.screenshot("dark")

	b.click(themeToggleSel)
	b.waitTrue("the theme is light", waitShort, `() => document.documentElement.dataset.theme === 'light'`)
	if err := b.poll(waitShort, `() => `+bodyLuminanceJS+` >= 0.8`); err != nil {
		t.Errorf("in the light theme the page background has luminance %.3f, want a light one (≥ 0.8)", eval[float64](b, bodyLuminanceJS))
	}
	b.screenshot("light")

	// The choice is remembered: a reload paints the light theme from the start.
	b.do("reload", waitLong, chromedp.Reload())
	b.waitText("the connection indicator after a reload", connSel, "live", waitLong)
	if got := eval[string](b, `document.documentElement.dataset.theme ?? 'system'`); got != "light" {
		t.Errorf("after a reload the theme is %q, want light (the saved choice)", got)
	}
	// T cycles on from the keyboard: light → system.
	b.press("T", "t")
	b.waitTrue("T switches to the system theme", waitShort, `() => !('theme' in document.documentElement.dataset)`)
}
