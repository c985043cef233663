// Package keywrap implements AES Key Wrap with Padding (RFC 5649), the
// wrapping that the RSA_AES_KEY_WRAP_* import algorithms of AWS KMS use for
// key material (https://www.rfc-editor.org/rfc/rfc5649, and
// https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys-encrypt-key-material.html).
//
// It is pure: no I/O, no state.
package keywrap

import (
	"crypto/aes"
	"crypto/subtle"
	"encoding/binary"
	"errors"
)

// ErrUnwrap is returned for any wrapped input that does not authenticate.
// It carries no detail on purpose.
var ErrUnwrap = errors.New("keywrap: unwrap failed")

// MaxPlaintextLen bounds what Wrap and Unwrap accept, well above the
// largest key material (an RSA-4096 PKCS#8 key is under 2.5 KiB).
const MaxPlaintextLen = 64 << 10

// Wrap wraps plaintext (1..MaxPlaintextLen bytes) under kek (16, 24 or 32
// bytes) with AES-KWP.
func Wrap(kek, plaintext []byte) ([]byte, error) {
	if len(plaintext) == 0 || len(plaintext) > MaxPlaintextLen {
		return nil, errors.New("keywrap: plaintext length out of range")
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	var aiv [8]byte
	binary.BigEndian.PutUint32(aiv[:4], 0xA65959A6)
	binary.BigEndian.PutUint32(aiv[4:], uint32(len(plaintext)))
	padded := make([]byte, (len(plaintext)+7)/8*8)
	copy(padded, plaintext)
	if len(padded) == 8 {
		// A single block is encrypted directly (RFC 5649 section 4.1).
		out := make([]byte, 16)
		copy(out, aiv[:])
		copy(out[8:], padded)
		block.Encrypt(out, out)
		return out, nil
	}
	n := len(padded) / 8
	out := make([]byte, 8+len(padded))
	copy(out[8:], padded)
	a := aiv
	var b [16]byte
	for j := 0; j <= 5; j++ {
		for i := 1; i <= n; i++ {
			copy(b[:8], a[:])
			copy(b[8:], out[8*i:8*i+8])
			block.Encrypt(b[:], b[:])
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(a[:], binary.BigEndian.Uint64(b[:8])^t)
			copy(out[8*i:], b[8:])
		}
	}
	copy(out[:8], a[:])
	return out, nil
}

// Unwrap reverses Wrap. It returns ErrUnwrap for anything that does not
// authenticate, and never panics on attacker input.
func Unwrap(kek, wrapped []byte) ([]byte, error) {
	if len(wrapped) < 16 || len(wrapped)%8 != 0 || len(wrapped) > MaxPlaintextLen+16 {
		return nil, ErrUnwrap
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	var a [8]byte
	var padded []byte
	if len(wrapped) == 16 {
		var b [16]byte
		block.Decrypt(b[:], wrapped)
		copy(a[:], b[:8])
		padded = append([]byte(nil), b[8:]...)
	} else {
		n := len(wrapped)/8 - 1
		r := append([]byte(nil), wrapped[8:]...)
		copy(a[:], wrapped[:8])
		var b [16]byte
		for j := 5; j >= 0; j-- {
			for i := n; i >= 1; i-- {
				t := uint64(n*j + i)
				binary.BigEndian.PutUint64(b[:8], binary.BigEndian.Uint64(a[:])^t)
				copy(b[8:], r[8*(i-1):8*i])
				block.Decrypt(b[:], b[:])
				copy(a[:], b[:8])
				copy(r[8*(i-1):], b[8:])
			}
		}
		padded = r
	}
	// Check the alternative IV and the padding in constant time.
	ok := subtle.ConstantTimeCompare(a[:4], []byte{0xA6, 0x59, 0x59, 0xA6})
	mli := int(binary.BigEndian.Uint32(a[4:]))
	inRange := subtle.ConstantTimeLessOrEq(len(padded)-7, mli) & subtle.ConstantTimeLessOrEq(mli, len(padded))
	if ok&inRange != 1 {
		return nil, ErrUnwrap
	}
	var nonZero byte
	for _, c := range padded[mli:] {
		nonZero |= c
	}
	if nonZero != 0 {
		return nil, ErrUnwrap
	}
	return padded[:mli], nil
}
