package metrics

import (
	"context"
	"time"

	"github.com/openkms/openkms/internal/storage"
)

// InstrumentStore returns st with every View and Update timed into
// openkms_storage_operation_seconds{op="view"|"update"}. With a nil
// Registry it returns st unchanged.
//
// The wrapper has the methods of storage.Store and Unwrap, plus TryLock,
// Notify and Listen when st has them (as the PostgreSQL store does), passed
// through unchanged, so type assertions for those keep working. Code that
// asserts for other methods should assert on Unwrap(st).
func InstrumentStore(st storage.Store, r *Registry) storage.Store {
	if r == nil || st == nil {
		return st
	}
	base := &instrumented{inner: st, view: r.storageView, update: r.storageUpdate}
	l, isLocker := st.(locker)
	n, isNotifier := st.(notifier)
	switch {
	case isLocker && isNotifier:
		return &instrumentedLockerNotifier{base, l, n}
	case isLocker:
		return &instrumentedLocker{base, l}
	case isNotifier:
		return &instrumentedNotifier{base, n}
	}
	return base
}

// Unwrap returns the store inside an instrumented store, or st itself.
func Unwrap(st storage.Store) storage.Store {
	if u, ok := st.(interface{ Unwrap() storage.Store }); ok {
		return u.Unwrap()
	}
	return st
}

// locker and notifier are the optional cluster interfaces of a shared
// store (pgstore), as the server type-asserts them.
type locker interface {
	TryLock(ctx context.Context, name string) (unlock func(), ok bool, err error)
}

type notifier interface {
	Notify(ctx context.Context, channel, payload string) error
	Listen(ctx context.Context, channel string, fn func(payload string)) (stop func(), err error)
}

type instrumented struct {
	inner        storage.Store
	view, update *Histogram
}

var _ storage.Store = (*instrumented)(nil)

func (s *instrumented) View(ctx context.Context, fn func(storage.Reader) error) error {
	start := time.Now()
	err := s.inner.View(ctx, fn)
	s.view.Observe(time.Since(start))
	return err
}

func (s *instrumented) Update(ctx context.Context, fn func(storage.Writer) error) error {
	start := time.Now()
	err := s.inner.Update(ctx, fn)
	s.update.Observe(time.Since(start))
	return err
}

func (s *instrumented) Close() error { return s.inner.Close() }

// Unwrap returns the instrumented store.
func (s *instrumented) Unwrap() storage.Store { return s.inner }

type instrumentedLocker struct {
	*instrumented
	locker
}

type instrumentedNotifier struct {
	*instrumented
	notifier
}

type instrumentedLockerNotifier struct {
	*instrumented
	locker
	notifier
}
