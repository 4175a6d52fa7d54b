package redisstore

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionhub/sessionhub/internal/redistest"
	"github.com/sessionhub/sessionhub/session"
	"github.com/sessionhub/sessionhub/storetest"
)

// prefixes numbers the key prefixes of tests that share one Cluster or Sentinel
// setup, so their subtests never see each other's keys.
var prefixes atomic.Int64

func nextPrefix(kind string) string { return fmt.Sprintf("%s%d", kind, prefixes.Add(1)) }

// TestCluster holds the store on a real three-master Redis Cluster to the
// same contract suite as on one Redis (DESIGN §4: the same code serves
// standalone, Sentinel and Cluster), and to what only a Cluster can break:
// subscriptions on several nodes at once, and state found again by a new
// Store. The subtests share one Cluster (starting one takes two seconds);
// their prefixes keep them apart. Faults get Clusters of their own
// (cluster_fault_test.go).
func TestCluster(t *testing.T) {
	c := redistest.StartCluster(t)
	t.Run("Contract", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T, o storetest.Options) storetest.Backend {
			s := openURL(t, c.URL(), Config{Prefix: nextPrefix("c"), StreamMax: o.StreamMax, Now: o.Now, ProbeInterval: 200 * time.Millisecond})
			if _, ok := s.rdb.(*redis.ClusterClient); !ok {
				t.Fatalf("NewClient(%s) made a %T, want a Cluster client", c.URL(), s.rdb)
			}
			return s
		})
	})
	t.Run("BrokerAcrossNodes", func(t *testing.T) { testClusterBrokerAcrossNodes(t, c) })
	t.Run("SurvivesNewStore", func(t *testing.T) { testClusterSurvivesNewStore(t, c) })
}

// accountsOnNodes returns n account ids for each node of the Cluster, chosen by
// where their channel's slot lives (what a Cluster client routes by), with
// distinct slots, so one Broker must hold subscriptions on every node.
func accountsOnNodes(t *testing.T, cl *redis.ClusterClient, k keys, nodes, n int) map[string][]string {
	t.Helper()
	byNode := map[string][]string{}
	slots := map[int]bool{}
	for i := 0; i < 1000; i++ {
		acct := fmt.Sprintf("acct-%d", i)
		ch := k.channel(acct)
		if slots[slot(ch)] {
			continue
		}
		m, err := cl.MasterForKey(testCtx(t), ch)
		if err != nil {
			t.Fatalf("MasterForKey(%s): %v", ch, err)
		}
		addr := m.Options().Addr
		if len(byNode[addr]) < n {
			byNode[addr] = append(byNode[addr], acct)
			slots[slot(ch)] = true
		}
		full := len(byNode) == nodes
		for _, a := range byNode {
			full = full && len(a) == n
		}
		if full {
			return byNode
		}
	}
	t.Fatalf("1000 account ids did not give %d per node on %d nodes: got %v", n, nodes, byNode)
	return nil
}

