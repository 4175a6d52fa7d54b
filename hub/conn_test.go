package hub

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sessionhub/sessionhub/auth"
	"github.com/sessionhub/sessionhub/memstore"
	"github.com/sessionhub/sessionhub/session"
)

// offlineHub is a hub whose connections have no network: tests and
// benchmarks drive its queues directly.
func offlineHub(tb testing.TB, queueBytes int) *Hub {
	tb.Helper()
	a, err := auth.New(auth.Config{Secret: testSecret})
	if err != nil {
		tb.Fatal(err)
	}
	st := memstore.New(memstore.Config{})
	tb.Cleanup(func() { st.Close() })
	return New(Config{Feed: st, Broker: st, Auth: a, QueueBytes: queueBytes})
}

// offlineConn is a connection without a WebSocket, subscribed live to keys.
func offlineConn(h *Hub, keys ...chanKey) (*conn, []*sub) {
	c := &conn{h: h, writing: true} // "writing": no writer starts, the test reads the queue
	var subs []*sub
	for _, k := range keys {
		s := &sub{c: c, key: k, account: k.id, live: true}
		c.subs.add(s)
		h.addSub(s)
		subs = append(subs, s)
	}
	return c, subs
}

// queued lists the queued messages as strings.
func (c *conn) queued() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, it := range c.queue {
		out = append(out, string(it.msg))
	}
	return out
}

func TestCoalesce(t *testing.T) {
	h := offlineHub(t, 100)
	c, subs := offlineConn(h, chanKey{kindAccount, "A"}, chanKey{kindAccount, "B"})
	a, b := subs[0], subs[1]
	upd := func(s *sub, session, v string) {
		c.deliver(s, session, "e:1-0", []byte(fmt.Sprintf("%-30s", s.key.id+session+v)))
	}
	upd(a, "x", "1")
	upd(a, "y", "1")
	c.send([]byte("reply"))
	upd(b, "x", "1") // same session, another subscription: not coalesced with a's
	if got := len(c.queued()); got != 4 {
		t.Fatalf("under the bound: got %d queued, want 4 (nothing coalesced)", got)
	}
	upd(a, "x", "2") // over the bound: a's x1 goes
	want := []string{"Ay1", "reply", "Bx1", "Ax2"}
	got := c.queued()
	for i := range got {
		got[i] = strings.TrimSpace(got[i])
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got queue %v, want %v", got, want)
	}
	if c.closed {
		t.Fatal("closed after coalescing brought the queue under its bound")
	}
	upd(a, "z", "1") // a new session: coalescing cannot help
	if !c.closed || c.code != StatusSlowConsumer {
		t.Fatalf("got closed=%v code %v, want closed with 4008", c.closed, c.code)
	}
	if q := c.queued(); len(q) != 0 {
		t.Errorf("got %d queued after closing, want none", len(q))
	}
	upd(a, "x", "3") // ignored once closed
	if st := h.Stats(); st.Coalesced != 1 || st.SlowClosed != 1 {
		t.Errorf("got %+v, want 1 coalesced and 1 slow-closed", st)
	}
}

func TestLoneLargeUpdateIsSent(t *testing.T) {
	h := offlineHub(t, 100)
	c, subs := offlineConn(h, chanKey{kindAccount, "A"})
	c.deliver(subs[0], "x", "e:1-0", make([]byte, 500))
	c.deliver(subs[0], "x", "e:2-0", make([]byte, 500))
	if c.closed || len(c.queued()) != 1 {
		t.Errorf("got closed=%v with %d queued, want the newest large update queued alone", c.closed, len(c.queued()))
	}
}

func TestParkedEventsFlushAfterSnapshot(t *testing.T) {
	h := offlineHub(t, 1<<20)
	c, subs := offlineConn(h, chanKey{kindAccount, "A"})
	s := subs[0]
	s.live = false
	for i := 1; i <= 4; i++ {
		c.deliver(s, "x", fmt.Sprintf("ep:%d-0", i), []byte(fmt.Sprint("v", i)))
	}
	c.deliver(s, "x", "other:9-0", []byte("other epoch"))
	c.mu.Lock()
	c.flushPending(s, "ep:2-0")
	c.mu.Unlock()
	if got := strings.Join(c.queued(), ","); got != "v3,v4" {
		t.Errorf("got %q, want only the events after the snapshot's offset: v3,v4", got)
	}
}

