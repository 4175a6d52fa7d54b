package redistest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterSize is how many masters a test Cluster has: enough that accounts land
// on different nodes, few enough to start in a second or two.
const clusterSize = 3

// Cluster is a Redis Cluster of three masters (no replicas) owned by one test,
// each redis-server on free ports with a temporary directory of its own. The
// slots are split evenly: node i owns slots [i*16384/3, (i+1)*16384/3).
type Cluster struct {
	nodes []*clusterNode
}

type clusterNode struct {
	port, bus int // client port and cluster bus port
	dir       string
	p         *proc
}

// start runs the node's redis-server. The bus port is given explicitly: the
// default (port+10000) may be past 65535 for an ephemeral port.
func (n *clusterNode) start() (err error) {
	n.p, err = spawn(nil, n.port,
		"--port", strconv.Itoa(n.port), "--bind", "127.0.0.1",
		"--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(n.bus),
		"--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000",
		"--save", "", "--appendonly", "no", "--dir", n.dir,
		"--daemonize", "no", "--loglevel", "warning")
	return err
}

func (n *clusterNode) addr() string { return "127.0.0.1:" + strconv.Itoa(n.port) }

// StartCluster starts a Cluster and returns once every node reports
// cluster_state:ok, so any client sees all 16384 slots served. Everything is
// killed and removed when tb ends. Without redis-server the test skips (or
// fails under SESSIONHUB_REQUIRE_REDIS).
func StartCluster(tb testing.TB) *Cluster {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		unavailable(tb, "no redis-server on PATH")
	}
	c := &Cluster{}
	tb.Cleanup(c.kill)
	for range clusterSize {
		n, err := startClusterNode()
		if err != nil {
			unavailable(tb, err.Error())
		}
		c.nodes = append(c.nodes, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.form(ctx); err != nil {
		tb.Fatalf("redistest: could not form a Redis Cluster: %v", err)
	}
	return c
}

// startClusterNode starts one empty cluster-enabled master, retrying on other
// ports if the chosen ones were taken in between.
func startClusterNode() (*clusterNode, error) {
	dir, err := os.MkdirTemp("", "sessionhub-redis-cluster-")
	if err != nil {
		return nil, err
	}
	var lastErr error
	for range 5 {
		ports, err := freePorts(2)
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		n := &clusterNode{port: ports[0], bus: ports[1], dir: dir}
		lastErr = n.start()
		if lastErr == nil {
			return n, nil
		}
		os.Remove(dir + "/nodes.conf")
	}
	os.RemoveAll(dir)
	return nil, fmt.Errorf("could not start a cluster-enabled redis-server: %v", lastErr)
}

// form assigns the slots, introduces the nodes to each other and waits until
// every node says the cluster is ok. It does by hand what redis-cli --cluster
// create does, without its fixed one-second waits.
func (c *Cluster) form(ctx context.Context) error {
	clients := c.clients()
	defer closeAll(clients)
	for i, cl := range clients {
		lo, hi := i*16384/len(clients), (i+1)*16384/len(clients)-1
		// Distinct config epochs up front spare the nodes the collision dance.
		if err := cl.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err(); err != nil {
			return fmt.Errorf("CLUSTER SET-CONFIG-EPOCH on %s: %w", c.nodes[i].addr(), err)
		}
		if err := cl.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err(); err != nil {
			return fmt.Errorf("CLUSTER ADDSLOTSRANGE %d %d on %s: %w", lo, hi, c.nodes[i].addr(), err)
		}
	}
	for _, n := range c.nodes[1:] {
		if err := clients[0].Do(ctx, "CLUSTER", "MEET", "127.0.0.1", n.port, n.bus).Err(); err != nil {
			return fmt.Errorf("CLUSTER MEET %s: %w", n.addr(), err)
		}
	}
	return c.waitOK(ctx)
}

func hasAll(info string, want []string) bool {
	lines := strings.Split(strings.ReplaceAll(info, "\r", ""), "\n")
	for _, w := range want {
		found := false
		for _, l := range lines {
			if l == w {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(strings.ReplaceAll(s, "\r", ""), "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], " ")
}

// URL is the Cluster's seeds as redisstore.NewClient takes them: several
// comma-separated addresses, redis://h1:p1,h2:p2,h3:p3.
func (c *Cluster) URL() string { return "redis://" + strings.Join(c.Addrs(), ",") }

// Addrs are the nodes' host:port addresses, in slot order.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.addr()
	}
	return out
}

// Client returns a Cluster client on the nodes, closed when tb ends.
func (c *Cluster) Client(tb testing.TB) *redis.ClusterClient {
	tb.Helper()
	cl := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs()})
	tb.Cleanup(func() { cl.Close() })
	return cl
}

// kill stops every node and removes its directory.
func (c *Cluster) kill() {
	for _, n := range c.nodes {
		n.p.kill()
		os.RemoveAll(n.dir)
	}
	c.nodes = nil
}
