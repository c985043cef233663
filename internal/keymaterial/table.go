package keymaterial

import (
	"crypto"
	"slices"

	"github.com/openkms/openkms/internal/mldsa"
)

// family groups key specs that share an implementation.
type family int

const (
	famUnknown family = iota
	famRSA
	famECDSA // NIST P-curves (crypto/ecdsa)
	famSecp256k1
	famEd25519
	famMLDSA
	famHMAC
	famSM2
)

// specInfo is one row of the key spec table. It is the single source of
// truth for what a key spec allows; the service layer reads it through the
// exported accessors below.
type specInfo struct {
	family family
	bits   int // RSA modulus size, EC field size, ML-DSA level, HMAC key bits
	fips   bool
	usages []KeyUsage
	// Algorithms DescribeKey reports, per usage, in AWS's order.
	signing    []SigningAlgorithm
	encryption []EncryptionAlgorithm
	mac        []MacAlgorithm
	agreement  []KeyAgreementAlgorithm
}

var rsaSigning = []SigningAlgorithm{
	RSASSAPKCS1V15SHA256, RSASSAPKCS1V15SHA384, RSASSAPKCS1V15SHA512,
	RSASSAPSSSHA256, RSASSAPSSSHA384, RSASSAPSSSHA512,
}

var rsaEncryption = []EncryptionAlgorithm{RSAESOAEPSHA1, RSAESOAEPSHA256}

var specTable = [numKeySpecs]specInfo{
	RSA2048: {family: famRSA, bits: 2048, fips: true, usages: []KeyUsage{EncryptDecrypt, SignVerify},
		signing: rsaSigning, encryption: rsaEncryption},
	RSA3072: {family: famRSA, bits: 3072, fips: true, usages: []KeyUsage{EncryptDecrypt, SignVerify},
		signing: rsaSigning, encryption: rsaEncryption},
	RSA4096: {family: famRSA, bits: 4096, fips: true, usages: []KeyUsage{EncryptDecrypt, SignVerify},
		signing: rsaSigning, encryption: rsaEncryption},
	ECCNISTP256: {family: famECDSA, bits: 256, fips: true, usages: []KeyUsage{SignVerify, KeyAgreement},
		signing: []SigningAlgorithm{ECDSASHA256}, agreement: []KeyAgreementAlgorithm{ECDH}},
	ECCNISTP384: {family: famECDSA, bits: 384, fips: true, usages: []KeyUsage{SignVerify, KeyAgreement},
		signing: []SigningAlgorithm{ECDSASHA384}, agreement: []KeyAgreementAlgorithm{ECDH}},
	ECCNISTP521: {family: famECDSA, bits: 521, fips: true, usages: []KeyUsage{SignVerify, KeyAgreement},
		signing: []SigningAlgorithm{ECDSASHA512}, agreement: []KeyAgreementAlgorithm{ECDH}},
	ECCSECGP256K1: {family: famSecp256k1, bits: 256, fips: false, usages: []KeyUsage{SignVerify},
		signing: []SigningAlgorithm{ECDSASHA256}},
	ECCNISTEdwards25519: {family: famEd25519, bits: 255, fips: true, usages: []KeyUsage{SignVerify},
		signing: []SigningAlgorithm{ED25519SHA512, ED25519PHSHA512}},
	MLDSA44: {family: famMLDSA, bits: 44, fips: true, usages: []KeyUsage{SignVerify},
		signing: []SigningAlgorithm{MLDSASHAKE256}},
	MLDSA65: {family: famMLDSA, bits: 65, fips: true, usages: []KeyUsage{SignVerify},
		signing: []SigningAlgorithm{MLDSASHAKE256}},
	MLDSA87: {family: famMLDSA, bits: 87, fips: true, usages: []KeyUsage{SignVerify},
		signing: []SigningAlgorithm{MLDSASHAKE256}},
	HMAC224: {family: famHMAC, bits: 224, fips: true, usages: []KeyUsage{GenerateVerifyMAC},
		mac: []MacAlgorithm{HMACSHA224}},
	HMAC256: {family: famHMAC, bits: 256, fips: true, usages: []KeyUsage{GenerateVerifyMAC},
		mac: []MacAlgorithm{HMACSHA256}},
	HMAC384: {family: famHMAC, bits: 384, fips: true, usages: []KeyUsage{GenerateVerifyMAC},
		mac: []MacAlgorithm{HMACSHA384}},
	HMAC512: {family: famHMAC, bits: 512, fips: true, usages: []KeyUsage{GenerateVerifyMAC},
		mac: []MacAlgorithm{HMACSHA512}},
	SM2: {family: famSM2, bits: 256, fips: false, usages: []KeyUsage{EncryptDecrypt, SignVerify, KeyAgreement},
		signing: []SigningAlgorithm{SM2DSA}, encryption: []EncryptionAlgorithm{SM2PKE},
		agreement: []KeyAgreementAlgorithm{ECDH}},
}

