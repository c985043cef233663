// Package storage defines the transactional key-value interface that every
// OpenKMS storage backend implements.
//
// Values are opaque bytes. Anything secret is sealed under the root key
// (package rootkey) before it reaches a Store, so a backend never sees key
// material in plaintext. Keys are UTF-8 strings ordered bytewise; callers
// build hierarchical keys with "/" separators and list them by prefix.
//
// Every implementation must pass the conformance suite in package
// storagetest.
package storage

import (
	"context"
	"errors"
)

var (
	// ErrNotFound is returned by Get when the key does not exist.
	ErrNotFound = errors.New("storage: not found")
	// ErrConflict is returned by CompareAndSwap when the stored value is
	// not the expected one.
	ErrConflict = errors.New("storage: conflict")
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("storage: closed")
	// ErrUnavailable is wrapped by errors of a store that cannot be reached
	// or lost its connection: the operation may succeed if retried. Clients
	// get DependencyTimeoutException for it (see kmserr.As).
	ErrUnavailable error = unavailable{}
)

type unavailable struct{}

func (unavailable) Error() string { return "storage: unavailable" }

// DependencyUnavailable marks the error for kmserr.As, which does not
// import this package.
func (unavailable) DependencyUnavailable() bool { return true }

// MaxKeyLen bounds the length of a key in bytes.
const MaxKeyLen = 1024

// Store is a transactional key-value store.
//
// A Store is safe for concurrent use. Update transactions are serializable
// with respect to each other; a View sees a consistent snapshot.
// An Update whose function returns nil is durable when Update returns nil:
// it survives a crash of the process at any later instant.
type Store interface {
	// View runs fn in a read-only transaction. The Reader must not be used
	// after fn returns. Values returned by the Reader are owned by the caller.
	View(ctx context.Context, fn func(Reader) error) error

	// Update runs fn in a read-write transaction. If fn returns an error the
	// transaction is rolled back and that error is returned unchanged (so
	// callers may match it with errors.Is). Implementations may run fn more
	// than once (for example to retry a serialization failure), so fn must
	// not have side effects outside the transaction.
	Update(ctx context.Context, fn func(Writer) error) error

	// Close releases the store. It is safe to call more than once.
	Close() error
}

// Reader reads within a transaction.
type Reader interface {
	// Get returns the value stored under key, or ErrNotFound.
	Get(key string) ([]byte, error)

	// Scan calls fn for each key that starts with prefix and sorts strictly
	// after `after` (use "" to start at the beginning of the prefix), in
	// ascending order, until fn returns false or an error, or the keys run
	// out. The value passed to fn is only valid during the call.
	Scan(prefix, after string, fn func(key string, value []byte) (more bool, err error)) error
}

// Peeker is a Reader that can show a value without copying it.
type Peeker interface {
	// Peek is Get without the copy: the value is valid only until the
	// transaction's function returns, and must not be modified or kept.
	Peek(key string) ([]byte, error)
}

// Peek returns the value under key, without copying it when r is a Peeker:
// for comparing a record with a cached copy, which most reads on the
// request path do. The same rules as Peeker.Peek apply to the result.
func Peek(r Reader, key string) ([]byte, error) {
	if p, ok := r.(Peeker); ok {
		return p.Peek(key)
	}
	return r.Get(key)
}

// Writer reads and writes within a transaction.
type Writer interface {
	Reader
	// Put stores value under key, replacing any previous value. The store
	// keeps its own copy of value.
	Put(key string, value []byte) error
	// Delete removes key. Deleting a missing key is not an error.
	Delete(key string) error
}

// Get reads one value in its own read-only transaction.
func Get(ctx context.Context, s Store, key string) ([]byte, error) {
	var out []byte
	err := s.View(ctx, func(r Reader) error {
		v, err := r.Get(key)
		out = v
		return err
	})
	return out, err
}

// CompareAndSwap replaces the value under key with next if the current value
// equals prev. A nil prev means "the key must not exist"; a nil next deletes
// the key. It returns ErrConflict when the current value differs.
func CompareAndSwap(ctx context.Context, s Store, key string, prev, next []byte) error {
	return s.Update(ctx, func(w Writer) error {
		cur, err := w.Get(key)
		switch {
		case errors.Is(err, ErrNotFound):
			if prev != nil {
				return ErrConflict
			}
		case err != nil:
			return err
		default:
			if prev == nil || string(cur) != string(prev) {
				return ErrConflict
			}
		}
		if next == nil {
			return w.Delete(key)
		}
		return w.Put(key, next)
	})
}
