package keymaterial

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
)

// awsMessageTypes is which MessageType values the AWS Sign reference allows
// per signing algorithm, written out independently of MessageTypesFor.
var awsMessageTypes = map[SigningAlgorithm][]MessageType{
	RSASSAPSSSHA256: {Raw, Digest}, RSASSAPSSSHA384: {Raw, Digest}, RSASSAPSSSHA512: {Raw, Digest},
	RSASSAPKCS1V15SHA256: {Raw, Digest}, RSASSAPKCS1V15SHA384: {Raw, Digest}, RSASSAPKCS1V15SHA512: {Raw, Digest},
	ECDSASHA256: {Raw, Digest}, ECDSASHA384: {Raw, Digest}, ECDSASHA512: {Raw, Digest},
	ED25519SHA512:   {Raw},
	ED25519PHSHA512: {Digest},
	MLDSASHAKE256:   {Raw, ExternalMu},
	SM2DSA:          {Raw, Digest},
}

// allowedByAWS reports whether describeKey (the AWS expectation in
// table_test.go) lists alg for spec under usage.
func allowedByAWS(spec KeySpec, u KeyUsage, alg fmt.Stringer) bool {
	return slices.Contains(describeKey[spec][u], alg.String())
}

// TestSignCrossProduct runs every key spec × signing algorithm × message
// type: combinations AWS allows (per describeKey and awsMessageTypes, not
// per the package's own table) must sign and verify (and reject a modified
// message or signature); every other one must be refused with the right
// error, both by Sign and by Verify.
func TestSignCrossProduct(t *testing.T) {
	for _, spec := range KeySpecs() {
		k := testKey(t, spec)
		for _, alg := range SigningAlgorithms() {
			for _, mt := range MessageTypes() {
				t.Run(fmt.Sprintf("%s/%s/%s", spec, alg, mt), func(t *testing.T) {
					msg := messageFor(alg, mt)
					sig, err := k.Sign(alg, mt, msg, nil)
					verified, verr := k.Verify(alg, mt, msg, make([]byte, 64))
					switch {
					case !allowedByAWS(spec, SignVerify, alg):
						for _, e := range []error{err, verr} {
							if !errors.Is(e, ErrIncompatibleAlgorithm) || KindOf(e) != KindInvalidKeyUsage {
								t.Fatalf("got %v, want ErrIncompatibleAlgorithm", e)
							}
						}
						if want := fmt.Sprintf("Algorithm %s is incompatible with key spec %s.", alg, spec); err.(*Error).Message() != want {
							t.Errorf("message = %q, want %q", err.(*Error).Message(), want)
						}
					case !slices.Contains(awsMessageTypes[alg], mt):
						for _, e := range []error{err, verr} {
							if !errors.Is(e, ErrInvalidMessageType) || KindOf(e) != KindValidation {
								t.Fatalf("got %v, want ErrInvalidMessageType", e)
							}
						}
					default:
						if err != nil || verr != nil {
							t.Fatalf("Sign: %v; Verify: %v", err, verr)
						}
						if verified {
							t.Fatal("a zero signature verified")
						}
						checkSignature(t, k, alg, mt, msg, sig)
					}
				})
			}
		}
	}
}

func checkSignature(t *testing.T, k *Key, alg SigningAlgorithm, mt MessageType, msg, sig []byte) {
	t.Helper()
	ok, err := k.Verify(alg, mt, msg, sig)
	if err != nil || !ok {
		t.Fatalf("Verify(own signature) = %v, %v; want true", ok, err)
	}
	// The public key alone (as parsed from GetPublicKey's DER) verifies too.
	der, _ := k.PublicKeyDER()
	pub, err := ParsePublicKey(k.Spec(), der)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := pub.Verify(alg, mt, msg, sig); err != nil || !ok {
		t.Fatalf("PublicKey.Verify = %v, %v; want true", ok, err)
	}
	bad := bytes.Clone(msg)
	bad[len(bad)-1] ^= 1
	if ok, err := k.Verify(alg, mt, bad, sig); err != nil || ok {
		t.Errorf("Verify(modified message) = %v, %v; want false", ok, err)
	}
	badSig := bytes.Clone(sig)
	badSig[len(badSig)/2] ^= 0x10
	if ok, err := k.Verify(alg, mt, msg, badSig); err != nil || ok {
		t.Errorf("Verify(modified signature) = %v, %v; want false", ok, err)
	}
	for _, s := range [][]byte{nil, sig[:len(sig)-1], append(bytes.Clone(sig), 0)} {
		if ok, err := k.Verify(alg, mt, msg, s); err != nil || ok {
			t.Errorf("Verify(signature of length %d) = %v, %v; want false", len(s), ok, err)
		}
	}
	// A RAW signature verifies against the equivalent pre-hashed message
	// (DIGEST, or ML-DSA's μ), and a signature of that verifies as RAW.
	if mt == Raw {
		if pre, pmt, ok := equivalentDigest(t, k, alg, msg); ok {
			if ok, err := k.Verify(alg, pmt, pre, sig); err != nil || !ok {
				t.Errorf("Verify(%s of RAW signature) = %v, %v; want true", pmt, ok, err)
			}
			sig2, err := k.Sign(alg, pmt, pre, nil)
			if err != nil {
				t.Fatal(err)
			}
			if ok, err := k.Verify(alg, Raw, msg, sig2); err != nil || !ok {
				t.Errorf("Verify(RAW of %s signature) = %v, %v; want true", pmt, ok, err)
			}
		}
	}
}

