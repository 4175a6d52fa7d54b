// Command sessionhub-bench is a black-box load generator for sessionhub hubs.
// It talks to running hubs only over REST (DESIGN §2) and WebSockets (DESIGN
// §3): it creates sessions, opens many subscribed connections, PATCHes at a
// steady open-loop rate, and measures PATCH latency, end-to-end delivery
// latency, lost and out-of-order deliveries, and (with --pid) the server's
// memory and CPU per connection. It exits 1 when a delivery was lost or out of
// order, or anything failed, so a run doubles as a check.
//
//	go run ./cmd/sessionhub-bench --secret S --conns 10000 --accounts 100 \
//	    --sessions 1000 --rate 1000 --duration 30s --src-ips 127.0.0.1-127.0.0.20
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	var fail checkFailed
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case errors.As(err, &fail):
		fmt.Fprintln(os.Stderr, "sessionhub-bench: FAIL:", err)
		os.Exit(1)
	default:
		fmt.Fprintln(os.Stderr, "sessionhub-bench:", err)
		os.Exit(2)
	}
}

// checkFailed is a run that completed but found lost or out-of-order
// deliveries or errors.
type checkFailed string

func (c checkFailed) Error() string { return string(c) }

// listFlag is a repeatable flag whose values may also be comma lists.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for p := range strings.SplitSeq(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

// run parses args, runs the bench and reports. getenv supplies the
// SESSIONHUB_AUTH_SECRET default for --secret, so the bench and a local hub
// can share one environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sessionhub-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		hubs, pids           listFlag
		cfg                  Config
		secret, srcIPs, jout string
		quiet                bool
	)
	fs.Var(&hubs, "hub", "hub base URL; repeat or comma-separate to spread PATCHes and connections over several hubs (default http://127.0.0.1:8080)")
	fs.StringVar(&cfg.Token, "token", "", "a service token for every account (instead of --secret)")
	fs.StringVar(&secret, "secret", getenv("SESSIONHUB_AUTH_SECRET"), "the hub's --auth-secret: the bench mints a service token and viewer tokens (env SESSIONHUB_AUTH_SECRET)")
	fs.IntVar(&cfg.Conns, "conns", 100, "WebSocket connections, spread round-robin over the accounts")
	fs.IntVar(&cfg.Accounts, "accounts", 10, "accounts")
	fs.IntVar(&cfg.Sessions, "sessions", 100, "sessions created for the run, spread over the accounts")
	fs.Float64Var(&cfg.Rate, "rate", 100, "PATCHes per second (open loop, spread over the sessions); 0 = idle: hold the connections for --duration")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measured load time")
	fs.DurationVar(&cfg.Warmup, "warmup", 0, "load time before measuring")
	fs.DurationVar(&cfg.Grace, "grace", 5*time.Second, "how long to wait for the last deliveries after the last PATCH")
	fs.StringVar(&srcIPs, "src-ips", "", "source addresses for the connections: a count n (127.0.0.1..127.0.0.n) or a range 127.0.0.1-127.0.0.50")
	fs.Var(&pids, "pid", "server process id to sample for RSS and CPU; repeat or comma-separate for several hubs")
	fs.StringVar(&jout, "json", "", "also write the results as JSON to this file")
	fs.IntVar(&cfg.PatchWorkers, "patch-workers", 64, "PATCHes in flight at most")
	fs.IntVar(&cfg.DialConcurrency, "dial-concurrency", 64, "connections being set up at once")
	fs.StringVar(&cfg.Prefix, "prefix", "", "account and session id prefix so runs don't collide (default bench-<unix ms>)")
	fs.DurationVar(&cfg.SetupTimeout, "setup-timeout", 2*time.Minute, "time allowed to create the sessions and connect")
	fs.DurationVar(&cfg.RequestTimeout, "request-timeout", 10*time.Second, "timeout of one PATCH or one WebSocket handshake")
	fs.BoolVar(&quiet, "quiet", false, "no progress lines on stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags only; see -h)", fs.Arg(0))
	}
	cfg.Hubs = hubs
	if cfg.Rate < 0 {
		return fmt.Errorf("--rate %v: want PATCHes per second, or 0 for an idle run", cfg.Rate)
	}
	cfg.Idle = cfg.Rate == 0
	cfg.Secret = []byte(secret)
	for _, p := range pids {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 {
			return fmt.Errorf("--pid %q: want a process id", p)
		}
		cfg.Pids = append(cfg.Pids, n)
	}
	ips, err := parseSrcIPs(srcIPs)
	if err != nil {
		return err
	}
	cfg.SrcIPs = ips
	if !quiet {
		cfg.Progress = stderr
	}
	if limit, err := raiseNoFile(); err != nil {
		fmt.Fprintf(stderr, "warning: %v; connections may fail past the current limit\n", err)
	} else if uint64(cfg.Conns)+256 > limit {
		fmt.Fprintf(stderr, "warning: --conns %d is near the open-file limit %d; raise it (ulimit -Hn) or expect dial errors\n", cfg.Conns, limit)
	}

	res, err := Run(ctx, cfg)
	if err != nil {
		return err
	}
	if err := res.WriteTable(stdout); err != nil {
		return err
	}
	if jout != "" {
		f, err := os.Create(jout)
		if err != nil {
			return fmt.Errorf("--json: %w", err)
		}
		werr := res.WriteJSON(f)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("--json %s: %w", jout, werr)
		}
	}
	if why := res.Failed(); why != "" {
		return checkFailed(why)
	}
	return nil
}
