package audit

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/openkms/openkms/internal/rootkey"
)

// ErrNotRecorded is wrapped by every error Log returns: the record was not
// (or not durably) written, and under FailClosed the request must fail.
var ErrNotRecorded = errors.New("audit: record not written")

// ErrClosed is wrapped (with ErrNotRecorded) by Log after Close.
var ErrClosed = errors.New("audit: logger is closed")

// Config configures a Logger. Zero values mean the defaults.
type Config struct {
	// Sink receives the records. Required. If it is a SegmentedSink the
	// chain continues from the head it stores, and files end with a digest.
	Sink Sink
	// SigningKey signs digest records. Required.
	SigningKey *SigningKey
	// Durability: DurabilitySync (default) or DurabilityAsync.
	Durability Durability
	// FailurePolicy: FailClosed (default) or FailOpen.
	FailurePolicy FailurePolicy
	// QueueSize bounds the records waiting for the writer; Log blocks
	// (backpressure) while it is full. Default 4096.
	QueueSize int
	// MaxBatch bounds the records of one group commit. Default 1024.
	MaxBatch int
	// DigestEvery writes a digest after this many event records. Default 1000.
	DigestEvery int
	// DigestInterval writes a digest when records have waited this long
	// for one. Default 1 minute.
	DigestInterval time.Duration
	// SyncInterval is how often the sink is synced under DurabilityAsync.
	// Default 1 second.
	SyncInterval time.Duration
	// Logger receives the logger's own errors (loudly, at Error level).
	// Default slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Logger is the front of the audit trail. Log is safe for concurrent use:
// concurrent calls are queued (bounded), and one writer goroutine writes
// them in batches, chaining each record and interleaving signed digests.
// Each batch is one write (and, with DurabilitySync, one fsync), and every
// caller of the batch waits for it (group commit).
type Logger struct {
	sink    Sink
	seg     SegmentedSink // nil if sink is not segmented
	key     *SigningKey
	log     *slog.Logger
	now     func() time.Time
	sync    bool
	policy  FailurePolicy
	batchN  int
	digestN int
	digestT time.Duration
	syncT   time.Duration

	mu      sync.RWMutex // held for reading while enqueueing; Close takes it to stop enqueues
	closed  bool
	queue   chan *pending
	closing chan struct{}
	stopped chan struct{}
	once    sync.Once
	err     error // Close's result

	// Writer goroutine only.
	head       chainState
	durable    chainState // head at the last successful Sync
	note       *Recovery  // for the next digest
	noteReason DigestReason
	lastDigest time.Time
	lastSync   time.Time
	lines      [][]byte

	st       stats
	lastLoud sync.Map // message -> *atomic.Int64, unix nanos of its last loud log
}

// pending is one queued record.
type pending struct {
	body []byte     // event JSON without its two closing braces
	done chan error // receives the batch's outcome; buffered
	buf  *[]byte    // from bodyPool, holding body; returned after the write
	line []byte     // the written line (in buf's array when it fit)
}

// Open opens the audit log in dir: a FileSink with files, the signing key
// sealed in dir under sealer (created on first use), and a Logger over
// them. cfg.Sink and cfg.SigningKey must be nil.
func Open(dir string, sealer rootkey.Sealer, cfg Config, files FileOptions) (*Logger, error) {
	if cfg.Sink != nil || cfg.SigningKey != nil {
		return nil, errors.New("audit: Open: cfg.Sink and cfg.SigningKey must be nil")
	}
	key, err := LoadOrCreateSigningKey(dir, sealer)
	if err != nil {
		return nil, err
	}
	if files.Now == nil {
		files.Now = cfg.Now
	}
	sink, err := OpenFileSink(dir, files)
	if err != nil {
		return nil, err
	}
	cfg.Sink, cfg.SigningKey = sink, key
	l, err := New(cfg)
	if err != nil {
		sink.Close()
		return nil, err
	}
	return l, nil
}

// New starts a Logger over cfg.Sink. It resumes the chain (from a
// SegmentedSink) and writes a signed start digest before returning, so an
// unwritable sink fails here. The Logger owns the sink: Close closes it.
func New(cfg Config) (*Logger, error) {
	if cfg.Sink == nil || cfg.SigningKey == nil {
		return nil, errors.New("audit: New: Sink and SigningKey are required")
	}
	l := &Logger{
		sink:    cfg.Sink,
		key:     cfg.SigningKey,
		log:     cfg.Logger,
		now:     cfg.Now,
		sync:    cfg.Durability != DurabilityAsync,
		policy:  cfg.FailurePolicy,
		batchN:  cfg.MaxBatch,
		digestN: cfg.DigestEvery,
		digestT: cfg.DigestInterval,
		syncT:   cfg.SyncInterval,
		closing: make(chan struct{}),
		stopped: make(chan struct{}),
	}
	if l.log == nil {
		l.log = slog.Default()
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.policy == FailurePolicyUnspecified {
		l.policy = FailClosed
	}
	if l.batchN <= 0 {
		l.batchN = 1024
	}
	if l.digestN <= 0 {
		l.digestN = 1000
	}
	if l.digestT <= 0 {
		l.digestT = time.Minute
	}
	if l.syncT <= 0 {
		l.syncT = time.Second
	}
	qn := cfg.QueueSize
	if qn <= 0 {
		qn = 4096
	}
	l.queue = make(chan *pending, qn)
	l.st.init(qn)

	l.head = chainState{hash: zeroHash, digestFrom: 1}
	start := &Recovery{}
	if seg, ok := cfg.Sink.(SegmentedSink); ok {
		l.seg = seg
		h, err := seg.Resume()
		if err != nil {
			return nil, fmt.Errorf("audit: resume chain: %w", err)
		}
		l.head = chainState{seq: h.Seq, hash: h.Hash, digestFrom: h.Seq + 1}
		start.UncleanShutdown = h.Seq > 0 && !h.Closed
		if h.Torn != nil {
			start.TornFile, start.TornOffset, start.TornBytes = h.Torn.File, h.Torn.Offset, h.Torn.Bytes
			l.loud("audit: the last log file ends with an incomplete record (crash during a write); the chain continues from the last complete record",
				"file", h.Torn.File, "offset", h.Torn.Offset, "bytes", h.Torn.Bytes, "seq", h.Seq)
		}
	}
	l.durable = l.head
	if *start == (Recovery{}) {
		start = nil
	}
	l.note, l.noteReason = start, DigestStart
	if err := l.writeStandalone(DigestStart); err != nil {
		l.sink.Close()
		return nil, fmt.Errorf("audit: write start digest: %w", err)
	}
	go l.run()
	return l, nil
}

// Log records ev. It fills the fields Log owns (see Event), encodes the
// record in the caller's goroutine, and queues it.
//
// Under DurabilitySync, Log returns nil once the record's batch is written
// and fsynced; under DurabilityAsync, once it is written to the OS (it
// survives a crash of the process, not of the machine). If the record
// cannot be recorded (sink error, queue full until ctx is done, ctx done
// while waiting for the write, Logger closed), then under FailClosed Log
// returns an error wrapping ErrNotRecorded and the caller must fail the
// request; under FailOpen it counts the record as dropped and returns nil.
// Both log loudly. If ctx ends while the batch is being written, the record
// may still be written.
func (l *Logger) Log(ctx context.Context, ev Event) error {
	ev = ev.normalize(l.now())
	buf := bodyPool.Get().(*[]byte)
	body, err := eventBody((*buf)[:0], &ev)
	if err != nil {
		bodyPool.Put(buf)
		return l.failed(fmt.Errorf("encode event: %w", err))
	}
	p := &pending{body: body, done: make(chan error, 1), buf: buf}
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return l.failed(ErrClosed)
	}
	select {
	case l.queue <- p:
	default:
		l.st.queueFull.Add(1)
		select {
		case l.queue <- p:
		case <-ctx.Done():
			l.mu.RUnlock()
			return l.failed(fmt.Errorf("queue full: %w", ctx.Err()))
		}
	}
	l.mu.RUnlock()
	select {
	case err := <-p.done:
		if err != nil {
			return l.failed(err)
		}
		return nil
	case <-ctx.Done():
		return l.failed(fmt.Errorf("waiting for the write: %w", ctx.Err()))
	}
}

// failed applies the failure policy to an error of Log.
func (l *Logger) failed(err error) error {
	if l.policy == FailOpen {
		l.st.dropped.Add(1)
		l.loud("audit: record dropped (fail-open)", "err", err)
		return nil
	}
	l.st.rejected.Add(1)
	l.loud("audit: record not written; the request fails (fail-closed)", "err", err)
	return fmt.Errorf("%w: %w", ErrNotRecorded, err)
}

// loud logs at Error level, each message at most once a second (the count
// of suppressed messages is in Stats).
func (l *Logger) loud(msg string, args ...any) {
	v, _ := l.lastLoud.LoadOrStore(msg, new(atomic.Int64))
	lastLoud := v.(*atomic.Int64)
	now := time.Now().UnixNano()
	last := lastLoud.Load()
	if now-last < int64(time.Second) || !lastLoud.CompareAndSwap(last, now) {
		l.st.suppressed.Add(1)
		return
	}
	l.log.Error(msg, args...)
}

// Close stops accepting records, writes every queued record, writes a
// closing digest, and closes the sink. It blocks until done and returns the
// first error of those steps. Log calls after Close fail with ErrClosed.
// Close is idempotent.
func (l *Logger) Close() error {
	l.once.Do(func() {
		l.mu.Lock()
		l.closed = true
		l.mu.Unlock()
		close(l.closing)
		<-l.stopped
	})
	return l.err
}

// PublicKey returns the public key that verifies this logger's digests.
func (l *Logger) PublicKey() ed25519.PublicKey { return l.key.Public() }

// run is the writer goroutine.
func (l *Logger) run() {
	defer close(l.stopped)
	tick := min(l.digestT, l.syncT, time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	batch := make([]*pending, 0, l.batchN)
	for {
		select {
		case p := <-l.queue:
			batch = l.fill(append(batch[:0], p))
			l.commit(batch)
		case <-t.C:
			l.tick()
		case <-l.closing:
			for {
				batch = l.fill(batch[:0])
				if len(batch) == 0 {
					break
				}
				l.commit(batch)
			}
			err := l.writeStandalone(DigestClose)
			if err != nil {
				l.loud("audit: write closing digest", "err", err)
			}
			if cerr := l.sink.Close(); err == nil {
				err = cerr
			}
			l.err = err
			return
		}
	}
}

// fill appends queued records to batch without blocking, up to MaxBatch.
func (l *Logger) fill(batch []*pending) []*pending {
	for len(batch) < l.batchN {
		select {
		case p := <-l.queue:
			batch = append(batch, p)
		default:
			return batch
		}
	}
	return batch
}

// tick does the time-driven work: rotation by age, interval digests,
// periodic sync, and retrying a pending recovery digest.
func (l *Logger) tick() {
	now := l.now()
	switch {
	case l.seg != nil && l.seg.RotateDue(now):
		l.maybeRotate(now)
	case l.note != nil:
		if err := l.writeStandalone(l.noteReason); err != nil {
			l.loud("audit: write recovery digest", "err", err)
		}
	case l.head.sinceDigest > 0 && now.Sub(l.lastDigest) >= l.digestT:
		if err := l.writeStandalone(DigestInterval); err != nil {
			l.loud("audit: write interval digest", "err", err)
		}
	}
	if !l.sync && l.durable.seq != l.head.seq && now.Sub(l.lastSync) >= l.syncT {
		l.syncNow()
	}
}

// syncNow syncs the sink (async durability) and handles a failure.
func (l *Logger) syncNow() {
	l.lastSync = l.now()
	if err := l.sink.Sync(); err != nil {
		l.lost(err, true)
		return
	}
	l.durable = l.head
}

// lost rolls the chain back to the last durable record after a failed write
// or sync, and arranges a recovery digest. acked says whether records
// between the durable point and the head were acknowledged (async).
func (l *Logger) lost(err error, acked bool) {
	l.st.writeFailures.Add(1)
	rec := l.note
	if rec == nil {
		rec = &Recovery{}
		l.noteReason = DigestRecovery
	}
	if rec.WriteError == "" {
		rec.WriteError = err.Error()
	}
	if acked && l.head.seq > l.durable.seq {
		if rec.LostFrom == 0 {
			rec.LostFrom = l.durable.seq + 1
		}
		rec.LostTo = l.head.seq
		l.st.dropped.Add(uint64(l.head.seq - l.durable.seq))
	}
	l.note = rec
	l.loud("audit: log write failed; the chain resumes after the last durable record", "err", err, "durableSeq", l.durable.seq)
	l.head = l.durable
}

// maybeRotate closes the current segment with a rotate digest.
func (l *Logger) maybeRotate(now time.Time) {
	if err := l.writeStandalone(DigestRotate); err != nil {
		l.loud("audit: write rotation digest", "err", err)
		return
	}
	if err := l.seg.Rotate(); err != nil {
		l.lost(err, false)
	}
	l.st.rotations.Add(1)
}

// writeStandalone writes and syncs one digest record (with the pending
// note, if any) outside a batch.
func (l *Logger) writeStandalone(reason DigestReason) error {
	st := l.head
	var note *Recovery
	if l.note != nil {
		note = l.note
		if reason != DigestClose && reason != DigestRotate {
			reason = l.noteReason
		}
	}
	line, err := l.digestLine(&st, reason, note)
	if err != nil {
		return err
	}
	if err := l.sink.Write(context.Background(), [][]byte{line}); err != nil {
		l.lost(err, !l.sync)
		return err
	}
	if err := l.sink.Sync(); err != nil {
		l.lost(err, !l.sync)
		return err
	}
	l.head, l.durable = st, st
	l.note = nil
	l.lastDigest, l.lastSync = l.now(), l.now()
	l.st.digests.Add(1)
	l.st.bytes.Add(uint64(len(line) + 1))
	l.st.lastSeq.Store(st.seq)
	return nil
}

// digestLine builds the digest record that follows st and advances st.
func (l *Logger) digestLine(st *chainState, reason DigestReason, note *Recovery) ([]byte, error) {
	seq := st.seq + 1
	d := digestBody{
		Version:  digestVersion,
		Reason:   reason,
		Time:     l.now().UTC().Format(TimeFormat),
		FromSeq:  st.digestFrom,
		ToSeq:    st.seq,
		KeyID:    l.key.ID(),
		Recovery: note,
	}
	msg, err := digestMessage(seq, st.hash, d)
	if err != nil {
		return nil, err
	}
	d.Signature = base64.StdEncoding.EncodeToString(l.key.sign(msg))
	var rec digestRecord
	rec.RecordType = digestRecordType
	rec.EventTime = d.Time
	rec.OpenKMS.Digest = &d
	body, err := cutBody(rec)
	if err != nil {
		return nil, err
	}
	line, hash := chainLine(body, seq, st.hash)
	*st = chainState{seq: seq, hash: hash, digestFrom: seq + 1}
	return line, nil
}

// recycle returns the batch's buffers to bodyPool once the sink is done
// with their lines (a Sink keeps no record after Write returns).
func recycle(batch []*pending) {
	for _, p := range batch {
		if p.buf == nil || p.line == nil {
			continue
		}
		if cap(p.line) <= maxPooledBody {
			*p.buf = p.line[:0]
			bodyPool.Put(p.buf)
		}
		p.buf, p.body, p.line = nil, nil, nil
	}
}

// commit writes one batch as a group commit and answers its callers.
func (l *Logger) commit(batch []*pending) {
	now := l.now()
	if l.seg != nil && l.seg.RotateDue(now) {
		l.maybeRotate(now)
	}
	st := l.head
	lines := l.lines[:0]
	digests := 0
	if l.note != nil {
		line, err := l.digestLine(&st, l.noteReason, l.note)
		if err != nil {
			l.answer(batch, err)
			return
		}
		lines = append(lines, line)
		digests++
	}
	var nbytes int
	for _, p := range batch {
		line, hash := chainLine(p.body, st.seq+1, st.hash)
		p.line = line
		st.seq, st.hash = st.seq+1, hash
		st.sinceDigest++
		lines = append(lines, line)
		if st.sinceDigest >= l.digestN {
			dl, err := l.digestLine(&st, DigestCount, nil)
			if err != nil {
				l.answer(batch, err)
				return
			}
			lines = append(lines, dl)
			digests++
		}
	}
	for _, line := range lines {
		nbytes += len(line) + 1
	}
	t0 := time.Now()
	err := l.sink.Write(context.Background(), lines)
	if err != nil {
		l.lost(err, !l.sync)
	} else if l.sync {
		if err = l.sink.Sync(); err != nil {
			l.lost(err, false)
		}
	}
	l.st.observe(time.Since(t0))
	clear(lines)
	l.lines = lines[:0]
	recycle(batch)
	if err != nil {
		l.answer(batch, err)
		return
	}
	l.head = st
	if l.sync {
		l.durable = st
		l.lastSync = now
	}
	if digests > 0 {
		l.note = nil
		l.lastDigest = now
	}
	l.st.records.Add(uint64(len(batch)))
	l.st.digests.Add(uint64(digests))
	l.st.batches.Add(1)
	l.st.bytes.Add(uint64(nbytes))
	l.st.lastSeq.Store(st.seq)
	l.answer(batch, nil)
}

// answer tells the callers of batch the outcome.
func (l *Logger) answer(batch []*pending, err error) {
	if err != nil {
		l.st.failedRecords.Add(uint64(len(batch)))
	}
	for i, p := range batch {
		p.done <- err
		batch[i] = nil
	}
}
