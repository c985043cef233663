package quota

import (
	"fmt"
	"strings"
)

// Category is one request quota: a bucket of requests per second that an
// account spends. AWS calculates each quota independently, so each category
// is throttled independently. The zero value is Unknown.
//
// Categories are the four shared cryptographic quotas (Symmetric, RSA, ECC,
// MLDSA), one per GenerateDataKeyPair key pair spec, one per management
// operation, and Management for operations without a quota of their own.
// Get the per-operation and per-key-pair ones from CategoryFor or
// ParseCategory.
type Category int

// The shared categories. Further categories (one per operation, one per
// GenerateDataKeyPair spec) are unexported; CategoryFor and ParseCategory
// return them.
const (
	Unknown Category = iota
	// Symmetric is "Cryptographic operations (symmetric) request rate":
	// symmetric encryption and HMAC keys, and GenerateRandom.
	Symmetric
	// RSA is "Cryptographic operations (RSA) request rate".
	RSA
	// ECC is "Cryptographic operations (ECC and SM2) request rate".
	ECC
	// MLDSA is "Cryptographic operations (ML-DSA) request rate".
	MLDSA
	// Management is the quota of an operation that has none of its own
	// (one AWS added after this table). Overriding it also sets every
	// management operation that has no override of its own; see Parse.
	Management

	dataKeyPairRSA2048
	dataKeyPairRSA3072
	dataKeyPairRSA4096
	dataKeyPairECCNISTP256
	dataKeyPairECCNISTP384
	dataKeyPairECCNISTP521
	dataKeyPairECCSECGP256K1
	dataKeyPairECCNISTEdwards25519
	dataKeyPairSM2

	opCancelKeyDeletion
	opConnectCustomKeyStore
	opCreateAlias
	opCreateCustomKeyStore
	opCreateGrant
	opCreateKey
	opDeleteAlias
	opDeleteCustomKeyStore
	opDeleteImportedKeyMaterial
	opDescribeCustomKeyStores
	opDescribeKey
	opDisableKey
	opDisableKeyRotation
	opDisconnectCustomKeyStore
	opEnableKey
	opEnableKeyRotation
	opGetKeyLastUsage
	opGetKeyPolicy
	opGetKeyRotationStatus
	opGetParametersForImport
	opGetPublicKey
	opImportKeyMaterial
	opListAliases
	opListGrants
	opListKeyPolicies
	opListKeyRotations
	opListKeys
	opListResourceTags
	opListRetirableGrants
	opPutKeyPolicy
	opReplicateKey
	opRetireGrant
	opRevokeGrant
	opRotateKeyOnDemand
	opScheduleKeyDeletion
	opTagResource
	opUntagResource
	opUpdateAlias
	opUpdateCustomKeyStore
	opUpdateKeyDescription
	opUpdatePrimaryRegion

	numCategories
)

// categoryInfo is one row of the defaults table.
type categoryInfo struct {
	name string  // String(); for operations, the AWS operation name
	rate float64 // AWS default, requests per second
	mgmt bool    // a management operation: follows a Management override
}

// DefaultManagementRate is the rate of Management: 5 per second, the AWS
// default of most management operations.
const DefaultManagementRate = 5

