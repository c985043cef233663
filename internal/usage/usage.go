// Package usage tracks the last successful cryptographic use of each KMS
// key: what GetKeyLastUsage returns and what the condition key
// kms:TrailingDaysWithoutKeyUsage is computed from.
//
// API: https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyLastUsage.html
//
// # Cost and durability
//
// Writing storage on every Encrypt would cost a commit (an fsync) per
// request, so Record only updates memory (a lock-striped map; no I/O) and a
// background flusher writes the pending entries in batches every
// FlushInterval (default 5 s), and at Close. Records are stored under
// "u/<key ARN>" as JSON.
//
// Loss window: a crash (kill -9, power loss) loses the uses recorded since
// the last successful flush: at most one FlushInterval (plus the flush in
// progress). Last then reports the previous use, which is older, never
// newer, than the truth. A failed flush keeps its entries for the next one.
//
// # Clusters
//
// Several nodes may share one store. Each node flushes what it saw; a flush
// keeps the newer of the stored and the in-memory use (in the same
// transaction), so the stored timestamp never moves backwards. Last reads
// this node's unflushed use first, then storage, so another node's use
// shows after that node's next flush (eventual consistency, as in AWS).
package usage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/openkms/openkms/internal/storage"
)

// Storage keys.
const (
	// KeyPrefix prefixes the usage record of each key: "u/<key ARN>".
	KeyPrefix = "u/"
	// TrackingStartKey holds the instant this store began tracking usage
	// (RFC 3339, written once).
	TrackingStartKey = "meta/usage-tracking-start"
)

// DefaultFlushInterval is how often pending uses are written to storage
// when Config.FlushInterval is zero.
const DefaultFlushInterval = 5 * time.Second

// flushBatch bounds the records written by one storage transaction.
const flushBatch = 512

// trackedOps are the operations GetKeyLastUsage reports
// (KeyLastUsageTrackingOperation in the API model).
var trackedOps = []string{
	"Decrypt", "DeriveSharedSecret", "Encrypt", "GenerateDataKey", "GenerateDataKeyPair",
	"GenerateDataKeyPairWithoutPlaintext", "GenerateDataKeyWithoutPlaintext", "GenerateMac",
	"ReEncrypt", "Sign", "Verify", "VerifyMac",
}

// Tracked reports whether op is an operation whose use is tracked.
func Tracked(op string) bool { return slices.Contains(trackedOps, op) }

// TrackedOperations returns the tracked operations, sorted.
func TrackedOperations() []string { return slices.Clone(trackedOps) }

// Usage is the last successful cryptographic use of a key.
type Usage struct {
	// Operation is one of TrackedOperations.
	Operation string `json:"operation"`
	// Timestamp is when the operation succeeded.
	Timestamp time.Time `json:"timestamp"`
	// EventID is the audit (CloudTrail) eventID of the request.
	EventID string `json:"eventId,omitempty"`
	// RequestID is the request id (KmsRequestId in the API).
	RequestID string `json:"requestId,omitempty"`
	// TrackingStart is the store's tracking start when the record was first
	// written (informational; use Tracker.TrackingStart for the API).
	TrackingStart time.Time `json:"trackingStart,omitzero"`
}

// Config configures a Tracker.
type Config struct {
	// Store holds the usage records. Required.
	Store storage.Store
	// FlushInterval is how often pending uses are written; zero means
	// DefaultFlushInterval. It is also the loss window on a crash.
	FlushInterval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives flush errors; nil discards them.
	Logger *slog.Logger
}

// Tracker records key usage in memory and flushes it to storage. Its
// methods are safe for concurrent use.
type Tracker struct {
	store storage.Store
	now   func() time.Time
	log   *slog.Logger
	start time.Time // this store's tracking start
	seed  maphash.Seed

	shards [64]shard

	flushMu  sync.Mutex // one flush at a time
	stop     chan struct{}
	done     chan struct{}
	closeErr error
	once     sync.Once
}

