package mldsa

import "errors"

// hintPoly holds one polynomial of the hint h: each entry is 0 or 1.
type hintPoly [n]uint8

// packBits appends 256 values of width bits each to dst, least significant
// bit first, which is IntegerToBits followed by BitsToBytes (FIPS 204
// Algorithms 9 and 12). Every value must be below 2^width. It runs in time
// independent of the values.
func packBits(dst []byte, values *[n]uint32, width int) []byte {
	var acc uint64 // bits not yet written, lowest first
	held := 0      // how many
	for _, v := range values {
		acc |= uint64(v) << held
		held += width
		for held >= 8 {
			dst = append(dst, byte(acc))
			acc >>= 8
			held -= 8
		}
	}
	return dst // 256·width is a multiple of 8, so nothing is left over
}

// unpackBits reads 256 values of width bits each from the first 32·width
// bytes of src, the inverse of packBits (BytesToBits, BitsToInteger: FIPS 204
// Algorithms 13 and 10). It runs in time independent of the values.
func unpackBits(src []byte, width int) (values [n]uint32) {
	src = src[:32*width]
	var acc uint64
	held := 0
	for i := range values {
		for held < width {
			acc |= uint64(src[0]) << held
			src = src[1:]
			held += 8
		}
		values[i] = uint32(acc) & (1<<width - 1)
		acc >>= width
		held -= width
	}
	return values
}

// bitPack is FIPS 204 Algorithm 17 (BitPack) for coefficients in [b − 2^width
// + 1, b]: it packs b − w_i in width bits.
func bitPack(dst []byte, w *ringElement, width int, b uint32) []byte {
	var v [n]uint32
	for i, c := range w {
		v[i] = uint32(fieldSub(fieldElement(b), c))
	}
	return packBits(dst, &v, width)
}

// bitUnpack is FIPS 204 Algorithm 19 (BitUnpack): coefficient i is b minus
// the i-th width-bit value. (b < q and values below 2^20, so the difference
// is in (−q, q).)
func bitUnpack(src []byte, width int, b uint32) (w ringElement) {
	v := unpackBits(src, width)
	for i := range w {
		w[i] = fieldSub(fieldElement(b), fieldElement(v[i]))
	}
	return w
}

// pkDecode is FIPS 204 Algorithm 23 (pkDecode): ρ and t1 (k polynomials of
// 10-bit coefficients, SimpleBitUnpack). Every bit string of the right length
// is a valid encoding. len(pk) must be p.PublicKeySize().
func pkDecode(p *Params, pk []byte) (rho []byte, t1 []ringElement) {
	rho, pk = pk[:32], pk[32:]
	const width = 23 - d // bitlen(q − 1) − d
	t1 = make([]ringElement, p.k)
	for i := range t1 {
		v := unpackBits(pk, width)
		for j := range v {
			t1[i][j] = fieldElement(v[j])
		}
		pk = pk[32*width:]
	}
	return rho, t1
}

// privateKey is a decoded skEncode (FIPS 204 Algorithm 25, skDecode). tr is
// not kept: it is only used to compute μ, which the caller supplies.
type privateKey struct {
	rho    []byte
	key    []byte // K
	s1, s2 []ringElement
	t0     []ringElement
}

var errMalformedPrivateKey = errors.New("mldsa: malformed private key")

// skDecode is FIPS 204 Algorithm 25 (skDecode). len(sk) must be
// p.PrivateKeySize(). skEncode's s1 and s2 coefficients are in [−η, η], that
// is packed values in [0, 2η]; the bit width allows up to 2^bitlen(2η) − 1,
// and a key with a larger value did not come from skEncode, so it is refused
// (checked without branching on the secret values, then reported once).
func skDecode(p *Params, sk []byte) (*privateKey, error) {
	key := &privateKey{rho: sk[:32], key: sk[32:64]}
	sk = sk[128:] // after ρ, K and tr (64 bytes)
	var bad uint32
	decodeSmall := func(count int) []ringElement {
		out := make([]ringElement, count)
		for i := range out {
			v := unpackBits(sk, p.etaBits)
			for j := range v {
				bad |= ctAtLeast(v[j], 2*p.eta+1)
				out[i][j] = fieldSub(fieldElement(p.eta), fieldElement(v[j]))
			}
			sk = sk[32*p.etaBits:]
		}
		return out
	}
	key.s1 = decodeSmall(p.l)
	key.s2 = decodeSmall(p.k)
	key.t0 = make([]ringElement, p.k)
	for i := range key.t0 {
		// BitUnpack(·, 2^(d−1) − 1, 2^(d−1)): every 13-bit value is valid.
		key.t0[i] = bitUnpack(sk, d, 1<<(d-1))
		sk = sk[32*d:]
	}
	if bad != 0 {
		return nil, errMalformedPrivateKey
	}
	return key, nil
}

