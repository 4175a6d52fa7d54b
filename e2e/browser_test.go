package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// waitShort bounds a wait for something the page should do at once; waitLong
// one that involves a reconnect or a process start.
const (
	waitShort = 5 * time.Second
	waitLong  = 15 * time.Second
)

// browser is one Chromium process with one tab, owned by a test.
type browser struct {
	tb   testing.TB
	name string
	ctx  context.Context // the tab's chromedp context; no deadline of its own

	mu         sync.Mutex
	console    []string // console errors and warnings, shown when the test fails
	exceptions []string // uncaught exceptions: a bug in the console, so a failure
}

// newBrowser starts a fresh headless Chromium (its own profile directory) and
// opens a tab. name labels its screenshots and messages ("alice", "bob").
func newBrowser(tb testing.TB, name string) *browser {
	tb.Helper()
	needBrowser(tb)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browserPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// Two browsers watch each other in some tests: neither may be throttled
		// for being in the background.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(1440, 900),
	}
	// The browser lives at most a few minutes (the README screenshot takes a
	// minute and a half): a hung Chromium fails its test instead of the run.
	life, stopLife := context.WithTimeout(context.Background(), 4*time.Minute)
	alloc, stopAlloc := chromedp.NewExecAllocator(life, opts...)
	ctx, stopTab := chromedp.NewContext(alloc)
	b := &browser{tb: tb, name: name, ctx: ctx}
	tb.Cleanup(func() {
		stopTab()
		stopAlloc() // waits for the browser process to exit
		stopLife()
	})
	// A fixed viewport and reduced motion make screenshots show settled rows
	// instead of rows halfway through their entrance; the board works the same.
	reducedMotion := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: "reduce"}},
		})
		return err
	})
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1440, 900), reducedMotion); err != nil {
		tb.Fatalf("start %s (browser %s): %v", browserPath, name, err)
	}
	go b.collectConsole()
	// Registered last, so it runs first: a failing test leaves a picture.
	tb.Cleanup(func() {
		b.mu.Lock()
		for _, e := range b.exceptions {
			tb.Errorf("browser %s: uncaught exception in the console: %s", name, e)
		}
		b.mu.Unlock()
		if !tb.Failed() {
			return
		}
		b.screenshot("failed")
		b.mu.Lock()
		defer b.mu.Unlock()
		if len(b.console) > 0 {
			tb.Logf("browser %s console:\n  %s", name, strings.Join(b.console, "\n  "))
		}
	})
	return b
}

// collectConsole keeps the page's console errors and exceptions until the tab closes.
func (b *browser) collectConsole() {
	for m, err := range chromedp.Console(b.ctx) {
		if err != nil {
			return
		}
		if m.Type != chromedp.ConsoleException && m.Type != "error" && m.Type != "warning" {
			continue
		}
		b.mu.Lock()
		b.console = append(b.console, fmt.Sprintf("%s: %s", m.Type, m.Text))
		if m.Type == chromedp.ConsoleException {
			b.exceptions = append(b.exceptions, fmt.Sprintf("%s (%s:%d)", m.Text, m.URL, m.Line+1))
		}
		b.mu.Unlock()
	}
}

// do runs steps with a deadline, failing the test with what was being done.
func (b *browser) do(what string, d time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	b.tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.tb.Fatalf("browser %s: %s: %v", b.name, what, err)
	}
}

// open navigates to url and waits for the page to load.
func (b *browser) open(url string) {
	b.tb.Helper()
	b.do("open "+redactToken(url), waitLong, chromedp.Navigate(url))
}

// eval evaluates a JavaScript expression and returns its value.
func eval[T any](b *browser, expr string) T {
	b.tb.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitShort)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.tb.Fatalf("browser %s: evaluate %s: %v", b.name, expr, err)
	}
	return v
}

// textOf returns the trimmed text of the first element sel matches, or "" when
// there is none. It never waits.
func (b *browser) textOf(sel string) string {
	b.tb.Helper()
	return eval[string](b, fmt.Sprintf(`(document.querySelector(%s)?.textContent ?? '').trim()`, jsString(sel)))
}

// waitText waits until the first element sel matches shows text want, polling
// on every animation frame, and returns how long it waited. On timeout it
// fails the test with the text that was there instead.
func (b *browser) waitText(what, sel, want string, d time.Duration) time.Duration {
	b.tb.Helper()
	start := time.Now()
	err := b.poll(d, `(sel, want) => (document.querySelector(sel)?.textContent ?? '').trim() === want`, sel, want)
	if err != nil {
		b.tb.Fatalf("browser %s: %s: got %q after %v, want %q (%s: %v)", b.name, what, b.textOf(sel), d, want, sel, err)
	}
	return time.Since(start)
}

// waitTrue waits until the JavaScript function fn(...args) returns a truthy value.
func (b *browser) waitTrue(what string, d time.Duration, fn string, args ...any) {
	b.tb.Helper()
	if err := b.poll(d, fn, args...); err != nil {
		b.tb.Fatalf("browser %s: waiting until %s: %v", b.name, what, err)
	}
}

