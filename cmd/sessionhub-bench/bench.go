package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config is one bench run. Zero fields get the defaults noted.
type Config struct {
	Hubs     []string // hub base URLs, e.g. http://127.0.0.1:8080; default that one
	Token    string   // a service token used for everything (when no Secret)
	Secret   []byte   // the hub's HS256 secret: the bench mints its own tokens
	Conns    int      // WebSocket connections; default 100
	Accounts int      // accounts the sessions and connections are spread over; default 10
	Sessions int      // sessions created for the run; default 100
	Rate     float64  // PATCHes per second, open loop; default 100
	Idle     bool     // send no PATCHes: hold the connections for Duration (memory and CPU at rest)
	Duration time.Duration
	Warmup   time.Duration
	Grace    time.Duration // how long to wait for the tail of deliveries; default 5s
	SrcIPs   []netip.Addr  // local addresses connections are spread over; none = the OS picks
	Pids     []int         // server processes to sample for RSS and CPU
	// PatchWorkers bounds the PATCHes in flight; default 64 (capped at Sessions).
	PatchWorkers int
	// DialConcurrency bounds the connections being set up at once; default 64.
	DialConcurrency int
	Prefix          string        // account and session id prefix; default bench-<time>
	SetupTimeout    time.Duration // for creating sessions and connecting; default 2m
	RequestTimeout  time.Duration // one PATCH or dial; default 10s
	// Progress receives a progress line every ProgressInterval (default 1s); nil = none.
	Progress         io.Writer
	ProgressInterval time.Duration
}

func (c Config) withDefaults() Config {
	if len(c.Hubs) == 0 {
		c.Hubs = []string{"http://127.0.0.1:8080"}
	}
	for i, h := range c.Hubs {
		c.Hubs[i] = strings.TrimRight(h, "/")
	}
	def := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	def(&c.Conns, 100)
	def(&c.Accounts, 10)
	def(&c.Sessions, 100)
	def(&c.PatchWorkers, 64)
	def(&c.DialConcurrency, 64)
	c.PatchWorkers = min(c.PatchWorkers, c.Sessions)
	if c.Rate <= 0 {
		c.Rate = 100
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Grace <= 0 {
		c.Grace = 5 * time.Second
	}
	if c.SetupTimeout <= 0 {
		c.SetupTimeout = 2 * time.Minute
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 10 * time.Second
	}
	if c.ProgressInterval <= 0 {
		c.ProgressInterval = time.Second
	}
	if c.Prefix == "" {
		c.Prefix = "bench-" + fmt.Sprint(time.Now().UnixMilli())
	}
	return c
}

func (c Config) validate() error {
	if len(c.Secret) == 0 && c.Token == "" {
		return errors.New("need --secret (the hub's --auth-secret, so the bench can mint tokens) or --token (a service token for all accounts)")
	}
	if c.Accounts > c.Sessions {
		return fmt.Errorf("--accounts %d > --sessions %d: every account needs at least one session", c.Accounts, c.Sessions)
	}
	for _, h := range c.Hubs {
		if !strings.HasPrefix(h, "http://") && !strings.HasPrefix(h, "https://") {
			return fmt.Errorf("--hub %q: want a base URL such as http://127.0.0.1:8080", h)
		}
	}
	return nil
}

// benchSession is one session the bench created and PATCHes.
type benchSession struct {
	id    string
	acct  int   // index into Bench.accounts
	local int   // index within its account
	base  int64 // version after create
	log   sendLog
	// known is the newest version a reply confirmed; written by the session's
	// PATCH worker only, read by progress and the final count.
	known     atomic.Int64
	uncertain bool // the last PATCH failed in a way that may have stored it (worker-owned)
}

// benchAccount is one account and the sessions in it.
type benchAccount struct {
	id       string
	sessions []int // indexes into Bench.sessions
	// versionSum is the sum of known over the account's sessions, so that a
	// client's expected delivery count is versionSum minus its starting sum.
	versionSum atomic.Int64
}

// Bench is one run: its sessions, clients and counters.
type Bench struct {
	cfg      Config
	start    time.Time // the clock every nanosecond offset counts from
	http     *http.Client
	svcToken string
	viewer   []string // viewer token per account

	sessions  []benchSession
	sessIndex map[string]int
	accounts  []benchAccount
	clients   []*client

	measureFrom atomic.Int64 // ns offset: PATCHes scheduled from here on are measured

	patchLat   *ShardedHistogram // scheduled send → 200
	patchSvc   *ShardedHistogram // actual send → 200
	deliverLat *ShardedHistogram // scheduled send → received at a client

	// Counters shared by clients and workers.
	connected, ready, setupFailed       atomic.Int64
	patchSent, patchOK, patchFailed     atomic.Int64
	versionSkips, unknownDeliveries     atomic.Int64
	resnapshots, reconnects, closes4008 atomic.Int64
	otherCloses, protocolErrors         atomic.Int64
	sessionsCreated                     atomic.Int64

	errMu      sync.Mutex
	errCount   int64
	errSamples []string

	bufPool sync.Pool
}

// maxErrorSamples bounds the error messages kept for the report.
const maxErrorSamples = 10

// noteError counts one error and keeps the first few messages.
func (b *Bench) noteError(format string, args ...any) {
	b.errMu.Lock()
	defer b.errMu.Unlock()
	b.errCount++
	if len(b.errSamples) < maxErrorSamples {
		b.errSamples = append(b.errSamples, fmt.Sprintf(format, args...))
	}
}

func (b *Bench) errors() (int64, []string) {
	b.errMu.Lock()
	defer b.errMu.Unlock()
	return b.errCount, append([]string(nil), b.errSamples...)
}

// now is the time since the bench started, on the monotonic clock.
func (b *Bench) now() int64 { return int64(time.Since(b.start)) }

// newBench prepares a run; nothing touches the network yet.
func newBench(cfg Config) (*Bench, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	shards := 4 * runtime.GOMAXPROCS(0)
	b := &Bench{
		cfg:        cfg,
		start:      time.Now(),
		patchLat:   NewShardedHistogram(shards),
		patchSvc:   NewShardedHistogram(shards),
		deliverLat: NewShardedHistogram(shards),
		http: &http.Client{
			Timeout: cfg.RequestTimeout,
			Transport: &http.Transport{
				MaxIdleConns:        cfg.PatchWorkers * 2,
				MaxIdleConnsPerHost: cfg.PatchWorkers,
				IdleConnTimeout:     90 * time.Second,
			},
		},
	}
	b.bufPool.New = func() any { s := make([]byte, 0, 4096); return &s }
	b.measureFrom.Store(1<<63 - 1)
	b.accounts = make([]benchAccount, cfg.Accounts)
	for i := range b.accounts {
		b.accounts[i].id = fmt.Sprintf("%s-a%d", cfg.Prefix, i)
	}
	b.sessions = make([]benchSession, cfg.Sessions)
	b.sessIndex = make(map[string]int, cfg.Sessions)
	for i := range b.sessions {
		s := &b.sessions[i]
		s.id = fmt.Sprintf("%s-s%d", cfg.Prefix, i)
		s.acct = i % cfg.Accounts
		a := &b.accounts[s.acct]
		s.local = len(a.sessions)
		a.sessions = append(a.sessions, i)
		b.sessIndex[s.id] = i
	}
	return b, nil
}

// Run executes a whole bench: setup, warmup and measured load, the tail, and
// the result. The error is for a run that could not be done at all; a run
// that found lost or out-of-order deliveries returns a Result that says so.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	b, err := newBench(cfg)
	if err != nil {
		return nil, err
	}
	return b.run(ctx)
}

