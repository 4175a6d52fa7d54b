package e2e

import (
	"slices"
	"testing"
	"time"
)

// TestBoardShowsSnapshot: sessions made through REST before the page opens are
// on the board, each with its state badge; an ended one is not.
func TestBoardShowsSnapshot(t *testing.T) {
	f := newFixture(t, hubConfig{})
	calls := []struct {
		from, call, queue string
	}{
		{"Ada Ringing", "Ringing", "Queued"},
		{"Bob Connected", "Connected", "None"},
		{"Cy Holding", "Hold", "None"},
	}
	var ids []string
	for _, c := range calls {
		s := f.createCall(t, map[string]any{"fromName": c.from, "callState": c.call, "queueState": c.queue})
		ids = append(ids, s.ID)
	}
	gone := f.createCall(t, map[string]any{"fromName": "Dee Ended", "callState": "Connected"})
	f.agent.patch(t, gone.ID, map[string]any{"callState": "Disconnected"})

	b := newBrowser(t, "alice")
	f.openBoard(b, f.agentToken)
	for i, c := range calls {
		b.waitText(c.from+"'s state badge", rowStateSel(ids[i]), c.call, waitShort)
		if got := b.textOf(rowSel(ids[i]) + ` [data-testid="row-from"]`); got != c.from {
			t.Errorf("row %s shows caller %q, want %q", ids[i], got, c.from)
		}
	}
	if got, want := b.textOf(rowSel(ids[0])+` [data-testid="queue-state"]`), "Queued"; got != want {
		t.Errorf("queue badge of the ringing call: got %q, want %q", got, want)
	}
	if got := b.textOf(rowSel(ids[1]) + ` [data-testid="queue-state"]`); got != "" {
		t.Errorf("a call that is not queued shows a queue badge %q, want none", got)
	}
	rows := eval[[]string](b, `[...document.querySelectorAll('[data-testid="session-row"]')].map((r) => r.dataset.sessionId)`)
	slices.Sort(rows)
	want := slices.Sorted(slices.Values(ids))
	if !slices.Equal(rows, want) {
		t.Errorf("board rows: got %v, want %v (the ended session %s must not be listed)", rows, want, gone.ID)
	}
	if got, want := b.textOf(`[data-testid="count-active"]`), "3"; got != want {
		t.Errorf("active tile: got %q, want %q", got, want)
	}
	b.screenshot("snapshot")
}

// TestRESTPatchShowsWithinASecond: a PATCH through the REST API changes the
// row's badge on an open board in under a second, measured from the PATCH reply.
func TestRESTPatchShowsWithinASecond(t *testing.T) {
	f := newFixture(t, hubConfig{})
	s := f.createCall(t, map[string]any{"fromName": "Eve Latency", "callState": "Connected"})
	b := newBrowser(t, "alice")
	f.openBoard(b, f.agentToken)
	b.waitText("initial badge", rowStateSel(s.ID), "Connected", waitShort)

	for _, state := range []string{"Hold", "Connected", "Passive"} {
		f.agent.patch(t, s.ID, map[string]any{"callState": state})
		took := b.waitText("badge after PATCH callState="+state, rowStateSel(s.ID), state, 5*time.Second)
		t.Logf("PATCH callState=%s reached the board %v after the reply", state, took.Round(time.Millisecond))
		if took >= time.Second {
			t.Errorf("PATCH callState=%s took %v to show on the board, want < 1s", state, took)
		}
	}
	b.screenshot("after-patches")
}
