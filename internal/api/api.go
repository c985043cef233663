// Package api speaks the AWS KMS wire protocol, AWS JSON 1.1: POST / with
// X-Amz-Target "TrentService.<Operation>", JSON bodies with base64 blobs,
// and errors as {"__type": ..., "message": ...}. It authenticates each
// request with SigV4, decodes it, calls the service core, and encodes the
// result. It holds no domain logic.
//
// Protocol: https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/openkms/openkms/internal/audit"
	"github.com/openkms/openkms/internal/auth/sigv4"
	"github.com/openkms/openkms/internal/kms"
	"github.com/openkms/openkms/internal/kmserr"
	"github.com/openkms/openkms/internal/metrics"
	"github.com/openkms/openkms/internal/quota"
	"github.com/openkms/openkms/internal/usage"
)

// MaxBodyBytes bounds a request body. The largest valid KMS request (a
// 32 KiB key policy, JSON-escaped) fits well inside it.
const MaxBodyBytes = 256 << 10

const (
	targetPrefix = "TrentService."
	contentType  = "application/x-amz-json-1.1"
)

// Config wires a Handler.
type Config struct {
	Service  *kms.Service
	Verifier *sigv4.Verifier
	// Regions, if not empty, is the set of regions served; requests signed
	// for any other region are refused.
	Regions []string
	// Audit records every request before its response is sent; nil turns
	// auditing off.
	Audit  *audit.Logger
	Logger *slog.Logger
	// Metrics counts requests (nil: off); Usage records the last
	// successful cryptographic use of each key (nil: off); Now is the clock
	// for usage timestamps (nil: time.Now).
	Metrics *metrics.Registry
	Usage   *usage.Tracker
	Now     func() time.Time
	// TrustedProxies may set X-Forwarded-For; Networks map address ranges
	// to aws:SourceVpc/aws:SourceVpce; ViaServices maps integrated
	// services' principal ARNs to their service names (kms:ViaService).
	TrustedProxies []netip.Prefix
	Networks       []Network
	ViaServices    map[string]string
	// Quota limits requests per account and category
	// (ThrottlingException); nil means no limits.
	Quota *quota.Limiter
	// MaxInFlight bounds the requests being served at once; a request
	// beyond it is answered at once with ThrottlingException instead of
	// queueing, so overload never builds unbounded latency or memory.
	// 0 means DefaultMaxInFlight.
	MaxInFlight int
}

// DefaultMaxInFlight is the default bound on concurrent requests.
const DefaultMaxInFlight = 1024

// Handler serves the KMS API. It is safe for concurrent use.
type Handler struct {
	svc      *kms.Service
	verifier *sigv4.Verifier
	regions  map[string]bool
	audit    *audit.Logger
	metrics  *metrics.Registry

	trustedProxies []netip.Prefix
	networks       []Network
	viaServices    map[string]string
	quota          *quota.Limiter
	inFlight       chan struct{}
	usage          *usage.Tracker
	now            func() time.Time
	log            *slog.Logger
	routes         map[string]route
}

// route is one operation: its name and the function that decodes the body,
// calls the service and returns the response value to encode.
type route struct {
	name   string
	handle func(ctx context.Context, c kms.Caller, body []byte) (any, error)
}

// New returns a Handler.
func New(cfg Config) *Handler {
	h := &Handler{svc: cfg.Service, verifier: cfg.Verifier, audit: cfg.Audit, metrics: cfg.Metrics, usage: cfg.Usage, now: cfg.Now, log: cfg.Logger}
	if h.now == nil {
		h.now = time.Now
	}
	h.trustedProxies, h.networks, h.viaServices, h.quota = cfg.TrustedProxies, cfg.Networks, cfg.ViaServices, cfg.Quota
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	h.inFlight = make(chan struct{}, cfg.MaxInFlight)
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if len(cfg.Regions) > 0 {
		h.regions = make(map[string]bool, len(cfg.Regions))
		for _, r := range cfg.Regions {
			h.regions[r] = true
		}
	}
	h.routes = make(map[string]route)
	for _, r := range h.routeTable() {
		h.routes[r.name] = r
	}
	return h
}

