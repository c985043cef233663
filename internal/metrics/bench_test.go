package metrics

import (
	"testing"
	"time"
)

// BenchmarkObserveRequest is the per-request cost on the hot path: one
// counter increment and one histogram observation, each with a label
// lookup.
func BenchmarkObserveRequest(b *testing.B) {
	r := New()
	b.ReportAllocs()
	for b.Loop() {
		r.ObserveRequest("Encrypt", "", false, 3*time.Millisecond)
	}
}

func BenchmarkObserveRequestParallel(b *testing.B) {
	r := New()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.ObserveRequest("Encrypt", "", false, 3*time.Millisecond)
		}
	})
}

// BenchmarkCounterHistogramCached is the cost when the caller keeps the
// resolved series.
func BenchmarkCounterHistogramCached(b *testing.B) {
	r := New()
	c := r.requests.With("Encrypt", OutcomeSuccess, "")
	h := r.requestDuration.With("Encrypt")
	for b.Loop() {
		c.Inc()
		h.Observe(3 * time.Millisecond)
	}
}

func BenchmarkScrape(b *testing.B) {
	r := New()
	for _, op := range []string{"Encrypt", "Decrypt", "GenerateDataKey", "Sign", "Verify", "CreateKey", "DescribeKey"} {
		r.ObserveRequest(op, "", false, time.Millisecond)
		r.ObserveRequest(op, "NotFoundException", false, time.Millisecond)
	}
	w := discard{}
	b.ReportAllocs()
	for b.Loop() {
		_ = r.WriteTo(b.Context(), w)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
