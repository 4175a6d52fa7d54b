package hub

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/sessionhub/sessionhub/memstore"
)

func TestFrameTracker(t *testing.T) {
	long := strings.Repeat("x", 300)
	huge := strings.Repeat("y", 70000)
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name string
		in   []byte
		want bool // idle after in
	}{
		{"nothing", nil, true},
		{"whole text", clientFrame(0x81, `{"type":"ping"}`), true},
		{"empty text", clientFrame(0x81, ""), true},
		{"first header byte", []byte{0x81}, false},
		{"header without mask key", clientFrame(0x81, "abc")[:4], false},
		{"payload cut short", clientFrame(0x81, "abcdef")[:9], false},
		{"16-bit length", clientFrame(0x81, long), true},
		{"16-bit length cut short", clientFrame(0x81, long)[:100], false},
		{"64-bit length", clientFrame(0x81, huge), true},
		{"64-bit length cut short", clientFrame(0x81, huge)[:70000], false},
		{"first fragment", clientFrame(0x01, "ab"), false},
		{"ping inside a message", cat(clientFrame(0x01, "ab"), clientFrame(0x89, "p")), false},
		{"last fragment after a ping", cat(clientFrame(0x01, "ab"), clientFrame(0x89, "p"), clientFrame(0x80, "cd")), true},
		{"middle fragment", cat(clientFrame(0x01, "ab"), clientFrame(0x00, "cd")), false},
		{"pong", clientFrame(0x8a, "p"), true},
		{"close", clientFrame(0x88, "\x03\xe8"), true},
		{"two messages", cat(clientFrame(0x81, "a"), clientFrame(0x82, "b")), true},
		{"unmasked frame", []byte{0x81, 0x02, 'h', 'i'}, true},
		{"hostile 64-bit length", []byte{0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var whole, bytewise frameTracker
			whole.feed(tt.in)
			for i := range tt.in {
				bytewise.feed(tt.in[i : i+1])
			}
			if got := whole.idle(); got != tt.want {
				t.Errorf("fed at once: got idle %v, want %v", got, tt.want)
			}
			if got := bytewise.idle(); got != tt.want {
				t.Errorf("fed byte by byte: got idle %v, want %v", got, tt.want)
			}
		})
	}
}

// onlyConn returns the hub's one connection once it is registered.
func onlyConn(tb testing.TB, e *testEnv) *conn {
	tb.Helper()
	var c *conn
	waitFor(tb, "one connection", func() bool {
		e.hub.connMu.Lock()
		defer e.hub.connMu.Unlock()
		for k := range e.hub.conns {
			c = k
		}
		return len(e.hub.conns) == 1
	})
	return c
}

// waitIdle waits until c's reader waits in its shallow frame: no read
// goroutine is in coder/websocket's Read.
func waitIdle(tb testing.TB, c *conn) {
	tb.Helper()
	if c.ic == nil || c.ic.rc == nil {
		tb.Skip("the socket cannot be waited on here: readers block in Read")
	}
	waitFor(tb, "the reader to go idle", func() bool { return !c.ic.armed.Load() })
}

// TestIdleReaderBetweenMessages checks that the reader leaves
// coder/websocket's Read between messages (after a command, after the
// client's ping) and that a fragmented message, a ping in its middle and a
// pause before its last fragment, still arrives whole: the reader must not
// say idle inside a message.
func TestIdleReaderBetweenMessages(t *testing.T) {
	st := memstore.New(memstore.Config{})
	t.Cleanup(func() { st.Close() })
	env := newEnv(t, st, testConfig())

	nc, br := env.rawUpgrade(t, token(t, "u1", []string{"A"}, time.Hour), nil)
	expectText := func(want string) {
		t.Helper()
		for {
			op, p := readServerFrame(t, br)
			if op == 0x8 {
				t.Fatalf("server closed the connection: % x", p)
			}
			if op == 0x1 && strings.Contains(string(p), want) {
				return
			}
		}
	}
	write := func(b []byte) {
		t.Helper()
		if _, err := nc.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	expectText(`"type":"welcome"`)
	c := onlyConn(t, env)
	waitIdle(t, c)

	write(clientFrame(0x81, `{"type":"ping","id":"1"}`))
	expectText(`{"type":"pong","id":"1"}`)
	waitIdle(t, c)

	write(clientFrame(0x89, "hello"))
	if op, p := readServerFrame(t, br); op != 0xa || string(p) != "hello" {
		t.Fatalf("got opcode %#x payload %q, want the pong of the client's ping", op, p)
	}
	waitIdle(t, c)

	write(clientFrame(0x01, `{"type":"pi`))
	write(clientFrame(0x89, "mid"))
	if op, p := readServerFrame(t, br); op != 0xa || string(p) != "mid" {
		t.Fatalf("got opcode %#x payload %q, want the pong of the ping inside the message", op, p)
	}
	write(clientFrame(0x80, `ng","id":"2"}`))
	expectText(`{"type":"pong","id":"2"}`)
	waitIdle(t, c)
}

// TestBlockingReaderOverTLS covers the readers that cannot wait on the socket
// (the hijacked conn is a *tls.Conn): they block in Read, and commands, the
// server's pings and the close still work.
func TestBlockingReaderOverTLS(t *testing.T) {
	st := memstore.New(memstore.Config{})
	t.Cleanup(func() { st.Close() })
	cfg := testConfig()
	cfg.PingInterval = 50 * time.Millisecond
	env := newEnv(t, st, cfg)
	tlsSrv := httptest.NewTLSServer(env.hub)
	t.Cleanup(tlsSrv.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hdr := http.Header{"Authorization": {"Bearer " + token(t, "u1", []string{"A"}, time.Hour)}}
	var pings atomic.Int64
	ws, _, err := websocket.Dial(ctx, "wss"+strings.TrimPrefix(tlsSrv.URL, "https")+"/ws", &websocket.DialOptions{
		HTTPHeader: hdr,
		HTTPClient: tlsSrv.Client(),
		OnPingReceived: func(context.Context, []byte) bool {
			pings.Add(1)
			return true
		},
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = ws.CloseNow() })
	c := &client{tb: t, ws: ws}
	c.welcome()
	sc := onlyConn(t, env)
	if sc.ic == nil || sc.ic.rc != nil {
		t.Fatalf("got a reader that can wait on the socket over TLS, want a blocking one")
	}
	// The round trips go on until the server has pinged twice; the client
	// answers the pings while it reads, or the server would drop it.
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; pings.Load() < 2; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("got %d pings in 5s, want 2 (PingInterval %v)", pings.Load(), cfg.PingInterval)
		}
		id := strconv.Itoa(i)
		c.send(`{"type":"ping","id":"` + id + `"}`)
		if m := c.expect("pong"); m.ID != id {
			t.Fatalf("got pong %q, want %q", m.ID, id)
		}
	}
	if err := ws.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatalf("close: %v", err)
	}
	waitFor(t, "no connections", func() bool { return env.hub.Stats().Connections == 0 })
}
