package redisstore

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sessionhub/sessionhub/internal/redistest"
	"github.com/sessionhub/sessionhub/session"
)

// TestKeyLayout checks the exact keys of DESIGN §4, hash tags included.
func TestKeyLayout(t *testing.T) {
	url, p := redistest.URL(t)
	s := openURL(t, url, Config{Prefix: p})
	mustCreate(t, s, "s1", "A1")
	mustCreate(t, s, "s2", "A1")
	d := session.CallDisconnected
	if _, err := s.Update(testCtx(t), "s2", session.Cond{}, "u", session.Patch{CallState: &d}.Mutation()); err != nil {
		t.Fatal(err)
	}
	rc := rawClient(t, url)
	ctx := testCtx(t)
	got, err := rc.Keys(ctx, p+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		p + ":sid:{s1}":      "string",
		p + ":sid:{s2}":      "string",
		p + ":{a:A1}:s:s1":   "hash",
		p + ":{a:A1}:s:s2":   "hash",
		p + ":{a:A1}:active": "zset",
		p + ":{a:A1}:all":    "zset",
		p + ":{a:A1}:log":    "stream",
		p + ":{a:A1}:epoch":  "string",
		p + ":accounts":      "set",
	}
	if len(got) != len(want) {
		t.Fatalf("keys: got %v, want %d keys %v", got, len(want), want)
	}
	for _, k := range got {
		typ, ok := want[k]
		if !ok {
			t.Fatalf("unexpected key %q", k)
		}
		if g := rc.Type(ctx, k).Val(); g != typ {
			t.Errorf("type of %s: got %s, want %s", k, g, typ)
		}
	}
	if g := rc.Get(ctx, p+":sid:{s1}").Val(); g != "A1" {
		t.Errorf("sid key: got %q, want A1", g)
	}
	h := rc.HGetAll(ctx, p+":{a:A1}:s:s1").Val()
	if h["v"] != "1" || !strings.Contains(h["d"], `"id":"s1"`) {
		t.Errorf("state hash: got %v, want v=1 and the session JSON", h)
	}
	if ids := rc.ZRange(ctx, p+":{a:A1}:active", 0, -1).Val(); len(ids) != 1 || ids[0] != "s1" {
		t.Errorf("active: got %v, want [s1]", ids)
	}
	if ids := rc.ZRange(ctx, p+":{a:A1}:all", 0, -1).Val(); len(ids) != 2 {
		t.Errorf("all: got %v, want s1 and s2", ids)
	}
	// The ended session expires with its id; the live one does not.
	for k, wantTTL := range map[string]bool{p + ":{a:A1}:s:s2": true, p + ":sid:{s2}": true, p + ":{a:A1}:s:s1": false, p + ":sid:{s1}": false} {
		ttl := rc.PTTL(ctx, k).Val()
		if (ttl > 0) != wantTTL {
			t.Errorf("TTL of %s: got %v, want expiring=%v", k, ttl, wantTTL)
		}
		if wantTTL && ttl > 24*time.Hour {
			t.Errorf("TTL of %s: got %v, want at most the retention (24h)", k, ttl)
		}
	}
}

// TestSurvivesNewStore: another Store on the same Redis (a restarted hub) sees
// everything, with no cache.
func TestSurvivesNewStore(t *testing.T) {
	url, p := redistest.URL(t)
	a := openURL(t, url, Config{Prefix: p})
	mustCreate(t, a, "s1", "A1")
	v := mustPatch(t, a, "s1", "notes")
	snap, err := a.AccountSnapshot(testCtx(t), "A1")
	if err != nil {
		t.Fatal(err)
	}
	b := openURL(t, url, Config{Prefix: p})
	got, err := b.Get(testCtx(t), "s1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != v.Version || got.Info.ConsoleData != "notes" {
		t.Fatalf("Get on a new Store: got v%d %q, want v%d %q", got.Version, got.Info.ConsoleData, v.Version, "notes")
	}
	snap2, err := b.AccountSnapshot(testCtx(t), "A1")
	if err != nil || snap2.Offset != snap.Offset {
		t.Fatalf("offset on a new Store: got %q (%v), want %q", snap2.Offset, err, snap.Offset)
	}
	v2 := mustPatch(t, b, "s1", "more")
	if v2.Version != v.Version+1 {
		t.Fatalf("write on a new Store: got v%d, want v%d", v2.Version, v.Version+1)
	}
}

// countHook counts the round trips a client makes (a pipeline is one).
type countHook struct {
	mu   sync.Mutex
	n    int
	cmds []string
}

func (h *countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.mu.Lock()
		h.n++
		h.cmds = append(h.cmds, cmd.Name())
		h.mu.Unlock()
		return next(ctx, cmd)
	}
}
func (h *countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.mu.Lock()
		h.n++
		h.cmds = append(h.cmds, "pipeline")
		h.mu.Unlock()
		return next(ctx, cmds)
	}
}

func (h *countHook) reset() (int, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n, c := h.n, h.cmds
	h.n, h.cmds = 0, nil
	return n, c
}

