package quota

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkAllowHot is every goroutine spending from one bucket, with the
// real clock; the rate is so high that every call succeeds and writes.
func BenchmarkAllowHot(b *testing.B) {
	l, err := New(Config{Enabled: true, Overrides: map[Category]float64{Symmetric: MaxRate}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Allow("111122223333", Symmetric)
		}
	})
}

// BenchmarkAllowAtHot is BenchmarkAllowHot with the time supplied by the
// caller, as the HTTP layer does with the request's start time.
func BenchmarkAllowAtHot(b *testing.B) {
	l, err := New(Config{Enabled: true, Overrides: map[Category]float64{Symmetric: MaxRate}})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.AllowAt("111122223333", Symmetric, now)
		}
	})
}

// BenchmarkAllowAtHotThrottled is the same bucket, empty: every call is
// refused (the path of an account being throttled).
func BenchmarkAllowAtHotThrottled(b *testing.B) {
	l, err := New(Config{Enabled: true})
	if err != nil {
		b.Fatal(err)
	}
	c, now := CategoryFor("CreateKey", ""), time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.AllowAt("111122223333", c, now)
		}
	})
}

// BenchmarkAllowAtManyAccounts spreads calls over n existing accounts. With
// many accounts it measures cache misses (map, key, bucket) more than the
// limiter.
func BenchmarkAllowAtManyAccounts(b *testing.B) {
	for _, n := range []int{1000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			l, err := New(Config{Enabled: true})
			if err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			accounts := make([]string, n)
			for i := range accounts {
				accounts[i] = fmt.Sprintf("%012d", i)
				l.AllowAt(accounts[i], Symmetric, now)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					l.AllowAt(accounts[i%n], Symmetric, now)
					i += 7919 // a prime stride: goroutines do not march in step
				}
			})
		})
	}
}

// BenchmarkAllowNewAccounts is the insertion path: every call is a new
// bucket, and the old ones go idle, so each insertion also sweeps.
func BenchmarkAllowNewAccounts(b *testing.B) {
	const n = 1 << 16
	clk := &fakeClock{}
	l, err := New(Config{Enabled: true, Now: clk.Now})
	if err != nil {
		b.Fatal(err)
	}
	accounts := make([]string, n)
	for i := range accounts {
		accounts[i] = fmt.Sprintf("%012d", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i%n == 0 {
			clk.Advance(2 * IdleTimeout)
		}
		l.Allow(accounts[i%n], Symmetric)
	}
	b.StopTimer()
	if l.Len() > 2*n {
		b.Fatalf("Len = %d", l.Len())
	}
}
