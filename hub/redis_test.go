package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"
	"github.com/sessionhub/sessionhub/internal/redistest"
	"github.com/sessionhub/sessionhub/redisstore"
	"github.com/sessionhub/sessionhub/session"
)

// newRedisStore opens a redisstore on url with prefix, closed when tb ends.
func newRedisStore(tb testing.TB, url, prefix string) *redisstore.Store {
	tb.Helper()
	return newRedisStoreProbe(tb, url, prefix, 2*time.Second)
}

func newRedisStoreProbe(tb testing.TB, url, prefix string, probe time.Duration) *redisstore.Store {
	tb.Helper()
	rdb, err := redisstore.NewClient(url)
	if err != nil {
		tb.Fatal(err)
	}
	s := redisstore.New(rdb, redisstore.Config{
		Prefix:        prefix,
		ProbeInterval: probe,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	tb.Cleanup(func() { s.Close() })
	return s
}

func openRedis(t *testing.T) backend {
	url, prefix := redistest.URL(t)
	return newRedisStore(t, url, prefix)
}

func TestProtocolRedis(t *testing.T) { runProtocol(t, openRedis) }

// hubs starts n hubs, each with its own store, on one Redis and prefix.
func hubs(t *testing.T, n int, url, prefix string, cfg Config) []*testEnv {
	t.Helper()
	var es []*testEnv
	for range n {
		es = append(es, newEnv(t, newRedisStore(t, url, prefix), cfg))
	}
	return es
}

func TestMultiHubFanOut(t *testing.T) {
	t.Parallel()
	url, prefix := redistest.URL(t)
	es := hubs(t, 3, url, prefix, testConfig())
	tok := token(t, "u1", []string{"A"}, time.Hour)
	var cs []*client
	for _, e := range es {
		c := e.dial(t, tok)
		c.welcome()
		c.subscribe("1", "account:A", "")
		cs = append(cs, c)
	}
	for i, e := range es {
		id := fmt.Sprint("s", i)
		v := mustCreate(t, e.store, id, "A")
		for j, c := range cs {
			u := c.expect("update")
			if u.info(t).ID != id || u.Version != v.Version {
				t.Errorf("hub %d's client, change through hub %d: got %s, want the creation of %s", j, i, u.raw, id)
			}
		}
	}
}

// TestMultiHubOrder makes 500 rapid changes to one session through two hubs
// at once: every subscriber on every hub sees strictly increasing versions and
// ends with the stored state.
func TestMultiHubOrder(t *testing.T) {
	t.Parallel()
	url, prefix := redistest.URL(t)
	es := hubs(t, 3, url, prefix, testConfig())
	mustCreate(t, es[0].store, "s1", "A")
	tok := token(t, "u1", []string{"A"}, time.Hour)
	var cs []*client
	for i, e := range es {
		c := e.dial(t, tok)
		c.welcome()
		c.subscribe("1", []string{"account:A", "session:s1"}[i%2], "")
		cs = append(cs, c)
	}
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := range 250 {
				data := fmt.Sprintf("w%d-%d", w, i)
				if _, err := es[w].store.Update(context.Background(), "s1", session.Cond{}, "tester", session.Patch{ConsoleData: &data}.Mutation()); err != nil {
					t.Errorf("update: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	final, err := es[2].store.Get(context.Background(), "s1")
	if err != nil {
		t.Fatal(err)
	}
	if final.Version != 501 {
		t.Fatalf("got final version %d, want 501: no write may be lost", final.Version)
	}
	for i, c := range cs {
		v, state, err := follow(c, final.Version)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		if v != final.Version || !sameState(t, state, final.Info) {
			t.Errorf("client %d: got version %d %s, want the stored state", i, v, state)
		}
	}
}

// TestStalledClient: a client that stops reading never delays a healthy one,
// and ends with the exact final state (its queue coalesced) or a 4008.
func TestStalledClient(t *testing.T) {
	t.Parallel()
	url, prefix := redistest.URL(t)
	cfg := testConfig()
	cfg.QueueBytes = 128 << 10
	cfg.WriteTimeout = time.Minute // the stall is shorter than this; a longer one is dropped
	e := newEnv(t, newRedisStore(t, url, prefix), cfg)
	mustCreate(t, e.store, "s1", "A")
	tok := token(t, "u1", []string{"A"}, time.Hour)
	healthy, stalled := e.dial(t, tok), e.dial(t, tok)
	for _, c := range []*client{healthy, stalled} {
		c.welcome()
		c.subscribe("1", "session:s1", "")
	}
	type result struct {
		version int64
		state   json.RawMessage
		err     error
	}
	got := make(chan result, 1)
	go func() {
		// The healthy client reads while the changes are made.
		v, state, err := follow(healthy, 151)
		got <- result{v, state, err}
	}()
	// 150 changes of 60 KB: more than the kernel's socket buffers hold
	// (the stalled client's receive buffer does not grow while it does not
	// read), so its queue overflows and is coalesced.
	big := make([]byte, 60<<10)
	for i := range 150 {
		for j := range big {
			big[j] = byte('a' + (i+j)%26)
		}
		mustPatch(t, e.store, "s1", string(big))
	}
	final, err := e.store.Get(context.Background(), "s1")
	if err != nil {
		t.Fatal(err)
	}
	// The stalled client has not read a byte, yet the healthy one is done.
	r := <-got
	if r.err != nil {
		t.Fatalf("healthy client: %v", r.err)
	}
	if !sameState(t, r.state, final.Info) {
		t.Errorf("healthy client: got a final state that is not the stored one")
	}
	v, state, err := follow(stalled, final.Version)
	switch {
	case websocket.CloseStatus(err) == StatusSlowConsumer:
	case err != nil:
		t.Fatalf("stalled client: got %v at version %d, want the final version or 4008", err, v)
	case !sameState(t, state, final.Info):
		t.Errorf("stalled client: got a final state that is not the stored one")
	}
	if got := e.hub.Stats().Coalesced; got == 0 {
		t.Error("got 0 coalesced updates, want some: the stalled client's queue never overflowed")
	}
}

// follow reads a session channel's (or a one-session account channel's)
// messages as a client keeps its state: a snapshot replaces it, an update
// applies when its version is newer and must be (updates of one session come
// in order). It returns once version until is held.
func follow(c *client, until int64) (version int64, state json.RawMessage, err error) {
	for version < until {
		m, err := c.read(10 * time.Second)
		if err != nil {
			return version, state, err
		}
		switch m.Type {
		case "snapshot":
			if len(m.Sessions) != 1 || m.Sessions[0].Version < version {
				return version, state, fmt.Errorf("got snapshot %.200s at version %d", m.raw, version)
			}
			version, state = m.Sessions[0].Version, m.Sessions[0].Session
		case "update":
			if m.Version <= version {
				return version, state, fmt.Errorf("got version %d after %d, want strictly increasing", m.Version, version)
			}
			version, state = m.Version, m.Session
		default:
			return version, state, fmt.Errorf("got %.200s, want updates", m.raw)
		}
	}
	return version, state, nil
}

// TestRedisRestart kills Redis mid-stream: the WebSocket stays open, and once
// Redis is back the subscriber gets a fresh snapshot, then live updates.
func TestRedisRestart(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	st := newRedisStoreProbe(t, srv.URL(), "sessionhub", 200*time.Millisecond)
	e := newEnv(t, st, testConfig())
	mustCreate(t, st, "s1", "A")
	c := e.dial(t, token(t, "u1", []string{"A"}, time.Hour))
	c.welcome()
	c.subscribe("1", "account:A", "")
	mustPatch(t, st, "s1", "before")
	c.expect("update")

	srv.Kill()
	waitFor(t, "the hub to report unready", func() bool { return e.hub.Ready() != nil })
	srv.Restart(t)

	// Redis came back empty: the client must get a snapshot (without s1),
	// then the updates that follow.
	for {
		m := c.next()
		if m.Type == "snapshot" {
			if len(m.Sessions) != 0 {
				t.Errorf("got snapshot %s, want an empty one: Redis lost its data", m.raw)
			}
			break
		}
		if m.Type != "update" {
			t.Fatalf("got %s, want updates then a snapshot", m.raw)
		}
	}
	waitFor(t, "the hub to be ready again", func() bool { return e.hub.Ready() == nil })
	v := mustCreate(t, st, "s2", "A")
	if u := c.expect("update"); u.info(t).ID != "s2" || u.Version != v.Version {
		t.Errorf("got %s, want the creation of s2", u.raw)
	}
	if got := e.hub.Stats().Resets; got == 0 {
		t.Error("got 0 resets, want at least 1")
	}
}

// TestAccountSubscriptionFollowsLocalSubscribers: the hub SSUBSCRIBEs an
// account's shard channel once, on its first local subscriber (account or
// session channel), keeps it while any remains, and releases it with the last,
// whether that one unsubscribes or disconnects.
func TestAccountSubscriptionFollowsLocalSubscribers(t *testing.T) {
	t.Parallel()
	url, prefix := redistest.URL(t)
	e := newEnv(t, newRedisStore(t, url, prefix), testConfig())
	mustCreate(t, e.store, "s1", "A")
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rc := redis.NewClient(opt)
	t.Cleanup(func() { rc.Close() })
	channel := prefix + ":{a:A}:ch"
	subscribers := func() int64 {
		t.Helper()
		n, err := rc.PubSubShardNumSub(context.Background(), channel).Result()
		if err != nil {
			t.Fatalf("PUBSUB SHARDNUMSUB %s: %v", channel, err)
		}
		return n[channel]
	}
	wantSubscribers := func(what string, want int64) {
		t.Helper()
		waitFor(t, fmt.Sprintf("%s: %d subscriber(s) of %s", what, want, channel), func() bool { return subscribers() == want })
	}

	if got := subscribers(); got != 0 {
		t.Fatalf("before any WebSocket: %d subscribers of %s, want 0", got, channel)
	}
	tok := token(t, "u1", []string{"A"}, time.Hour)
	c1 := e.dial(t, tok)
	c1.welcome()
	c1.subscribe("1", "account:A", "")
	wantSubscribers("after the first account subscriber", 1)
	c1.subscribe("2", "session:s1", "")
	c2 := e.dial(t, tok)
	c2.welcome()
	c2.subscribe("1", "account:A", "")
	if got := subscribers(); got != 1 {
		t.Errorf("with three local subscribers: %d subscriptions of %s, want 1 (one per hub)", got, channel)
	}

	c1.send(map[string]string{"type": "unsubscribe", "id": "3", "channel": "account:A"})
	c1.expect("unsubscribed")
	c2.ws.CloseNow()
	// session:s1 on c1 still needs the account's events.
	v := mustPatch(t, e.store, "s1", "still flowing")
	if u := c1.expect("update"); u.Version != v.Version {
		t.Errorf("session channel after the others left: got %s, want version %d", u.raw, v.Version)
	}
	if got := subscribers(); got != 1 {
		t.Errorf("with a session channel left: %d subscriptions of %s, want 1", got, channel)
	}
	c1.send(map[string]string{"type": "unsubscribe", "id": "4", "channel": "session:s1"})
	c1.expect("unsubscribed")
	wantSubscribers("after the last local subscriber left", 0)
}
