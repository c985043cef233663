// Package ciphertext owns the ciphertext blob that OpenKMS returns for
// SYMMETRIC_DEFAULT (AES-256-GCM) keys, and the canonical byte encoding of an
// encryption context.
//
// A blob is versioned and self-describing: its header names the account, the
// key id and the key-material version that produced it, so Decrypt needs no
// KeyId and rotating a key never breaks old ciphertexts (DESIGN.md invariant
// 2). The header and the canonical encryption context are the GCM additional
// authenticated data, so Decrypt with a different context, or of a blob whose
// header was altered, fails (invariant 3).
//
// The format is specified in docs/CIPHERTEXT.md, which is written so that a
// customer holding their own copy of imported key material can open a blob
// without OpenKMS. This package is its reference implementation.
//
// The package is pure: no I/O and no state besides constants. All functions
// are safe for concurrent use.
package ciphertext

import (
	"crypto/aes"
	"crypto/cipher"
	cryptorand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// Sizes of the blob format. See docs/CIPHERTEXT.md.
const (
	// MaxBlobLen is the largest ciphertext blob KMS accepts (AWS
	// CiphertextBlob is 1..6144 bytes).
	MaxBlobLen = 6144
	// KeyLen is the length of the key material: an AES-256 key.
	KeyLen = 32
	// HeaderLen is the length of the header that starts every blob.
	HeaderLen = 29
	// Overhead is the length of a blob minus the length of its plaintext:
	// header, nonce and GCM tag. It is also the smallest valid blob.
	Overhead = HeaderLen + nonceLen + tagLen
	// MaxPlaintextLen is the largest plaintext Seal accepts, the one that
	// makes a blob of exactly MaxBlobLen bytes.
	MaxPlaintextLen = MaxBlobLen - Overhead
)

const (
	formatV1 = 1 // the only format version

	nonceLen = 12
	tagLen   = 16

	// Byte offsets within a blob.
	offAccount    = 1
	offKeyID      = 9
	offVersion    = 25
	offNonce      = HeaderLen
	offCiphertext = HeaderLen + nonceLen

	accountLimit = 1_000_000_000_000 // 10^12: account ids have 12 digits
)

// ErrInvalid is the one error ParseHeader and Open return for any malformed,
// tampered or unauthenticated blob, including a blob opened with the wrong
// key or the wrong encryption context. It deliberately says nothing more.
var ErrInvalid = errors.New("ciphertext: invalid ciphertext")

// Header is what a blob says about where it came from.
type Header struct {
	// Account is the 12-digit decimal AWS account id that owns the key,
	// e.g. "111122223333".
	Account string
	// KeyID is the key id: a canonical lowercase UUID such as
	// "1234abcd-12ab-34cd-56ef-1234567890ab".
	KeyID string
	// Version is the key-material version that encrypted the blob.
	Version uint32
}

// appendBinary appends the HeaderLen-byte encoding of h to dst. It returns an
// error, and dst unchanged, if the account or key id is not canonical.
func (h Header) appendBinary(dst []byte) ([]byte, error) {
	acct, ok := parseAccount(h.Account)
	if !ok {
		return dst, fmt.Errorf("ciphertext: account id %q is not 12 decimal digits", h.Account)
	}
	var id [16]byte
	if !parseKeyID(&id, h.KeyID) {
		return dst, fmt.Errorf("ciphertext: key id %q is not a canonical lowercase UUID", h.KeyID)
	}
	dst = append(dst, formatV1)
	dst = binary.BigEndian.AppendUint64(dst, acct)
	dst = append(dst, id[:]...)
	dst = binary.BigEndian.AppendUint32(dst, h.Version)
	return dst, nil
}

// ParseHeader reads the header of blob without decrypting anything, so that
// the caller can look up the key and material version needed to Open it. It
// checks the format version, the length bounds (Overhead..MaxBlobLen) and
// that the account id is in range, and returns ErrInvalid otherwise.
//
// A header that parses is not authenticated: only Open proves that the blob
// was made by the key it names.
func ParseHeader(blob []byte) (Header, error) {
	if !validFraming(blob) {
		return Header{}, ErrInvalid
	}
	return decodeHeader(blob), nil
}

// validFraming reports whether blob has a valid length, format version and
// account id.
func validFraming(blob []byte) bool {
	return len(blob) >= Overhead && len(blob) <= MaxBlobLen &&
		blob[0] == formatV1 &&
		binary.BigEndian.Uint64(blob[offAccount:offKeyID]) < accountLimit
}

// decodeHeader decodes the header of a blob that passed validFraming.
func decodeHeader(blob []byte) Header {
	return Header{
		Account: formatAccount(binary.BigEndian.Uint64(blob[offAccount:offKeyID])),
		KeyID:   formatKeyID(blob[offKeyID:offVersion]),
		Version: binary.BigEndian.Uint32(blob[offVersion:HeaderLen]),
	}
}

// NewAEAD returns the AES-256-GCM AEAD (12-byte nonce, 16-byte tag) for 32
// bytes of key material, for callers that cache it and use SealAEAD and
// OpenAEAD. The key material is the GCM key as is; nothing is derived from
// it. It returns an error if len(key) != KeyLen.
func NewAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeyLen {
		return nil, fmt.Errorf("ciphertext: key is %d bytes, want %d", len(key), KeyLen)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("ciphertext: %w", err)
	}
	return cipher.NewGCM(block)
}