// equivalentDigest returns the pre-hashed message equivalent to a RAW
// message, where the algorithm has one: the DIGEST, or for ML-DSA the
// EXTERNAL_MU μ.
func equivalentDigest(t testing.TB, k *Key, alg SigningAlgorithm, msg []byte) ([]byte, MessageType, bool) {
	switch alg {
	case ED25519SHA512, ED25519PHSHA512:
		return nil, 0, false
	case MLDSASHAKE256:
		der, _ := k.PublicKeyDER()
		return mldsaMu(t, der, msg), ExternalMu, true
	case SM2DSA:
		return sm2Digest(k.pub.ecdsa, msg), Digest, true
	}
	h := alg.hash().New()
	h.Write(msg)
	return h.Sum(nil), Digest, true
}

// sm2Digest computes SM3(Z_A || M) with the default ID as the AWS
// SM2OfflineOperationHelper.calculateSM2Digest does.
func sm2Digest(pub *ecdsa.PublicKey, msg []byte) []byte {
	za, err := sm2.CalculateZA(pub, []byte(SM2DefaultID))
	if err != nil {
		panic(err)
	}
	h := sm3.New()
	h.Write(za)
	h.Write(msg)
	return h.Sum(nil)
}

func TestSignValidation(t *testing.T) {
	rsaKey := testKey(t, RSA2048)
	_, err := rsaKey.Sign(RSASSAPSSSHA256, Digest, make([]byte, 31), nil)
	if !errors.Is(err, ErrInvalidDigestLength) || KindOf(err) != KindValidation ||
		err.(*Error).Message() != "Digest is invalid length for algorithm RSASSA_PSS_SHA_256." {
		t.Errorf("short digest: %v", err)
	}
	_, err = rsaKey.Verify(RSASSAPSSSHA256, Digest, make([]byte, 33), nil)
	if !errors.Is(err, ErrInvalidDigestLength) {
		t.Errorf("Verify long digest: %v", err)
	}
	if _, err := rsaKey.Sign(RSASSAPSSSHA256, Raw, make([]byte, MaxMessageSize), nil); err != nil {
		t.Errorf("4096-byte RAW message: %v", err)
	}
	if _, err := rsaKey.Sign(RSASSAPSSSHA256, Raw, make([]byte, MaxMessageSize+1), nil); !errors.Is(err, ErrMessageTooLarge) || KindOf(err) != KindValidation {
		t.Errorf("4097-byte RAW message: %v", err)
	}
	ed := testKey(t, ECCNISTEdwards25519)
	if _, err := ed.Sign(ED25519PHSHA512, Digest, make([]byte, 32), nil); !errors.Is(err, ErrInvalidDigestLength) {
		t.Errorf("Ed25519ph 32-byte digest: %v", err)
	}
	if _, err := ed.Sign(ED25519PHSHA512, Raw, []byte("m"), nil); !errors.Is(err, ErrInvalidMessageType) {
		t.Errorf("Ed25519ph RAW: %v", err)
	}
	if _, err := ed.Sign(ED25519SHA512, MessageTypeUnknown, []byte("m"), nil); !errors.Is(err, ErrInvalidMessageType) {
		t.Errorf("unknown message type: %v", err)
	}
	var zero Key
	if _, err := zero.Sign(ECDSASHA256, Raw, nil, nil); !errors.Is(err, ErrUnsupportedKeySpec) {
		t.Errorf("zero Key: %v", err)
	}
}

// mldsaMu returns FIPS 204's μ for pure ML-DSA with an empty context, as an
// AWS client computes it for EXTERNAL_MU from the public key it got from
// GetPublicKey: μ = SHAKE256(SHAKE256(pk, 64) || 0 || 0 || M, 64), with pk
// the raw public key inside the SPKI.
func mldsaMu(t testing.TB, spki, msg []byte) []byte {
	t.Helper()
	var info struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if rest, err := asn1.Unmarshal(spki, &info); err != nil || len(rest) != 0 {
		t.Fatalf("SPKI: %v", err)
	}
	h := sha3.NewSHAKE256()
	h.Write(sha3.SumSHAKE256(info.PublicKey.Bytes, 64))
	h.Write([]byte{0, 0})
	h.Write(msg)
	mu := make([]byte, 64)
	h.Read(mu)
	return mu
}

// zeroReader reads zeros, making hedged ML-DSA signing deterministic.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// failingReader always fails.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no randomness") }

