// Package metrics owns OpenKMS's operational metrics and their exposition in
// the Prometheus text format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/), without
// dependencies.
//
// Every metric OpenKMS exports is defined here, in New. The request path
// pays a few atomic adds and a lock-free map lookup per request (no
// allocation for a label set seen before); values that other components
// already keep (audit statistics, key counts) are read by callbacks at
// scrape time.
//
// A nil *Registry is valid and records nothing, so callers need no
// "metrics enabled" branches.
package metrics

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/openkms/openkms/internal/audit"
)

// latencyBounds are the buckets of the request and storage histograms:
// 100 µs to 5 s.
var latencyBounds = []time.Duration{
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second,
}

// Request outcomes, the values of the outcome label.
const (
	OutcomeSuccess     = "success"
	OutcomeClientError = "client_error"
	OutcomeServerError = "server_error"
)

// KeyStatesTTL is how long a key count from the SetKeyStates callback is
// reused. Counting keys reads every key record, and /metrics is usually
// unauthenticated: the cache keeps a burst of scrapes from becoming a burst
// of full scans.
const KeyStatesTTL = 10 * time.Second

// keyStateTimeout bounds one call of the key count callback.
const keyStateTimeout = 5 * time.Second

// alwaysStates are the key states exported even when no key is in them, so
// that dashboards and alerts see 0 rather than no data.
var alwaysStates = []string{"Enabled", "Disabled", "PendingDeletion", "PendingImport", "Unavailable"}

// Registry holds the metrics of one OpenKMS server. It is safe for
// concurrent use. The zero value is not usable: call New.
type Registry struct {
	set

	requests        *CounterVec
	requestDuration *HistogramVec
	storageView     *Histogram
	storageUpdate   *Histogram
	scrapeErrors    *CounterVec
	byOp            cowMap[*opSeries]

	keys  keyStates
	audit auditStats
}

// New returns a Registry with every OpenKMS metric defined:
//
//	openkms_requests_total{operation,outcome,error_code}   counter
//	openkms_request_duration_seconds{operation}            histogram
//	openkms_storage_operation_seconds{op="view"|"update"}  histogram
//	openkms_keys{state}                                    gauge (SetKeyStates)
//	openkms_audit_*                                        (SetAuditStats)
//	openkms_metrics_collect_errors_total{collector}        counter
func New() *Registry {
	r := &Registry{}
	r.requests = r.counterVec("openkms_requests_total",
		"KMS API requests by operation and outcome (success, client_error, server_error) and AWS error code.",
		"operation", "outcome", "error_code")
	r.requestDuration = r.histogramVec("openkms_request_duration_seconds",
		"Time to serve a KMS API request, audit record included.", latencyBounds, "operation")
	storage := r.histogramVec("openkms_storage_operation_seconds",
		"Duration of storage transactions (update includes the commit and its fsync).", latencyBounds, "op")
	r.storageView, r.storageUpdate = storage.With("view"), storage.With("update")
	r.keys.reg = r
	r.register(&r.keys, "openkms_keys")
	r.register(&r.audit, auditNames...)
	r.scrapeErrors = r.counterVec("openkms_metrics_collect_errors_total",
		"Scrape-time collectors that failed (their metrics were left out of that scrape).", "collector")
	return r
}

// ObserveRequest counts one KMS API request and its duration. operation
// must come from a bounded set (the route table; use "unknown" for names
// not in it). errorCode is the AWS error code sent, "" on success;
// serverFault tells a server error from a client error. Safe for
// concurrent use; does not allocate for a label set seen before.
func (r *Registry) ObserveRequest(operation, errorCode string, serverFault bool, d time.Duration) {
	if r == nil {
		return
	}
	outcome := OutcomeSuccess
	switch {
	case errorCode == "":
	case serverFault:
		outcome = OutcomeServerError
	default:
		outcome = OutcomeClientError
	}
	op := r.byOp.get(operation, r.newOpSeries)
	op.duration.Observe(d)
	if outcome == OutcomeSuccess {
		op.success.Inc()
		return
	}
	errs := &op.clientErrors
	if serverFault {
		errs = &op.serverErrors
	}
	errs.get(errorCode, func(code string) *Counter { return r.requests.With(operation, outcome, code) }).Inc()
}

// opSeries caches the series of one operation, so that a request costs one
// lookup by operation name (none of the label-key building of a vec).
type opSeries struct {
	duration *Histogram
	success  *Counter
	// by error code
	clientErrors, serverErrors cowMap[*Counter]
}

func (r *Registry) newOpSeries(op string) *opSeries {
	return &opSeries{duration: r.requestDuration.With(op), success: r.requests.With(op, OutcomeSuccess, "")}
}

// SetKeyStates installs the callback behind openkms_keys{state}: the number
// of keys in each key state (Enabled, Disabled, PendingDeletion, ...). It
// is called at scrape time, at most once per KeyStatesTTL, with a context
// bounded to a few seconds. On a shared store every node reports the same
// counts (aggregate with max, not sum).
func (r *Registry) SetKeyStates(fn func(ctx context.Context) (map[string]int, error)) {
	if r == nil {
		return
	}
	r.keys.mu.Lock()
	r.keys.fn, r.keys.at = fn, time.Time{}
	r.keys.mu.Unlock()
}

// SetAuditStats installs the callback behind the openkms_audit_* metrics,
// typically (*audit.Logger).Stats. Without it they are not exported.
func (r *Registry) SetAuditStats(fn func() audit.Stats) {
	if r == nil {
		return
	}
	r.audit.mu.Lock()
	r.audit.fn = fn
	r.audit.mu.Unlock()
}

