package rootkey_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"

	"github.com/openkms/openkms/internal/rootkey"
	"github.com/openkms/openkms/internal/rootkey/rootkeytest"
)

func newSealer(t testing.TB, key []byte) rootkey.Sealer {
	t.Helper()
	s, err := rootkey.NewAESGCMSealer(key)
	if err != nil {
		t.Fatalf("NewAESGCMSealer: got error %v, want nil", err)
	}
	return s
}

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

func TestAESGCMSealerConformance(t *testing.T) {
	rootkeytest.RunSealer(t, newSealer(t, testKey(1)), newSealer(t, testKey(2)))
}

func TestNewAESGCMSealerKeySize(t *testing.T) {
	for _, n := range []int{0, 16, 24, 31, 33, 64} {
		if s, err := rootkey.NewAESGCMSealer(make([]byte, n)); err == nil || s != nil {
			t.Errorf("NewAESGCMSealer(%d-byte key): got (%v, %v), want (nil, error)", n, s, err)
		}
	}
}

func TestNewAESGCMSealerCopiesKey(t *testing.T) {
	key := testKey(7)
	s := newSealer(t, key)
	sealed, err := s.Seal([]byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	clear(key)
	if got, err := s.Open(sealed, nil); err != nil || string(got) != "x" {
		t.Fatalf("Open after clearing the caller's key: got (%q, %v), want (\"x\", nil)", got, err)
	}
}

// TestAESGCMFormat pins the version 1 layout with the standard library's
// AES-GCM: version || nonce || ciphertext || tag, additional data version || aad.
func TestAESGCMFormat(t *testing.T) {
	key := testKey(3)
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	s := newSealer(t, key)
	plaintext, aad := []byte("plaintext"), []byte("aad")

	sealed, err := s.Seal(plaintext, aad)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(sealed), 1+12+len(plaintext)+16; got != want {
		t.Fatalf("sealed length: got %d, want %d", got, want)
	}
	if sealed[0] != 1 {
		t.Fatalf("version byte: got %d, want 1", sealed[0])
	}
	got, err := gcm.Open(nil, sealed[1:13], sealed[13:], append([]byte{1}, aad...))
	if err != nil || !bytes.Equal(got, plaintext) {
		t.Fatalf("standard GCM open of Seal output: got (%q, %v), want (%q, nil)", got, err, plaintext)
	}

	// A value built by hand with a fixed nonce opens.
	nonce, _ := hex.DecodeString("000102030405060708090a0b")
	manual := append([]byte{1}, nonce...)
	manual = gcm.Seal(manual, nonce, plaintext, append([]byte{1}, aad...))
	if got, err := s.Open(manual, aad); err != nil || !bytes.Equal(got, plaintext) {
		t.Fatalf("Open of a hand-built value: got (%q, %v), want (%q, nil)", got, err, plaintext)
	}

	// The version byte is authenticated: the same body under another version
	// byte, or sealed without the version in the additional data, fails.
	other := gcm.Seal(append([]byte{1}, nonce...), nonce, plaintext, aad)
	if got, err := s.Open(other, aad); !errors.Is(err, rootkey.ErrOpen) {
		t.Fatalf("Open of a value without the version in its additional data: got (%q, %v), want ErrOpen", got, err)
	}
	for _, v := range []byte{0, 2, 0xff} {
		bad := append([]byte{v}, manual[1:]...)
		if got, err := s.Open(bad, aad); !errors.Is(err, rootkey.ErrOpen) {
			t.Fatalf("Open with version %d: got (%q, %v), want ErrOpen", v, got, err)
		}
	}
}

func TestAESGCMSealerNoSecretsInFormat(t *testing.T) {
	key := testKey(0xab)
	s := newSealer(t, key)
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, s)
		if bytes.Contains([]byte(out), key[:4]) || len(out) > 64 {
			t.Errorf("fmt %s of a Sealer: got %q, want no key material", format, out)
		}
	}
}

func FuzzOpen(f *testing.F) {
	s := newSealer(f, testKey(9))
	for _, pt := range []string{"", "x", "a 32-byte secret key, for tests!"} {
		sealed, err := s.Seal([]byte(pt), []byte("aad"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(sealed, []byte("aad"))
		f.Add(sealed[:len(sealed)-1], []byte("aad"))
	}
	f.Add([]byte{}, []byte{})
	f.Add([]byte{1}, []byte(nil))
	f.Add(make([]byte, 29), []byte("aad"))
	f.Fuzz(func(t *testing.T, sealed, aad []byte) {
		got, err := s.Open(sealed, aad)
		if err != nil {
			if !errors.Is(err, rootkey.ErrOpen) || got != nil {
				t.Fatalf("Open: got (%x, %v), want (nil, ErrOpen) or success", got, err)
			}
			return
		}
		// Only genuine seals open; reseal to check the round trip holds.
		again, err := s.Seal(got, aad)
		if err != nil {
			t.Fatal(err)
		}
		if got2, err := s.Open(again, aad); err != nil || !bytes.Equal(got2, got) {
			t.Fatalf("reseal round trip: got (%x, %v), want (%x, nil)", got2, err, got)
		}
	})
}