// Operations returns the names of the operations served, for docs and tests.
func (h *Handler) Operations() []string {
	out := make([]string, 0, len(h.routes))
	for name := range h.routes {
		out = append(out, name)
	}
	return out
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := audit.NewID()
	w.Header().Set("x-amzn-RequestId", reqID)
	ctx, trace := kms.WithTrace(r.Context())
	var x exchange
	select {
	case h.inFlight <- struct{}{}:
		x = h.serve(ctx, w, r)
		<-h.inFlight
	default:
		x = exchange{op: "unknown", err: kmserr.New(kmserr.Throttling, "Rate exceeded")}
		if name, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix); ok {
			if _, known := h.routes[name]; known {
				x.op = name
			}
		}
	}
	eventID := audit.NewID() // the CloudTrail eventID, shared with the usage record
	if h.audit != nil {
		ev := h.auditEvent(r, reqID, x, trace)
		ev.EventID = eventID
		if err := h.audit.Log(ctx, ev); err != nil {
			// Fail closed: a request that cannot be recorded does not
			// succeed. (Under the fail-open policy Log returns nil.)
			h.log.Error("audit record not written; failing the request", "requestId", reqID, "operation", x.op, "error", err)
			x.out, x.err = nil, kmserr.Internal(err)
		}
	}
	if x.err == nil && h.usage != nil && usage.Tracked(x.op) {
		at := h.now()
		for _, keyARN := range trace.KeyARNs { // ReEncrypt: both keys, as AWS
			h.usage.RecordUsage(keyARN, usage.Usage{Operation: x.op, Timestamp: at, EventID: eventID, RequestID: reqID})
		}
	}
	h.observe(x, time.Since(start))
	status, errCode := http.StatusOK, ""
	if x.err != nil {
		if e := kmserr.As(x.err); e.Server {
			h.log.Error("request failed", "operation", x.op, "requestId", reqID, "error", x.err)
		}
		status, errCode = writeError(w, x.err)
	} else {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(x.out)
	}
	h.log.LogAttrs(r.Context(), slog.LevelDebug, "request",
		slog.String("requestId", reqID), slog.String("operation", x.op),
		slog.Int("status", status), slog.String("error", errCode),
		slog.Duration("duration", time.Since(start)))
}

// exchange is one request and its outcome, before the response is written.
type exchange struct {
	op     string
	body   []byte        // the request body, when it was read
	auth   *sigv4.Result // nil when authentication did not succeed
	caller *kms.Caller   // the caller the request was evaluated as
	result any           // the response value, for the audit record
	out    []byte        // the encoded response
	err    error
}

// serve handles one request up to, but not including, writing the
// response.
func (h *Handler) serve(ctx context.Context, w http.ResponseWriter, r *http.Request) exchange {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return exchange{err: &kmserr.Error{Code: kmserr.UnknownOperation, Status: http.StatusNotFound,
			Message: "The requested operation is not available at " + r.Method + " " + truncate(r.URL.Path, 128)}}
	}
	target := r.Header.Get("X-Amz-Target")
	if target == "" {
		// Pre-signed requests carry their headers in the query string.
		target = r.URL.Query().Get("X-Amz-Target")
	}
	name, ok := strings.CutPrefix(target, targetPrefix)
	rt, known := h.routes[name]
	if !ok || !known {
		return exchange{op: truncate(name, 64), err: kmserr.New(kmserr.UnknownOperation, "Unknown operation %q", truncate(target, 128))}
	}
	x := exchange{op: name}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			x.err = &kmserr.Error{Code: "RequestEntityTooLargeException", Status: http.StatusRequestEntityTooLarge,
				Message: fmt.Sprintf("Request body is larger than %d bytes", MaxBodyBytes)}
			return x
		}
		x.err = kmserr.New(kmserr.SerializationException, "Could not read the request body")
		return x
	}
	x.body = body
	auth, err := h.verifier.Verify(r, body)
	if err != nil {
		x.err = err
		return x
	}
	x.auth = &auth
	if h.regions != nil && !h.regions[auth.Region] {
		x.err = kmserr.New(kmserr.UnrecognizedClient, "The region %s is not served by this endpoint.", truncate(auth.Region, 64))
		return x
	}
	if !h.allow(auth.Principal.Account, name, keyAlgorithm(name, body)) {
		x.err = kmserr.New(kmserr.Throttling, "Rate exceeded")
		return x
	}
	caller, err := h.caller(ctx, r, auth)
	if err != nil {
		x.err = err
		return x
	}
	x.caller = &caller
	out, err := rt.handle(ctx, caller, body)
	if err != nil {
		x.err = err
		return x
	}
	buf, err := json.Marshal(out)
	if err != nil {
		x.err = kmserr.Internal(err)
		return x
	}
	x.result, x.out = out, buf
	return x
}

