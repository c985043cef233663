// Package storagetest is the conformance suite that every storage.Store
// implementation must pass (embedded bbolt, PostgreSQL, ...).
//
// A backend's test calls Run with a function that opens a fresh, empty store:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Store {
//			s, err := Open(filepath.Join(t.TempDir(), "test.db"), nil)
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openkms/openkms/internal/storage"
)

// Run runs the conformance suite against the backend that open creates.
// Every subtest calls open once and expects a new, empty store; open should
// register a t.Cleanup that closes it (the suite may close it first, and
// Close must be safe to call twice).
func Run(t *testing.T, open func(t *testing.T) storage.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Store)
	}{
		{"GetMissing", testGetMissing},
		{"PutGet", testPutGet},
		{"Overwrite", testOverwrite},
		{"Delete", testDelete},
		{"ValuesOwnedByCaller", testValuesOwnedByCaller},
		{"BinaryValues", testBinaryValues},
		{"EmptyValue", testEmptyValue},
		{"Peek", testPeek},
		{"KeyLimits", testKeyLimits},
		{"ScanOrder", testScanOrder},
		{"ScanPrefix", testScanPrefix},
		{"ScanAfter", testScanAfter},
		{"ScanPaging", testScanPaging},
		{"ScanStop", testScanStop},
		{"ScanError", testScanError},
		{"ScanWhileWriting", testScanWhileWriting},
		{"UpdateRollback", testUpdateRollback},
		{"UpdateReadsOwnWrites", testUpdateReadsOwnWrites},
		{"ViewError", testViewError},
		{"ViewSnapshot", testViewSnapshot},
		{"ViewConsistentUnderWrites", testViewConsistentUnderWrites},
		{"CompareAndSwap", testCompareAndSwap},
		{"ConcurrentIncrements", testConcurrentIncrements},
		{"ContextCancelled", testContextCancelled},
		{"Closed", testClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			if s == nil {
				t.Fatal("open returned a nil store")
			}
			tt.fn(t, s)
		})
	}
}

var errSentinel = errors.New("storagetest: sentinel")

func put(t *testing.T, s storage.Store, key string, value []byte) {
	t.Helper()
	err := s.Update(t.Context(), func(w storage.Writer) error { return w.Put(key, value) })
	if err != nil {
		t.Fatalf("Put(%q): got error %v, want nil", key, err)
	}
}

func wantValue(t *testing.T, s storage.Store, key string, want []byte) {
	t.Helper()
	got, err := storage.Get(t.Context(), s, key)
	if err != nil {
		t.Fatalf("Get(%q): got error %v, want value %q", key, err, want)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q): got %q, want %q", key, got, want)
	}
}

func wantMissing(t *testing.T, s storage.Store, key string) {
	t.Helper()
	got, err := storage.Get(t.Context(), s, key)
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Get(%q): got (%q, %v), want ErrNotFound", key, got, err)
	}
}

// scan returns the keys that Scan visits, and checks each value equals
// "v:"+key.
func scan(t *testing.T, s storage.Store, prefix, after string) []string {
	t.Helper()
	var keys []string
	err := s.View(t.Context(), func(r storage.Reader) error {
		return r.Scan(prefix, after, func(k string, v []byte) (bool, error) {
			if string(v) != "v:"+k {
				t.Errorf("Scan value of %q: got %q, want %q", k, v, "v:"+k)
			}
			keys = append(keys, k)
			return true, nil
		})
	})
	if err != nil {
		t.Fatalf("Scan(%q, %q): got error %v, want nil", prefix, after, err)
	}
	return keys
}