func (s KeySpec) info() *specInfo {
	if s <= KeySpecUnknown || s >= numKeySpecs {
		return &specTable[KeySpecUnknown]
	}
	return &specTable[s]
}

// Valid reports whether s is a key spec this package handles.
func (s KeySpec) Valid() bool { return s.info().family != famUnknown }

// Asymmetric reports whether s is an asymmetric key pair spec (every spec
// here except HMAC_*).
func (s KeySpec) Asymmetric() bool {
	f := s.info().family
	return f != famUnknown && f != famHMAC
}

// FIPS reports whether s is a FIPS 140-3 approved key type: RSA, the NIST
// P-curves, Ed25519 (FIPS 186-5), ML-DSA (FIPS 204) and HMAC are;
// ECC_SECG_P256K1 and SM2 are not. A FIPS mode refuses non-FIPS specs here,
// in one place, together with Approved*.
func (s KeySpec) FIPS() bool { return s.info().fips }

// KeyUsages returns the key usages CreateKey accepts for s, in AWS's order.
// The result is a fresh slice.
func (s KeySpec) KeyUsages() []KeyUsage { return slices.Clone(s.info().usages) }

// Allows reports whether a key of spec s may be created with usage u.
func (s KeySpec) Allows(u KeyUsage) bool { return slices.Contains(s.info().usages, u) }

// Algorithms lists what DescribeKey reports for a key of spec s created with
// usage u: exactly one of the slices is non-empty when s.Allows(u), all are
// nil otherwise. Slices are fresh copies in AWS's order.
type Algorithms struct {
	Encryption   []EncryptionAlgorithm
	Signing      []SigningAlgorithm
	Mac          []MacAlgorithm
	KeyAgreement []KeyAgreementAlgorithm
}

// AlgorithmsFor returns the algorithm lists DescribeKey reports for (s, u).
func AlgorithmsFor(s KeySpec, u KeyUsage) Algorithms {
	if !s.Allows(u) {
		return Algorithms{}
	}
	in := s.info()
	switch u {
	case EncryptDecrypt:
		return Algorithms{Encryption: slices.Clone(in.encryption)}
	case SignVerify:
		return Algorithms{Signing: slices.Clone(in.signing)}
	case GenerateVerifyMAC:
		return Algorithms{Mac: slices.Clone(in.mac)}
	case KeyAgreement:
		return Algorithms{KeyAgreement: slices.Clone(in.agreement)}
	}
	return Algorithms{}
}

// SupportsSigning reports whether keys of spec s can use alg.
func (s KeySpec) SupportsSigning(alg SigningAlgorithm) bool {
	return slices.Contains(s.info().signing, alg)
}

// SupportsEncryption reports whether keys of spec s can use alg.
func (s KeySpec) SupportsEncryption(alg EncryptionAlgorithm) bool {
	return slices.Contains(s.info().encryption, alg)
}

