package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/sessionhub/sessionhub/auth"
)

const (
	userNameSel   = `[data-testid="user-name"]`
	signinSel     = `[data-testid="signin-form"]`
	signinMsgSel  = `[data-testid="signin-message"]`
	signinTextSel = `[data-testid="signin-token"]`
)

// TestSignInFromPrintedLink: a hub without --auth-secret prints a dashboard link
// carrying a token. Opening it signs the tab in: the token leaves the address
// bar (so it is not bookmarked or shared) and the user's name shows.
func TestSignInFromPrintedLink(t *testing.T) {
	needBrowser(t)
	h := startHub(t, hubConfig{}) // no secret: the hub makes one and prints a ready link
	if !strings.Contains(h.Link, "#token=") {
		t.Fatalf("the hub without --auth-secret printed %q, want a dashboard link with #token=", redactToken(h.Link))
	}
	b := newBrowser(t, "admin")
	b.open(h.Link)
	b.waitText("the signed-in user's name", userNameSel, "Admin", waitShort)
	if loc := eval[string](b, `location.href`); strings.Contains(loc, "token") {
		t.Errorf("the address bar still holds the token: %s", redactToken(loc))
	}
	if loc := eval[string](b, `location.href`); loc != h.Base {
		t.Errorf("the address bar shows %q, want %q", redactToken(loc), h.Base)
	}
	// The token covers every account, so the console asks which board to open.
	b.visible(`[data-testid="account-picker"]`)
	b.screenshot("signed-in")
}

// TestExpiredTokenLeadsToSignIn: a link with an expired token lands on the
// sign-in form with a message that says so; a fresh token pasted into the form
// signs in; a token that expires while the board is open leads back to sign-in.
func TestExpiredTokenLeadsToSignIn(t *testing.T) {
	f := newFixture(t, hubConfig{})
	now := time.Now()
	expired, err := auth.Sign([]byte(f.hub.Secret),
		auth.Claims{Subject: "alice", Name: "Alice Agent", Accounts: []string{f.account}, Role: auth.RoleAgent},
		now.Add(-time.Minute), now.Add(-time.Hour))
	if err != nil {
		t.Fatalf("sign an expired token: %v", err)
	}

	b := newBrowser(t, "alice")
	b.open(boardURL(f.hub, f.account, expired))
	b.visible(signinSel)
	b.visible(signinMsgSel)
	if msg := b.textOf(signinMsgSel); !strings.Contains(strings.ToLower(msg), "expired") {
		t.Errorf("the sign-in message is %q, want one that says the token expired", msg)
	}
	if loc := eval[string](b, `location.href`); strings.Contains(loc, "token=") {
		t.Errorf("the address bar still holds the expired token: %s", redactToken(loc))
	}
	b.screenshot("expired-link")

	// Pasting a fresh token signs in and opens the account's board (the URL
	// still names it).
	b.typeInto(signinTextSel, f.agentToken)
	b.click(`[data-testid="signin-submit"]`)
	b.waitText("the signed-in user's name", userNameSel, "Alice Agent", waitShort)
	b.waitText("the connection indicator", connSel, "live", waitLong)

	// A token that runs out while the board is open leads back to sign-in. JWT
	// expiry has one-second resolution: two seconds from now is expired soon
	// after, whatever the rounding. The new link differs from the open page only
	// in its fragment, so the browser does not reload: the console must take the
	// token from the fragment change (the 1-hour token would otherwise stay).
	short := mintToken(t, f.hub.Secret, tokenSpec{User: "alice", Name: "Alice Agent", Role: "agent",
		Accounts: []string{f.account}, TTL: 2 * time.Second})
	b.open(boardURL(f.hub, f.account, short))
	b.waitText("the connection indicator", connSel, "live", waitLong)
	b.visible(signinSel) // WaitVisible polls until the form is shown (within 5 s)
	if msg := b.textOf(signinMsgSel); !strings.Contains(strings.ToLower(msg), "expired") {
		t.Errorf("after the token ran out the sign-in message is %q, want one that says the sign-in expired", msg)
	}
	b.screenshot("expired-while-open")
}

// TestOneAccountLandsOnItsBoard: a token with a single account opens that
// account's board directly (no picker), and the account goes into the URL so
// the board can be bookmarked.
func TestOneAccountLandsOnItsBoard(t *testing.T) {
	f := newFixture(t, hubConfig{})
	s := f.createCall(t, map[string]any{"fromName": "Ida Direct", "callState": "Ringing"})
	b := newBrowser(t, "alice")
	b.open(f.hub.Base + "#token=" + f.agentToken)
	b.waitText("the connection indicator", connSel, "live", waitLong)
	b.waitText("the row of the account's call", rowStateSel(s.ID), "Ringing", waitShort)
	if got := b.textOf(`[data-testid="current-account"]`); got != f.account {
		t.Errorf("the top bar names account %q, want %q", got, f.account)
	}
	if q := eval[string](b, `location.search`); !strings.Contains(q, "account="+f.account) {
		t.Errorf("the URL's query is %q, want account=%s in it (a bookmarkable board)", q, f.account)
	}
}
