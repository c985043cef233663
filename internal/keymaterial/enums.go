package keymaterial

// Every enum in this file is typed, its zero value is Unknown, String returns
// the exact AWS wire name, and Parse is the inverse of String. Parse never
// returns Unknown without an error.

import "fmt"

// KeySpec is an AWS KMS key spec other than SYMMETRIC_DEFAULT.
type KeySpec int

// Key specs, in the order the AWS key spec reference lists them.
const (
	KeySpecUnknown KeySpec = iota
	RSA2048
	RSA3072
	RSA4096
	ECCNISTP256
	ECCNISTP384
	ECCNISTP521
	ECCSECGP256K1
	ECCNISTEdwards25519
	MLDSA44
	MLDSA65
	MLDSA87
	HMAC224
	HMAC256
	HMAC384
	HMAC512
	SM2
	numKeySpecs
)

var keySpecNames = [...]string{
	KeySpecUnknown:      "Unknown",
	RSA2048:             "RSA_2048",
	RSA3072:             "RSA_3072",
	RSA4096:             "RSA_4096",
	ECCNISTP256:         "ECC_NIST_P256",
	ECCNISTP384:         "ECC_NIST_P384",
	ECCNISTP521:         "ECC_NIST_P521",
	ECCSECGP256K1:       "ECC_SECG_P256K1",
	ECCNISTEdwards25519: "ECC_NIST_EDWARDS25519",
	MLDSA44:             "ML_DSA_44",
	MLDSA65:             "ML_DSA_65",
	MLDSA87:             "ML_DSA_87",
	HMAC224:             "HMAC_224",
	HMAC256:             "HMAC_256",
	HMAC384:             "HMAC_384",
	HMAC512:             "HMAC_512",
	SM2:                 "SM2",
}

// KeySpecs returns every supported key spec, in a stable order.
func KeySpecs() []KeySpec {
	out := make([]KeySpec, 0, numKeySpecs-1)
	for s := KeySpecUnknown + 1; s < numKeySpecs; s++ {
		out = append(out, s)
	}
	return out
}

func (s KeySpec) String() string { return enumName(keySpecNames[:], int(s)) }

// ParseKeySpec parses an AWS key spec name such as "ECC_NIST_P256".
// SYMMETRIC_DEFAULT is not handled by this package and is rejected.
func ParseKeySpec(name string) (KeySpec, error) {
	return parseEnum[KeySpec](keySpecNames[:], name, "key spec")
}

// KeyUsage is an AWS KMS key usage.
type KeyUsage int

// Key usages.
const (
	KeyUsageUnknown KeyUsage = iota
	EncryptDecrypt
	SignVerify
	GenerateVerifyMAC
	KeyAgreement
	numKeyUsages
)

var keyUsageNames = [...]string{
	KeyUsageUnknown:   "Unknown",
	EncryptDecrypt:    "ENCRYPT_DECRYPT",
	SignVerify:        "SIGN_VERIFY",
	GenerateVerifyMAC: "GENERATE_VERIFY_MAC",
	KeyAgreement:      "KEY_AGREEMENT",
}

// KeyUsages returns every key usage, in a stable order.
func KeyUsages() []KeyUsage {
	return []KeyUsage{EncryptDecrypt, SignVerify, GenerateVerifyMAC, KeyAgreement}
}

func (u KeyUsage) String() string { return enumName(keyUsageNames[:], int(u)) }

// ParseKeyUsage parses an AWS key usage name such as "SIGN_VERIFY".
func ParseKeyUsage(name string) (KeyUsage, error) {
	return parseEnum[KeyUsage](keyUsageNames[:], name, "key usage")
}

// SigningAlgorithm is an AWS KMS SigningAlgorithmSpec.
type SigningAlgorithm int

// Signing algorithms.
const (
	SigningAlgorithmUnknown SigningAlgorithm = iota
	RSASSAPSSSHA256
	RSASSAPSSSHA384
	RSASSAPSSSHA512
	RSASSAPKCS1V15SHA256
	RSASSAPKCS1V15SHA384
	RSASSAPKCS1V15SHA512
	ECDSASHA256
	ECDSASHA384
	ECDSASHA512
	ED25519SHA512
	ED25519PHSHA512
	MLDSASHAKE256
	SM2DSA
	numSigningAlgorithms
)

var signingAlgorithmNames = [...]string{
	SigningAlgorithmUnknown: "Unknown",
	RSASSAPSSSHA256:         "RSASSA_PSS_SHA_256",
	RSASSAPSSSHA384:         "RSASSA_PSS_SHA_384",
	RSASSAPSSSHA512:         "RSASSA_PSS_SHA_512",
	RSASSAPKCS1V15SHA256:    "RSASSA_PKCS1_V1_5_SHA_256",
	RSASSAPKCS1V15SHA384:    "RSASSA_PKCS1_V1_5_SHA_384",
	RSASSAPKCS1V15SHA512:    "RSASSA_PKCS1_V1_5_SHA_512",
	ECDSASHA256:             "ECDSA_SHA_256",
	ECDSASHA384:             "ECDSA_SHA_384",
	ECDSASHA512:             "ECDSA_SHA_512",
	ED25519SHA512:           "ED25519_SHA_512",
	ED25519PHSHA512:         "ED25519_PH_SHA_512",
	MLDSASHAKE256:           "ML_DSA_SHAKE_256",
	SM2DSA:                  "SM2DSA",
}

