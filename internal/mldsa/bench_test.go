package mldsa

import (
	"testing"

	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
)

// Benchmarks for ML-DSA-65, with circl's pure signing and verification of a
// short message for comparison (those also hash the message into μ, which
// costs little for a short message). Run with
// go test -bench 'Mu' -run '^$' ./internal/mldsa/
// (the circl ones match 'Circl').

func benchKey(b *testing.B) (pk, sk []byte, mu [MuSize]byte, sig []byte) {
	pk, sk = circlSchemes[1].keyFromSeed(testSeed(600))
	mu = pureMu(sk, []byte("benchmark message"), nil)
	sig, err := SignMu(MLDSA65, sk, mu, [RandomSize]byte{})
	if err != nil {
		b.Fatal(err)
	}
	return pk, sk, mu, sig
}

func BenchmarkSignMu65(b *testing.B) {
	_, sk, mu, _ := benchKey(b)
	var rnd [RandomSize]byte
	for i := 0; b.Loop(); i++ {
		// Hedged signing, with a different rnd each time so the
		// benchmark averages over the number of rejection-loop attempts.
		rnd[0], rnd[1] = byte(i), byte(i>>8)
		if _, err := SignMu(MLDSA65, sk, mu, rnd); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyMu65(b *testing.B) {
	pk, _, mu, sig := benchKey(b)
	for b.Loop() {
		if !VerifyMu(MLDSA65, pk, mu, sig) {
			b.Fatal("does not verify")
		}
	}
}

func BenchmarkCirclSign65(b *testing.B) {
	seed := testSeed(600)
	_, sk := mldsa65.NewKeyFromSeed(&seed)
	sig := make([]byte, mldsa65.SignatureSize)
	for b.Loop() {
		if err := mldsa65.SignTo(sk, []byte("benchmark message"), nil, true, sig); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCirclVerify65(b *testing.B) {
	seed := testSeed(600)
	pk, sk := mldsa65.NewKeyFromSeed(&seed)
	sig := make([]byte, mldsa65.SignatureSize)
	if err := mldsa65.SignTo(sk, []byte("benchmark message"), nil, false, sig); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if !mldsa65.Verify(pk, []byte("benchmark message"), nil, sig) {
			b.Fatal("does not verify")
		}
	}
}
