package main

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionhub/sessionhub/auth"
)

func TestServeFlagsAndEnvironment(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, c serveConfig)
	}{
		{"defaults", nil, nil, func(t *testing.T, c serveConfig) {
			if c.Addr != ":8080" || c.KeyPrefix != "sessionhub" || c.Retention != 24*time.Hour || c.StreamMax != 10000 ||
				c.LogLevel != slog.LevelInfo || c.LogFormat != "text" || c.ShutdownTimeout != 15*time.Second ||
				c.MaxBody != 1<<20 || c.MaxConsoleData != 64<<10 || c.MaxLogMessage != 4<<10 || c.MaxIDLength != 128 || c.RedisURL != "" || c.AuthSecret != "" {
				t.Errorf("defaults = %+v", c)
			}
		}},
		{"env only", nil, map[string]string{
			"SESSIONHUB_ADDR": ":9999", "SESSIONHUB_RETENTION": "2h", "SESSIONHUB_ALLOWED_ORIGINS": "a.example.com, *.b.example.com",
			"SESSIONHUB_LOG_LEVEL": "DEBUG", "SESSIONHUB_LOG_FORMAT": "json", "SESSIONHUB_MAX_BODY": "2MiB", "SESSIONHUB_REDIS_URL": "redis://127.0.0.1:6379/0",
			"SESSIONHUB_MAX_LOG_MESSAGE": "8KiB", "SESSIONHUB_MAX_ID_LENGTH": "64",
		}, func(t *testing.T, c serveConfig) {
			if c.Addr != ":9999" || c.Retention != 2*time.Hour || c.LogLevel != slog.LevelDebug || c.LogFormat != "json" || c.MaxBody != 2<<20 ||
				c.MaxLogMessage != 8<<10 || c.MaxIDLength != 64 {
				t.Errorf("from env: %+v", c)
			}
			if want := []string{"a.example.com", "*.b.example.com"}; !slices.Equal(c.AllowedOrigins, want) {
				t.Errorf("AllowedOrigins = %q, want %q", c.AllowedOrigins, want)
			}
			if c.RedisURL != "redis://127.0.0.1:6379/0" {
				t.Errorf("RedisURL = %q", c.RedisURL)
			}
		}},
		{"flag wins over env", []string{"--addr", ":1234", "--retention=3h", "--stream-max", "5"},
			map[string]string{"SESSIONHUB_ADDR": ":9999", "SESSIONHUB_RETENTION": "not-a-duration-but-overridden", "SESSIONHUB_STREAM_MAX": "7"},
			func(t *testing.T, c serveConfig) {
				if c.Addr != ":1234" || c.Retention != 3*time.Hour || c.StreamMax != 5 {
					t.Errorf("flag vs env: addr %q retention %v stream-max %d, want :1234 3h 5", c.Addr, c.Retention, c.StreamMax)
				}
			}},
		{"empty env counts as unset", nil, map[string]string{"SESSIONHUB_ADDR": ""}, func(t *testing.T, c serveConfig) {
			if c.Addr != ":8080" {
				t.Errorf("Addr = %q, want the default", c.Addr)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseServe(tc.args, env(tc.env), newSyncBuffer())
			if err != nil {
				t.Fatalf("parseServe: %v", err)
			}
			tc.check(t, c)
		})
	}
}

// TestBadValuesFailBeforeStarting: every mistake is exit code 2 with a message
// that names the flag and its environment variable, and nothing is printed to
// stdout (nothing started).
func TestBadValuesFailBeforeStarting(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want []string // substrings of the error
	}{
		{[]string{"--retention", "soon"}, nil, []string{"--retention", "SESSIONHUB_RETENTION", "15s, 90m or 24h"}},
		{nil, map[string]string{"SESSIONHUB_RETENTION": "soon"}, []string{"SESSIONHUB_RETENTION=", "--retention"}},
		{[]string{"--retention", "-1h"}, nil, []string{"--retention", "more than zero"}},
		{[]string{"--shutdown-timeout", "0"}, nil, []string{"--shutdown-timeout", "SESSIONHUB_SHUTDOWN_TIMEOUT"}},
		{[]string{"--log-level", "loud"}, nil, []string{"--log-level", "SESSIONHUB_LOG_LEVEL", "debug, info, warn, error"}},
		{nil, map[string]string{"SESSIONHUB_LOG_FORMAT": "xml"}, []string{"SESSIONHUB_LOG_FORMAT", "--log-format", "text, json"}},
		{[]string{"--redis-url", "http://:hunter2@example.com"}, nil, []string{"--redis-url", "SESSIONHUB_REDIS_URL"}},
		{nil, map[string]string{"SESSIONHUB_REDIS_URL": "redis://[::1"}, []string{"SESSIONHUB_REDIS_URL", "--redis-url"}},
		{[]string{"--stream-max", "0"}, nil, []string{"--stream-max", "at least 1"}},
		{[]string{"--stream-max", "many"}, nil, []string{"--stream-max", "whole number"}},
		{[]string{"--addr", "8080"}, nil, []string{"--addr", "SESSIONHUB_ADDR", ":8080"}},
		{[]string{"--max-body", "lots"}, nil, []string{"--max-body", "64KiB"}},
		{[]string{"--key-prefix", "a b"}, nil, []string{"--key-prefix"}},
		{[]string{"--max-id-length", "0"}, nil, []string{"--max-id-length", "at least 1"}},
		{nil, map[string]string{"SESSIONHUB_MAX_ID_LENGTH": "5000"}, []string{"SESSIONHUB_MAX_ID_LENGTH", "at most 1024"}},
		{[]string{"--max-log-message", "big"}, nil, []string{"--max-log-message", "SESSIONHUB_MAX_LOG_MESSAGE"}},
		{[]string{"--nope"}, nil, []string{"--nope", "sessionhub serve --help"}},
		{[]string{"serve", "extra"}, nil, []string{`unexpected argument "extra"`}},
		{[]string{"launch"}, nil, []string{`unknown command "launch"`}},
		{[]string{"token", "--secret", "s", "--user", "u", "--accounts", "a", "--role", "boss"}, nil, []string{"--role", "viewer, agent, service"}},
		{[]string{"token", "--secret", "s", "--user", "u", "--accounts", "a", "--ttl", "forever"}, nil, []string{"--ttl", "SESSIONHUB_TTL"}},
		{[]string{"token", "--user", "u", "--accounts", "a"}, nil, []string{"no secret", "SESSIONHUB_AUTH_SECRET"}},
		{[]string{"token", "--secret", "s", "--accounts", "a"}, nil, []string{"no user", "--user"}},
		{[]string{"token", "--secret", "s", "--user", "u"}, nil, []string{"no accounts", "--accounts"}},
		{[]string{"simulate", "--rate", "0"}, nil, []string{"--rate", "more than 0"}},
		{[]string{"simulate", "--url", "ftp://x"}, nil, []string{"--url", "http://localhost:8080"}},
		{[]string{"simulate"}, nil, []string{"no token", "--secret"}},
		{[]string{"simulate", "--token", agentToken(t)}, nil, []string{"role", "service"}},
	} {
		name := strings.Join(tc.args, " ")
		for k, v := range tc.env {
			name += " " + k + "=" + v
		}
		t.Run(name, func(t *testing.T) {
			stdout := newSyncBuffer()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := run(ctx, tc.args, env(tc.env), stdout, stdout)
			if err == nil {
				t.Fatalf("run succeeded, want an error")
			}
			if got := exitCode(err); got != 2 {
				t.Errorf("exit code %d, want 2 (err %v)", got, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows the Redis password", err)
			}
			if stdout.String() != "" {
				t.Errorf("printed %q, want nothing before the error", stdout.String())
			}
		})
	}
}

