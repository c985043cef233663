package mldsa

import (
	"bytes"
	"go/parser"
	"go/token"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPackBits: unpackBits inverts packBits for every width the encodings
// use, and packBits writes least significant bit first.
func TestPackBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, width := range []int{3, 4, 6, 10, 13, 18, 20} {
		var v [n]uint32
		for i := range v {
			v[i] = rng.Uint32N(1 << width)
		}
		packed := packBits(nil, &v, width)
		if len(packed) != 32*width {
			t.Fatalf("width %d: %d bytes", width, len(packed))
		}
		if unpackBits(packed, width) != v {
			t.Fatalf("width %d: unpack(pack(v)) != v", width)
		}
	}
	// 4-bit values 1, 2 → byte 0x21; 10-bit 0x3ff, 1 → ff 07 00 ...
	v := [n]uint32{1, 2}
	if got := packBits(nil, &v, 4); got[0] != 0x21 {
		t.Errorf("4-bit packing: first byte %#x, want 0x21", got[0])
	}
	v = [n]uint32{0x3ff, 1}
	if got := packBits(nil, &v, 10); !bytes.Equal(got[:3], []byte{0xff, 0x07, 0x00}) {
		t.Errorf("10-bit packing: % x", got[:3])
	}
}

// TestHintBitUnpack: HintBitUnpack (FIPS 204 Algorithm 21) inverts
// HintBitPack and refuses every encoding HintBitPack cannot produce.
func TestHintBitUnpack(t *testing.T) {
	for _, p := range []*Params{MLDSA44, MLDSA65, MLDSA87} {
		t.Run(p.String(), func(t *testing.T) {
			h := make([]hintPoly, p.k)
			h[0][3], h[0][200] = 1, 1 // polynomial 0: positions 3, 200
			h[1][5] = 1               // polynomial 1: position 5 (below 200: fine)
			h[p.k-1][255] = 1
			y := hintBitPack(p, h)
			if len(y) != p.omega+p.k {
				t.Fatalf("length %d", len(y))
			}
			got, ok := hintBitUnpack(p, y)
			if !ok {
				t.Fatal("canonical encoding refused")
			}
			for i := range h {
				if got[i] != h[i] {
					t.Fatalf("polynomial %d differs", i)
				}
			}
			// A full hint (ω ones) is valid.
			full := make([]hintPoly, p.k)
			for j := range p.omega {
				full[j%p.k][j/p.k] = 1
			}
			if _, ok := hintBitUnpack(p, hintBitPack(p, full)); !ok {
				t.Error("hint with ω ones refused")
			}
			refused := map[string]func(y []byte){
				"count decreases": func(y []byte) { y[p.omega+1] = y[p.omega] - 1 },
				"count above ω":   func(y []byte) { y[p.omega+p.k-1] = byte(p.omega + 1) },
				"equal positions": func(y []byte) { y[1] = y[0] },
				"positions decrease": func(y []byte) {
					y[0], y[1] = y[1], y[0]
				},
				"non-zero padding": func(y []byte) { y[p.omega-1] = 1 },
				"padding right after the last position": func(y []byte) {
					y[int(y[p.omega+p.k-1])] = 9
				},
			}
			for name, mutate := range refused {
				bad := bytes.Clone(y)
				mutate(bad)
				if _, ok := hintBitUnpack(p, bad); ok {
					t.Errorf("%s: accepted % x", name, bad)
				}
			}
		})
	}
}

// TestSkDecodeRange: an s1 or s2 coefficient outside [−η, η] (packed value
// above 2η) is refused; the boundary values are accepted.
func TestSkDecodeRange(t *testing.T) {
	for _, s := range circlSchemes {
		p := s.params
		_, sk := s.keyFromSeed(testSeed(300))
		if _, err := skDecode(p, sk); err != nil {
			t.Fatalf("%s: circl key refused: %v", p, err)
		}
		// Overwrite the first coefficient of s1 (at byte 128) and the last
		// of s2 with each possible packed value.
		last := 128 + (p.l+p.k)*32*p.etaBits - 1
		for v := range uint32(1 << p.etaBits) {
			for _, at := range []int{128, last} {
				bad := bytes.Clone(sk)
				var poly [n]uint32
				if at == 128 {
					poly = unpackBits(bad[128:], p.etaBits)
					poly[0] = v
					packBits(bad[:128], &poly, p.etaBits)
				} else {
					start := last + 1 - 32*p.etaBits
					poly = unpackBits(bad[start:], p.etaBits)
					poly[n-1] = v
					packBits(bad[:start], &poly, p.etaBits)
				}
				_, err := skDecode(p, bad)
				_, signErr := SignMu(p, bad, [MuSize]byte{}, [RandomSize]byte{})
				if (err == nil) != (v <= 2*p.eta) || (signErr == nil) != (err == nil) {
					t.Errorf("%s: packed value %d at byte %d: skDecode %v, SignMu %v", p, v, at, err, signErr)
				}
			}
		}
	}
}

// TestBadInputs: wrong lengths and unknown parameter sets are errors or
// false, never panics.
func TestBadInputs(t *testing.T) {
	s := circlSchemes[1]
	p := s.params
	pk, sk := s.keyFromSeed(testSeed(400))
	var mu [MuSize]byte
	sig, err := SignMu(p, sk, mu, [RandomSize]byte{})
	if err != nil || !VerifyMu(p, pk, mu, sig) {
		t.Fatalf("baseline: %v", err)
	}
	for _, bad := range [][]byte{nil, sk[:len(sk)-1], append(bytes.Clone(sk), 0)} {
		if _, err := SignMu(p, bad, mu, [RandomSize]byte{}); err == nil {
			t.Errorf("SignMu accepted a %d-byte private key", len(bad))
		}
	}
	for _, other := range []*Params{nil, {}, MLDSA44, MLDSA87} {
		if _, err := SignMu(other, sk, mu, [RandomSize]byte{}); err == nil {
			t.Errorf("SignMu(%v) accepted an ML-DSA-65 key", other)
		}
		if VerifyMu(other, pk, mu, sig) {
			t.Errorf("VerifyMu(%v) accepted an ML-DSA-65 signature", other)
		}
	}
	for _, bad := range [][]byte{nil, pk[:len(pk)-1], append(bytes.Clone(pk), 0)} {
		if VerifyMu(p, bad, mu, sig) {
			t.Errorf("VerifyMu accepted a %d-byte public key", len(bad))
		}
	}
	for _, bad := range [][]byte{nil, sig[:len(sig)-1], append(bytes.Clone(sig), 0)} {
		if VerifyMu(p, pk, mu, bad) {
			t.Errorf("VerifyMu accepted a %d-byte signature", len(bad))
		}
	}
	// A non-canonical hint that decodes to the same h: a non-zero byte in
	// the unused positions. Only Algorithm 21's check refuses it.
	hints := sig[len(sig)-p.omega-p.k:]
	if used := int(hints[p.omega+p.k-1]); used < p.omega {
		bad := bytes.Clone(sig)
		bad[len(sig)-p.k-1] = 1 // last position byte, unused
		if VerifyMu(p, pk, mu, bad) {
			t.Error("VerifyMu accepted a signature with non-zero hint padding")
		}
	} else {
		t.Fatal("test signature has a full hint; pick another seed")
	}
}

// TestStandardLibraryOnly: the package imports nothing but the standard
// library (its tests may import circl).
func TestStandardLibraryOnly(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if first, _, _ := strings.Cut(path, "/"); strings.Contains(first, ".") {
				t.Errorf("%s imports %s, which is not in the standard library", name, path)
			}
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no source files found")
	}
}
