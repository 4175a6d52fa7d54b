package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionhub/sessionhub/auth"
)

// simulateConfig is what `sessionhub simulate` reads.
type simulateConfig struct {
	URL         string
	Token       string
	Secret      string
	Accounts    []string
	Rate        float64
	Duration    time.Duration
	Concurrency int
	Seed        int64
	Speed       float64
	// Tick is how often the progress line is written; default 1s (tests shorten it).
	Tick time.Duration
}

const simulateAbout = `Usage: sessionhub simulate [--url URL] [--token T | --secret S] [flags]

Drives realistic call traffic at a running hub through its REST API: calls ring,
wait in a queue, are answered by an agent, get notes and log entries, are put on
hold or transferred, and end (a few are abandoned in the queue). Open the
dashboard of one of the accounts to watch them.

The quickest start is the dashboard link the hub printed, token and all:
  sessionhub simulate --url 'http://localhost:8080/#token=eyJ...'

The token needs the service role (the printed one has it). With --secret (the
hub's --auth-secret) the simulator mints its own. --accounts 3 means acme-1,
acme-2 and acme-3. Ctrl-C (or --duration) stops it: calls still in progress hang up.`

func simulateFlags(c *simulateConfig) *flags {
	f := newFlags("simulate", simulateAbout)
	f.String(&c.URL, "url", "URL", "http://localhost:8080", "the hub's address (a dashboard link with #token=... also supplies the token)")
	f.String(&c.Token, "token", "TOKEN", "", "bearer token with the service role")
	f.StringEnv(&c.Secret, "secret", "SECRET", "", "the hub's --auth-secret, to mint a service token instead of --token", "SESSIONHUB_AUTH_SECRET")
	f.List(&c.Accounts, "accounts", "A,B|N", "", "accounts to make calls for, comma separated, or a number N for acme-1..acme-N (default: the token's accounts, else 3)")
	f.Float(&c.Rate, "rate", 2, "new calls per second")
	f.Duration(&c.Duration, "duration", 0, true, "how long to start new calls; 0 runs until Ctrl-C")
	f.Int(&c.Concurrency, "concurrency", 200, 1, "most calls in progress at once; past it new calls are skipped")
	f.Int64(&c.Seed, "seed", "N", 0, "random seed, for a repeatable run; 0 picks one")
	f.Float(&c.Speed, "speed", 1, "how much faster than real life calls play out (10 makes a 30s call take 3s)")
	return f
}

// simStats are the simulator's counters, read by the progress line.
type simStats struct {
	started, active, ended, missed, holds, transfers, hungUp, skipped atomic.Int64
	requests, errors                                                  atomic.Int64
}

// simulator runs the calls of one simulate command.
type simulator struct {
	cfg   simulateConfig
	api   *restClient
	stats simStats
	stop  chan struct{} // closed when no new call should start and calls should hang up
	out   *progress

	lastReqs int64         // requests at the last progress line
	lastAt   time.Duration // elapsed time at the last progress line
}

func simulateCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c simulateConfig
	f := simulateFlags(&c)
	if err := f.parse(args, getenv, stdout); err != nil {
		return err
	}
	if err := c.resolve(f); err != nil {
		return err
	}
	s := &simulator{cfg: c, stop: make(chan struct{}), out: newProgress(stderr)}
	s.api = newRESTClient(c.URL, c.Token, c.Concurrency, &s.stats.requests)
	if err := s.check(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "simulating %s calls/s for %s at %s (seed %d); watch them at %s\n",
		strconv.FormatFloat(c.Rate, 'g', -1, 64), strings.Join(c.Accounts, ", "), c.URL, c.Seed, dashboardFor(c.URL, c.Accounts[0]))
	if c.Duration > 0 {
		fmt.Fprintf(stderr, "new calls for %s, then the ones in progress hang up; Ctrl-C stops sooner\n", c.Duration)
	} else {
		fmt.Fprintln(stderr, "Ctrl-C stops: calls in progress hang up")
	}
	began := time.Now()
	s.run(ctx)
	// Idle keep-alive connections would hold up a hub's graceful shutdown.
	s.api.http.CloseIdleConnections()
	s.lastReqs, s.lastAt = 0, 0 // the last line shows the whole run's rate
	s.out.finish(s.line(time.Since(began)))
	fmt.Fprintln(stdout, s.summary(time.Since(began)))
	return nil
}

