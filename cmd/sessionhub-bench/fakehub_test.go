package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
)

// fakeHub is a minimal hub speaking DESIGN §2/§3 that can misbehave on
// purpose, so the tests can show the bench catches lost, duplicated and
// resumed deliveries. The real hub is tested in e2e_test.go.
type fakeHub struct {
	dropEvery      int  // skip every n-th update sent to each connection
	duplicate      bool // send every update twice
	close4008After int  // close the first connection with 4008 after n updates

	mu       sync.Mutex
	sessions map[string]*fakeSession
	logs     map[string][][]byte // account → its update messages; the offset is the index
	subs     map[string][]*fakeConn
	conns    int
}

type fakeSession struct {
	acct    string
	version int64
}

type fakeConn struct {
	n      int
	out    chan []byte
	sent   int
	killed bool
	kill   chan struct{}
}

func newFakeHub(t testing.TB, h *fakeHub) string {
	t.Helper()
	h.sessions = map[string]*fakeSession{}
	h.logs = map[string][][]byte{}
	h.subs = map[string][]*fakeConn{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /sessions", h.create)
	mux.HandleFunc("PATCH /sessions/{id}", h.patch)
	mux.HandleFunc("GET /sessions/{id}", h.get)
	mux.HandleFunc("GET /ws", h.ws)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func (h *fakeHub) create(w http.ResponseWriter, r *http.Request) {
	var in struct{ ID, AccountID string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.ID == "" || in.AccountID == "" {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.sessions[in.ID]; ok {
		http.Error(w, "exists", http.StatusConflict)
		return
	}
	h.sessions[in.ID] = &fakeSession{acct: in.AccountID, version: 1}
	w.Header().Set("ETag", `"1"`)
	fmt.Fprintf(w, `{"id":%q}`, in.ID)
}

func (h *fakeHub) get(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.sessions[r.PathValue("id")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(s.version, 10)))
	fmt.Fprintf(w, `{"id":%q}`, r.PathValue("id"))
}

func (h *fakeHub) patch(w http.ResponseWriter, r *http.Request) {
	var in struct{ ConsoleData string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	id := r.PathValue("id")
	h.mu.Lock()
	defer h.mu.Unlock()
	s, ok := h.sessions[id]
	if !ok {
		http.NotFound(w, r)
		return
	}
	s.version++
	sess, _ := json.Marshal(map[string]any{"members": []map[string]string{{"id": "decoy"}}, "consoleData": in.ConsoleData, "accountId": s.acct, "id": id})
	msg := fmt.Appendf(nil, `{"type":"update","channel":"account:%s","offset":"f:%d","version":%d,"changed":["consoleData"],"session":%s}`,
		s.acct, len(h.logs[s.acct]), s.version, sess)
	h.logs[s.acct] = append(h.logs[s.acct], msg)
	for _, c := range h.subs[s.acct] {
		h.send(c, msg)
	}
	w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(s.version, 10)))
	fmt.Fprintf(w, `{"id":%q}`, id)
}

// send queues msg to c with the configured misbehaviour; h.mu is held.
func (h *fakeHub) send(c *fakeConn, msg []byte) {
	if c.killed {
		return
	}
	c.sent++
	if h.dropEvery > 0 && c.sent%h.dropEvery == 0 {
		return
	}
	c.out <- msg
	if h.duplicate {
		c.out <- msg
	}
	if h.close4008After > 0 && c.n == 0 && c.sent == h.close4008After {
		c.killed = true
		close(c.kill)
	}
}

func (h *fakeHub) ws(w http.ResponseWriter, r *http.Request) {
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	ctx := r.Context()
	_, data, err := conn.Read(ctx)
	if err != nil {
		return
	}
	var sub struct{ ID, Channel, Since string }
	if json.Unmarshal(data, &sub) != nil || !strings.HasPrefix(sub.Channel, "account:") {
		return
	}
	acct := strings.TrimPrefix(sub.Channel, "account:")
	c := &fakeConn{out: make(chan []byte, 100000), kill: make(chan struct{})}

	h.mu.Lock()
	c.n = h.conns
	h.conns++
	var first []byte
	if since, ok := strings.CutPrefix(sub.Since, "f:"); ok {
		from, _ := strconv.Atoi(since)
		first = fmt.Appendf(nil, `{"type":"subscribed","id":%q,"channel":%q,"recovered":true}`, sub.ID, sub.Channel)
		for _, m := range h.logs[acct][from+1:] {
			first = append(append(first, '\n'), m...)
		}
	} else {
		var entries []string
		for id, s := range h.sessions {
			if s.acct == acct {
				entries = append(entries, fmt.Sprintf(`{"version":%d,"session":{"id":%q}}`, s.version, id))
			}
		}
		first = fmt.Appendf(nil, "{\"type\":\"subscribed\",\"id\":%q,\"channel\":%q,\"recovered\":false}\n{\"type\":\"snapshot\",\"channel\":%q,\"offset\":\"f:%d\",\"sessions\":[%s]}",
			sub.ID, sub.Channel, sub.Channel, len(h.logs[acct])-1, strings.Join(entries, ","))
	}
	h.subs[acct] = append(h.subs[acct], c)
	h.mu.Unlock()

	if err := conn.Write(ctx, websocket.MessageText, first); err != nil {
		return
	}
	for {
		select {
		case m := <-c.out:
			if err := conn.Write(ctx, websocket.MessageText, m); err != nil {
				return
			}
		case <-c.kill:
			conn.Close(4008, "slow consumer")
			return
		case <-ctx.Done():
			return
		}
	}
}

func fakeRun(t *testing.T, h *fakeHub) *Result {
	t.Helper()
	url := newFakeHub(t, h)
	res, err := Run(context.Background(), Config{
		Hubs: []string{url}, Secret: []byte("x"), Conns: 6, Accounts: 2, Sessions: 4,
		Rate: 200, Duration: 300 * 1e6, Grace: 300 * 1e6, Prefix: "fake",
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

func TestBenchPassesAFaithfulHub(t *testing.T) {
	res := fakeRun(t, &fakeHub{})
	if res.Failed() != "" || res.Received != res.Expected || res.Expected != 60*3 {
		t.Errorf("Failed() = %q, received %d of %d; want a pass with 180 of 180", res.Failed(), res.Received, res.Expected)
	}
}

func TestBenchCountsLostDeliveries(t *testing.T) {
	res := fakeRun(t, &fakeHub{dropEvery: 5})
	// Each connection gets 30 updates and misses every 5th: 6 each.
	if got, want := res.Lost, int64(6*6); got != want {
		t.Errorf("lost = %d, want %d", got, want)
	}
	if !strings.Contains(res.Failed(), "lost") {
		t.Errorf("Failed() = %q, want it to name the lost deliveries", res.Failed())
	}
}

func TestBenchCountsDuplicatesAsOutOfOrder(t *testing.T) {
	res := fakeRun(t, &fakeHub{duplicate: true})
	if got, want := res.OutOfOrder, int64(180); got != want {
		t.Errorf("out of order = %d, want %d (every update was sent twice)", got, want)
	}
	if res.Lost != 0 {
		t.Errorf("lost = %d, want 0", res.Lost)
	}
	if !strings.Contains(res.Failed(), "out of order") {
		t.Errorf("Failed() = %q, want it to name the out-of-order deliveries", res.Failed())
	}
}

func TestBenchResumesAfter4008(t *testing.T) {
	res := fakeRun(t, &fakeHub{close4008After: 5})
	if res.Closes4008 != 1 || res.Reconnects != 1 {
		t.Errorf("4008 closes %d, reconnects %d; want 1 and 1", res.Closes4008, res.Reconnects)
	}
	if res.Lost != 0 || res.OutOfOrder != 0 || res.Received != res.Expected {
		t.Errorf("after resuming: lost %d, out of order %d, received %d of %d; want nothing lost", res.Lost, res.OutOfOrder, res.Received, res.Expected)
	}
}

func TestBenchIdleRun(t *testing.T) {
	url := newFakeHub(t, &fakeHub{})
	res, err := Run(context.Background(), Config{
		Hubs: []string{url}, Secret: []byte("x"), Conns: 4, Accounts: 2, Sessions: 2,
		Idle: true, Duration: 100 * 1e6, Prefix: "idle",
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.PatchesSent != 0 || res.Connected != 4 || res.Failed() != "" {
		t.Errorf("idle run: sent %d PATCHes, %d connected, Failed() = %q; want 0, 4 and a pass", res.PatchesSent, res.Connected, res.Failed())
	}
	if res.Client == nil || res.Client.RSSConnectedMB <= 0 {
		t.Errorf("idle run did not sample the bench's own memory: %+v", res.Client)
	}
}
