// Package e2e drives the agent console as a person would: it builds the real
// sessionhub binary, runs it as a process on a loopback port, changes sessions
// through the REST API with net/http, and watches and clicks the dashboard in a
// real headless Chromium (through the DevTools protocol, with chromedp).
//
// The package holds only tests and their helpers. Without a Chromium the tests
// skip with a message, unless SESSIONHUB_REQUIRE_BROWSER is set (as in CI), when
// they fail. Screenshots are written to e2e/artifacts/ (or $SESSIONHUB_ARTIFACTS);
// with SESSIONHUB_UPDATE_SCREENSHOT=1 the full-board and session-panel
// screenshots also refresh docs/board.png and docs/detail.png, the README's
// pictures.
package e2e
