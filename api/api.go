package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sessionhub/sessionhub/auth"
	"github.com/sessionhub/sessionhub/session"
)

// Config configures the REST API. Zero fields get the defaults noted.
type Config struct {
	Store        session.Store
	Auth         *auth.Authenticator // nil refuses every /sessions request (401)
	Limits       session.Limits
	MaxBodyBytes int64                           // default 1 MiB (413 past it)
	Ready        func(ctx context.Context) error // GET /readyz: nil = ready; non-nil error = 503
	Live         http.Handler                    // mounted at GET /ws (the hub); nil = not mounted
	UI           http.Handler                    // serves every GET not matched by another route
	Metrics      http.Handler                    // mounted at GET /metrics when non-nil (no token)
	Registerer   prometheus.Registerer           // where the HTTP metrics go; nil = none
	Logger       *slog.Logger                    // default slog.Default()
	Now          func() time.Time                // default time.Now
	NewID        func() string                   // default uuid.NewString
	// IOTimeout bounds reading a request's body and writing its response (408 for
	// a body that stalls), so a stalled client cannot hold a goroutine forever.
	// /ws is exempt: the hub keeps its own heartbeat. Default 30s.
	IOTimeout time.Duration
	// RateLimit bounds each user's (token sub's) requests a second on
	// /sessions routes, with bursts of RateBurst (default 2×RateLimit); past it
	// a request gets 429 with Retry-After. 0 means no limit.
	RateLimit float64
	RateBurst int
}

// DefaultIOTimeout is Config.IOTimeout's default.
const DefaultIOTimeout = 30 * time.Second

// DefaultMaxBodyBytes is the request body limit when Config sets none.
const DefaultMaxBodyBytes = 1 << 20

// readyTimeout bounds one readiness check.
const readyTimeout = 2 * time.Second

// api holds the handlers' dependencies.
type api struct {
	store   session.Store
	auth    *auth.Authenticator
	limits  session.Limits
	maxBody int64
	ready   func(ctx context.Context) error
	ui      http.Handler
	log     *slog.Logger
	now     func() time.Time
	newID   func() string
	ioLimit time.Duration
	metrics *httpMetrics
	engine  *gin.Engine
	limit   *limiter // nil: no rate limit
}