// resolve fills what the flags leave open: the token (from the URL, or minted
// from the secret), the accounts (from N, the token, or the default), the seed.
func (c *simulateConfig) resolve(f *flags) error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return f.bad("url", c.URL, fmt.Errorf("not a hub address: write it like http://localhost:8080"))
	}
	if tok, ok := strings.CutPrefix(u.Fragment, "token="); ok && c.Token == "" {
		c.Token = tok
	}
	u.Fragment, u.RawQuery = "", ""
	c.URL = strings.TrimRight(u.String(), "/")

	if len(c.Accounts) == 1 {
		if n, err := strconv.Atoi(c.Accounts[0]); err == nil {
			if n < 1 || n > 1000 {
				return f.bad("accounts", c.Accounts[0], fmt.Errorf("a number of accounts must be 1 to 1000"))
			}
			c.Accounts = numberedAccounts(n)
		}
	}
	switch {
	case c.Token != "":
		claims := peekClaims(c.Token)
		if claims.Role != "" && claims.Role != string(auth.RoleService) {
			return usagef("simulate: the token's role is %q, but creating sessions needs %q: mint one with `sessionhub token --role service ...` or pass --secret", claims.Role, auth.RoleService)
		}
		if len(c.Accounts) == 0 {
			c.Accounts = slices.DeleteFunc(claims.Accounts, func(a string) bool { return a == "*" })
		}
	case c.Secret != "":
	default:
		return usagef("simulate: no token: pass --token (or SESSIONHUB_TOKEN), the dashboard link the hub printed as --url, or --secret with the hub's --auth-secret")
	}
	if len(c.Accounts) == 0 {
		c.Accounts = numberedAccounts(3)
	}
	if c.Token == "" {
		ttl := 24 * time.Hour
		if c.Duration > 0 {
			ttl = c.Duration + time.Hour
		}
		tok, err := mintToken([]byte(c.Secret), "simulator", "Call simulator", c.Accounts, auth.RoleService, ttl, time.Now())
		if err != nil {
			return fmt.Errorf("simulate: mint a token: %w", err)
		}
		c.Token = tok
	}
	if c.Seed == 0 {
		c.Seed = time.Now().UnixNano() % 1_000_000
	}
	if c.Tick <= 0 {
		c.Tick = time.Second
	}
	return nil
}

func numberedAccounts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "acme-" + strconv.Itoa(i+1)
	}
	return out
}

// peekClaims reads a JWT's payload without verifying it (the hub does that), to
// default the accounts and to warn early about a token that cannot create.
func peekClaims(tok string) (c struct {
	Role     string   `json:"role"`
	Accounts []string `json:"accounts"`
}) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return c
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err == nil {
		_ = json.Unmarshal(b, &c)
	}
	return c
}

func dashboardFor(base, account string) string {
	return base + "/?account=" + url.QueryEscape(account)
}

// check makes one read so that a wrong address or a refused token stops the
// simulator at once with a clear message, rather than as a stream of errors.
func (s *simulator) check(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, _, err := s.api.do(rctx, http.MethodGet, "/sessions?countPerPage=1&accountIds="+url.QueryEscape(s.cfg.Accounts[0]), "", nil)
	switch statusOf(err) {
	case 0:
		if err != nil {
			return fmt.Errorf("simulate: %w", err)
		}
		return nil
	case http.StatusUnauthorized:
		return fmt.Errorf("simulate: the hub refused the token (%w); a hub without --auth-secret makes a new secret each start, so use the link it printed last", err)
	}
	return fmt.Errorf("simulate: %w", err)
}

