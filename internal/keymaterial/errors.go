package keymaterial

import (
	"errors"
	"fmt"
)

// Kind says which AWS exception an *Error becomes. The service layer maps
// Kinds to its client-visible errors in one place; Exception names the AWS
// exception each one corresponds to.
type Kind int

// Error kinds.
const (
	KindUnknown Kind = iota
	// KindValidation: the request is malformed for this key (digest length,
	// message size, message type, plaintext size, peer public key, unknown
	// enum name). AWS: ValidationException.
	KindValidation
	// KindInvalidKeyUsage: the algorithm or operation is not one the key spec
	// supports. AWS: InvalidKeyUsageException.
	KindInvalidKeyUsage
	// KindInvalidCiphertext: decryption failed. AWS: InvalidCiphertextException
	// (which AWS sends without a message).
	KindInvalidCiphertext
	// KindInvalidKeyMaterial: private or public key bytes do not parse or do
	// not match the key spec. For imported material AWS uses
	// IncorrectKeyMaterialException; for stored material it is a server fault.
	KindInvalidKeyMaterial
	// KindUnsupported: the key spec is not handled by this package (e.g.
	// SYMMETRIC_DEFAULT). AWS: UnsupportedOperationException.
	KindUnsupported
	// KindInternal: randomness or an underlying library failed; a server
	// fault whose detail must not reach the client.
	KindInternal
)

// Exception returns the AWS exception name for k, or "" for KindUnknown and
// for KindInvalidKeyMaterial and KindInternal, which depend on the caller's
// context.
func (k Kind) Exception() string {
	switch k {
	case KindValidation:
		return "ValidationException"
	case KindInvalidKeyUsage:
		return "InvalidKeyUsageException"
	case KindInvalidCiphertext:
		return "InvalidCiphertextException"
	case KindUnsupported:
		return "UnsupportedOperationException"
	}
	return ""
}

func (k Kind) String() string {
	switch k {
	case KindValidation:
		return "Validation"
	case KindInvalidKeyUsage:
		return "InvalidKeyUsage"
	case KindInvalidCiphertext:
		return "InvalidCiphertext"
	case KindInvalidKeyMaterial:
		return "InvalidKeyMaterial"
	case KindUnsupported:
		return "Unsupported"
	case KindInternal:
		return "Internal"
	}
	return "Unknown"
}

// Sentinel errors to branch on with errors.Is. Every error this package
// returns is an *Error that wraps exactly one of them.
var (
	// ErrIncompatibleAlgorithm: the algorithm is not one the key spec supports
	// ("Algorithm X is incompatible with key spec Y."). KindInvalidKeyUsage.
	ErrIncompatibleAlgorithm = errors.New("keymaterial: algorithm incompatible with key spec")
	// ErrInvalidKeyUsage: the key spec cannot perform the operation at all
	// (e.g. Encrypt with an ECC key). KindInvalidKeyUsage.
	ErrInvalidKeyUsage = errors.New("keymaterial: operation not supported by key spec")
	// ErrInvalidMessageType: the message type is not allowed for the
	// signing algorithm. KindValidation.
	ErrInvalidMessageType = errors.New("keymaterial: message type not allowed for signing algorithm")
	// ErrInvalidDigestLength: a DIGEST message, or an EXTERNAL_MU message
	// (ML-DSA's μ), has the wrong length. KindValidation.
	ErrInvalidDigestLength = errors.New("keymaterial: invalid digest length")
	// ErrMessageTooLarge: a message or plaintext is over its limit.
	// KindValidation.
	ErrMessageTooLarge = errors.New("keymaterial: message too large")
	// ErrEmptyMessage: a message or plaintext that must not be empty is.
	// KindValidation.
	ErrEmptyMessage = errors.New("keymaterial: empty message")
	// ErrDecryption is the one opaque decryption failure. KindInvalidCiphertext.
	ErrDecryption = errors.New("keymaterial: decryption failed")
	// ErrInvalidPublicKey: a peer public key does not parse or is not on the
	// key's curve. KindValidation.
	ErrInvalidPublicKey = errors.New("keymaterial: invalid public key")
	// ErrInvalidKeyMaterial: private or public key bytes do not parse or do
	// not match the key spec. KindInvalidKeyMaterial.
	ErrInvalidKeyMaterial = errors.New("keymaterial: invalid key material")
	// ErrUnsupportedKeySpec: the key spec is not handled here. KindUnsupported.
	ErrUnsupportedKeySpec = errors.New("keymaterial: unsupported key spec")
	// ErrUnknownName: Parse* did not recognise an enum name. KindValidation.
	ErrUnknownName = errors.New("keymaterial: unknown name")
	// ErrInternal: randomness or an underlying library failed. KindInternal.
	ErrInternal = errors.New("keymaterial: internal error")
)

