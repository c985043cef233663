package rootkey

import (
	"crypto/aes"
	"crypto/cipher"
	"fmt"
)

// AES-GCM sealed format, version 1:
//
//	version (1 byte, = 1) || nonce (12 random bytes) || ciphertext || tag (16 bytes)
//
// The GCM additional data is version || aad: the version has a fixed length,
// so the split between it and the caller's aad is unambiguous.
const (
	aesGCMVersion  byte = 1
	aesGCMKeySize       = 32
	aesGCMOverhead      = 1 + 12 + 16
)

// aesGCMSealer seals with AES-256-GCM under a random 96-bit nonce. A random
// nonce bounds one root key to 2^32 seals, far above the number of secrets
// OpenKMS keeps.
type aesGCMSealer struct {
	aead cipher.AEAD // nonce || ciphertext || tag, from cipher.NewGCMWithRandomNonce
}

// NewAESGCMSealer returns a Sealer that uses key, which must be 32 bytes, as
// an AES-256-GCM key. It does not retain key; the caller may clear it.
// The Sealer is safe for concurrent use.
func NewAESGCMSealer(key []byte) (Sealer, error) {
	if len(key) != aesGCMKeySize {
		return nil, fmt.Errorf("rootkey: AES-256-GCM key is %d bytes, want %d", len(key), aesGCMKeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("rootkey: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("rootkey: %w", err)
	}
	return &aesGCMSealer{aead: aead}, nil
}

// additionalData returns version || aad.
func additionalData(aad []byte) []byte {
	return append([]byte{aesGCMVersion}, aad...)
}

// Seal implements Sealer. It does not modify plaintext or aad.
func (s *aesGCMSealer) Seal(plaintext, aad []byte) ([]byte, error) {
	out := make([]byte, 1, aesGCMOverhead+len(plaintext))
	out[0] = aesGCMVersion
	return s.aead.Seal(out, nil, plaintext, additionalData(aad)), nil
}

// Open implements Sealer. Any failure is ErrOpen.
func (s *aesGCMSealer) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < aesGCMOverhead || sealed[0] != aesGCMVersion {
		return nil, ErrOpen
	}
	out := make([]byte, 0, len(sealed)-aesGCMOverhead)
	out, err := s.aead.Open(out, nil, sealed[1:], additionalData(aad))
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}

// String keeps key schedules out of logs and %v.
func (s *aesGCMSealer) String() string { return "rootkey.AESGCMSealer" }

// GoString keeps key schedules out of %#v.
func (s *aesGCMSealer) GoString() string { return s.String() }
