package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/sessionhub/sessionhub/memstore"
	"github.com/sessionhub/sessionhub/session"
)

func openMemstore(t *testing.T) backend {
	s := memstore.New(memstore.Config{})
	t.Cleanup(func() { s.Close() })
	return s
}

func TestProtocolMemstore(t *testing.T) { runProtocol(t, openMemstore) }

// runProtocol is the live protocol's suite (DESIGN §3); it runs against every
// store. open returns a fresh, empty store.
func runProtocol(t *testing.T, open func(t *testing.T) backend) {
	start := func(t *testing.T, cfg Config) *testEnv {
		t.Helper()
		t.Parallel()
		return newEnv(t, open(t), cfg)
	}

	t.Run("Welcome", func(t *testing.T) {
		e := start(t, testConfig())
		c := e.dial(t, token(t, "u1", []string{"A", "B"}, time.Hour))
		w := c.welcome()
		if w.UserID != "u1" || !slices.Equal(w.Accounts, []string{"A", "B"}) || w.ConnectionID == "" || w.HeartbeatSeconds != 60 {
			t.Errorf("got welcome %s, want userId u1, accounts [A B], a connectionId and heartbeatSeconds 60", w.raw)
		}
	})

	t.Run("TokenInQuery", func(t *testing.T) {
		e := start(t, testConfig())
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ws, _, err := websocket.Dial(ctx, e.wsURL()+"?access_token="+token(t, "u1", []string{"A"}, time.Hour), nil)
		if err != nil {
			t.Fatalf("dial with access_token: %v", err)
		}
		c := &client{tb: t, ws: ws}
		defer ws.CloseNow()
		c.welcome()
	})

	t.Run("BadTokens4001", func(t *testing.T) {
		// A handshake with a bad token is upgraded and closed with 4001 (a
		// browser sees only close codes); a plain request gets a 401.
		e := start(t, testConfig())
		other := strings.Split(token(t, "u1", []string{"A"}, time.Hour), ".")
		other[2] = strings.Repeat("A", len(other[2]))
		for name, tok := range map[string]string{
			"missing":   "",
			"garbage":   "not-a-jwt",
			"signature": strings.Join(other, "."),
			"expired":   token(t, "u1", []string{"A"}, -time.Minute),
		} {
			c, resp, err := e.tryDial(t, tok, nil)
			if err != nil {
				code := 0
				if resp != nil {
					code = resp.StatusCode
				}
				t.Errorf("%s token: dial failed with status %d (%v), want an upgrade closed with 4001", name, code, err)
				continue
			}
			_, err = c.read(5 * time.Second)
			var ce websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != StatusTokenExpired || ce.Reason == "" {
				t.Errorf("%s token: got %v, want close 4001 with a reason", name, err)
			}

			req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/ws", nil)
			if tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized || res.Header.Get("WWW-Authenticate") != "Bearer" {
				t.Errorf("%s token, plain GET: got %d %q, want 401 with WWW-Authenticate: Bearer (as REST)", name, res.StatusCode, res.Header.Get("WWW-Authenticate"))
			}
			if !strings.Contains(string(body), `"errorCode":"Unauthorized"`) || !strings.HasSuffix(string(body), `,"errors":[]}}`) {
				t.Errorf("%s token, plain GET: body %s, want REST's ResponseStatus with an errors list", name, body)
			}
		}
		_, resp, err := e.tryDial(t, "not-a-jwt", http.Header{"Origin": {"https://evil.example.com"}})
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("bad token from a foreign origin: got %v (%v), want 403 before any upgrade", resp, err)
		}
		waitFor(t, "no connections", func() bool { return e.hub.Stats().Connections == 0 })
	})

	t.Run("Origin", func(t *testing.T) {
		cfg := testConfig()
		cfg.AllowedOrigins = []string{"console.example.com"}
		e := start(t, cfg)
		tok := token(t, "u1", []string{"A"}, time.Hour)
		for origin, want := range map[string]int{
			"https://evil.example.com":    http.StatusForbidden,
			"https://console.example.com": http.StatusSwitchingProtocols,
			e.srv.URL:                     http.StatusSwitchingProtocols, // same origin
		} {
			_, resp, err := e.tryDial(t, tok, http.Header{"Origin": {origin}})
			got := 0
			if resp != nil {
				got = resp.StatusCode
			}
			if got != want {
				t.Errorf("Origin %s: got status %d (err %v), want %d", origin, got, err, want)
			}
		}
	})

	t.Run("AccountChannel", func(t *testing.T) {
		e := start(t, testConfig())
		mustCreate(t, e.store, "s1", "A")
		mustCreate(t, e.store, "s2", "A")
		mustEnd(t, e.store, "s2")
		mustCreate(t, e.store, "x1", "B")
		c := e.dial(t, token(t, "u1", []string{"A"}, time.Hour))
		c.welcome()
		snap, _ := c.subscribe("1", "account:A", "")
		if len(snap.Sessions) != 1 || snap.Sessions[0].Version != 1 || snap.Offset == "" {
			t.Fatalf("got snapshot %s, want only the active session s1 at version 1 and an offset", snap.raw)
		}
		v := mustPatch(t, e.store, "s1", "hello")
		u := c.expect("update")
		if u.Channel != "account:A" || u.Version != v.Version || !slices.Contains(u.Changed, "consoleData") || u.Offset == "" || u.Offset == snap.Offset {
			t.Errorf("got %s, want an update of account:A at version %d naming consoleData with a new offset", u.raw, v.Version)
		}
		if !sameState(t, u.Session, v.Info) {
			t.Errorf("got session %s, want the stored state", u.Session)
		}
		mustCreate(t, e.store, "x2", "B") // another account: nothing arrives
		mustCreate(t, e.store, "s3", "A")
		if u := c.expect("update"); u.Version != 1 || u.info(t).ID != "s3" {
			t.Errorf("got %s, want the creation of s3", u.raw)
		}
		end := mustEnd(t, e.store, "s3")
		if u := c.expect("update"); u.Version != end.Version || !u.info(t).Ended {
			t.Errorf("got %s, want the update that ends s3", u.raw)
		}
		mustPatch(t, e.store, "s3", "wrap-up") // an ended session leaves the account channel
		if got := c.roundTrip("p"); len(got) != 0 {
			t.Errorf("got %v after the session ended, want nothing", got[0].raw)
		}
	})

	t.Run("SessionChannel", func(t *testing.T) {
		e := start(t, testConfig())
		mustCreate(t, e.store, "s1", "A")
		mustCreate(t, e.store, "s2", "A")
		c := e.dial(t, token(t, "u1", []string{"*"}, time.Hour))
		c.welcome()
		snap, _ := c.subscribe("1", "session:s1", "")
		if len(snap.Sessions) != 1 || snap.Sessions[0].Version != 1 {
			t.Fatalf("got %s, want s1 at version 1", snap.raw)
		}
		mustPatch(t, e.store, "s2", "other")
		mustEnd(t, e.store, "s1")
		v := mustPatch(t, e.store, "s1", "notes after the call")
		u1, u2 := c.expect("update"), c.expect("update")
		if u1.Version != 2 || u2.Version != v.Version || u2.Channel != "session:s1" || u2.info(t).ConsoleData != "notes after the call" {
			t.Errorf("got %s then %s, want versions 2 and %d of s1 only", u1.raw, u2.raw, v.Version)
		}
	})

	t.Run("Permissions", func(t *testing.T) {
		e := start(t, testConfig())
		mustCreate(t, e.store, "b1", "B")
		c := e.dial(t, token(t, "u1", []string{"A"}, time.Hour))
		c.welcome()
		for _, tc := range []struct{ channel, code string }{
			{"account:B", CodeForbidden},
			{"session:b1", CodeNotFound},   // exists, but in another account
			{"session:nope", CodeNotFound}, // does not exist: the same answer
		} {
			c.send(map[string]string{"type": "subscribe", "id": tc.channel, "channel": tc.channel})
			if m := c.expect("error"); m.ID != tc.channel || m.Code != tc.code || m.Message == "" {
				t.Errorf("subscribe %s: got %s, want error %s", tc.channel, m.raw, tc.code)
			}
		}
		if st := e.hub.Stats(); st.Subscriptions != 0 || st.Accounts != 0 {
			t.Errorf("got %+v, want no subscriptions left", st)
		}
		c.subscribe("ok", "account:A", "") // the connection still works
	})

	t.Run("MalformedCommands", func(t *testing.T) {
		e := start(t, testConfig())
		c := e.dial(t, token(t, "u1", []string{"A"}, time.Hour))
		c.welcome()
		long := strings.Repeat("x", 200)
		for _, tc := range []struct{ name, cmd, id string }{
			{"not json", `{"type":`, ""},
			{"not an object", `[1,2]`, ""},
			{"number id", `{"type":"ping","id":7}`, "7"},
			{"no type", `{"id":"1"}`, "1"},
			{"unknown type", `{"type":"publish","id":"2"}`, "2"},
			{"no id", `{"type":"subscribe","channel":"account:A"}`, ""},
			{"no channel", `{"type":"subscribe","id":"3"}`, "3"},
			{"bad channel", `{"type":"subscribe","id":"4","channel":"room:A"}`, "4"},
			{"bad id chars", `{"type":"subscribe","id":"5","channel":"account:A B"}`, "5"},
			{"oversized channel id", `{"type":"subscribe","id":"6","channel":"account:` + long + `"}`, "6"},
			{"oversized command id", `{"type":"ping","id":"` + long + `"}`, ""},
			{"oversized since", `{"type":"subscribe","id":"7","channel":"account:A","since":"` + long + long + `"}`, "7"},
			{"refresh without token", `{"type":"refresh","id":"8"}`, "8"},
			{"unsubscribe bad channel", `{"type":"unsubscribe","id":"9","channel":"x"}`, "9"},
		} {
			c.send(tc.cmd)
			if m := c.expect("error"); m.Code != CodeBadRequest || m.ID != tc.id || m.Message == "" {
				t.Errorf("%s: got %s, want error BadRequest with id %q", tc.name, m.raw, tc.id)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := c.ws.Write(ctx, websocket.MessageBinary, []byte("{}")); err != nil {
			t.Fatal(err)
		}
		if m := c.expect("error"); m.Code != CodeBadRequest {
			t.Errorf("binary frame: got %s, want error BadRequest", m.raw)
		}
		// Several commands in one frame, as the server batches.
		c.send(`{"type":"ping","id":"a"}` + "\n" + `{"type":"ping","id":"b"}`)
		if a, b := c.expect("pong"), c.expect("pong"); a.ID != "a" || b.ID != "b" {
			t.Errorf("got pongs %q %q, want a b", a.ID, b.ID)
		}
	})

	t.Run("SubscribeTwiceAndUnsubscribe", func(t *testing.T) {
		e := start(t, testConfig())
		mustCreate(t, e.store, "s1", "A")
		c := e.dial(t, token(t, "u1", []string{"A"}, time.Hour))
		c.welcome()
		c.subscribe("1", "account:A", "")
		c.send(map[string]string{"type": "subscribe", "id": "2", "channel": "account:A"})
		if m := c.expect("error"); m.Code != CodeBadRequest || m.ID != "2" {
			t.Errorf("second subscribe: got %s, want error BadRequest", m.raw)
		}
		c.send(map[string]string{"type": "unsubscribe", "id": "3", "channel": "account:A"})
		if m := c.expect("unsubscribed"); m.ID != "3" || m.Channel != "account:A" {
			t.Errorf("got %s, want unsubscribed 3 account:A", m.raw)
		}
		mustPatch(t, e.store, "s1", "after")
		if got := c.roundTrip("p"); len(got) != 0 {
			t.Errorf("got %s after unsubscribing, want nothing", got[0].raw)
		}
		c.send(map[string]string{"type": "unsubscribe", "id": "4", "channel": "account:A"})
		if m := c.expect("unsubscribed"); m.ID != "4" {
			t.Errorf("repeated unsubscribe: got %s, want unsubscribed (idempotent)", m.raw)
		}
		waitFor(t, "the account to be released", func() bool { return e.hub.Stats().Accounts == 0 })
	})

	t.Run("SubscriptionLimit", func(t *testing.T) {
		cfg := testConfig()
		cfg.MaxSubscriptions = 2
		e := start(t, cfg)
		c := e.dial(t, token(t, "u1", []string{"*"}, time.Hour))
		c.welcome()
		c.subscribe("1", "account:A", "")
		c.subscribe("2", "account:B", "")
		c.send(map[string]string{"type": "subscribe", "id": "3", "channel": "account:C"})
		if m := c.expect("error"); m.Code != CodeBadRequest || m.ID != "3" {
			t.Errorf("got %s, want error BadRequest over the limit", m.raw)
		}
	})

	t.Run("Resume", func(t *testing.T) {
		e := start(t, testConfig())
		mustCreate(t, e.store, "s1", "A")
		mustCreate(t, e.store, "s2", "A")
		tok := token(t, "u1", []string{"A"}, time.Hour)
		c := e.dial(t, tok)
		c.welcome()
		snap, _ := c.subscribe("1", "account:A", "")
		sessSnap := func() msg { s, _ := c.subscribe("2", "session:s2", ""); return s }()
		c.ws.CloseNow()

		var want []int64
		for i := range 100 {
			id := []string{"s1", "s2"}[i%2]
			want = append(want, mustPatch(t, e.store, id, fmt.Sprint("change ", i)).Version)
		}
		c = e.dial(t, tok)
		c.welcome()
		if _, rec := c.subscribe("3", "account:A", snap.Offset); !rec {
			t.Fatal("got recovered false, want true: every change is retained")
		}
		var got []int64
		last := ""
		for range 100 {
			u := c.expect("update")
			got = append(got, u.Version)
			last = u.Offset
		}
		if !slices.Equal(got, want) {
			t.Errorf("got versions %v, want %v", got, want)
		}
		if extra := c.roundTrip("p"); len(extra) != 0 {
			t.Errorf("got %s after the missed changes, want nothing", extra[0].raw)
		}
		// The session channel replays only its session's changes.
		if _, rec := c.subscribe("4", "session:s2", sessSnap.Offset); !rec {
			t.Fatal("session channel: got recovered false, want true")
		}
		for range 50 {
			if u := c.expect("update"); u.Channel != "session:s2" || u.info(t).ID != "s2" {
				t.Fatalf("got %s, want only s2's changes", u.raw)
			}
		}
		if extra := c.roundTrip("q"); len(extra) != 0 {
			t.Errorf("got %s after s2's changes, want nothing", extra[0].raw)
		}
		// Resuming from the newest offset misses nothing and repeats nothing.
		c.send(map[string]string{"type": "unsubscribe", "id": "5", "channel": "account:A"})
		c.expect("unsubscribed")
		if _, rec := c.subscribe("6", "account:A", last); !rec {
			t.Fatal("got recovered false, want true")
		}
		v := mustPatch(t, e.store, "s1", "live again")
		if u := c.expect("update"); u.Version != v.Version {
			t.Errorf("got %s, want version %d", u.raw, v.Version)
		}
	})

	t.Run("ResumeGone", func(t *testing.T) {
		e := start(t, testConfig())
		mustCreate(t, e.store, "s1", "A")
		c := e.dial(t, token(t, "u1", []string{"A"}, time.Hour))
		c.welcome()
		for i, since := range []string{"garbage", "otherepoch:1-0", "x:y"} {
			snap, rec := c.subscribe(fmt.Sprint(i), "account:A", since)
			if rec || len(snap.Sessions) != 1 {
				t.Errorf("since %q: got recovered %v and %d sessions, want a snapshot of 1", since, rec, len(snap.Sessions))
			}
			c.send(map[string]string{"type": "unsubscribe", "id": "u", "channel": "account:A"})
			c.expect("unsubscribed")
		}
	})

	t.Run("OversizedMessage1009", func(t *testing.T) {
		cfg := testConfig()
		cfg.MaxMessageBytes = 1 << 10
		e := start(t, cfg)
		c := e.dial(t, token(t, "u1", []string{"A"}, time.Hour))
		c.welcome()
		c.send(`{"type":"ping","id":"` + strings.Repeat("x", 2<<10) + `"}`)
		if got := c.closeStatus(); got != websocket.StatusMessageTooBig {
			t.Errorf("got close %v, want 1009", got)
		}
	})

	t.Run("TokenExpiry4001", func(t *testing.T) {
		e := start(t, testConfig())
		c := e.dial(t, token(t, "u1", []string{"A"}, 1500*time.Millisecond))
		c.welcome()
		if got := c.closeStatus(); got != StatusTokenExpired {
			t.Errorf("got close %v, want 4001", got)
		}
	})

	t.Run("RefreshExtends", func(t *testing.T) {
		e := start(t, testConfig())
		c := e.dial(t, token(t, "u1", []string{"A"}, 1500*time.Millisecond))
		c.welcome()
		c.subscribe("1", "account:A", "")
		c.send(map[string]string{"type": "refresh", "id": "r1", "token": "bad"})
		if m := c.expect("error"); m.Code != CodeUnauthorized || m.ID != "r1" {
			t.Errorf("bad refresh: got %s, want error Unauthorized", m.raw)
		}
		c.send(map[string]string{"type": "refresh", "id": "r2", "token": token(t, "u2", []string{"A"}, time.Hour)})
		if m := c.expect("error"); m.Code != CodeForbidden {
			t.Errorf("refresh for another user: got %s, want error Forbidden", m.raw)
		}
		c.send(map[string]string{"type": "refresh", "id": "r3", "token": token(t, "u1", []string{"B"}, time.Hour)})
		if m := c.expect("error"); m.Code != CodeForbidden {
			t.Errorf("refresh not covering a subscription: got %s, want error Forbidden", m.raw)
		}
		c.send(map[string]string{"type": "refresh", "id": "r4", "token": token(t, "u1", []string{"A"}, time.Hour)})
		if got := c.roundTrip("p1"); len(got) != 0 {
			t.Errorf("good refresh: got %s, want no reply", got[0].raw)
		}
		time.Sleep(2 * time.Second) // past the first token's expiry: the connection must stay
		if got := c.roundTrip("p2"); len(got) != 0 {
			t.Errorf("got %s, want only the pong", got[0].raw)
		}
		if got := e.hub.Stats().Expired; got != 0 {
			t.Errorf("got %d expired connections, want 0", got)
		}
	})

	t.Run("NoPongCloses", func(t *testing.T) {
		cfg := testConfig()
		cfg.PingInterval, cfg.PongTimeout = 50*time.Millisecond, 100*time.Millisecond
		e := start(t, cfg)
		c := e.dial(t, token(t, "u1", []string{"A"}, time.Hour))
		c.welcome()
		// A client that reads answers pings and stays.
		deadline := time.Now().Add(400 * time.Millisecond)
		for time.Now().Before(deadline) {
			c.roundTrip("alive")
		}
		if got := e.hub.Stats().PingTimeouts; got != 0 {
			t.Fatalf("got %d ping timeouts for a reading client, want 0", got)
		}
		// One that stops reading never answers and is dropped.
		waitFor(t, "the silent client to be dropped", func() bool { return e.hub.Stats().PingTimeouts == 1 })
		waitFor(t, "the connection to go", func() bool { return e.hub.Stats().Connections == 0 })
	})

	t.Run("Shutdown1001", func(t *testing.T) {
		e := start(t, testConfig())
		c := e.dial(t, token(t, "u1", []string{"A"}, time.Hour))
		c.welcome()
		c.subscribe("1", "account:A", "")
		done := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			done <- e.hub.Shutdown(ctx)
		}()
		if got := c.closeStatus(); got != websocket.StatusGoingAway {
			t.Errorf("got close %v, want 1001", got)
		}
		if err := <-done; err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if e.hub.Ready() == nil {
			t.Error("Ready after Shutdown: got nil, want an error")
		}
		_, resp, err := e.tryDial(t, token(t, "u1", []string{"A"}, time.Hour), nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("dial after Shutdown: got %v (err %v), want 503", resp, err)
		}
		if st := e.hub.Stats(); st.Connections != 0 || st.Subscriptions != 0 {
			t.Errorf("got %+v, want nothing left", st)
		}
	})

	t.Run("ManySubscribersOneEncoding", func(t *testing.T) {
		e := start(t, testConfig())
		mustCreate(t, e.store, "s1", "A")
		var cs []*client
		for i := range 20 {
			c := e.dial(t, token(t, fmt.Sprint("u", i), []string{"A"}, time.Hour))
			c.welcome()
			c.subscribe("1", "account:A", "")
			cs = append(cs, c)
		}
		var want []int64
		for i := range 30 {
			want = append(want, mustPatch(t, e.store, "s1", fmt.Sprint(i)).Version)
		}
		for i, c := range cs {
			var got []int64
			for range want {
				got = append(got, c.expect("update").Version)
			}
			if !slices.Equal(got, want) {
				t.Errorf("client %d: got versions %v, want %v", i, got, want)
			}
		}
	})
}