func agentToken(tb testing.TB) string {
	tb.Helper()
	tok, err := mintToken([]byte("s"), "u", "", []string{"a"}, auth.RoleAgent, time.Hour, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

func TestTokenOutputVerifies(t *testing.T) {
	const secret = "a-very-secret-secret-of-32-bytes"
	out := newSyncBuffer()
	err := run(context.Background(), []string{"token", "--user", "dana", "--name", "Dana Reyes", "--accounts", "acme-1,acme-2", "--role", "viewer", "--ttl", "2h"},
		env(map[string]string{"SESSIONHUB_AUTH_SECRET": secret, "SESSIONHUB_ROLE": "service"}), out, out)
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	a, err := auth.New(auth.Config{Secret: []byte(secret)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.Verify(strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatalf("Verify(printed token): %v", err)
	}
	if c.Subject != "dana" || c.Name != "Dana Reyes" || c.Role != auth.RoleViewer || !slices.Equal(c.Accounts, []string{"acme-1", "acme-2"}) {
		t.Errorf("claims = %+v, want dana / Dana Reyes / viewer (the flag beats SESSIONHUB_ROLE) / acme-1,acme-2", c)
	}
	if left := time.Until(c.Expires); left < 119*time.Minute || left > 2*time.Hour {
		t.Errorf("expires in %v, want 2h", left)
	}
	other, _ := auth.New(auth.Config{Secret: []byte("another secret")})
	if _, err := other.Verify(strings.TrimSpace(out.String())); !errors.Is(err, auth.ErrInvalid) {
		t.Errorf("Verify with another secret: %v, want ErrInvalid", err)
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"Usage:", "sessionhub simulate", "--redis-url", "SESSIONHUB_REDIS_URL", "default :8080"}},
		{[]string{"help", "simulate"}, []string{"--rate", "SESSIONHUB_RATE", "--seed"}},
		{[]string{"token", "-h"}, []string{"--secret", "SESSIONHUB_AUTH_SECRET", "viewer"}},
		{[]string{"serve", "--help"}, []string{"--shutdown-timeout", "SESSIONHUB_SHUTDOWN_TIMEOUT"}},
		{[]string{"version"}, []string{"sessionhub ", "go1."}},
	} {
		out := newSyncBuffer()
		if err := run(context.Background(), tc.args, env(nil), out, out); err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%q printed no %q:\n%s", tc.args, w, out.String())
			}
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1048576", 1 << 20, true}, {"64KiB", 64 << 10, true}, {"1MiB", 1 << 20, true}, {"2mb", 2 << 20, true},
		{"512 B", 512, true}, {"0", 0, false}, {"-1", 0, false}, {"1.5MiB", 0, false}, {"", 0, false}, {"99999999TB", 0, false},
	} {
		got, err := parseSize(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"redis://:hunter2@127.0.0.1:6379/0":               "redis://:xxxxx@127.0.0.1:6379/0",
		"redis://u:p@a:1,redis://u:p@b:2":                 "redis://u:xxxxx@a:1,redis://u:xxxxx@b:2",
		"redis://127.0.0.1:6379":                          "redis://127.0.0.1:6379",
		"rediss://default:s3cret@cache.example.com:6380/": "rediss://default:xxxxx@cache.example.com:6380/",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFmtDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0", 10 * time.Second: "10s", 25 * time.Second: "25s", 90 * time.Second: "1m30s",
		15 * time.Minute: "15m", 24 * time.Hour: "24h", 90 * time.Minute: "1h30m", 500 * time.Millisecond: "500ms",
	} {
		if got := fmtDuration(d); got != want {
			t.Errorf("fmtDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
