package e2e

import (
	"fmt"
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

// TestEndedRowLeavesInPlace: a call that ends stays in its place on the board,
// struck through, and fades out from there: it never jumps (to the top or
// anywhere else) on its way out, even when the board re-renders meanwhile.
// Alice sorts by longest in state (the default), Bob by recently changed, where
// the end itself is the newest change.
func TestEndedRowLeavesInPlace(t *testing.T) {
	f := newFixture(t, hubConfig{})
	var ids []string
	for _, name := range []string{"Val First", "Wes Second", "Xia Third", "Yul Fourth", "Zed Fifth"} {
		ids = append(ids, f.createCall(t, map[string]any{"fromName": name, "callState": "Connected"}).ID)
	}
	alice := newBrowser(t, "alice")
	bob := newBrowser(t, "bob")
	f.openBoard(alice, f.agentToken)
	bob.open(f.hub.Base + "?account=" + f.account + "&sort=modified#token=" + f.token(t, "bob", "Bob Agent"))
	bob.waitText("bob's connection indicator", connSel, "live", waitLong)
	// Longest in state lists the calls oldest first, recently changed newest
	// first: the call that leaves is one in the middle of both lists.
	type watch struct {
		b     *browser
		order []string
		at    int
	}
	var watches []watch
	for _, b := range []*browser{alice, bob} {
		for _, id := range ids {
			b.visible(rowSel(id))
		}
		watches = append(watches, watch{b: b, order: b.rowOrder()})
	}
	var leaving string
	for _, id := range ids {
		inMiddle := true
		for _, w := range watches {
			i := slices.Index(w.order, id)
			inMiddle = inMiddle && i > 0 && i < len(ids)-1
		}
		if inMiddle {
			leaving = id
			break
		}
	}
	if leaving == "" {
		t.Fatalf("no call is in the middle of both boards: alice shows %v, bob %v", watches[0].order, watches[1].order)
	}
	for i := range watches {
		watches[i].at = slices.Index(watches[i].order, leaving)
		watchLeaving(watches[i].b, leaving)
	}

	f.agent.patch(t, leaving, map[string]any{"callState": "Disconnected"})
	for _, w := range watches {
		w.b.waitTrue("the row is struck through", waitShort, `(sel) => document.querySelector(sel)?.dataset.ended === 'true'`, rowSel(leaving))
	}
	// A wrap-up note while it lingers: under "recently changed" a second reason to jump.
	f.agent.patch(t, leaving, map[string]any{"consoleData": "wrap-up: resolved"})
	// As it starts to leave, another row changes: the board re-renders and
	// re-sorts around the leaving row.
	alice.waitTrue("the row starts to leave", waitLong, `(sel) => document.querySelector(sel)?.classList.contains('row-exit')`, rowSel(leaving))
	// (Bob's top row: it changes without passing the leaving row on either board.)
	f.agent.patch(t, watches[1].order[0], map[string]any{"consoleData": "re-render while a row leaves"})
	for _, w := range watches {
		w.b.waitTrue("the row is gone", waitShort, `() => window.e2eExit.done`)
		seen := eval[[]string](w.b, `window.e2eExit.seen.filter((s, i, a) => i === 0 || a[i - 1] !== s)`)
		want := []string{fmt.Sprintf("%d:live", w.at), fmt.Sprintf("%d:ended", w.at), fmt.Sprintf("%d:exit", w.at)}
		if !slices.Equal(seen, want) {
			t.Errorf("browser %s (sort %s): the leaving row went through %v (index:look per frame, repeats dropped), want %v: it must keep its place while it ends and fades",
				w.b.name, w.b.value(`[data-testid="sort"]`), seen, want)
		}
	}
}

// watchLeaving notes, on every animation frame until the row of id is gone,
// where that row is among the board's rows and how it looks (live, ended or
// exiting), in window.e2eExit.
func watchLeaving(b *browser, id string) {
	b.tb.Helper()
	eval[bool](b, `((id) => {
		window.e2eExit = { seen: [], done: false };
		const look = () => {
			const rows = [...document.querySelectorAll('[data-testid="session-row"]')];
			const i = rows.findIndex((r) => r.dataset.sessionId === id);
			if (i < 0) { window.e2eExit.done = true; return; }
			const r = rows[i];
			window.e2eExit.seen.push(i + (r.classList.contains('row-exit') ? ':exit' : r.dataset.ended ? ':ended' : ':live'));
			requestAnimationFrame(look);
		};
		look();
		return true;
	})(`+jsString(id)+`)`)
}
