package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// referencePercentile is the nearest-rank percentile of sorted values.
func referencePercentile(sorted []int64, q float64) int64 {
	rank := int(math.Ceil(q / 100 * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

func TestHistogramPercentilesMatchSortedReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dists := map[string]func() int64{
		"uniform small": func() int64 { return rng.Int64N(200) },
		"uniform wide":  func() int64 { return rng.Int64N(10_000_000_000) },
		"lognormal":     func() int64 { return int64(math.Exp(rng.NormFloat64()*1.5 + 13)) },
		"bimodal": func() int64 {
			if rng.IntN(100) == 0 {
				return 500_000_000 + rng.Int64N(1_000_000)
			}
			return 100_000 + rng.Int64N(50_000)
		},
	}
	for name, next := range dists {
		t.Run(name, func(t *testing.T) {
			var h Histogram
			vals := make([]int64, 20000)
			for i := range vals {
				vals[i] = next()
				h.Record(vals[i])
			}
			slices.Sort(vals)
			for _, q := range []float64{0, 1, 50, 90, 99, 99.9, 99.99, 100} {
				got, want := h.Percentile(q), referencePercentile(vals, q)
				// One bucket is at most 1/128 of its value wide (exact below 256).
				tol := want/histSub + 1
				if d := got - want; d > tol || d < -tol {
					t.Errorf("p%v = %d, want %d ± %d", q, got, want, tol)
				}
			}
			if got, want := h.Max(), vals[len(vals)-1]; got != want {
				t.Errorf("Max = %d, want %d", got, want)
			}
			if got, want := h.Min(), vals[0]; got != want {
				t.Errorf("Min = %d, want %d", got, want)
			}
			if got, want := h.Count(), uint64(len(vals)); got != want {
				t.Errorf("Count = %d, want %d", got, want)
			}
		})
	}
}

func TestHistogramBuckets(t *testing.T) {
	// Every value falls in a bucket whose bounds contain it, indexes grow with
	// values, and the bucket width stays within the promised precision.
	prev := -1
	for _, v := range []int64{0, 1, 127, 128, 255, 256, 257, 511, 512, 1000, 1 << 20, 1<<20 + 1, 123456789, histMaxValue - 1, histMaxValue} {
		i := histIndex(v)
		if i < prev || i >= histBuckets {
			t.Fatalf("histIndex(%d) = %d (previous %d, %d buckets)", v, i, prev, histBuckets)
		}
		prev = i
		lo, hi := histBounds(i)
		if v < lo || v > hi {
			t.Errorf("value %d in bucket %d with bounds [%d, %d]", v, i, lo, hi)
		}
		if w := hi - lo + 1; v >= 2*histSub && w > v/histSub+1 {
			t.Errorf("bucket of %d is %d wide, want at most %d", v, w, v/histSub+1)
		}
	}
	if got, want := histIndex(math.MaxInt64), histBuckets-1; got != want {
		t.Errorf("histIndex(MaxInt64) = %d, want the top bucket %d", got, want)
	}
}

func TestHistogramEmptyAndNegative(t *testing.T) {
	var h Histogram
	if got := h.Percentile(99); got != 0 {
		t.Errorf("empty p99 = %d, want 0", got)
	}
	h.Record(-5)
	if got := h.Percentile(50); got != 0 {
		t.Errorf("p50 after recording -5 = %d, want 0 (negatives clamp)", got)
	}
}

func TestShardedHistogramConcurrent(t *testing.T) {
	s := NewShardedHistogram(4)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				s.Record(g, int64(i))
			}
		})
	}
	wg.Wait()
	h := s.Snapshot()
	if got, want := h.Count(), uint64(8000); got != want {
		t.Errorf("Count = %d, want %d", got, want)
	}
	if got, want := h.Max(), int64(999); got != want {
		t.Errorf("Max = %d, want %d", got, want)
	}
	if got, want := h.Percentile(50), int64(499); got < want-1 || got > want {
		t.Errorf("p50 = %d, want %d (or the bottom of its 2-wide bucket)", got, want)
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	var h Histogram
	b.ReportAllocs()
	var v int64
	for b.Loop() {
		v = (v + 7919) % 1_000_000_000
		h.Record(v)
	}
}