// categories holds the AWS default request quotas, from the table "Request
// quotas for each AWS KMS API operation" at
// https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html
// (as published with ML-DSA and GetKeyLastUsage). Where a quota varies by
// Region the US East (N. Virginia), us-east-1, value is used. The custom
// key store request quota (1,800 per second per key store, shared by the
// cryptographic operations on its keys) is out of scope; the custom key
// store management operations have their own quotas here.
var categories = [numCategories]categoryInfo{
	Unknown: {name: "unknown"},
	// 10,000 in most Regions, 20,000 in some, 100,000 in us-east-1,
	// us-west-2 and eu-west-1.
	Symmetric:  {name: "symmetric", rate: 100_000},
	RSA:        {name: "rsa", rate: 1000},
	ECC:        {name: "ecc", rate: 1000},
	MLDSA:      {name: "mldsa", rate: 1000},
	Management: {name: "management", rate: DefaultManagementRate},

	dataKeyPairRSA2048:             {name: "GenerateDataKeyPair(RSA_2048)", rate: 20},
	dataKeyPairRSA3072:             {name: "GenerateDataKeyPair(RSA_3072)", rate: 4},
	dataKeyPairRSA4096:             {name: "GenerateDataKeyPair(RSA_4096)", rate: 1},
	dataKeyPairECCNISTP256:         {name: "GenerateDataKeyPair(ECC_NIST_P256)", rate: 100},
	dataKeyPairECCNISTP384:         {name: "GenerateDataKeyPair(ECC_NIST_P384)", rate: 100},
	dataKeyPairECCNISTP521:         {name: "GenerateDataKeyPair(ECC_NIST_P521)", rate: 100},
	dataKeyPairECCSECGP256K1:       {name: "GenerateDataKeyPair(ECC_SECG_P256K1)", rate: 100},
	dataKeyPairECCNISTEdwards25519: {name: "GenerateDataKeyPair(ECC_NIST_EDWARDS25519)", rate: 100},
	dataKeyPairSM2:                 {name: "GenerateDataKeyPair(SM2)", rate: 25},

	opCancelKeyDeletion:         {name: "CancelKeyDeletion", rate: 5, mgmt: true},
	opConnectCustomKeyStore:     {name: "ConnectCustomKeyStore", rate: 5, mgmt: true},
	opCreateAlias:               {name: "CreateAlias", rate: 5, mgmt: true},
	opCreateCustomKeyStore:      {name: "CreateCustomKeyStore", rate: 5, mgmt: true},
	opCreateGrant:               {name: "CreateGrant", rate: 50, mgmt: true},
	opCreateKey:                 {name: "CreateKey", rate: 5, mgmt: true},
	opDeleteAlias:               {name: "DeleteAlias", rate: 15, mgmt: true},
	opDeleteCustomKeyStore:      {name: "DeleteCustomKeyStore", rate: 5, mgmt: true},
	opDeleteImportedKeyMaterial: {name: "DeleteImportedKeyMaterial", rate: 15, mgmt: true},
	opDescribeCustomKeyStores:   {name: "DescribeCustomKeyStores", rate: 5, mgmt: true},
	opDescribeKey:               {name: "DescribeKey", rate: 2000, mgmt: true},
	opDisableKey:                {name: "DisableKey", rate: 5, mgmt: true},
	opDisableKeyRotation:        {name: "DisableKeyRotation", rate: 5, mgmt: true},
	opDisconnectCustomKeyStore:  {name: "DisconnectCustomKeyStore", rate: 5, mgmt: true},
	opEnableKey:                 {name: "EnableKey", rate: 5, mgmt: true},
	opEnableKeyRotation:         {name: "EnableKeyRotation", rate: 15, mgmt: true},
	opGetKeyLastUsage:           {name: "GetKeyLastUsage", rate: 5, mgmt: true},
	opGetKeyPolicy:              {name: "GetKeyPolicy", rate: 1000, mgmt: true},
	opGetKeyRotationStatus:      {name: "GetKeyRotationStatus", rate: 1000, mgmt: true},
	opGetParametersForImport:    {name: "GetParametersForImport", rate: 1, mgmt: true},
	opGetPublicKey:              {name: "GetPublicKey", rate: 2000, mgmt: true},
	opImportKeyMaterial:         {name: "ImportKeyMaterial", rate: 15, mgmt: true},
	opListAliases:               {name: "ListAliases", rate: 500, mgmt: true},
	opListGrants:                {name: "ListGrants", rate: 100, mgmt: true},
	opListKeyPolicies:           {name: "ListKeyPolicies", rate: 100, mgmt: true},
	opListKeyRotations:          {name: "ListKeyRotations", rate: 100, mgmt: true},
	opListKeys:                  {name: "ListKeys", rate: 500, mgmt: true},
	opListResourceTags:          {name: "ListResourceTags", rate: 2000, mgmt: true},
	opListRetirableGrants:       {name: "ListRetirableGrants", rate: 100, mgmt: true},
	opPutKeyPolicy:              {name: "PutKeyPolicy", rate: 15, mgmt: true},
	opReplicateKey:              {name: "ReplicateKey", rate: 5, mgmt: true},
	opRetireGrant:               {name: "RetireGrant", rate: 50, mgmt: true},
	opRevokeGrant:               {name: "RevokeGrant", rate: 50, mgmt: true},
	opRotateKeyOnDemand:         {name: "RotateKeyOnDemand", rate: 5, mgmt: true},
	opScheduleKeyDeletion:       {name: "ScheduleKeyDeletion", rate: 15, mgmt: true},
	opTagResource:               {name: "TagResource", rate: 10, mgmt: true},
	opUntagResource:             {name: "UntagResource", rate: 5, mgmt: true},
	opUpdateAlias:               {name: "UpdateAlias", rate: 5, mgmt: true},
	opUpdateCustomKeyStore:      {name: "UpdateCustomKeyStore", rate: 5, mgmt: true},
	opUpdateKeyDescription:      {name: "UpdateKeyDescription", rate: 5, mgmt: true},
	opUpdatePrimaryRegion:       {name: "UpdatePrimaryRegion", rate: 5, mgmt: true},
}