// Seal encrypts plaintext under the 32-byte key material key and returns a
// new blob naming h, with encCtx bound as associated data. It is NewAEAD
// followed by SealAEAD; see SealAEAD.
func Seal(key []byte, h Header, plaintext []byte, encCtx map[string]string, rand io.Reader) ([]byte, error) {
	aead, err := NewAEAD(key)
	if err != nil {
		return nil, err
	}
	return SealAEAD(aead, h, plaintext, encCtx, rand)
}

// SealAEAD encrypts plaintext with aead, which must come from NewAEAD (or be
// AES-256-GCM with a 12-byte nonce and a 16-byte tag), and returns a new blob
// naming h, with encCtx bound as associated data. The 12-byte nonce is read
// from rand; a nil rand means crypto/rand.Reader.
//
// It returns an error, never ErrInvalid, if h is not canonical, if plaintext
// is longer than MaxPlaintextLen, if aead has the wrong nonce or tag size, or
// if rand fails. Seal does not retain plaintext or encCtx; the caller owns the
// returned blob.
func SealAEAD(aead cipher.AEAD, h Header, plaintext []byte, encCtx map[string]string, rand io.Reader) ([]byte, error) {
	if err := checkAEAD(aead); err != nil {
		return nil, err
	}
	if len(plaintext) > MaxPlaintextLen {
		return nil, fmt.Errorf("ciphertext: plaintext is %d bytes, at most %d fit in a blob", len(plaintext), MaxPlaintextLen)
	}
	ctxLen, ok := contextLen(encCtx)
	if !ok {
		return nil, errors.New("ciphertext: encryption context key or value is longer than 2^32-1 bytes")
	}
	if rand == nil {
		rand = cryptorand.Reader
	}

	// One allocation: the blob, followed (beyond the returned slice's
	// capacity) by scratch space for the AAD.
	blobLen := Overhead + len(plaintext)
	buf := make([]byte, 0, blobLen+HeaderLen+ctxLen)
	buf, err := h.appendBinary(buf)
	if err != nil {
		return nil, err
	}
	nonce := buf[offNonce:offCiphertext]
	if _, err := io.ReadFull(rand, nonce); err != nil {
		return nil, fmt.Errorf("ciphertext: reading nonce: %w", err)
	}
	aad := append(buf[blobLen:blobLen], buf[:HeaderLen]...)
	aad = appendContext(aad, encCtx)

	// Seal writes in place into buf[offCiphertext:blobLen].
	blob := aead.Seal(buf[:offCiphertext], nonce, plaintext, aad)
	return blob[:blobLen:blobLen], nil
}

// Open authenticates and decrypts blob with the 32-byte key material key and
// the encryption context encCtx. It is NewAEAD followed by OpenAEAD; see
// OpenAEAD.
func Open(key []byte, blob []byte, encCtx map[string]string) (Header, []byte, error) {
	aead, err := NewAEAD(key)
	if err != nil {
		return Header{}, nil, err
	}
	return OpenAEAD(aead, blob, encCtx)
}

