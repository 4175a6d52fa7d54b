package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// hubConfig says how to start a hub process.
type hubConfig struct {
	// Addr is the listen address; default 127.0.0.1:0 (a free port).
	Addr string
	// Secret is --auth-secret; empty lets the hub make one and print a link
	// with a ready token.
	Secret string
	// RedisURL and KeyPrefix select the Redis store; empty keeps the embedded one.
	RedisURL, KeyPrefix string
}

// hub is one running sessionhub process.
type hub struct {
	tb   testing.TB
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	logs *lockedBuffer

	// Base is the dashboard address the hub printed, without a token:
	// http://127.0.0.1:PORT/.
	Base string
	// Link is the whole printed dashboard link (with #token=... when the hub made
	// its own secret).
	Link string
	// Addr is host:port of Base.
	Addr   string
	Secret string
}

// startHub runs the built binary and waits until it prints its dashboard link.
// The process is stopped when the test ends; its log is shown if the test failed.
func startHub(tb testing.TB, cfg hubConfig) *hub {
	tb.Helper()
	if hubBinary == "" {
		tb.Fatal("the sessionhub binary was not built (TestMain found no browser)")
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	args := []string{"serve", "--addr", cfg.Addr, "--shutdown-timeout", "5s"}
	if cfg.Secret != "" {
		args = append(args, "--auth-secret", cfg.Secret)
	}
	if cfg.RedisURL != "" {
		args = append(args, "--redis-url", cfg.RedisURL, "--key-prefix", cfg.KeyPrefix)
	}
	cmd := exec.Command(hubBinary, args...)
	cmd.Env = hubEnv()
	h := &hub{tb: tb, cmd: cmd, done: make(chan struct{}), logs: &lockedBuffer{}, Secret: cfg.Secret}
	links := make(chan string, 1)
	cmd.Stderr = h.logs
	cmd.Stdout = &lineWriter{line: func(line string) {
		fmt.Fprintln(h.logs, "stdout:", line)
		if _, link, ok := strings.Cut(line, "Dashboard: "); ok {
			select {
			case links <- strings.TrimSpace(link):
			default:
			}
		}
	}}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", hubBinary, err)
	}
	go func() {
		_ = cmd.Wait()
		close(h.done)
	}()
	tb.Cleanup(func() {
		h.Stop()
		if tb.Failed() {
			tb.Logf("hub %s log:\n%s", h.Addr, h.logs.String())
		}
	})

	select {
	case link := <-links:
		h.Link = link
	case <-h.done:
		tb.Fatalf("sessionhub %s exited before printing its dashboard link:\n%s", strings.Join(args, " "), h.logs.String())
	case <-time.After(15 * time.Second):
		tb.Fatalf("sessionhub %s printed no dashboard link in 15s:\n%s", strings.Join(args, " "), h.logs.String())
	}
	u, err := url.Parse(h.Link)
	if err != nil || u.Host == "" {
		tb.Fatalf("the printed dashboard link %q is not a URL: %v", h.Link, err)
	}
	h.Addr = u.Host
	h.Base = "http://" + u.Host + "/"
	return h
}

// Stop sends SIGTERM, as an orchestrator would, and waits for the process to
// exit (killing it after 10 s). It is safe to call more than once.
func (h *hub) Stop() {
	h.tb.Helper()
	select {
	case <-h.done:
		return
	default:
	}
	if err := h.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		h.tb.Errorf("SIGTERM the hub: %v", err)
	}
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		h.tb.Errorf("the hub did not exit within 10s of SIGTERM; killing it")
		_ = h.cmd.Process.Kill()
		<-h.done
	}
}

// hubEnv is this process's environment without SESSIONHUB_* variables, which
// would otherwise configure the hub behind the test's back.
func hubEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SESSIONHUB_") {
			env = append(env, kv)
		}
	}
	return env
}

// lineWriter calls line for every complete line written to it; exec copies a
// process's stdout into it from one goroutine.
type lineWriter struct {
	partial []byte
	line    func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.line(strings.TrimRight(string(w.partial[:i]), "\r"))
		w.partial = w.partial[i+1:]
	}
	return len(p), nil
}

// lockedBuffer collects a process's output from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