// SigningAlgorithms returns every signing algorithm, in a stable order.
func SigningAlgorithms() []SigningAlgorithm {
	out := make([]SigningAlgorithm, 0, numSigningAlgorithms-1)
	for a := SigningAlgorithmUnknown + 1; a < numSigningAlgorithms; a++ {
		out = append(out, a)
	}
	return out
}

func (a SigningAlgorithm) String() string { return enumName(signingAlgorithmNames[:], int(a)) }

// ParseSigningAlgorithm parses an AWS signing algorithm name such as
// "RSASSA_PSS_SHA_256".
func ParseSigningAlgorithm(name string) (SigningAlgorithm, error) {
	return parseEnum[SigningAlgorithm](signingAlgorithmNames[:], name, "signing algorithm")
}

// MessageType is an AWS KMS MessageType: how Sign and Verify treat Message.
type MessageType int

// Message types.
const (
	MessageTypeUnknown MessageType = iota
	Raw
	Digest
	ExternalMu
	numMessageTypes
)

var messageTypeNames = [...]string{
	MessageTypeUnknown: "Unknown",
	Raw:                "RAW",
	Digest:             "DIGEST",
	ExternalMu:         "EXTERNAL_MU",
}

// MessageTypes returns every message type, in a stable order.
func MessageTypes() []MessageType { return []MessageType{Raw, Digest, ExternalMu} }

func (t MessageType) String() string { return enumName(messageTypeNames[:], int(t)) }

// ParseMessageType parses an AWS message type name such as "DIGEST".
func ParseMessageType(name string) (MessageType, error) {
	return parseEnum[MessageType](messageTypeNames[:], name, "message type")
}

// EncryptionAlgorithm is an AWS KMS EncryptionAlgorithmSpec for asymmetric
// keys (SYMMETRIC_DEFAULT is handled elsewhere).
type EncryptionAlgorithm int

// Encryption algorithms.
const (
	EncryptionAlgorithmUnknown EncryptionAlgorithm = iota
	RSAESOAEPSHA1
	RSAESOAEPSHA256
	SM2PKE
	numEncryptionAlgorithms
)

var encryptionAlgorithmNames = [...]string{
	EncryptionAlgorithmUnknown: "Unknown",
	RSAESOAEPSHA1:              "RSAES_OAEP_SHA_1",
	RSAESOAEPSHA256:            "RSAES_OAEP_SHA_256",
	SM2PKE:                     "SM2PKE",
}

// EncryptionAlgorithms returns every encryption algorithm, in a stable order.
func EncryptionAlgorithms() []EncryptionAlgorithm {
	return []EncryptionAlgorithm{RSAESOAEPSHA1, RSAESOAEPSHA256, SM2PKE}
}

func (a EncryptionAlgorithm) String() string { return enumName(encryptionAlgorithmNames[:], int(a)) }

// ParseEncryptionAlgorithm parses an AWS encryption algorithm name such as
// "RSAES_OAEP_SHA_256". SYMMETRIC_DEFAULT is rejected.
func ParseEncryptionAlgorithm(name string) (EncryptionAlgorithm, error) {
	return parseEnum[EncryptionAlgorithm](encryptionAlgorithmNames[:], name, "encryption algorithm")
}

// MacAlgorithm is an AWS KMS MacAlgorithmSpec.
type MacAlgorithm int

// MAC algorithms.
const (
	MacAlgorithmUnknown MacAlgorithm = iota
	HMACSHA224
	HMACSHA256
	HMACSHA384
	HMACSHA512
	numMacAlgorithms
)

var macAlgorithmNames = [...]string{
	MacAlgorithmUnknown: "Unknown",
	HMACSHA224:          "HMAC_SHA_224",
	HMACSHA256:          "HMAC_SHA_256",
	HMACSHA384:          "HMAC_SHA_384",
	HMACSHA512:          "HMAC_SHA_512",
}

// MacAlgorithms returns every MAC algorithm, in a stable order.
func MacAlgorithms() []MacAlgorithm {
	return []MacAlgorithm{HMACSHA224, HMACSHA256, HMACSHA384, HMACSHA512}
}

func (a MacAlgorithm) String() string { return enumName(macAlgorithmNames[:], int(a)) }

// ParseMacAlgorithm parses an AWS MAC algorithm name such as "HMAC_SHA_256".
func ParseMacAlgorithm(name string) (MacAlgorithm, error) {
	return parseEnum[MacAlgorithm](macAlgorithmNames[:], name, "MAC algorithm")
}

