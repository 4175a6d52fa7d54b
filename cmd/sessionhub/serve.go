package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/sessionhub/sessionhub/api"
	"github.com/sessionhub/sessionhub/auth"
	"github.com/sessionhub/sessionhub/hub"
	"github.com/sessionhub/sessionhub/memstore"
	"github.com/sessionhub/sessionhub/redisstore"
	"github.com/sessionhub/sessionhub/session"
	"github.com/sessionhub/sessionhub/web"
)

// backend is what serve needs of a store: the store, the hub's feed and broker,
// and a way to check and release it.
type backend interface {
	session.Store
	session.Feed
	session.Broker
	Ping(ctx context.Context) error
	Close() error
}

// adminTTL is how long the token in the printed dashboard link lasts.
const adminTTL = 12 * time.Hour

// watchInterval is how often serve checks readiness to log when it changes.
const watchInterval = 5 * time.Second

// checkRedisURL rejects a --redis-url that go-redis cannot use, before anything starts.
func checkRedisURL(u string) error {
	c, err := redisstore.NewClient(u)
	if err != nil {
		return err
	}
	return c.Close()
}

func serveCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseServe(args, getenv, stdout)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	limits := session.Limits{MaxConsoleData: int(cfg.MaxConsoleData), MaxLogMessage: int(cfg.MaxLogMessage), MaxIDLength: cfg.MaxIDLength}

	secret, generated := []byte(cfg.AuthSecret), false
	if len(secret) == 0 {
		secret, generated = make([]byte, 32), true
		_, _ = rand.Read(secret) // crypto/rand.Read never fails
	} else if len(secret) < 16 {
		log.Warn("the auth secret is short: anyone who guesses it can mint tokens; use 32 random bytes or more", "flag", "--auth-secret")
	}
	authn, err := auth.New(auth.Config{Secret: secret, PublicKeys: cfg.publicKeys, Leeway: 5 * time.Second})
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}

	store, storeKind, storeReady, err := openStore(cfg, limits, log)
	if err != nil {
		return err
	}
	defer store.Close()

	h := hub.New(hub.Config{
		Feed: store, Broker: store, Auth: authn,
		AllowedOrigins: cfg.AllowedOrigins,
		PingInterval:   cfg.PingInterval,
		PongTimeout:    cfg.PongTimeout,
		Limits:         limits,
		Logger:         log.With("component", "hub"),
	})
	reg, metrics := newMetrics(h)

	var stopping atomic.Bool
	ready := func(ctx context.Context) error {
		if stopping.Load() {
			return errors.New("shutting down")
		}
		if err := store.Ping(ctx); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		if err := storeReady(); err != nil {
			return fmt.Errorf("store subscriptions: %w", err)
		}
		return h.Ready()
	}
	apiCfg := api.Config{
		Store: store, Auth: authn, Limits: limits, MaxBodyBytes: cfg.MaxBody,
		RateLimit: float64(cfg.RateLimit), RateBurst: cfg.RateBurst,
		Ready: ready, Live: h, UI: web.Handler(), Registerer: reg,
		Logger: log.With("component", "api"),
	}
	if cfg.MetricsAddr == "" {
		apiCfg.Metrics = metrics
	}
	handler := api.New(apiCfg)

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (--addr): %w", cfg.Addr, err)
	}
	srv := newHTTPServer(handler, log)
	servers := []*http.Server{srv}
	listeners := []net.Listener{ln}
	metricsWhere := "/metrics on the main address"
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s (--metrics-addr): %w", cfg.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", metrics)
		if cfg.Pprof == "on" {
			mux.HandleFunc("/debug/pprof/", pprof.Index)
			mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
			mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
			mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		}
		servers = append(servers, newHTTPServer(mux, log))
		listeners = append(listeners, mln)
		metricsWhere = "http://" + mln.Addr().String() + "/metrics"
	}

	log.Info("sessionhub started", "version", buildVersion(), "addr", ln.Addr().String(), "store", storeKind, "metrics", metricsWhere)
	if err := printBanner(stdout, ln.Addr(), secret, generated); err != nil {
		log.Warn("could not print the dashboard link", "err", err)
	}

	g, gctx := errgroup.WithContext(ctx)
	// The hub's broker loop outlives ctx: WebSockets are closed (1001) before it stops.
	hubCtx, stopHub := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHub()
	g.Go(func() error {
		if err := h.Run(hubCtx); err != nil && hubCtx.Err() == nil {
			return fmt.Errorf("hub: %w", err)
		}
		return nil
	})
	for i, s := range servers {
		g.Go(func() error {
			if err := s.Serve(listeners[i]); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("serve %s: %w", listeners[i].Addr(), err)
			}
			return nil
		})
	}
	g.Go(func() error {
		watchReady(gctx, ready, log)
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		stopping.Store(true)
		if cfg.ShutdownDelay > 0 && ctx.Err() != nil {
			// A signal, not a failure: keep serving, not ready, while load balancers notice.
			log.Info("stopping: readiness is now false; still serving while load balancers notice", "delay", cfg.ShutdownDelay)
			time.Sleep(cfg.ShutdownDelay)
		}
		log.Info("shutting down: readiness is false, new connections are refused, WebSockets close", "timeout", cfg.ShutdownTimeout)
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		shutdown(sctx, h, servers, log)
		stopHub()
		return nil
	})
	err = g.Wait()
	if err != nil {
		log.Error("sessionhub stopped with an error", "err", err)
		return err
	}
	log.Info("sessionhub stopped")
	return nil
}

