package redisstore

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sessionhub/sessionhub/internal/redistest"
	"github.com/sessionhub/sessionhub/session"
)

// nodeIndex is the position in c.Addrs() of the node that serves key now.
func nodeIndex(t *testing.T, c *redistest.Cluster, key string) int {
	t.Helper()
	m, err := c.Client(t).MasterForKey(testCtx(t), key)
	if err != nil {
		t.Fatalf("MasterForKey(%s): %v", key, err)
	}
	i := slices.Index(c.Addrs(), m.Options().Addr)
	if i < 0 {
		t.Fatalf("%s is served by %s, not one of %v", key, m.Options().Addr, c.Addrs())
	}
	return i
}

// twoAccountsApart returns two accounts whose channels live on different nodes.
func twoAccountsApart(t *testing.T, c *redistest.Cluster, k keys) (a, b string) {
	t.Helper()
	byNode := accountsOnNodes(t, c.Client(t), k, len(c.Addrs()), 1)
	var accts []string
	for _, as := range byNode {
		accts = append(accts, as...)
	}
	slices.Sort(accts)
	return accts[0], accts[1]
}

// twoLiveAccounts runs s's broker and subscribes two accounts apart (see
// twoAccountsApart), each with a session s-<account> whose create was heard.
func twoLiveAccounts(t *testing.T, c *redistest.Cluster, s *Store) (a, b string, r *recorder) {
	t.Helper()
	a, b = twoAccountsApart(t, c, s.k)
	r = newRecorder()
	runBroker(t, s, r)
	for _, acct := range []string{a, b} {
		if err := s.Subscribe(testCtx(t), acct); err != nil {
			t.Fatal(err)
		}
		mustCreate(t, s, "s-"+acct, acct)
	}
	r.waitFor(t, "both creates", func(ev []session.Event, _ []string) bool { return len(ev) == 2 })
	return a, b, r
}

// TestClusterSlotMoves: when an account's slot moves to another node (a
// reshard), Redis drops the subscription; the broker finds the new owner on
// its own, resubscribes, resets the account and its events flow again, while
// an account on another node is undisturbed. The data moves with the slot.
func TestClusterSlotMoves(t *testing.T) {
	c := redistest.StartCluster(t)
	// The default probe interval: recovery must come from Redis dropping the
	// subscription, not from a probe, and no probe may reset the other account.
	s := openURL(t, c.URL(), Config{Prefix: nextPrefix("c")})
	a, b, r := twoLiveAccounts(t, c, s)

	from := nodeIndex(t, c, s.k.channel(a))
	to := (from + 1) % len(c.Addrs())
	if to == nodeIndex(t, c, s.k.channel(b)) {
		to = (from + 2) % len(c.Addrs())
	}
	start := time.Now()
	c.MoveSlot(t, slot(s.k.channel(a)), to)
	// No write happens until the broker has recovered by itself: nothing else
	// tells the client the slot moved.
	r.waitFor(t, "HandleReset("+a+") after the slot moved", func(_ []session.Event, resets []string) bool {
		return slices.Contains(resets, a)
	})
	poll(t, "Ready after the slot moved", func() bool { return s.Ready() == nil })
	t.Logf("subscription restored %v after the move began", time.Since(start).Round(time.Millisecond))

	if v := mustPatch(t, s, "s-"+a, "moved"); v.Version != 2 {
		t.Fatalf("write after the move: got v%d, want v2 (the state moved with its slot)", v.Version)
	}
	mustPatch(t, s, "s-"+b, "still here")
	r.waitFor(t, "both accounts' events after the move", func(ev []session.Event, _ []string) bool {
		seen := map[string]bool{}
		for _, e := range ev {
			if e.Version == 2 {
				seen[e.AccountID] = true
			}
		}
		return seen[a] && seen[b]
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	if slices.Contains(r.resets, b) {
		t.Fatalf("account %s on an untouched node was reset (%v), want only %s", b, r.resets, a)
	}
}

// TestClusterNodeRestart: while the node holding one account is down, that
// account's writes fail with ErrUnavailable and Ready says so, but an account
// on another node keeps working live. When the node returns (empty), the
// broker resubscribes, resets the account, and new events flow.
func TestClusterNodeRestart(t *testing.T) {
	c := redistest.StartCluster(t)
	s := openURL(t, c.URL()+"?max_redirects=1&dial_timeout=200ms", Config{Prefix: nextPrefix("c")})
	a, b, r := twoLiveAccounts(t, c, s)

	down := nodeIndex(t, c, s.k.channel(a))
	c.KillNode(down)
	console := "x"
	_, err := s.Update(testCtx(t), "s-"+a, session.Cond{}, "u", session.Patch{ConsoleData: &console}.Mutation())
	if !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("Update on the downed node: got %v, want ErrUnavailable", err)
	}
	poll(t, "Ready to report the outage", func() bool { return s.Ready() != nil })
	mustPatch(t, s, "s-"+b, "other node")
	r.waitFor(t, b+"'s event during the outage", func(ev []session.Event, _ []string) bool {
		return ev[len(ev)-1].AccountID == b && ev[len(ev)-1].Version == 2
	})

	c.RestartNode(t, down)
	r.waitFor(t, "HandleReset("+a+")", func(_ []session.Event, resets []string) bool { return slices.Contains(resets, a) })
	poll(t, "Ready after the restart", func() bool { return s.Ready() == nil })
	if _, err := s.Get(testCtx(t), "s-"+a); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Get after the node lost its data: got %v, want ErrNotFound", err)
	}
	mustCreate(t, s, "s2-"+a, a)
	r.waitFor(t, "the create after the restart", func(ev []session.Event, _ []string) bool {
		return ev[len(ev)-1].SessionID == "s2-"+a
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	if slices.Contains(r.resets, b) {
		t.Fatalf("account %s on a healthy node was reset (%v), want only %s", b, r.resets, a)
	}
}
