package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

const (
	errorToastSel = `[data-testid="error-toast"]`
	toastMsgSel   = errorToastSel + ` [data-testid="toast-message"]`
)

// liveValveJS, run before the console's own scripts, lets a test hold back the
// page's incoming WebSocket messages (window.e2eLive.hold = true) and deliver
// them later, in order (window.e2eLive.release()): the page then misses a change
// for a while, as it would behind a slow network.
const liveValveJS = `(() => {
	const slot = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onmessage');
	const held = [];
	window.e2eLive = {
		hold: false,
		get held() { return held.length; },
		release() { this.hold = false; for (const deliver of held.splice(0)) deliver(); },
	};
	Object.defineProperty(WebSocket.prototype, 'onmessage', {
		configurable: true,
		get() { return slot.get.call(this); },
		set(fn) {
			slot.set.call(this, typeof fn !== 'function' ? fn : function (ev) {
				if (window.e2eLive.hold) { held.push(() => fn.call(this, ev)); return; }
				fn.call(this, ev);
			});
		},
	});
})();`

// installLiveValve makes every page the browser opens from now on carry liveValveJS.
func (b *browser) installLiveValve() {
	b.tb.Helper()
	b.do("install the live-update valve", waitShort, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: liveValveJS})
		return err
	}))
}

// TestServerErrorShowsInToast: an agent presses Resume on a held call that was
// ended behind the page's back (its live updates were held up). The server
// refuses with 409, and the error toast shows the server's own
// responseStatus.message; the panel then shows the session as it really is.
func TestServerErrorShowsInToast(t *testing.T) {
	f := newFixture(t, hubConfig{})
	s := f.createCall(t, map[string]any{"fromName": "Quinn Gone", "callState": "Connected"})
	f.agent.patch(t, s.ID, map[string]any{"callState": "Hold"})

	b := newBrowser(t, "alice")
	b.installLiveValve()
	f.openBoard(b, f.agentToken)
	b.click(rowSel(s.ID))
	b.waitText("the panel's call state", detailCallSel, "Hold", waitShort)
	b.waitTrue("Resume is enabled", waitShort, `(sel) => document.querySelector(sel)?.disabled === false`, resumeBtnSel)

	// The call ends while the page hears nothing of it.
	eval[bool](b, `(window.e2eLive.hold = true)`)
	f.service.patch(t, s.ID, map[string]any{"callState": "Disconnected"})
	// What the server says to anyone who resumes it now (a refusal changes nothing).
	status, _, body := f.agent.do(t, http.MethodPatch, "/sessions/"+s.ID, map[string]any{"callState": "Connected"}, nil)
	if status != http.StatusConflict {
		t.Fatalf("PATCH callState=Connected on an ended session: got status %d, want 409: %s", status, body)
	}
	var refusal struct {
		ResponseStatus struct{ Message string } `json:"responseStatus"`
	}
	if err := json.Unmarshal(body, &refusal); err != nil || refusal.ResponseStatus.Message == "" {
		t.Fatalf("the 409 carries no responseStatus.message (%v): %s", err, body)
	}
	want := refusal.ResponseStatus.Message
	if got := b.textOf(rowStateSel(s.ID)); got != "Hold" {
		t.Fatalf("the page learned of the end too early (its row says %q): the test needs it not to know", got)
	}

	b.click(resumeBtnSel)
	b.visible(errorToastSel)
	if got := b.textOf(toastMsgSel); got != want {
		t.Errorf("the error toast says %q, want the server's message %q", got, want)
	}
	if title := b.textOf(errorToastSel + ` .toast-title`); !strings.Contains(title, "Resume") {
		t.Errorf("the error toast's title is %q, want it to name the action (Resume)", title)
	}
	// The panel catches up with the server: ended, nothing left to resume.
	b.visible(detailSel + ` [data-testid="detail-ended"]`)
	b.waitTrue("Resume is disabled", waitShort, `(sel) => document.querySelector(sel)?.disabled === true`, resumeBtnSel)
	b.screenshot("error-toast")

	eval[bool](b, `(window.e2eLive.release(), true)`)
	if got := f.agent.get(t, s.ID); !got.Ended || got.CallState != "Disconnected" {
		t.Errorf("after the refused Resume the server has callState %q ended %v, want Disconnected and ended", got.CallState, got.Ended)
	}
}