// TestMLDSAExternalMu: ML_DSA_SHAKE_256 with EXTERNAL_MU signs and verifies
// FIPS 204's 64-byte μ. A signature of μ(M) is a RAW signature of M and vice
// versa; signing is hedged with randomness from the reader, and with zero
// randomness it is circl's deterministic signature of M; a μ of another
// length is AWS's digest-length ValidationException, in Sign and in every
// Verify; the other checks keep their precedence and kinds.
func TestMLDSAExternalMu(t *testing.T) {
	if got := MessageTypesFor(MLDSASHAKE256); !slices.Equal(got, []MessageType{Raw, ExternalMu}) {
		t.Errorf("MessageTypesFor(ML_DSA_SHAKE_256) = %v, want [RAW EXTERNAL_MU]", got)
	}
	if mt, err := ParseMessageType("EXTERNAL_MU"); err != nil || mt != ExternalMu {
		t.Errorf("ParseMessageType(EXTERNAL_MU) = %v, %v", mt, err)
	}
	for _, spec := range []KeySpec{MLDSA44, MLDSA65, MLDSA87} {
		t.Run(spec.String(), func(t *testing.T) {
			k := testKey(t, spec)
			der, _ := k.PublicKeyDER()
			parsed, err := ParsePublicKey(spec, der)
			if err != nil {
				t.Fatal(err)
			}
			verifiers := map[string]func(SigningAlgorithm, MessageType, []byte, []byte) (bool, error){
				"Key.Verify": k.Verify, "Key.Public().Verify": k.Public().Verify, "ParsePublicKey().Verify": parsed.Verify,
			}
			msg := []byte("OpenKMS test message")
			mu := mldsaMu(t, der, msg)
			rawSig, err := k.Sign(MLDSASHAKE256, Raw, msg, nil)
			if err != nil {
				t.Fatalf("RAW Sign: %v", err)
			}
			muSig, err := k.Sign(MLDSASHAKE256, ExternalMu, mu, nil)
			if err != nil {
				t.Fatalf("EXTERNAL_MU Sign: %v", err)
			}
			wrongMu := bytes.Clone(mu)
			wrongMu[10] ^= 0x40
			for name, verify := range verifiers {
				for _, c := range []struct {
					what string
					mt   MessageType
					m    []byte
					sig  []byte
					want bool
				}{
					{"RAW signature as EXTERNAL_MU", ExternalMu, mu, rawSig, true},
					{"EXTERNAL_MU signature as RAW", Raw, msg, muSig, true},
					{"EXTERNAL_MU signature as EXTERNAL_MU", ExternalMu, mu, muSig, true},
					{"wrong μ", ExternalMu, wrongMu, muSig, false},
					{"RAW signature, wrong μ", ExternalMu, wrongMu, rawSig, false},
					{"μ passed as RAW", Raw, mu, muSig, false},
					{"truncated signature", ExternalMu, mu, muSig[:len(muSig)-1], false},
					{"no signature", ExternalMu, mu, nil, false},
				} {
					if ok, err := verify(MLDSASHAKE256, c.mt, c.m, c.sig); ok != c.want || err != nil {
						t.Errorf("%s, %s = %v, %v; want %v", name, c.what, ok, err, c.want)
					}
				}
			}
			// Hedged: two signatures of one μ differ. With zero randomness
			// the signature is the deterministic one, which circl computes
			// from M independently.
			if again, _ := k.Sign(MLDSASHAKE256, ExternalMu, mu, nil); bytes.Equal(again, muSig) {
				t.Error("two EXTERNAL_MU signatures are equal: signing is not hedged")
			}
			det, err := k.Sign(MLDSASHAKE256, ExternalMu, mu, zeroReader{})
			if err != nil {
				t.Fatal(err)
			}
			if want := circlDeterministic(t, k, msg); !bytes.Equal(det, want) {
				t.Error("EXTERNAL_MU signature with zero randomness differs from circl's deterministic signature of M")
			}
			if _, err := k.Sign(MLDSASHAKE256, ExternalMu, mu, failingReader{}); !errors.Is(err, ErrInternal) || KindOf(err) != KindInternal {
				t.Errorf("Sign with failing randomness: %v, want ErrInternal", err)
			}
			// μ must be exactly 64 bytes: AWS's digest-length error.
			want := "Digest is invalid length for algorithm ML_DSA_SHAKE_256."
			for _, n := range []int{0, 1, 32, 63, 65, 128, MaxMessageSize + 1} {
				m := make([]byte, n)
				copy(m, mu)
				sig, err := k.Sign(MLDSASHAKE256, ExternalMu, m, nil)
				errs := []error{err}
				for _, verify := range verifiers {
					ok, err := verify(MLDSASHAKE256, ExternalMu, m, muSig)
					if ok {
						t.Errorf("%d-byte μ verified", n)
					}
					errs = append(errs, err)
				}
				if sig != nil {
					t.Errorf("Sign(%d-byte μ) returned a signature", n)
				}
				for _, err := range errs {
					if !errors.Is(err, ErrInvalidDigestLength) || KindOf(err) != KindValidation || err.(*Error).Message() != want {
						t.Errorf("%d-byte μ: %v, want %q", n, err, want)
					}
				}
			}
			// Other refusals keep their kinds.
			if _, err := k.Sign(MLDSASHAKE256, Digest, make([]byte, 64), nil); !errors.Is(err, ErrInvalidMessageType) || KindOf(err) != KindValidation {
				t.Errorf("ML-DSA DIGEST: %v, want ErrInvalidMessageType", err)
			}
			if _, err := k.Sign(ECDSASHA256, ExternalMu, make([]byte, 64), nil); !errors.Is(err, ErrIncompatibleAlgorithm) {
				t.Errorf("ML-DSA key, ECDSA_SHA_256, EXTERNAL_MU: %v, want ErrIncompatibleAlgorithm", err)
			}
		})
	}
	// The algorithm/spec check comes first: a non-ML-DSA key is incompatible.
	ec := testKey(t, ECCNISTP256)
	if _, err := ec.Sign(MLDSASHAKE256, ExternalMu, make([]byte, 64), nil); !errors.Is(err, ErrIncompatibleAlgorithm) || KindOf(err) != KindInvalidKeyUsage {
		t.Errorf("P-256 key, ML_DSA_SHAKE_256, EXTERNAL_MU: %v, want ErrIncompatibleAlgorithm", err)
	}
	// EXTERNAL_MU with an algorithm AWS does not allow it for is a
	// validation error.
	if _, err := ec.Verify(ECDSASHA256, ExternalMu, make([]byte, 64), nil); !errors.Is(err, ErrInvalidMessageType) || KindOf(err) != KindValidation {
		t.Errorf("ECDSA_SHA_256 EXTERNAL_MU: %v, want ErrInvalidMessageType", err)
	}
}

