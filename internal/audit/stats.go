package audit

import (
	"sync/atomic"
	"time"
)

// latencyBounds are the upper bounds of the write latency histogram buckets
// (write plus fsync of one batch).
var latencyBounds = []time.Duration{
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond,
}

// Stats is a snapshot of a Logger's counters, shaped for metrics export
// (counters only ever increase).
type Stats struct {
	// QueueDepth and QueueCapacity: records waiting for the writer.
	QueueDepth, QueueCapacity int
	// QueueFull counts Log calls that found the queue full and waited.
	QueueFull uint64
	// Records, Digests: records written (and synced, under sync durability).
	Records, Digests uint64
	// Batches counts group commits; Records/Batches is the mean batch size.
	Batches uint64
	// Bytes written, newlines included.
	Bytes uint64
	// Rotations counts files closed by rotation.
	Rotations uint64
	// WriteFailures counts failed sink writes or syncs.
	WriteFailures uint64
	// FailedRecords counts records whose batch failed.
	FailedRecords uint64
	// Rejected counts Log calls that returned an error (fail-closed).
	Rejected uint64
	// Dropped counts records lost without an error to their caller:
	// fail-open, or acknowledged under async durability and then lost to a
	// failed fsync.
	Dropped uint64
	// SuppressedLogs counts error messages not logged by rate limiting.
	SuppressedLogs uint64
	// LastSeq is the seq of the last record written.
	LastSeq uint64
	// WriteLatency is the histogram of batch write (+fsync) durations.
	WriteLatency Histogram
}

// Histogram is a cumulative latency histogram, as Prometheus exports one.
type Histogram struct {
	// Buckets are cumulative: Buckets[i].Count counts observations
	// <= Buckets[i].UpperBound. The last bucket's bound is 0, meaning +Inf.
	Buckets []Bucket
	Count   uint64
	Sum     time.Duration
}

// Bucket is one histogram bucket.
type Bucket struct {
	UpperBound time.Duration // 0 means +Inf
	Count      uint64
}

type stats struct {
	capacity                             int
	queueFull, records, digests, batches atomic.Uint64
	bytes, rotations, writeFailures      atomic.Uint64
	failedRecords, rejected, dropped     atomic.Uint64
	suppressed, lastSeq                  atomic.Uint64
	latency                              []atomic.Uint64 // per bucket, not cumulative; last is +Inf
	latencyCount, latencySum             atomic.Uint64
}

func (s *stats) init(capacity int) {
	s.capacity = capacity
	s.latency = make([]atomic.Uint64, len(latencyBounds)+1)
}

func (s *stats) observe(d time.Duration) {
	i := 0
	for i < len(latencyBounds) && d > latencyBounds[i] {
		i++
	}
	s.latency[i].Add(1)
	s.latencyCount.Add(1)
	s.latencySum.Add(uint64(d))
}

// Stats returns a snapshot of the counters. It is safe for concurrent use;
// the fields are read one by one, not as one atomic snapshot.
func (l *Logger) Stats() Stats {
	s := &l.st
	out := Stats{
		QueueDepth:     len(l.queue),
		QueueCapacity:  s.capacity,
		QueueFull:      s.queueFull.Load(),
		Records:        s.records.Load(),
		Digests:        s.digests.Load(),
		Batches:        s.batches.Load(),
		Bytes:          s.bytes.Load(),
		Rotations:      s.rotations.Load(),
		WriteFailures:  s.writeFailures.Load(),
		FailedRecords:  s.failedRecords.Load(),
		Rejected:       s.rejected.Load(),
		Dropped:        s.dropped.Load(),
		SuppressedLogs: s.suppressed.Load(),
		LastSeq:        s.lastSeq.Load(),
	}
	var cum uint64
	for i := range s.latency {
		cum += s.latency[i].Load()
		var ub time.Duration
		if i < len(latencyBounds) {
			ub = latencyBounds[i]
		}
		out.WriteLatency.Buckets = append(out.WriteLatency.Buckets, Bucket{UpperBound: ub, Count: cum})
	}
	out.WriteLatency.Count = s.latencyCount.Load()
	out.WriteLatency.Sum = time.Duration(s.latencySum.Load())
	return out
}