// Error is the error type of this package. Msg is written to be safe to show
// a client (AWS wording where AWS's wording is known) and never contains key
// material; Err is the sentinel; cause (for KindInternal and parse failures)
// is for logs only and is reachable through Unwrap.
type Error struct {
	Kind  Kind
	Err   error
	Msg   string
	cause error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return e.Msg + ": " + e.cause.Error()
	}
	return e.Msg
}

// Unwrap returns the sentinel and, if set, the underlying cause.
func (e *Error) Unwrap() []error {
	if e.cause != nil {
		return []error{e.Err, e.cause}
	}
	return []error{e.Err}
}

// Message returns the client-safe message (without the internal cause).
func (e *Error) Message() string { return e.Msg }

// KindOf returns the Kind of err if it is (or wraps) an *Error, else
// KindUnknown.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindUnknown
}

func errIncompatible(alg fmt.Stringer, spec KeySpec) error {
	return &Error{Kind: KindInvalidKeyUsage, Err: ErrIncompatibleAlgorithm,
		Msg: fmt.Sprintf("Algorithm %s is incompatible with key spec %s.", alg, spec)}
}

func errUsage(spec KeySpec, op string) error {
	return &Error{Kind: KindInvalidKeyUsage, Err: ErrInvalidKeyUsage,
		Msg: fmt.Sprintf("Key spec %s does not support %s.", spec, op)}
}

func errDigestLength(alg SigningAlgorithm) error {
	return &Error{Kind: KindValidation, Err: ErrInvalidDigestLength,
		Msg: fmt.Sprintf("Digest is invalid length for algorithm %s.", alg)}
}

func errMessageType(alg SigningAlgorithm, t MessageType) error {
	return &Error{Kind: KindValidation, Err: ErrInvalidMessageType,
		Msg: fmt.Sprintf("MessageType %s is not supported for signing algorithm %s.", t, alg)}
}

func errInvalidKeyMaterial(spec KeySpec, cause error) error {
	return &Error{Kind: KindInvalidKeyMaterial, Err: ErrInvalidKeyMaterial,
		Msg: fmt.Sprintf("keymaterial: key material is not a valid %s key", spec), cause: cause}
}

func errInvalidPublicKey(msg string) error {
	return &Error{Kind: KindValidation, Err: ErrInvalidPublicKey, Msg: msg}
}

func errInternal(cause error) error {
	return &Error{Kind: KindInternal, Err: ErrInternal, Msg: "keymaterial: internal error", cause: cause}
}

func errUnsupportedSpec(spec KeySpec) error {
	return &Error{Kind: KindUnsupported, Err: ErrUnsupportedKeySpec,
		Msg: fmt.Sprintf("keymaterial: unsupported key spec %s", spec)}
}

// errDecryption returns the one decryption failure; it carries no detail.
func errDecryption() error {
	return &Error{Kind: KindInvalidCiphertext, Err: ErrDecryption, Msg: "keymaterial: decryption failed"}
}
