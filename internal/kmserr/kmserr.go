// Package kmserr defines the errors OpenKMS returns to clients: each carries
// the AWS exception name a client expects and whether the fault is the
// client's or the server's. The HTTP layer turns them into AWS JSON 1.1
// error responses in one place (package api).
//
// Exception names follow the AWS KMS API reference
// (https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html and
// each operation's Errors section).
package kmserr

import (
	"errors"
	"fmt"
)

// Code is an AWS exception name, e.g. "NotFoundException".
type Code string

// Exception names used by OpenKMS.
const (
	AccessDenied             Code = "AccessDeniedException"
	AlreadyExists            Code = "AlreadyExistsException"
	Disabled                 Code = "DisabledException"
	DryRunOperation          Code = "DryRunOperationException"
	IncompleteSignature      Code = "IncompleteSignatureException"
	IncorrectKey             Code = "IncorrectKeyException"
	InvalidAction            Code = "InvalidAction"
	InvalidAliasName         Code = "InvalidAliasNameException"
	InvalidArn               Code = "InvalidArnException"
	InvalidCiphertext        Code = "InvalidCiphertextException"
	InvalidClientTokenID     Code = "InvalidClientTokenId"
	InvalidGrantToken        Code = "InvalidGrantTokenException"
	InvalidKeyUsage          Code = "InvalidKeyUsageException"
	InvalidMarker            Code = "InvalidMarkerException"
	InvalidSignature         Code = "InvalidSignatureException"
	KMSInternal              Code = "KMSInternalException"
	KMSInvalidState          Code = "KMSInvalidStateException"
	LimitExceeded            Code = "LimitExceededException"
	MalformedPolicyDocument  Code = "MalformedPolicyDocumentException"
	MissingAuthenticationTok Code = "MissingAuthenticationTokenException"
	NotAuthorized            Code = "NotAuthorizedException"
	NotFound                 Code = "NotFoundException"
	RequestExpired           Code = "RequestExpired"
	SerializationException   Code = "SerializationException"
	TagException             Code = "TagException"
	Throttling               Code = "ThrottlingException"
	UnknownOperation         Code = "UnknownOperationException"
	UnrecognizedClient       Code = "UnrecognizedClientException"
	UnsupportedOperation     Code = "UnsupportedOperationException"
	Validation               Code = "ValidationException"
	DependencyTimeout        Code = "DependencyTimeoutException"
	CustomKeyStoreNotFound   Code = "CustomKeyStoreNotFoundException"
	InvalidImportToken       Code = "InvalidImportTokenException"
	ExpiredImportToken       Code = "ExpiredImportTokenException"
	IncorrectKeyMaterial     Code = "IncorrectKeyMaterialException"
	Conflict                 Code = "ConflictException"
	KMSInvalidSignature      Code = "KMSInvalidSignatureException"
	KMSInvalidMac            Code = "KMSInvalidMacException"
	InvalidGrantID           Code = "InvalidGrantIdException"

	CustomKeyStoreNameInUse    Code = "CustomKeyStoreNameInUseException"
	CustomKeyStoreHasCMKs      Code = "CustomKeyStoreHasCMKsException"
	CustomKeyStoreInvalidState Code = "CustomKeyStoreInvalidStateException"
	CloudHsmClusterNotFound    Code = "CloudHsmClusterNotFoundException"
	CloudHsmClusterInUse       Code = "CloudHsmClusterInUseException"
)

// Error is an error that a client sees.
type Error struct {
	Code    Code
	Message string
	// Server is true when the fault is the server's (HTTP 500); the message
	// of a server fault never carries internal detail.
	Server bool
	// Status overrides the HTTP status when non-zero (e.g. 403 for
	// authentication failures).
	Status int
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// New returns a client-fault error.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Internal returns a server-fault error with a generic message. The cause
// is for logs only and is never sent to the client.
func Internal(cause error) error {
	return &internalError{cause: cause}
}

type internalError struct{ cause error }

func (e *internalError) Error() string { return "internal error: " + e.cause.Error() }
func (e *internalError) Unwrap() error { return e.cause }

// As converts any error into the client-visible *Error. Errors that are not
// an *Error become KMSInternalException with a generic message, except
// those of an unreachable dependency (an error in the chain with a
// DependencyUnavailable() true method, such as storage.ErrUnavailable),
// which become DependencyTimeoutException, retryable as on AWS.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var dep interface{ DependencyUnavailable() bool }
	if errors.As(err, &dep) && dep.DependencyUnavailable() {
		return &Error{Code: DependencyTimeout, Server: true,
			Message: "The system timed out while trying to fulfill the request. You can retry the request."}
	}
	return &Error{Code: KMSInternal, Message: "An internal error occurred.", Server: true}
}

// Is reports whether err is an *Error with the given code.
func Is(err error, code Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
