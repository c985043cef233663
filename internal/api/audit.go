package api

import (
	"net/http"
	"strings"

	"github.com/openkms/openkms/internal/audit"
	"github.com/openkms/openkms/internal/auth/sigv4"
	"github.com/openkms/openkms/internal/kms"
	"github.com/openkms/openkms/internal/kmserr"
)

// auditEvent builds the audit record of one request. The request body and
// response go through the audit package's per-operation allow-lists, so no
// plaintext, ciphertext, key material or token reaches a record.
func (h *Handler) auditEvent(r *http.Request, reqID string, x exchange, trace *kms.Trace) audit.Event {
	ev := audit.Event{
		EventName:       x.op,
		SourceIPAddress: h.clientIP(r).String(),
		UserAgent:       truncate(r.UserAgent(), 1024),
		RequestID:       reqID,
		TLSDetails:      audit.TLSDetailsFrom(r.TLS, r.Host),
	}
	switch {
	case x.caller != nil:
		ev.AWSRegion = x.caller.Region
		ev.UserIdentity = audit.IdentityFromPrincipal(x.caller.Principal)
		if x.caller.CalledVia != "" {
			ev.SourceIPAddress = x.caller.CalledVia // as CloudTrail records calls made by a service
		}
	case x.auth != nil:
		ev.AWSRegion = x.auth.Region
		ev.UserIdentity = audit.IdentityFromPrincipal(x.auth.Principal)
	default:
		ev.AWSRegion = scopeRegion(r)
		ev.UserIdentity = audit.UnauthenticatedIdentity(sigv4.ClaimedAccessKeyID(r))
	}
	if audit.KnownOperation(x.op) && x.body != nil {
		ev.RequestParameters = audit.SanitizeRequest(x.op, x.body)
	}
	if len(trace.KeyARNs) > 0 {
		ev.Resources = audit.KeyResources(trace.KeyARNs...)
	}
	if x.err != nil {
		e := kmserr.As(x.err)
		ev.ErrorCode, ev.ErrorMessage = string(e.Code), e.Message
	} else if x.result != nil {
		ev.ResponseElements = audit.SanitizeResponse(x.op, x.result)
	}
	return ev
}

// scopeRegion is the region a request's credential scope claims.
func scopeRegion(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if a := r.Header.Get("Authorization"); a != "" {
		if _, after, ok := strings.Cut(a, "Credential="); ok {
			cred = after
		}
	}
	parts := strings.SplitN(cred, "/", 4)
	if len(parts) < 3 {
		return ""
	}
	return truncate(parts[2], 32)
}
