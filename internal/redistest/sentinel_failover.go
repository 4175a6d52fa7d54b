package redistest

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// attachReplica makes replica replicate master and waits until the link is up.
// The master syncs at once (no diskless delay), so this takes milliseconds.
func attachReplica(ctx context.Context, master, replica *Server) error {
	mc := redis.NewClient(&redis.Options{Addr: master.Addr()})
	defer mc.Close()
	rc := redis.NewClient(&redis.Options{Addr: replica.Addr()})
	defer rc.Close()
	if err := mc.ConfigSet(ctx, "repl-diskless-sync-delay", "0").Err(); err != nil {
		return fmt.Errorf("CONFIG SET on the master: %w", err)
	}
	if err := rc.Do(ctx, "REPLICAOF", "127.0.0.1", master.Port).Err(); err != nil {
		return fmt.Errorf("REPLICAOF on the replica: %w", err)
	}
	for {
		info, err := rc.Info(ctx, "replication").Result()
		if err == nil && strings.Contains(info, "master_link_status:up") {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("replica %s never synced with master %s (err %v)", replica.Addr(), master.Addr(), err)
		}
		time.Sleep(20 * time.Millisecond) // polling the replication link with a deadline
	}
}

// Failover has the sentinel promote the replica (SENTINEL FAILOVER) and returns
// once the sentinel names it as the master and it serves writes. Master and
// Replica then trade places: Master is the new master, Replica the old one
// (which the sentinel turns into a replica in its own time).
func (s *Sentinel) Failover(tb testing.TB) {
	tb.Helper()
	if s.Replica == nil {
		tb.Fatal("redistest: Failover needs a replica: use StartSentinelWithReplica")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.Addr()})
	defer sc.Close()
	// The sentinel learns of the replica from the master's INFO and must have
	// talked to it before it will promote it: retry while it has no candidate.
	for {
		err := sc.Failover(ctx, SentinelMaster).Err()
		if err == nil {
			break
		}
		if !strings.Contains(err.Error(), "NOGOODSLAVE") && !strings.Contains(err.Error(), "NOGOODREPLICA") {
			tb.Fatalf("redistest: SENTINEL FAILOVER: %v", err)
		}
		if ctx.Err() != nil {
			tb.Fatalf("redistest: SENTINEL FAILOVER found no replica to promote: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // polling the sentinel with a deadline
	}
	want := s.Replica.Addr()
	rc := redis.NewClient(&redis.Options{Addr: want})
	defer rc.Close()
	for {
		addr, err := sc.GetMasterAddrByName(ctx, SentinelMaster).Result()
		named := err == nil && len(addr) == 2 && net.JoinHostPort(addr[0], addr[1]) == want
		role, _ := rc.Do(ctx, "ROLE").Slice()
		if named && len(role) > 0 && role[0] == "master" {
			break
		}
		if ctx.Err() != nil {
			tb.Fatalf("redistest: the sentinel never promoted %s: names %v (err %v), role %v", want, addr, err, role)
		}
		time.Sleep(20 * time.Millisecond) // polling the sentinel with a deadline
	}
	s.Master, s.Replica = s.Replica, s.Master
}
