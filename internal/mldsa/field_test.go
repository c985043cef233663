package mldsa

import (
	"math/rand/v2"
	"testing"
)

// decomposeReference is FIPS 204 Algorithm 36 (Decompose) written as
// literally as possible, with division and branches, for comparison.
func decomposeReference(gamma2 int64, r int64) (r1, r0 int64) {
	rPlus := r % q
	r0 = rPlus % (2 * gamma2) // then mod±: the representative in (−γ2, γ2]
	if r0 > gamma2 {
		r0 -= 2 * gamma2
	}
	if rPlus-r0 == q-1 {
		return 0, r0 - 1
	}
	return (rPlus - r0) / (2 * gamma2), r0
}

// useHintReference is FIPS 204 Algorithm 40 (UseHint) written literally.
func useHintReference(gamma2 int64, h int, r int64) int64 {
	m := (q - 1) / (2 * gamma2)
	r1, r0 := decomposeReference(gamma2, r)
	if h == 1 && r0 > 0 {
		return (r1 + 1) % m
	}
	if h == 1 && r0 <= 0 {
		return (r1 - 1 + m) % m
	}
	return r1
}

// TestDecomposeExhaustive compares decompose and useHint with the literal
// algorithms for every r in [0, q), for both values of γ2, and checks the
// division by multiplication over every 24-bit dividend.
func TestDecomposeExhaustive(t *testing.T) {
	for _, p := range []*Params{MLDSA44, MLDSA65} { // γ2 = (q−1)/88 and (q−1)/32
		div := uint64(2 * p.gamma2)
		for x := uint64(0); x < 1<<24; x++ {
			if x*p.divMul>>divShift != x/div {
				t.Fatalf("%s: ⌊%d / %d⌋ by multiplication is wrong", p, x, div)
			}
		}
		for r := int64(0); r < q; r++ {
			r1, r0 := decompose(p, fieldElement(r))
			w1, w0 := decomposeReference(int64(p.gamma2), r)
			if int64(r1) != w1 || int64(r0) != w0 {
				t.Fatalf("%s: decompose(%d) = (%d, %d), want (%d, %d)", p, r, r1, r0, w1, w0)
			}
			for h := range 2 {
				if got, want := useHint(p, uint8(h), fieldElement(r)), useHintReference(int64(p.gamma2), h, r); int64(got) != want {
					t.Fatalf("%s: useHint(%d, %d) = %d, want %d", p, h, r, got, want)
				}
			}
		}
	}
}

// TestHintProperty checks the property signing relies on (FIPS 204, Section
// 7.4): for ||z||∞ ≤ γ2, UseHint(MakeHint(z, r), r) = HighBits(r + z).
func TestHintProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range []*Params{MLDSA44, MLDSA65} {
		for range 200000 {
			r := fieldElement(rng.Uint32N(q))
			z := fieldFromCentered(int32(rng.Uint32N(2*p.gamma2+1)) - int32(p.gamma2))
			h := makeHint(p, z, r)
			if got, want := useHint(p, uint8(h), r), highBits(p, fieldAdd(r, z)); got != want {
				t.Fatalf("%s: r=%d z=%d: UseHint(MakeHint) = %d, HighBits(r+z) = %d", p, r, z, got, want)
			}
		}
	}
}

// TestFieldArithmetic compares the constant-time field operations with
// plain integer arithmetic, at the edges and at random.
func TestFieldArithmetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	edges := []uint32{0, 1, 2, (q - 1) / 2, (q + 1) / 2, q - 2, q - 1}
	type pair struct{ a, b uint32 }
	var pairs []pair
	for _, a := range edges {
		for _, b := range edges {
			pairs = append(pairs, pair{a, b})
		}
	}
	for range 100000 {
		pairs = append(pairs, pair{rng.Uint32N(q), rng.Uint32N(q)})
	}
	for _, pr := range pairs {
		a, b := pr.a, pr.b
		fa, fb := fieldElement(a), fieldElement(b)
		if got, want := fieldAdd(fa, fb), (a+b)%q; uint32(got) != want {
			t.Fatalf("%d + %d = %d, want %d", a, b, got, want)
		}
		if got, want := fieldSub(fa, fb), (a+q-b)%q; uint32(got) != want {
			t.Fatalf("%d - %d = %d, want %d", a, b, got, want)
		}
		if got, want := fieldMul(fa, fb), uint64(a)*uint64(b)%q; uint64(got) != want {
			t.Fatalf("%d * %d = %d, want %d", a, b, got, want)
		}
		c := int32(a)
		if c > (q-1)/2 {
			c -= q
		}
		if fa.centered() != c {
			t.Fatalf("centered(%d) = %d, want %d", a, fa.centered(), c)
		}
		if abs := max(c, -c); fa.abs() != uint32(abs) {
			t.Fatalf("abs(%d) = %d, want %d", a, fa.abs(), abs)
		}
		if fieldFromCentered(c) != fa {
			t.Fatalf("fieldFromCentered(%d) = %d, want %d", c, fieldFromCentered(c), a)
		}
	}
	for _, x := range []uint64{0, q - 1, q, q * q, 1<<64 - 1, 1 << 63, rng.Uint64()} {
		if got := fieldReduce(x); uint64(got) != x%q {
			t.Errorf("fieldReduce(%d) = %d, want %d", x, got, x%q)
		}
	}
	for a := range uint32(70) {
		for b := range uint32(70) {
			want := uint32(0)
			if a == b {
				want = 1
			}
			if ctEqual(a, b) != want || ctEqual(a<<25, b<<25) != want {
				t.Fatalf("ctEqual(%d, %d) != %d", a, b, want)
			}
			want = 0
			if a >= b {
				want = 1
			}
			if ctAtLeast(a, b) != want {
				t.Fatalf("ctAtLeast(%d, %d) != %d", a, b, want)
			}
		}
	}
}
