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
// machine at any later instant.
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
// A Store is safe for concurrent use. Update transactions run one at a time
// (bbolt has a single writer) and are never retried, so fn runs exactly once
// per call to Update (unless the context is already done, then not at all).
// Views run concurrently with each other and with an Update, each on its own
// snapshot. A goroutine must not start an Update from inside its own View:
// once the file outgrows its initial mapping, bbolt waits for open Views
// before it can grow the mapping.
type Store struct {
	db     *bolt.DB
	closed atomic.Bool
}

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
	return &Store{db: db}, nil
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
// fsync) if fn returns nil. It returns fn's error unchanged after rolling
// back, an error wrapping ctx.Err() if ctx is done before fn runs or before
// the commit (then nothing is written), an error wrapping storage.ErrClosed
// after Close, or the commit's error.
func (s *Store) Update(ctx context.Context, fn func(storage.Writer) error) error {
	tx, err := s.begin(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback() // no-op after Commit
	t := &txn{ctx: ctx, b: tx.Bucket(bucket)}
	defer t.finish() // before Rollback
	if err := fn(t); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("boltstore: update: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("boltstore: commit: %w", err)
	}
	return nil
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
	writes uint64 // lets Scan notice writes made by its callback
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
	return append([]byte{}, v...), nil
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
	if err := t.b.Put([]byte(key), append([]byte{}, value...)); err != nil {
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
	if err := t.b.Delete([]byte(key)); err != nil {
		return fmt.Errorf("boltstore: delete: %w", err)
	}
	return nil
}
