// Package rootkeytest is the conformance suite that every rootkey.Sealer
// implementation must pass (software AES-GCM, PKCS#11, ...).
package rootkeytest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/openkms/openkms/internal/rootkey"
)

// RunSealer runs the conformance suite against s. other must be a Sealer of
// the same kind under a different root key.
func RunSealer(t *testing.T, s, other rootkey.Sealer) {
	t.Helper()
	if s == nil || other == nil {
		t.Fatal("RunSealer: nil Sealer")
	}
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, s) })
	t.Run("EmptyPlaintext", func(t *testing.T) { testEmptyPlaintext(t, s) })
	t.Run("AADBinding", func(t *testing.T) { testAADBinding(t, s) })
	t.Run("Tampering", func(t *testing.T) { testTampering(t, s) })
	t.Run("Truncated", func(t *testing.T) { testTruncated(t, s) })
	t.Run("OtherRootKey", func(t *testing.T) { testOtherRootKey(t, s, other) })
	t.Run("FreshNonces", func(t *testing.T) { testFreshNonces(t, s) })
	t.Run("InputsUnchanged", func(t *testing.T) { testInputsUnchanged(t, s) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, s) })
}

func seal(t *testing.T, s rootkey.Sealer, plaintext, aad []byte) []byte {
	t.Helper()
	sealed, err := s.Seal(plaintext, aad)
	if err != nil {
		t.Fatalf("Seal(%d bytes): got error %v, want nil", len(plaintext), err)
	}
	return sealed
}

func wantOpenError(t *testing.T, what string, s rootkey.Sealer, sealed, aad []byte) {
	t.Helper()
	got, err := s.Open(sealed, aad)
	if !errors.Is(err, rootkey.ErrOpen) {
		t.Fatalf("%s: got (%x, %v), want ErrOpen", what, got, err)
	}
	if got != nil {
		t.Fatalf("%s: got plaintext %x with the error, want nil", what, got)
	}
}

func testRoundTrip(t *testing.T, s rootkey.Sealer) {
	for _, n := range []int{1, 15, 16, 17, 32, 1000, 4096, 1 << 16} {
		for _, aad := range [][]byte{nil, []byte("arn:aws:kms:us-east-1:111122223333:key/1234/v1"), make([]byte, 300)} {
			plaintext := bytes.Repeat([]byte{byte(n), 0, 0xff}, n)[:n]
			sealed := seal(t, s, plaintext, aad)
			if bytes.Contains(sealed, plaintext) && n >= 16 {
				t.Fatalf("Seal(%d bytes): plaintext appears in the output", n)
			}
			got, err := s.Open(sealed, aad)
			if err != nil {
				t.Fatalf("Open(Seal(%d bytes), aad %d bytes): got error %v, want nil", n, len(aad), err)
			}
			if !bytes.Equal(got, plaintext) {
				t.Fatalf("Open(Seal(%d bytes)): got %x, want %x", n, got, plaintext)
			}
		}
	}
}

func testEmptyPlaintext(t *testing.T, s rootkey.Sealer) {
	for _, plaintext := range [][]byte{nil, {}} {
		sealed := seal(t, s, plaintext, []byte("aad"))
		got, err := s.Open(sealed, []byte("aad"))
		if err != nil || len(got) != 0 {
			t.Fatalf("Open(Seal(empty)): got (%x, %v), want (empty, nil)", got, err)
		}
		wantOpenError(t, "Open(Seal(empty)) with other aad", s, sealed, []byte("aae"))
	}
}

func testAADBinding(t *testing.T, s rootkey.Sealer) {
	aad := []byte("key/1234\x00v1")
	sealed := seal(t, s, []byte("secret"), aad)
	for _, bad := range [][]byte{
		nil,
		[]byte("key/1234\x00v2"),
		[]byte("key/1234\x00v1\x00"),
		[]byte("key/1234\x00v"),
		[]byte("key/1234"),
		[]byte("\x01key/1234\x00v1"),
		[]byte("KEY/1234\x00v1"),
	} {
		wantOpenError(t, fmt.Sprintf("Open with aad %q instead of %q", bad, aad), s, sealed, bad)
	}
	// A value sealed with an aad does not open without it, and vice versa.
	sealed = seal(t, s, []byte("secret"), nil)
	wantOpenError(t, "Open of a value sealed without aad, with aad", s, sealed, []byte{0})
}

