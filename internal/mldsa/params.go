// Package mldsa implements the two internal functions of ML-DSA (FIPS 204)
// that start from the message representative μ: ML-DSA.Sign_internal
// (Algorithm 7) and ML-DSA.Verify_internal (Algorithm 8), for ML-DSA-44, -65
// and -87.
//
// It exists for the AWS KMS "EXTERNAL_MU" message type, where the caller
// computes μ = H(tr || M′, 64) itself (FIPS 204, Section 6.2 and Algorithm 7
// step 6) and the service signs or verifies from μ. Key generation and the
// "pure" and pre-hash wrappers are not here: OpenKMS uses
// github.com/cloudflare/circl for those, and the keys this package consumes
// are in the FIPS 204 encodings circl produces (skEncode, Algorithm 24, and
// pkEncode, Algorithm 22).
//
// The code follows FIPS 204 (August 2024) step by step; comments name the
// algorithm numbers. Arithmetic is on plain integers modulo q with Barrett
// reduction, written for readability first.
//
// Side channels: signing handles the private key, y, z, w and the hint
// without branches or memory indices that depend on them, and the rejection
// loop branches once per attempt on the combined outcome of all its checks,
// so an attempt's timing does not tell which check rejected it. What does
// vary is what FIPS 204 lets vary: the number of attempts, and
// SampleInBall's (Algorithm 29) rejection sampling of the challenge, whose
// input c̃ is a hash. Verification handles public values only.
package mldsa

import "errors"

// Sizes of the fixed-length inputs.
const (
	// MuSize is the length of μ, the message representative (64 bytes).
	MuSize = 64
	// RandomSize is the length of rnd, the per-signature randomness (32
	// bytes); all zeros gives the deterministic variant.
	RandomSize = 32
)

// Ring and field constants (FIPS 204, Section 4, Table 1).
const (
	n = 256     // coefficients per polynomial
	q = 8380417 // the modulus, 2^23 − 2^13 + 1
	d = 13      // bits dropped from t (Power2Round)
)

// Params is one ML-DSA parameter set (FIPS 204, Table 1). The three sets are
// MLDSA44, MLDSA65 and MLDSA87; SignMu and VerifyMu refuse any other
// *Params.
type Params struct {
	name   string
	k, l   int    // A is a k × l matrix
	eta    uint32 // η: private key coefficients are in [−η, η]
	tau    int    // τ: number of ±1 coefficients in the challenge c
	lambda int    // λ: collision strength of c̃ in bits; c̃ is λ/4 bytes
	gamma1 uint32 // γ1: coefficient range of the mask y
	gamma2 uint32 // γ2: low-order rounding range
	omega  int    // ω: maximum number of 1s in the hint h

	// Derived values.
	beta       uint32 // β = τ·η
	etaBits    int    // bitlen(2η): width of a packed s1/s2 coefficient
	gamma1Bits int    // 1 + bitlen(γ1 − 1): width of a packed z or y coefficient
	w1Bits     int    // bitlen((q−1)/(2γ2) − 1): width of a packed w1 coefficient
	highMax    uint32 // (q−1)/(2γ2): the number of high-bits values, m in UseHint
	// decompose divides by 2γ2 as a multiplication and a shift, so the
	// time it takes does not depend on the dividend: ⌊x / 2γ2⌋ =
	// (x · divMul) >> divShift for every x < 2^24 (TestDecomposeExhaustive).
	divMul uint64
}

// divShift is the shift of Params.divMul.
const divShift = 48

func newParams(name string, k, l int, eta uint32, tau, lambda int, gamma1, gamma2 uint32, omega int) *Params {
	p := &Params{name: name, k: k, l: l, eta: eta, tau: tau, lambda: lambda,
		gamma1: gamma1, gamma2: gamma2, omega: omega}
	p.beta = uint32(tau) * eta
	p.etaBits = bitlen(2 * eta)
	p.gamma1Bits = 1 + bitlen(gamma1-1)
	p.highMax = (q - 1) / (2 * gamma2)
	p.w1Bits = bitlen(p.highMax - 1)
	div := uint64(2 * gamma2)
	p.divMul = (1<<divShift + div - 1) / div // ⌈2^48 / 2γ2⌉
	return p
}

// The parameter sets of FIPS 204, Table 1.
var (
	MLDSA44 = newParams("ML-DSA-44", 4, 4, 2, 39, 128, 1<<17, (q-1)/88, 80)
	MLDSA65 = newParams("ML-DSA-65", 6, 5, 4, 49, 192, 1<<19, (q-1)/32, 55)
	MLDSA87 = newParams("ML-DSA-87", 8, 7, 2, 60, 256, 1<<19, (q-1)/32, 75)
)

// String returns the parameter set's name, e.g. "ML-DSA-65".
func (p *Params) String() string { return p.name }

// PublicKeySize is the length of pkEncode's output (FIPS 204, Table 2):
// ρ (32 bytes) and t1 (k polynomials of 10-bit coefficients).
func (p *Params) PublicKeySize() int { return 32 + p.k*n*(23-d)/8 }

// PrivateKeySize is the length of skEncode's output (FIPS 204, Table 2):
// ρ, K (32 bytes each), tr (64 bytes), s1, s2 and t0.
func (p *Params) PrivateKeySize() int {
	return 32 + 32 + 64 + (p.l+p.k)*n*p.etaBits/8 + p.k*n*d/8
}

// SignatureSize is the length of sigEncode's output (FIPS 204, Table 2):
// c̃, z and the hint.
func (p *Params) SignatureSize() int {
	return p.lambda/4 + p.l*n*p.gamma1Bits/8 + p.omega + p.k
}

// check reports whether p is one of the three parameter sets.
func (p *Params) check() error {
	if p != MLDSA44 && p != MLDSA65 && p != MLDSA87 {
		return errors.New("mldsa: unknown parameter set")
	}
	return nil
}

// bitlen returns the number of bits needed to write x (FIPS 204, Section
// 2.3): bitlen(0) = 0, bitlen(4) = 3.
func bitlen(x uint32) int {
	b := 0
	for ; x > 0; x >>= 1 {
		b++
	}
	return b
}
