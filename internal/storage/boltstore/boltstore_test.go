package boltstore

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
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
