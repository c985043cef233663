package keymaterial

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	cryptorand "crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"io"

	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// Key is the private key material of one asymmetric key pair or HMAC key.
//
// A Key is immutable after Generate or ParsePrivate and safe for concurrent
// use. Its secret fields are unexported; String and GoString redact them;
// MarshalPrivate is the only way out, and its result must be sealed before it
// is stored.
type Key struct {
	spec KeySpec
	pub  *PublicKey // nil for HMAC keys

	rsa   *rsa.PrivateKey
	ecdsa *ecdsa.PrivateKey // NIST P-curves
	k1    *secp256k1.PrivateKey
	ed    ed25519.PrivateKey
	sm2   *sm2.PrivateKey
	hmac  []byte

	mldsaSeed []byte // 32-byte FIPS 204 seed ξ
	mldsaSK   any    // *mldsa44.PrivateKey, *mldsa65.PrivateKey or *mldsa87.PrivateKey (circl)
}

// PublicKey is the public half of an asymmetric key pair. It is immutable
// and safe for concurrent use.
type PublicKey struct {
	spec KeySpec
	der  []byte // SubjectPublicKeyInfo, as GetPublicKey returns it

	rsa      *rsa.PublicKey
	ecdsa    *ecdsa.PublicKey // NIST P-curves and SM2 (on gmsm's curve)
	k1       *secp256k1.PublicKey
	ed       ed25519.PublicKey
	mldsaPK  any    // *mldsa44.PublicKey, *mldsa65.PublicKey or *mldsa87.PublicKey (circl)
	mldsaRaw []byte // the same key as FIPS 204 pkEncode, for internal/mldsa (EXTERNAL_MU)
}

// Spec returns the key spec.
func (k *Key) Spec() KeySpec { return k.spec }

// String returns a description without key material. It and GoString and
// Format have value receivers so that a copied Key value redacts too.
func (k Key) String() string {
	return fmt.Sprintf("keymaterial.Key{%s, private: REDACTED}", k.spec)
}

// GoString redacts like String, so %#v cannot print key material.
func (k Key) GoString() string { return k.String() }