// TestSlowConsumer4008 stalls a client on an account whose changes cannot be
// coalesced (every one is another session): it is closed with 4008 while a
// reading client gets everything.
func TestSlowConsumer4008(t *testing.T) {
	st := openMemstore(t)
	cfg := testConfig()
	cfg.QueueBytes = 256 << 10
	cfg.WriteTimeout = time.Minute
	e := newEnv(t, st, cfg)
	tok := token(t, "u1", []string{"A"}, time.Hour)
	healthy, stalled := e.dial(t, tok), e.dial(t, tok)
	for _, c := range []*client{healthy, stalled} {
		c.welcome()
		c.subscribe("1", "account:A", "")
	}
	const n = 200
	read := make(chan error)
	go func() {
		for range n {
			m, err := healthy.read(10 * time.Second)
			if err == nil && m.Type != "update" {
				err = fmt.Errorf("got %.100s, want an update", m.raw)
			}
			read <- err
			if err != nil {
				return
			}
		}
	}()
	// Each change waits until the healthy client has it: that client keeps
	// up and must see every one, while the stalled one falls behind.
	data := strings.Repeat("d", 60<<10)
	for i := range n {
		info, err := session.New(session.Info{ID: fmt.Sprint("s", i), AccountID: "A", CallState: session.CallRinging, ConsoleData: data}, "t", time.Now(), session.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Create(context.Background(), info); err != nil {
			t.Fatal(err)
		}
		if err := <-read; err != nil {
			t.Fatalf("healthy client, message %d: %v", i, err)
		}
	}
	if got := stalled.closeStatus(); got != StatusSlowConsumer {
		t.Errorf("stalled client: got close %v, want 4008", got)
	}
	if got := e.hub.Stats().SlowClosed; got != 1 {
		t.Errorf("got %d slow-closed connections, want 1", got)
	}
}

func TestBatchesIntoFrames(t *testing.T) {
	st := openMemstore(t)
	e := newEnv(t, st, testConfig())
	mustCreate(t, st, "s1", "A")
	tok := token(t, "u1", []string{"A"}, time.Hour)
	c := e.dial(t, tok)
	c.welcome()
	snap, _ := c.subscribe("1", "account:A", "")
	c.ws.CloseNow()
	for i := range 100 {
		mustPatch(t, st, "s1", fmt.Sprint(i))
	}
	// A resume queues `subscribed` and the 100 missed updates at once: the
	// writer sends them in one frame.
	c = e.dial(t, tok)
	c.welcome()
	before := c.frames
	if _, rec := c.subscribe("2", "account:A", snap.Offset); !rec {
		t.Fatal("got recovered false, want true")
	}
	for range 100 {
		c.expect("update")
	}
	if got := c.frames - before; got != 1 {
		t.Errorf("got %d frames for 101 messages, want 1", got)
	}
}

// TestIdleWriterKeepsItsQueue checks that a writer that has drained its queue
// and ended leaves the connection a small queue: the next update is queued
// without allocating, on every connection it reaches.
func TestIdleWriterKeepsItsQueue(t *testing.T) {
	st := openMemstore(t)
	e := newEnv(t, st, testConfig())
	cl := e.dial(t, token(t, "u1", []string{"A"}, time.Hour))
	cl.welcome()
	cl.subscribe("1", "account:A", "")
	c := onlyConn(t, e)
	for i := range 3 {
		mustCreate(t, st, fmt.Sprint("s", i), "A")
		cl.expect("update")
		waitFor(t, "the writer to end", func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			return !c.writing
		})
		c.mu.Lock()
		n := cap(c.queue)
		c.mu.Unlock()
		if n < 1 || n > idleQueueCap {
			t.Fatalf("after update %d: got an idle queue of capacity %d, want 1 to %d", i, n, idleQueueCap)
		}
	}
}
