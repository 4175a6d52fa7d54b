package e2e

import (
	"regexp"
	"strconv"
	"testing"
)

// frameWatchJS starts checking, on every animation frame until stopped, that
// the chart's legend shows the same count as the summary tile of each call
// state, and records every frame where they differ.
const frameWatchJS = `(() => {
	const states = ['Connected', 'Hold', 'Ringing', 'Passive'];
	const text = (id) => document.querySelector('[data-testid="' + id + '"]')?.textContent.trim();
	window.e2eChart = { frames: 0, mismatches: [], stop: false };
	const check = () => {
		if (window.e2eChart.stop) return;
		window.e2eChart.frames++;
		for (const s of states) {
			const tile = text('count-' + s), legend = text('legend-' + s);
			if (tile !== legend) window.e2eChart.mismatches.push(s + ': tile ' + tile + ', legend ' + legend);
		}
		requestAnimationFrame(check);
	};
	check();
	return true;
})()`

var (
	windowLabelRE = regexp.MustCompile(`^last (?:minute|(\d+) minutes)$`)
	axisStartRE   = regexp.MustCompile(`^(\d+) min ago$`)
)

// TestChartAgreesWithTiles: the chart's legend never disagrees with the summary
// tiles, not even for a frame, while calls change state; the card's header and
// its time axis name the same span; and on a freshly opened board the chart
// marks where its history begins.
func TestChartAgreesWithTiles(t *testing.T) {
	f := newFixture(t, hubConfig{})
	a := f.createCall(t, map[string]any{"fromName": "Rae Chart", "callState": "Connected"})
	c := f.createCall(t, map[string]any{"fromName": "Sol Chart", "callState": "Connected"})
	f.createCall(t, map[string]any{"fromName": "Tia Chart", "callState": "Ringing"})
	b := newBrowser(t, "alice")
	f.openBoard(b, f.agentToken)
	b.waitText("the Connected tile", `[data-testid="count-Connected"]`, "2", waitShort)
	b.waitText("the Connected legend", `[data-testid="legend-Connected"]`, "2", waitShort)

	eval[bool](b, frameWatchJS)
	f.agent.patch(t, a.ID, map[string]any{"callState": "Hold"})
	b.waitText("the Hold tile", `[data-testid="count-Hold"]`, "1", waitShort)
	f.agent.patch(t, c.ID, map[string]any{"callState": "Passive"})
	b.waitText("the Passive tile", `[data-testid="count-Passive"]`, "1", waitShort)
	f.createCall(t, map[string]any{"fromName": "Uma Chart", "callState": "Ringing"})
	b.waitText("the Ringing tile", `[data-testid="count-Ringing"]`, "2", waitShort)
	f.agent.patch(t, a.ID, map[string]any{"callState": "Disconnected"})
	b.waitText("the Hold tile after the call ended", `[data-testid="count-Hold"]`, "0", waitShort)
	// A few more frames, so that a legend that lags behind would be caught.
	b.waitTrue("ten more frames", waitShort, `(n) => window.e2eChart.frames >= n`, eval[int](b, `window.e2eChart.frames`)+10)
	eval[bool](b, `(window.e2eChart.stop = true)`)
	if bad := eval[[]string](b, `window.e2eChart.mismatches`); len(bad) > 0 {
		t.Errorf("the chart legend disagreed with the tiles in %d checks (of %d frames), first: %q",
			len(bad), eval[int](b, `window.e2eChart.frames`), bad[0])
	}

	header := b.textOf(`[data-testid="chart-window"]`)
	axis := b.textOf(`[data-testid="chart-axis-start"]`)
	hm, am := windowLabelRE.FindStringSubmatch(header), axisStartRE.FindStringSubmatch(axis)
	if hm == nil || am == nil {
		t.Fatalf("chart header %q and axis start %q: want \"last minute\"/\"last N minutes\" and \"N min ago\"", header, axis)
	}
	minutes := 1
	if hm[1] != "" {
		minutes, _ = strconv.Atoi(hm[1])
	}
	if axisMin, _ := strconv.Atoi(am[1]); axisMin != minutes {
		t.Errorf("the chart header says %q but its axis starts at %q: they must name the same span", header, axis)
	}
	if minutes != 1 {
		t.Errorf("a board opened seconds ago charts %q, want the last minute (the span grows with its history)", header)
	}
	b.visible(`[data-testid="chart-opened"]`)
	b.screenshot("chart")
}
