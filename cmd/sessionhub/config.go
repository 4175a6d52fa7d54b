package main

import (
	"crypto"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sessionhub/sessionhub/auth"
)

// serveConfig is what `sessionhub serve` reads from its flags and environment.
type serveConfig struct {
	Addr            string
	RedisURL        string
	KeyPrefix       string
	AuthSecret      string
	AuthPublicKeys  string             // PEM file of RSA/ECDSA public keys
	publicKeys      []crypto.PublicKey // read from AuthPublicKeys
	AllowedOrigins  []string
	Retention       time.Duration
	StreamMax       int
	LogLevel        slog.Level
	LogFormat       string
	ShutdownTimeout time.Duration
	ShutdownDelay   time.Duration
	PingInterval    time.Duration
	PongTimeout     time.Duration
	MetricsAddr     string
	Pprof           string // "on" serves net/http/pprof beside /metrics on MetricsAddr
	MaxBody         int64
	MaxConsoleData  int64
	MaxLogMessage   int64
	MaxIDLength     int
	RateLimit       int // requests a second per user; 0 = no limit
	RateBurst       int // 0 = twice RateLimit
}

// maxIDLengthCap bounds --max-id-length: ids become Redis keys and URL paths.
const maxIDLengthCap = 1024

const serveAbout = `Usage: sessionhub [serve] [flags]

Runs the hub: the REST API at /sessions, live updates at /ws, the agent dashboard
at /, and /healthz, /readyz and /metrics. With no --redis-url it keeps sessions in
memory (one instance, lost on exit); with one, any number of hubs share the Redis.
With no --auth-secret it makes a random one and prints a dashboard link that is
signed in already.`

func serveFlags(c *serveConfig) *flags {
	f := newFlags("serve", serveAbout)
	f.String(&c.Addr, "addr", "HOST:PORT", ":8080", "where to listen for HTTP and WebSockets (port 0 picks a free port)")
	f.String(&c.RedisURL, "redis-url", "URL", "", "Redis to share state through: redis://[:password@]host:6379/0, rediss://..., several comma-separated addresses for Cluster, ?master_name=NAME for Sentinel; empty keeps everything in memory")
	f.String(&c.KeyPrefix, "key-prefix", "PREFIX", "sessionhub", "prefix of every Redis key and channel")
	f.String(&c.AuthPublicKeys, "auth-public-keys", "FILE", "", "PEM file of RSA or ECDSA public keys that verify RS256/ES256 tokens from another issuer (besides HS256 with --auth-secret)")
	f.String(&c.AuthSecret, "auth-secret", "SECRET", "", "secret that signs and verifies HS256 tokens; empty makes a random one for this run")
	f.List(&c.AllowedOrigins, "allowed-origins", "ORIGINS", "", "origins allowed to open WebSockets besides the hub's own, comma separated (host patterns such as *.example.com)")
	f.Duration(&c.Retention, "retention", 24*time.Hour, false, "how long ended sessions are kept")
	f.Int(&c.StreamMax, "stream-max", 10000, 1, "change events kept per account for WebSocket resume (the recovery window)")
	f.LogLevel(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	f.Enum(&c.LogFormat, "log-format", "text", []string{"text", "json"}, "log format on stderr")
	f.Duration(&c.ShutdownTimeout, "shutdown-timeout", 15*time.Second, false, "how long a SIGTERM waits for requests and WebSockets to finish")
	f.Duration(&c.ShutdownDelay, "shutdown-delay", 0, true, "how long a SIGTERM keeps serving, not ready, before it closes connections, so load balancers can notice")
	f.Duration(&c.PingInterval, "ping-interval", 25*time.Second, false, "how often each WebSocket is pinged (the welcome's heartbeatSeconds)")
	f.Duration(&c.PongTimeout, "pong-timeout", 10*time.Second, false, "how long a WebSocket may take to answer a ping before it is dropped")
	f.String(&c.MetricsAddr, "metrics-addr", "HOST:PORT", "", "serve /metrics on this separate address instead of the main one")
	f.Enum(&c.Pprof, "pprof", "off", []string{"off", "on"}, "on serves Go's profiler at /debug/pprof/ on --metrics-addr (never on the public address)")
	f.Size(&c.MaxBody, "max-body", 1<<20, "largest request body accepted (413 past it)")
	f.Size(&c.MaxConsoleData, "max-console-data", 64<<10, "largest consoleData a session may hold")
	f.Size(&c.MaxLogMessage, "max-log-message", 4<<10, "largest message of one log entry")
	f.Int(&c.MaxIDLength, "max-id-length", 128, 1, "longest session or account id, in characters of A-Z a-z 0-9 . _ : @ -")
	f.Int(&c.RateLimit, "rate-limit", 0, 0, "REST requests a second each user (token sub) may make on average, past which they get 429; 0 is no limit")
	f.Int(&c.RateBurst, "rate-burst", 0, 0, "how many requests a user may make at once under --rate-limit; 0 is twice the rate")
	return f
}

// parseServe reads and checks the serve configuration; every mistake is found
// here, before anything starts.
func parseServe(args []string, getenv func(string) string, out io.Writer) (serveConfig, error) {
	var c serveConfig
	f := serveFlags(&c)
	if err := f.parse(args, getenv, out); err != nil {
		return c, err
	}
	bad := f.bad
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return c, bad("addr", c.Addr, errors.New("not a listen address: write it like :8080 or 127.0.0.1:8080"))
	}
	if c.AuthPublicKeys != "" {
		data, err := os.ReadFile(c.AuthPublicKeys)
		if err == nil {
			c.publicKeys, err = auth.ParsePublicKeys(data)
		}
		if err != nil {
			return c, bad("auth-public-keys", c.AuthPublicKeys, err)
		}
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return c, bad("metrics-addr", c.MetricsAddr, errors.New("not a listen address: write it like :9090 or 127.0.0.1:9090"))
		}
	}
	if c.Pprof == "on" && c.MetricsAddr == "" {
		return c, bad("pprof", c.Pprof, errors.New("needs --metrics-addr: the profiler is only served on that private address"))
	}
	if c.MaxIDLength > maxIDLengthCap {
		return c, bad("max-id-length", strconv.Itoa(c.MaxIDLength), fmt.Errorf("must be at most %d", maxIDLengthCap))
	}
	if strings.TrimSpace(c.KeyPrefix) == "" || strings.ContainsAny(c.KeyPrefix, " {}\t\r\n") {
		return c, bad("key-prefix", c.KeyPrefix, errors.New("must be non-empty, without spaces or braces"))
	}
	if c.RedisURL != "" {
		if err := checkRedisURL(c.RedisURL); err != nil {
			return c, bad("redis-url", redactURL(c.RedisURL), err)
		}
	}
	return c, nil
}

// redactURL hides the passwords of one or several comma-separated Redis URLs, so
// that they can be logged and shown in errors.
func redactURL(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if u, err := url.Parse(p); err == nil && u.User != nil {
			parts[i] = u.Redacted()
			continue
		}
		if at := strings.LastIndex(p, "@"); at >= 0 {
			parts[i] = "xxxxx" + p[at:]
		}
	}
	return strings.Join(parts, ",")
}
