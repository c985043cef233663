package keymaterial

import (
	"fmt"

	"github.com/emmansun/gmsm/sm2"
)

// DeriveSharedSecret computes the raw ECDH shared secret between this key
// and a peer public key, following the AWS DeriveSharedSecret operation: the
// peer key is a DER SubjectPublicKeyInfo on the same curve as the key, and
// the result is the x-coordinate of the shared point (SEC 1, Section 3.3.1;
// the Elliptic Curve Cryptography Cofactor Diffie-Hellman primitive, with
// cofactor 1 on every supported curve), fixed-length big-endian. It is
// implemented for ECC_NIST_P256/P384/P521 and for SM2 (plain ECDH on the SM2
// curve, not the GB/T 32918.3 key exchange protocol).
//
// A peer key that does not parse, is on another curve, is not on the curve
// or gives the point at infinity is ErrInvalidPublicKey (KindValidation).
// The secret is a fresh slice the caller owns and must treat as key
// material.
func (k *Key) DeriveSharedSecret(alg KeyAgreementAlgorithm, peerPublicKeyDER []byte) (_ []byte, err error) {
	if !k.spec.SupportsKeyAgreement(alg) {
		if !k.spec.Valid() {
			return nil, errUnsupportedSpec(k.spec)
		}
		return nil, errIncompatible(alg, k.spec)
	}
	peer, err := parsePublicKey(k.spec, peerPublicKeyDER)
	if err != nil {
		return nil, errInvalidPublicKey(fmt.Sprintf("The public key is not a valid %s public key.", k.spec))
	}
	defer func() {
		if r := recover(); r != nil {
			recoveredPanic(r)
			err = errInvalidPublicKey("The public key is not valid for key agreement.")
		}
	}()
	var secret []byte
	switch k.spec.info().family {
	case famECDSA:
		priv, e := k.ecdsa.ECDH()
		if e != nil {
			return nil, errInternal(e)
		}
		pub, e := peer.ecdsa.ECDH()
		if e != nil {
			return nil, errInvalidPublicKey("The public key is not a valid point on the key's curve.")
		}
		secret, err = priv.ECDH(pub)
	case famSM2:
		priv, e := k.sm2.ECDH()
		if e != nil {
			return nil, errInternal(e)
		}
		pub, e := sm2.PublicKeyToECDH(peer.ecdsa)
		if e != nil {
			return nil, errInvalidPublicKey("The public key is not a valid point on the key's curve.")
		}
		secret, err = priv.ECDH(pub)
	}
	if err != nil {
		return nil, errInvalidPublicKey("The public key is not valid for key agreement.")
	}
	return secret, nil
}
