package loadgen

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// oracle is the exact quantile of sorted samples, by the same definition
// as Histogram.Quantile: the ⌈q·n⌉-th smallest.
func oracle(sorted []time.Duration, q float64) time.Duration {
	return sorted[quantileRank(q, uint64(len(sorted)))-1]
}

func TestHistogramQuantilesAgainstSortedSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	dists := map[string]func() time.Duration{
		"uniform 0-10ms": func() time.Duration { return time.Duration(rng.Int64N(int64(10 * time.Millisecond))) },
		"exponential":    func() time.Duration { return time.Duration(rng.ExpFloat64() * float64(2*time.Millisecond)) },
		"small exact":    func() time.Duration { return time.Duration(rng.Int64N(256)) },
		"bimodal":        func() time.Duration { return time.Duration(100e3 + rng.Int64N(2)*int64(time.Second)) },
		"log-uniform": func() time.Duration {
			return time.Duration(float64(int64(1)<<rng.IntN(40)) * (1 + rng.Float64()))
		},
	}
	quantiles := []float64{0, 0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 1}
	for name, next := range dists {
		for _, n := range []int{1, 7, 1000, 100_000} {
			var h Histogram
			samples := make([]time.Duration, n)
			for i := range samples {
				samples[i] = next()
				h.Record(samples[i])
			}
			slices.Sort(samples)
			if h.Count() != uint64(n) {
				t.Fatalf("%s n=%d: Count() = %d, want %d", name, n, h.Count(), n)
			}
			if h.Min() != samples[0] || h.Max() != samples[n-1] {
				t.Errorf("%s n=%d: Min, Max = %v, %v, want %v, %v", name, n, h.Min(), h.Max(), samples[0], samples[n-1])
			}
			for _, q := range quantiles {
				got, want := h.Quantile(q), oracle(samples, q)
				// Reported as its bucket's upper bound: never below the true
				// value, at most 1/histSub above.
				if got < want || float64(got-want) > float64(want)/histSub {
					t.Errorf("%s n=%d: Quantile(%v) = %v, want %v (+%.2f%% at most)", name, n, q, got, want, 100.0/histSub)
				}
			}
		}
	}
}

func TestHistogramBucketsAreContiguous(t *testing.T) {
	// Every value maps to a bucket whose upper bound is ≥ it, and the next
	// bucket starts right after: no gaps, no overlaps.
	for i := 0; i < histBuckets-1; i++ {
		hi := bucketHigh(i)
		if bucketOf(hi) != i || bucketOf(hi+1) != i+1 {
			t.Fatalf("bucket %d: high %d maps to %d, high+1 to %d", i, hi, bucketOf(hi), bucketOf(hi+1))
		}
	}
	if got := bucketOf(histMax); got != histBuckets-1 {
		t.Errorf("bucketOf(histMax) = %d, want %d", got, histBuckets-1)
	}
	if got := bucketOf(1 << 62); got != histBuckets-1 {
		t.Errorf("bucketOf(2^62) = %d, want the last bucket %d", got, histBuckets-1)
	}
}

func TestHistogramMergeAndEdges(t *testing.T) {
	var a, b, all Histogram
	if a.Quantile(0.5) != 0 || a.Mean() != 0 {
		t.Errorf("empty histogram: Quantile, Mean = %v, %v, want 0, 0", a.Quantile(0.5), a.Mean())
	}
	for i := range 1000 {
		d := time.Duration(i) * time.Microsecond
		if i%2 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
		all.Record(d)
	}
	a.Merge(&b)
	if a != all {
		t.Errorf("merged histogram differs from one that recorded everything")
	}
	a.Record(-time.Second)
	if a.Min() != 0 {
		t.Errorf("negative sample: Min() = %v, want 0", a.Min())
	}
	a.Reset()
	if a.Count() != 0 {
		t.Errorf("after Reset: Count() = %d, want 0", a.Count())
	}
}