// run starts calls at the configured rate until ctx ends or the duration is up,
// then stops the calls in progress and waits for them to hang up.
func (s *simulator) run(ctx context.Context) {
	runCtx := ctx
	if s.cfg.Duration > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, s.cfg.Duration)
		defer cancel()
	}
	// Requests are not canceled with ctx: a call that is stopped still hangs up.
	reqCtx := context.WithoutCancel(ctx)
	began := time.Now()
	tick := time.NewTicker(s.cfg.Tick)
	defer tick.Stop()
	seed := uint64(s.cfg.Seed)
	r := rand.New(rand.NewPCG(seed, 0))
	slots := make(chan struct{}, s.cfg.Concurrency)
	var wg sync.WaitGroup
	next := time.NewTimer(0)
	defer next.Stop()
	for n := uint64(1); ; {
		select {
		case <-runCtx.Done():
			close(s.stop)
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			for {
				select {
				case <-done:
					return
				case <-tick.C:
					s.out.update(s.line(time.Since(began)))
				}
			}
		case <-tick.C:
			s.out.update(s.line(time.Since(began)))
		case <-next.C:
			// Poisson arrivals: exponential gaps with the configured mean rate.
			next.Reset(time.Duration(r.ExpFloat64() / s.cfg.Rate * float64(time.Second)))
			select {
			case slots <- struct{}{}:
			default:
				s.stats.skipped.Add(1)
				continue
			}
			call := &simCall{sim: s, r: rand.New(rand.NewPCG(seed, n)), account: s.cfg.Accounts[r.IntN(len(s.cfg.Accounts))]}
			n++
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				if err := call.play(reqCtx); err != nil && err != errStopped {
					s.stats.errors.Add(1)
					s.out.report(err)
				}
			}()
		}
	}
}

// line is the progress line.
func (s *simulator) line(elapsed time.Duration) string {
	st := &s.stats
	reqs := st.requests.Load()
	rate := 0.0
	if secs := (elapsed - s.lastAt).Seconds(); secs > 0 {
		rate = float64(reqs-s.lastReqs) / secs
	}
	s.lastReqs, s.lastAt = reqs, elapsed
	l := fmt.Sprintf("%s  calls: %d started, %d active, %d ended (%d missed, %d held, %d transferred)  %d requests (%.1f/s)  %d errors",
		clock(elapsed), st.started.Load(), st.active.Load(), st.ended.Load(), st.missed.Load(), st.holds.Load(), st.transfers.Load(),
		reqs, rate, st.errors.Load())
	if n := st.skipped.Load(); n > 0 {
		l += fmt.Sprintf("  %d skipped (at --concurrency)", n)
	}
	return l
}

func (s *simulator) summary(elapsed time.Duration) string {
	st := &s.stats
	return fmt.Sprintf("simulated %d calls in %s: %d ended (%d hung up when the simulation stopped), %d missed, %d held, %d transferred; %d requests, %d errors",
		st.started.Load(), elapsed.Round(time.Second), st.ended.Load(), st.hungUp.Load(), st.missed.Load(), st.holds.Load(), st.transfers.Load(),
		st.requests.Load(), st.errors.Load())
}

func clock(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}

// progress writes the progress line: rewritten in place on a terminal, one
// line per tick otherwise. Errors go above it, at most a few per tick.
type progress struct {
	mu         sync.Mutex
	w          io.Writer
	tty        bool
	shown      int // errors shown since the last tick
	suppressed int
}

// maxErrorsPerTick bounds the error lines between two progress lines, so an
// unreachable hub does not scroll everything away.
const maxErrorsPerTick = 3

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) update(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.suppressed > 0 {
		p.printLine(fmt.Sprintf("... and %d more errors", p.suppressed))
	}
	p.shown, p.suppressed = 0, 0
	if p.tty {
		fmt.Fprint(p.w, "\r\x1b[K"+line)
		return
	}
	fmt.Fprintln(p.w, line)
}

func (p *progress) report(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown >= maxErrorsPerTick {
		p.suppressed++
		return
	}
	p.shown++
	p.printLine("error: " + err.Error())
}

// printLine writes a whole line, clearing the progress line first on a terminal.
func (p *progress) printLine(s string) {
	if p.tty {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	fmt.Fprintln(p.w, s)
}

func (p *progress) finish(line string) {
	p.update(line)
	if p.tty {
		p.mu.Lock()
		fmt.Fprintln(p.w)
		p.mu.Unlock()
	}
}
