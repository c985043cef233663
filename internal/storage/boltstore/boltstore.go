// Package boltstore is the embedded default storage backend: a storage.Store
// in a single bbolt file (https://github.com/etcd-io/bbolt) inside the OpenKMS
// data directory.
//
// It owns that file: its creation (mode 0600), the exclusive file lock that
// keeps a second openkms process out, and the one bucket that holds every
// key. Keys are stored as their UTF-8 bytes, so bbolt's bytewise order is the
// order storage.Reader.Scan promises.
//
// Durability: every Update that returns nil has been committed with fsync
// (bbolt's NoSync stays false), so it survives a crash of the process or the
// machine at any later instant. Concurrent Updates share that fsync: they
// are committed in groups (see Store).
package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/openkms/openkms/internal/storage"
)

// ErrInUse is returned by Open when another process (or another Store in this
// process) holds the database file.
var ErrInUse = errors.New("data directory is in use by another openkms process")

// DefaultLockTimeout is how long Open waits for the file lock when
// Options.LockTimeout is zero.
const DefaultLockTimeout = 500 * time.Millisecond

// bucket is the single bucket that holds every key.
var bucket = []byte("openkms")

// initialMmapSize is the address space bbolt maps up front. bbolt must wait
// for every open read transaction before it can grow its mapping, so a large
// initial mapping keeps a long View from stalling Updates until the file
// outgrows it. Only pages in use take memory.
const initialMmapSize = 256 << 20

// Options configure Open. The zero value is ready to use.
type Options struct {
	// LockTimeout is how long Open waits for the exclusive file lock before
	// it fails with ErrInUse. Zero means DefaultLockTimeout.
	LockTimeout time.Duration
}

// Store is a storage.Store backed by one bbolt file.
//
// A Store is safe for concurrent use. Update functions run one at a time
// (bbolt has a single writer) and are never retried, so fn runs exactly once
// per call to Update (unless the context is already done, then not at all).
// Views run concurrently with each other and with an Update, each on its own
// snapshot. A goroutine must not start an Update from inside its own View:
// once the file outgrows its initial mapping, bbolt waits for open Views
// before it can grow the mapping.
//
// Group commit: one writer goroutine runs the Updates waiting at the moment
// it is free, one after another, in one bbolt transaction, and commits them
// with one fsync. Each function still sees the writes of those before it
// (as if they had committed), and one that fails has its own writes undone
// before the next runs, so every Update keeps the all-or-nothing outcome of
// a transaction of its own. A serial caller waits for nothing extra; under
// concurrent writes the fsync, the cost of a write, is shared.
type Store struct {
	db     *bolt.DB
	closed atomic.Bool
	calls  chan *call    // Updates waiting for the writer
	quit   chan struct{} // closed by Close
	done   chan struct{} // closed when the writer has stopped
}

// call is one Update waiting for the writer.
type call struct {
	ctx    context.Context
	fn     func(storage.Writer) error
	result chan error // buffered
}

// maxGroup bounds the Updates committed together.
const maxGroup = 128

var _ storage.Store = (*Store)(nil)

// Open opens the database file at path, creating it with mode 0600 if it does
// not exist. The directory must exist. Open fails with an error wrapping
// ErrInUse if another Store holds the file's lock for longer than the lock
// timeout. opts may be nil.
func Open(path string, opts *Options) (*Store, error) {
	timeout := DefaultLockTimeout
	if opts != nil && opts.LockTimeout > 0 {
		timeout = opts.LockTimeout
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:         timeout,
		NoSync:          false, // durable commits: fsync before Update returns
		FreelistType:    bolt.FreelistMapType,
		InitialMmapSize: initialMmapSize,
	})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("boltstore: open %s: %w", path, ErrInUse)
	}
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("boltstore: open %s: create bucket: %w", path, err)
	}
	s := &Store{db: db, calls: make(chan *call), quit: make(chan struct{}), done: make(chan struct{})}
	go s.writer()
	return s, nil
}

// View implements storage.Store. It returns fn's error unchanged, an error
// wrapping ctx.Err() if ctx is done before fn runs, or an error wrapping
// storage.ErrClosed after Close.
func (s *Store) View(ctx context.Context, fn func(storage.Reader) error) error {
	tx, err := s.begin(ctx, false)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	t := &txn{ctx: ctx, b: tx.Bucket(bucket)}
	defer t.finish() // before Rollback
	return fn(t)
}