// openStore opens the embedded store, or the Redis one. An unreachable Redis
// does not stop the start: the hub comes up not ready (/readyz 503, writes 503)
// and becomes ready when Redis answers, as an orchestrator that starts Redis and
// the hubs together expects. A warning says so.
func openStore(cfg serveConfig, limits session.Limits, log *slog.Logger) (backend, string, func() error, error) {
	if cfg.RedisURL == "" {
		s := memstore.New(memstore.Config{Limits: limits, StreamMax: cfg.StreamMax, Retention: cfg.Retention})
		return s, "embedded (in memory: one instance, lost on exit; set --redis-url to share and keep state)", func() error { return nil }, nil
	}
	redis.SetLogger(goRedisLog{log.With("component", "go-redis")})
	client, err := redisstore.NewClient(cfg.RedisURL)
	if err != nil {
		return nil, "", nil, &flagError{Flag: "redis-url", Env: "SESSIONHUB_REDIS_URL", Value: redactURL(cfg.RedisURL), Err: err}
	}
	s := redisstore.New(client, redisstore.Config{
		Prefix: cfg.KeyPrefix, Limits: limits, StreamMax: cfg.StreamMax, Retention: cfg.Retention,
		Logger: log.With("component", "redis"),
	})
	kind := "redis " + redactURL(cfg.RedisURL) + " prefix " + cfg.KeyPrefix
	pctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := s.Ping(pctx); err != nil {
		log.Warn("Redis does not answer yet; starting anyway, not ready: /readyz and writes answer 503 until it does",
			"redis", redactURL(cfg.RedisURL), "err", err)
	}
	return s, kind, s.Ready, nil
}

// goRedisLog sends go-redis's own log lines (dial retries, which redisstore
// reports as warnings already) to slog at debug level instead of raw stderr.
// The logger is process-wide in go-redis, so only main may set it.
type goRedisLog struct{ log *slog.Logger }

func (l goRedisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, fmt.Sprintf(format, v...))
}

func newLogger(cfg serveConfig, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// shutdown stops accepting connections, closes every WebSocket with 1001 and
// lets in-flight requests finish, all within ctx; past it, what is left is cut.
func shutdown(ctx context.Context, h *hub.Hub, servers []*http.Server, log *slog.Logger) {
	done := make(chan error, len(servers)+1)
	for _, s := range servers {
		go func() { done <- s.Shutdown(ctx) }()
	}
	go func() {
		n := h.Stats().Connections
		if n > 0 {
			log.Info("closing WebSockets (1001 going away): clients reconnect elsewhere and resume", "connections", n)
		}
		done <- h.Shutdown(ctx)
	}()
	var failed bool
	for range len(servers) + 1 {
		if err := <-done; err != nil {
			failed = true
		}
	}
	if failed {
		log.Warn("shutdown timed out (--shutdown-timeout): closing the connections that are left")
		for _, s := range servers {
			_ = s.Close()
		}
		return
	}
	log.Info("all requests and WebSockets finished")
}

// watchReady logs when readiness changes, so that a person reading the log
// sees Redis go away and come back.
func watchReady(ctx context.Context, ready func(context.Context) error, log *slog.Logger) {
	t := time.NewTicker(watchInterval)
	defer t.Stop()
	var last error
	first := true
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := ready(cctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil && (first || last == nil):
			log.Warn("not ready", "err", err)
		case err == nil && last != nil:
			log.Info("ready again")
		}
		first, last = false, err
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// printBanner tells a person where to open the dashboard: with a token that is
// signed in already when the secret is this run's own, else with a pointer to
// `sessionhub token`.
func printBanner(w io.Writer, addr net.Addr, secret []byte, generated bool) error {
	base := dashboardBase(addr)
	if !generated {
		_, err := fmt.Fprintf(w, "sessionhub %s is running.\n\n  Dashboard: %s\n  Sign in with a token: sessionhub token --secret <your --auth-secret> --user you --accounts '*' --role agent\n\n", buildVersion(), base)
		return err
	}
	now := time.Now()
	tok, err := mintToken(secret, "admin", "Admin", []string{"*"}, auth.RoleService, adminTTL, now)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "sessionhub %s is running.\n\n  Dashboard: %s#token=%s\n  (signed in as admin, role service, for every account; the link works for %s)\n\n"+
		"  No --auth-secret was set, so this run made a random one: its tokens stop working\n"+
		"  when the hub restarts. Set --auth-secret (or SESSIONHUB_AUTH_SECRET) to keep\n"+
		"  them, and mint tokens with `sessionhub token`.\n\n",
		buildVersion(), base, tok, fmtDuration(adminTTL))
	return err
}

// dashboardBase is the http:// address a browser on this machine can open: a
// wildcard host becomes localhost, and port 0 is the port actually bound.
func dashboardBase(addr net.Addr) string {
	host, port := "localhost", ""
	if ta, ok := addr.(*net.TCPAddr); ok {
		port = strconv.Itoa(ta.Port)
		if !ta.IP.IsUnspecified() {
			host = ta.IP.String()
		}
	} else if h, p, err := net.SplitHostPort(addr.String()); err == nil {
		port = p
		if h != "" && h != "0.0.0.0" && h != "::" {
			host = h
		}
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}