// WriteTo writes every metric in the text exposition format. Callbacks run
// with ctx.
func (r *Registry) WriteTo(ctx context.Context, w io.Writer) error {
	out := &writer{b: make([]byte, 0, 16<<10)}
	for _, c := range r.collectors() {
		c.collect(ctx, out)
	}
	_, err := w.Write(out.b)
	return err
}

// Handler serves the metrics on GET (and HEAD); other methods get 405.
// It does not authenticate: expose it only where scrapers are allowed
// (see the server's "metrics" setting).
func (r *Registry) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", ContentType)
		w.Header().Set("Cache-Control", "no-store")
		if req.Method == http.MethodHead {
			return
		}
		_ = r.WriteTo(req.Context(), w)
	})
}

// keyStates is the openkms_keys family, from a cached callback.
type keyStates struct {
	reg *Registry
	mu  sync.Mutex // held across the callback: concurrent scrapes share one call
	fn  func(context.Context) (map[string]int, error)
	at  time.Time
	n   map[string]int
	err error
}

func (k *keyStates) collect(ctx context.Context, w *writer) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fn == nil {
		return
	}
	if k.at.IsZero() || time.Since(k.at) >= KeyStatesTTL {
		cctx, cancel := context.WithTimeout(ctx, keyStateTimeout)
		k.n, k.err = k.fn(cctx)
		cancel()
		k.at = time.Now()
		if k.err != nil {
			k.reg.scrapeErrors.With("keys").Inc()
		}
	}
	w.header("openkms_keys", "Keys by key state (from storage; refreshed at most every 10s).", "gauge")
	if k.err != nil {
		return
	}
	states := make([]string, 0, len(alwaysStates)+len(k.n))
	states = append(states, alwaysStates...)
	for s := range k.n {
		if !slices.Contains(alwaysStates, s) {
			states = append(states, s)
		}
	}
	slices.Sort(states)
	for _, s := range states {
		w.sample("openkms_keys", "", []string{"state"}, []string{s}, "", "", float64(k.n[s]))
	}
}

// auditStats is the openkms_audit_* families, from one audit.Stats
// snapshot per scrape.
type auditStats struct {
	mu sync.Mutex
	fn func() audit.Stats
}

var auditNames = []string{
	"openkms_audit_queue_depth", "openkms_audit_queue_capacity", "openkms_audit_last_seq",
	"openkms_audit_queue_full_total", "openkms_audit_records_total", "openkms_audit_digests_total",
	"openkms_audit_batches_total", "openkms_audit_bytes_total", "openkms_audit_rotations_total",
	"openkms_audit_write_failures_total", "openkms_audit_failed_records_total",
	"openkms_audit_rejected_total", "openkms_audit_dropped_total", "openkms_audit_suppressed_logs_total",
	"openkms_audit_write_seconds",
}

func (a *auditStats) collect(_ context.Context, w *writer) {
	a.mu.Lock()
	fn := a.fn
	a.mu.Unlock()
	if fn == nil {
		return
	}
	s := fn()
	one := func(name, help, typ string, v float64) {
		w.header(name, help, typ)
		w.sample(name, "", nil, nil, "", "", v)
	}
	one("openkms_audit_queue_depth", "Audit records waiting for the writer.", "gauge", float64(s.QueueDepth))
	one("openkms_audit_queue_capacity", "Capacity of the audit queue.", "gauge", float64(s.QueueCapacity))
	one("openkms_audit_last_seq", "Sequence number of the last audit record written.", "gauge", float64(s.LastSeq))
	one("openkms_audit_queue_full_total", "Audit Log calls that found the queue full and waited.", "counter", float64(s.QueueFull))
	one("openkms_audit_records_total", "Audit event records written.", "counter", float64(s.Records))
	one("openkms_audit_digests_total", "Signed audit digest records written.", "counter", float64(s.Digests))
	one("openkms_audit_batches_total", "Audit group commits.", "counter", float64(s.Batches))
	one("openkms_audit_bytes_total", "Bytes written to the audit sink.", "counter", float64(s.Bytes))
	one("openkms_audit_rotations_total", "Audit files closed by rotation.", "counter", float64(s.Rotations))
	one("openkms_audit_write_failures_total", "Failed audit sink writes or syncs.", "counter", float64(s.WriteFailures))
	one("openkms_audit_failed_records_total", "Audit records whose batch failed.", "counter", float64(s.FailedRecords))
	one("openkms_audit_rejected_total", "Requests failed because their audit record could not be written (fail-closed).", "counter", float64(s.Rejected))
	one("openkms_audit_dropped_total", "Audit records lost without an error to the caller (fail-open, or async durability).", "counter", float64(s.Dropped))
	one("openkms_audit_suppressed_logs_total", "Audit error logs suppressed by rate limiting.", "counter", float64(s.SuppressedLogs))
	w.header("openkms_audit_write_seconds", "Duration of one audit batch write (and fsync under sync durability).", "histogram")
	h := HistogramSnapshot{Count: s.WriteLatency.Count, Sum: s.WriteLatency.Sum}
	for _, b := range s.WriteLatency.Buckets {
		h.Buckets = append(h.Buckets, Bucket{UpperBound: b.UpperBound, Count: b.Count})
	}
	if n := len(h.Buckets); n > 0 {
		h.Count = h.Buckets[n-1].Count // fields are read one by one: keep _count == +Inf bucket
	}
	w.histogram("openkms_audit_write_seconds", nil, nil, h)
}
