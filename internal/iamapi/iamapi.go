// Package iamapi serves the AWS IAM and STS APIs over the AWS Query
// protocol, so that `aws iam ...`, `aws sts ...` and the SDKs' iam and sts
// clients manage OpenKMS identities: form-encoded POSTs (or GETs with a
// query string) carrying Action and Version, answered with XML documents as
// AWS shapes them, errors as <ErrorResponse>. Every request is verified
// with SigV4 (service "iam" for IAM and the OpenKMS admin actions, "sts" for
// STS; any region is accepted, as IAM is a global service).
//
// It decodes parameters, decides who may call what (the caller's account
// root, or a principal whose identity policies allow the action; AssumeRole
// by the role's trust policy), calls package identity, and encodes the
// result. The operations, limits and deviations are in docs/IAM.md.
//
// Protocol: https://smithy.io/2.0/aws/protocols/aws-query-protocol.html;
// operations and shapes: the IAM and STS API references and the botocore
// service models (iam 2010-05-08, sts 2011-06-15).
package iamapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/openkms/openkms/internal/audit"
	"github.com/openkms/openkms/internal/auth/sigv4"
	"github.com/openkms/openkms/internal/identity"
	"github.com/openkms/openkms/internal/principal"
)

// API versions and XML namespaces.
const (
	IAMVersion   = "2010-05-08"
	STSVersion   = "2011-06-15"
	AdminVersion = "openkms-admin-2026-01-01"

	iamNamespace   = "https://iam.amazonaws.com/doc/2010-05-08/"
	stsNamespace   = "https://sts.amazonaws.com/doc/2011-06-15/"
	adminNamespace = "https://openkms.dev/doc/openkms-admin-2026-01-01/"
)

// Request bounds.
const (
	// MaxBodyBytes bounds a request body. The largest valid request (a
	// 10 KiB policy, percent-encoded three times over) fits well inside.
	MaxBodyBytes = 64 << 10
	// maxParams bounds the number of parameters of one request.
	maxParams = 512
)

// Config wires a Handler.
type Config struct {
	// Identity is the identity store; it is also the credential source.
	Identity *identity.Store
	// AdminAccount is the bootstrap account: its root user may call the
	// OpenKMS admin actions (CreateAccount).
	AdminAccount string
	// MaxSkew is the allowed clock skew of signed requests
	// (sigv4.DefaultMaxSkew when zero).
	MaxSkew time.Duration
	// Logger receives one debug line per request and errors; never
	// parameters or secrets. Nil discards.
	Logger *slog.Logger
	// Audit, if set, records every request (the CloudTrail-shaped record
	// of package audit, with eventSource iam/sts.amazonaws.com) before its
	// response is written; a request whose record cannot be written fails.
	Audit Auditor
}

// Auditor records one request; *audit.Logger is one.
type Auditor interface {
	Log(ctx context.Context, ev audit.Event) error
}

// Handler serves the IAM, STS and admin Query APIs. It is safe for
// concurrent use.
type Handler struct {
	ids      *identity.Store
	admin    string
	audit    Auditor
	verifier map[string]*sigv4.Verifier // by signing service
	log      *slog.Logger
	ops      map[string]*operation
	policies policyCache
}

var _ http.Handler = (*Handler)(nil)

// New returns a Handler.
func New(cfg Config) *Handler {
	h := &Handler{ids: cfg.Identity, admin: cfg.AdminAccount, log: cfg.Logger, audit: cfg.Audit}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.verifier = map[string]*sigv4.Verifier{
		"iam": {Source: cfg.Identity, Service: "iam", MaxSkew: cfg.MaxSkew},
		"sts": {Source: cfg.Identity, Service: "sts", MaxSkew: cfg.MaxSkew},
	}
	h.ops = make(map[string]*operation)
	for _, op := range operations() {
		h.ops[op.name] = op
	}
	return h
}

// Operations returns the names of the actions served, for docs and tests.
func (h *Handler) Operations() []string {
	out := make([]string, 0, len(h.ops))
	for name := range h.ops {
		out = append(out, name)
	}
	return out
}

// Matches reports whether r is a Query-protocol request (IAM, STS or admin)
// rather than a KMS JSON request: a POST with a form-encoded body and no
// X-Amz-Target, or a GET whose query string has an Action. It reads only
// headers and the URL.
func Matches(r *http.Request) bool {
	if r.Header.Get("X-Amz-Target") != "" {
		return false
	}
	switch r.Method {
	case http.MethodPost:
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		return err == nil && mt == "application/x-www-form-urlencoded"
	case http.MethodGet:
		if strings.Contains(r.URL.RawQuery, "X-Amz-Target=") {
			return false
		}
		q, err := url.ParseQuery(r.URL.RawQuery)
		return err == nil && q.Get("Action") != ""
	}
	return false
}

// service is an API served here.
type service int

const (
	serviceIAM service = iota + 1
	serviceSTS
	serviceAdmin
)

func (s service) version() string {
	switch s {
	case serviceSTS:
		return STSVersion
	case serviceAdmin:
		return AdminVersion
	}
	return IAMVersion
}

func (s service) namespace() string {
	switch s {
	case serviceSTS:
		return stsNamespace
	case serviceAdmin:
		return adminNamespace
	}
	return iamNamespace
}

// eventSource is the audit eventSource of the API's calls.
func (s service) eventSource() string {
	switch s {
	case serviceSTS:
		return audit.EventSourceSTS
	case serviceAdmin:
		return audit.EventSourceAdmin
	}
	return audit.EventSourceIAM
}