// testClusterBrokerAcrossNodes: one Broker subscribed to accounts whose slots
// live on every node of the Cluster hears all their events, each account's in
// stored order with the offsets Replay gives, and stops hearing an account
// once it is unsubscribed.
func testClusterBrokerAcrossNodes(t *testing.T, c *redistest.Cluster) {
	// The default probe interval: a healthy Cluster must give no resets, and a
	// probe's short deadline on a loaded test machine is not what is tested here.
	s := openURL(t, c.URL(), Config{Prefix: nextPrefix("c")})
	byNode := accountsOnNodes(t, c.Client(t), s.k, len(c.Addrs()), 2)
	var accts []string
	for _, a := range byNode {
		accts = append(accts, a...)
	}
	slices.Sort(accts)

	r := newRecorder()
	runBroker(t, s, r)
	marks := map[string]string{}
	for _, a := range accts {
		if err := s.Subscribe(testCtx(t), a); err != nil {
			t.Fatalf("Subscribe(%s): %v", a, err)
		}
		snap, err := s.AccountSnapshot(testCtx(t), a)
		if err != nil {
			t.Fatalf("AccountSnapshot(%s): %v", a, err)
		}
		marks[a] = snap.Offset
	}
	if err := s.Ready(); err != nil {
		t.Fatalf("Ready with every subscription confirmed: %v", err)
	}
	const patches = 3
	for _, a := range accts {
		mustCreate(t, s, "s-"+a, a)
	}
	for i := range patches {
		for _, a := range accts {
			mustPatch(t, s, "s-"+a, fmt.Sprint(i))
		}
	}
	want := len(accts) * (1 + patches)
	r.waitFor(t, fmt.Sprintf("%d events from %d accounts on %d nodes", want, len(accts), len(byNode)),
		func(ev []session.Event, _ []string) bool { return len(ev) >= want })

	r.mu.Lock()
	got := map[string][]session.Event{}
	for _, e := range r.events {
		got[e.AccountID] = append(got[e.AccountID], e)
	}
	resets := slices.Clone(r.resets)
	r.mu.Unlock()
	if len(resets) != 0 {
		t.Fatalf("resets %v on a healthy Cluster, want none", resets)
	}
	for _, a := range accts {
		replayed, err := s.Replay(testCtx(t), a, marks[a])
		if err != nil {
			t.Fatalf("Replay(%s): %v", a, err)
		}
		evs := got[a]
		if len(evs) != 1+patches || len(replayed) != len(evs) {
			t.Fatalf("account %s: got %d live and %d replayed events, want %d each", a, len(evs), len(replayed), 1+patches)
		}
		for i, e := range evs {
			if e.Version != int64(i+1) || e.SessionID != "s-"+a || e.Offset != replayed[i].Offset {
				t.Fatalf("account %s event %d: got v%d %s at %s, want v%d s-%s at %s",
					a, i, e.Version, e.SessionID, e.Offset, i+1, a, replayed[i].Offset)
			}
		}
	}

	// Unsubscribing one account reaches the node that holds its channel, and
	// leaves the others, on every node, flowing.
	gone := accts[0]
	if err := s.Unsubscribe(testCtx(t), gone); err != nil {
		t.Fatal(err)
	}
	owner, err := c.Client(t).MasterForKey(testCtx(t), s.k.channel(gone))
	if err != nil {
		t.Fatal(err)
	}
	poll(t, "the SUNSUBSCRIBE to reach "+owner.Options().Addr, func() bool {
		n, err := owner.PubSubShardNumSub(testCtx(t), s.k.channel(gone)).Result()
		return err == nil && n[s.k.channel(gone)] == 0
	})
	for _, a := range accts {
		mustPatch(t, s, "s-"+a, "after")
	}
	before := want
	want += len(accts) - 1
	r.waitFor(t, "the remaining accounts' events", func(ev []session.Event, _ []string) bool { return len(ev) >= want })
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events[before:] {
		if e.AccountID == gone {
			t.Fatalf("heard %s's event after Unsubscribe", gone)
		}
	}
}

// testClusterSurvivesNewStore: a new Store on the same Cluster (a restarted
// hub) finds every session, on whichever node its account lives, with the
// same offsets, lists across all accounts, and continues the versions.
func testClusterSurvivesNewStore(t *testing.T, c *redistest.Cluster) {
	p := nextPrefix("c")
	a := openURL(t, c.URL(), Config{Prefix: p})
	byNode := accountsOnNodes(t, c.Client(t), a.k, len(c.Addrs()), 1)
	var accts []string
	for _, as := range byNode {
		accts = append(accts, as...)
	}
	versions := map[string]int64{}
	offsets := map[string]string{}
	for _, acct := range accts {
		mustCreate(t, a, "s-"+acct, acct)
		versions[acct] = mustPatch(t, a, "s-"+acct, "notes "+acct).Version
		snap, err := a.AccountSnapshot(testCtx(t), acct)
		if err != nil {
			t.Fatal(err)
		}
		offsets[acct] = snap.Offset
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	b := openURL(t, c.URL(), Config{Prefix: p})
	for _, acct := range accts {
		id := "s-" + acct
		got, err := b.Get(testCtx(t), id)
		if err != nil {
			t.Fatalf("Get(%s) on a new Store: %v", id, err)
		}
		if got.Version != versions[acct] || got.Info.ConsoleData != "notes "+acct {
			t.Fatalf("Get(%s) on a new Store: got v%d %q, want v%d %q", id, got.Version, got.Info.ConsoleData, versions[acct], "notes "+acct)
		}
		snap, err := b.AccountSnapshot(testCtx(t), acct)
		if err != nil || snap.Offset != offsets[acct] || len(snap.Sessions) != 1 {
			t.Fatalf("AccountSnapshot(%s) on a new Store: got %q with %d sessions (%v), want %q with 1", acct, snap.Offset, len(snap.Sessions), err, offsets[acct])
		}
		if v := mustPatch(t, b, id, "more"); v.Version != versions[acct]+1 {
			t.Fatalf("write on a new Store: got v%d, want v%d", v.Version, versions[acct]+1)
		}
	}
	page, err := b.List(testCtx(t), session.Query{})
	if err != nil {
		t.Fatalf("List across accounts: %v", err)
	}
	var ids []string
	for _, v := range page.Items {
		ids = append(ids, v.Info.ID)
	}
	slices.Sort(ids)
	var want []string
	for _, acct := range accts {
		want = append(want, "s-"+acct)
	}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Fatalf("List across accounts on every node: got %v, want %v", ids, want)
	}
}
