package redisstore

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sessionhub/sessionhub/internal/redistest"
	"github.com/sessionhub/sessionhub/session"
)

// TestSlot checks slot and hashTag against what Redis Cluster documents.
func TestSlot(t *testing.T) {
	if got := crc16("123456789"); got != 0x31C3 {
		t.Fatalf("crc16 check value: got %#x, want 0x31c3", got)
	}
	if got := slot("foo"); got != 12182 { // CLUSTER KEYSLOT foo
		t.Errorf("slot(foo): got %d, want 12182", got)
	}
	for _, c := range []struct{ key, want string }{
		{"{user1000}.following", "user1000"},
		{"foo{}{bar}", "foo{}{bar}"}, // an empty tag hashes the whole key
		{"foo{{bar}}zap", "{bar"},
		{"foo{bar}{zap}", "bar"},
		{"sessionhub:{a:ACC1}:log", "a:ACC1"},
		{"sessionhub:sid:{s-1}", "s-1"},
	} {
		if got := hashTag(c.key); got != c.want {
			t.Errorf("hashTag(%q): got %q, want %q", c.key, got, c.want)
		}
	}
}

// TestScriptsOneSlot is the Cluster-safety check: every key and channel that the
// scripts touch, as MONITOR shows them on a real Redis, hashes to the slot of
// the script's account.
func TestScriptsOneSlot(t *testing.T) {
	srv := redistest.Start(t) // MONITOR on a private server sees only this test
	s := openURL(t, srv.URL(), Config{Prefix: "p"})
	ctx := context.Background()
	lines := monitor(t, srv.Addr())
	// MONITOR starts at once on its connection: the marker proves it.
	s.rdb.Get(ctx, "monitor-start")
	for l := range lines {
		if strings.Contains(l, "monitor-start") {
			break
		}
	}

	mustCreate(t, s, "s1", "acct-1")
	mustPatch(t, s, "s1", "x")
	d := session.CallDisconnected
	if _, err := s.Update(testCtx(t), "s1", session.Cond{}, "u", session.Patch{CallState: &d}.Mutation()); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, "s2", "acct-1")
	snap, err := s.AccountSnapshot(testCtx(t), "acct-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.SessionSnapshot(testCtx(t), "s2"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Replay(testCtx(t), "acct-1", snap.Offset); err != nil {
		t.Fatal(err)
	}
	s.rdb.Get(ctx, "monitor-end")

	want := slot(s.k.account("acct-1"))
	seen := 0
	for l := range lines {
		if strings.Contains(l, "monitor-end") {
			break
		}
		if !strings.Contains(l, "lua]") {
			continue
		}
		// A line is: +<time> [0 lua] "CMD" "key" ...
		f := strings.Split(l, "\"")
		if len(f) < 4 {
			continue
		}
		name, key := strings.ToUpper(f[1]), f[3]
		if name == "XINFO" && len(f) >= 6 { // XINFO STREAM <key>
			key = f[5]
		}
		seen++
		if got := slot(key); got != want {
			t.Errorf("script ran %s on %q in slot %d, want slot %d", name, key, got, want)
		}
	}
	if seen < 20 {
		t.Fatalf("saw %d script commands, want the scripts' every command", seen)
	}
}

// monitor runs MONITOR on its own connection to addr and yields its lines; the
// channel closes when the connection ends (at the latest 20s on, or with tb).
func monitor(tb testing.TB, addr string) <-chan string {
	tb.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write([]byte("MONITOR\r\n")); err != nil {
		tb.Fatal(err)
	}
	out := make(chan string, 100)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(c)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			out <- sc.Text()
		}
	}()
	return out
}
