package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sessionhub/sessionhub/session"
)

// TestSimulateCreatesAndEndsSessions runs the simulator against an in-process
// hub for a short while, fast-forwarded: calls are created, played and ended,
// and when it stops no session is left active.
func TestSimulateCreatesAndEndsSessions(t *testing.T) {
	h := startHub(t, nil, nil)
	stdout, stderr := newSyncBuffer(), newSyncBuffer()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := run(ctx, []string{"simulate", "--url", h.URL + "/#token=" + h.Token, "--accounts", "2",
		"--rate", "25", "--duration", "1500ms", "--speed", "40", "--seed", "7"}, env(nil), stdout, stderr)
	if err != nil {
		t.Fatalf("simulate: %v\nstderr:\n%s", err, stderr.String())
	}
	summary := regexp.MustCompile(`simulated (\d+) calls .*: (\d+) ended .*; (\d+) requests, (\d+) errors`).FindStringSubmatch(stdout.String())
	if summary == nil {
		t.Fatalf("no summary on stdout:\n%s", stdout.String())
	}
	if summary[1] == "0" || summary[2] != summary[1] || summary[4] != "0" {
		t.Errorf("summary %q: want some calls, all ended, no errors\nstderr:\n%s", summary[0], stderr.String())
	}
	if !strings.Contains(stderr.String(), "calls: ") || !strings.Contains(stderr.String(), "?account=acme-1") {
		t.Errorf("stderr has no progress line or dashboard link:\n%s", stderr.String())
	}
	ended := listCount(t, h, h.Token, "ended=true&accountIds=acme-1,acme-2")
	if ended == 0 {
		t.Errorf("no ended sessions after the simulation")
	}
	if n := listCount(t, h, h.Token, "ended=false"); n != 0 {
		t.Errorf("%d sessions still active after the simulation stopped, want 0", n)
	}
	// Played calls leave a trail: log entries and notes.
	if n := listCount(t, h, h.Token, "callState=Disconnected"); n != ended {
		t.Errorf("%d disconnected sessions, want all %d ended ones", n, ended)
	}
	status, _, body := request(t, http.MethodGet, h.URL+"/sessions?ended=true&countPerPage=1000", h.Token, "")
	if status != http.StatusOK {
		t.Fatalf("list ended sessions: %d %s", status, body)
	}
	var page struct {
		Items []session.Info `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatalf("list ended sessions: %v", err)
	}
	var withMembers, withLog, withNotes int
	for _, s := range page.Items {
		if len(s.Members) > 0 {
			withMembers++
		}
		if len(s.Log) >= 2 {
			withLog++
		}
		if s.ConsoleData != "" {
			withNotes++
		}
	}
	t.Logf("%d ended calls: %d with members, %d with a log, %d with notes", len(page.Items), withMembers, withLog, withNotes)
	if withMembers == 0 || withLog == 0 || withNotes == 0 {
		t.Errorf("of %d ended calls, %d have members, %d a log of 2 or more entries, %d console notes; want some of each",
			len(page.Items), withMembers, withLog, withNotes)
	}
}

// TestSimulateKeepsGoingOnErrors: a hub that refuses the account's writes
// (the token covers another account) yields reported errors, not a crash.
func TestSimulateReportsServerErrors(t *testing.T) {
	const secret = "simulate-errors-secret-0123456789"
	h := startHub(t, nil, map[string]string{"SESSIONHUB_AUTH_SECRET": secret})
	tok, err := mintToken([]byte(secret), "sim", "", []string{"acme-1"}, "service", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr := newSyncBuffer(), newSyncBuffer()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = run(ctx, []string{"simulate", "--url", h.URL, "--token", tok, "--accounts", "acme-1,other",
		"--rate", "30", "--duration", "1s", "--speed", "50", "--seed", "3"}, env(nil), stdout, stderr)
	if err != nil {
		t.Fatalf("simulate: %v", err)
	}
	if !strings.Contains(stderr.String(), "error: POST /sessions: 40") {
		t.Errorf("no server error reported with its message:\n%s", stderr.String())
	}
	if m := regexp.MustCompile(`(\d+) errors$`).FindStringSubmatch(strings.TrimSpace(stdout.String())); m == nil || m[1] == "0" {
		t.Errorf("summary does not count the errors: %s", stdout.String())
	}
	if listCount(t, h, tok, "accountIds=acme-1") == 0 {
		t.Errorf("no calls on the allowed account: the simulator stopped at the first error")
	}
}

func TestSimulateUnreachableHub(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	out := newSyncBuffer()
	err = run(context.Background(), []string{"simulate", "--url", url, "--secret", "s"}, env(nil), out, out)
	if err == nil || !strings.Contains(err.Error(), "cannot reach the hub") {
		t.Fatalf("simulate against nothing: %v, want a 'cannot reach the hub' error", err)
	}
	if exitCode(err) != 1 {
		t.Errorf("exit code %d, want 1", exitCode(err))
	}
}

func TestSimulateAccountsAndToken(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--secret", "s", "--accounts", "3"}, []string{"acme-1", "acme-2", "acme-3"}},
		{[]string{"--secret", "s", "--accounts", "x, y"}, []string{"x", "y"}},
		{[]string{"--secret", "s"}, []string{"acme-1", "acme-2", "acme-3"}},
	} {
		var c simulateConfig
		f := simulateFlags(&c)
		if err := f.parse(tc.args, env(nil), newSyncBuffer()); err != nil {
			t.Fatal(err)
		}
		if err := c.resolve(f); err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if strings.Join(c.Accounts, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%q: accounts %q, want %q", tc.args, c.Accounts, tc.want)
		}
		if peekClaims(c.Token).Role != "service" {
			t.Errorf("%q: minted token's role %q, want service", tc.args, peekClaims(c.Token).Role)
		}
	}
	// A dashboard link supplies the token; the token's accounts are the default.
	tok, _ := mintToken([]byte("s"), "u", "", []string{"north", "south"}, "service", time.Hour, time.Now())
	var c simulateConfig
	f := simulateFlags(&c)
	if err := f.parse([]string{"--url", "http://127.0.0.1:8080/#token=" + tok}, env(nil), newSyncBuffer()); err != nil {
		t.Fatal(err)
	}
	if err := c.resolve(f); err != nil {
		t.Fatal(err)
	}
	if c.Token != tok || c.URL != "http://127.0.0.1:8080" || strings.Join(c.Accounts, ",") != "north,south" {
		t.Errorf("from a link: token %v, url %q, accounts %q", c.Token == tok, c.URL, c.Accounts)
	}
}