// KeyAgreementAlgorithm is an AWS KMS KeyAgreementAlgorithmSpec.
type KeyAgreementAlgorithm int

// Key agreement algorithms.
const (
	KeyAgreementAlgorithmUnknown KeyAgreementAlgorithm = iota
	ECDH
	numKeyAgreementAlgorithms
)

var keyAgreementAlgorithmNames = [...]string{
	KeyAgreementAlgorithmUnknown: "Unknown",
	ECDH:                         "ECDH",
}

// KeyAgreementAlgorithms returns every key agreement algorithm.
func KeyAgreementAlgorithms() []KeyAgreementAlgorithm { return []KeyAgreementAlgorithm{ECDH} }

func (a KeyAgreementAlgorithm) String() string {
	return enumName(keyAgreementAlgorithmNames[:], int(a))
}

// ParseKeyAgreementAlgorithm parses an AWS key agreement algorithm name
// ("ECDH").
func ParseKeyAgreementAlgorithm(name string) (KeyAgreementAlgorithm, error) {
	return parseEnum[KeyAgreementAlgorithm](keyAgreementAlgorithmNames[:], name, "key agreement algorithm")
}

// DataKeyPairSpec is an AWS KMS DataKeyPairSpec (GenerateDataKeyPair
// KeyPairSpec). The ML_KEM_* data key pair specs are not supported.
type DataKeyPairSpec int

// Data key pair specs.
const (
	DataKeyPairSpecUnknown DataKeyPairSpec = iota
	PairRSA2048
	PairRSA3072
	PairRSA4096
	PairECCNISTP256
	PairECCNISTP384
	PairECCNISTP521
	PairECCSECGP256K1
	PairSM2
	PairECCNISTEdwards25519
	numDataKeyPairSpecs
)

var dataKeyPairSpecNames = [...]string{
	DataKeyPairSpecUnknown:  "Unknown",
	PairRSA2048:             "RSA_2048",
	PairRSA3072:             "RSA_3072",
	PairRSA4096:             "RSA_4096",
	PairECCNISTP256:         "ECC_NIST_P256",
	PairECCNISTP384:         "ECC_NIST_P384",
	PairECCNISTP521:         "ECC_NIST_P521",
	PairECCSECGP256K1:       "ECC_SECG_P256K1",
	PairSM2:                 "SM2",
	PairECCNISTEdwards25519: "ECC_NIST_EDWARDS25519",
}

// dataKeyPairKeySpec maps each data key pair spec to the key spec whose
// generator and encodings it shares.
var dataKeyPairKeySpec = [...]KeySpec{
	PairRSA2048:             RSA2048,
	PairRSA3072:             RSA3072,
	PairRSA4096:             RSA4096,
	PairECCNISTP256:         ECCNISTP256,
	PairECCNISTP384:         ECCNISTP384,
	PairECCNISTP521:         ECCNISTP521,
	PairECCSECGP256K1:       ECCSECGP256K1,
	PairSM2:                 SM2,
	PairECCNISTEdwards25519: ECCNISTEdwards25519,
}

// DataKeyPairSpecs returns every supported data key pair spec.
func DataKeyPairSpecs() []DataKeyPairSpec {
	out := make([]DataKeyPairSpec, 0, numDataKeyPairSpecs-1)
	for s := DataKeyPairSpecUnknown + 1; s < numDataKeyPairSpecs; s++ {
		out = append(out, s)
	}
	return out
}

func (s DataKeyPairSpec) String() string { return enumName(dataKeyPairSpecNames[:], int(s)) }

// KeySpec returns the key spec with the same key type (e.g. PairRSA2048 ->
// RSA2048), or KeySpecUnknown.
func (s DataKeyPairSpec) KeySpec() KeySpec {
	if s <= DataKeyPairSpecUnknown || s >= numDataKeyPairSpecs {
		return KeySpecUnknown
	}
	return dataKeyPairKeySpec[s]
}

// FIPS reports whether keys of this spec are FIPS-approved (see
// KeySpec.FIPS).
func (s DataKeyPairSpec) FIPS() bool { return s.KeySpec().FIPS() }

// ParseDataKeyPairSpec parses an AWS data key pair spec name such as
// "ECC_NIST_P384".
func ParseDataKeyPairSpec(name string) (DataKeyPairSpec, error) {
	return parseEnum[DataKeyPairSpec](dataKeyPairSpecNames[:], name, "data key pair spec")
}

func enumName(names []string, i int) string {
	if i <= 0 || i >= len(names) {
		return "Unknown"
	}
	return names[i]
}

func parseEnum[E ~int](names []string, name, what string) (E, error) {
	for i := 1; i < len(names); i++ {
		if names[i] == name {
			return E(i), nil
		}
	}
	return 0, &Error{Kind: KindValidation, Err: ErrUnknownName, Msg: fmt.Sprintf("keymaterial: unknown %s %q", what, name)}
}