func putKeys(t *testing.T, s storage.Store, keys ...string) {
	t.Helper()
	err := s.Update(t.Context(), func(w storage.Writer) error {
		for _, k := range keys {
			if err := w.Put(k, []byte("v:"+k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Put %d keys: got error %v, want nil", len(keys), err)
	}
}

func wantKeys(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, " ") != strings.Join(want, " ") || len(got) != len(want) {
		t.Fatalf("%s: got keys %q, want %q", what, got, want)
	}
}

func testGetMissing(t *testing.T, s storage.Store) {
	wantMissing(t, s, "missing")
	err := s.View(t.Context(), func(r storage.Reader) error {
		v, err := r.Get("missing")
		if v != nil {
			t.Errorf("Get(missing) value: got %q, want nil", v)
		}
		return err
	})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("View returning Get(missing) error: got %v, want ErrNotFound", err)
	}
}

func testPutGet(t *testing.T, s storage.Store) {
	put(t, s, "a", []byte("1"))
	put(t, s, "b/c", []byte("2"))
	wantValue(t, s, "a", []byte("1"))
	wantValue(t, s, "b/c", []byte("2"))
	wantMissing(t, s, "b")
}

func testOverwrite(t *testing.T, s storage.Store) {
	put(t, s, "k", []byte("first value"))
	put(t, s, "k", []byte("2nd"))
	wantValue(t, s, "k", []byte("2nd"))
	put(t, s, "k", bytes.Repeat([]byte("x"), 10000))
	wantValue(t, s, "k", bytes.Repeat([]byte("x"), 10000))
}

func testDelete(t *testing.T, s storage.Store) {
	put(t, s, "k", []byte("v"))
	put(t, s, "k2", []byte("v2"))
	err := s.Update(t.Context(), func(w storage.Writer) error { return w.Delete("k") })
	if err != nil {
		t.Fatalf("Delete(k): got error %v, want nil", err)
	}
	wantMissing(t, s, "k")
	wantValue(t, s, "k2", []byte("v2"))
	err = s.Update(t.Context(), func(w storage.Writer) error { return w.Delete("never-existed") })
	if err != nil {
		t.Fatalf("Delete(missing): got error %v, want nil", err)
	}
	err = s.Update(t.Context(), func(w storage.Writer) error { return w.Delete("k") })
	if err != nil {
		t.Fatalf("Delete(k) twice: got error %v, want nil", err)
	}
}

func testValuesOwnedByCaller(t *testing.T, s storage.Store) {
	// Mutating the slice given to Put, before and after commit.
	in := []byte("original")
	err := s.Update(t.Context(), func(w storage.Writer) error {
		if err := w.Put("k", in); err != nil {
			return err
		}
		copy(in, "MUTATED!")
		got, err := w.Get("k")
		if err != nil {
			return err
		}
		if string(got) != "original" {
			t.Errorf("Get in same Update after mutating Put's slice: got %q, want %q", got, "original")
		}
		got[0] = 'X' // must not reach the store either
		return nil
	})
	if err != nil {
		t.Fatalf("Update: got error %v, want nil", err)
	}
	copy(in, "AGAIN!!!")
	wantValue(t, s, "k", []byte("original"))

	// Mutating the slice returned by Get.
	got, err := storage.Get(t.Context(), s, "k")
	if err != nil {
		t.Fatalf("Get: got error %v, want nil", err)
	}
	for i := range got {
		got[i] = 0
	}
	wantValue(t, s, "k", []byte("original"))

	// Mutating a Scan value during the callback must not reach the store.
	err = s.View(t.Context(), func(r storage.Reader) error {
		return r.Scan("", "", func(_ string, v []byte) (bool, error) {
			for i := range v {
				v[i] = 0
			}
			return true, nil
		})
	})
	if err != nil {
		t.Fatalf("Scan: got error %v, want nil", err)
	}
	wantValue(t, s, "k", []byte("original"))
}

func testBinaryValues(t *testing.T, s storage.Store) {
	all := make([]byte, 512)
	for i := range all {
		all[i] = byte(i)
	}
	values := map[string][]byte{
		"zeros":  make([]byte, 64),
		"all":    all,
		"nul":    {0},
		"inside": []byte("a\x00b\xffc"),
		"large":  bytes.Repeat([]byte{0, 0xff, 0x80}, 200000/3),
	}
	for k, v := range values {
		put(t, s, k, v)
	}
	for k, v := range values {
		wantValue(t, s, k, v)
	}
}

// testPeek checks storage.Peek, through the store's Peeker if it has one:
// the same values as Get, in a View and in an Update (its own writes
// included), and ErrNotFound for a missing key.
func testPeek(t *testing.T, s storage.Store) {
	put(t, s, "peek/a", []byte("alpha"))
	put(t, s, "peek/empty", nil)
	check := func(r storage.Reader, key, want string) {
		t.Helper()
		got, err := storage.Peek(r, key)
		if err != nil || string(got) != want {
			t.Errorf("Peek(%q) = %q, %v; want %q", key, got, err, want)
		}
	}
	err := s.View(t.Context(), func(r storage.Reader) error {
		check(r, "peek/a", "alpha")
		check(r, "peek/empty", "")
		if _, err := storage.Peek(r, "peek/missing"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Peek of a missing key: %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(t.Context(), func(w storage.Writer) error {
		if err := w.Put("peek/b", []byte("beta")); err != nil {
			return err
		}
		check(w, "peek/b", "beta")
		check(w, "peek/a", "alpha")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testEmptyValue(t *testing.T, s storage.Store) {
	put(t, s, "empty", []byte{})
	put(t, s, "nil", nil)
	for _, k := range []string{"empty", "nil"} {
		got, err := storage.Get(t.Context(), s, k)
		if err != nil || len(got) != 0 {
			t.Fatalf("Get(%q): got (%q, %v), want (zero-length value, nil)", k, got, err)
		}
	}
	var seen []string
	err := s.View(t.Context(), func(r storage.Reader) error {
		return r.Scan("", "", func(k string, v []byte) (bool, error) {
			if len(v) != 0 {
				t.Errorf("Scan value of %q: got %q, want empty", k, v)
			}
			seen = append(seen, k)
			return true, nil
		})
	})
	if err != nil {
		t.Fatalf("Scan: got error %v, want nil", err)
	}
	wantKeys(t, "Scan of empty values", seen, "empty", "nil")
}

func testKeyLimits(t *testing.T, s storage.Store) {
	longest := strings.Repeat("k", storage.MaxKeyLen)
	put(t, s, longest, []byte("v"))
	wantValue(t, s, longest, []byte("v"))
	var seen []string
	err := s.View(t.Context(), func(r storage.Reader) error {
		return r.Scan("k", "", func(k string, _ []byte) (bool, error) {
			seen = append(seen, k)
			return true, nil
		})
	})
	if err != nil || len(seen) != 1 || seen[0] != longest {
		t.Fatalf("Scan of a MaxKeyLen key: got %d keys, error %v; want 1 key, nil", len(seen), err)
	}

	for _, bad := range []string{"", longest + "k"} {
		err := s.Update(t.Context(), func(w storage.Writer) error { return w.Put(bad, []byte("v")) })
		if err == nil {
			t.Errorf("Put(key of %d bytes): got nil error, want an error", len(bad))
		}
		err = s.View(t.Context(), func(r storage.Reader) error {
			_, err := r.Get(bad)
			return err
		})
		if err == nil {
			t.Errorf("Get(key of %d bytes): got nil error, want an error", len(bad))
		}
		err = s.Update(t.Context(), func(w storage.Writer) error { return w.Delete(bad) })
		if err == nil {
			t.Errorf("Delete(key of %d bytes): got nil error, want an error", len(bad))
		}
	}
	// A rejected Put rolls back with the rest of its transaction.
	err = s.Update(t.Context(), func(w storage.Writer) error {
		if err := w.Put("ok", []byte("v")); err != nil {
			return err
		}
		return w.Put(longest+"k", []byte("v"))
	})
	if err == nil {
		t.Fatal("Update with an over-long key: got nil error, want an error")
	}
	wantMissing(t, s, "ok")
}

func testScanOrder(t *testing.T, s storage.Store) {
	// Inserted out of order; expected in bytewise order ("é" is 0xc3 0xa9).
	putKeys(t, s, "b", "a/é", "a/z", "a", "a/b/c", "a/a", "A", "a/b")
	wantKeys(t, "Scan all", scan(t, s, "", ""), "A", "a", "a/a", "a/b", "a/b/c", "a/z", "a/é", "b")
}

func testScanPrefix(t *testing.T, s storage.Store) {
	putKeys(t, s, "a", "a/", "a/1", "a/2", "a/2/x", "a0", "a0/1", "b/", "b/1", "Z")
	wantKeys(t, `Scan("a/")`, scan(t, s, "a/", ""), "a/", "a/1", "a/2", "a/2/x")
	wantKeys(t, `Scan("a/2")`, scan(t, s, "a/2", ""), "a/2", "a/2/x")
	wantKeys(t, `Scan("a")`, scan(t, s, "a", ""), "a", "a/", "a/1", "a/2", "a/2/x", "a0", "a0/1")
	wantKeys(t, `Scan("b/")`, scan(t, s, "b/", ""), "b/", "b/1")
	wantKeys(t, `Scan("c/")`, scan(t, s, "c/", ""))
	wantKeys(t, `Scan("a/3")`, scan(t, s, "a/3", ""))
}

func testScanAfter(t *testing.T, s storage.Store) {
	putKeys(t, s, "a", "p/1", "p/2", "p/3", "p/5", "q")
	cases := []struct {
		after string
		want  []string
	}{
		{"", []string{"p/1", "p/2", "p/3", "p/5"}},
		{"a", []string{"p/1", "p/2", "p/3", "p/5"}},  // before the prefix
		{"p/", []string{"p/1", "p/2", "p/3", "p/5"}}, // the prefix itself
		{"p/1", []string{"p/2", "p/3", "p/5"}},       // existing key: strictly after
		{"p/3", []string{"p/5"}},                     // existing key
		{"p/4", []string{"p/5"}},                     // missing key between
		{"p/1\x00", []string{"p/2", "p/3", "p/5"}},   // just after an existing key
		{"p/5", nil}, // the last key
		{"p/9", nil}, // past the last key
		{"q", nil},   // past the prefix
		{"p/0", []string{"p/1", "p/2", "p/3", "p/5"}}, // before the first key
		{"p", []string{"p/1", "p/2", "p/3", "p/5"}},   // a proper prefix of the prefix
		{"p/2/x", []string{"p/3", "p/5"}},             // a child of an existing key
		{"p/\xff", nil},                               // beyond all keys of the prefix
		{"p/10", []string{"p/2", "p/3", "p/5"}},       // sorts after p/1
		{"p/1/", []string{"p/2", "p/3", "p/5"}},       // sorts after p/1
		{"p/2" + strings.Repeat("z", 10), []string{"p/3", "p/5"}},
	}
	for _, c := range cases {
		wantKeys(t, fmt.Sprintf("Scan(%q, after %q)", "p/", c.after), scan(t, s, "p/", c.after), c.want...)
	}
	wantKeys(t, `Scan("", after "p/5")`, scan(t, s, "", "p/5"), "q")
}

func testScanPaging(t *testing.T, s storage.Store) {
	var want []string
	for i := range 25 {
		want = append(want, fmt.Sprintf("page/%03d", i))
	}
	putKeys(t, s, append([]string{"pag", "pagf", "pagg"}, want...)...)
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 20 {
			t.Fatalf("paging did not terminate; got %q so far", got)
		}
		var page []string
		err := s.View(t.Context(), func(r storage.Reader) error {
			return r.Scan("page/", after, func(k string, _ []byte) (bool, error) {
				page = append(page, k)
				return len(page) < 4, nil
			})
		})
		if err != nil {
			t.Fatalf("Scan page after %q: got error %v, want nil", after, err)
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		after = page[len(page)-1]
	}
	wantKeys(t, "paged Scan", got, want...)
}

func testScanStop(t *testing.T, s storage.Store) {
	putKeys(t, s, "k/1", "k/2", "k/3", "k/4")
	var seen []string
	err := s.View(t.Context(), func(r storage.Reader) error {
		return r.Scan("k/", "", func(k string, _ []byte) (bool, error) {
			seen = append(seen, k)
			return len(seen) < 2, nil
		})
	})
	if err != nil {
		t.Fatalf("Scan stopped early: got error %v, want nil", err)
	}
	wantKeys(t, "Scan stopped after 2", seen, "k/1", "k/2")

	// Stopping on the first key.
	seen = nil
	err = s.View(t.Context(), func(r storage.Reader) error {
		return r.Scan("k/", "", func(k string, _ []byte) (bool, error) {
			seen = append(seen, k)
			return false, nil
		})
	})
	if err != nil {
		t.Fatalf("Scan stopped at once: got error %v, want nil", err)
	}
	wantKeys(t, "Scan stopped after 1", seen, "k/1")
}

func testScanError(t *testing.T, s storage.Store) {
	putKeys(t, s, "k/1", "k/2", "k/3")
	wrapped := fmt.Errorf("context: %w", errSentinel)
	var seen int
	var scanErr error
	err := s.View(t.Context(), func(r storage.Reader) error {
		scanErr = r.Scan("k/", "", func(string, []byte) (bool, error) {
			seen++
			if seen == 2 {
				return true, wrapped
			}
			return true, nil
		})
		return scanErr
	})
	if !errors.Is(scanErr, errSentinel) {
		t.Fatalf("Scan with failing fn: got error %v, want %v", scanErr, wrapped)
	}
	if err != scanErr {
		t.Fatalf("View returning Scan's error: got %v, want %v unchanged", err, scanErr)
	}
	if seen != 2 {
		t.Fatalf("Scan calls after fn failed: got %d calls, want 2", seen)
	}
}

// testScanWhileWriting modifies keys already visited from inside the Scan
// callback; the scan must still visit every key exactly once.
func testScanWhileWriting(t *testing.T, s storage.Store) {
	var keys []string
	for i := range 40 {
		keys = append(keys, fmt.Sprintf("w/%02d", i))
	}
	putKeys(t, s, keys...)
	var seen []string
	err := s.Update(t.Context(), func(w storage.Writer) error {
		return w.Scan("w/", "", func(k string, _ []byte) (bool, error) {
			seen = append(seen, k)
			if len(seen) > len(keys) {
				return false, fmt.Errorf("scan visited %d keys, want %d: %q", len(seen), len(keys), seen)
			}
			n, _ := strconv.Atoi(strings.TrimPrefix(k, "w/"))
			if n%2 == 0 {
				return true, w.Delete(k)
			}
			return true, w.Put(k, bytes.Repeat([]byte("x"), 500))
		})
	})
	if err != nil {
		t.Fatalf("Update scanning and writing: got error %v, want nil", err)
	}
	wantKeys(t, "Scan while deleting and overwriting", seen, keys...)
	for i, k := range keys {
		if i%2 == 0 {
			wantMissing(t, s, k)
		} else {
			wantValue(t, s, k, bytes.Repeat([]byte("x"), 500))
		}
	}
}

func testUpdateRollback(t *testing.T, s storage.Store) {
	put(t, s, "keep", []byte("old"))
	put(t, s, "gone", []byte("old"))
	wrapped := fmt.Errorf("while updating: %w", errSentinel)
	calls := 0
	err := s.Update(t.Context(), func(w storage.Writer) error {
		calls++
		if err := w.Put("new", []byte("v")); err != nil {
			return err
		}
		if err := w.Put("keep", []byte("changed")); err != nil {
			return err
		}
		if err := w.Delete("gone"); err != nil {
			return err
		}
		return wrapped
	})
	if err != wrapped {
		t.Fatalf("Update with failing fn: got error %v, want %v unchanged", err, wrapped)
	}
	if !errors.Is(err, errSentinel) {
		t.Fatalf("errors.Is(Update error, sentinel): got false, want true")
	}
	if calls < 1 {
		t.Fatalf("fn calls: got %d, want at least 1", calls)
	}
	wantMissing(t, s, "new")
	wantValue(t, s, "keep", []byte("old"))
	wantValue(t, s, "gone", []byte("old"))
	wantKeys(t, "Scan after rollback", scan(t, s, "new", ""))

	// The bare sentinel comes back as itself too.
	err = s.Update(t.Context(), func(w storage.Writer) error {
		_ = w.Put("new", []byte("v"))
		return errSentinel
	})
	if err != errSentinel {
		t.Fatalf("Update returning sentinel: got %v, want %v unchanged", err, errSentinel)
	}
	wantMissing(t, s, "new")
}

func testUpdateReadsOwnWrites(t *testing.T, s storage.Store) {
	putKeys(t, s, "r/1", "r/3")
	err := s.Update(t.Context(), func(w storage.Writer) error {
		if err := w.Put("r/2", []byte("v:r/2")); err != nil {
			return err
		}
		if err := w.Delete("r/3"); err != nil {
			return err
		}
		if err := w.Put("r/1", []byte("v:r/1")); err != nil {
			return err
		}
		if got, err := w.Get("r/2"); err != nil || string(got) != "v:r/2" {
			t.Errorf("Get(r/2) after Put in same Update: got (%q, %v), want (%q, nil)", got, err, "v:r/2")
		}
		if got, err := w.Get("r/3"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Get(r/3) after Delete in same Update: got (%q, %v), want ErrNotFound", got, err)
		}
		var seen []string
		err := w.Scan("r/", "", func(k string, _ []byte) (bool, error) {
			seen = append(seen, k)
			return true, nil
		})
		if err != nil {
			return err
		}
		if strings.Join(seen, " ") != "r/1 r/2" {
			t.Errorf("Scan in same Update: got %q, want [r/1 r/2]", seen)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: got error %v, want nil", err)
	}
	wantKeys(t, "Scan after commit", scan(t, s, "r/", ""), "r/1", "r/2")
}

func testViewError(t *testing.T, s storage.Store) {
	wrapped := fmt.Errorf("while viewing: %w", errSentinel)
	err := s.View(t.Context(), func(storage.Reader) error { return wrapped })
	if err != wrapped {
		t.Fatalf("View with failing fn: got %v, want %v unchanged", err, wrapped)
	}
}

// testViewSnapshot checks that a View does not observe an Update that
// commits while the View is open. A store may instead make the Update wait
// for the View; then there is nothing to observe.
func testViewSnapshot(t *testing.T, s storage.Store) {
	put(t, s, "x", []byte("1"))
	put(t, s, "y", []byte("1"))
	updated := make(chan error, 1)
	err := s.View(t.Context(), func(r storage.Reader) error {
		if got, err := r.Get("x"); err != nil || string(got) != "1" {
			t.Errorf("Get(x) in View: got (%q, %v), want (\"1\", nil)", got, err)
		}
		go func() {
			updated <- s.Update(context.Background(), func(w storage.Writer) error {
				if err := w.Put("x", []byte("2")); err != nil {
					return err
				}
				if err := w.Put("z", []byte("2")); err != nil {
					return err
				}
				return w.Put("y", []byte("2"))
			})
		}()
		select {
		case err := <-updated:
			updated <- err
		case <-time.After(2 * time.Second):
			t.Log("Update blocked while a View was open; snapshot not observable")
			return nil
		}
		for _, k := range []string{"x", "y"} {
			if got, err := r.Get(k); err != nil || string(got) != "1" {
				t.Errorf("Get(%s) in View after a concurrent commit: got (%q, %v), want (\"1\", nil)", k, got, err)
			}
		}
		if got, err := r.Get("z"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Get(z) in View after a concurrent commit: got (%q, %v), want ErrNotFound", got, err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View: got error %v, want nil", err)
	}
	if err := <-updated; err != nil {
		t.Fatalf("concurrent Update: got error %v, want nil", err)
	}
	wantValue(t, s, "x", []byte("2"))
	wantValue(t, s, "y", []byte("2"))
}

// testViewConsistentUnderWrites runs readers that check an invariant (a == b)
// which every Update preserves.
func testViewConsistentUnderWrites(t *testing.T, s storage.Store) {
	put(t, s, "a", []byte("0"))
	put(t, s, "b", []byte("0"))
	ctx := t.Context()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		for i := 1; i <= 30; i++ {
			v := []byte(strconv.Itoa(i))
			err := s.Update(ctx, func(w storage.Writer) error {
				if err := w.Put("a", v); err != nil {
					return err
				}
				return w.Put("b", v)
			})
			if err != nil {
				t.Errorf("Update %d: got error %v, want nil", i, err)
				return
			}
		}
	})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				err := s.View(ctx, func(r storage.Reader) error {
					a, err := r.Get("a")
					if err != nil {
						return err
					}
					b, err := r.Get("b")
					if err != nil {
						return err
					}
					if !bytes.Equal(a, b) {
						return fmt.Errorf("inconsistent snapshot: got a=%q b=%q, want equal", a, b)
					}
					return nil
				})
				if err != nil {
					t.Errorf("View: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func testCompareAndSwap(t *testing.T, s storage.Store) {
	ctx := t.Context()
	check := func(what string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Fatalf("%s: got error %v, want %v", what, err, want)
		}
	}
	check("create absent", storage.CompareAndSwap(ctx, s, "k", nil, []byte("v1")), nil)
	wantValue(t, s, "k", []byte("v1"))
	check("create present", storage.CompareAndSwap(ctx, s, "k", nil, []byte("x")), storage.ErrConflict)
	check("swap wrong prev", storage.CompareAndSwap(ctx, s, "k", []byte("v0"), []byte("x")), storage.ErrConflict)
	check("swap empty prev", storage.CompareAndSwap(ctx, s, "k", []byte{}, []byte("x")), storage.ErrConflict)
	wantValue(t, s, "k", []byte("v1"))
	check("swap", storage.CompareAndSwap(ctx, s, "k", []byte("v1"), []byte("v2")), nil)
	wantValue(t, s, "k", []byte("v2"))
	check("swap missing", storage.CompareAndSwap(ctx, s, "missing", []byte("v"), []byte("x")), storage.ErrConflict)
	check("swap missing with empty prev", storage.CompareAndSwap(ctx, s, "missing", []byte{}, []byte("x")), storage.ErrConflict)
	wantMissing(t, s, "missing")
	check("delete wrong prev", storage.CompareAndSwap(ctx, s, "k", []byte("v1"), nil), storage.ErrConflict)
	check("delete", storage.CompareAndSwap(ctx, s, "k", []byte("v2"), nil), nil)
	wantMissing(t, s, "k")
	check("delete absent", storage.CompareAndSwap(ctx, s, "k", nil, nil), nil)
	wantMissing(t, s, "k")
	check("create empty", storage.CompareAndSwap(ctx, s, "e", nil, []byte{}), nil)
	check("swap from empty", storage.CompareAndSwap(ctx, s, "e", []byte{}, []byte("x")), nil)
	wantValue(t, s, "e", []byte("x"))
}

func testConcurrentIncrements(t *testing.T, s storage.Store) {
	const goroutines, increments = 8, 50
	ctx := t.Context()
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range increments {
				err := s.Update(ctx, func(w storage.Writer) error {
					n := 0
					v, err := w.Get("counter")
					switch {
					case errors.Is(err, storage.ErrNotFound):
					case err != nil:
						return err
					default:
						if n, err = strconv.Atoi(string(v)); err != nil {
							return err
						}
					}
					return w.Put("counter", []byte(strconv.Itoa(n+1)))
				})
				if err != nil {
					t.Errorf("increment: got error %v, want nil", err)
					return
				}
			}
		})
	}
	wg.Wait()
	wantValue(t, s, "counter", []byte(strconv.Itoa(goroutines*increments)))
}

func testContextCancelled(t *testing.T, s storage.Store) {
	put(t, s, "k", []byte("v"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	called := false
	err := s.View(ctx, func(storage.Reader) error { called = true; return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("View with cancelled context: got error %v, want context.Canceled", err)
	}
	err = s.Update(ctx, func(w storage.Writer) error { called = true; return w.Put("k", []byte("x")) })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update with cancelled context: got error %v, want context.Canceled", err)
	}
	if called {
		t.Errorf("fn called with a cancelled context: got called, want not called")
	}
	if _, err := storage.Get(ctx, s, "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with cancelled context: got error %v, want context.Canceled", err)
	}
	if err := storage.CompareAndSwap(ctx, s, "k", []byte("v"), []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("CompareAndSwap with cancelled context: got error %v, want context.Canceled", err)
	}
	wantValue(t, s, "k", []byte("v"))
}

func testClosed(t *testing.T, s storage.Store) {
	put(t, s, "k", []byte("v"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: got error %v, want nil", err)
	}
	called := false
	if err := s.View(t.Context(), func(storage.Reader) error { called = true; return nil }); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("View after Close: got error %v, want ErrClosed", err)
	}
	if err := s.Update(t.Context(), func(storage.Writer) error { called = true; return nil }); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Update after Close: got error %v, want ErrClosed", err)
	}
	if _, err := storage.Get(t.Context(), s, "k"); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("Get after Close: got error %v, want ErrClosed", err)
	}
	if err := storage.CompareAndSwap(t.Context(), s, "k", nil, []byte("x")); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("CompareAndSwap after Close: got error %v, want ErrClosed", err)
	}
	if called {
		t.Errorf("fn called after Close: got called, want not called")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: got error %v, want nil", err)
	}
}
