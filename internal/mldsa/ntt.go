package mldsa

import "math/bits"

// ringElement is a polynomial of R_q = Z_q[X]/(X^256 + 1), coefficient i at
// index i. nttElement is the same polynomial in the NTT domain T_q (FIPS 204,
// Section 7.5); the two types keep the domains apart.
type (
	ringElement [n]fieldElement
	nttElement  [n]fieldElement
)

// zeta is the primitive 512th root of unity modulo q that FIPS 204 uses.
const zeta = 1753

// zetas[m] = ζ^BitRev8(m) mod q, the table of FIPS 204 Appendix B, computed
// here rather than copied.
var zetas = func() (t [n]fieldElement) {
	var power [n]fieldElement // power[i] = ζ^i
	power[0] = 1
	for i := 1; i < n; i++ {
		power[i] = fieldMul(power[i-1], zeta)
	}
	for m := range t {
		t[m] = power[bits.Reverse8(uint8(m))]
	}
	return t
}()

// ntt is FIPS 204 Algorithm 41 (NTT).
func ntt(w ringElement) nttElement {
	f := nttElement(w)
	m := 0
	for length := 128; length >= 1; length /= 2 {
		for start := 0; start < n; start += 2 * length {
			m++
			z := zetas[m]
			// The butterflies pair f[j] with f[j+len] for j in [start,
			// start+len): lo[i] is f[start+i] and hi[i] is f[start+len+i].
			lo, hi := f[start:start+length], f[start+length:start+2*length]
			hi = hi[:len(lo)]
			for i := range lo {
				t := fieldMul(z, hi[i])
				hi[i] = fieldSub(lo[i], t)
				lo[i] = fieldAdd(lo[i], t)
			}
		}
	}
	return f
}

// inverseNTTScale is 256^−1 mod q (the f of Algorithm 42, step 19).
const inverseNTTScale = 8347681

// inverseNTT is FIPS 204 Algorithm 42 (NTT^−1).
func inverseNTT(f nttElement) ringElement {
	w := ringElement(f)
	m := n
	for length := 1; length < n; length *= 2 {
		for start := 0; start < n; start += 2 * length {
			m--
			z := fieldSub(0, zetas[m]) // −zetas[m]
			lo, hi := w[start:start+length], w[start+length:start+2*length]
			hi = hi[:len(lo)]
			for i := range lo {
				t := lo[i]
				lo[i] = fieldAdd(t, hi[i])
				hi[i] = fieldMul(z, fieldSub(t, hi[i]))
			}
		}
	}
	for j := range w {
		w[j] = fieldMul(w[j], inverseNTTScale)
	}
	return w
}

// nttMul is FIPS 204 Algorithm 45 (MultiplyNTT): in the NTT domain,
// multiplication is coefficient by coefficient.
func nttMul(a, b *nttElement) (c nttElement) {
	for i := range c {
		c[i] = fieldMul(a[i], b[i])
	}
	return c
}

// nttSub subtracts coefficient by coefficient, as AddNTT (FIPS 204
// Algorithm 44) adds: both are the same in either domain.
func nttSub(a, b *nttElement) (c nttElement) {
	for i := range c {
		c[i] = fieldSub(a[i], b[i])
	}
	return c
}

// matrixVectorNTT computes Â ∘ v̂ (FIPS 204 Algorithm 48, MatrixVectorNTT):
// row i is Σ_j Â[i][j] ∘ v̂[j]. Each product is below q² < 2^46, so the at
// most seven products of a coefficient are summed in 64 bits and reduced
// once.
func matrixVectorNTT(a [][]nttElement, v []nttElement) []nttElement {
	out := make([]nttElement, len(a))
	for i, row := range a {
		for c := range n {
			var sum uint64
			for j := range row {
				sum += uint64(row[j][c]) * uint64(v[j][c])
			}
			out[i][c] = fieldReduce(sum)
		}
	}
	return out
}
