package main

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram geometry: log-linear buckets in the manner of HdrHistogram. Values
// below 2*histSub are exact; above, each power of two is split into histSub
// linear buckets, so a bucket is at most 1/histSub (0.8 %) of its value wide.
// Values are nanoseconds; anything past histMaxValue (about 4.9 hours) lands in
// the top bucket, and the exact maximum is kept beside the buckets.
const (
	histSubBits  = 7
	histSub      = 1 << histSubBits
	histMaxShift = 36
	histBuckets  = (histMaxShift + 2) * histSub
	histMaxValue = int64(2*histSub)<<histMaxShift - 1
)

// Histogram records latencies in fixed memory (about 40 KB) and answers
// percentiles to within one bucket. Record is safe for concurrent use and
// does not allocate; the counters are atomics so readers see a recent state.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
	total  atomic.Uint64
	max    atomic.Int64
	min    atomic.Int64 // stored as value+1 so that zero means "none yet"
}

// histIndex returns the bucket of v (v >= 0).
func histIndex(v int64) int {
	if v > histMaxValue {
		v = histMaxValue
	}
	u := uint64(v)
	shift := bits.Len64(u) - histSubBits - 1
	if shift < 0 {
		shift = 0
	}
	return shift*histSub + int(u>>uint(shift))
}

// histBounds returns the smallest and largest value that fall in bucket i.
func histBounds(i int) (lo, hi int64) {
	shift := 0
	sub := i
	if i >= 2*histSub {
		shift = i/histSub - 1
		sub = i - shift*histSub
	}
	lo = int64(sub) << uint(shift)
	hi = lo + int64(1)<<uint(shift) - 1
	return lo, hi
}

// Record adds one value; negative values count as zero.
func (h *Histogram) Record(v int64) {
	if v < 0 {
		v = 0
	}
	h.counts[histIndex(v)].Add(1)
	h.total.Add(1)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			break
		}
	}
	for {
		m := h.min.Load()
		if (m != 0 && v+1 >= m) || h.min.CompareAndSwap(m, v+1) {
			break
		}
	}
}

// RecordDuration records d in nanoseconds.
func (h *Histogram) RecordDuration(d time.Duration) { h.Record(int64(d)) }

// Count is the number of values recorded.
func (h *Histogram) Count() uint64 { return h.total.Load() }

// Max is the largest value recorded (0 when empty).
func (h *Histogram) Max() int64 { return h.max.Load() }

// Min is the smallest value recorded (0 when empty).
func (h *Histogram) Min() int64 {
	if m := h.min.Load(); m > 0 {
		return m - 1
	}
	return 0
}

// Merge adds o's values into h. Concurrent records into o may or may not be
// included.
func (h *Histogram) Merge(o *Histogram) {
	var n uint64
	for i := range o.counts {
		if c := o.counts[i].Load(); c > 0 {
			h.counts[i].Add(c)
			n += c
		}
	}
	if n == 0 {
		return
	}
	h.total.Add(n)
	if m := o.Max(); m > h.max.Load() {
		h.max.Store(m)
	}
	if m := o.min.Load(); m > 0 && (h.min.Load() == 0 || m < h.min.Load()) {
		h.min.Store(m)
	}
}

// Percentile returns the value below which q percent (0..100) of the recorded
// values fall: the middle of the bucket that holds the value of that rank,
// clamped to the recorded minimum and maximum. It is 0 when empty.
func (h *Histogram) Percentile(q float64) int64 {
	var total uint64
	for i := range h.counts {
		total += h.counts[i].Load()
	}
	if total == 0 {
		return 0
	}
	q = math.Max(0, math.Min(100, q))
	// rank is 1-based: the smallest value with at least q% of values at or below it.
	rank := uint64(math.Ceil(q / 100 * float64(total)))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			lo, hi := histBounds(i)
			v := lo + (hi-lo)/2
			if mx := h.Max(); v > mx {
				v = mx
			}
			if mn := h.Min(); v < mn {
				v = mn
			}
			return v
		}
	}
	return h.Max()
}

// ShardedHistogram spreads concurrent writers over several histograms so that
// thousands of client goroutines do not all hit the same cache lines.
type ShardedHistogram struct {
	shards []Histogram
}

// NewShardedHistogram returns n shards (at least 1).
func NewShardedHistogram(n int) *ShardedHistogram {
	if n < 1 {
		n = 1
	}
	return &ShardedHistogram{shards: make([]Histogram, n)}
}

// Record adds v to the shard chosen by key (e.g. a client index).
func (s *ShardedHistogram) Record(key int, v int64) {
	s.shards[uint(key)%uint(len(s.shards))].Record(v)
}

// Snapshot merges every shard into a new Histogram.
func (s *ShardedHistogram) Snapshot() *Histogram {
	h := new(Histogram)
	for i := range s.shards {
		h.Merge(&s.shards[i])
	}
	return h
}
