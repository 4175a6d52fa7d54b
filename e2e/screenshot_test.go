package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// TestBoardScreenshot fills a board with realistic traffic from
// `sessionhub simulate` and saves a full-board screenshot and one of a busy
// call's session panel as artifacts; with SESSIONHUB_UPDATE_SCREENSHOT=1 it
// also refreshes docs/board.png and docs/detail.png, the README's pictures.
func TestBoardScreenshot(t *testing.T) {
	// The hub is the test's own, so the account can have a presentable name.
	f := newFixtureFor(t, hubConfig{}, "acme-support")
	update := os.Getenv("SESSIONHUB_UPDATE_SCREENSHOT") == "1"
	// A quick run plays calls four times faster to fill the board in seconds;
	// the README's picture takes a minute at real speed, so that the chart has
	// history and few rows are the struck-through ones of just-ended calls.
	rate, speed := "4", "4"
	if update {
		rate, speed = "0.6", "1"
	}
	sim := exec.Command(hubBinary, "simulate", "--url", f.hub.Base, "--secret", f.hub.Secret,
		"--accounts", f.account, "--rate", rate, "--speed", speed, "--seed", "7", "--duration", "3m")
	sim.Env = hubEnv()
	out := &lockedBuffer{}
	sim.Stdout, sim.Stderr = out, out
	if err := sim.Start(); err != nil {
		t.Fatalf("start sessionhub simulate: %v", err)
	}
	done := make(chan struct{})
	go func() {
		_ = sim.Wait()
		close(done)
	}()
	stopSim := func() {
		select {
		case <-done:
			return
		default:
		}
		_ = sim.Process.Signal(syscall.SIGINT) // as Ctrl-C: calls in progress hang up
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("sessionhub simulate did not stop within 10s of SIGINT; killing it")
			_ = sim.Process.Kill()
			<-done
		}
	}
	t.Cleanup(func() {
		stopSim()
		if t.Failed() {
			t.Logf("sessionhub simulate output:\n%s", out.String())
		}
	})

	b := newBrowser(t, "supervisor")
	f.openBoard(b, f.token(t, "maya", "Maya Supervisor"))
	// A board worth a picture: a dozen calls in at least three call states, some
	// of them answered by an agent.
	full := `() => {
		const rows = [...document.querySelectorAll('[data-testid="session-row"]:not([data-ended])')];
		const states = new Set(rows.map((r) => r.dataset.callState));
		const answered = rows.filter((r) => r.querySelector('.agent')).length;
		return rows.length >= 12 && states.size >= 3 && answered >= 3;
	}`
	if !update {
		b.waitTrue("the simulated traffic fills the board", waitLong, full)
	} else {
		t.Log("SESSIONHUB_UPDATE_SCREENSHOT=1: letting the chart collect a minute of history")
		// The chart spans its whole width once it holds a minute of history.
		b.waitTrue("the chart holds a minute of history", 2*time.Minute, `() => {
			const d = document.querySelector('#chart path.area')?.getAttribute('d') ?? '';
			const m = /^M([\d.]+),/.exec(d);
			return m && Number(m[1]) <= 6;
		}`)
		b.waitTrue("a full board with at most two just-ended rows", time.Minute,
			`() => (`+full+`)() && document.querySelectorAll('[data-testid="session-row"][data-ended]').length <= 2`)
	}
	// Member avatars sit side by side: no disc covers another's initials, and
	// two-letter initials fit inside their disc.
	if bad := eval[[]string](b, avatarProblemsJS); len(bad) > 0 {
		t.Errorf("member avatars on the board: %q", bad)
	}
	if n := eval[int](b, `document.querySelectorAll('.c-members .stack > .avatar').length`); n < 12 {
		t.Errorf("the board shows %d member avatars, want at least 12 to check", n)
	}
	path := b.screenshot("board")
	if path == "" {
		t.Fatal("no board screenshot was written")
	}
	t.Logf("board screenshot: %s", path)
	if update {
		publishScreenshot(t, path, "board.png")
	}

	// The session panel of a call in full swing: an agent and the caller on it,
	// console notes, a log of what happened.
	openRichDetail(t, b)
	path = b.screenshot("detail")
	if path == "" {
		t.Fatal("no detail screenshot was written")
	}
	t.Logf("detail screenshot: %s", path)
	if update {
		publishScreenshot(t, path, "detail.png")
	}
}

