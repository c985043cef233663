package api

import (
	"context"
	"net/http"
	"net/netip"
	"strings"

	"github.com/openkms/openkms/internal/auth/sigv4"
	"github.com/openkms/openkms/internal/kms"
	"github.com/openkms/openkms/internal/kmserr"
)

// Network is an address range declared as a VPC (and VPC endpoint): a
// request from it carries aws:SourceVpc and aws:SourceVpce.
type Network struct {
	Prefix netip.Prefix
	VPC    string
	VPCE   string
}

// OnBehalfOfHeader names, in a request signed by an integrated service, the
// access key id of the user the service acts for. It must be a signed
// header.
const OnBehalfOfHeader = "X-Openkms-On-Behalf-Of"

// clientIP is the client's address (aws:SourceIp): the connection's, or,
// when the connection comes from a trusted proxy, the last address in
// X-Forwarded-For that is not itself a trusted proxy.
func (h *Handler) clientIP(r *http.Request) netip.Addr {
	remote, err := netip.ParseAddrPort(r.RemoteAddr)
	var ip netip.Addr
	if err == nil {
		ip = remote.Addr().Unmap()
	} else if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
		ip = a.Unmap()
	}
	if !h.trustedProxy(ip) {
		return ip
	}
	xff := r.Header.Values("X-Forwarded-For")
	for i := len(xff) - 1; i >= 0; i-- {
		parts := strings.Split(xff[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return ip // a malformed hop: stop at the last trusted address
			}
			a = a.Unmap()
			if !h.trustedProxy(a) {
				return a
			}
			ip = a
		}
	}
	return ip
}

func (h *Handler) trustedProxy(ip netip.Addr) bool {
	for _, p := range h.trustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// network returns the VPC and VPC endpoint an address belongs to, by the
// most specific declared range.
func (h *Handler) network(ip netip.Addr) (vpc, vpce string) {
	best := -1
	for _, n := range h.networks {
		if n.Prefix.Contains(ip) && n.Prefix.Bits() > best {
			best, vpc, vpce = n.Prefix.Bits(), n.VPC, n.VPCE
		}
	}
	return vpc, vpce
}

// caller builds the service-core caller of an authenticated request. A
// request from an integrated service that names a user in the signed
// X-OpenKMS-On-Behalf-Of header is evaluated as that user, with
// kms:ViaService set; from anyone else the header is refused, so no
// ordinary caller can claim kms:ViaService or aws:CalledVia.
func (h *Handler) caller(ctx context.Context, r *http.Request, auth sigv4.Result) (kms.Caller, error) {
	ip := h.clientIP(r)
	c := kms.Caller{Principal: auth.Principal, Region: auth.Region, SecureTransport: r.TLS != nil}
	if ip.IsValid() {
		c.SourceIP = ip.String()
		c.SourceVpc, c.SourceVpce = h.network(ip)
	}
	onBehalf := r.Header.Get(OnBehalfOfHeader)
	if onBehalf == "" {
		return c, nil
	}
	service, ok := h.viaServices[auth.Principal.ARN]
	if !ok {
		return kms.Caller{}, kmserr.New(kmserr.AccessDenied, "%s is accepted only from integrated services; %s is not one.", OnBehalfOfHeader, auth.Principal.ARN)
	}
	if !headerSigned(r, OnBehalfOfHeader) {
		return kms.Caller{}, kmserr.New(kmserr.AccessDenied, "%s must be a signed header.", OnBehalfOfHeader)
	}
	cred, err := h.verifier.Source.LookupAccessKey(ctx, truncate(onBehalf, 128))
	if err != nil {
		return kms.Caller{}, kmserr.New(kmserr.AccessDenied, "The caller named in %s is not known.", OnBehalfOfHeader)
	}
	c.Principal = cred.Principal
	c.ViaService = service + "." + auth.Region + ".amazonaws.com"
	c.CalledVia = service + ".amazonaws.com"
	c.InvokedBy = auth.Principal.ARN
	return c, nil
}

// headerSigned reports whether a header is among the request's SigV4
// SignedHeaders (header or pre-signed form).
func headerSigned(r *http.Request, name string) bool {
	signed := r.URL.Query().Get("X-Amz-SignedHeaders")
	if a := r.Header.Get("Authorization"); a != "" {
		if _, after, ok := strings.Cut(a, "SignedHeaders="); ok {
			signed, _, _ = strings.Cut(after, ",")
		}
	}
	for _, h := range strings.Split(signed, ";") {
		if strings.EqualFold(strings.TrimSpace(h), name) {
			return true
		}
	}
	return false
}
