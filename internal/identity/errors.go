package identity

import (
	"errors"
	"fmt"
)

// Code is the AWS IAM error code of a client error, e.g. "NoSuchEntity".
// The HTTP layer (package iamapi) maps each code to its HTTP status.
type Code string

// Error codes returned by the Store. They are the codes of the AWS IAM
// Query API (https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html
// and each operation's Errors section).
const (
	CodeNoSuchEntity            Code = "NoSuchEntity"
	CodeEntityAlreadyExists     Code = "EntityAlreadyExists"
	CodeLimitExceeded           Code = "LimitExceeded"
	CodeDeleteConflict          Code = "DeleteConflict"
	CodeMalformedPolicyDocument Code = "MalformedPolicyDocument"
	CodeInvalidInput            Code = "InvalidInput"
	CodeValidationError         Code = "ValidationError"
)

// Error is a client error with its IAM code and a message written for the
// client. Messages never contain secrets.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Is makes errors.Is(err, ErrNoSuchEntity) (and the other sentinels) match
// any *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Code == e.Code
}

// Sentinels to branch on with errors.Is; they match every *Error of their
// code.
var (
	ErrNoSuchEntity        = &Error{Code: CodeNoSuchEntity}
	ErrEntityAlreadyExists = &Error{Code: CodeEntityAlreadyExists}
	ErrLimitExceeded       = &Error{Code: CodeLimitExceeded}
	ErrDeleteConflict      = &Error{Code: CodeDeleteConflict}
	ErrMalformedPolicy     = &Error{Code: CodeMalformedPolicyDocument}
	ErrInvalidInput        = &Error{Code: CodeInvalidInput}
	ErrValidation          = &Error{Code: CodeValidationError}
)

func newError(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// AsError returns the *Error in err's chain, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}
