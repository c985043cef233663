package iamapi

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"

	"github.com/openkms/openkms/internal/identity"
	"github.com/openkms/openkms/internal/kmserr"
)

// apiError is an error as the Query protocol sends it.
type apiError struct {
	status  int // 0: 400, or 500 for server faults
	code    string
	message string
	server  bool
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

// Query-protocol error codes that are not identity.Code values.
const (
	codeAccessDenied          = "AccessDenied"
	codeInvalidClientTokenID  = "InvalidClientTokenId"
	codeSignatureDoesNotMatch = "SignatureDoesNotMatch"
	codeIncompleteSignature   = "IncompleteSignature"
	codeMissingAuthToken      = "MissingAuthenticationToken"
	codeValidationError       = "ValidationError"
	codeServiceFailure        = "ServiceFailure" // IAM
	codeInternalFailure       = "InternalFailure"
)

// identityStatus maps the identity store's codes to IAM's HTTP statuses
// (from the IAM service model's error shapes).
var identityStatus = map[identity.Code]int{
	identity.CodeNoSuchEntity:            http.StatusNotFound,
	identity.CodeEntityAlreadyExists:     http.StatusConflict,
	identity.CodeLimitExceeded:           http.StatusConflict,
	identity.CodeDeleteConflict:          http.StatusConflict,
	identity.CodeMalformedPolicyDocument: http.StatusBadRequest,
	identity.CodeInvalidInput:            http.StatusBadRequest,
	identity.CodeValidationError:         http.StatusBadRequest,
}

// sigv4Codes maps the authenticator's (AWS JSON protocol) exception names to
// the codes Query-protocol services return for the same failures.
var sigv4Codes = map[kmserr.Code]struct {
	code   string
	status int
}{
	kmserr.MissingAuthenticationTok: {codeMissingAuthToken, http.StatusForbidden},
	kmserr.IncompleteSignature:      {codeIncompleteSignature, http.StatusBadRequest},
	kmserr.InvalidSignature:         {codeSignatureDoesNotMatch, http.StatusForbidden},
	kmserr.UnrecognizedClient:       {codeInvalidClientTokenID, http.StatusForbidden},
	kmserr.InvalidClientTokenID:     {codeInvalidClientTokenID, http.StatusForbidden},
}

// toAPIError converts any error into the status and error to send. Errors
// that are none of the known kinds are server faults with a generic
// message; their detail is only logged.
func toAPIError(err error, svc service) (int, *apiError) {
	var ae *apiError
	var ke *kmserr.Error
	if errors.As(err, &ae) {
		// as is
	} else if ie := identity.AsError(err); ie != nil {
		ae = &apiError{status: identityStatus[ie.Code], code: string(ie.Code), message: ie.Message}
	} else if errors.As(err, &ke) && !ke.Server {
		m, known := sigv4Codes[ke.Code]
		if !known {
			m.code, m.status = string(ke.Code), ke.Status
		}
		ae = &apiError{status: m.status, code: m.code, message: ke.Message}
	}
	if ae == nil {
		code := codeServiceFailure
		if svc != serviceIAM {
			code = codeInternalFailure
		}
		ae = &apiError{status: http.StatusInternalServerError, code: code, message: "An internal error occurred.", server: true}
	}
	status := ae.status
	if status == 0 {
		status = http.StatusBadRequest
		if ae.server {
			status = http.StatusInternalServerError
		}
	}
	return status, ae
}

func accessDenied(format string, args ...any) *apiError {
	return &apiError{status: http.StatusForbidden, code: codeAccessDenied, message: fmt.Sprintf(format, args...)}
}

func validationError(format string, args ...any) *apiError {
	return &apiError{code: codeValidationError, message: fmt.Sprintf(format, args...)}
}

// missing is AWS's message for an absent required parameter.
func missing(field string) *apiError {
	return validationError("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
}

type xmlError struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message,omitempty"`
}

type xmlErrorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Error     xmlError `xml:"Error"`
	RequestID string   `xml:"RequestId"`
}

// writeError writes an <ErrorResponse> with the status.
func writeError(w http.ResponseWriter, svc service, status int, e *apiError, reqID string) {
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	b, err := xml.Marshal(xmlErrorResponse{Xmlns: svc.namespace(), Error: xmlError{Type: typ, Code: e.code, Message: e.message}, RequestID: reqID})
	if err != nil {
		b = []byte("<ErrorResponse><Error><Type>Receiver</Type><Code>" + codeInternalFailure + "</Code></Error></ErrorResponse>")
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write(append([]byte(xml.Header), b...))
}
