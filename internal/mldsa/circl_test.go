package mldsa

import (
	"bytes"
	"crypto/sha3"
	"fmt"
	"testing"

	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
)

// circlScheme is one circl ML-DSA parameter set, seen through the functions
// these tests use.
type circlScheme struct {
	params *Params
	// keyFromSeed returns circl's pkEncode and skEncode of the key pair
	// generated from seed (ML-DSA.KeyGen_internal).
	keyFromSeed func(seed [32]byte) (pk, sk []byte)
	// sign is circl's ML-DSA.Sign with context ctx, deterministic unless
	// randomized.
	sign func(seed [32]byte, msg, ctx []byte, randomized bool) []byte
	// verify is circl's ML-DSA.Verify.
	verify func(pk, msg, ctx, sig []byte) bool
}

var circlSchemes = []circlScheme{
	{
		params: MLDSA44,
		keyFromSeed: func(seed [32]byte) ([]byte, []byte) {
			pk, sk := mldsa44.NewKeyFromSeed(&seed)
			return pk.Bytes(), sk.Bytes()
		},
		sign: func(seed [32]byte, msg, ctx []byte, randomized bool) []byte {
			_, sk := mldsa44.NewKeyFromSeed(&seed)
			sig := make([]byte, mldsa44.SignatureSize)
			if err := mldsa44.SignTo(sk, msg, ctx, randomized, sig); err != nil {
				panic(err)
			}
			return sig
		},
		verify: func(pk, msg, ctx, sig []byte) bool {
			var k mldsa44.PublicKey
			if k.UnmarshalBinary(pk) != nil {
				return false
			}
			return mldsa44.Verify(&k, msg, ctx, sig)
		},
	},
	{
		params: MLDSA65,
		keyFromSeed: func(seed [32]byte) ([]byte, []byte) {
			pk, sk := mldsa65.NewKeyFromSeed(&seed)
			return pk.Bytes(), sk.Bytes()
		},
		sign: func(seed [32]byte, msg, ctx []byte, randomized bool) []byte {
			_, sk := mldsa65.NewKeyFromSeed(&seed)
			sig := make([]byte, mldsa65.SignatureSize)
			if err := mldsa65.SignTo(sk, msg, ctx, randomized, sig); err != nil {
				panic(err)
			}
			return sig
		},
		verify: func(pk, msg, ctx, sig []byte) bool {
			var k mldsa65.PublicKey
			if k.UnmarshalBinary(pk) != nil {
				return false
			}
			return mldsa65.Verify(&k, msg, ctx, sig)
		},
	},
	{
		params: MLDSA87,
		keyFromSeed: func(seed [32]byte) ([]byte, []byte) {
			pk, sk := mldsa87.NewKeyFromSeed(&seed)
			return pk.Bytes(), sk.Bytes()
		},
		sign: func(seed [32]byte, msg, ctx []byte, randomized bool) []byte {
			_, sk := mldsa87.NewKeyFromSeed(&seed)
			sig := make([]byte, mldsa87.SignatureSize)
			if err := mldsa87.SignTo(sk, msg, ctx, randomized, sig); err != nil {
				panic(err)
			}
			return sig
		},
		verify: func(pk, msg, ctx, sig []byte) bool {
			var k mldsa87.PublicKey
			if k.UnmarshalBinary(pk) != nil {
				return false
			}
			return mldsa87.Verify(&k, msg, ctx, sig)
		},
	},
}

// pureMu computes μ for pure ML-DSA (FIPS 204 Algorithm 2 step 10 and
// Algorithm 7 step 6): μ = H(tr || M′, 64) with M′ = 0 || len(ctx) || ctx ||
// msg, where tr is the 64 bytes of skEncode after ρ and K.
func pureMu(sk, msg, ctx []byte) (mu [MuSize]byte) {
	h := sha3.NewSHAKE256()
	h.Write(sk[64:128])
	h.Write([]byte{0, byte(len(ctx))})
	h.Write(ctx)
	h.Write(msg)
	h.Read(mu[:])
	return mu
}

// testSeed returns a reproducible key generation seed.
func testSeed(i int) [32]byte {
	return sha3.Sum256(fmt.Appendf(nil, "openkms mldsa test seed %d", i))
}

