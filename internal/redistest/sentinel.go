package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelMaster is the name the test Sentinel monitors its master under.
const SentinelMaster = "mymaster"

// Sentinel is a Redis master watched by one sentinel (quorum 1), owned by one
// test. The sentinel never fails the master over on its own within a test's
// lifetime (down-after is a minute), so the master stays put unless the test
// moves it.
type Sentinel struct {
	Master  *Server // the monitored master; Kill/Restart work as for Start
	Replica *Server // the master's replica (StartSentinelWithReplica), else nil
	Port    int     // the sentinel's port
	dir     string
	p       *proc
}

// StartSentinel starts a master and a sentinel monitoring it as SentinelMaster,
// and returns once the sentinel names the master. Everything is killed when tb
// ends. Without redis-server the test skips (or fails under
// SESSIONHUB_REQUIRE_REDIS).
func StartSentinel(tb testing.TB) *Sentinel {
	tb.Helper()
	return startSentinel(tb, Start(tb), nil)
}

// StartSentinelWithReplica is StartSentinel with a replica of the master
// (Replica), in sync and known to the sentinel, so that Failover can promote it.
func StartSentinelWithReplica(tb testing.TB) *Sentinel {
	tb.Helper()
	master := Start(tb)
	replica := Start(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := attachReplica(ctx, master, replica); err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	return startSentinel(tb, master, replica)
}

func startSentinel(tb testing.TB, master, replica *Server) *Sentinel {
	tb.Helper()
	dir, err := os.MkdirTemp("", "sessionhub-redis-sentinel-")
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	s := &Sentinel{Master: master, Replica: replica, dir: dir}
	tb.Cleanup(s.kill)
	var lastErr error
	for range 5 {
		ports, err := freePorts(1)
		if err != nil {
			tb.Fatalf("redistest: %v", err)
		}
		s.Port = ports[0]
		// Sentinel rewrites its config file, so each attempt writes a fresh one
		// in the test's directory.
		conf := filepath.Join(dir, "sentinel.conf")
		body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndaemonize no\nloglevel warning\ndir %s\n"+
			"sentinel monitor %s 127.0.0.1 %d 1\n"+
			"sentinel down-after-milliseconds %s 60000\n",
			s.Port, dir, SentinelMaster, master.Port, SentinelMaster)
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			tb.Fatalf("redistest: write sentinel config: %v", err)
		}
		if s.p, lastErr = spawn(nil, s.Port, conf, "--sentinel"); lastErr == nil {
			break
		}
	}
	if s.p == nil {
		unavailable(tb, fmt.Sprintf("could not start redis-server --sentinel: %v", lastErr))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := s.waitMaster(ctx); err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	return s
}

// waitMaster polls the sentinel until it names the master and has connected to it.
func (s *Sentinel) waitMaster(ctx context.Context) error {
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.Addr()})
	defer sc.Close()
	want := s.Master.Addr()
	var last string
	for {
		addr, err := sc.GetMasterAddrByName(ctx, SentinelMaster).Result()
		if err == nil && len(addr) == 2 && net.JoinHostPort(addr[0], addr[1]) == want {
			m, err := sc.Master(ctx, SentinelMaster).Result()
			if err == nil && m["flags"] == "master" {
				return nil
			}
			last = fmt.Sprintf("master flags %q (err %v)", m["flags"], err)
		} else {
			last = fmt.Sprintf("master address %v (err %v)", addr, err)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("the sentinel on %s never vouched for master %s: last saw %s", s.Addr(), want, last)
		}
		time.Sleep(20 * time.Millisecond) // polling the sentinel with a deadline
	}
}

// Addr is the sentinel's host:port.
func (s *Sentinel) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// URL is the Sentinel setup as redisstore.NewClient takes it: the sentinel's
// address with ?master_name=.
func (s *Sentinel) URL() string {
	return "redis://" + s.Addr() + "/0?master_name=" + SentinelMaster
}

// kill stops the sentinel and removes its directory; the master is stopped by
// its own cleanup.
func (s *Sentinel) kill() {
	s.p.kill()
	s.p = nil
	os.RemoveAll(s.dir)
}
