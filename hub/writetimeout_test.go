package hub

import (
	"context"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sessionhub/sessionhub/session"
)

// TestWriteTimeoutCloses subscribes a client that then never reads, with a
// tiny receive buffer, and sends it more than the sockets hold: its writes
// block, and the janitor drops it once one has taken longer than WriteTimeout
// (long before a ping could time out, and without a queue overflow).
func TestWriteTimeoutCloses(t *testing.T) {
	st := openMemstore(t)
	cfg := testConfig()
	cfg.WriteTimeout = 300 * time.Millisecond
	cfg.PingInterval = 200 * time.Millisecond // the janitor looks every 50ms
	cfg.PongTimeout = time.Minute
	cfg.QueueBytes = 64 << 20
	e := newEnv(t, st, cfg)

	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	nc, err := d.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write(upgradeRequest(e.srv.URL, token(t, "u1", []string{"A"}, time.Hour))); err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Write(clientFrame(0x81, `{"type":"subscribe","id":"1","channel":"account:A"}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the subscription", func() bool { return e.hub.Stats().Subscriptions == 1 })

	data := strings.Repeat("d", 60<<10)
	for i := range 150 {
		info, err := session.New(session.Info{ID: fmt.Sprint("s", i), AccountID: "A", CallState: session.CallRinging, ConsoleData: data}, "t", time.Now(), session.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Create(context.Background(), info); err != nil {
			t.Fatal(err)
		}
		if e.hub.Stats().Connections == 0 {
			break
		}
	}
	waitFor(t, "the stalled connection to be dropped", func() bool { return e.hub.Stats().Connections == 0 })
	if st := e.hub.Stats(); st.WriteTimeouts != 1 || st.PingTimeouts != 0 || st.SlowClosed != 0 {
		t.Errorf("got %d write timeouts, %d ping timeouts and %d slow-closed, want the write timeout (only) to have closed it", st.WriteTimeouts, st.PingTimeouts, st.SlowClosed)
	}
}