// byName maps lower-cased category names to categories, for ParseCategory;
// byOperation maps operation names to their own categories.
var byName, byOperation = func() (map[string]Category, map[string]Category) {
	names := make(map[string]Category, numCategories)
	ops := make(map[string]Category)
	for c := Unknown + 1; c < numCategories; c++ {
		info := categories[c]
		if info.name == "" || info.rate <= 0 {
			panic(fmt.Sprintf("quota: category %d has no name or rate", c))
		}
		names[strings.ToLower(info.name)] = c
		if info.mgmt {
			ops[info.name] = c
		}
	}
	return names, ops
}()

// String returns the category's name as Parse and ParseCategory accept it:
// "symmetric", "rsa", "ecc", "mldsa", "management", an operation name such
// as "CreateKey", or "GenerateDataKeyPair(RSA_2048)".
func (c Category) String() string {
	if c < 0 || c >= numCategories {
		return fmt.Sprintf("Category(%d)", int(c))
	}
	return categories[c].name
}

// ParseCategory is the inverse of String, ignoring case. It never returns
// Unknown without an error.
func ParseCategory(s string) (Category, error) {
	if c, ok := byName[strings.ToLower(s)]; ok {
		return c, nil
	}
	return Unknown, fmt.Errorf("unknown quota category %q (want symmetric, rsa, ecc, mldsa, management, an operation name such as CreateKey, or GenerateDataKeyPair(<KeyPairSpec>))", s)
}

// Categories returns every category except Unknown, in a stable order.
func Categories() []Category {
	out := make([]Category, 0, numCategories-1)
	for c := Unknown + 1; c < numCategories; c++ {
		out = append(out, c)
	}
	return out
}

// DefaultRate returns the category's AWS default quota in requests per
// second; Unknown and out-of-range values get Management's.
func DefaultRate(c Category) float64 {
	if c <= Unknown || c >= numCategories {
		return DefaultManagementRate
	}
	return categories[c].rate
}

// IsManagement reports whether c is Management or a management operation's
// own category, the ones a "management" override sets.
func IsManagement(c Category) bool {
	return c == Management || (c > Unknown && c < numCategories && categories[c].mgmt)
}

// keyFamily is the kind of KMS key a key spec or algorithm name belongs to.
type keyFamily int

const (
	familySymmetric keyFamily = iota // also: unknown or empty
	familyRSA
	familyECC // ECC and SM2 share a quota
	familyMLDSA
)