// signingName is the SigV4 service name of the credential scope.
func (s service) signingName() string {
	if s == serviceSTS {
		return "sts"
	}
	return "iam"
}

// operation is one action: its name, API, and the function that handles
// it, returning the value to encode as <ActionResult> (nil for none).
type operation struct {
	name    string
	service service
	handle  func(h *Handler, c *call) (any, error)
}

// call is one authenticated request.
type call struct {
	ctx       context.Context
	principal principal.Principal
	region    string
	params    params
	sourceIP  string
	tls       bool
	op        *operation
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := audit.NewID()
	w.Header().Set("x-amzn-RequestId", reqID)
	x := &exchange{svc: serviceIAM}
	err := h.serve(w, r, x)
	if aerr := h.record(r, reqID, x, err); aerr != nil && err == nil {
		err = aerr // the call is not acknowledged without its record
	}
	if err == nil {
		err = writeResult(w, x.op, x.result, reqID)
	}
	status, code := http.StatusOK, ""
	if err != nil {
		var e *apiError
		status, e = toAPIError(err, x.svc)
		if status >= 500 {
			h.log.Error("request failed", "action", x.action, "requestId", reqID, "error", err)
		}
		code = e.code
		writeError(w, x.svc, status, e, reqID)
	}
	h.log.LogAttrs(r.Context(), slog.LevelDebug, "request",
		slog.String("requestId", reqID), slog.String("action", x.action),
		slog.Int("status", status), slog.String("error", code),
		slog.Duration("duration", time.Since(start)))
}

// exchange is what serve learns about one request, for its response and
// its audit record.
type exchange struct {
	svc    service // set as soon as the API is known, so errors carry its namespace
	action string
	op     *operation
	params params
	auth   *sigv4.Result // the authenticated caller, once verified
	result any           // the operation's result, on success
}

// serve handles one request, filling x; it returns the error to answer
// with, or nil when x.result is to be written.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, x *exchange) error {
	switch r.Method {
	case http.MethodPost:
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				return &apiError{status: http.StatusRequestEntityTooLarge, code: "RequestEntityTooLarge",
					message: fmt.Sprintf("Request body is larger than %d bytes.", MaxBodyBytes)}
			}
			return &apiError{code: "MalformedQueryString", message: "Could not read the request body."}
		}
		return h.dispatch(r, string(body), body, x)
	case http.MethodGet:
		return h.dispatch(r, r.URL.RawQuery, nil, x)
	}
	return &apiError{status: http.StatusMethodNotAllowed, code: "InvalidAction",
		message: "The Query API accepts POST and GET requests only."}
}

func (h *Handler) dispatch(r *http.Request, raw string, body []byte, x *exchange) error {
	ps, err := parseParams(raw)
	if err != nil {
		return err
	}
	x.params = ps
	action := ps.get("Action")
	if action == "" {
		return &apiError{code: "MissingAction", message: "Missing Action"}
	}
	x.action = clipParam(action)
	op, ok := h.ops[action]
	version := ps.get("Version")
	if ok {
		x.svc = op.service
	} else if version == STSVersion {
		x.svc = serviceSTS
	}
	if !ok || version != "" && version != op.service.version() {
		return &apiError{code: "InvalidAction",
			message: fmt.Sprintf("Could not find operation %s for version %s", clipParam(action), clipParam(version))}
	}
	x.op = op
	if r.URL.Path != "/" {
		return &apiError{status: http.StatusNotFound, code: "InvalidAction",
			message: "The Query API is served at /, not " + clipParam(r.URL.Path)}
	}
	auth, err := h.verifier[op.service.signingName()].Verify(r, body)
	if err != nil {
		return err
	}
	x.auth = &auth
	c := &call{ctx: r.Context(), principal: auth.Principal, region: auth.Region, params: ps,
		sourceIP: sourceIP(r), tls: r.TLS != nil, op: op}
	x.result, err = op.handle(h, c)
	return err
}

// record writes the audit record of a request that named an action, if an
// Auditor is set.
func (h *Handler) record(r *http.Request, reqID string, x *exchange, err error) error {
	if h.audit == nil || x.action == "" {
		return nil
	}
	ev := audit.Event{
		EventSource:       x.svc.eventSource(),
		EventName:         x.action,
		AWSRegion:         "us-east-1", // IAM is global; CloudTrail records its calls there
		SourceIPAddress:   sourceIP(r),
		UserAgent:         r.UserAgent(),
		RequestID:         reqID,
		RequestParameters: audit.SanitizeQueryParameters(x.params),
		TLSDetails:        audit.TLSDetailsFrom(r.TLS, r.Host),
	}
	if x.auth != nil {
		if x.svc == serviceSTS {
			ev.AWSRegion = x.auth.Region
		}
		ev.UserIdentity = audit.IdentityFromPrincipal(x.auth.Principal)
	} else {
		ev.UserIdentity = audit.UnauthenticatedIdentity(sigv4.ClaimedAccessKeyID(r))
	}
	if err != nil {
		_, e := toAPIError(err, x.svc)
		ev.ErrorCode, ev.ErrorMessage = e.code, e.message
	}
	if lerr := h.audit.Log(r.Context(), ev); lerr != nil {
		return fmt.Errorf("iamapi: audit record: %w", lerr)
	}
	return nil
}

func sourceIP(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

// clipParam bounds client input echoed in a message.
func clipParam(s string) string {
	const max = 128
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}