// circlDeterministic is circl's deterministic pure ML-DSA signature of msg
// with an empty context.
func circlDeterministic(t *testing.T, k *Key, msg []byte) []byte {
	t.Helper()
	var sig []byte
	var err error
	switch sk := k.mldsaSK.(type) {
	case *mldsa44.PrivateKey:
		sig = make([]byte, mldsa44.SignatureSize)
		err = mldsa44.SignTo(sk, msg, nil, false, sig)
	case *mldsa65.PrivateKey:
		sig = make([]byte, mldsa65.SignatureSize)
		err = mldsa65.SignTo(sk, msg, nil, false, sig)
	case *mldsa87.PrivateKey:
		sig = make([]byte, mldsa87.SignatureSize)
		err = mldsa87.SignTo(sk, msg, nil, false, sig)
	default:
		t.Fatalf("%s: not an ML-DSA key", k.Spec())
	}
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// TestEd25519PHSemantics pins AWS's documented behaviour: with
// ED25519_PH_SHA_512 and MessageType DIGEST, KMS still applies the Ed25519ph
// SHA-512 prehash to the 64 bytes it is given, so the signature is standard
// Ed25519ph over those 64 bytes.
func TestEd25519PHSemantics(t *testing.T) {
	k := testKey(t, ECCNISTEdwards25519)
	d := sha512.Sum512([]byte("document"))
	sig, err := k.Sign(ED25519PHSHA512, Digest, d[:], nil)
	if err != nil {
		t.Fatal(err)
	}
	pub := k.pub.ed
	input := sha512.Sum512(d[:])
	if err := ed25519.VerifyWithOptions(pub, input[:], sig, &ed25519.Options{Hash: crypto.SHA512}); err != nil {
		t.Errorf("not an Ed25519ph signature over the 64-byte input: %v", err)
	}
	if ed25519.Verify(pub, d[:], sig) {
		t.Error("an ED25519_PH_SHA_512 signature verified as pure Ed25519")
	}
}

func TestMarshalParseRoundTrip(t *testing.T) {
	for _, spec := range KeySpecs() {
		t.Run(spec.String(), func(t *testing.T) {
			k := testKey(t, spec)
			der, err := k.MarshalPrivate()
			if err != nil {
				t.Fatal(err)
			}
			k2, err := ParsePrivate(spec, der)
			if err != nil {
				t.Fatalf("ParsePrivate(MarshalPrivate()): %v", err)
			}
			der2, _ := k2.MarshalPrivate()
			if !bytes.Equal(der, der2) {
				t.Error("MarshalPrivate is not stable across a round trip")
			}
			if spec.Asymmetric() {
				p1, _ := k.PublicKeyDER()
				p2, _ := k2.PublicKeyDER()
				if !bytes.Equal(p1, p2) || !k.Public().Equal(k2.Public()) {
					t.Error("public key changed across a round trip")
				}
				pub, err := ParsePublicKey(spec, p1)
				if err != nil || !pub.Equal(k.Public()) {
					t.Errorf("ParsePublicKey(PublicKeyDER()) = %v, %v", pub, err)
				}
				// The parsed key is usable.
				alg := AlgorithmsFor(spec, SignVerify).Signing[0]
				sig, err := k2.Sign(alg, Raw, []byte("x"), nil)
				if err != nil {
					t.Fatal(err)
				}
				if ok, _ := k.Verify(alg, Raw, []byte("x"), sig); !ok {
					t.Error("signature by the re-parsed key does not verify")
				}
			} else {
				if _, err := k.PublicKeyDER(); !errors.Is(err, ErrInvalidKeyUsage) {
					t.Errorf("HMAC PublicKeyDER: %v", err)
				}
				if k.Public() != nil {
					t.Error("HMAC key has a public key")
				}
				if len(der) != spec.info().bits/8 {
					t.Errorf("HMAC key is %d bytes, want %d", len(der), spec.info().bits/8)
				}
			}
			// Mutating the returned bytes does not change the key.
			der[len(der)-1] ^= 0xff
			der3, _ := k.MarshalPrivate()
			if bytes.Equal(der, der3) {
				t.Error("MarshalPrivate returned shared storage")
			}
		})
	}
}

// TestParseRefusesOtherSpecs parses every spec's private and public key
// material as every other spec: only the matching spec (and, for HMAC raw
// bytes, specs whose length range admits them) may succeed.
func TestParseRefusesOtherSpecs(t *testing.T) {
	for _, from := range KeySpecs() {
		k := testKey(t, from)
		priv, _ := k.MarshalPrivate()
		pub, _ := k.PublicKeyDER()
		for _, to := range KeySpecs() {
			_, err := ParsePrivate(to, priv)
			if from == to {
				if err != nil {
					t.Errorf("ParsePrivate(%s, own key): %v", to, err)
				}
				continue
			}
			// Raw HMAC key bytes are any bytes of an acceptable length.
			if to.Asymmetric() || !hmacLenOK(to, len(priv)) {
				if err == nil {
					t.Errorf("ParsePrivate(%s, %s key) succeeded", to, from)
				} else if !errors.Is(err, ErrInvalidKeyMaterial) || KindOf(err) != KindInvalidKeyMaterial {
					t.Errorf("ParsePrivate(%s, %s key): %v, want ErrInvalidKeyMaterial", to, from, err)
				}
			}
			if pub != nil && to.Asymmetric() {
				if _, err := ParsePublicKey(to, pub); err == nil {
					t.Errorf("ParsePublicKey(%s, %s key) succeeded", to, from)
				}
			}
		}
	}
	for _, bad := range [][]byte{nil, {}, {0x30}, {0x30, 0x80}, bytes.Repeat([]byte{0x30, 0x82}, 10)} {
		for _, spec := range KeySpecs() {
			if _, err := ParsePrivate(spec, bad); err == nil {
				t.Errorf("ParsePrivate(%s, %x) succeeded", spec, bad)
			}
			if _, err := ParsePublicKey(spec, bad); err == nil {
				t.Errorf("ParsePublicKey(%s, %x) succeeded", spec, bad)
			}
		}
	}
	if _, err := ParsePrivate(KeySpecUnknown, []byte{1}); !errors.Is(err, ErrUnsupportedKeySpec) {
		t.Errorf("ParsePrivate(Unknown): %v", err)
	}
	if _, err := Generate(KeySpecUnknown, nil); !errors.Is(err, ErrUnsupportedKeySpec) || KindOf(err) != KindUnsupported {
		t.Errorf("Generate(Unknown): %v", err)
	}
}

func hmacLenOK(spec KeySpec, n int) bool {
	lo, hi := spec.hmacKeyLen()
	return n >= lo && n <= hi
}

func TestParsePrivateForeignFormats(t *testing.T) {
	// A 2048-bit RSA key from Wycheproof (rsa_oaep_2048_sha256_mgf1sha256_test.json).
	if _, err := ParsePrivate(RSA2048, unhex(t, wycheproofRSAPrivatePKCS8)); err != nil {
		t.Errorf("Wycheproof RSA PKCS#8: %v", err)
	}
	if _, err := ParsePrivate(RSA3072, unhex(t, wycheproofRSAPrivatePKCS8)); err == nil {
		t.Error("2048-bit key parsed as RSA_3072")
	}
	// NIST keys from the standard library.
	for spec, c := range map[KeySpec]elliptic.Curve{ECCNISTP256: elliptic.P256(), ECCNISTP384: elliptic.P384(), ECCNISTP521: elliptic.P521()} {
		priv, _ := ecdsa.GenerateKey(c, rand.Reader)
		der, _ := x509.MarshalPKCS8PrivateKey(priv)
		k, err := ParsePrivate(spec, der)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		want, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
		if got, _ := k.PublicKeyDER(); !bytes.Equal(got, want) {
			t.Errorf("%s public key mismatch", spec)
		}
	}
	// HMAC key lengths: generated keys are the spec's size; imports may be
	// up to the hash block size.
	for _, c := range []struct {
		spec KeySpec
		n    int
		ok   bool
	}{{HMAC224, 27, false}, {HMAC224, 28, true}, {HMAC224, 64, true}, {HMAC224, 65, false},
		{HMAC256, 31, false}, {HMAC256, 32, true}, {HMAC384, 47, false}, {HMAC384, 128, true},
		{HMAC512, 63, false}, {HMAC512, 64, true}, {HMAC512, 129, false}} {
		_, err := ParsePrivate(c.spec, make([]byte, c.n))
		if (err == nil) != c.ok {
			t.Errorf("ParsePrivate(%s, %d bytes) error = %v, want ok=%v", c.spec, c.n, err, c.ok)
		}
	}
	// An ML-DSA "both" key is accepted when consistent, refused otherwise;
	// the expandedKey-only form is refused.
	k := testKey(t, MLDSA65)
	both, _ := asn1MarshalBoth(k.mldsaSeed, k.mldsaExpanded())
	if _, err := ParsePrivate(MLDSA65, pkcs8For(t, MLDSA65, both)); err != nil {
		t.Errorf("ML-DSA both form: %v", err)
	}
	other := testKey(t, MLDSA87) // wrong level expanded key
	bad, _ := asn1MarshalBoth(k.mldsaSeed, other.mldsaExpanded())
	if _, err := ParsePrivate(MLDSA65, pkcs8For(t, MLDSA65, bad)); err == nil {
		t.Error("inconsistent ML-DSA both form accepted")
	}
	octet := append([]byte{0x04, 0x82, 0x0f, 0xc0}, k.mldsaExpanded()...)
	if _, err := ParsePrivate(MLDSA65, pkcs8For(t, MLDSA65, octet)); err == nil {
		t.Error("ML-DSA expandedKey-only form accepted")
	}
}

func TestStringRedacts(t *testing.T) {
	for _, spec := range KeySpecs() {
		k := testKey(t, spec)
		der, _ := k.MarshalPrivate()
		secretHex := hex.EncodeToString(der[len(der)-16:])
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q", "%d"} {
			out := fmt.Sprintf(verb, k) + fmt.Sprintf(verb, *k) + fmt.Sprintf(verb, []any{k, *k})
			if strings.Contains(out, secretHex) || strings.Contains(out, string(der[len(der)-16:])) || !strings.Contains(out, "REDACTED") {
				t.Errorf("%s: fmt %s of Key = %q", spec, verb, out)
			}
		}
	}
}