// New returns the HTTP handler of the whole service: the REST API of DESIGN §2,
// health, readiness and metrics, the live hub at /ws and the dashboard.
func New(cfg Config) http.Handler {
	if cfg.Store == nil {
		panic("api: Config.Store is required")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewID == nil {
		cfg.NewID = uuid.NewString
	}
	if cfg.IOTimeout <= 0 {
		cfg.IOTimeout = DefaultIOTimeout
	}
	if cfg.Auth == nil {
		cfg.Logger.Warn("api: no authenticator configured: every /sessions request will be refused")
	}
	a := &api{
		limit:   newLimiter(cfg.RateLimit, cfg.RateBurst, cfg.Now),
		store:   cfg.Store,
		auth:    cfg.Auth,
		limits:  cfg.Limits.Defaults(),
		maxBody: cfg.MaxBodyBytes,
		ready:   cfg.Ready,
		ui:      cfg.UI,
		log:     cfg.Logger,
		now:     cfg.Now,
		newID:   cfg.NewID,
		ioLimit: cfg.IOTimeout,
		metrics: newHTTPMetrics(cfg.Registerer, cfg.Logger),
	}

	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.Use(a.observe, a.recoverPanic)

	e.GET("/healthz", a.healthz)
	e.GET("/readyz", a.readyz)
	if cfg.Metrics != nil {
		e.GET("/metrics", gin.WrapH(cfg.Metrics))
	}
	if cfg.Live != nil {
		e.GET("/ws", gin.WrapH(cfg.Live))
	}

	s := e.Group("/sessions", a.negotiate, a.authenticate)
	s.GET("", a.need(auth.Read), a.listSessions)
	s.POST("", a.need(auth.Manage), a.createSession)
	s.GET("/:sessionId", a.need(auth.Read), a.getSession)
	// HEAD as GET without the body (curl -I), as net/http drops a HEAD's body.
	s.HEAD("", a.need(auth.Read), a.listSessions)
	s.HEAD("/:sessionId", a.need(auth.Read), a.getSession)
	s.PATCH("/:sessionId", a.need(auth.Write), a.patchSession)
	s.PUT("/:sessionId", a.need(auth.Manage), a.putSession)
	s.DELETE("/:sessionId", a.need(auth.Manage), a.deleteSession)
	s.POST("/:sessionId/log", a.need(auth.Write), a.appendLog)

	e.NoRoute(a.noRoute)
	e.NoMethod(a.noMethod)
	a.engine = e
	return a
}

// ServeHTTP prepares a request before Gin routes it: request id, method
// override and format suffix must all be settled before a route is chosen.
func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ri := &reqInfo{start: time.Now(), id: cleanRequestID(r.Header.Get("X-Request-Id")), path: r.URL.Path, method: r.Method}
	if ri.id == "" {
		ri.id = newRequestID()
	}
	w.Header().Set("X-Request-Id", ri.id)
	r = withReqInfo(r, ri)
	if r.Method == http.MethodPost {
		switch m := strings.ToUpper(strings.TrimSpace(r.Header.Get("X-Http-Method-Override"))); m {
		case http.MethodPatch, http.MethodPut, http.MethodDelete:
			r.Method = m
		}
	}
	if r.URL.Path != "/ws" {
		// The server has no Read/WriteTimeout (WebSockets live long), so each
		// request gets its own, cleared after it so that a keep-alive connection
		// never carries them into its next request.
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(ri.start.Add(a.ioLimit))
		_ = rc.SetWriteDeadline(ri.start.Add(2 * a.ioLimit)) // time left to answer a 408
		defer func() {
			_ = rc.SetReadDeadline(time.Time{})
			_ = rc.SetWriteDeadline(time.Time{})
		}()
	}
	if p, f := splitFormatSuffix(r.URL.Path); f != "" {
		u := *r.URL
		u.Path, u.RawPath = p, ""
		r.URL = &u
		ri.suffix = f
	}
	a.engine.ServeHTTP(w, r)
}

// healthz says the process is alive.
func (a *api) healthz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	a.writeJSON(c, http.StatusOK, []byte(`{"status":"ok"}`))
}

// readyz says whether this instance should get traffic. The reason it is not
// is logged, not shown: it may name internal addresses.
func (a *api) readyz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	if a.ready != nil {
		ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
		defer cancel()
		if err := a.ready(ctx); err != nil {
			a.log.LogAttrs(ctx, slog.LevelWarn, "not ready", slog.String("request_id", requestID(c)), slog.String("error", err.Error()))
			c.Header("Retry-After", "1")
			a.writeJSON(c, http.StatusServiceUnavailable, []byte(`{"status":"unavailable"}`))
			return
		}
	}
	a.writeJSON(c, http.StatusOK, []byte(`{"status":"ok"}`))
}

// noRoute serves the dashboard for a GET outside the API, and a 404
// ResponseStatus for everything else.
func (a *api) noRoute(c *gin.Context) {
	p := c.Request.URL.Path
	if !isAPIPath(p) && a.ui != nil && (c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead) {
		c.Status(http.StatusOK) // Gin preset 404; the UI decides.
		a.ui.ServeHTTP(c.Writer, c.Request)
		return
	}
	a.apiError(c, newError(errRouteNotFound, "no route %s %s; the API is under /sessions (see the docs).", c.Request.Method, truncate(reqInfoOf(c.Request).path, 100)))
}

// noMethod answers a known path with a method it does not take; Gin has set Allow.
func (a *api) noMethod(c *gin.Context) {
	a.apiError(c, newError(errMethodNotAllowed, "%s is not allowed here; allowed: %s.", methodLabel(c.Request.Method), c.Writer.Header().Get("Allow")))
}

// apiError answers outside the /sessions group, honouring its format rules
// where the path is an API path.
func (a *api) apiError(c *gin.Context, err error) {
	if isAPIPath(c.Request.URL.Path) {
		c.Header("Vary", "Accept")
		if ferr := a.negotiateFormat(c); ferr != nil {
			err = ferr
		}
	}
	a.fail(c, err)
}