// poll runs chromedp.PollFunction with a timeout that is also the context's.
func (b *browser) poll(d time.Duration, fn string, args ...any) error {
	ctx, cancel := context.WithTimeout(b.ctx, d+time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.PollFunction[chromedp.Void](fn,
		chromedp.WithPollingArgs(args...), chromedp.WithPollingTimeout(d)))
	return err
}

// visible waits until sel matches a visible element.
func (b *browser) visible(sel string) {
	b.tb.Helper()
	b.do("wait for "+sel+" to show", waitShort, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// click waits until sel is visible and enabled, then clicks it with the mouse.
func (b *browser) click(sel string) {
	b.tb.Helper()
	b.do("click "+sel, waitShort,
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.WaitEnabled(chromedp.CSS(sel)),
		chromedp.Click(chromedp.CSS(sel)))
}

// screenshot saves what the browser shows as <artifacts>/<test>-<browser>-<label>.png.
// A failure to take it is logged, not fatal: it is evidence, not the test.
func (b *browser) screenshot(label string) string {
	// Let animations settle (reduced motion makes them one frame) and leaving
	// rows go, so the picture shows what a person sees a moment later.
	_ = b.poll(2*time.Second, `() => !document.querySelector('.row-exit') &&
		document.getAnimations().every((a) => a.playState !== 'running' || a.effect?.getComputedTiming().endTime === Infinity)`)
	ctx, cancel := context.WithTimeout(b.ctx, waitShort)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.tb.Logf("browser %s: screenshot %s: %v", b.name, label, err)
		return ""
	}
	return saveArtifact(b.tb, fmt.Sprintf("%s-%s-%s.png", b.tb.Name(), b.name, label), png)
}

// artifactsDir is $SESSIONHUB_ARTIFACTS, else e2e/artifacts (gitignored).
func artifactsDir() string {
	if d := os.Getenv("SESSIONHUB_ARTIFACTS"); d != "" {
		return d
	}
	return "artifacts"
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// saveArtifact writes data under the artifacts directory and returns its path.
func saveArtifact(tb testing.TB, name string, data []byte) string {
	tb.Helper()
	dir := artifactsDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Errorf("artifacts directory %s: %v", dir, err)
		return ""
	}
	path := filepath.Join(dir, unsafeName.ReplaceAllString(name, "_"))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Errorf("write artifact: %v", err)
		return ""
	}
	return path
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return fmt.Sprintf("%q", s) // Go's quoting is valid JavaScript for the selectors used here
}

// redactToken hides a token in a URL, so that failures never print one.
func redactToken(u string) string {
	if i := strings.Index(u, "token="); i >= 0 {
		return u[:i] + "token=…"
	}
	return u
}

// rowSel selects the board row of a session.
func rowSel(id string) string {
	return fmt.Sprintf(`[data-testid="session-row"][data-session-id=%q]`, id)
}

// rowStateSel selects the call-state badge of a session's board row.
func rowStateSel(id string) string {
	return rowSel(id) + ` [data-testid="call-state"]`
}

// boardURL is the dashboard of one account, signed in with token.
func boardURL(h *hub, account, token string) string {
	return h.Base + "?account=" + account + "#token=" + token
}

// press types keys into whatever has focus, one key at a time, as a person
// would (see the kb package for named keys such as kb.ArrowDown). Each key is a
// keyDown that carries its text, then a keyUp: the browser then types the text
// only when the page lets the keydown through, as with a real keyboard.
// (chromedp.KeyEvent sends the text as a separate char event, which a page's
// preventDefault cannot stop.)
func (b *browser) press(what, keys string) {
	b.tb.Helper()
	b.do("press "+what, waitShort, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, r := range keys {
			var down, up *input.DispatchKeyEventParams
			text := ""
			for _, k := range kb.Encode(r) {
				switch k.Type {
				case input.DispatchKeyEventTypeKeyDown, input.DispatchKeyEventTypeRawKeyDown:
					down = k
				case input.DispatchKeyEventTypeChar:
					text = k.Text
				case input.DispatchKeyEventTypeKeyUp:
					up = k
				}
			}
			if down == nil || up == nil {
				return fmt.Errorf("no key for %q", r)
			}
			down.Type, down.Text, down.UnmodifiedText = input.DispatchKeyEventTypeKeyDown, text, text
			for _, k := range []*input.DispatchKeyEventParams{down, up} {
				if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, *k); err != nil {
					return err
				}
			}
		}
		return nil
	}))
}

// focusedRow returns the session id of the board row that has focus, or "".
func (b *browser) focusedRow() string {
	b.tb.Helper()
	return eval[string](b, `document.activeElement?.closest?.('[data-testid="session-row"]') === document.activeElement
		? document.activeElement.dataset.sessionId : ''`)
}

// rowOrder returns the session ids of the board's rows, top to bottom.
func (b *browser) rowOrder() []string {
	b.tb.Helper()
	return eval[[]string](b, `[...document.querySelectorAll('[data-testid="session-row"]')].map((r) => r.dataset.sessionId)`)
}
