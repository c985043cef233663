package loadgen

import "time"

// arrival returns when request i of an open-loop run at rate requests per
// second is due, as an offset from the start of the run: i/rate seconds,
// computed from i (not by adding intervals) so rounding never drifts.
//
// Latency is measured from this time, not from when the request was
// actually sent: if the server (or the client's in-flight limit) delays
// sending, the delay is part of the latency a user would have seen. That
// is the correction for coordinated omission; a closed loop, which waits
// for each response before the next request, hides it.
func arrival(i uint64, rate float64) time.Duration {
	return time.Duration(float64(i) * (float64(time.Second) / rate))
}

// arrivalsWithin returns how many requests an open-loop run at rate
// schedules in d: those with arrival(i) < d.
func arrivalsWithin(d time.Duration, rate float64) uint64 {
	n := uint64(float64(d) / (float64(time.Second) / rate))
	for n > 0 && arrival(n-1, rate) >= d {
		n--
	}
	for arrival(n, rate) < d {
		n++
	}
	return n
}
