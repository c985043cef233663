package keymaterial

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	cryptorand "crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"fmt"
	"io"
	"slices"

	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
	k1ecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"github.com/emmansun/gmsm/sm2"

	"github.com/openkms/openkms/internal/mldsa"
)

// SM2DefaultID is the distinguishing ID AWS KMS uses for SM2DSA with RAW
// messages (GM/T 0009-2012's default, "1234567812345678"). With DIGEST the
// caller computes SM3(Z_A || M) itself, with any ID.
const SM2DefaultID = "1234567812345678"

// checkSign validates (spec, alg, msgType, message) as the AWS Sign and
// Verify references describe: the algorithm must be one the spec supports,
// the message type one the algorithm allows, a RAW message at most 4096
// bytes, a DIGEST message exactly the algorithm's digest length and an
// EXTERNAL_MU message (ML-DSA) exactly 64 bytes. A DIGEST or EXTERNAL_MU
// message of the wrong length gets AWS's "Digest is invalid length" error.
func checkSign(spec KeySpec, alg SigningAlgorithm, t MessageType, msg []byte) error {
	if !spec.Valid() {
		return errUnsupportedSpec(spec)
	}
	if !spec.SupportsSigning(alg) {
		return errIncompatible(alg, spec)
	}
	if !slices.Contains(MessageTypesFor(alg), t) {
		return errMessageType(alg, t)
	}
	if t == Raw {
		if len(msg) > MaxMessageSize {
			return &Error{Kind: KindValidation, Err: ErrMessageTooLarge,
				Msg: fmt.Sprintf("Message must be at most %d bytes.", MaxMessageSize)}
		}
		return nil
	}
	if n, _ := MessageLength(alg, t); len(msg) != n {
		return errDigestLength(alg)
	}
	return nil
}

// prehash returns the digest that RSA and ECDSA sign: the hash of a RAW
// message, or the DIGEST message itself.
func prehash(alg SigningAlgorithm, t MessageType, msg []byte) []byte {
	if t == Digest {
		return msg
	}
	h := alg.hash().New()
	h.Write(msg)
	return h.Sum(nil)
}

