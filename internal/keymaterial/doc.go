// Package keymaterial owns the cryptography of every AWS KMS key spec other
// than SYMMETRIC_DEFAULT: RSA, NIST and SECG elliptic curves, Ed25519,
// ML-DSA, SM2 and HMAC. It generates key material, serializes and parses it,
// produces public keys, and signs, verifies, encrypts, decrypts, computes
// MACs and derives shared secrets with the algorithms, message types and
// limits AWS KMS documents. It is pure: no I/O, no storage, no globals
// beyond constant tables.
//
// The key spec table (KeySpec.KeyUsages, AlgorithmsFor, the Supports*
// methods, MessageTypesFor, MessageLength, MaxPlaintextSize) is what the
// service core consults to validate CreateKey and to fill DescribeKey; the
// FIPS methods mark what a FIPS mode must refuse. Errors are *Error values
// with a Kind that names the AWS exception (Kind.Exception) and a message in
// AWS's wording where it is known. Decryption fails with one opaque error.
//
// Serialized private keys (Key.MarshalPrivate) are plaintext key material:
// the caller seals them under the root key before they are stored, and
// never logs them. Key.String redacts.
//
// References:
//   - Key spec reference: https://docs.aws.amazon.com/kms/latest/developerguide/symm-asymm-choose-key-spec.html
//   - Sign / Verify: https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html,
//     https://docs.aws.amazon.com/kms/latest/APIReference/API_Verify.html
//   - GetPublicKey: https://docs.aws.amazon.com/kms/latest/APIReference/API_GetPublicKey.html
//   - Encrypt (RSA and SM2 limits): https://docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html
//   - GenerateMac / VerifyMac: https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateMac.html
//   - DeriveSharedSecret: https://docs.aws.amazon.com/kms/latest/APIReference/API_DeriveSharedSecret.html
//   - GenerateDataKeyPair: https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKeyPair.html
//   - Offline SM2 operations: https://docs.aws.amazon.com/kms/latest/developerguide/offline-operations.html
//   - RSA: RFC 8017; ECDSA: FIPS 186-5, RFC 3279; Ed25519/Ed25519ph: RFC 8032;
//     ML-DSA: FIPS 204, RFC 9881; SM2: GB/T 32918, GM/T 0009; HMAC: RFC 2104.
//
// See docs/KEYSPECS.md for the full spec × usage × algorithm table.
package keymaterial
