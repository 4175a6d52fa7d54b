package hub

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sessionhub/sessionhub/memstore"
	"github.com/sessionhub/sessionhub/session"
)

// BenchmarkBroadcast measures the broadcast path: HandleEvent encodes the
// update once and queues the same bytes to every subscriber, then each queue
// is drained as its writer would. allocs/op stays the same for 1, 100 and
// 1000 subscribers: nothing is allocated per recipient.
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			broadcast := broadcastRig(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				broadcast()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/recipient")
		})
	}
}

// TestBroadcastAllocatesNothingPerRecipient guards what BenchmarkBroadcast
// shows, in every `go test` run: broadcasting to 300 subscribers allocates no
// more than broadcasting to one. (The margin absorbs the few allocations that
// sync.Pool's random drops cause under -race; one allocation per recipient
// would be 299 more.)
func TestBroadcastAllocatesNothingPerRecipient(t *testing.T) {
	one := testing.AllocsPerRun(50, broadcastRig(t, 1))
	many := testing.AllocsPerRun(50, broadcastRig(t, 300))
	if many > one+10 {
		t.Errorf("allocations per broadcast: got %.0f for 300 subscribers and %.0f for 1, want the same: something is allocated per recipient", many, one)
	}
}

// broadcastRig makes a hub with n offline subscribers of account A and returns
// one broadcast: HandleEvent encodes an update once and queues the same bytes
// to every subscriber, then each queue is drained as its writer would.
func broadcastRig(tb testing.TB, n int) func() {
	tb.Helper()
	h := offlineHub(tb, 1<<30)
	conns := make([]*conn, n)
	for i := range conns {
		conns[i], _ = offlineConn(h, chanKey{kindAccount, "A"})
	}
	e := session.Event{
		AccountID: "A", SessionID: "s1", Version: 2, Offset: "ep:1-0",
		Changed: []string{"callState", "log"},
		Session: json.RawMessage(`{"callState":"Connected","accountId":"A","id":"s1","consoleData":"` + strings.Repeat("x", 400) + `"}`),
	}
	drain := func() {
		for _, c := range conns {
			c.mu.Lock()
			clear(c.queue)
			c.queue, c.updBytes = c.queue[:0], 0
			c.mu.Unlock()
		}
	}
	h.HandleEvent(e) // grow the queues once
	drain()
	return func() {
		h.HandleEvent(e)
		drain()
	}
}

// BenchmarkIdleConnection reports the memory one idle, subscribed connection
// costs: the server side (its goroutines, buffers and hub state) together with
// the in-process client's side, so the server's own share is below the
// figure. Run it with -benchtime=1x (each iteration opens 300 connections).
func BenchmarkIdleConnection(b *testing.B) {
	st := memstore.New(memstore.Config{})
	b.Cleanup(func() { st.Close() })
	e := newEnv(b, st, testConfig())
	tok := token(b, "u1", []string{"A"}, time.Hour)
	const n = 300
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()
	total := 0
	for range b.N {
		for i := range n {
			c := e.dial(b, tok)
			c.welcome()
			c.subscribe(fmt.Sprint(i), "account:A", "")
		}
		total += n
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	used := int64(after.HeapInuse+after.StackInuse) - int64(before.HeapInuse+before.StackInuse)
	b.ReportMetric(float64(used)/float64(total), "bytes/conn")
	b.ReportMetric(float64(runtime.NumGoroutine()-g0)/float64(total), "goroutines/conn")
}