// SupportsMac reports whether keys of spec s can use alg.
func (s KeySpec) SupportsMac(alg MacAlgorithm) bool { return slices.Contains(s.info().mac, alg) }

// SupportsKeyAgreement reports whether keys of spec s can use alg.
func (s KeySpec) SupportsKeyAgreement(alg KeyAgreementAlgorithm) bool {
	return slices.Contains(s.info().agreement, alg)
}

// FIPS reports whether the algorithm itself is FIPS-approved. SM2DSA is
// not; everything else here is (the curve of ECDSA_SHA_256 on
// ECC_SECG_P256K1 is what is not approved: use ApprovedSigning).
func (a SigningAlgorithm) FIPS() bool { return a.Valid() && a != SM2DSA }

// FIPS reports whether the algorithm is FIPS-approved. SM2PKE is not.
func (a EncryptionAlgorithm) FIPS() bool { return a.Valid() && a != SM2PKE }

// FIPS reports whether the algorithm is FIPS-approved (all HMAC-SHA-2 are).
func (a MacAlgorithm) FIPS() bool { return a.Valid() }

// FIPS reports whether the algorithm is FIPS-approved (ECDH is; on SM2 the
// curve is not: use ApprovedKeyAgreement).
func (a KeyAgreementAlgorithm) FIPS() bool { return a.Valid() }

// ApprovedSigning reports whether (s, alg) is a supported, FIPS-approved pair.
func ApprovedSigning(s KeySpec, alg SigningAlgorithm) bool {
	return s.SupportsSigning(alg) && s.FIPS() && alg.FIPS()
}

// ApprovedEncryption reports whether (s, alg) is a supported, FIPS-approved pair.
func ApprovedEncryption(s KeySpec, alg EncryptionAlgorithm) bool {
	return s.SupportsEncryption(alg) && s.FIPS() && alg.FIPS()
}

// ApprovedMac reports whether (s, alg) is a supported, FIPS-approved pair.
func ApprovedMac(s KeySpec, alg MacAlgorithm) bool {
	return s.SupportsMac(alg) && s.FIPS() && alg.FIPS()
}

// ApprovedKeyAgreement reports whether (s, alg) is a supported,
// FIPS-approved pair.
func ApprovedKeyAgreement(s KeySpec, alg KeyAgreementAlgorithm) bool {
	return s.SupportsKeyAgreement(alg) && s.FIPS() && alg.FIPS()
}

// Valid reports whether a is a known signing algorithm.
func (a SigningAlgorithm) Valid() bool {
	return a > SigningAlgorithmUnknown && a < numSigningAlgorithms
}

// Valid reports whether t is a known message type.
func (t MessageType) Valid() bool { return t > MessageTypeUnknown && t < numMessageTypes }

// Valid reports whether a is a known encryption algorithm.
func (a EncryptionAlgorithm) Valid() bool {
	return a > EncryptionAlgorithmUnknown && a < numEncryptionAlgorithms
}

// Valid reports whether a is a known MAC algorithm.
func (a MacAlgorithm) Valid() bool { return a > MacAlgorithmUnknown && a < numMacAlgorithms }

// Valid reports whether a is a known key agreement algorithm.
func (a KeyAgreementAlgorithm) Valid() bool {
	return a > KeyAgreementAlgorithmUnknown && a < numKeyAgreementAlgorithms
}

// Valid reports whether u is a known key usage.
func (u KeyUsage) Valid() bool { return u > KeyUsageUnknown && u < numKeyUsages }

// Valid reports whether s is a supported data key pair spec.
func (s DataKeyPairSpec) Valid() bool { return s > DataKeyPairSpecUnknown && s < numDataKeyPairSpecs }

// MaxMessageSize is the largest RAW message Sign and Verify accept and the
// largest message GenerateMac and VerifyMac accept, as AWS KMS documents.
const MaxMessageSize = 4096