// TestSubscribeRace subscribes while the session changes as fast as it can:
// every subscriber must see its snapshot followed by every later version, with
// no gap and no repeat.
func TestSubscribeRace(t *testing.T) {
	st := openMemstore(t)
	cfg := testConfig()
	cfg.QueueBytes = 64 << 20 // this test checks ordering, not coalescing
	e := newEnv(t, st, cfg)
	mustCreate(t, st, "s1", "A")
	stop := make(chan struct{})
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			data := fmt.Sprint(i)
			if _, err := st.Update(context.Background(), "s1", session.Cond{}, "w", session.Patch{ConsoleData: &data}.Mutation()); err != nil {
				t.Errorf("update: %v", err)
				return
			}
		}
	}()
	tok := token(t, "u1", []string{"A"}, time.Hour)
	for i := range 10 {
		c := e.dial(t, tok)
		c.welcome()
		snap, _ := c.subscribe("1", []string{"account:A", "session:s1"}[i%2], "")
		v := snap.Sessions[0].Version
		for range 20 {
			u := c.expect("update")
			if u.Version != v+1 {
				t.Fatalf("subscriber %d: got version %d after %d, want %d", i, u.Version, v, v+1)
			}
			v = u.Version
		}
		c.ws.CloseNow()
	}
	close(stop)
	<-writerDone
}
