package policy

import (
	"fmt"
	"strconv"
)

// ParseReason classifies a ParseError.
type ParseReason int

const (
	ReasonUnknown ParseReason = iota
	// ReasonTooLarge: the document is over its size limit.
	ReasonTooLarge
	// ReasonJSON: the document is not a well-formed JSON object.
	ReasonJSON
	// ReasonStructure: an element is unknown, missing, duplicated, of the
	// wrong type, or a structural limit is exceeded.
	ReasonStructure
	// ReasonPrincipal: a Principal or NotPrincipal value is invalid.
	ReasonPrincipal
	// ReasonAction: an Action or NotAction value is invalid.
	ReasonAction
	// ReasonResource: a Resource or NotResource value is invalid.
	ReasonResource
	// ReasonCondition: a condition operator, key or value is invalid.
	ReasonCondition
)

// String returns a short lower-case name.
func (r ParseReason) String() string {
	switch r {
	case ReasonTooLarge:
		return "too-large"
	case ReasonJSON:
		return "json"
	case ReasonStructure:
		return "structure"
	case ReasonPrincipal:
		return "principal"
	case ReasonAction:
		return "action"
	case ReasonResource:
		return "resource"
	case ReasonCondition:
		return "condition"
	}
	return "unknown"
}

// ParseError is returned for every document that is rejected. Message is
// written for the client (it becomes the message of AWS's
// MalformedPolicyDocumentException); Detail, when set, names the offending
// element or value.
type ParseError struct {
	Reason ParseReason
	// Statement is the 0-based index of the offending statement, or -1.
	Statement int
	Message   string
	Detail    string
}

// Error returns the message, the detail and the statement position.
func (e *ParseError) Error() string {
	s := e.Message
	if e.Detail != "" {
		s += " " + e.Detail
	}
	if e.Statement >= 0 {
		s += " (statement " + strconv.Itoa(e.Statement) + ")"
	}
	return s
}

// Messages shared by several checks. The first is AWS KMS's own text.
const (
	msgInvalidPrincipals = "Policy contains a statement with one or more invalid principals."
	msgMissingElement    = "Statement is missing required element."
)

func perr(reason ParseReason, stmt int, msg string, detailf string, args ...any) *ParseError {
	e := &ParseError{Reason: reason, Statement: stmt, Message: msg}
	if detailf != "" {
		e.Detail = fmt.Sprintf(detailf, args...)
	}
	return e
}
