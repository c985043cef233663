package keywrap

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRFC5649Vectors uses the two examples of RFC 5649 section 6.
func TestRFC5649Vectors(t *testing.T) {
	kek := unhex(t, "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8")
	cases := []struct{ key, wrapped string }{
		{"c37b7e6492584340bed12207808941155068f738", "138bdeaa9b8fa7fc61f97742e72248ee5ae6ae5360d1ae6a5f54f373fa543b6a"},
		{"466f7250617369", "afbeb0f07dfbf5419200f2ccb50bb24f"},
	}
	for _, c := range cases {
		got, err := Wrap(kek, unhex(t, c.key))
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got) != c.wrapped {
			t.Errorf("Wrap: got %x, want %s", got, c.wrapped)
		}
		key, err := Unwrap(kek, unhex(t, c.wrapped))
		if err != nil || hex.EncodeToString(key) != c.key {
			t.Errorf("Unwrap: got %x, %v; want %s", key, err, c.key)
		}
	}
}

func TestRoundTripAndTampering(t *testing.T) {
	kek := bytes.Repeat([]byte{7}, 32)
	for _, n := range []int{1, 7, 8, 9, 16, 31, 32, 33, 1217, 2400} {
		pt := bytes.Repeat([]byte{byte(n)}, n)
		w, err := Wrap(kek, pt)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Unwrap(kek, w)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("round trip of %d bytes: %v", n, err)
		}
		for i := range w {
			bad := bytes.Clone(w)
			bad[i] ^= 0x80
			if _, err := Unwrap(kek, bad); err != ErrUnwrap {
				t.Fatalf("%d bytes, flipped byte %d: got %v, want ErrUnwrap", n, i, err)
			}
		}
		if _, err := Unwrap(bytes.Repeat([]byte{8}, 32), w); err != ErrUnwrap {
			t.Fatalf("wrong KEK: got %v, want ErrUnwrap", err)
		}
	}
	for _, bad := range [][]byte{nil, make([]byte, 8), make([]byte, 17), make([]byte, 24)} {
		if _, err := Unwrap(kek, bad); err != ErrUnwrap {
			t.Errorf("Unwrap(%d bytes): got %v, want ErrUnwrap", len(bad), err)
		}
	}
	if _, err := Wrap(kek, nil); err == nil {
		t.Error("Wrap(empty): got nil error")
	}
}

func FuzzUnwrap(f *testing.F) {
	kek := bytes.Repeat([]byte{7}, 32)
	w, _ := Wrap(kek, []byte("0123456789abcdef0123456789abcdef"))
	f.Add(w)
	f.Add(make([]byte, 16))
	f.Fuzz(func(t *testing.T, in []byte) {
		pt, err := Unwrap(kek, in)
		if err == nil {
			rw, err := Wrap(kek, pt)
			if err != nil || !bytes.Equal(rw, in) {
				t.Fatalf("unwrapped input does not re-wrap to itself")
			}
		}
	})
}