// decode parses a request body into v. An empty body is an empty object.
// Unknown fields are ignored (newer SDKs may send fields this server does
// not know); wrong types are a SerializationException.
func decode(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return kmserr.New(kmserr.SerializationException, "Value of field '%s' has the wrong type: expected %s", truncate(typeErr.Field, 128), typeErr.Type)
		}
		if strings.Contains(err.Error(), "base64") {
			return kmserr.New(kmserr.SerializationException, "A blob field is not valid base64")
		}
		return kmserr.New(kmserr.SerializationException, "Request body is not valid JSON")
	}
	return nil
}

// writeError writes err as an AWS JSON 1.1 error response and returns the
// status and code for the request log.
func writeError(w http.ResponseWriter, err error) (int, string) {
	e := kmserr.As(err)
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
		if e.Server {
			status = http.StatusInternalServerError
		}
	}
	buf, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message,omitempty"`
	}{string(e.Code), e.Message})
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("x-amzn-ErrorType", string(e.Code))
	w.WriteHeader(status)
	_, _ = w.Write(buf)
	return status, string(e.Code)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// observe counts the request; names outside the route table count as
// "unknown", so the label stays bounded.
func (h *Handler) observe(x exchange, d time.Duration) {
	op := x.op
	if _, known := h.routes[op]; !known {
		op = "unknown"
	}
	code, server := "", false
	if x.err != nil {
		e := kmserr.As(x.err)
		code, server = string(e.Code), e.Server
	}
	h.metrics.ObserveRequest(op, code, server, d)
}

// allow applies the request quotas of the caller's account.
func (h *Handler) allow(account, op, spec string) bool {
	if h.quota == nil {
		return true
	}
	return h.quota.Allow(account, quota.CategoryFor(op, spec))
}

// keyAlgorithm finds, for the operations whose quota depends on the key
// type (RSA, ECC, ML-DSA or symmetric), the algorithm or key pair spec the
// request names, without decoding the whole body. The service rejects an
// algorithm that does not fit the key before doing any work, so naming a
// cheaper algorithm cannot dodge the quota.
func keyAlgorithm(op string, body []byte) string {
	if !quota.KeyDependent(op) {
		return ""
	}
	for _, field := range [...]string{`"SigningAlgorithm"`, `"EncryptionAlgorithm"`, `"SourceEncryptionAlgorithm"`, `"DestinationEncryptionAlgorithm"`, `"KeyPairSpec"`} {
		i := bytes.Index(body, []byte(field))
		if i < 0 {
			continue
		}
		rest := body[i+len(field):]
		j := bytes.IndexByte(rest, '"')
		if j < 0 || j > 8 {
			continue
		}
		rest = rest[j+1:]
		k := bytes.IndexByte(rest, '"')
		if k <= 0 || k > 64 {
			continue
		}
		if v := string(rest[:k]); v != "SYMMETRIC_DEFAULT" {
			return v
		}
	}
	return ""
}
