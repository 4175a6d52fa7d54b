package redistest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestStartCluster(t *testing.T) {
	c := StartCluster(t)
	if got := strings.Count(c.URL(), ","); got != 2 {
		t.Fatalf("URL %q has %d commas, want 3 comma-separated seeds", c.URL(), got)
	}
	cl := c.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Keys whose slots lie in each third of the slot space are served by
	// different nodes, and every write reads back through the cluster.
	owners := map[string]bool{}
	for _, k := range []string{"{a}x", "{b}x", "{c}x", "{d}x", "{e}x", "{f}x", "{g}x", "{h}x"} {
		if err := cl.Set(ctx, k, "v", 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
		if got, err := cl.Get(ctx, k).Result(); err != nil || got != "v" {
			t.Fatalf("GET %s = %q, %v; want v", k, got, err)
		}
		m, err := cl.MasterForKey(ctx, k)
		if err != nil {
			t.Fatalf("MasterForKey(%s): %v", k, err)
		}
		owners[m.Options().Addr] = true
	}
	if len(owners) < 2 {
		t.Fatalf("8 keys all landed on %v, want them spread over several nodes", owners)
	}
}

func TestStartSentinel(t *testing.T) {
	s := StartSentinel(t)
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: SentinelMaster, SentinelAddrs: []string{s.Addr()}})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET through the sentinel: %v", err)
	}
	// The write landed on the master the sentinel names.
	if got, err := s.Master.Client(t).Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("GET on the master = %q, %v; want v", got, err)
	}
	if !strings.Contains(s.URL(), "master_name="+SentinelMaster) {
		t.Fatalf("URL %q does not name the master", s.URL())
	}
}

func TestSentinelFailover(t *testing.T) {
	s := StartSentinelWithReplica(t)
	oldMaster, oldReplica := s.Master, s.Replica
	s.Failover(t)
	if s.Master != oldReplica || s.Replica != oldMaster {
		t.Fatal("after Failover, Master and Replica did not trade places")
	}
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: SentinelMaster, SentinelAddrs: []string{s.Addr()}})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET through the sentinel after the failover: %v", err)
	}
	if got, err := s.Master.Client(t).Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("GET on the promoted master = %q, %v; want v", got, err)
	}
}

func TestClusterMoveSlotAndRestart(t *testing.T) {
	c := StartCluster(t)
	cl := c.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const key = "{a}k"
	if err := cl.Set(ctx, key, "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	slot, err := cl.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	node0 := redis.NewClient(&redis.Options{Addr: c.Addrs()[0]})
	defer node0.Close()
	from, err := ownerOf(ctx, node0, int(slot), c.Addrs())
	if err != nil {
		t.Fatal(err)
	}
	to := (from + 1) % len(c.Addrs())
	c.MoveSlot(t, int(slot), to)
	for i, addr := range c.Addrs() {
		n := redis.NewClient(&redis.Options{Addr: addr})
		owner, err := ownerOf(ctx, n, int(slot), c.Addrs())
		n.Close()
		if err != nil || owner != to {
			t.Fatalf("after MoveSlot node %d names node %d (%v) as the owner, want %d", i, owner, err, to)
		}
	}
	if got, err := cl.Get(ctx, key).Result(); err != nil || got != "v" {
		t.Fatalf("GET after the move = %q, %v; want the value moved with its slot", got, err)
	}
	c.RestartNode(t, to)
	if err := cl.Get(ctx, key).Err(); err != redis.Nil {
		t.Fatalf("GET after the owner restarted: got %v, want redis.Nil (its data is gone)", err)
	}
}