func TestEncryptDecrypt(t *testing.T) {
	for _, spec := range KeySpecs() {
		k := testKey(t, spec)
		for _, alg := range EncryptionAlgorithms() {
			t.Run(fmt.Sprintf("%s/%s", spec, alg), func(t *testing.T) {
				max, ok := MaxPlaintextSize(spec, alg)
				if ok != allowedByAWS(spec, EncryptDecrypt, alg) {
					t.Fatalf("MaxPlaintextSize ok = %v, but AWS allows = %v", ok, !ok)
				}
				if !ok {
					_, err := k.Encrypt(alg, []byte("x"), nil)
					_, derr := k.Decrypt(alg, make([]byte, 256))
					for _, e := range []error{err, derr} {
						if !errors.Is(e, ErrIncompatibleAlgorithm) || KindOf(e) != KindInvalidKeyUsage {
							t.Fatalf("got %v, want ErrIncompatibleAlgorithm", e)
						}
					}
					return
				}
				for _, n := range []int{1, 32, max} {
					pt := make([]byte, n)
					rand.Read(pt)
					ct, err := k.Encrypt(alg, pt, nil)
					if err != nil {
						t.Fatalf("Encrypt(%d bytes): %v", n, err)
					}
					got, err := k.Decrypt(alg, ct)
					if err != nil || !bytes.Equal(got, pt) {
						t.Fatalf("Decrypt = %x, %v; want %x", got, err, pt)
					}
					bad := bytes.Clone(ct)
					bad[len(bad)-1] ^= 1
					if _, err := k.Decrypt(alg, bad); !isDecryptionError(err) {
						t.Errorf("Decrypt(modified) = %v, want the opaque error", err)
					}
				}
				_, err := k.Encrypt(alg, make([]byte, max+1), nil)
				want := fmt.Sprintf("Algorithm %s and key spec %s cannot encrypt data larger than %d bytes.", alg, spec, max)
				if !errors.Is(err, ErrMessageTooLarge) || KindOf(err) != KindValidation || err.(*Error).Message() != want {
					t.Errorf("oversize plaintext: %v, want %q", err, want)
				}
				if _, err := k.Encrypt(alg, nil, nil); !errors.Is(err, ErrEmptyMessage) {
					t.Errorf("empty plaintext: %v", err)
				}
				for _, ct := range [][]byte{nil, {0}, {0x30}, make([]byte, 4096), bytes.Repeat([]byte{0xff}, 512)} {
					if _, err := k.Decrypt(alg, ct); !isDecryptionError(err) {
						t.Errorf("Decrypt(%d junk bytes) = %v", len(ct), err)
					}
				}
				// The other encryption algorithm's ciphertext does not decrypt.
				if alg == RSAESOAEPSHA1 {
					ct, _ := k.Encrypt(RSAESOAEPSHA256, []byte("x"), nil)
					if _, err := k.Decrypt(RSAESOAEPSHA1, ct); !isDecryptionError(err) {
						t.Errorf("OAEP-SHA-256 ciphertext decrypted with SHA-1: %v", err)
					}
				}
			})
		}
	}
}

