package mldsa

import (
	"crypto/sha3"
	"crypto/subtle"
	"errors"
	"fmt"
)

// errIterations is returned if the signing loop of SignMu runs out of
// attempts.
var errIterations = errors.New("mldsa: signing exceeded the iteration limit")

// SignMu is ML-DSA.Sign_internal (FIPS 204, Algorithm 7) given μ instead of
// M′: step 6's μ ← H(tr || M′, 64) is the caller's, and everything else is
// as specified. sk is skEncode's output (Algorithm 24; what circl's
// PrivateKey.Bytes returns), of exactly p.PrivateKeySize() bytes. rnd is the
// signing randomness: 32 fresh random bytes for the hedged variant, all
// zeros for the deterministic one.
//
// For the pure ML-DSA.Sign of a message M with context ctx (Algorithm 2),
// μ = H(H(pk, 64) || 0 || len(ctx) || ctx || M, 64); that is what AWS KMS's
// EXTERNAL_MU clients send.
//
// A malformed private key (wrong length, an s1 or s2 coefficient out of
// range) is an error; so is an unknown p.
func SignMu(p *Params, sk []byte, mu [MuSize]byte, rnd [RandomSize]byte) ([]byte, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	if len(sk) != p.PrivateKeySize() {
		return nil, fmt.Errorf("mldsa: %s private key must be %d bytes, got %d", p, p.PrivateKeySize(), len(sk))
	}
	// Step 1: (ρ, K, tr, s1, s2, t0) ← skDecode(sk).
	key, err := skDecode(p, sk)
	if err != nil {
		return nil, err
	}
	// Steps 2–4: ŝ1, ŝ2, t̂0 in the NTT domain.
	s1Hat, s2Hat, t0Hat := nttVector(key.s1), nttVector(key.s2), nttVector(key.t0)
	// Step 5: Â ← ExpandA(ρ).
	aHat := expandA(p, key.rho)
	// Step 6 (μ ← H(BytesToBits(tr) || M′, 64)) is the caller's.
	// Step 7: ρ′′ ← H(K || rnd || μ, 64).
	var rhoPrime [64]byte
	h := sha3.NewSHAKE256()
	h.Write(key.key)
	h.Write(rnd[:])
	h.Write(mu[:])
	h.Read(rhoPrime[:])

	// Steps 8–32: the rejection loop, κ ← 0 and κ ← κ + l per attempt.
	// ExpandMask writes κ + r (r < l) in two bytes, so the loop gives up
	// before κ + l would pass 2^16: after more than 9000 attempts, far above
	// the 814 that FIPS 204 (Appendix C) requires any limit to allow.
	// Reaching it has negligible probability.
	w1 := make([][n]uint32, p.k)
	hint := make([]hintPoly, p.k)
	for kappa := 0; kappa+p.l <= 1<<16; kappa += p.l {
		// Step 11: y ← ExpandMask(ρ′′, κ).
		y := expandMask(p, &rhoPrime, kappa)
		// Step 12: w ← NTT^−1(Â ∘ NTT(y)).
		w := inverseNTTVector(matrixVectorNTT(aHat, nttVector(y)))
		// Step 13: w1 ← HighBits(w).
		for i := range w {
			for j := range w[i] {
				w1[i][j] = highBits(p, w[i][j])
			}
		}
		// Step 15: c̃ ← H(μ || w1Encode(w1), λ/4).
		cTilde := make([]byte, p.lambda/4)
		h := sha3.NewSHAKE256()
		h.Write(mu[:])
		h.Write(w1Encode(p, w1))
		h.Read(cTilde)
		// Steps 16–17: c ← SampleInBall(c̃), ĉ ← NTT(c).
		cHat := ntt(sampleInBall(p, cTilde))
		// Steps 18–19: ⟨⟨cs1⟩⟩ and ⟨⟨cs2⟩⟩.
		cs1 := scalarVectorMul(&cHat, s1Hat)
		cs2 := scalarVectorMul(&cHat, s2Hat)
		// Step 20: z ← y + ⟨⟨cs1⟩⟩ (in y's storage; y is not needed after).
		z := y
		for i := range z {
			for j := range z[i] {
				z[i][j] = fieldAdd(y[i][j], cs1[i][j])
			}
		}
		// Step 23's first test: ||z||∞ ≥ γ1 − β.
		var reject uint32
		for i := range z {
			for _, c := range z[i] {
				reject |= ctAtLeast(c.abs(), p.gamma1-p.beta)
			}
		}
		// Step 25: ⟨⟨ct0⟩⟩.
		ct0 := scalarVectorMul(&cHat, t0Hat)
		ones := uint32(0)
		for i := range w {
			for j := range w[i] {
				r := fieldSub(w[i][j], cs2[i][j]) // w − ⟨⟨cs2⟩⟩
				// Step 21: r0 ← LowBits(w − ⟨⟨cs2⟩⟩), and step 23's
				// second test: ||r0||∞ ≥ γ2 − β.
				_, r0 := decompose(p, r)
				reject |= ctAtLeast(ctAbs(r0), p.gamma2-p.beta)
				// Step 28's first test: ||⟨⟨ct0⟩⟩||∞ ≥ γ2.
				reject |= ctAtLeast(ct0[i][j].abs(), p.gamma2)
				// Step 26: h ← MakeHint(−⟨⟨ct0⟩⟩, w − ⟨⟨cs2⟩⟩ + ⟨⟨ct0⟩⟩).
				bit := makeHint(p, fieldSub(0, ct0[i][j]), fieldAdd(r, ct0[i][j]))
				hint[i][j] = uint8(bit)
				ones += bit
			}
		}
		// Step 28's second test: more than ω ones in h.
		reject |= ctAtLeast(ones, uint32(p.omega)+1)
		// Steps 23 and 28 reject the attempt if any test failed. All of
		// them were computed, whatever the outcome, so that only whether
		// the attempt was rejected shows, not why.
		if reject != 0 {
			continue
		}
		// Step 33: σ ← sigEncode(c̃, z mod± q, h).
		return sigEncode(p, cTilde, z, hint), nil
	}
	return nil, errIterations
}