// avatarProblemsJS lists every member avatar on the board whose initials do
// not fit its disc or whose disc overlaps its neighbour's.
const avatarProblemsJS = `(() => {
	const bad = [];
	for (const stack of document.querySelectorAll('.c-members .stack')) {
		const avs = [...stack.querySelectorAll(':scope > .avatar')];
		avs.forEach((a, i) => {
			const text = [...a.childNodes].find((n) => n.nodeType === Node.TEXT_NODE);
			const box = a.getBoundingClientRect();
			if (text) {
				const r = document.createRange();
				r.selectNodeContents(text);
				const t = r.getBoundingClientRect();
				if (t.left < box.left || t.right > box.right) bad.push('initials wider than the disc: ' + text.textContent);
			}
			if (i > 0 && avs[i - 1].getBoundingClientRect().right > a.getBoundingClientRect().left) {
				bad.push('overlapping discs: ' + avs[i - 1].textContent + ' and ' + a.textContent);
			}
		});
	}
	return bad;
})()`

// richDetailJS is true when the open panel shows a call in progress with at
// least two members, console notes and three log entries.
const richDetailJS = `() => {
	const d = document.querySelector('[data-testid="session-detail"]');
	if (!d || d.hidden || !d.querySelector('[data-testid="detail-ended"]')?.hidden) return false;
	return d.querySelectorAll('[data-testid="detail-members"] .member').length >= 2 &&
		d.querySelectorAll('[data-testid="detail-log"] .log-entry').length >= 3 &&
		(d.querySelector('[data-testid="console-data"]')?.value ?? '') !== '';
}`

// openRichDetail opens, from the board, the panel of a connected call that has
// an agent on it, trying the next such call when one ends or is still too new.
func openRichDetail(t *testing.T, b *browser) {
	t.Helper()
	candidates := `() => [...document.querySelectorAll('[data-testid="session-row"][data-call-state="Connected"]:not([data-ended])')]
		.filter((r) => r.querySelector('.agent') && r.querySelectorAll('.c-members .avatar').length >= 2)
		.map((r) => r.dataset.sessionId)`
	deadline := time.Now().Add(time.Minute)
	tried := map[string]bool{}
	for time.Now().Before(deadline) {
		b.waitTrue("a connected call with an agent and the caller on it", waitLong, `() => (`+candidates+`)().length > 0`)
		var id string
		for _, c := range eval[[]string](b, `(`+candidates+`)()`) {
			if !tried[c] {
				id = c
				break
			}
		}
		if id == "" {
			clear(tried) // every candidate was tried once; calls move on, so try again
			continue
		}
		tried[id] = true
		b.click(rowSel(id))
		if b.poll(8*time.Second, richDetailJS) == nil {
			// The pointer leaves the list, so no row shows a hover in the picture.
			b.do("move the mouse away", waitShort, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, input.DispatchMouseEvent, input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMouseMoved, X: 400, Y: 20})
				return err
			}))
			return
		}
	}
	t.Fatalf("no connected call showed members, notes and three log entries in its panel within a minute")
}

// publishScreenshot copies an artifact to docs/<name>, where the README shows it.
func publishScreenshot(t *testing.T, path, name string) {
	t.Helper()
	png, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the screenshot: %v", err)
	}
	dst := filepath.Join(moduleRoot, "docs", name)
	if err := os.WriteFile(dst, png, 0o644); err != nil {
		t.Fatalf("update %s: %v", dst, err)
	}
	t.Logf("updated %s", dst)
}