// TestSignMuMatchesCircl: for several keys, messages and contexts of each
// parameter set, SignMu from μ with rnd = 0 is byte for byte circl's
// deterministic pure signature of the message, and VerifyMu accepts it.
func TestSignMuMatchesCircl(t *testing.T) {
	for _, s := range circlSchemes {
		t.Run(s.params.String(), func(t *testing.T) {
			for i := range 6 {
				seed := testSeed(i)
				pk, sk := s.keyFromSeed(seed)
				if len(pk) != s.params.PublicKeySize() || len(sk) != s.params.PrivateKeySize() {
					t.Fatalf("key sizes %d, %d; want %d, %d", len(pk), len(sk), s.params.PublicKeySize(), s.params.PrivateKeySize())
				}
				// Messages of several lengths, including empty, and contexts.
				msg := bytes.Repeat([]byte{byte(i)}, []int{0, 1, 64, 1000, 4096, 33}[i])
				ctx := [][]byte{nil, []byte("ctx"), nil, bytes.Repeat([]byte{7}, 255), nil, []byte("x")}[i]
				mu := pureMu(sk, msg, ctx)
				got, err := SignMu(s.params, sk, mu, [RandomSize]byte{})
				if err != nil {
					t.Fatal(err)
				}
				want := s.sign(seed, msg, ctx, false)
				if !bytes.Equal(got, want) {
					t.Fatalf("seed %d: SignMu differs from circl's deterministic signature", i)
				}
				if !VerifyMu(s.params, pk, mu, got) {
					t.Fatalf("seed %d: VerifyMu rejects its own signature", i)
				}
			}
			// Many messages under one key, so that the rarer rejection
			// reasons (more than ω hints) occur too: a check that were
			// missing or wrong would give a different signature.
			seed := testSeed(10)
			_, sk := s.keyFromSeed(seed)
			for i := range 64 {
				msg := fmt.Appendf(nil, "message %d", i)
				got, err := SignMu(s.params, sk, pureMu(sk, msg, nil), [RandomSize]byte{})
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, s.sign(seed, msg, nil, false)) {
					t.Fatalf("message %d: SignMu differs from circl's deterministic signature", i)
				}
			}
		})
	}
}

// TestVerifyMuCircl: VerifyMu accepts circl's hedged signatures and rejects
// them after any change to the signature or to μ; circl accepts SignMu's
// hedged signatures.
func TestVerifyMuCircl(t *testing.T) {
	for _, s := range circlSchemes {
		t.Run(s.params.String(), func(t *testing.T) {
			for i := range 3 {
				seed := testSeed(100 + i)
				pk, sk := s.keyFromSeed(seed)
				msg := []byte(fmt.Sprintf("message %d", i))
				ctx := []byte("")
				mu := pureMu(sk, msg, ctx)
				sig := s.sign(seed, msg, ctx, true)
				if !VerifyMu(s.params, pk, mu, sig) {
					t.Fatalf("seed %d: circl's randomized signature does not verify", i)
				}
				// A flipped bit anywhere in c̃, z or the hint.
				p := s.params
				for _, at := range []int{0, p.lambda/4 - 1, p.lambda / 4, p.lambda/4 + 100, p.SignatureSize() - p.omega - p.k - 1, p.SignatureSize() - 1} {
					bad := bytes.Clone(sig)
					bad[at] ^= 1
					if VerifyMu(p, pk, mu, bad) {
						t.Errorf("seed %d: signature with byte %d flipped verifies", i, at)
					}
				}
				for _, bit := range []int{0, 100, 511} {
					bad := mu
					bad[bit/8] ^= 1 << (bit % 8)
					if VerifyMu(p, pk, bad, sig) {
						t.Errorf("seed %d: μ with bit %d flipped verifies", i, bit)
					}
				}
				// Another key's public key.
				otherPK, _ := s.keyFromSeed(testSeed(200 + i))
				if VerifyMu(p, otherPK, mu, sig) {
					t.Errorf("seed %d: verifies under another key", i)
				}
				// The other direction: circl verifies a hedged SignMu signature.
				var rnd [RandomSize]byte
				rnd[0], rnd[31] = byte(i), 0xff
				ours, err := SignMu(p, sk, mu, rnd)
				if err != nil {
					t.Fatal(err)
				}
				if !s.verify(pk, msg, ctx, ours) {
					t.Errorf("seed %d: circl rejects SignMu's hedged signature", i)
				}
				if det, _ := SignMu(p, sk, mu, [RandomSize]byte{}); bytes.Equal(det, ours) {
					t.Errorf("seed %d: the hedged signature equals the deterministic one", i)
				}
			}
		})
	}
}
