package mldsa

import "math/bits"

// fieldElement is an integer modulo q, always kept in [0, q). Every
// operation on it runs in time independent of its value.
type fieldElement uint32

// ctNegative returns 1 if x, read as a signed 32-bit integer, is negative,
// and 0 otherwise.
func ctNegative(x uint32) uint32 { return x >> 31 }

// ctMask returns 0xFFFFFFFF if bit is 1 and 0 if bit is 0.
func ctMask(bit uint32) uint32 { return -bit }

// ctEqual returns 1 if a == b and 0 otherwise.
func ctEqual(a, b uint32) uint32 {
	x := a ^ b
	// x | −x has its top bit set exactly when x ≠ 0.
	return 1 ^ ((x | -x) >> 31)
}

// ctAtLeast returns 1 if a ≥ b and 0 otherwise, for a, b < 2^31.
func ctAtLeast(a, b uint32) uint32 { return 1 ^ ctNegative(a-b) }

// fieldReduceOnce maps x in [0, 2q) to x mod q.
func fieldReduceOnce(x uint32) fieldElement {
	y := x - q
	// y is negative exactly when x < q; then add q back.
	y += q & ctMask(ctNegative(y))
	return fieldElement(y)
}

func fieldAdd(a, b fieldElement) fieldElement {
	return fieldReduceOnce(uint32(a) + uint32(b))
}

func fieldSub(a, b fieldElement) fieldElement {
	return fieldReduceOnce(uint32(a) - uint32(b) + q)
}

// barrettMultiplier is ⌊2^64 / q⌋.
const barrettMultiplier = (1<<64 - 1) / q

// fieldReduce returns x mod q for any 64-bit x, by Barrett reduction: the
// quotient estimate ⌊x · ⌊2^64/q⌋ / 2^64⌋ is ⌊x/q⌋ or one less, so
// x − estimate·q is in [0, 2q) and one conditional subtraction finishes.
// bits.Mul64 takes the same time for all inputs.
func fieldReduce(x uint64) fieldElement {
	quotient, _ := bits.Mul64(x, barrettMultiplier)
	return fieldReduceOnce(uint32(x - quotient*q))
}

func fieldMul(a, b fieldElement) fieldElement {
	return fieldReduce(uint64(a) * uint64(b))
}

// fieldFromCentered returns x mod q for x in (−q, q).
func fieldFromCentered(x int32) fieldElement {
	return fieldReduceOnce(uint32(x + q))
}

// centered returns a mod± q, the representative in [−(q−1)/2, (q−1)/2]
// (FIPS 204, Section 2.3).
func (a fieldElement) centered() int32 {
	v := int32(a)
	// Subtract q when v > (q−1)/2, that is when (q−1)/2 − v is negative.
	return v - int32(q&ctMask(ctNegative(uint32((q-1)/2-v))))
}

// abs returns |a mod± q|, the coefficient's contribution to the infinity
// norm ||·||∞ (FIPS 204, Section 2.3).
func (a fieldElement) abs() uint32 { return ctAbs(a.centered()) }

// ctAbs returns |x| for x > −2^31.
func ctAbs(x int32) uint32 {
	sign := x >> 31 // 0 or −1
	return uint32((x ^ sign) - sign)
}

// decompose splits r into high and low bits, FIPS 204 Algorithm 36
// (Decompose): r ≡ r1·2γ2 + r0 (mod q) with r0 in (−γ2, γ2], except that
// when r − r0 = q − 1 the result is r1 = 0 and r0 − 1. It runs in constant
// time: the division by 2γ2 is a multiplication and a shift.
func decompose(p *Params, r fieldElement) (r1 uint32, r0 int32) {
	// In general r0 = r mod± 2γ2 and r1 = (r − r0)/(2γ2). Because r0 is in
	// (−γ2, γ2], r1 = ⌈(r − γ2)/(2γ2)⌉ = ⌊(r + γ2 − 1)/(2γ2)⌋, which is at
	// most (q−1)/(2γ2).
	x := uint64(r) + uint64(p.gamma2) - 1
	r1 = uint32((x * p.divMul) >> divShift)
	r0 = int32(r) - int32(r1*2*p.gamma2)
	// The special case: r − r0 = q − 1 exactly when r1 = (q−1)/(2γ2); then
	// the high bits wrap to 0 and r0 becomes r0 − 1.
	wrap := ctEqual(r1, p.highMax)
	r1 &^= ctMask(wrap)
	r0 -= int32(wrap)
	return r1, r0
}

// highBits is FIPS 204 Algorithm 37 (HighBits).
func highBits(p *Params, r fieldElement) uint32 {
	r1, _ := decompose(p, r)
	return r1
}

// makeHint is FIPS 204 Algorithm 39 (MakeHint): 1 if adding z to r changes
// its high bits, else 0.
func makeHint(p *Params, z, r fieldElement) uint32 {
	return 1 ^ ctEqual(highBits(p, r), highBits(p, fieldAdd(r, z)))
}

// useHint is FIPS 204 Algorithm 40 (UseHint): the high bits of r, corrected
// by the hint h. It is used in verification only, on public values.
func useHint(p *Params, h uint8, r fieldElement) uint32 {
	m := p.highMax
	r1, r0 := decompose(p, r)
	switch {
	case h == 1 && r0 > 0:
		return (r1 + 1) % m
	case h == 1:
		return (r1 + m - 1) % m
	}
	return r1
}