// Update implements storage.Store. It runs fn exactly once and commits (with
// fsync) if fn returns nil. It returns fn's error unchanged after undoing
// fn's writes, an error wrapping ctx.Err() if ctx is done before fn runs or
// before the commit (then nothing of fn is written), an error wrapping
// storage.ErrClosed after Close, or the commit's error. A panic in fn is
// returned as an error, its writes undone.
func (s *Store) Update(ctx context.Context, fn func(storage.Writer) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("boltstore: %w", err)
	}
	if s.closed.Load() {
		return fmt.Errorf("boltstore: %w", storage.ErrClosed)
	}
	c := &call{ctx: ctx, fn: fn, result: make(chan error, 1)}
	select {
	case s.calls <- c:
	case <-s.quit:
		return fmt.Errorf("boltstore: %w", storage.ErrClosed)
	}
	return <-c.result // the writer answers every call it takes
}

// writer commits the waiting Updates in groups until Close.
func (s *Store) writer() {
	defer close(s.done)
	for {
		var group []*call
		select {
		case c := <-s.calls:
			group = append(group, c)
		case <-s.quit:
			return
		}
	more:
		for len(group) < maxGroup {
			select {
			case c := <-s.calls:
				group = append(group, c)
			default:
				break more
			}
		}
		s.commitGroup(group)
	}
}

// commitGroup runs the group's functions in one transaction, undoing the
// writes of each that fails, and commits the rest with one fsync.
func (s *Store) commitGroup(group []*call) {
	results := make([]error, len(group))
	defer func() {
		for i, c := range group {
			c.result <- results[i]
		}
	}()
	tx, err := s.db.Begin(true)
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		err = storage.ErrClosed
	}
	if err != nil {
		for i := range results {
			results[i] = fmt.Errorf("boltstore: begin: %w", err)
		}
		return
	}
	defer tx.Rollback() // no-op after Commit
	b := tx.Bucket(bucket)
	committed := 0
	for i, c := range group {
		if err := c.ctx.Err(); err != nil {
			results[i] = fmt.Errorf("boltstore: %w", err)
			continue
		}
		t := &txn{ctx: c.ctx, b: b, undo: []undoEntry{}}
		err := runUpdate(c.fn, t)
		t.finish()
		if err == nil {
			if cerr := c.ctx.Err(); cerr != nil {
				err = fmt.Errorf("boltstore: update: %w", cerr)
			}
		}
		if err == nil {
			committed++
			continue
		}
		results[i] = err
		if uerr := t.undoWrites(); uerr != nil {
			// The transaction no longer holds what the others wrote and
			// nothing else: write none of it.
			for j := range results {
				if results[j] == nil {
					results[j] = fmt.Errorf("boltstore: undoing a failed update: %w", uerr)
				}
			}
			return
		}
	}
	if committed == 0 {
		return // rolled back by the deferred Rollback
	}
	if err := tx.Commit(); err != nil {
		for i := range results {
			if results[i] == nil {
				results[i] = fmt.Errorf("boltstore: commit: %w", err)
			}
		}
	}
}

// runUpdate runs fn, turning a panic into an error.
func runUpdate(fn func(storage.Writer) error, t *txn) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("boltstore: update function panicked: %v", r)
		}
	}()
	return fn(t)
}

// begin starts a transaction once ctx and the Store allow it. Waiting for
// the single writer lock cannot be interrupted; ctx is checked again once
// the lock is held.
func (s *Store) begin(ctx context.Context, writable bool) (*bolt.Tx, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("boltstore: %w", err)
	}
	if s.closed.Load() {
		return nil, fmt.Errorf("boltstore: %w", storage.ErrClosed)
	}
	tx, err := s.db.Begin(writable)
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return nil, fmt.Errorf("boltstore: %w", storage.ErrClosed)
	}
	if err != nil {
		return nil, fmt.Errorf("boltstore: begin: %w", err)
	}
	if err := ctx.Err(); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("boltstore: %w", err)
	}
	return tx, nil
}

// Close waits for running transactions to finish and closes the file.
// It is safe to call more than once; later calls return nil.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	close(s.quit)
	<-s.done // the writer has answered every Update it took
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("boltstore: close: %w", err)
	}
	return nil
}

// errTxDone is returned by a Reader or Writer used after its fn returned.
var errTxDone = errors.New("boltstore: transaction used after its function returned")

// txn is the Reader and Writer handed to fn. It is not safe for concurrent
// use, like the bbolt transaction under it.
type txn struct {
	ctx    context.Context
	b      *bolt.Bucket
	done   bool
	writes uint64      // lets Scan notice writes made by its callback
	undo   []undoEntry // in an Update: how to take its writes back
}

