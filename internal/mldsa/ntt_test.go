package mldsa

import (
	"math/rand/v2"
	"testing"
)

func randomRingElement(rng *rand.Rand) (f ringElement) {
	for i := range f {
		f[i] = fieldElement(rng.Uint32N(q))
	}
	return f
}

// schoolbookMul multiplies in Z_q[X]/(X^256 + 1) directly: X^256 = −1.
func schoolbookMul(a, b ringElement) (c ringElement) {
	for i := range n {
		for j := range n {
			p := fieldMul(a[i], b[j])
			if i+j < n {
				c[i+j] = fieldAdd(c[i+j], p)
			} else {
				c[i+j-n] = fieldSub(c[i+j-n], p)
			}
		}
	}
	return c
}

// TestNTT checks the NTT against its definition: NTT^−1 undoes NTT, and
// multiplying in the NTT domain is multiplying in R_q.
func TestNTT(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20 {
		a, b := randomRingElement(rng), randomRingElement(rng)
		if inverseNTT(ntt(a)) != a {
			t.Fatal("NTT^−1(NTT(a)) != a")
		}
		aHat, bHat := ntt(a), ntt(b)
		if got, want := inverseNTT(nttMul(&aHat, &bHat)), schoolbookMul(a, b); got != want {
			t.Fatal("NTT^−1(NTT(a) ∘ NTT(b)) is not a·b in R_q")
		}
	}
	// ζ is a primitive 512th root of unity: ζ^256 = −1.
	z := fieldElement(1)
	for range 256 {
		z = fieldMul(z, zeta)
	}
	if z != q-1 {
		t.Errorf("ζ^256 = %d, want q − 1", z)
	}
	// The first entries of FIPS 204 Appendix B.
	if zetas[0] != 1 || zetas[1] != 4808194 || zetas[2] != 3765607 || zetas[3] != 3761513 {
		t.Errorf("zetas[0:4] = %v", zetas[:4])
	}
}
