package loadgen

import (
	"testing"
	"time"
)

// The open-loop schedule is computed, not timed: these tests check the
// computation, so they cannot flake on a busy machine.

func TestArrivalSchedule(t *testing.T) {
	cases := []struct {
		rate float64
		d    time.Duration
		n    uint64 // requests due within d
	}{
		{1000, time.Second, 1000},
		{1000, 10 * time.Second, 10_000},
		{7, 3 * time.Second, 21},
		{333.3, time.Second, 334}, // due at 0, 3.0003ms, ..., 333·3.0003ms < 1s
		{50_000, 2 * time.Second, 100_000},
		{0.5, 10 * time.Second, 5},
	}
	for _, tc := range cases {
		if got := arrivalsWithin(tc.d, tc.rate); got != tc.n {
			t.Errorf("rate %v, %v: %d requests due, want %d", tc.rate, tc.d, got, tc.n)
		}
		interval := float64(time.Second) / tc.rate
		for i := uint64(0); i < tc.n; i++ {
			at := arrival(i, tc.rate)
			if at >= tc.d {
				t.Fatalf("rate %v: request %d due at %v, after the end %v", tc.rate, i, at, tc.d)
			}
			// Exactly i intervals after the start (to the nanosecond), so
			// the schedule does not drift however long the run.
			if want := float64(i) * interval; float64(at) < want-1 || float64(at) > want+1 {
				t.Fatalf("rate %v: request %d due at %v, want %v", tc.rate, i, at, time.Duration(want))
			}
			if i > 0 {
				gap := at - arrival(i-1, tc.rate)
				if float64(gap) < interval-1 || float64(gap) > interval+1 {
					t.Fatalf("rate %v: gap before request %d is %v, want %v", tc.rate, i, gap, time.Duration(interval))
				}
			}
		}
		if at := arrival(tc.n, tc.rate); at < tc.d {
			t.Errorf("rate %v: request %d due at %v, within %v, but not counted", tc.rate, tc.n, at, tc.d)
		}
	}
}