// sigEncode is FIPS 204 Algorithm 26 (sigEncode): c̃, then z (BitPack with
// γ1 − 1, γ1), then the hint (HintBitPack). The z coefficients must be in
// [−γ1 + 1, γ1] and the hint must have at most ω ones.
func sigEncode(p *Params, cTilde []byte, z []ringElement, h []hintPoly) []byte {
	sig := make([]byte, 0, p.SignatureSize())
	sig = append(sig, cTilde...)
	for i := range z {
		sig = bitPack(sig, &z[i], p.gamma1Bits, p.gamma1)
	}
	return append(sig, hintBitPack(p, h)...)
}

// sigDecode is FIPS 204 Algorithm 27 (sigDecode). len(sig) must be
// p.SignatureSize(). ok is false when the hint is malformed (HintBitUnpack
// returns ⊥).
func sigDecode(p *Params, sig []byte) (cTilde []byte, z []ringElement, h []hintPoly, ok bool) {
	cTilde, sig = sig[:p.lambda/4], sig[p.lambda/4:]
	z = make([]ringElement, p.l)
	for i := range z {
		z[i] = bitUnpack(sig, p.gamma1Bits, p.gamma1)
		sig = sig[32*p.gamma1Bits:]
	}
	h, ok = hintBitUnpack(p, sig)
	return cTilde, z, h, ok
}

// w1Encode is FIPS 204 Algorithm 28 (w1Encode): SimpleBitPack of each
// polynomial of w1 with coefficients in [0, (q−1)/(2γ2) − 1].
func w1Encode(p *Params, w1 [][n]uint32) []byte {
	out := make([]byte, 0, len(w1)*32*p.w1Bits)
	for i := range w1 {
		out = packBits(out, &w1[i], p.w1Bits)
	}
	return out
}

// hintBitPack is FIPS 204 Algorithm 20 (HintBitPack): the positions of the
// ones of each hint polynomial, in increasing order, in the first ω bytes,
// and in byte ω + i the running count of positions after polynomial i. It
// runs only on a hint that goes into a signature, which is public.
func hintBitPack(p *Params, h []hintPoly) []byte {
	y := make([]byte, p.omega+p.k)
	index := 0
	for i := range h {
		for j, bit := range h[i] {
			if bit != 0 {
				y[index] = byte(j)
				index++
			}
		}
		y[p.omega+i] = byte(index)
	}
	return y
}

// hintBitUnpack is FIPS 204 Algorithm 21 (HintBitUnpack). It refuses
// (ok = false) every encoding HintBitPack cannot produce, so that a valid
// signature has exactly one encoding: a count that decreases or exceeds ω,
// positions within one polynomial that do not strictly increase, and
// non-zero bytes after the last position.
func hintBitUnpack(p *Params, y []byte) (h []hintPoly, ok bool) {
	h = make([]hintPoly, p.k)
	index := 0
	for i := range h {
		end := int(y[p.omega+i])
		// Step 3: the running count must not decrease or exceed ω.
		if end < index || end > p.omega {
			return nil, false
		}
		first := index
		for ; index < end; index++ {
			// Steps 6–7: positions strictly increase within a polynomial.
			if index > first && y[index-1] >= y[index] {
				return nil, false
			}
			h[i][y[index]] = 1
		}
	}
	// Steps 12–13: the unused position bytes must be zero.
	for _, b := range y[index:p.omega] {
		if b != 0 {
			return nil, false
		}
	}
	return h, true
}
