package main

import (
	"sync"
	"testing"
)

func TestSendLog(t *testing.T) {
	var l sendLog
	l.init(5)
	for v := int64(5); v < 5+3*sendLogChunk+7; v++ {
		l.set(v, v*10)
	}
	for v := int64(5); v < 5+3*sendLogChunk+7; v++ {
		if got, want := l.get(v), v*10; got != want {
			t.Fatalf("get(%d) = %d, want %d", v, got, want)
		}
	}
	for _, v := range []int64{0, 4, -1, 5 + 3*sendLogChunk + 7, 1 << 40} {
		if got := l.get(v); got != 0 {
			t.Errorf("get(%d) = %d, want 0 for a version never sent", v, got)
		}
	}
	l.set(3, 99) // below base: ignored
	if got := l.get(3); got != 0 {
		t.Errorf("get(3) after set below base = %d, want 0", got)
	}
}

// TestSendLogConcurrentReaders: readers run while the writer grows the log
// (run with -race).
func TestSendLogConcurrentReaders(t *testing.T) {
	var l sendLog
	l.init(1)
	const n = 20 * sendLogChunk
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for v := int64(1); v <= n; v++ {
				if got := l.get(v); got != 0 && got != v {
					t.Errorf("get(%d) = %d, want 0 or %d", v, got, v)
					return
				}
			}
		})
	}
	for v := int64(1); v <= n; v++ {
		l.set(v, v)
	}
	wg.Wait()
	if got := l.get(n); got != n {
		t.Errorf("get(%d) = %d after all sets, want %d", n, got, n)
	}
}
