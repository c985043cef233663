package keymaterial

// DER encodings the standard library does not provide: PKCS#8 and
// SubjectPublicKeyInfo for secp256k1 (RFC 5915 / RFC 5480 with the SECG curve
// OID) and for ML-DSA (RFC 9881, the FIPS 204 OIDs of NIST's CSOR).

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
)

var (
	oidPublicKeyECDSA = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidSecp256k1      = asn1.ObjectIdentifier{1, 3, 132, 0, 10}
	oidMLDSA44        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 17}
	oidMLDSA65        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 18}
	oidMLDSA87        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 19}
)

// pkcs8 is PrivateKeyInfo (RFC 5208) / OneAsymmetricKey v1 (RFC 5958).
type pkcs8 struct {
	Version    int
	Algo       pkix.AlgorithmIdentifier
	PrivateKey []byte
}

// ecPrivateKey is ECPrivateKey (RFC 5915).
type ecPrivateKey struct {
	Version       int
	PrivateKey    []byte
	NamedCurveOID asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
	PublicKey     asn1.BitString        `asn1:"optional,explicit,tag:1"`
}

// spki is SubjectPublicKeyInfo (RFC 5280).
type spki struct {
	Algorithm pkix.AlgorithmIdentifier
	PublicKey asn1.BitString
}

// asnAbsent is an absent optional ASN.1 value (AlgorithmIdentifier
// parameters for Ed25519 and ML-DSA).
var asnAbsent asn1.RawValue

var errTrailingData = errors.New("trailing data after DER structure")

// unmarshalDER parses exactly one DER value into out.
func unmarshalDER(der []byte, out any) error {
	rest, err := asn1.Unmarshal(der, out)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return errTrailingData
	}
	return nil
}

func curveParams(oid asn1.ObjectIdentifier) (asn1.RawValue, error) {
	b, err := asn1.Marshal(oid)
	if err != nil {
		return asn1.RawValue{}, err
	}
	return asn1.RawValue{FullBytes: b}, nil
}

// marshalSecp256k1PKCS8 encodes a 32-byte scalar and its uncompressed public
// point as PKCS#8 with id-ecPublicKey / secp256k1, the form OpenSSL writes.
func marshalSecp256k1PKCS8(scalar, uncompressedPub []byte) ([]byte, error) {
	params, err := curveParams(oidSecp256k1)
	if err != nil {
		return nil, err
	}
	inner, err := asn1.Marshal(ecPrivateKey{
		Version:    1,
		PrivateKey: scalar,
		PublicKey:  asn1.BitString{Bytes: uncompressedPub, BitLength: 8 * len(uncompressedPub)},
	})
	if err != nil {
		return nil, err
	}
	return asn1.Marshal(pkcs8{
		Algo:       pkix.AlgorithmIdentifier{Algorithm: oidPublicKeyECDSA, Parameters: params},
		PrivateKey: inner,
	})
}

// parseSecp256k1PKCS8 returns the 32-byte scalar of a secp256k1 PKCS#8 key
// and the public key bytes it embeds (nil if absent).
func parseSecp256k1PKCS8(der []byte) (scalar, pub []byte, err error) {
	var p pkcs8
	if err := unmarshalDER(der, &p); err != nil {
		return nil, nil, err
	}
	if p.Version != 0 || !p.Algo.Algorithm.Equal(oidPublicKeyECDSA) {
		return nil, nil, errors.New("not an EC PKCS#8 key")
	}
	var curve asn1.ObjectIdentifier
	if err := unmarshalDER(p.Algo.Parameters.FullBytes, &curve); err != nil || !curve.Equal(oidSecp256k1) {
		return nil, nil, errors.New("not a secp256k1 key")
	}
	var ec ecPrivateKey
	if err := unmarshalDER(p.PrivateKey, &ec); err != nil {
		return nil, nil, err
	}
	if ec.Version != 1 || len(ec.PrivateKey) != 32 {
		return nil, nil, errors.New("invalid ECPrivateKey")
	}
	if ec.NamedCurveOID != nil && !ec.NamedCurveOID.Equal(oidSecp256k1) {
		return nil, nil, errors.New("ECPrivateKey curve mismatch")
	}
	return ec.PrivateKey, ec.PublicKey.RightAlign(), nil
}

