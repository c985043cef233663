// Package hsm is a small, safe wrapper over one PKCS#11 token (a hardware
// security module, a cloud HSM, or SoftHSM2 in tests). It owns loading the
// vendor's PKCS#11 module, finding the token by label, logging in, a pool of
// sessions, and the few operations OpenKMS needs: generating non-extractable
// AES-256 keys inside the token, AES-GCM with those keys inside the token,
// the token's random number generator, and reading key attributes.
//
// It follows PKCS#11 v2.40 (OASIS, "PKCS #11 Cryptographic Token Interface
// Base Specification Version 2.40"): https://docs.oasis-open.org/pkcs11/pkcs11-base/v2.40/pkcs11-base-v2.40.html
// and, for CKM_AES_GCM, the "Current Mechanisms" document of the same version.
//
// PKCS#11 needs cgo. Built without cgo, Open fails with ErrNoCgo, so a
// configuration that asks for an HSM fails loudly instead of falling back to
// anything.
//
// Errors: every PKCS#11 failure is an *Error naming the function and the CKR
// code. Failures an operator can fix also wrap a sentinel (ErrModule,
// ErrTokenNotFound, ErrPINIncorrect, ...) and say in their message what to
// fix. No error, String or Format output ever contains the PIN or key bytes.
package hsm

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on inputs. PKCS#11 itself bounds token labels to 32 bytes.
const (
	// MaxPlaintextSize bounds the plaintext of EncryptGCM.
	MaxPlaintextSize = 1 << 16
	// MaxAADSize bounds the additional data of EncryptGCM and DecryptGCM.
	MaxAADSize = 1 << 16
	// MaxRandomSize bounds one Random call.
	MaxRandomSize = 1024
	// MaxKeyLabelSize bounds a key label (CKA_LABEL).
	MaxKeyLabelSize = 128
	// MaxTokenLabelSize is the size of CK_TOKEN_INFO.label.
	MaxTokenLabelSize = 32
	// MaxPINSize bounds the PIN.
	MaxPINSize = 256
	// MaxSessions bounds Config.Sessions.
	MaxSessions = 64
	// DefaultSessions is the session pool size when Config.Sessions is 0.
	DefaultSessions = 4

	// GCMNonceSize and GCMTagSize are the sizes of the nonce that starts,
	// and of the tag that ends, the output of EncryptGCM.
	GCMNonceSize = 12
	GCMTagSize   = 16
	// GCMOverhead is len(EncryptGCM(p)) - len(p).
	GCMOverhead = GCMNonceSize + GCMTagSize

	// KeyIDSize is the size of the random CKA_ID given to generated keys.
	KeyIDSize = 16
	// maxKeyIDSize bounds an ID passed to FindKeyByID.
	maxKeyIDSize = 64
)

var (
	// ErrNoCgo is returned by Open in a binary built without cgo.
	ErrNoCgo = errors.New("openkms was built without cgo; PKCS#11 support needs cgo (rebuild with CGO_ENABLED=1 and a C compiler)")
	// ErrConfig is wrapped by Open for a Config that is incomplete or out
	// of bounds.
	ErrConfig = errors.New("hsm: invalid configuration")
	// ErrModule is wrapped by Open when the PKCS#11 module cannot be found,
	// loaded or initialised.
	ErrModule = errors.New("hsm: cannot load PKCS#11 module")
	// ErrTokenNotFound is wrapped by Open when no token (or more than one)
	// carries the configured label, or the token is not initialised.
	ErrTokenNotFound = errors.New("hsm: token not found")
	// ErrPINIncorrect is wrapped by Open when the token rejects the PIN.
	ErrPINIncorrect = errors.New("hsm: PIN incorrect")
	// ErrPINLocked is wrapped by Open when the token has locked the user PIN
	// (too many wrong PINs) or it was never set.
	ErrPINLocked = errors.New("hsm: PIN locked")
	// ErrKeyNotFound is wrapped when no key has the label or ID asked for,
	// or a Key no longer exists in the token.
	ErrKeyNotFound = errors.New("hsm: key not found")
	// ErrKeyExists is wrapped by GenerateAESKey when a key with the label
	// already exists.
	ErrKeyExists = errors.New("hsm: key exists")
	// ErrAmbiguousKey is wrapped by FindKey when several keys carry the
	// label.
	ErrAmbiguousKey = errors.New("hsm: several keys match")
	// ErrDecrypt is returned by DecryptGCM for any ciphertext that does not
	// authenticate under the key and additional data. It carries no detail.
	ErrDecrypt = errors.New("hsm: ciphertext does not authenticate")
	// ErrInput is wrapped for arguments out of bounds (sizes, labels).
	ErrInput = errors.New("hsm: invalid input")
	// ErrClosed is returned by every method of a closed Token.
	ErrClosed = errors.New("hsm: token closed")
)

// Error is a PKCS#11 function that returned a CK_RV other than CKR_OK.
type Error struct {
	Func string // the PKCS#11 function, e.g. "C_Login"
	Code uint   // the CK_RV
	Name string // the CKR_ constant, e.g. "CKR_PIN_INCORRECT"
}