// VerifyMu is ML-DSA.Verify_internal (FIPS 204, Algorithm 8) given μ
// instead of M′: steps 6–7 (tr ← H(pk, 64), μ ← H(tr || M′, 64)) are the
// caller's. pk is pkEncode's output (Algorithm 22; what circl's
// PublicKey.Bytes returns). It reports whether sig is a valid signature of μ
// under pk; a key or signature of the wrong length, a malformed hint and an
// unknown p all give false.
func VerifyMu(p *Params, pk []byte, mu [MuSize]byte, sig []byte) bool {
	if p.check() != nil || len(pk) != p.PublicKeySize() || len(sig) != p.SignatureSize() {
		return false
	}
	// Step 1: (ρ, t1) ← pkDecode(pk).
	rho, t1 := pkDecode(p, pk)
	// Steps 2–4: (c̃, z, h) ← sigDecode(σ); a malformed hint is ⊥.
	cTilde, z, hint, ok := sigDecode(p, sig)
	if !ok {
		return false
	}
	// Step 13's first test, ||z||∞ < γ1 − β, done first since it is cheap.
	// Everything here is public, so returning early leaks nothing.
	for i := range z {
		for _, c := range z[i] {
			if c.abs() >= p.gamma1-p.beta {
				return false
			}
		}
	}
	// Step 5: Â ← ExpandA(ρ).
	aHat := expandA(p, rho)
	// Step 8: c ← SampleInBall(c̃).
	cHat := ntt(sampleInBall(p, cTilde))
	// Step 9: w′Approx ← NTT^−1(Â ∘ NTT(z) − NTT(c) ∘ NTT(t1 · 2^d)).
	az := matrixVectorNTT(aHat, nttVector(z))
	w1 := make([][n]uint32, p.k)
	for i := range az {
		var t ringElement
		for j, c := range t1[i] {
			t[j] = c << d // t1 < 2^10, so t1 · 2^13 < q
		}
		tHat := ntt(t)
		ct := nttMul(&cHat, &tHat)
		wApprox := inverseNTT(nttSub(&az[i], &ct))
		// Step 10: w1′ ← UseHint(h, w′Approx).
		for j, c := range wApprox {
			w1[i][j] = useHint(p, hint[i][j], c)
		}
	}
	// Step 12: c̃′ ← H(μ || w1Encode(w1′), λ/4).
	cTilde2 := make([]byte, p.lambda/4)
	h := sha3.NewSHAKE256()
	h.Write(mu[:])
	h.Write(w1Encode(p, w1))
	h.Read(cTilde2)
	// Step 13: c̃ = c̃′ (the norm test passed above).
	return subtle.ConstantTimeCompare(cTilde, cTilde2) == 1
}

// nttVector applies NTT to each polynomial of v.
func nttVector(v []ringElement) []nttElement {
	out := make([]nttElement, len(v))
	for i := range v {
		out[i] = ntt(v[i])
	}
	return out
}

// inverseNTTVector applies NTT^−1 to each polynomial of v.
func inverseNTTVector(v []nttElement) []ringElement {
	out := make([]ringElement, len(v))
	for i := range v {
		out[i] = inverseNTT(v[i])
	}
	return out
}

// scalarVectorMul returns NTT^−1(ĉ ∘ v̂) for each polynomial of v̂ (FIPS 204
// Algorithm 47, ScalarVectorNTT, then NTT^−1): the ⟨⟨c·v⟩⟩ of Algorithm 7.
func scalarVectorMul(cHat *nttElement, v []nttElement) []ringElement {
	out := make([]ringElement, len(v))
	for i := range v {
		out[i] = inverseNTT(nttMul(cHat, &v[i]))
	}
	return out
}