// Format redacts for every verb, so no fmt verb prints key material.
func (k Key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// Public returns the public key, or nil for HMAC keys.
func (k *Key) Public() *PublicKey { return k.pub }

// PublicKeyDER returns the DER SubjectPublicKeyInfo that GetPublicKey
// returns. HMAC keys have none (ErrInvalidKeyUsage). The result is a fresh
// copy.
func (k *Key) PublicKeyDER() ([]byte, error) {
	if k.pub == nil {
		return nil, errUsage(k.spec, "GetPublicKey")
	}
	return k.pub.DER(), nil
}

// Spec returns the key spec.
func (p *PublicKey) Spec() KeySpec { return p.spec }

// DER returns the DER SubjectPublicKeyInfo (a fresh copy).
func (p *PublicKey) DER() []byte { return append([]byte(nil), p.der...) }

// String describes the public key.
func (p *PublicKey) String() string {
	if p == nil {
		return "keymaterial.PublicKey(nil)"
	}
	return fmt.Sprintf("keymaterial.PublicKey{%s}", p.spec)
}

// Equal reports whether p and q are the same public key.
func (p *PublicKey) Equal(q *PublicKey) bool {
	return p != nil && q != nil && p.spec == q.spec && subtle.ConstantTimeCompare(p.der, q.der) == 1
}

// Generate creates new key material of the given spec with randomness from
// rand (crypto/rand if nil). Note that since Go 1.26 the standard library
// ignores rand for RSA, ECDSA and Ed25519 key generation and always uses a
// secure source; secp256k1, SM2, ML-DSA seeds and HMAC keys are read from
// rand.
func Generate(spec KeySpec, rand io.Reader) (*Key, error) {
	if rand == nil {
		rand = cryptorand.Reader
	}
	k := &Key{spec: spec}
	switch spec.info().family {
	case famRSA:
		priv, err := rsa.GenerateKey(rand, spec.info().bits)
		if err != nil {
			return nil, errInternal(err)
		}
		k.rsa = priv
	case famECDSA:
		priv, err := ecdsa.GenerateKey(nistCurve(spec), rand)
		if err != nil {
			return nil, errInternal(err)
		}
		k.ecdsa = priv
	case famSecp256k1:
		priv, err := secp256k1.GeneratePrivateKeyFromRand(rand)
		if err != nil {
			return nil, errInternal(err)
		}
		k.k1 = priv
	case famEd25519:
		_, priv, err := ed25519.GenerateKey(rand)
		if err != nil {
			return nil, errInternal(err)
		}
		k.ed = priv
	case famMLDSA:
		seed := make([]byte, mldsa44.SeedSize)
		if _, err := io.ReadFull(rand, seed); err != nil {
			return nil, errInternal(err)
		}
		if err := k.setMLDSASeed(seed); err != nil {
			return nil, errInternal(err)
		}
	case famHMAC:
		k.hmac = make([]byte, spec.info().bits/8)
		if _, err := io.ReadFull(rand, k.hmac); err != nil {
			return nil, errInternal(err)
		}
		return k, nil
	case famSM2:
		priv, err := sm2.GenerateKey(rand)
		if err != nil {
			return nil, errInternal(err)
		}
		k.sm2 = priv
	default:
		return nil, errUnsupportedSpec(spec)
	}
	if err := k.derivePublic(); err != nil {
		return nil, errInternal(err)
	}
	return k, nil
}

// MarshalPrivate serializes the private key for sealing and storage:
// PKCS#8 DER for every asymmetric spec (for ECC_SECG_P256K1 and SM2 with
// id-ecPublicKey and the curve's OID, as OpenSSL writes them; for ML-DSA the
// RFC 9881 seed-only form), and the raw key bytes for HMAC. The result is a
// fresh slice the caller owns; ParsePrivate with the same spec inverts it.
func (k *Key) MarshalPrivate() ([]byte, error) {
	var (
		out []byte
		err error
	)
	switch k.spec.info().family {
	case famRSA:
		out, err = x509.MarshalPKCS8PrivateKey(k.rsa)
	case famECDSA:
		out, err = x509.MarshalPKCS8PrivateKey(k.ecdsa)
	case famEd25519:
		out, err = x509.MarshalPKCS8PrivateKey(k.ed)
	case famSecp256k1:
		scalar := k.k1.Key.Bytes()
		out, err = marshalSecp256k1PKCS8(scalar[:], k.k1.PubKey().SerializeUncompressed())
	case famSM2:
		out, err = smx509.MarshalPKCS8PrivateKey(k.sm2)
	case famMLDSA:
		out, err = marshalMLDSAPKCS8(k.spec, k.mldsaSeed)
	case famHMAC:
		out = append([]byte(nil), k.hmac...)
	default:
		return nil, errUnsupportedSpec(k.spec)
	}
	if err != nil {
		return nil, errInternal(err)
	}
	return out, nil
}

// ParsePrivate parses key material that MarshalPrivate produced (or that a
// caller imports in the same format) and checks it is a key of the given
// spec: the RSA modulus size, the curve, the ML-DSA parameter set and the
// HMAC key length must match. Errors are KindInvalidKeyMaterial. der is not
// retained.
func ParsePrivate(spec KeySpec, der []byte) (*Key, error) {
	k := &Key{spec: spec}
	var err error
	switch spec.info().family {
	case famRSA:
		err = k.parseRSA(der)
	case famECDSA:
		err = k.parseECDSA(der)
	case famSecp256k1:
		err = k.parseSecp256k1(der)
	case famEd25519:
		err = k.parseEd25519(der)
	case famSM2:
		err = k.parseSM2(der)
	case famMLDSA:
		err = k.parseMLDSA(der)
	case famHMAC:
		lo, hi := spec.hmacKeyLen()
		if len(der) < lo || len(der) > hi {
			return nil, errInvalidKeyMaterial(spec, fmt.Errorf("HMAC key is %d bytes, want %d to %d", len(der), lo, hi))
		}
		k.hmac = append([]byte(nil), der...)
		return k, nil
	default:
		return nil, errUnsupportedSpec(spec)
	}
	if err == nil {
		err = k.derivePublic()
	}
	if err != nil {
		return nil, errInvalidKeyMaterial(spec, err)
	}
	return k, nil
}

func (k *Key) parseRSA(der []byte) error {
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return err
	}
	priv, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return errors.New("not an RSA key")
	}
	if priv.N.BitLen() != k.spec.info().bits {
		return fmt.Errorf("RSA modulus is %d bits", priv.N.BitLen())
	}
	if err := priv.Validate(); err != nil {
		return err
	}
	k.rsa = priv
	return nil
}

func (k *Key) parseECDSA(der []byte) error {
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return err
	}
	priv, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != nistCurve(k.spec) {
		return errors.New("not an EC key on the spec's curve")
	}
	k.ecdsa = priv
	return nil
}

