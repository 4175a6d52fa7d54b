package redisstore

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sessionhub/sessionhub/internal/redistest"
	"github.com/sessionhub/sessionhub/session"
)

// TestEchoRestartsSilentSubscription: a subscription that goes silent without
// closing is restarted, with a reset, about EchoTimeout after this Store's
// next write to it, long before the probe (a minute here) would look.
func TestEchoRestartsSilentSubscription(t *testing.T) {
	url, prefix := redistest.URL(t)
	px := startProxy(t, rawClient(t, url).Options().Addr)
	s := openURL(t, "redis://"+px.addr()+"/0", Config{Prefix: prefix, ProbeInterval: time.Minute, EchoTimeout: 200 * time.Millisecond})
	r := liveSession(t, s)
	if n := px.freezeSubscribers(); n != 1 {
		t.Fatalf("froze %d subscription connections, want 1", n)
	}

	wrote := time.Now()
	mustPatch(t, s, "s1", "unheard")
	r.waitFor(t, "HandleReset(A1) after the unheard write", func(_ []session.Event, resets []string) bool {
		return slices.Contains(resets, "A1")
	})
	if took := time.Since(wrote); took > 3*time.Second {
		t.Fatalf("the silent subscription was restarted %v after the write, want about EchoTimeout (200ms)", took)
	}
	poll(t, "Ready after the restart", func() bool { return s.Ready() == nil })
	v := mustPatch(t, s, "s1", "heard")
	r.waitFor(t, "the write on the new connection", func(ev []session.Event, _ []string) bool {
		return ev[len(ev)-1].Version == v.Version
	})
}

// slowHandler is a recorder that takes its time over one session's events, as
// a busy hub might: the events behind it wait in the connection's buffer.
type slowHandler struct {
	*recorder
	slowID string
	delay  time.Duration
}

func (h slowHandler) HandleEvent(e session.Event) {
	if e.SessionID == h.slowID {
		time.Sleep(h.delay) // simulating a handler busy for longer than EchoTimeout
	}
	h.recorder.HandleEvent(e)
}

// TestEchoQuietWhenHealthy: steady writes to subscribed and unsubscribed
// accounts, bursts, pauses and a handler that stalls for longer than
// EchoTimeout never restart a healthy subscription.
func TestEchoQuietWhenHealthy(t *testing.T) {
	const echo = 200 * time.Millisecond
	s := openStore(t, Config{ProbeInterval: time.Minute, EchoTimeout: echo})
	r := newRecorder()
	runBroker(t, s, slowHandler{recorder: r, slowID: "slow", delay: 3 * echo})
	for _, a := range []string{"A1", "A2"} {
		if err := s.Subscribe(testCtx(t), a); err != nil {
			t.Fatal(err)
		}
	}
	mustCreate(t, s, "s1", "A1")
	mustCreate(t, s, "s2", "A2")
	mustCreate(t, s, "b1", "B") // never subscribed: its events come back to nobody
	mustCreate(t, s, "slow", "A1")
	want := 3
	s.broker.mu.Lock()
	u := s.broker.subs[0]
	s.broker.mu.Unlock()
	u.mu.Lock()
	w := u.watch
	u.mu.Unlock()
	for burst := range 4 {
		for i := range 15 {
			if burst == 1 && i == 1 {
				// The reader stalls while the burst goes on.
				mustPatch(t, s, "slow", "stall the reader")
				want++
			}
			c := strconv.Itoa(burst) + "." + strconv.Itoa(i)
			mustPatch(t, s, "s1", c)
			mustPatch(t, s, "s2", c)
			mustPatch(t, s, "b1", c)
			want += 2
		}
		r.waitFor(t, "the burst's events", func(ev []session.Event, _ []string) bool { return len(ev) >= want })
		// A pause: wait until the watch has vouched for every write, which it
		// does EchoTimeout after the oldest one.
		poll(t, "the echo watch to vouch for the burst", func() bool { return vouched(t, w) })
	}
	// Single writes, each followed by a pause: the event often reaches the
	// reader before the write's reply reaches the writer.
	for i := range 8 {
		v := mustPatch(t, s, "s1", "single "+strconv.Itoa(i))
		want++
		r.waitFor(t, "the single write's event", func(ev []session.Event, _ []string) bool {
			return len(ev) >= want && ev[len(ev)-1].Version == v.Version
		})
		poll(t, "the echo watch to vouch for the write", func() bool { return vouched(t, w) })
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.resets) != 0 || len(r.events) != want {
		t.Fatalf("a healthy subscription heard resets %v and %d events, want no reset and %d events", r.resets, len(r.events), want)
	}
	u.mu.Lock()
	same := u.watch == w
	u.mu.Unlock()
	if !same || w.lost.Load() {
		t.Fatal("the subscription connection was restarted, want it kept")
	}
	if err := s.Ready(); err != nil {
		t.Fatalf("Ready: %v", err)
	}
}

// vouched reports whether w has vouched for every write; it fails tb at once if
// w restarted its connection.
func vouched(tb testing.TB, w *echoWatch) bool {
	tb.Helper()
	if w.lost.Load() {
		tb.Fatal("the echo watch restarted a healthy subscription")
	}
	return w.due.Load() == 0
}