type shard struct {
	mu sync.Mutex
	m  map[string]Usage // pending (not yet flushed) uses, by key ARN
	_  [48]byte         // keep shards on separate cache lines
}

// New returns a Tracker over cfg.Store and starts its flusher. It reads
// the store's tracking start, writing it (now) on first use.
func New(ctx context.Context, cfg Config) (*Tracker, error) {
	if cfg.Store == nil {
		return nil, errors.New("usage: Config.Store is required")
	}
	t := &Tracker{store: cfg.Store, now: cfg.Now, log: cfg.Logger, seed: maphash.MakeSeed(),
		stop: make(chan struct{}), done: make(chan struct{})}
	if t.now == nil {
		t.now = time.Now
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	for i := range t.shards {
		t.shards[i].m = map[string]Usage{}
	}
	err := cfg.Store.Update(ctx, func(w storage.Writer) error {
		b, err := w.Get(TrackingStartKey)
		if errors.Is(err, storage.ErrNotFound) {
			t.start = t.now().UTC()
			return w.Put(TrackingStartKey, []byte(t.start.Format(time.RFC3339Nano)))
		}
		if err != nil {
			return err
		}
		t.start, err = time.Parse(time.RFC3339Nano, string(b))
		if err != nil {
			return fmt.Errorf("%s is corrupt: %w", TrackingStartKey, err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("usage: tracking start: %w", err)
	}
	interval := cfg.FlushInterval
	if interval <= 0 {
		interval = DefaultFlushInterval
	}
	go t.run(interval)
	return t, nil
}

func (t *Tracker) shard(keyARN string) *shard {
	return &t.shards[maphash.String(t.seed, keyARN)%uint64(len(t.shards))]
}

// Record notes a successful use of a key by op at the given instant (zero:
// now) with the audit eventID of the request. It only touches memory. Uses
// of untracked operations, and empty or oversized ARNs, are ignored. An
// older use than the one pending for the key is ignored (newer wins).
func (t *Tracker) Record(keyARN, op string, at time.Time, eventID string) {
	t.RecordUsage(keyARN, Usage{Operation: op, Timestamp: at, EventID: eventID})
}

// RecordUsage is Record with every field of Usage (RequestID too).
// TrackingStart is ignored.
func (t *Tracker) RecordUsage(keyARN string, u Usage) {
	if keyARN == "" || len(KeyPrefix)+len(keyARN) > storage.MaxKeyLen || !Tracked(u.Operation) {
		return
	}
	if u.Timestamp.IsZero() {
		u.Timestamp = t.now()
	}
	u.TrackingStart = time.Time{}
	s := t.shard(keyARN)
	s.mu.Lock()
	if old, ok := s.m[keyARN]; !ok || u.Timestamp.After(old.Timestamp) {
		s.m[keyARN] = u
	}
	s.mu.Unlock()
}

// Last returns the last recorded use of the key: this node's pending use
// if there is one, else the stored record. ok is false when no use was
// recorded since tracking started. The error is a storage error.
func (t *Tracker) Last(ctx context.Context, keyARN string) (u Usage, ok bool, err error) {
	s := t.shard(keyARN)
	s.mu.Lock()
	u, ok = s.m[keyARN]
	s.mu.Unlock()
	if ok {
		u.TrackingStart = t.start
		return u, true, nil
	}
	b, err := storage.Get(ctx, t.store, KeyPrefix+keyARN)
	if errors.Is(err, storage.ErrNotFound) {
		return Usage{}, false, nil
	}
	if err != nil {
		return Usage{}, false, fmt.Errorf("usage: %w", err)
	}
	if err := json.Unmarshal(b, &u); err != nil {
		return Usage{}, false, fmt.Errorf("usage: record of %s is corrupt: %w", keyARN, err)
	}
	return u, true, nil
}

// StoreTrackingStart is when this store began tracking usage (the first
// Tracker on it).
func (t *Tracker) StoreTrackingStart() time.Time { return t.start }

// TrackingStart is the TrackingStartDate of a key created at created: the
// later of the store's tracking start and the key's creation.
func (t *Tracker) TrackingStart(created time.Time) time.Time {
	if created.After(t.start) {
		return created
	}
	return t.start
}

// TrailingDaysWithoutUse is the value of kms:TrailingDaysWithoutKeyUsage
// for a key created at created, at now: whole days since its last use, or
// since its tracking start when no use is recorded (never negative).
func (t *Tracker) TrailingDaysWithoutUse(ctx context.Context, keyARN string, created, now time.Time) (int64, error) {
	u, ok, err := t.Last(ctx, keyARN)
	if err != nil {
		return 0, err
	}
	since := t.TrackingStart(created)
	if ok && u.Timestamp.After(since) {
		since = u.Timestamp
	}
	if !now.After(since) {
		return 0, nil
	}
	return int64(now.Sub(since) / (24 * time.Hour)), nil
}

// Forget deletes the usage record of a deleted key within the caller's
// transaction w, and drops its pending use.
func (t *Tracker) Forget(w storage.Writer, keyARN string) error {
	s := t.shard(keyARN)
	s.mu.Lock()
	delete(s.m, keyARN)
	s.mu.Unlock()
	return w.Delete(KeyPrefix + keyARN)
}

// Flush writes the pending uses to storage now, keeping the newer of the
// stored and the pending use of each key. Entries written are dropped from
// memory unless a newer use arrived meanwhile; on error, the entries not
// written stay pending for the next flush.
func (t *Tracker) Flush(ctx context.Context) error {
	t.flushMu.Lock()
	defer t.flushMu.Unlock()
	type entry struct {
		arn string
		u   Usage
	}
	var pending []entry
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		for arn, u := range s.m {
			pending = append(pending, entry{arn, u})
		}
		s.mu.Unlock()
	}
	for len(pending) > 0 {
		batch := pending[:min(len(pending), flushBatch)]
		pending = pending[len(batch):]
		err := t.store.Update(ctx, func(w storage.Writer) error {
			for _, e := range batch {
				if err := t.merge(w, e.arn, e.u); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("usage: flush: %w", err)
		}
		for _, e := range batch {
			s := t.shard(e.arn)
			s.mu.Lock()
			if cur, ok := s.m[e.arn]; ok && cur == e.u {
				delete(s.m, e.arn)
			}
			s.mu.Unlock()
		}
	}
	return nil
}

// merge writes u for arn unless the stored use is at least as recent.
func (t *Tracker) merge(w storage.Writer, arn string, u Usage) error {
	key := KeyPrefix + arn
	u.TrackingStart = t.start
	b, err := w.Get(key)
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		return err
	default:
		var stored Usage
		if json.Unmarshal(b, &stored) == nil {
			if !u.Timestamp.After(stored.Timestamp) {
				return nil
			}
			if !stored.TrackingStart.IsZero() {
				u.TrackingStart = stored.TrackingStart
			}
		} // a corrupt record is replaced
	}
	b, err = json.Marshal(u)
	if err != nil {
		return err
	}
	return w.Put(key, b)
}

// Pending returns the number of uses not yet flushed.
func (t *Tracker) Pending() int {
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}

func (t *Tracker) run(interval time.Duration) {
	defer close(t.done)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
			ctx, cancel := context.WithTimeout(context.Background(), max(interval, 10*time.Second))
			if err := t.Flush(ctx); err != nil {
				t.log.Error("key usage not flushed; retrying at the next interval", "pending", t.Pending(), "error", err)
			}
			cancel()
		}
	}
}

// Close stops the flusher and flushes what is pending, within ctx. Record
// after Close keeps recording in memory, but nothing flushes it. Close is
// safe to call more than once; later calls return the first result.
func (t *Tracker) Close(ctx context.Context) error {
	t.once.Do(func() {
		close(t.stop)
		<-t.done
		t.closeErr = t.Flush(ctx)
	})
	return t.closeErr
}
