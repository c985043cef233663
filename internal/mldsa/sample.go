package mldsa

import (
	"crypto/sha3"
	"encoding/binary"
)

// FIPS 204 Section 3.7: H is SHAKE256 and G is SHAKE128.

// coeffFromThreeBytes is FIPS 204 Algorithm 14 (CoeffFromThreeBytes): a
// 23-bit integer from three bytes (the top bit of b2 cleared), accepted only
// if it is below q.
func coeffFromThreeBytes(b0, b1, b2 byte) (fieldElement, bool) {
	z := uint32(b2&0x7f)<<16 | uint32(b1)<<8 | uint32(b0)
	return fieldElement(z), z < q
}

// rejNTTPoly is FIPS 204 Algorithm 30 (RejNTTPoly): a uniformly random
// element of T_q sampled from G(seed) by rejection. The seed and the output
// are public (they come from ρ).
func rejNTTPoly(seed []byte) (a nttElement) {
	g := sha3.NewSHAKE128()
	g.Write(seed)
	// Squeezing 3 bytes at a time gives the same stream as squeezing one
	// 168-byte SHAKE128 block (56 candidates) at a time.
	var block [168]byte
	j := 0
	for j < n {
		g.Read(block[:])
		for i := 0; i < len(block) && j < n; i += 3 {
			if c, ok := coeffFromThreeBytes(block[i], block[i+1], block[i+2]); ok {
				a[j] = c
				j++
			}
		}
	}
	return a
}

// expandA is FIPS 204 Algorithm 32 (ExpandA): the k × l matrix Â, entry
// (r, s) sampled from ρ || IntegerToBytes(s, 1) || IntegerToBytes(r, 1).
func expandA(p *Params, rho []byte) [][]nttElement {
	a := make([][]nttElement, p.k)
	seed := make([]byte, 34)
	copy(seed, rho)
	for r := range p.k {
		a[r] = make([]nttElement, p.l)
		for s := range p.l {
			seed[32], seed[33] = byte(s), byte(r)
			a[r][s] = rejNTTPoly(seed)
		}
	}
	return a
}

// expandMask is FIPS 204 Algorithm 34 (ExpandMask): the mask y, each
// coefficient in [−γ1 + 1, γ1], from H(ρ′′ || IntegerToBytes(κ + r, 2)).
// y is secret; unpacking it takes the same time for every value.
func expandMask(p *Params, rhoPrime *[64]byte, kappa int) []ringElement {
	y := make([]ringElement, p.l)
	var seed [66]byte
	copy(seed[:], rhoPrime[:])
	v := make([]byte, 32*p.gamma1Bits)
	for r := range p.l {
		binary.LittleEndian.PutUint16(seed[64:], uint16(kappa+r))
		h := sha3.NewSHAKE256()
		h.Write(seed[:])
		h.Read(v)
		// Step 5: y[r] = BitUnpack(v, γ1 − 1, γ1).
		y[r] = bitUnpack(v, p.gamma1Bits, p.gamma1)
	}
	return y
}

// sampleInBall is FIPS 204 Algorithm 29 (SampleInBall): the challenge c, a
// polynomial with τ coefficients ±1 and the rest 0, from H(c̃). Its running
// time depends on c̃ through the rejection sampling of positions, as the
// algorithm is specified.
func sampleInBall(p *Params, cTilde []byte) (c ringElement) {
	h := sha3.NewSHAKE256()
	h.Write(cTilde)
	// Steps 3–4: the first 8 bytes give τ sign bits, bit i of the
	// little-endian integer being h[i].
	var s [8]byte
	h.Read(s[:])
	signs := binary.LittleEndian.Uint64(s[:])
	var j [1]byte
	for i := n - p.tau; i < n; i++ {
		// Steps 6–9: draw j ≤ i.
		h.Read(j[:])
		for int(j[0]) > i {
			h.Read(j[:])
		}
		// Steps 10–11: c_i ← c_j, c_j ← (−1)^h[i+τ−256].
		c[i] = c[j[0]]
		c[j[0]] = fieldFromCentered(1 - 2*int32(signs&1))
		signs >>= 1
	}
	return c
}