func (e *Error) Error() string {
	return fmt.Sprintf("hsm: %s: %s (0x%X)", e.Func, e.Name, e.Code)
}

// Config says which token to use. Its String, Format and LogValue methods
// never show the PIN.
type Config struct {
	// ModulePath is the vendor's PKCS#11 library, e.g.
	// /usr/lib/softhsm/libsofthsm2.so.
	ModulePath string
	// TokenLabel selects the token (CK_TOKEN_INFO.label, at most 32 bytes).
	TokenLabel string
	// PIN is the user (CKU_USER) PIN. It is a secret.
	PIN string
	// Sessions is the size of the session pool: how many PKCS#11 operations
	// may run at once. 0 means DefaultSessions.
	Sessions int
}

// String describes c without the PIN.
func (c Config) String() string {
	pin := "unset"
	if c.PIN != "" {
		pin = "set"
	}
	return fmt.Sprintf("hsm.Config{ModulePath: %q, TokenLabel: %q, PIN: <%s>, Sessions: %d}", c.ModulePath, c.TokenLabel, pin, c.Sessions)
}

// Format makes every fmt verb (%v, %+v, %#v, %s, %x, %d, ...) print String,
// so that no verb prints the PIN.
func (c Config) Format(f fmt.State, verb rune) { fmt.Fprint(f, c.String()) }

// LogValue keeps the PIN out of slog output.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("module", c.ModulePath),
		slog.String("token", c.TokenLabel),
		slog.Bool("pin_set", c.PIN != ""),
	)
}

// validate checks c and returns the pool size to use.
func (c Config) validate() (int, error) {
	switch {
	case c.ModulePath == "":
		return 0, fmt.Errorf("%w: no PKCS#11 module path; set it to the vendor's PKCS#11 library (for SoftHSM2: /usr/lib/softhsm/libsofthsm2.so)", ErrConfig)
	case len(c.ModulePath) > 4096 || strings.ContainsRune(c.ModulePath, 0):
		return 0, fmt.Errorf("%w: the PKCS#11 module path is not a usable file name", ErrConfig)
	case c.TokenLabel == "":
		return 0, fmt.Errorf("%w: no token label; set it to the label the token was initialised with", ErrConfig)
	case len(c.TokenLabel) > MaxTokenLabelSize:
		return 0, fmt.Errorf("%w: token label %q is %d bytes; PKCS#11 token labels are at most %d", ErrConfig, c.TokenLabel, len(c.TokenLabel), MaxTokenLabelSize)
	case c.PIN == "":
		return 0, fmt.Errorf("%w: no PIN for token %q; set the token's user PIN", ErrConfig, c.TokenLabel)
	case len(c.PIN) > MaxPINSize || strings.ContainsRune(c.PIN, 0):
		// Say nothing about the PIN but that it is unusable.
		return 0, fmt.Errorf("%w: the PIN for token %q is longer than %d bytes or contains a NUL byte", ErrConfig, c.TokenLabel, MaxPINSize)
	case c.Sessions < 0 || c.Sessions > MaxSessions:
		return 0, fmt.Errorf("%w: Sessions is %d, want 0 (default %d) to %d", ErrConfig, c.Sessions, DefaultSessions, MaxSessions)
	}
	if c.Sessions == 0 {
		return DefaultSessions, nil
	}
	return c.Sessions, nil
}

// Key names a secret key object in one Token. It holds no key material.
// The zero Key is invalid. A Key is only valid with the Token that returned
// it, and only until that Token is closed.
type Key struct {
	owner  *Token
	handle uint
	label  string
	id     []byte
}

// Label returns the key's CKA_LABEL.
func (k Key) Label() string { return k.label }

// ID returns a copy of the key's CKA_ID.
func (k Key) ID() []byte { return append([]byte(nil), k.id...) }

// String describes k by label and ID.
func (k Key) String() string { return fmt.Sprintf("hsm.Key{label: %q, id: %x}", k.label, k.id) }

// Attributes are security attributes of a key, as the token reports them.
type Attributes struct {
	Token            bool // CKA_TOKEN: persistent in the token
	Private          bool // CKA_PRIVATE: usable only after login
	Sensitive        bool // CKA_SENSITIVE: the value can never be read out in plaintext
	Extractable      bool // CKA_EXTRACTABLE: the key can be wrapped out of the token
	AlwaysSensitive  bool // CKA_ALWAYS_SENSITIVE: sensitive since it was created
	NeverExtractable bool // CKA_NEVER_EXTRACTABLE: never was extractable
	ValueLen         int  // CKA_VALUE_LEN: key size in bytes
}

// validateKeyLabel checks a CKA_LABEL given to GenerateAESKey or FindKey.
func validateKeyLabel(label string) error {
	if label == "" || len(label) > MaxKeyLabelSize || !utf8.ValidString(label) {
		return fmt.Errorf("%w: key label must be 1 to %d bytes of UTF-8", ErrInput, MaxKeyLabelSize)
	}
	for _, r := range label {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: key label %q contains a control character", ErrInput, label)
		}
	}
	return nil
}
