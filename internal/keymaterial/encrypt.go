package keymaterial

import (
	"crypto/hmac"
	cryptorand "crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"io"

	"github.com/emmansun/gmsm/sm2"
)

// Encrypt encrypts plaintext with the key's public key, following the AWS
// Encrypt operation for asymmetric keys: RSAES_OAEP_SHA_1 / _SHA_256 use
// OAEP with the same hash for MGF1 and an empty label; SM2PKE (GB/T
// 32918.4) returns the ciphertext in the ASN.1 form (GM/T 0009: x, y,
// SM3 hash, ciphertext) that AWS KMS accepts. plaintext must be 1 byte to
// MaxPlaintextSize(spec, alg); a longer one fails with AWS's message
// ("Algorithm RSAES_OAEP_SHA_1 and key spec RSA_2048 cannot encrypt data
// larger than 214 bytes."). rand defaults to crypto/rand.
func (k *Key) Encrypt(alg EncryptionAlgorithm, plaintext []byte, rand io.Reader) ([]byte, error) {
	if k.pub == nil {
		if !k.spec.Valid() {
			return nil, errUnsupportedSpec(k.spec)
		}
		return nil, errIncompatible(alg, k.spec)
	}
	return k.pub.Encrypt(alg, plaintext, rand)
}

// Encrypt encrypts with the public key; see Key.Encrypt.
func (p *PublicKey) Encrypt(alg EncryptionAlgorithm, plaintext []byte, rand io.Reader) ([]byte, error) {
	max, ok := MaxPlaintextSize(p.spec, alg)
	if !ok {
		return nil, errIncompatible(alg, p.spec)
	}
	if len(plaintext) == 0 {
		return nil, &Error{Kind: KindValidation, Err: ErrEmptyMessage, Msg: "Plaintext must not be empty."}
	}
	if len(plaintext) > max {
		return nil, &Error{Kind: KindValidation, Err: ErrMessageTooLarge,
			Msg: fmt.Sprintf("Algorithm %s and key spec %s cannot encrypt data larger than %d bytes.", alg, p.spec, max)}
	}
	if rand == nil {
		rand = cryptorand.Reader
	}
	var (
		ct  []byte
		err error
	)
	switch alg {
	case RSAESOAEPSHA1, RSAESOAEPSHA256:
		ct, err = rsa.EncryptOAEP(oaepHash(alg), rand, p.rsa, plaintext, nil)
	case SM2PKE:
		ct, err = sm2.EncryptASN1(rand, p.ecdsa, plaintext)
	}
	if err != nil {
		return nil, errInternal(err)
	}
	return ct, nil
}

func oaepHash(alg EncryptionAlgorithm) hash.Hash {
	if alg == RSAESOAEPSHA1 {
		return sha1.New()
	}
	return sha256.New()
}

// Decrypt decrypts a ciphertext that Encrypt (or any conforming
// implementation, e.g. OpenSSL with the downloaded public key) produced.
// Every failure after the algorithm check — wrong length, bad padding, bad
// SM2 encoding or hash — is the single opaque ErrDecryption
// (KindInvalidCiphertext), so the error reveals nothing about why.
func (k *Key) Decrypt(alg EncryptionAlgorithm, ciphertext []byte) (_ []byte, err error) {
	if !k.spec.SupportsEncryption(alg) {
		if !k.spec.Valid() {
			return nil, errUnsupportedSpec(k.spec)
		}
		return nil, errIncompatible(alg, k.spec)
	}
	defer func() {
		if r := recover(); r != nil {
			recoveredPanic(r)
			err = errDecryption()
		}
	}()
	switch alg {
	case RSAESOAEPSHA1, RSAESOAEPSHA256:
		if len(ciphertext) != k.rsa.Size() {
			return nil, errDecryption()
		}
		pt, err := rsa.DecryptOAEP(oaepHash(alg), nil, k.rsa, ciphertext, nil)
		if err != nil {
			return nil, errDecryption()
		}
		return pt, nil
	case SM2PKE:
		// Only the ASN.1 form AWS KMS uses; plain C1C3C2 / C1C2C3 are refused.
		if len(ciphertext) == 0 || ciphertext[0] != 0x30 || len(ciphertext) > MaxSM2PlaintextSize+256 {
			return nil, errDecryption()
		}
		pt, err := sm2.Decrypt(k.sm2, ciphertext)
		if err != nil {
			return nil, errDecryption()
		}
		return pt, nil
	}
	return nil, errDecryption()
}

// MAC computes the HMAC of message (1 to 4096 bytes) with an HMAC key,
// following GenerateMac: alg must be the key spec's algorithm (HMAC_256 ↔
// HMAC_SHA_256), otherwise "Algorithm HMAC_SHA_256 is incompatible with key
// spec HMAC_224." (KindInvalidKeyUsage).
func (k *Key) MAC(alg MacAlgorithm, message []byte) ([]byte, error) {
	if err := k.checkMAC(alg, message); err != nil {
		return nil, err
	}
	return hmacSum(alg, k.hmac, message), nil
}

// VerifyMAC recomputes the HMAC of message and compares it with mac in
// constant time (hmac.Equal), following VerifyMac. The same errors as MAC
// apply; a mismatching mac (of any length) is false with a nil error.
func (k *Key) VerifyMAC(alg MacAlgorithm, message, mac []byte) (bool, error) {
	if err := k.checkMAC(alg, message); err != nil {
		return false, err
	}
	return hmac.Equal(hmacSum(alg, k.hmac, message), mac), nil
}

func (k *Key) checkMAC(alg MacAlgorithm, message []byte) error {
	if !k.spec.SupportsMac(alg) {
		if !k.spec.Valid() {
			return errUnsupportedSpec(k.spec)
		}
		return errIncompatible(alg, k.spec)
	}
	if len(message) == 0 {
		return &Error{Kind: KindValidation, Err: ErrEmptyMessage, Msg: "Message must not be empty."}
	}
	if len(message) > MaxMessageSize {
		return &Error{Kind: KindValidation, Err: ErrMessageTooLarge,
			Msg: fmt.Sprintf("Message must be at most %d bytes.", MaxMessageSize)}
	}
	return nil
}

func hmacSum(alg MacAlgorithm, key, message []byte) []byte {
	var h func() hash.Hash
	switch alg {
	case HMACSHA224:
		h = sha256.New224
	case HMACSHA256:
		h = sha256.New
	case HMACSHA384:
		h = sha512.New384
	default:
		h = sha512.New
	}
	m := hmac.New(h, key)
	m.Write(message)
	return m.Sum(nil)
}
