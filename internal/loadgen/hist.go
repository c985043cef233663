package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// Histogram records durations in a log-linear layout (as HdrHistogram
// does): values below 2·histSub nanoseconds are counted exactly; above,
// each power-of-two range is split into histSub equal buckets, so a
// reported value is at most 1/histSub (0.8%) above the recorded one.
// Memory is fixed (histBuckets counters) whatever the number of samples.
// Values above histMax are counted as histMax.
//
// The zero value is ready to use. A Histogram is not safe for concurrent
// use; the runner guards it.
type Histogram struct {
	counts   [histBuckets]uint64
	n        uint64
	sum      uint64 // nanoseconds; wraps only after 584 years of samples
	min, max uint64
}

const (
	histSubBits = 7
	histSub     = 1 << histSubBits // buckets per power of two
	histMaxExp  = 43 - histSubBits // largest shift: values up to 2^44 ns (~4.9 h)
	histBuckets = (histMaxExp + 2) * histSub
	histMax     = uint64(1)<<(histMaxExp+histSubBits+1) - 1
)

// bucketOf returns the index of the bucket that counts v.
func bucketOf(v uint64) int {
	if v > histMax {
		v = histMax
	}
	if v < 2*histSub {
		return int(v)
	}
	e := bits.Len64(v) - (histSubBits + 1) // ≥ 1
	m := v >> e                            // in [histSub, 2·histSub)
	return (e+1)*histSub + int(m) - histSub
}

// bucketHigh returns the largest value counted by bucket i.
func bucketHigh(i int) uint64 {
	if i < 2*histSub {
		return uint64(i)
	}
	e := i/histSub - 1
	m := uint64(i%histSub + histSub)
	return (m+1)<<e - 1
}

// Record counts one duration; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += v
}

// Merge adds every sample of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// Reset forgets every sample.
func (h *Histogram) Reset() { *h = Histogram{} }

// Count returns the number of samples.
func (h *Histogram) Count() uint64 { return h.n }

// Max returns the largest sample (exact), or 0 if there are none.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Min returns the smallest sample (exact), or 0 if there are none.
func (h *Histogram) Min() time.Duration { return time.Duration(h.min) }

// Mean returns the average sample, or 0 if there are none.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / h.n)
}

// Quantile returns the sample at quantile q in [0, 1]: the smallest
// recorded value v such that at least ⌈q·n⌉ samples are ≤ v, reported as
// the upper bound of its bucket (clamped to the exact min and max). It
// returns 0 if there are no samples.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := quantileRank(q, h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(max(bucketHigh(i), h.min), h.max))
		}
	}
	return time.Duration(h.max)
}

// quantileRank returns ⌈q·n⌉ clamped to [1, n], tolerant of the float
// noise in products such as 0.99·100.
func quantileRank(q float64, n uint64) uint64 {
	rank := uint64(math.Ceil(q*float64(n) - 1e-9))
	return min(max(rank, 1), n)
}