// undoEntry restores one key to what it held before a write.
type undoEntry struct {
	key     []byte
	old     []byte // a copy
	existed bool
}

// remember records key's current value before a write, for undoWrites.
func (t *txn) remember(key []byte) {
	if t.undo == nil {
		return
	}
	k, v := t.b.Cursor().Seek(key)
	existed := k != nil && bytes.Equal(k, key)
	e := undoEntry{key: key, existed: existed}
	if existed {
		e.old = append([]byte{}, v...)
	}
	t.undo = append(t.undo, e)
}

// undoWrites takes back the writes made through t, newest first.
func (t *txn) undoWrites() error {
	for i := len(t.undo) - 1; i >= 0; i-- {
		u := t.undo[i]
		var err error
		if u.existed {
			err = t.b.Put(u.key, u.old)
		} else {
			err = t.b.Delete(u.key)
		}
		if err != nil {
			return err
		}
	}
	t.undo = t.undo[:0]
	return nil
}

func (t *txn) finish() { t.done = true }

func checkKey(key string) error {
	switch {
	case key == "":
		return errors.New("boltstore: empty key")
	case len(key) > storage.MaxKeyLen:
		return fmt.Errorf("boltstore: key of %d bytes exceeds the limit of %d", len(key), storage.MaxKeyLen)
	}
	return nil
}

// Get implements storage.Reader. The returned value is a copy owned by the
// caller; an empty stored value is returned as a non-nil empty slice.
func (t *txn) Get(key string) ([]byte, error) {
	v, err := t.Peek(key)
	if err != nil {
		return nil, err
	}
	return append([]byte{}, v...), nil
}

// Peek implements storage.Peeker: the value is bbolt's own (in the
// memory-mapped file, read-only), valid until fn returns.
func (t *txn) Peek(key string) ([]byte, error) {
	if t.done {
		return nil, errTxDone
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	k, v := t.b.Cursor().Seek([]byte(key))
	if k == nil || string(k) != key {
		return nil, storage.ErrNotFound
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// Scan implements storage.Reader. The value passed to fn is a copy that is
// reused for the next key. fn may write through the same Writer: Scan then
// continues strictly after the last key it passed to fn, in the bucket as fn
// left it. Scan checks ctx between keys and returns an error wrapping
// ctx.Err() once it is done.
func (t *txn) Scan(prefix, after string, fn func(key string, value []byte) (bool, error)) error {
	if t.done {
		return errTxDone
	}
	p := []byte(prefix)
	c := t.b.Cursor()
	k, v := seekAfter(c, max(prefix, after), after)
	var buf []byte
	for k != nil && bytes.HasPrefix(k, p) {
		if err := t.ctx.Err(); err != nil {
			return fmt.Errorf("boltstore: scan: %w", err)
		}
		key := string(k)
		buf = append(buf[:0], v...)
		writes := t.writes
		more, err := fn(key, buf)
		if err != nil || !more {
			return err
		}
		if t.writes == writes {
			k, v = c.Next()
		} else {
			// fn changed the bucket, which invalidates the cursor.
			c = t.b.Cursor()
			k, v = seekAfter(c, key, key)
		}
	}
	return nil
}

// seekAfter positions c at the first key >= start that is not after.
func seekAfter(c *bolt.Cursor, start, after string) (k, v []byte) {
	k, v = c.Seek([]byte(start))
	if k != nil && string(k) == after {
		k, v = c.Next()
	}
	return k, v
}

// Put implements storage.Writer. The store keeps its own copy of value; a
// nil value is stored as an empty one.
func (t *txn) Put(key string, value []byte) error {
	if t.done {
		return errTxDone
	}
	if err := checkKey(key); err != nil {
		return err
	}
	t.writes++
	k := []byte(key)
	t.remember(k)
	if err := t.b.Put(k, append([]byte{}, value...)); err != nil {
		return fmt.Errorf("boltstore: put: %w", err)
	}
	return nil
}

// Delete implements storage.Writer.
func (t *txn) Delete(key string) error {
	if t.done {
		return errTxDone
	}
	if err := checkKey(key); err != nil {
		return err
	}
	t.writes++
	k := []byte(key)
	t.remember(k)
	if err := t.b.Delete(k); err != nil {
		return fmt.Errorf("boltstore: delete: %w", err)
	}
	return nil
}