func TestSM2CiphertextFormat(t *testing.T) {
	k := testKey(t, SM2)
	ct, err := k.Encrypt(SM2PKE, []byte("hello"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if ct[0] != 0x30 {
		t.Fatalf("SM2PKE ciphertext is not ASN.1: %x", ct[:4])
	}
	// The plain C1C3C2 form of the same ciphertext is refused: AWS KMS takes
	// ASN.1 only.
	plain, err := sm2.ASN1Ciphertext2Plain(ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Decrypt(SM2PKE, plain); !isDecryptionError(err) {
		t.Errorf("plain C1C3C2 ciphertext: %v, want the opaque error", err)
	}
	// A ciphertext made by the library directly (as an offline encryptor
	// following AWS's SM2OfflineOperationHelper would) decrypts.
	ct2, _ := sm2.EncryptASN1(rand.Reader, k.pub.ecdsa, []byte("offline"))
	if pt, err := k.Decrypt(SM2PKE, ct2); err != nil || string(pt) != "offline" {
		t.Errorf("offline ciphertext: %q, %v", pt, err)
	}
}

func TestMAC(t *testing.T) {
	for _, spec := range KeySpecs() {
		k := testKey(t, spec)
		for _, alg := range MacAlgorithms() {
			msg := []byte("message")
			mac, err := k.MAC(alg, msg)
			ok, verr := k.VerifyMAC(alg, msg, mac)
			if !allowedByAWS(spec, GenerateVerifyMAC, alg) {
				for _, e := range []error{err, verr} {
					if !errors.Is(e, ErrIncompatibleAlgorithm) || KindOf(e) != KindInvalidKeyUsage {
						t.Errorf("%s/%s: %v, want ErrIncompatibleAlgorithm", spec, alg, e)
					}
				}
				continue
			}
			if err != nil || verr != nil || !ok {
				t.Fatalf("%s/%s: MAC %v, VerifyMAC %v %v", spec, alg, err, ok, verr)
			}
			if len(mac) != spec.info().bits/8 {
				t.Errorf("%s: MAC is %d bytes", spec, len(mac))
			}
			for _, bad := range [][]byte{nil, mac[:len(mac)-1], append(bytes.Clone(mac), 0), xorLast(mac)} {
				if ok, err := k.VerifyMAC(alg, msg, bad); ok || err != nil {
					t.Errorf("%s: VerifyMAC(bad mac) = %v, %v", spec, ok, err)
				}
			}
			if ok, _ := k.VerifyMAC(alg, []byte("messagf"), mac); ok {
				t.Errorf("%s: VerifyMAC(other message) = true", spec)
			}
			if _, err := k.MAC(alg, nil); !errors.Is(err, ErrEmptyMessage) {
				t.Errorf("%s: empty message: %v", spec, err)
			}
			if _, err := k.MAC(alg, make([]byte, MaxMessageSize+1)); !errors.Is(err, ErrMessageTooLarge) {
				t.Errorf("%s: oversize message: %v", spec, err)
			}
			if _, err := k.MAC(alg, make([]byte, MaxMessageSize)); err != nil {
				t.Errorf("%s: 4096-byte message: %v", spec, err)
			}
		}
	}
	_, err := testKey(t, HMAC224).MAC(HMACSHA256, []byte("m"))
	if want := "Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224."; err == nil || err.(*Error).Message() != want {
		t.Errorf("mismatched HMAC algorithm: %v, want %q", err, want)
	}
}

func xorLast(b []byte) []byte {
	c := bytes.Clone(b)
	c[len(c)-1] ^= 1
	return c
}

func TestDeriveSharedSecret(t *testing.T) {
	for _, spec := range KeySpecs() {
		k := testKey(t, spec)
		if !allowedByAWS(spec, KeyAgreement, ECDH) {
			_, err := k.DeriveSharedSecret(ECDH, nil)
			if !errors.Is(err, ErrIncompatibleAlgorithm) || KindOf(err) != KindInvalidKeyUsage {
				t.Errorf("%s: %v, want ErrIncompatibleAlgorithm", spec, err)
			}
			continue
		}
		t.Run(spec.String(), func(t *testing.T) {
			peer, err := Generate(spec, nil)
			if err != nil {
				t.Fatal(err)
			}
			peerDER, _ := peer.PublicKeyDER()
			ownDER, _ := k.PublicKeyDER()
			s1, err := k.DeriveSharedSecret(ECDH, peerDER)
			if err != nil {
				t.Fatal(err)
			}
			s2, err := peer.DeriveSharedSecret(ECDH, ownDER)
			if err != nil || !bytes.Equal(s1, s2) {
				t.Fatalf("secrets differ: %x vs %x (%v)", s1, s2, err)
			}
			if want := (spec.info().bits + 7) / 8; len(s1) != want {
				t.Errorf("secret is %d bytes, want %d", len(s1), want)
			}
			// Independent computation: the x-coordinate of d·Q.
			if spec == SM2 {
				x, _ := sm2.P256().ScalarMult(peer.pub.ecdsa.X, peer.pub.ecdsa.Y, k.sm2.D.Bytes())
				if want := x.FillBytes(make([]byte, 32)); !bytes.Equal(s1, want) {
					t.Errorf("SM2 ECDH = %x, want x(d·Q) = %x", s1, want)
				}
			} else {
				x, _ := k.ecdsa.Curve.ScalarMult(peer.pub.ecdsa.X, peer.pub.ecdsa.Y, k.ecdsa.D.Bytes())
				if want := x.FillBytes(make([]byte, len(s1))); !bytes.Equal(s1, want) {
					t.Errorf("ECDH = %x, want x(d·Q) = %x", s1, want)
				}
			}
			// Peer keys on every other curve, and junk, are refused.
			for _, other := range KeySpecs() {
				if other == spec || !other.Asymmetric() {
					continue
				}
				od, _ := testKey(t, other).PublicKeyDER()
				if _, err := k.DeriveSharedSecret(ECDH, od); !errors.Is(err, ErrInvalidPublicKey) || KindOf(err) != KindValidation {
					t.Errorf("peer on %s: %v, want ErrInvalidPublicKey", other, err)
				}
			}
			for _, bad := range [][]byte{nil, {0x30, 0}, peerDER[:len(peerDER)-1], append(bytes.Clone(peerDER), 0), xorLast(peerDER)} {
				if _, err := k.DeriveSharedSecret(ECDH, bad); !errors.Is(err, ErrInvalidPublicKey) {
					t.Errorf("bad peer key: %v", err)
				}
			}
			if _, err := k.DeriveSharedSecret(KeyAgreementAlgorithmUnknown, peerDER); !errors.Is(err, ErrIncompatibleAlgorithm) {
				t.Errorf("unknown algorithm: %v", err)
			}
		})
	}
}

func TestGenerateDataKeyPair(t *testing.T) {
	for _, spec := range DataKeyPairSpecs() {
		t.Run(spec.String(), func(t *testing.T) {
			if spec == PairRSA4096 && testing.Short() {
				t.Skip("slow")
			}
			priv, pub, err := GenerateDataKeyPair(spec, nil)
			if err != nil {
				t.Fatal(err)
			}
			k, err := ParsePrivate(spec.KeySpec(), priv)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := k.PublicKeyDER(); !bytes.Equal(got, pub) {
				t.Error("public key does not match the private key")
			}
			// Standard parsers read both halves.
			var parsedPub, parsedPriv any
			switch spec {
			case PairSM2:
				parsedPriv, err = smx509.ParsePKCS8PrivateKey(priv)
				if err == nil {
					parsedPub, err = smx509.ParsePKIXPublicKey(pub)
				}
			case PairECCSECGP256K1:
				parsedPriv, parsedPub = true, true // checked by the OpenSSL test
			default:
				parsedPriv, err = x509.ParsePKCS8PrivateKey(priv)
				if err == nil {
					parsedPub, err = x509.ParsePKIXPublicKey(pub)
				}
			}
			if err != nil || parsedPriv == nil || parsedPub == nil {
				t.Errorf("standard parsers: %v", err)
			}
		})
	}
	if _, _, err := GenerateDataKeyPair(DataKeyPairSpecUnknown, nil); !errors.Is(err, ErrUnsupportedKeySpec) {
		t.Errorf("Unknown: %v", err)
	}
}

func TestPublicKeyDERFormats(t *testing.T) {
	// ML-DSA: SPKI with the FIPS 204 OID and no parameters (RFC 9881).
	for spec, oid := range map[KeySpec]string{MLDSA44: "0609608648016503040311", MLDSA65: "0609608648016503040312", MLDSA87: "0609608648016503040313"} {
		der, _ := testKey(t, spec).PublicKeyDER()
		if !bytes.Contains(der, unhex(t, "300b"+oid+"03")) {
			t.Errorf("%s SPKI does not carry the id-ml-dsa OID without parameters: %x", spec, der[:20])
		}
	}
	// secp256k1: id-ecPublicKey with OID 1.3.132.0.10 and an uncompressed point.
	der, _ := testKey(t, ECCSECGP256K1).PublicKeyDER()
	if want := "3056301006072a8648ce3d020106052b8104000a034200"; !strings.HasPrefix(hex.EncodeToString(der), want) {
		t.Errorf("secp256k1 SPKI = %x, want prefix %s", der, want)
	}
	// SM2: id-ecPublicKey with the SM2 curve OID 1.2.156.10197.1.301.
	der, _ = testKey(t, SM2).PublicKeyDER()
	if want := "3059301306072a8648ce3d020106082a811ccf5501822d034200"; !strings.HasPrefix(hex.EncodeToString(der), want) {
		t.Errorf("SM2 SPKI = %x, want prefix %s", der, want)
	}
	// Ed25519: RFC 8410.
	der, _ = testKey(t, ECCNISTEdwards25519).PublicKeyDER()
	if want := "302a300506032b6570032100"; !strings.HasPrefix(hex.EncodeToString(der), want) || len(der) != 44 {
		t.Errorf("Ed25519 SPKI = %x", der)
	}
	// The NIST and RSA keys are what crypto/x509 reads.
	for _, spec := range []KeySpec{RSA2048, ECCNISTP256, ECCNISTP384, ECCNISTP521} {
		der, _ := testKey(t, spec).PublicKeyDER()
		pub, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			t.Errorf("%s: %v", spec, err)
		}
		switch p := pub.(type) {
		case *rsa.PublicKey:
			if p.N.BitLen() != 2048 {
				t.Errorf("RSA size %d", p.N.BitLen())
			}
		case *ecdsa.PublicKey:
			if _, err := p.ECDH(); err != nil {
				t.Errorf("%s: %v", spec, err)
			}
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	k := testKey(t, ECCNISTP256)
	h := sha256.Sum256([]byte("x"))
	done := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func() {
			for j := 0; j < 20; j++ {
				sig, err := k.Sign(ECDSASHA256, Digest, h[:], nil)
				if err != nil {
					done <- err
					return
				}
				if ok, err := k.Verify(ECDSASHA256, Digest, h[:], sig); !ok || err != nil {
					done <- fmt.Errorf("verify: %v %v", ok, err)
					return
				}
				peer, _ := ecdh.P256().GenerateKey(rand.Reader)
				der, _ := x509.MarshalPKIXPublicKey(peer.PublicKey())
				if _, err := k.DeriveSharedSecret(ECDH, der); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for i := 0; i < 8; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
