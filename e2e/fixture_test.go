package e2e

import (
	"testing"
)

// connSel is the connection indicator in the top bar.
const connSel = `[data-testid="conn-state"]`

// fixture is a running hub with one account of the test's own, a service
// client that creates sessions, and an agent's token for the browser.
type fixture struct {
	hub     *hub
	account string
	service *restClient // role service: may create sessions
	agent   *restClient // role agent: what the console itself may do
	// agentToken signs the browser in as the agent "alice".
	agentToken string
}

// newFixture starts a hub as cfg says (the embedded store unless it names
// Redis) with an account of the test's own.
func newFixture(tb testing.TB, cfg hubConfig) *fixture {
	tb.Helper()
	return newFixtureFor(tb, cfg, uniqueID(tb, "acct"))
}

// newFixtureFor is newFixture with a chosen account id.
func newFixtureFor(tb testing.TB, cfg hubConfig, account string) *fixture {
	tb.Helper()
	needBrowser(tb)
	if cfg.Secret == "" {
		cfg.Secret = newSecret(tb)
	}
	h := startHub(tb, cfg)
	f := &fixture{hub: h, account: account}
	f.service = newREST(h.Base, mintToken(tb, cfg.Secret, tokenSpec{User: "callflow", Role: "service", Accounts: []string{account}}))
	f.agentToken = f.token(tb, "alice", "Alice Agent")
	f.agent = newREST(h.Base, f.agentToken)
	return f
}

// token mints an agent token for user on the fixture's account.
func (f *fixture) token(tb testing.TB, user, name string) string {
	tb.Helper()
	return mintToken(tb, f.hub.Secret, tokenSpec{User: user, Name: name, Role: "agent", Accounts: []string{f.account}})
}

// createCall makes a session on the fixture's account.
func (f *fixture) createCall(tb testing.TB, fields map[string]any) sessionInfo {
	tb.Helper()
	body := map[string]any{"accountId": f.account, "channel": "Voice", "direction": "Incoming"}
	for k, v := range fields {
		body[k] = v
	}
	return f.service.create(tb, body)
}

// openBoard opens the fixture account's board in b, signed in with token, and
// waits until it is live.
func (f *fixture) openBoard(b *browser, token string) {
	b.tb.Helper()
	b.open(boardURL(f.hub, f.account, token))
	b.waitText("connection indicator", connSel, "live", waitLong)
}

// openTwoBoards opens the fixture account's board in two browsers, signed in
// as the agents alice (the fixture's agent) and bob, and waits until both are
// live.
func (f *fixture) openTwoBoards(tb testing.TB) (alice, bob *browser) {
	tb.Helper()
	alice = newBrowser(tb, "alice")
	bob = newBrowser(tb, "bob")
	f.openBoard(alice, f.agentToken)
	f.openBoard(bob, f.token(tb, "bob", "Bob Agent"))
	return alice, bob
}
