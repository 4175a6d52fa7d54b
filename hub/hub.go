// Package hub is the live side of sessionhub (DESIGN §3, §4): WebSocket
// connections that subscribe to account and session channels, fed by a
// session.Broker and snapshotted from a session.Feed. It knows nothing of Gin or
// Redis: the stores implement Feed and Broker, and the hub is their
// session.EventHandler.
package hub

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionhub/sessionhub/auth"
	"github.com/sessionhub/sessionhub/session"
)

// Config configures a Hub. Zero fields get the defaults noted.
type Config struct {
	Feed   session.Feed
	Broker session.Broker
	Auth   *auth.Authenticator

	// AllowedOrigins are origin patterns (path.Match, against the Origin's host,
	// or scheme://host when the pattern has "://") allowed besides the request's
	// own host. Empty means same-origin only. Requests without an Origin header
	// (non-browser clients) are allowed.
	AllowedOrigins []string

	PingInterval     time.Duration // WebSocket ping period; default 25s
	PongTimeout      time.Duration // no pong within it closes the connection; default 10s
	WriteTimeout     time.Duration // one frame's write; default 10s
	MaxMessageBytes  int64         // largest incoming message; past it close 1009; default 64 KiB
	QueueBytes       int           // per-connection bound of queued updates; default 1 MiB
	MaxSubscriptions int           // per connection; default 1000
	Limits           session.Limits
	Logger           *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Feed == nil || c.Broker == nil || c.Auth == nil {
		panic("hub: Config needs Feed, Broker and Auth")
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 25 * time.Second
	}
	if c.PongTimeout <= 0 {
		c.PongTimeout = 10 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = 64 << 10
	}
	if c.QueueBytes <= 0 {
		c.QueueBytes = 1 << 20
	}
	if c.MaxSubscriptions <= 0 {
		c.MaxSubscriptions = 1000
	}
	c.Limits = c.Limits.Defaults()
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Hub serves GET /ws and fans the Broker's events out to its connections.
type Hub struct {
	cfg Config
	log *slog.Logger

	shards [numShards]shard

	acctMu   sync.Mutex
	accounts map[string]*accountRef

	connMu  sync.Mutex
	conns   map[*conn]struct{}
	closing bool
	drained chan struct{} // closed when closing and the last connection is gone

	ctx    context.Context // ends at Shutdown: background resyncs and commands use it
	cancel context.CancelFunc
	bg     sync.WaitGroup

	stats counters

	storeDownUntil atomic.Int64 // unix nanoseconds; subscribes fail fast until then (outage.go)
}

// New returns a Hub for cfg. Call Run to start its broker loop and janitor.
func New(cfg Config) *Hub {
	cfg = cfg.withDefaults()
	h := &Hub{
		cfg:      cfg,
		log:      cfg.Logger,
		accounts: map[string]*accountRef{},
		conns:    map[*conn]struct{}{},
		drained:  make(chan struct{}),
	}
	for i := range h.shards {
		h.shards[i].channels = map[chanKey]*channel{}
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	return h
}

var _ session.EventHandler = (*Hub)(nil)

// Run runs the Broker's loop, delivering its events to the hub, and the
// janitor that pings connections and closes those whose token expired. It
// returns when ctx ends.
func (h *Hub) Run(ctx context.Context) error {
	jctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.janitor(jctx)
	}()
	err := h.cfg.Broker.Run(ctx, h)
	stop()
	<-done
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil
	}
	return err
}

// readier is the optional ability of a Broker to say whether its
// subscriptions can be trusted (redisstore.Store has it).
type readier interface{ Ready() error }

// errShuttingDown is Ready's answer once Shutdown began.
var errShuttingDown = errors.New("hub: shutting down")

// Ready reports nil when the hub can vouch for its subscriptions: it is not
// shutting down and its Broker (if it can tell) is healthy.
func (h *Hub) Ready() error {
	if h.isClosing() {
		return errShuttingDown
	}
	if r, ok := h.cfg.Broker.(readier); ok {
		return r.Ready()
	}
	return nil
}

// isClosing reports whether Shutdown began.
func (h *Hub) isClosing() bool {
	h.connMu.Lock()
	defer h.connMu.Unlock()
	return h.closing
}

// janitorTick is how often the janitor looks at every connection.
func (h *Hub) janitorTick() time.Duration {
	return min(max(h.cfg.PingInterval/4, 10*time.Millisecond), time.Second)
}

// janitor is the hub's one timer for all connections: it asks each writer to
// ping when its interval has passed, closes connections whose token expired
// (4001) unless a refresh moved the expiry, and drops those whose frame write
// has taken longer than WriteTimeout.
func (h *Hub) janitor(ctx context.Context) {
	t := time.NewTicker(h.janitorTick())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			h.sweep(now.UnixNano())
		}
	}
}

func (h *Hub) sweep(now int64) {
	h.connMu.Lock()
	defer h.connMu.Unlock()
	for c := range h.conns {
		if now >= c.expires.Load() {
			if c.requestClose(StatusTokenExpired, "token expired: reconnect with a new token") {
				h.stats.expired.Add(1)
			}
			continue
		}
		if ws := c.writeSince.Load(); ws != 0 && now-ws >= int64(h.cfg.WriteTimeout) {
			// The client stopped reading and its TCP window is full: the
			// write can only end by closing the connection.
			// Mark it closed first, so the ping waiting behind that write is
			// not counted as a missing pong.
			if c.requestClose(0, "") {
				h.stats.writeTimeouts.Add(1)
			}
			h.log.Debug("hub: write timed out; closing", "conn", c.id)
			_ = c.ws.CloseNow()
			continue
		}
		if now >= c.nextPing.Load() {
			c.nextPing.Store(now + int64(h.cfg.PingInterval))
			c.requestPing()
		}
	}
}

// heartbeatSeconds is the ping period as the welcome message states it.
func (h *Hub) heartbeatSeconds() int {
	return int(math.Ceil(h.cfg.PingInterval.Seconds()))
}

// register adds c unless the hub is shutting down.
func (h *Hub) register(c *conn) bool {
	h.connMu.Lock()
	defer h.connMu.Unlock()
	if h.closing {
		return false
	}
	h.conns[c] = struct{}{}
	h.stats.connections.Add(1)
	return true
}

func (h *Hub) unregister(c *conn) {
	h.connMu.Lock()
	defer h.connMu.Unlock()
	if _, ok := h.conns[c]; !ok {
		return
	}
	delete(h.conns, c)
	h.stats.connections.Add(-1)
	if h.closing && len(h.conns) == 0 {
		close(h.drained)
	}
}

// Shutdown makes the hub unready, refuses new upgrades (503), closes every
// WebSocket with 1001 and returns once they are gone, or when ctx ends (then
// the rest are dropped without a close handshake). http.Server.Shutdown does
// not wait for hijacked connections, so the server's owner calls this.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.connMu.Lock()
	if !h.closing {
		h.closing = true
		h.cancel()
		if len(h.conns) == 0 {
			close(h.drained)
		}
		for c := range h.conns {
			c.requestClose(1001, "server going away: reconnect and resume with since")
		}
	}
	h.connMu.Unlock()
	var err error
	select {
	case <-h.drained:
	case <-ctx.Done():
		err = ctx.Err()
		h.connMu.Lock()
		rest := make([]*conn, 0, len(h.conns))
		for c := range h.conns {
			rest = append(rest, c)
		}
		h.connMu.Unlock()
		for _, c := range rest {
			_ = c.ws.CloseNow()
		}
	}
	h.bg.Wait()
	return err
}