// familyOf classifies a KMS key spec ("RSA_2048", "ECC_NIST_P256",
// "ML_DSA_65", "SM2", "HMAC_256", "SYMMETRIC_DEFAULT") or an algorithm from
// the request ("RSAES_OAEP_SHA_256", "RSASSA_PSS_SHA_256", "ECDSA_SHA_256",
// "ED25519_SHA_512", "ML_DSA_SHAKE_256", "SM2DSA", "SM2PKE", "ECDH"). The two
// name sets do not overlap, so one function serves both. Anything else,
// including "", is symmetric.
func familyOf(spec string) keyFamily {
	switch {
	case strings.HasPrefix(spec, "RSA"): // RSA_, RSAES_, RSASSA_
		return familyRSA
	case strings.HasPrefix(spec, "ECC_"), strings.HasPrefix(spec, "ECDSA_"),
		strings.HasPrefix(spec, "ED25519_"), strings.HasPrefix(spec, "SM2"),
		spec == "ECDH":
		return familyECC
	case strings.HasPrefix(spec, "ML_DSA"):
		return familyMLDSA
	}
	return familySymmetric
}

// dataKeyPair maps a GenerateDataKeyPair KeyPairSpec to its category.
var dataKeyPair = map[string]Category{
	"RSA_2048":              dataKeyPairRSA2048,
	"RSA_3072":              dataKeyPairRSA3072,
	"RSA_4096":              dataKeyPairRSA4096,
	"ECC_NIST_P256":         dataKeyPairECCNISTP256,
	"ECC_NIST_P384":         dataKeyPairECCNISTP384,
	"ECC_NIST_P521":         dataKeyPairECCNISTP521,
	"ECC_SECG_P256K1":       dataKeyPairECCSECGP256K1,
	"ECC_NIST_EDWARDS25519": dataKeyPairECCNISTEdwards25519,
	"SM2":                   dataKeyPairSM2,
}

// KeyDependent reports whether CategoryFor(operation, spec) depends on
// spec: true for Encrypt, Decrypt, ReEncrypt, Sign, Verify,
// GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext. The HTTP
// layer can charge every other operation before decoding the request, and
// these once the request's algorithm or key pair spec is decoded.
func KeyDependent(operation string) bool {
	switch operation {
	case "Encrypt", "Decrypt", "ReEncrypt", "Sign", "Verify",
		"GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext":
		return true
	}
	return false
}

// CategoryFor returns the quota a request spends. operation is the AWS
// operation name ("Encrypt"). spec says which key it uses, where that
// matters, and may be either the KMS key's key spec or the algorithm named
// in the request, so that the HTTP layer can classify a request from its
// body, before the key is resolved:
//
//   - Encrypt, Decrypt, ReEncrypt: the EncryptionAlgorithm or key spec; ""
//     or SYMMETRIC_DEFAULT is Symmetric, RSAES_* or RSA_* is RSA, SM2PKE or
//     SM2 is ECC. For ReEncrypt pass the asymmetric side if either is.
//   - Sign, Verify: the SigningAlgorithm or key spec (RSA, ECC including
//     Ed25519 and SM2, or MLDSA); "" is RSA.
//   - GenerateDataKeyPair(WithoutPlaintext): the KeyPairSpec; each has its
//     own quota. An unknown one is Management (the request then fails
//     validation anyway).
//   - DeriveSharedSecret is ECC; GenerateDataKey(WithoutPlaintext),
//     GenerateMac, VerifyMac and GenerateRandom are Symmetric.
//
// Every other documented operation has its own category, and spec is
// ignored; an unknown operation is Management. CategoryFor never returns
// Unknown. It is safe for concurrent use and does not allocate.
func CategoryFor(operation, spec string) Category {
	switch operation {
	case "Encrypt", "Decrypt", "ReEncrypt":
		switch familyOf(spec) {
		case familyRSA:
			return RSA
		case familyECC:
			return ECC
		}
		return Symmetric
	case "Sign", "Verify":
		switch familyOf(spec) {
		case familyECC:
			return ECC
		case familyMLDSA:
			return MLDSA
		}
		return RSA
	case "DeriveSharedSecret":
		return ECC
	case "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "GenerateMac", "VerifyMac", "GenerateRandom":
		return Symmetric
	case "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext":
		if c, ok := dataKeyPair[spec]; ok {
			return c
		}
		return Management
	}
	if c, ok := byOperation[operation]; ok {
		return c
	}
	return Management
}
