package hub

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/sessionhub/sessionhub/auth"
	"github.com/sessionhub/sessionhub/session"
)

// backend is what a store gives the hub and the tests: the Store to make
// changes, the Feed and Broker to follow them.
type backend interface {
	session.Store
	session.Feed
	session.Broker
}

var testSecret = []byte("hub-test-secret-hub-test-secret!")

// testEnv is one hub served by an httptest server.
type testEnv struct {
	hub   *Hub
	srv   *httptest.Server
	store backend
	auth  *auth.Authenticator
}

// testConfig is a hub configuration with short intervals for tests.
func testConfig() Config {
	return Config{
		PingInterval: time.Minute, // the liveness tests shorten it
		PongTimeout:  5 * time.Second,
		WriteTimeout: 5 * time.Second,
	}
}

// newEnv starts a hub on store, with cfg's Feed, Broker and Auth filled in.
// It shuts the hub down when tb ends.
func newEnv(tb testing.TB, store backend, cfg Config) *testEnv {
	tb.Helper()
	a, err := auth.New(auth.Config{Secret: testSecret})
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Feed, cfg.Broker, cfg.Auth = store, store, a
	h := New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- h.Run(ctx) }()
	srv := httptest.NewServer(h)
	tb.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		if err := h.Shutdown(sctx); err != nil {
			tb.Errorf("hub Shutdown: %v", err)
		}
		srv.Close()
		cancel()
		if err := <-runDone; err != nil {
			tb.Errorf("hub Run: %v", err)
		}
	})
	return &testEnv{hub: h, srv: srv, store: store, auth: a}
}

// token signs a token for user over accounts, valid for ttl.
func token(tb testing.TB, user string, accounts []string, ttl time.Duration) string {
	tb.Helper()
	now := time.Now()
	tok, err := auth.Sign(testSecret, auth.Claims{Subject: user, Accounts: accounts, Role: auth.RoleViewer}, now.Add(ttl), now)
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

func (e *testEnv) wsURL() string { return "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/ws" }

// dial connects with a bearer token and fails the test if it cannot.
func (e *testEnv) dial(tb testing.TB, tok string) *client {
	tb.Helper()
	c, _, err := e.tryDial(tb, tok, nil)
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	return c
}

func (e *testEnv) tryDial(tb testing.TB, tok string, hdr http.Header) (*client, *http.Response, error) {
	tb.Helper()
	if hdr == nil {
		hdr = http.Header{}
	}
	if tok != "" {
		hdr.Set("Authorization", "Bearer "+tok)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, e.wsURL(), &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		return nil, resp, err
	}
	ws.SetReadLimit(64 << 20)
	c := &client{tb: tb, ws: ws}
	tb.Cleanup(func() { _ = ws.CloseNow() })
	return c, resp, nil
}

// msg is any server message.
type msg struct {
	Type             string          `json:"type"`
	ID               string          `json:"id"`
	Channel          string          `json:"channel"`
	Offset           string          `json:"offset"`
	Version          int64           `json:"version"`
	Changed          []string        `json:"changed"`
	Session          json.RawMessage `json:"session"`
	Sessions         []session.Entry `json:"sessions"`
	Recovered        bool            `json:"recovered"`
	Code             string          `json:"code"`
	Message          string          `json:"message"`
	ConnectionID     string          `json:"connectionId"`
	UserID           string          `json:"userId"`
	Accounts         []string        `json:"accounts"`
	HeartbeatSeconds int             `json:"heartbeatSeconds"`
	raw              string
}

// info decodes the message's session.
func (m msg) info(tb testing.TB) session.Info {
	tb.Helper()
	var s session.Info
	if err := json.Unmarshal(m.Session, &s); err != nil {
		tb.Fatalf("session of %s: %v", m.raw, err)
	}
	return s
}

// client is a test's WebSocket client. It reads frames on demand and splits
// them into messages on "\n", as the protocol asks of clients.
type client struct {
	tb      testing.TB
	ws      *websocket.Conn
	pending []string
	frames  int
}

// next returns the next message, failing the test if none comes in time.
func (c *client) next() msg {
	c.tb.Helper()
	m, err := c.read(10 * time.Second)
	if err != nil {
		c.tb.Fatalf("reading the next message: %v", err)
	}
	return m
}

// read returns the next message or the error that ended the connection.
func (c *client) read(timeout time.Duration) (msg, error) {
	for len(c.pending) == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		typ, data, err := c.ws.Read(ctx)
		cancel()
		if err != nil {
			return msg{}, err
		}
		if typ != websocket.MessageText {
			return msg{}, fmt.Errorf("got a %v frame, want text", typ)
		}
		c.frames++
		c.pending = strings.Split(string(data), "\n")
	}
	line := c.pending[0]
	c.pending = c.pending[1:]
	var m msg
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return msg{}, fmt.Errorf("message %q: %w", line, err)
	}
	m.raw = line
	return m, nil
}

// expect reads the next message and checks its type.
func (c *client) expect(typ string) msg {
	c.tb.Helper()
	m := c.next()
	if m.Type != typ {
		c.tb.Fatalf("got message %s, want type %q", m.raw, typ)
	}
	return m
}

// closeStatus reads until the connection ends and returns its close code.
func (c *client) closeStatus() websocket.StatusCode {
	c.tb.Helper()
	for {
		_, err := c.read(10 * time.Second)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				c.tb.Fatalf("connection still open: %v", err)
			}
			return websocket.CloseStatus(err)
		}
	}
}