func testTampering(t *testing.T, s rootkey.Sealer) {
	aad := []byte("aad")
	sealed := seal(t, s, []byte("a 32-byte secret key, for tests!"), aad)
	for i := range sealed {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			tampered := bytes.Clone(sealed)
			tampered[i] ^= mask
			wantOpenError(t, fmt.Sprintf("Open with byte %d ^ %#x", i, mask), s, tampered, aad)
		}
	}
	wantOpenError(t, "Open with a byte appended", s, append(bytes.Clone(sealed), 0), aad)
	wantOpenError(t, "Open with a byte prepended", s, append([]byte{sealed[0]}, sealed...), aad)
}

func testTruncated(t *testing.T, s rootkey.Sealer) {
	sealed := seal(t, s, []byte("secret"), nil)
	for n := range len(sealed) {
		wantOpenError(t, fmt.Sprintf("Open of the first %d of %d bytes", n, len(sealed)), s, sealed[:n], nil)
		wantOpenError(t, fmt.Sprintf("Open of the last %d of %d bytes", n, len(sealed)), s, sealed[len(sealed)-n:], nil)
	}
	wantOpenError(t, "Open(nil)", s, nil, nil)
}

func testOtherRootKey(t *testing.T, s, other rootkey.Sealer) {
	for _, plaintext := range [][]byte{nil, []byte("secret")} {
		wantOpenError(t, "other.Open(s.Seal(...))", other, seal(t, s, plaintext, []byte("aad")), []byte("aad"))
		wantOpenError(t, "s.Open(other.Seal(...))", s, seal(t, other, plaintext, []byte("aad")), []byte("aad"))
	}
}

func testFreshNonces(t *testing.T, s rootkey.Sealer) {
	seen := make(map[string]bool)
	for range 100 {
		sealed := seal(t, s, []byte("same plaintext"), []byte("same aad"))
		if seen[string(sealed)] {
			t.Fatalf("two Seals of the same input: got identical outputs %x, want different", sealed)
		}
		seen[string(sealed)] = true
	}
	a := seal(t, s, nil, nil)
	b := seal(t, s, nil, nil)
	if bytes.Equal(a, b) {
		t.Fatalf("two Seals of empty input: got identical outputs %x, want different", a)
	}
}

func testInputsUnchanged(t *testing.T, s rootkey.Sealer) {
	plaintext := []byte("secret plaintext")
	aad := []byte("aad")
	sealed := seal(t, s, plaintext, aad)
	if string(plaintext) != "secret plaintext" || string(aad) != "aad" {
		t.Fatalf("Seal modified its inputs: got %q, %q", plaintext, aad)
	}
	orig := bytes.Clone(sealed)
	got, err := s.Open(sealed, aad)
	if err != nil {
		t.Fatalf("Open: got error %v, want nil", err)
	}
	if !bytes.Equal(sealed, orig) || string(aad) != "aad" {
		t.Fatal("Open modified its inputs")
	}
	// The plaintext returned is the caller's: changing it changes nothing.
	got[0] ^= 0xff
	if again, err := s.Open(sealed, aad); err != nil || string(again) != "secret plaintext" {
		t.Fatalf("Open after changing a previous result: got (%q, %v), want (%q, nil)", again, err, "secret plaintext")
	}
}

func testConcurrent(t *testing.T, s rootkey.Sealer) {
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				plaintext := fmt.Appendf(nil, "secret %d/%d", g, i)
				aad := fmt.Appendf(nil, "aad %d", i)
				sealed, err := s.Seal(plaintext, aad)
				if err != nil {
					t.Errorf("concurrent Seal: got error %v, want nil", err)
					return
				}
				got, err := s.Open(sealed, aad)
				if err != nil || !bytes.Equal(got, plaintext) {
					t.Errorf("concurrent Open: got (%q, %v), want (%q, nil)", got, err, plaintext)
					return
				}
			}
		})
	}
	wg.Wait()
}
