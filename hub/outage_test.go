package hub

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionhub/sessionhub/memstore"
)

// downBroker is a memstore whose Broker hangs as one does while Redis is down:
// Subscribe returns only when its context ends.
type downBroker struct {
	*memstore.Store
	calls atomic.Int32
}

func (d *downBroker) Subscribe(ctx context.Context, account string) error {
	d.calls.Add(1)
	<-ctx.Done()
	return fmt.Errorf("subscribe %s: %w", account, ctx.Err())
}

// TestOutageKeepsConnectionsOpen: while the store hangs, a client that sends
// several subscribes at once gets an Unavailable error for each, keeps its
// WebSocket (its pongs are still read in time), and the hub does not wait out
// the timeout once per command.
func TestOutageKeepsConnectionsOpen(t *testing.T) {
	st := memstore.New(memstore.Config{})
	t.Cleanup(func() { st.Close() })
	db := &downBroker{Store: st}
	cfg := testConfig()
	cfg.PingInterval = 50 * time.Millisecond
	cfg.PongTimeout = 400 * time.Millisecond
	e := newEnv(t, db, cfg)

	c := e.dial(t, token(t, "u1", []string{"*"}, time.Hour))
	c.welcome()
	const n = 8
	var cmds []string
	for i := range n {
		cmds = append(cmds, fmt.Sprintf(`{"type":"subscribe","id":"%d","channel":"account:A%d"}`, i, i))
	}
	start := time.Now()
	c.send(strings.Join(cmds, "\n"))
	got := c.roundTrip("after")
	if len(got) != n {
		t.Fatalf("got %d messages before the pong, want %d errors: %v", len(got), n, got)
	}
	for i, m := range got {
		if m.Type != "error" || m.Code != CodeUnavailable || m.ID != fmt.Sprint(i) {
			t.Errorf("reply %d: got %s, want an Unavailable error with id %d", i, m.raw, i)
		}
	}
	if d := time.Since(start); d > 2*cfg.PongTimeout {
		t.Errorf("the replies took %v: the reader was kept from its pongs for longer than PongTimeout %v", d, cfg.PongTimeout)
	}
	if calls := db.calls.Load(); calls != 1 {
		t.Errorf("the broker was asked %d times, want once: the other commands fail fast", calls)
	}
	// Still open after several heartbeats, and none missed.
	deadline := time.Now().Add(3 * cfg.PongTimeout)
	for time.Now().Before(deadline) {
		c.roundTrip("alive")
	}
	if got := e.hub.Stats().PingTimeouts; got != 0 {
		t.Errorf("got %d connections dropped for a missing pong, want 0", got)
	}

	// Once the window has passed, a subscribe asks the store again.
	waitFor(t, "the fail-fast window to close", func() bool { return !e.hub.storeFailing() })
	c.send(`{"type":"subscribe","id":"again","channel":"account:A0"}`)
	if m := c.expect("error"); m.Code != CodeUnavailable || db.calls.Load() != 2 {
		t.Errorf("got %s after %d broker calls, want Unavailable after a second call", m.raw, db.calls.Load())
	}
}