// send writes one command (any value is marshalled; a string or []byte is sent as is).
func (c *client) send(v any) {
	c.tb.Helper()
	var b []byte
	switch v := v.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			c.tb.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		c.tb.Fatalf("send %s: %v", b, err)
	}
}

// welcome reads the welcome message.
func (c *client) welcome() msg {
	c.tb.Helper()
	return c.expect("welcome")
}

// subscribe subscribes and reads the reply: `subscribed`, then the snapshot
// unless recovered. It returns the snapshot (zero if recovered) and whether the
// subscription recovered.
func (c *client) subscribe(id, channel, since string) (snap msg, recovered bool) {
	c.tb.Helper()
	cmd := map[string]string{"type": "subscribe", "id": id, "channel": channel}
	if since != "" {
		cmd["since"] = since
	}
	c.send(cmd)
	m := c.expect("subscribed")
	if m.ID != id || m.Channel != channel {
		c.tb.Fatalf("got %s, want subscribed id %q channel %q", m.raw, id, channel)
	}
	if m.Recovered {
		return msg{}, true
	}
	snap = c.expect("snapshot")
	if snap.Channel != channel {
		c.tb.Fatalf("got %s, want a snapshot of %q", snap.raw, channel)
	}
	return snap, false
}

// roundTrip sends a ping and returns every message that came before the pong:
// a barrier that proves the server handled what was sent before.
func (c *client) roundTrip(id string) []msg {
	c.tb.Helper()
	c.send(map[string]string{"type": "ping", "id": id})
	var before []msg
	for {
		m := c.next()
		if m.Type == "pong" && m.ID == id {
			return before
		}
		before = append(before, m)
	}
}

// mustCreate stores a new session in account acct.
func mustCreate(tb testing.TB, st session.Store, id, acct string) session.Versioned {
	tb.Helper()
	info, err := session.New(session.Info{ID: id, AccountID: acct, CallState: session.CallRinging}, "tester", time.Now(), session.Limits{})
	if err != nil {
		tb.Fatal(err)
	}
	v, err := st.Create(context.Background(), info)
	if err != nil {
		tb.Fatalf("create %s: %v", id, err)
	}
	return v
}

// mustPatch sets a session's consoleData (a change every time it differs).
func mustPatch(tb testing.TB, st session.Store, id, data string) session.Versioned {
	tb.Helper()
	v, err := st.Update(context.Background(), id, session.Cond{}, "tester", session.Patch{ConsoleData: &data}.Mutation())
	if err != nil {
		tb.Fatalf("patch %s: %v", id, err)
	}
	return v
}

// mustEnd disconnects a session.
func mustEnd(tb testing.TB, st session.Store, id string) session.Versioned {
	tb.Helper()
	v, err := st.Update(context.Background(), id, session.Cond{}, "tester", session.End())
	if err != nil {
		tb.Fatalf("end %s: %v", id, err)
	}
	return v
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition with a deadline
	}
}

// sameState reports whether a message's session is the stored state want.
func sameState(tb testing.TB, got json.RawMessage, want session.Info) bool {
	tb.Helper()
	var g session.Info
	if err := json.Unmarshal(got, &g); err != nil {
		tb.Fatalf("session %s: %v", got, err)
	}
	a, _ := json.Marshal(g)
	b, _ := json.Marshal(want)
	return bytes.Equal(a, b)
}

// The raw wire, for tests that need bytes the WebSocket client would not send.

// upgradeRequest is a WebSocket upgrade request for the server at srvURL
// ("http://host:port") with a bearer token.
func upgradeRequest(srvURL, tok string) []byte {
	return []byte("GET /ws HTTP/1.1\r\nHost: " + strings.TrimPrefix(srvURL, "http://") + "\r\n" +
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Authorization: Bearer " + tok + "\r\n\r\n")
}

// rawUpgrade dials the server, sends the upgrade request and extra in one
// write, and returns the connection and its reader once the 101 has been read.
// The connection has a 10s deadline and is closed when tb ends.
func (e *testEnv) rawUpgrade(tb testing.TB, tok string, extra []byte) (net.Conn, *bufio.Reader) {
	tb.Helper()
	nc, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write(append(upgradeRequest(e.srv.URL, tok), extra...)); err != nil {
		tb.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		tb.Fatalf("reading the upgrade response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		tb.Fatalf("upgrade: got status %d, want 101", resp.StatusCode)
	}
	return nc, br
}

// clientFrame builds one masked client frame with the given first byte.
func clientFrame(b0 byte, payload string) []byte {
	key := [4]byte{1, 2, 3, 4}
	b := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n < 1<<16:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	b = append(b, key[:]...)
	for i := 0; i < len(payload); i++ {
		b = append(b, payload[i]^key[i%4])
	}
	return b
}

// readServerFrame reads one unmasked, unfragmented server frame's payload.
func readServerFrame(tb testing.TB, r *bufio.Reader) (opcode byte, payload []byte) {
	tb.Helper()
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		tb.Fatalf("reading a frame header: %v", err)
	}
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			tb.Fatal(err)
		}
		n = int(ext[0])<<8 | int(ext[1])
	case 127:
		tb.Fatal("readServerFrame: frame too large for this test")
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		tb.Fatalf("reading a frame payload: %v", err)
	}
	return h[0] & 0x0f, payload
}