func (k *Key) parseSecp256k1(der []byte) error {
	scalar, pub, err := parseSecp256k1PKCS8(der)
	if err != nil {
		return err
	}
	var s secp256k1.ModNScalar
	if overflow := s.SetByteSlice(scalar); overflow || s.IsZero() {
		return errors.New("secp256k1 scalar out of range")
	}
	priv := secp256k1.NewPrivateKey(&s)
	if pub != nil {
		embedded, err := secp256k1.ParsePubKey(pub)
		if err != nil || !embedded.IsEqual(priv.PubKey()) {
			return errors.New("embedded public key does not match")
		}
	}
	k.k1 = priv
	return nil
}

func (k *Key) parseEd25519(der []byte) error {
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return err
	}
	priv, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return errors.New("not an Ed25519 key")
	}
	k.ed = priv
	return nil
}

func (k *Key) parseSM2(der []byte) (err error) {
	defer recoverAs(&err)
	parsed, err := smx509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return err
	}
	priv, ok := parsed.(*sm2.PrivateKey)
	if !ok {
		return errors.New("not an SM2 key")
	}
	k.sm2 = priv
	return nil
}

func (k *Key) parseMLDSA(der []byte) error {
	seed, expanded, err := parseMLDSAPKCS8(k.spec, der)
	if err != nil {
		return err
	}
	if err := k.setMLDSASeed(seed); err != nil {
		return err
	}
	if expanded != nil && subtle.ConstantTimeCompare(expanded, k.mldsaExpanded()) != 1 {
		return errors.New("ML-DSA expanded key does not match seed")
	}
	return nil
}

// setMLDSASeed derives the circl key from a seed.
func (k *Key) setMLDSASeed(seed []byte) error {
	if len(seed) != 32 {
		return errors.New("ML-DSA seed must be 32 bytes")
	}
	k.mldsaSeed = append([]byte(nil), seed...)
	s := (*[32]byte)(k.mldsaSeed)
	switch k.spec {
	case MLDSA44:
		_, k.mldsaSK = mldsa44.NewKeyFromSeed(s)
	case MLDSA65:
		_, k.mldsaSK = mldsa65.NewKeyFromSeed(s)
	case MLDSA87:
		_, k.mldsaSK = mldsa87.NewKeyFromSeed(s)
	default:
		return errors.New("not an ML-DSA spec")
	}
	return nil
}

// mldsaExpanded returns the FIPS 204 skEncode form of the private key.
func (k *Key) mldsaExpanded() []byte {
	switch sk := k.mldsaSK.(type) {
	case *mldsa44.PrivateKey:
		return sk.Bytes()
	case *mldsa65.PrivateKey:
		return sk.Bytes()
	case *mldsa87.PrivateKey:
		return sk.Bytes()
	}
	return nil
}

// derivePublic fills k.pub from the private key.
func (k *Key) derivePublic() error {
	p := &PublicKey{spec: k.spec}
	var err error
	switch k.spec.info().family {
	case famRSA:
		p.rsa = &k.rsa.PublicKey
		p.der, err = x509.MarshalPKIXPublicKey(p.rsa)
	case famECDSA:
		p.ecdsa = &k.ecdsa.PublicKey
		p.der, err = x509.MarshalPKIXPublicKey(p.ecdsa)
	case famSecp256k1:
		p.k1 = k.k1.PubKey()
		p.der, err = marshalSecp256k1SPKI(p.k1.SerializeUncompressed())
	case famEd25519:
		p.ed = k.ed.Public().(ed25519.PublicKey)
		p.der, err = x509.MarshalPKIXPublicKey(p.ed)
	case famSM2:
		p.ecdsa = &k.sm2.PublicKey
		p.der, err = smx509.MarshalPKIXPublicKey(p.ecdsa)
	case famMLDSA:
		var raw []byte
		switch sk := k.mldsaSK.(type) {
		case *mldsa44.PrivateKey:
			p.mldsaPK = sk.Public()
			raw = sk.Public().(*mldsa44.PublicKey).Bytes()
		case *mldsa65.PrivateKey:
			p.mldsaPK = sk.Public()
			raw = sk.Public().(*mldsa65.PublicKey).Bytes()
		case *mldsa87.PrivateKey:
			p.mldsaPK = sk.Public()
			raw = sk.Public().(*mldsa87.PublicKey).Bytes()
		}
		if raw == nil {
			return errors.New("ML-DSA private key not set")
		}
		p.mldsaRaw = raw
		p.der, err = marshalSPKI(mldsaOID(k.spec), asnAbsent, raw)
	default:
		return errUnsupportedSpec(k.spec)
	}
	if err != nil {
		return err
	}
	k.pub = p
	return nil
}

