package redisstore

import (
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sessionhub/sessionhub/internal/redistest"
	"github.com/sessionhub/sessionhub/session"
	"github.com/sessionhub/sessionhub/storetest"
)

// TestSentinelContract holds the store, reached through a sentinel, to the same
// contract suite as on one Redis.
func TestSentinelContract(t *testing.T) {
	sn := redistest.StartSentinel(t)
	storetest.Run(t, func(t *testing.T, o storetest.Options) storetest.Backend {
		return openURL(t, sn.URL(), Config{Prefix: nextPrefix("s"), StreamMax: o.StreamMax, Now: o.Now, ProbeInterval: 200 * time.Millisecond})
	})
}

// TestSentinelWritesLandOnMaster: a Store opened with a Sentinel URL writes to
// the master the sentinel names (not to the sentinel), and its broker hears
// the events.
func TestSentinelWritesLandOnMaster(t *testing.T) {
	sn := redistest.StartSentinel(t)
	p := nextPrefix("s")
	s := openURL(t, sn.URL(), Config{Prefix: p, ProbeInterval: 200 * time.Millisecond})
	r := newRecorder()
	runBroker(t, s, r)
	if err := s.Subscribe(testCtx(t), "A1"); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "s1", "A1")
	r.waitFor(t, "the create", func(ev []session.Event, _ []string) bool { return len(ev) == 1 && ev[0].SessionID == "s1" })
	got, err := sn.Master.Client(t).HGet(testCtx(t), s.k.state("A1", "s1"), "v").Result()
	if err != nil || got != "1" {
		t.Fatalf("state on the master: got %q (%v), want version 1", got, err)
	}
}

// TestSentinelMasterRestart: when the master behind the sentinel goes away and
// comes back (empty), writes fail with ErrUnavailable meanwhile, and then the
// broker resubscribes through the sentinel, resets the account and events flow
// again.
func TestSentinelMasterRestart(t *testing.T) {
	sn := redistest.StartSentinel(t)
	s := openURL(t, sn.URL()+"&max_retries=-1&dial_timeout=200ms", Config{Prefix: nextPrefix("s"), ProbeInterval: 200 * time.Millisecond})
	r := liveSession(t, s)

	sn.Master.Kill()
	in, _ := session.New(session.Info{ID: "s2", AccountID: "A1", CallState: session.CallRinging}, "u", time.Now(), session.Limits{})
	if _, err := s.Create(testCtx(t), in); !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("Create with the master down: got %v, want ErrUnavailable", err)
	}
	poll(t, "Ready to report the outage", func() bool { return s.Ready() != nil })

	sn.Master.Restart(t)
	r.waitFor(t, "HandleReset(A1)", func(_ []session.Event, resets []string) bool { return slices.Contains(resets, "A1") })
	poll(t, "Ready after the restart", func() bool { return s.Ready() == nil })
	mustCreate(t, s, "s3", "A1")
	r.waitFor(t, "the create after the restart", func(ev []session.Event, _ []string) bool {
		return ev[len(ev)-1].SessionID == "s3"
	})
}

// TestSentinelFailover: when the sentinel promotes the replica, the Store
// follows it. go-redis moves commands to the new master but leaves the
// subscription on the old one, which (still up) hears nothing more. The first
// write stored on the new master is not heard back within EchoTimeout, so the
// broker resubscribes on the new master and resets the account within about a
// second, not after the probe (a minute here, so the test fails without the
// echo watch). Then writes land on the new master, continuing its versions,
// and their events arrive live.
func TestSentinelFailover(t *testing.T) {
	sn := redistest.StartSentinelWithReplica(t)
	s := openURL(t, sn.URL(), Config{Prefix: nextPrefix("s"), ProbeInterval: time.Minute})
	r := liveSession(t, s)
	// Replication is asynchronous: promote only a replica that has the create.
	poll(t, "the create to reach the replica", func() bool {
		v, err := sn.Replica.Client(t).HGet(testCtx(t), s.k.state("A1", "s1"), "v").Result()
		return err == nil && v == "1"
	})

	sn.Failover(t)
	// Writes that reached the old master in the moment before go-redis heard
	// of the switch are lost with it (Sentinel's asynchronous replication);
	// once the client has switched, a write is stored on the new master.
	newMaster := sn.Master.Client(t)
	update := func(console string) (session.Versioned, bool) {
		v, err := s.Update(testCtx(t), "s1", session.Cond{}, "u", session.Patch{ConsoleData: &console}.Mutation())
		if err != nil {
			return v, false
		}
		got, err := newMaster.HGet(testCtx(t), s.k.state("A1", "s1"), "v").Result()
		return v, err == nil && got == strconv.FormatInt(v.Version, 10)
	}
	poll(t, "a write to be stored on the new master", func() bool {
		_, ok := update("after failover")
		return ok
	})
	switched := time.Now()
	r.waitFor(t, "HandleReset(A1) after the failover", func(_ []session.Event, resets []string) bool {
		return slices.Contains(resets, "A1")
	})
	took := time.Since(switched)
	t.Logf("resubscribed on the new master %v after the first write there", took)
	if took > 3*time.Second {
		t.Fatalf("resubscribed %v after the first write on the new master, want about EchoTimeout (1s)", took)
	}
	poll(t, "Ready after the failover", func() bool { return s.Ready() == nil })
	v, ok := update("live again")
	if !ok {
		t.Fatalf("a write after the resubscription was not stored on the new master (version %d)", v.Version)
	}
	r.waitFor(t, "the new master's event", func(ev []session.Event, _ []string) bool {
		return ev[len(ev)-1].Version == v.Version && string(ev[len(ev)-1].Session) == string(v.Info.Marshal())
	})
}