// TestPatchRoundTrips: a PATCH is two round trips (HMGET, then the script) once
// the id's account is cached, and a fresh Store needs one more lookup only once.
func TestPatchRoundTrips(t *testing.T) {
	url, p := redistest.URL(t)
	s := openURL(t, url, Config{Prefix: p})
	mustCreate(t, s, "s1", "A1")
	mustPatch(t, s, "s1", "warm the script cache")
	h := &countHook{}
	s.rdb.AddHook(h)
	for i := range 3 {
		mustPatch(t, s, "s1", strings.Repeat("x", i+1))
		if n, cmds := h.reset(); n != 2 {
			t.Fatalf("PATCH %d: got %d round trips %v, want 2 (hmget, evalsha)", i, n, cmds)
		}
	}
	// A no-op write is one read.
	mustPatch(t, s, "s1", "xxx")
	if n, cmds := h.reset(); n != 1 {
		t.Fatalf("no-op PATCH: got %d round trips %v, want 1", n, cmds)
	}

	fresh := openURL(t, url, Config{Prefix: p})
	if err := fresh.Ping(testCtx(t)); err != nil { // dial before counting
		t.Fatal(err)
	}
	h2 := &countHook{}
	fresh.rdb.AddHook(h2)
	mustPatch(t, fresh, "s1", "a")
	if n, cmds := h2.reset(); n != 3 {
		t.Fatalf("first PATCH on a fresh Store: got %d round trips %v, want 3 (get sid, hmget, evalsha)", n, cmds)
	}
	mustPatch(t, fresh, "s1", "b")
	if n, cmds := h2.reset(); n != 2 {
		t.Fatalf("second PATCH on a fresh Store: got %d round trips %v, want 2", n, cmds)
	}
}

// TestCreateConflicts: an id is unique across accounts; a leftover reservation
// of the same account with no state is reused.
func TestCreateConflicts(t *testing.T) {
	url, p := redistest.URL(t)
	s := openURL(t, url, Config{Prefix: p})
	mustCreate(t, s, "s1", "A1")
	for _, acct := range []string{"A1", "A2"} {
		in, _ := session.New(session.Info{ID: "s1", AccountID: acct, CallState: session.CallRinging}, "u", time.Now(), session.Limits{})
		_, err := s.Create(testCtx(t), in)
		if !errors.Is(err, session.ErrExists) {
			t.Fatalf("Create s1 again in %s: got %v, want ErrExists", acct, err)
		}
	}
	rc := rawClient(t, url)
	// A create that died after reserving its id.
	rc.Set(testCtx(t), p+":sid:{s2}", "A1", 0)
	mustCreate(t, s, "s2", "A1")
	// A leftover of another account keeps the id taken.
	rc.Set(testCtx(t), p+":sid:{s3}", "A9", 0)
	in, _ := session.New(session.Info{ID: "s3", AccountID: "A1", CallState: session.CallRinging}, "u", time.Now(), session.Limits{})
	if _, err := s.Create(testCtx(t), in); !errors.Is(err, session.ErrExists) {
		t.Fatalf("Create over another account's reservation: got %v, want ErrExists", err)
	}
}

// TestHostileIDs: ids that would change a key's hash slot or shape never reach
// Redis.
func TestHostileIDs(t *testing.T) {
	s := openStore(t, Config{})
	ctx := testCtx(t)
	for _, id := range []string{"", "a}b", "{x}", "a b", "a\nb", strings.Repeat("x", 200), "x.json"} {
		if _, err := s.Get(ctx, id); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Get(%q): got %v, want ErrNotFound", id, err)
		}
		if _, err := s.Update(ctx, id, session.Cond{}, "u", session.End()); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("Update(%q): got %v, want ErrNotFound", id, err)
		}
		if _, _, err := s.SessionSnapshot(ctx, id); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("SessionSnapshot(%q): got %v, want ErrNotFound", id, err)
		}
		if _, err := s.AccountSnapshot(ctx, id); !errors.Is(err, session.ErrInvalid) {
			t.Errorf("AccountSnapshot(%q): got %v, want ErrInvalid", id, err)
		}
		if err := s.Subscribe(ctx, id); !errors.Is(err, session.ErrInvalid) {
			t.Errorf("Subscribe(%q): got %v, want ErrInvalid", id, err)
		}
		if _, err := s.Create(ctx, session.Info{ID: id, AccountID: "A1"}); !errors.Is(err, session.ErrInvalid) {
			t.Errorf("Create(id %q): got %v, want ErrInvalid", id, err)
		}
		if _, err := s.Create(ctx, session.Info{ID: "ok", AccountID: id}); !errors.Is(err, session.ErrInvalid) {
			t.Errorf("Create(account %q): got %v, want ErrInvalid", id, err)
		}
	}
	page, err := s.List(ctx, session.Query{AccountIDs: []string{"a}b", "{x}"}})
	if err != nil || page.Total != 0 {
		t.Fatalf("List of hostile accounts: got %+v, %v; want an empty page", page, err)
	}
}

// TestListDropsExpired: an expired ended session leaves the all index when a
// list meets it.
func TestListDropsExpired(t *testing.T) {
	url, p := redistest.URL(t)
	s := openURL(t, url, Config{Prefix: p})
	mustCreate(t, s, "s1", "A1")
	mustCreate(t, s, "s2", "A1")
	rc := rawClient(t, url)
	rc.Del(testCtx(t), p+":{a:A1}:s:s2") // as if its retention ran out
	page, err := s.List(testCtx(t), session.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 1 || page.Items[0].Info.ID != "s1" {
		t.Fatalf("List: got %d items, want only s1", page.Total)
	}
	if ids := rc.ZRange(testCtx(t), p+":{a:A1}:all", 0, -1).Val(); len(ids) != 1 || ids[0] != "s1" {
		t.Fatalf("all index after list: got %v, want [s1]", ids)
	}
}

// TestCacheBounded: the id→account cache never grows past its size.
func TestCacheBounded(t *testing.T) {
	c := newAccountCache(10)
	for i := range 100 {
		c.put(strings.Repeat("x", i+1), "A")
		if n := c.len(); n > 10 {
			t.Fatalf("after %d puts: %d entries, want at most 10", i+1, n)
		}
	}
	c.put("hot", "A1")
	for i := range 20 {
		c.put(strings.Repeat("y", i+1), "A")
		if _, ok := c.get("hot"); !ok {
			t.Fatalf("a recently used id was evicted after %d puts", i+1)
		}
	}
}