func (b *Bench) run(ctx context.Context) (*Result, error) {
	cfg := b.cfg
	if err := b.mintTokens(); err != nil {
		return nil, err
	}
	res := &Result{}
	res.fillConfig(cfg)
	// Samples of the server processes and of the bench itself: before setup,
	// after setup (RSS per connection), and around the measured window (CPU).
	var server, self [4]procSample
	sample := func(i int) {
		if len(cfg.Pids) > 0 {
			server[i], _ = sampleProcs(cfg.Pids)
		}
		self[i], _ = readProc(selfPid())
	}
	if len(cfg.Pids) > 0 {
		if _, err := sampleProcs(cfg.Pids); err != nil {
			return nil, fmt.Errorf("--pid: %w", err)
		}
	}
	sample(0)

	setupCtx, cancelSetup := context.WithTimeout(ctx, cfg.SetupTimeout)
	defer cancelSetup()
	if err := b.createSessions(setupCtx); err != nil {
		return nil, err
	}
	clientsCtx, stopClients := context.WithCancel(ctx)
	var clientsWG sync.WaitGroup
	defer func() {
		stopClients()
		clientsWG.Wait()
	}()
	b.connectAll(setupCtx, clientsCtx, &clientsWG)
	cancelSetup()
	if b.ready.Load() == 0 {
		n, samples := b.errors()
		return nil, fmt.Errorf("setup: no connection subscribed (%d errors; first: %s): is the hub running and the secret right?", n, strings.Join(samples, "; "))
	}
	sample(1)

	var measured time.Duration
	err := b.load(ctx, func() { sample(2) }, func(d time.Duration) { sample(3); measured = d })
	if err != nil {
		return nil, err
	}
	b.resolveUncertain(ctx)
	b.waitTail(ctx)
	b.collect(res, measured)
	conns := res.Connected
	if len(cfg.Pids) > 0 {
		res.Server = procStats(cfg.Pids, server, conns, measured)
	}
	res.Client = procStats([]int{selfPid()}, self, conns, measured)
	return res, nil
}