// Sign signs message with alg, following the AWS Sign operation.
//
// RAW messages (at most 4096 bytes) are hashed by the algorithm; DIGEST
// messages must be exactly the algorithm's digest length and are signed as
// given. RSA-PSS uses MGF1 with the same hash and a salt as long as the
// hash; ECDSA and SM2DSA signatures are DER-encoded (X9.62 / RFC 3279, GM/T
// 0009); Ed25519ph (ED25519_PH_SHA_512, DIGEST) prehashes its 64-byte input
// with SHA-512 once more, as AWS documents; SM2DSA with RAW uses the default
// ID SM2DefaultID. ML-DSA with RAW is the pure variant with an empty context
// (circl); with EXTERNAL_MU the message is FIPS 204's 64-byte μ and is
// signed by ML-DSA.Sign_internal from μ (internal/mldsa), hedged, so a
// signature of μ = H(H(pk, 64) || 0 || 0 || M, 64) is a RAW signature of M.
//
// rand is used where the algorithm is randomized (crypto/rand if nil). The
// standard library ignores it for RSA and ECDSA since Go 1.26, and circl
// draws RAW ML-DSA signing randomness from crypto/rand itself; SM2 and
// EXTERNAL_MU ML-DSA (32 bytes of rnd) read it. Sign is safe for concurrent
// use. Errors are *Error of KindInvalidKeyUsage (algorithm not supported by
// the spec) or KindValidation (message type, digest or μ length, size).
func (k *Key) Sign(alg SigningAlgorithm, t MessageType, message []byte, rand io.Reader) ([]byte, error) {
	if k.pub == nil {
		if !k.spec.Valid() {
			return nil, errUnsupportedSpec(k.spec)
		}
		return nil, errIncompatible(alg, k.spec)
	}
	if err := checkSign(k.spec, alg, t, message); err != nil {
		return nil, err
	}
	if rand == nil {
		rand = cryptorand.Reader
	}
	var (
		sig []byte
		err error
	)
	switch k.spec.info().family {
	case famRSA:
		digest := prehash(alg, t, message)
		switch alg {
		case RSASSAPSSSHA256, RSASSAPSSSHA384, RSASSAPSSSHA512:
			sig, err = rsa.SignPSS(rand, k.rsa, alg.hash(), digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		default:
			sig, err = rsa.SignPKCS1v15(rand, k.rsa, alg.hash(), digest)
		}
	case famECDSA:
		sig, err = ecdsa.SignASN1(rand, k.ecdsa, prehash(alg, t, message))
	case famSecp256k1:
		// RFC 6979 deterministic nonces, low-S.
		sig = k1ecdsa.Sign(k.k1, prehash(alg, t, message)).Serialize()
	case famEd25519:
		if alg == ED25519SHA512 {
			sig = ed25519.Sign(k.ed, message)
		} else {
			sig, err = k.ed.Sign(nil, ed25519ph(message), &ed25519.Options{Hash: crypto.SHA512})
		}
	case famMLDSA:
		if t == ExternalMu {
			sig, err = k.mldsaSignMu(message, rand)
		} else {
			sig, err = k.mldsaSignRaw(message)
		}
	case famSM2:
		if t == Raw {
			sig, err = sm2.SignASN1(rand, k.sm2, message, sm2.NewSM2SignerOption(true, []byte(SM2DefaultID)))
		} else {
			sig, err = sm2.SignASN1(rand, k.sm2, message, nil)
		}
	}
	if err != nil {
		return nil, errInternal(err)
	}
	return sig, nil
}

// ed25519ph returns PH(M) = SHA-512(M), the input Ed25519ph signs (RFC 8032,
// Section 5.1).
func ed25519ph(m []byte) []byte {
	h := sha512.Sum512(m)
	return h[:]
}

func (k *Key) mldsaSignRaw(msg []byte) ([]byte, error) {
	switch sk := k.mldsaSK.(type) {
	case *mldsa44.PrivateKey:
		sig := make([]byte, mldsa44.SignatureSize)
		return sig, mldsa44.SignTo(sk, msg, nil, true, sig)
	case *mldsa65.PrivateKey:
		sig := make([]byte, mldsa65.SignatureSize)
		return sig, mldsa65.SignTo(sk, msg, nil, true, sig)
	case *mldsa87.PrivateKey:
		sig := make([]byte, mldsa87.SignatureSize)
		return sig, mldsa87.SignTo(sk, msg, nil, true, sig)
	}
	return nil, errUnsupportedSpec(k.spec)
}

// mldsaSignMu signs a 64-byte μ (checkSign checked the length) with hedged
// randomness read from rand, using the FIPS 204 skEncode form of the key.
func (k *Key) mldsaSignMu(mu []byte, rand io.Reader) ([]byte, error) {
	var rnd [mldsa.RandomSize]byte
	if _, err := io.ReadFull(rand, rnd[:]); err != nil {
		return nil, err
	}
	return mldsa.SignMu(mldsaParams(k.spec), k.mldsaExpanded(), [mldsa.MuSize]byte(mu), rnd)
}

// mldsaParams returns the internal/mldsa parameter set of an ML-DSA spec.
func mldsaParams(spec KeySpec) *mldsa.Params {
	switch spec {
	case MLDSA44:
		return mldsa.MLDSA44
	case MLDSA65:
		return mldsa.MLDSA65
	case MLDSA87:
		return mldsa.MLDSA87
	}
	return nil
}

// Verify checks signature over message with alg, following the AWS Verify
// operation: the same algorithm and message-type rules as Sign apply and a
// violation is an error; a signature that does not verify (including one
// that is malformed, of the wrong length or not canonical DER) returns
// false and a nil error. The message type need not be the one used to sign,
// as long as it describes message correctly.
//
// Verification uses the libraries' verify functions (for ML-DSA with
// EXTERNAL_MU, internal/mldsa's ML-DSA.Verify_internal from μ), whose final
// comparison is constant-time or over public values only.
func (k *Key) Verify(alg SigningAlgorithm, t MessageType, message, signature []byte) (bool, error) {
	if k.pub == nil {
		if !k.spec.Valid() {
			return false, errUnsupportedSpec(k.spec)
		}
		return false, errIncompatible(alg, k.spec)
	}
	return k.pub.Verify(alg, t, message, signature)
}

// Verify checks a signature with the public key; see Key.Verify.
func (p *PublicKey) Verify(alg SigningAlgorithm, t MessageType, message, signature []byte) (ok bool, err error) {
	if err := checkSign(p.spec, alg, t, message); err != nil {
		return false, err
	}
	defer func() {
		if r := recover(); r != nil { // third-party verifier bug: not a valid signature
			recoveredPanic(r)
			ok, err = false, nil
		}
	}()
	switch p.spec.info().family {
	case famRSA:
		digest := prehash(alg, t, message)
		switch alg {
		case RSASSAPSSSHA256, RSASSAPSSSHA384, RSASSAPSSSHA512:
			return rsa.VerifyPSS(p.rsa, alg.hash(), digest, signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil, nil
		default:
			return rsa.VerifyPKCS1v15(p.rsa, alg.hash(), digest, signature) == nil, nil
		}
	case famECDSA:
		return ecdsa.VerifyASN1(p.ecdsa, prehash(alg, t, message), signature), nil
	case famSecp256k1:
		sig, err := k1ecdsa.ParseDERSignature(signature)
		if err != nil {
			return false, nil
		}
		return sig.Verify(prehash(alg, t, message), p.k1), nil
	case famEd25519:
		if alg == ED25519SHA512 {
			return ed25519.Verify(p.ed, message, signature), nil
		}
		return ed25519.VerifyWithOptions(p.ed, ed25519ph(message), signature, &ed25519.Options{Hash: crypto.SHA512}) == nil, nil
	case famMLDSA:
		if t == ExternalMu {
			return mldsa.VerifyMu(mldsaParams(p.spec), p.mldsaRaw, [mldsa.MuSize]byte(message), signature), nil
		}
		return p.mldsaVerifyRaw(message, signature), nil
	case famSM2:
		if t == Raw {
			return sm2.VerifyASN1WithSM2(p.ecdsa, []byte(SM2DefaultID), message, signature), nil
		}
		return sm2.VerifyASN1(p.ecdsa, message, signature), nil
	}
	return false, errUnsupportedSpec(p.spec)
}

func (p *PublicKey) mldsaVerifyRaw(msg, sig []byte) bool {
	switch pk := p.mldsaPK.(type) {
	case *mldsa44.PublicKey:
		return mldsa44.Verify(pk, msg, nil, sig)
	case *mldsa65.PublicKey:
		return mldsa65.Verify(pk, msg, nil, sig)
	case *mldsa87.PublicKey:
		return mldsa87.Verify(pk, msg, nil, sig)
	}
	return false
}
