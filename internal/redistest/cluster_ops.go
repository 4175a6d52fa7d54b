package redistest

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// KillNode stops node i (in Addrs order) at once; its data is gone, its
// nodes.conf (slots and peers) stays for RestartNode.
func (c *Cluster) KillNode(i int) {
	c.nodes[i].p.kill()
}

// RestartNode starts node i again on the same ports, empty but with its old
// identity and slots, and waits until every node reports cluster_state:ok.
func (c *Cluster) RestartNode(tb testing.TB, i int) {
	tb.Helper()
	n := c.nodes[i]
	n.p.kill()
	var err error
	for range 50 {
		err = n.start()
		if err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond) // the port may still be in TIME_WAIT
	}
	if err != nil {
		tb.Fatalf("redistest: restart cluster node %s: %v", n.addr(), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.waitOK(ctx); err != nil {
		tb.Fatalf("redistest: after restarting %s: %v", n.addr(), err)
	}
}

// MoveSlot migrates slot, keys included, to node to (in Addrs order), the way
// redis-cli --cluster reshard does, and returns once every node names to as its
// owner. Redis then drops the shard-channel subscriptions of that slot on the
// old owner.
func (c *Cluster) MoveSlot(tb testing.TB, slot, to int) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.moveSlot(ctx, slot, to); err != nil {
		tb.Fatalf("redistest: move slot %d to %s: %v", slot, c.nodes[to].addr(), err)
	}
}

func (c *Cluster) moveSlot(ctx context.Context, slot, to int) error {
	clients := c.clients()
	defer closeAll(clients)
	from, err := ownerOf(ctx, clients[to], slot, c.Addrs())
	if err != nil {
		return err
	}
	if from == to {
		return nil
	}
	ids := make([]string, len(clients))
	for i, cl := range clients {
		if ids[i], err = cl.Do(ctx, "CLUSTER", "MYID").Text(); err != nil {
			return fmt.Errorf("CLUSTER MYID on %s: %w", c.nodes[i].addr(), err)
		}
	}
	if err := clients[to].Do(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", ids[from]).Err(); err != nil {
		return fmt.Errorf("SETSLOT IMPORTING: %w", err)
	}
	if err := clients[from].Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", ids[to]).Err(); err != nil {
		return fmt.Errorf("SETSLOT MIGRATING: %w", err)
	}
	for {
		keys, err := clients[from].ClusterGetKeysInSlot(ctx, slot, 100).Result()
		if err != nil {
			return fmt.Errorf("CLUSTER GETKEYSINSLOT: %w", err)
		}
		if len(keys) == 0 {
			break
		}
		args := []any{"MIGRATE", "127.0.0.1", c.nodes[to].port, "", 0, 5000, "KEYS"}
		for _, k := range keys {
			args = append(args, k)
		}
		if err := clients[from].Do(ctx, args...).Err(); err != nil {
			return fmt.Errorf("MIGRATE: %w", err)
		}
	}
	// The new owner first, then the old one, then the rest (as redis-cli does).
	order := []int{to, from}
	for i := range clients {
		if i != to && i != from {
			order = append(order, i)
		}
	}
	for _, i := range order {
		if err := clients[i].Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", ids[to]).Err(); err != nil {
			return fmt.Errorf("SETSLOT NODE on %s: %w", c.nodes[i].addr(), err)
		}
	}
	for i, cl := range clients {
		for {
			owner, err := ownerOf(ctx, cl, slot, c.Addrs())
			if err == nil && owner == to {
				break
			}
			if ctx.Err() != nil {
				return fmt.Errorf("node %s still names node %d as the owner (err %v)", c.nodes[i].addr(), owner, err)
			}
			time.Sleep(20 * time.Millisecond) // polling the gossip with a deadline
		}
	}
	return nil
}

// ownerOf asks cl which node (index into addrs) owns slot.
func ownerOf(ctx context.Context, cl *redis.Client, slot int, addrs []string) (int, error) {
	//lint:ignore SA1019 CLUSTER SLOTS answers on every Redis 7 and maps a slot to its node directly.
	ranges, err := cl.ClusterSlots(ctx).Result()
	if err != nil {
		return -1, fmt.Errorf("CLUSTER SLOTS: %w", err)
	}
	for _, r := range ranges {
		if slot < int(r.Start) || slot > int(r.End) || len(r.Nodes) == 0 {
			continue
		}
		for i, a := range addrs {
			if r.Nodes[0].Addr == a {
				return i, nil
			}
		}
		return -1, fmt.Errorf("slot %d is owned by %s, not a node of this cluster", slot, r.Nodes[0].Addr)
	}
	return -1, fmt.Errorf("slot %d has no owner", slot)
}

// waitOK polls every node until it reports the cluster whole.
func (c *Cluster) waitOK(ctx context.Context) error {
	clients := c.clients()
	defer closeAll(clients)
	want := []string{"cluster_state:ok", "cluster_slots_ok:16384", "cluster_known_nodes:" + strconv.Itoa(len(c.nodes))}
	for i, cl := range clients {
		var info string
		for {
			var err error
			info, err = cl.ClusterInfo(ctx).Result()
			if err == nil && hasAll(info, want) {
				break
			}
			if ctx.Err() != nil {
				return fmt.Errorf("node %s never reported %v; last CLUSTER INFO: %q (err %v)", c.nodes[i].addr(), want, firstLines(info, 6), err)
			}
			time.Sleep(20 * time.Millisecond) // polling the gossip with a deadline
		}
	}
	return nil
}

func (c *Cluster) clients() []*redis.Client {
	out := make([]*redis.Client, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = redis.NewClient(&redis.Options{Addr: n.addr()})
	}
	return out
}

func closeAll(cs []*redis.Client) {
	for _, c := range cs {
		c.Close()
	}
}
