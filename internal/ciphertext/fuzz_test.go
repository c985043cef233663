package ciphertext_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"maps"
	"testing"

	"github.com/openkms/openkms/internal/ciphertext"
)

// fuzzBlobs returns valid blobs sealed under testKey(0) and testCtx, as a
// seed corpus. The nonces are fixed so that every fuzzing worker process
// computes the same blobs.
func fuzzBlobs(f *testing.F) [][]byte {
	kat, _ := hex.DecodeString(katBlobHex)
	key, _ := hex.DecodeString(katKeyHex)
	if !bytes.Equal(key, testKey(0)) {
		f.Fatal("testKey(0) is not the known-answer key")
	}
	blobs := [][]byte{kat}
	for _, n := range []int{0, 1, 32, 300} {
		for _, h := range []ciphertext.Header{
			testHeader,
			{Account: "000000000000", KeyID: "00000000-0000-0000-0000-000000000000"},
			{Account: "999999999999", KeyID: "ffffffff-ffff-ffff-ffff-ffffffffffff", Version: ^uint32(0)},
		} {
			nonce := bytes.NewReader(bytes.Repeat([]byte{byte(len(blobs))}, 12))
			b, err := ciphertext.Seal(key, h, bytes.Repeat([]byte{byte(n)}, n), testCtx, nonce)
			if err != nil {
				f.Fatal(err)
			}
			blobs = append(blobs, b)
		}
	}
	return blobs
}

func FuzzParseHeader(f *testing.F) {
	for _, b := range fuzzBlobs(f) {
		f.Add(b)
		f.Add(b[:ciphertext.HeaderLen])
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, blob []byte) {
		h, err := ciphertext.ParseHeader(blob)
		if err != nil {
			if err != ciphertext.ErrInvalid || h != (ciphertext.Header{}) {
				t.Fatalf("ParseHeader = %+v, %v; want zero, ErrInvalid", h, err)
			}
			return
		}
		if len(blob) < ciphertext.Overhead || len(blob) > ciphertext.MaxBlobLen {
			t.Fatalf("ParseHeader accepted a %d-byte blob", len(blob))
		}
		// A parsed header is canonical: sealing with it must reproduce the
		// same header bytes.
		again, err := ciphertext.Seal(testKey(0), h, nil, nil, bytes.NewReader(make([]byte, 12)))
		if err != nil {
			t.Fatalf("Seal(ParseHeader's header %+v): %v", h, err)
		}
		if !bytes.Equal(again[:ciphertext.HeaderLen], blob[:ciphertext.HeaderLen]) {
			t.Fatalf("header does not round-trip:\n got %x\nwant %x", again[:ciphertext.HeaderLen], blob[:ciphertext.HeaderLen])
		}
	})
}

// FuzzOpen: Open never panics, and only the exact valid blobs open; every
// mutation of them is rejected with ErrInvalid.
func FuzzOpen(f *testing.F) {
	valid := map[string]bool{}
	for _, b := range fuzzBlobs(f) {
		valid[string(b)] = true
		f.Add(b)
	}
	aead, err := ciphertext.NewAEAD(testKey(0))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, blob []byte) {
		h, pt, err := ciphertext.OpenAEAD(aead, blob, testCtx)
		if valid[string(blob)] {
			if err != nil {
				t.Fatalf("valid blob did not open: %v", err)
			}
			return
		}
		if err != ciphertext.ErrInvalid || pt != nil || h != (ciphertext.Header{}) {
			t.Fatalf("Open(forged %x) = %+v, %x, %v; want zero, nil, ErrInvalid", blob, h, pt, err)
		}
	})
}

// FuzzCanonicalContext: the encoding decodes back to the same context, with
// keys strictly ascending, so it is injective (unambiguous).
func FuzzCanonicalContext(f *testing.F) {
	f.Add("a", "bc", "ab", "c", "", "")
	f.Add("purpose", "test", "department", "10", "\x00\x00\x00\x01", "é")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3 string) {
		ctx := map[string]string{k1: v1, k2: v2, k3: v3}
		enc := ciphertext.CanonicalContext(ctx)
		got, err := decodeContext(enc)
		if err != nil {
			t.Fatalf("decode(%x): %v", enc, err)
		}
		if !maps.Equal(got, ctx) {
			t.Fatalf("decode(CanonicalContext(%q)) = %q", ctx, got)
		}
	})
}

// decodeContext is the inverse of CanonicalContext, written from the spec
// in docs/CIPHERTEXT.md. It rejects unsorted or duplicate keys.
func decodeContext(b []byte) (map[string]string, error) {
	ctx := map[string]string{}
	var keys []string
	next := func() (string, error) {
		if len(b) < 4 {
			return "", errors.New("short length")
		}
		n := binary.BigEndian.Uint32(b)
		b = b[4:]
		if uint64(len(b)) < uint64(n) {
			return "", errors.New("short data")
		}
		s := string(b[:n])
		b = b[n:]
		return s, nil
	}
	for len(b) > 0 {
		k, err := next()
		if err != nil {
			return nil, err
		}
		v, err := next()
		if err != nil {
			return nil, err
		}
		if len(keys) > 0 && k <= keys[len(keys)-1] {
			return nil, errors.New("keys not strictly ascending")
		}
		keys = append(keys, k)
		ctx[k] = v
	}
	return ctx, nil
}
