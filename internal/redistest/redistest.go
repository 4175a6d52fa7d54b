// Package redistest gives tests a real Redis: the shared one named by
// SESSIONHUB_TEST_REDIS_URL, or a throwaway redis-server on a free port. When
// neither is possible the test skips with a message naming what is missing,
// unless SESSIONHUB_REQUIRE_REDIS is set (as in CI), when it fails instead.
package redistest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// unavailable skips, or fails when Redis is required.
func unavailable(tb testing.TB, why string) {
	tb.Helper()
	if os.Getenv("SESSIONHUB_REQUIRE_REDIS") != "" {
		tb.Fatalf("Redis is required (SESSIONHUB_REQUIRE_REDIS is set) but %s", why)
	}
	tb.Skipf("skipping: %s (set SESSIONHUB_TEST_REDIS_URL or install redis-server)", why)
}

var (
	sharedOnce sync.Once
	sharedURL  string
	sharedErr  error
)

// URL returns the address of a Redis shared by the tests of this process, and a
// key prefix unique to this test so tests never see each other's keys.
func URL(tb testing.TB) (url, prefix string) {
	tb.Helper()
	sharedOnce.Do(func() {
		if u := os.Getenv("SESSIONHUB_TEST_REDIS_URL"); u != "" {
			sharedURL = u
			return
		}
		srv, err := sharedServer()
		if err != nil {
			sharedErr = err
			return
		}
		sharedURL = srv.URL()
	})
	if sharedErr != nil {
		unavailable(tb, sharedErr.Error())
	}
	opt, err := redis.ParseURL(sharedURL)
	if err != nil {
		tb.Fatalf("SESSIONHUB_TEST_REDIS_URL=%q: %v", sharedURL, err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		unavailable(tb, fmt.Sprintf("Redis at %s does not answer: %v", sharedURL, err))
	}
	return sharedURL, "t" + strings.ReplaceAll(uuid.NewString()[:13], "-", "")
}

// sharedServer starts the redis-server that the tests of this process share.
// No test owns it, so nothing would stop it: it is started from a goroutine
// locked to an OS thread that never exits, with a parent-death signal, so the
// kernel kills it when the test binary exits.
func sharedServer() (*Server, error) {
	type result struct {
		s   *Server
		err error
	}
	done := make(chan result)
	go func() {
		runtime.LockOSThread()
		s, err := startWith(dieWithParent)
		done <- result{s, err}
		select {} // keep this thread, and so the server, alive until the process exits
	}()
	r := <-done
	return r.s, r.err
}

// Server is a redis-server process owned by one test: it may be killed and
// restarted on the same port.
type Server struct {
	Port  int
	dir   string
	mu    sync.Mutex
	p     *proc           // the running process; nil while killed
	setup func(*exec.Cmd) // adjusts each start, if set
}

// Start runs a private redis-server on a free port, stopped when tb ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, err := start()
	if err != nil {
		unavailable(tb, err.Error())
	}
	tb.Cleanup(s.Kill)
	return s
}

func start() (*Server, error) { return startWith(nil) }

func startWith(setup func(*exec.Cmd)) (*Server, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, fmt.Errorf("no redis-server on PATH")
	}
	dir, err := os.MkdirTemp("", "sessionhub-redis-")
	if err != nil {
		return nil, err
	}
	var lastErr error
	for range 5 {
		ports, err := freePorts(1)
		if err != nil {
			return nil, err
		}
		s := &Server{Port: ports[0], dir: dir, setup: setup}
		if lastErr = s.run(); lastErr == nil {
			return s, nil
		}
	}
	return nil, fmt.Errorf("could not start redis-server: %v", lastErr)
}

// URL is the server's redis:// address.
func (s *Server) URL() string { return "redis://127.0.0.1:" + strconv.Itoa(s.Port) + "/0" }

// Addr is host:port.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

func (s *Server) run() error {
	p, err := spawn(s.setup, s.Port,
		"--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir,
		"--daemonize", "no", "--loglevel", "warning")
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.p = p
	s.mu.Unlock()
	return nil
}

// Kill stops the server at once (SIGKILL); its data is gone.
func (s *Server) Kill() {
	s.mu.Lock()
	p := s.p
	s.p = nil
	s.mu.Unlock()
	p.kill()
}

// Restart starts the server again on the same port, empty.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.Kill()
	var err error
	for range 50 {
		if err = s.run(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond) // the port may still be in TIME_WAIT
	}
	tb.Fatalf("restart redis-server on %d: %v", s.Port, err)
}

// Client returns a client for the server, closed when tb ends.
func (s *Server) Client(tb testing.TB) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	tb.Cleanup(func() { c.Close() })
	return c
}

// Dir is where the server may write files.
func (s *Server) Dir() string { return filepath.Clean(s.dir) }