// ParsePublicKey parses a DER SubjectPublicKeyInfo and checks that it is a
// public key of the given spec (RSA modulus size, curve, ML-DSA parameter
// set). Points must be on the curve. Errors are KindInvalidKeyMaterial.
// der is copied.
func ParsePublicKey(spec KeySpec, der []byte) (*PublicKey, error) {
	p, err := parsePublicKey(spec, der)
	if err != nil {
		if KindOf(err) == KindUnsupported {
			return nil, err
		}
		return nil, errInvalidKeyMaterial(spec, err)
	}
	return p, nil
}

func parsePublicKey(spec KeySpec, der []byte) (_ *PublicKey, err error) {
	defer recoverAs(&err)
	p := &PublicKey{spec: spec, der: append([]byte(nil), der...)}
	switch spec.info().family {
	case famRSA, famECDSA, famEd25519:
		parsed, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			return nil, err
		}
		switch pub := parsed.(type) {
		case *rsa.PublicKey:
			if spec.info().family != famRSA || pub.N.BitLen() != spec.info().bits {
				return nil, errors.New("not an RSA public key of the spec's size")
			}
			p.rsa = pub
		case *ecdsa.PublicKey:
			if spec.info().family != famECDSA || pub.Curve != nistCurve(spec) {
				return nil, errors.New("not an EC public key on the spec's curve")
			}
			p.ecdsa = pub
		case ed25519.PublicKey:
			if spec.info().family != famEd25519 {
				return nil, errors.New("unexpected Ed25519 public key")
			}
			p.ed = pub
		default:
			return nil, errors.New("unexpected public key type")
		}
	case famSecp256k1:
		raw, err := parseSecp256k1SPKI(der)
		if err != nil {
			return nil, err
		}
		pub, err := secp256k1.ParsePubKey(raw)
		if err != nil {
			return nil, err
		}
		p.k1 = pub
	case famSM2:
		parsed, err := smx509.ParsePKIXPublicKey(der)
		if err != nil {
			return nil, err
		}
		pub, ok := parsed.(*ecdsa.PublicKey)
		if !ok || !sm2.IsSM2PublicKey(pub) {
			return nil, errors.New("not an SM2 public key")
		}
		if _, err := sm2.PublicKeyToECDH(pub); err != nil { // on-curve check
			return nil, err
		}
		p.ecdsa = pub
	case famMLDSA:
		params, raw, err := parseSPKI(der, mldsaOID(spec))
		if err != nil {
			return nil, err
		}
		if len(params) != 0 {
			return nil, errors.New("ML-DSA parameters must be absent")
		}
		switch spec {
		case MLDSA44:
			pk := new(mldsa44.PublicKey)
			err = pk.UnmarshalBinary(raw)
			p.mldsaPK = pk
		case MLDSA65:
			pk := new(mldsa65.PublicKey)
			err = pk.UnmarshalBinary(raw)
			p.mldsaPK = pk
		case MLDSA87:
			pk := new(mldsa87.PublicKey)
			err = pk.UnmarshalBinary(raw)
			p.mldsaPK = pk
		}
		if err != nil {
			return nil, err
		}
		p.mldsaRaw = bytes.Clone(raw)
	default:
		return nil, errUnsupportedSpec(spec)
	}
	return p, nil
}

func nistCurve(spec KeySpec) elliptic.Curve {
	switch spec {
	case ECCNISTP256:
		return elliptic.P256()
	case ECCNISTP384:
		return elliptic.P384()
	case ECCNISTP521:
		return elliptic.P521()
	}
	return nil
}

// recoverAs turns a panic in a third-party parser (gmsm, decred, circl) into
// an error. Attacker-supplied bytes reach those parsers; a bug there must
// cost one request, not the process. The fuzz tests check no panic occurs.
func recoverAs(err *error) {
	if r := recover(); r != nil {
		recoveredPanic(r)
		*err = fmt.Errorf("keymaterial: recovered from panic: %v", r)
	}
}

// recoveredPanic sees every panic this package absorbs. Tests replace it
// with one that re-panics, so the fuzzers report such a bug instead of the
// guard hiding it.
var recoveredPanic = func(any) {}
