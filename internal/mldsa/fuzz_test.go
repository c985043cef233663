package mldsa

import (
	"bytes"
	"testing"
)

// FuzzVerifyMu feeds arbitrary signature bytes to VerifyMu for each
// parameter set. It must not panic, and it must accept nothing but the one
// valid signature it knows for that key and μ: finding another would be a
// forgery (ML-DSA with canonical hints is strongly unforgeable).
func FuzzVerifyMu(f *testing.F) {
	type fixture struct {
		pk, sig []byte
		mu      [MuSize]byte
	}
	fixtures := make([]fixture, len(circlSchemes))
	for i, s := range circlSchemes {
		pk, sk := s.keyFromSeed(testSeed(500 + i))
		mu := pureMu(sk, []byte("fuzz"), nil)
		sig, err := SignMu(s.params, sk, mu, [RandomSize]byte{})
		if err != nil {
			f.Fatal(err)
		}
		fixtures[i] = fixture{pk, sig, mu}
		f.Add(byte(i), sig, false)
		f.Add(byte(i), sig[:len(sig)-1], false)
		f.Add(byte(i), sig, true)
	}
	f.Add(byte(0), []byte{}, false)
	f.Fuzz(func(t *testing.T, which byte, sig []byte, flipMu bool) {
		i := int(which) % len(fixtures)
		fx, p := fixtures[i], circlSchemes[i].params
		mu := fx.mu
		if flipMu {
			mu[0] ^= 1
		}
		// Also try the bytes laid over the valid signature, so that the
		// fuzzer reaches the hint and z decoding of full-length inputs.
		overlay := bytes.Clone(fx.sig)
		copy(overlay[len(overlay)-min(len(sig), len(overlay)):], sig)
		for _, s := range [][]byte{sig, overlay} {
			if VerifyMu(p, fx.pk, mu, s) && (flipMu || !bytes.Equal(s, fx.sig)) {
				t.Fatalf("%s: VerifyMu accepted % x", p, s)
			}
		}
	})
}
