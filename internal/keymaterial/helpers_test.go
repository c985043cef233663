package keymaterial

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"sync"
	"testing"

	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
)

// testKeys caches one generated key per spec: RSA_4096 generation is slow,
// and most tests only need some key of each spec.
var (
	testKeysMu sync.Mutex
	testKeys   = map[KeySpec]*Key{}
)

func testKey(t testing.TB, spec KeySpec) *Key {
	t.Helper()
	testKeysMu.Lock()
	defer testKeysMu.Unlock()
	if k, ok := testKeys[spec]; ok {
		return k
	}
	k, err := Generate(spec, nil)
	if err != nil {
		t.Fatalf("Generate(%s): %v", spec, err)
	}
	testKeys[spec] = k
	return k
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex in test vector: %v", err)
	}
	return b
}

// messageFor returns a valid message for (alg, t): a RAW message, or a
// digest of the right length.
func messageFor(alg SigningAlgorithm, t MessageType) []byte {
	if n, ok := MessageLength(alg, t); ok {
		m := make([]byte, n)
		for i := range m {
			m[i] = byte(i * 7)
		}
		return m
	}
	return []byte("OpenKMS test message")
}

func asn1MarshalBoth(seed, expanded []byte) ([]byte, error) {
	return asn1.Marshal(mldsaBoth{Seed: seed, ExpandedKey: expanded})
}

// pkcs8For wraps an ML-DSA-PrivateKey CHOICE in PKCS#8.
func pkcs8For(t testing.TB, spec KeySpec, inner []byte) []byte {
	t.Helper()
	der, err := asn1.Marshal(pkcs8{Algo: pkix.AlgorithmIdentifier{Algorithm: mldsaOID(spec)}, PrivateKey: inner})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// mldsaPublicRaw returns the raw FIPS 204 public key (pkEncode) of an ML-DSA
// public key, as circl encodes it.
func mldsaPublicRaw(t testing.TB, p *PublicKey) []byte {
	t.Helper()
	switch pk := p.mldsaPK.(type) {
	case *mldsa44.PublicKey:
		return pk.Bytes()
	case *mldsa65.PublicKey:
		return pk.Bytes()
	case *mldsa87.PublicKey:
		return pk.Bytes()
	}
	t.Fatalf("%s: not an ML-DSA public key", p.Spec())
	return nil
}

// isDecryptionError reports whether err is the one opaque decryption error.
func isDecryptionError(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == KindInvalidCiphertext && errors.Is(err, ErrDecryption) &&
		e.Error() == "keymaterial: decryption failed"
}
