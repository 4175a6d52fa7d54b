package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestBoardScreenshot fills a board with realistic traffic from
// `sessionhub simulate` and saves a full-board screenshot as an artifact; with
// SESSIONHUB_UPDATE_SCREENSHOT=1 it also refreshes docs/board.png, the README's
// picture.
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
	path := b.screenshot("board")
	if path == "" {
		t.Fatal("no board screenshot was written")
	}
	t.Logf("board screenshot: %s", path)
	if update {
		png, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("read the screenshot: %v", err)
		}
		dst := filepath.Join(moduleRoot, "docs", "board.png")
		if err := os.WriteFile(dst, png, 0o644); err != nil {
			t.Fatalf("update %s: %v", dst, err)
		}
		t.Logf("updated %s", dst)
	}
}