// marshalSPKI encodes a SubjectPublicKeyInfo. params may be the zero
// RawValue, in which case the parameters are absent.
func marshalSPKI(alg asn1.ObjectIdentifier, params asn1.RawValue, key []byte) ([]byte, error) {
	return asn1.Marshal(spki{
		Algorithm: pkix.AlgorithmIdentifier{Algorithm: alg, Parameters: params},
		PublicKey: asn1.BitString{Bytes: key, BitLength: 8 * len(key)},
	})
}

// parseSPKI parses a SubjectPublicKeyInfo whose algorithm is alg and returns
// the raw parameters and the key bytes.
func parseSPKI(der []byte, alg asn1.ObjectIdentifier) (params []byte, key []byte, err error) {
	var s spki
	if err := unmarshalDER(der, &s); err != nil {
		return nil, nil, err
	}
	if !s.Algorithm.Algorithm.Equal(alg) {
		return nil, nil, errors.New("unexpected public key algorithm")
	}
	if s.PublicKey.BitLength%8 != 0 {
		return nil, nil, errors.New("public key is not a whole number of bytes")
	}
	return s.Algorithm.Parameters.FullBytes, s.PublicKey.Bytes, nil
}

func marshalSecp256k1SPKI(uncompressed []byte) ([]byte, error) {
	params, err := curveParams(oidSecp256k1)
	if err != nil {
		return nil, err
	}
	return marshalSPKI(oidPublicKeyECDSA, params, uncompressed)
}

func parseSecp256k1SPKI(der []byte) ([]byte, error) {
	params, key, err := parseSPKI(der, oidPublicKeyECDSA)
	if err != nil {
		return nil, err
	}
	var curve asn1.ObjectIdentifier
	if err := unmarshalDER(params, &curve); err != nil || !curve.Equal(oidSecp256k1) {
		return nil, errors.New("not a secp256k1 public key")
	}
	return key, nil
}

func mldsaOID(spec KeySpec) asn1.ObjectIdentifier {
	switch spec {
	case MLDSA44:
		return oidMLDSA44
	case MLDSA65:
		return oidMLDSA65
	case MLDSA87:
		return oidMLDSA87
	}
	return nil
}

// mldsaPrivateKeySeed is the seed [0] choice of ML-DSA-PrivateKey
// (RFC 9881, Section 6): 0x80 0x20 || seed.
func marshalMLDSAPKCS8(spec KeySpec, seed []byte) ([]byte, error) {
	inner := append([]byte{0x80, 0x20}, seed...)
	return asn1.Marshal(pkcs8{
		Algo:       pkix.AlgorithmIdentifier{Algorithm: mldsaOID(spec)},
		PrivateKey: inner,
	})
}

// mldsaBoth is the "both" choice of ML-DSA-PrivateKey.
type mldsaBoth struct {
	Seed        []byte
	ExpandedKey []byte
}

// parseMLDSAPKCS8 returns the 32-byte seed of an ML-DSA PKCS#8 key in the
// seed or both form (RFC 9881), plus the expanded key of the both form so the
// caller can check it. The expandedKey-only form is rejected: the seed is
// what this package stores and signs with.
func parseMLDSAPKCS8(spec KeySpec, der []byte) (seed, expanded []byte, err error) {
	var p pkcs8
	if err := unmarshalDER(der, &p); err != nil {
		return nil, nil, err
	}
	if p.Version != 0 || !p.Algo.Algorithm.Equal(mldsaOID(spec)) || len(p.Algo.Parameters.FullBytes) != 0 {
		return nil, nil, errors.New("not an " + spec.String() + " PKCS#8 key")
	}
	k := p.PrivateKey
	switch {
	case len(k) == 34 && k[0] == 0x80 && k[1] == 0x20:
		return k[2:], nil, nil
	case len(k) > 0 && k[0] == 0x30:
		var both mldsaBoth
		if err := unmarshalDER(k, &both); err != nil {
			return nil, nil, err
		}
		if len(both.Seed) != 32 {
			return nil, nil, errors.New("invalid ML-DSA seed length")
		}
		return both.Seed, both.ExpandedKey, nil
	}
	return nil, nil, errors.New("unsupported ML-DSA private key form (a seed is required)")
}
