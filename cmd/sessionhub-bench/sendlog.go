package main

import (
	"sync"
	"sync/atomic"
)

// sendLogChunk is how many versions one chunk of a sendLog holds.
const sendLogChunk = 64

// sendLog maps a session's versions to the (scheduled) send time of the PATCH
// that made them, in nanoseconds since the bench started. The PATCH worker that
// owns the session writes an entry before it sends, so a delivery (which may
// arrive before the PATCH reply) always finds it. Readers are the thousands of
// client goroutines: a lookup is two atomic loads and takes no lock. Memory
// grows in chunks of 64 versions, about 8 bytes per PATCH.
type sendLog struct {
	base   int64 // the version stored in slot 0
	mu     sync.Mutex
	chunks atomic.Pointer[[]*[sendLogChunk]atomic.Int64]
}

func (l *sendLog) init(base int64) { l.base = base }

// set records that version v was sent at t (t > 0).
func (l *sendLog) set(v, t int64) {
	i := v - l.base
	if i < 0 {
		return
	}
	c, k := int(i/sendLogChunk), int(i%sendLogChunk)
	chunks := l.chunks.Load()
	if chunks == nil || c >= len(*chunks) {
		l.mu.Lock()
		chunks = l.chunks.Load()
		var grown []*[sendLogChunk]atomic.Int64
		if chunks != nil {
			grown = append(grown, *chunks...)
		}
		for len(grown) <= c {
			grown = append(grown, new([sendLogChunk]atomic.Int64))
		}
		l.chunks.Store(&grown)
		chunks = &grown
		l.mu.Unlock()
	}
	(*chunks)[c][k].Store(t)
}

// get returns when version v was sent, or 0 if the bench did not send it.
func (l *sendLog) get(v int64) int64 {
	i := v - l.base
	if i < 0 {
		return 0
	}
	chunks := l.chunks.Load()
	c := int(i / sendLogChunk)
	if chunks == nil || c >= len(*chunks) {
		return 0
	}
	return (*chunks)[c][i%sendLogChunk].Load()
}
