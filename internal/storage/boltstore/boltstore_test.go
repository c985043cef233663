package boltstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openkms/openkms/internal/storage"
	"github.com/openkms/openkms/internal/storage/storagetest"
)

func openTemp(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path, nil)
	if err != nil {
		t.Fatalf("Open: got error %v, want nil", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return openTemp(t, filepath.Join(t.TempDir(), "openkms.db"))
	})
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "openkms.db")
	s := openTemp(t, path)
	err := s.Update(t.Context(), func(w storage.Writer) error {
		if err := w.Put("a", []byte("1")); err != nil {
			return err
		}
		return w.Put("b", []byte{})
	})
	if err != nil {
		t.Fatalf("Update: got error %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: got error %v, want nil", err)
	}

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("file mode: got %04o, want 0600", got)
	}

	s = openTemp(t, path)
	for k, want := range map[string]string{"a": "1", "b": ""} {
		got, err := storage.Get(t.Context(), s, k)
		if err != nil || string(got) != want {
			t.Errorf("Get(%q) after reopen: got (%q, %v), want (%q, nil)", k, got, err, want)
		}
	}
}

func TestOpenInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "openkms.db")
	openTemp(t, path)

	start := time.Now()
	s2, err := Open(path, nil)
	elapsed := time.Since(start)
	if err == nil {
		s2.Close()
		t.Fatal("second Open of the same file: got nil error, want ErrInUse")
	}
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("second Open: got error %v, want ErrInUse", err)
	}
	if !strings.Contains(err.Error(), "data directory is in use by another openkms process") {
		t.Errorf("second Open error text: got %q, want it to say the data directory is in use", err)
	}
	if elapsed > 1500*time.Millisecond {
		t.Errorf("second Open took %v, want about %v", elapsed, DefaultLockTimeout)
	}
}

func TestOpenNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "openkms.db")
	if err := os.WriteFile(path, []byte("this is not a bbolt file, just some text padding it out"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(path, nil); err == nil {
		s.Close()
		t.Fatal("Open of a non-database file: got nil error, want an error")
	}
}

func TestUseAfterFnReturns(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "openkms.db"))
	var leaked storage.Writer
	err := s.Update(t.Context(), func(w storage.Writer) error {
		leaked = w
		return nil
	})
	if err != nil {
		t.Fatalf("Update: got error %v, want nil", err)
	}
	if err := leaked.Put("k", []byte("v")); err == nil {
		t.Error("Put on a leaked Writer: got nil error, want an error")
	}
	if _, err := leaked.Get("k"); err == nil || errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get on a leaked Writer: got error %v, want a use-after-return error", err)
	}
	if err := leaked.Scan("", "", func(string, []byte) (bool, error) { return true, nil }); err == nil {
		t.Error("Scan on a leaked Writer: got nil error, want an error")
	}
}

// TestGroupCommitKeepsUpdatesApart runs many concurrent Updates, so that
// the writer commits them in groups, where every third fails after
// writing and every seventh panics after writing: only the others' writes
// may remain, each whole, and each caller gets its own outcome.
func TestGroupCommitKeepsUpdatesApart(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "db"))
	ctx := context.Background()
	must(t, s.Update(ctx, func(w storage.Writer) error { return w.Put("shared", []byte("before")) }))
	const n = 200
	errFail := errors.New("refused")
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		wg.Go(func() {
			results[i] = s.Update(ctx, func(w storage.Writer) error {
				if err := w.Put(fmt.Sprintf("k/%03d/a", i), []byte("a")); err != nil {
					return err
				}
				if err := w.Put(fmt.Sprintf("k/%03d/b", i), []byte("b")); err != nil {
					return err
				}
				switch {
				case i%7 == 0:
					_ = w.Put("shared", []byte("clobbered"))
					panic("boom")
				case i%3 == 0:
					_ = w.Delete("shared")
					return errFail
				}
				return nil
			})
		})
	}
	wg.Wait()
	must(t, s.View(ctx, func(r storage.Reader) error {
		if v, err := r.Get("shared"); err != nil || string(v) != "before" {
			t.Errorf("shared = %q, %v; want the value no successful update changed", v, err)
		}
		for i := range n {
			_, errA := r.Get(fmt.Sprintf("k/%03d/a", i))
			_, errB := r.Get(fmt.Sprintf("k/%03d/b", i))
			switch {
			case i%7 == 0:
				if results[i] == nil || !strings.Contains(results[i].Error(), "panicked") {
					t.Errorf("update %d panicked: got %v, want a panic error", i, results[i])
				}
			case i%3 == 0:
				if !errors.Is(results[i], errFail) {
					t.Errorf("update %d failed: got %v, want its own error", i, results[i])
				}
			default:
				if results[i] != nil || errA != nil || errB != nil {
					t.Errorf("update %d: result %v, keys %v %v; want both written", i, results[i], errA, errB)
				}
				continue
			}
			if !errors.Is(errA, storage.ErrNotFound) || !errors.Is(errB, storage.ErrNotFound) {
				t.Errorf("failed update %d left writes behind (%v, %v)", i, errA, errB)
			}
		}
		return nil
	}))
}

// TestUpdateAfterClose checks that Updates after Close, or racing it, end
// with ErrClosed or success, and never hang.
func TestUpdateAfterClose(t *testing.T) {
	s := openTemp(t, filepath.Join(t.TempDir(), "db"))
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			err := s.Update(context.Background(), func(w storage.Writer) error { return w.Put(fmt.Sprint(i), nil) })
			if err != nil && !errors.Is(err, storage.ErrClosed) {
				t.Errorf("update racing Close: %v", err)
			}
		})
	}
	must(t, s.Close())
	wg.Wait()
	if err := s.Update(context.Background(), func(storage.Writer) error { return nil }); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("update after Close: %v, want ErrClosed", err)
	}
}

// BenchmarkUpdateParallel is the cost of a small durable Update with 32
// concurrent writers (16 per GOMAXPROCS on 2 cores), where group commit
// shares each fsync.
func BenchmarkUpdateParallel(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var n atomic.Int64
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := fmt.Sprintf("key/%09d", n.Add(1))
			if err := s.Update(context.Background(), func(w storage.Writer) error { return w.Put(key, make([]byte, 512)) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