// OpenAEAD authenticates and decrypts blob with aead, which must come from
// NewAEAD for the key material the blob's header names, and the encryption
// context encCtx, which must equal the one it was sealed with (nil and empty
// are the same). It returns the header and a newly allocated plaintext that
// the caller owns.
//
// Any failure of the blob — malformed, too short or long, tampered, wrong key,
// wrong context — returns ErrInvalid and nothing else. An aead with the wrong
// nonce or tag size is a programmer error and returns a different error.
// OpenAEAD never panics on any blob.
func OpenAEAD(aead cipher.AEAD, blob []byte, encCtx map[string]string) (Header, []byte, error) {
	if err := checkAEAD(aead); err != nil {
		return Header{}, nil, err
	}
	if !validFraming(blob) {
		return Header{}, nil, ErrInvalid
	}
	ctxLen, ok := contextLen(encCtx)
	if !ok {
		return Header{}, nil, ErrInvalid
	}

	// One allocation: the plaintext, followed (beyond its capacity) by
	// scratch space for the AAD.
	ptLen := len(blob) - Overhead
	buf := make([]byte, ptLen+HeaderLen+ctxLen)
	aad := append(buf[ptLen:ptLen], blob[:HeaderLen]...)
	aad = appendContext(aad, encCtx)

	pt, err := aead.Open(buf[:0:ptLen], blob[offNonce:offCiphertext], blob[offCiphertext:], aad)
	if err != nil {
		return Header{}, nil, ErrInvalid
	}
	return decodeHeader(blob), pt, nil
}

func checkAEAD(aead cipher.AEAD) error {
	if aead == nil {
		return errors.New("ciphertext: nil AEAD")
	}
	if aead.NonceSize() != nonceLen || aead.Overhead() != tagLen {
		return fmt.Errorf("ciphertext: AEAD has a %d-byte nonce and %d-byte tag, want AES-256-GCM with %d and %d",
			aead.NonceSize(), aead.Overhead(), nonceLen, tagLen)
	}
	return nil
}

// CanonicalContext returns the canonical encoding of an encryption context,
// the bytes bound as associated data after the header: the pairs sorted by
// key (bytewise), each written as
//
//	uint32 big-endian len(key) || key || uint32 big-endian len(value) || value
//
// An empty or nil context encodes to nil (the empty byte string). The encoding
// is injective: different contexts never encode to the same bytes.
//
// Keys and values are taken as bytes, without UTF-8 validation or Unicode
// normalisation. A key or value longer than 2^32-1 bytes is a programmer
// error (request limits make it impossible) and panics.
func CanonicalContext(ctx map[string]string) []byte {
	n, ok := contextLen(ctx)
	if !ok {
		panic("ciphertext: encryption context key or value is longer than 2^32-1 bytes")
	}
	if n == 0 {
		return nil
	}
	return appendContext(make([]byte, 0, n), ctx)
}

// contextLen returns the length of the canonical encoding of ctx, and false
// if a key or value is too long to encode.
func contextLen(ctx map[string]string) (int, bool) {
	n := 0
	for k, v := range ctx {
		if uint64(len(k)) > math.MaxUint32 || uint64(len(v)) > math.MaxUint32 {
			return 0, false
		}
		n += 8 + len(k) + len(v)
	}
	return n, true
}

// appendContext appends the canonical encoding of ctx to dst. The caller has
// checked contextLen.
func appendContext(dst []byte, ctx map[string]string) []byte {
	if len(ctx) == 1 {
		for k, v := range ctx {
			return appendPair(dst, k, v)
		}
	}
	var stack [16]string // typical contexts sort without allocating
	keys := stack[:0]
	for k := range ctx {
		keys = append(keys, k)
	}
	slices.Sort(keys) // string order is bytewise order
	for _, k := range keys {
		dst = appendPair(dst, k, ctx[k])
	}
	return dst
}

func appendPair(dst []byte, k, v string) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(k)))
	dst = append(dst, k...)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(v)))
	return append(dst, v...)
}

// parseAccount parses exactly 12 ASCII decimal digits.
func parseAccount(s string) (uint64, bool) {
	if len(s) != 12 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// formatAccount formats n < 10^12 as 12 decimal digits (like %012d).
func formatAccount(n uint64) string {
	var b [12]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[:])
}

const hexDigits = "0123456789abcdef"

// parseKeyID parses a canonical lowercase UUID, 8-4-4-4-12 hex digits, into id.
func parseKeyID(id *[16]byte, s string) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	j := 0
	for i := 0; i < len(s); {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		hi, ok1 := fromHex(s[i])
		lo, ok2 := fromHex(s[i+1])
		if !ok1 || !ok2 {
			return false
		}
		id[j] = hi<<4 | lo
		j++
		i += 2
	}
	return true
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// formatKeyID formats 16 bytes as a canonical lowercase UUID.
func formatKeyID(id []byte) string {
	var b [36]byte
	j := 0
	for i, c := range id[:16] {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j] = hexDigits[c>>4]
		b[j+1] = hexDigits[c&0x0f]
		j += 2
	}
	return string(b[:])
}