// MaxSM2PlaintextSize is the largest plaintext SM2PKE encrypts, as the AWS
// KMS Encrypt reference documents.
const MaxSM2PlaintextSize = 1024

// MessageTypesFor returns the message types Sign and Verify accept for alg,
// as the AWS Sign reference lists them: ED25519_SHA_512 is RAW only,
// ED25519_PH_SHA_512 is DIGEST only, ML_DSA_SHAKE_256 is RAW or EXTERNAL_MU,
// everything else RAW or DIGEST.
func MessageTypesFor(alg SigningAlgorithm) []MessageType {
	switch alg {
	case ED25519SHA512:
		return []MessageType{Raw}
	case ED25519PHSHA512:
		return []MessageType{Digest}
	case MLDSASHAKE256:
		return []MessageType{Raw, ExternalMu}
	}
	if alg.Valid() {
		return []MessageType{Raw, Digest}
	}
	return nil
}

// MessageLength returns the exact Message length Sign and Verify require for
// alg with a pre-hashed message type: the digest length for DIGEST, and 64
// bytes (FIPS 204's μ) for EXTERNAL_MU. It returns false for RAW and for
// combinations MessageTypesFor does not allow.
func MessageLength(alg SigningAlgorithm, t MessageType) (int, bool) {
	if t == Raw || !slices.Contains(MessageTypesFor(alg), t) {
		return 0, false
	}
	switch {
	case t == ExternalMu:
		return mldsa.MuSize, true
	case alg == SM2DSA:
		return 32, true
	}
	return alg.hash().Size(), true
}

// hash returns the hash function named by alg (crypto.Hash(0) for ML-DSA and
// SM2DSA, whose hashes are SHAKE256 and SM3).
func (a SigningAlgorithm) hash() crypto.Hash {
	switch a {
	case RSASSAPSSSHA256, RSASSAPKCS1V15SHA256, ECDSASHA256:
		return crypto.SHA256
	case RSASSAPSSSHA384, RSASSAPKCS1V15SHA384, ECDSASHA384:
		return crypto.SHA384
	case RSASSAPSSSHA512, RSASSAPKCS1V15SHA512, ECDSASHA512, ED25519SHA512, ED25519PHSHA512:
		return crypto.SHA512
	}
	return 0
}

// MaxPlaintextSize returns the largest plaintext Encrypt accepts for (s, alg),
// as the AWS Encrypt reference lists: for RSA OAEP k - 2*hLen - 2 bytes
// (RSA_2048: 214 / 190, RSA_3072: 342 / 318, RSA_4096: 470 / 446), for
// SM2PKE 1024 bytes. It returns false if s does not support alg.
func MaxPlaintextSize(s KeySpec, alg EncryptionAlgorithm) (int, bool) {
	if !s.SupportsEncryption(alg) {
		return 0, false
	}
	switch alg {
	case RSAESOAEPSHA1:
		return s.info().bits/8 - 2*20 - 2, true
	case RSAESOAEPSHA256:
		return s.info().bits/8 - 2*32 - 2, true
	case SM2PKE:
		return MaxSM2PlaintextSize, true
	}
	return 0, false
}

// MacAlgorithm returns the one MAC algorithm of an HMAC key spec.
func (s KeySpec) MacAlgorithm() MacAlgorithm {
	if m := s.info().mac; len(m) == 1 {
		return m[0]
	}
	return MacAlgorithmUnknown
}

// hmacKeyLen returns the [min, max] HMAC key length in bytes for an HMAC
// spec: generated keys are exactly the spec's size (HMAC_224: 28 bytes, ...);
// ParsePrivate also accepts the longer keys AWS accepts for imported HMAC
// key material (up to the hash block size).
func (s KeySpec) hmacKeyLen() (lo, hi int) {
	switch s {
	case HMAC224:
		return 28, 64
	case HMAC256:
		return 32, 64
	case HMAC384:
		return 48, 128
	case HMAC512:
		return 64, 128
	}
	return 0, 0
}
