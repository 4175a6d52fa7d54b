package hub

import (
	"strings"
	"testing"
	"time"

	"github.com/sessionhub/sessionhub/memstore"
)

// TestUpgradeKeepsReadAheadBytes sends the upgrade request and the first
// command in one TCP write, so net/http has read the command's frame along
// with the headers when the connection is hijacked. Those bytes must reach
// the WebSocket reader: losing even one turns the frame into garbage (the
// server then closes with 1002, or waits forever for the rest).
func TestUpgradeKeepsReadAheadBytes(t *testing.T) {
	st := memstore.New(memstore.Config{})
	t.Cleanup(func() { st.Close() })
	env := newEnv(t, st, testConfig())

	_, br := env.rawUpgrade(t, token(t, "u1", []string{"A"}, time.Hour), clientFrame(0x81, `{"type":"ping","id":"early"}`))
	var got []string
	for len(got) < 2 {
		op, p := readServerFrame(t, br)
		if op == 0x8 {
			t.Fatalf("server closed the connection: % x (messages so far %q)", p, got)
		}
		if op != 0x1 {
			continue
		}
		got = append(got, strings.Split(string(p), "\n")...)
	}
	if !strings.Contains(got[0], `"type":"welcome"`) || got[1] != `{"type":"pong","id":"early"}` {
		t.Fatalf("got messages %q, want welcome then the pong of the command sent with the upgrade", got)
	}
}
