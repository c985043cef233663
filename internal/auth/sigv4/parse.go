package sigv4

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/openkms/openkms/internal/kmserr"
)

const (
	algorithm     = "AWS4-HMAC-SHA256"
	terminator    = "aws4_request"
	amzDateLayout = "20060102T150405Z"

	qAlgorithm     = "X-Amz-Algorithm"
	qCredential    = "X-Amz-Credential"
	qDate          = "X-Amz-Date"
	qExpires       = "X-Amz-Expires"
	qSignedHeaders = "X-Amz-SignedHeaders"
	qSignature     = "X-Amz-Signature"
	qSecurityToken = "X-Amz-Security-Token"
)

// authParams is the authentication information of one request, from either
// the Authorization header or the pre-signed query string. Its strings are
// substrings of the request; nothing is copied.
type authParams struct {
	presigned bool

	credential  string // keyid/date/region/service/terminator
	accessKeyID string
	scope       string // date/region/service/terminator
	scopeDate   string
	region      string
	service     string
	terminator  string

	signedHeaders string
	signature     string
	amzDate       string
	expires       int64 // X-Amz-Expires in seconds; -1 when absent

	token    string
	hasToken bool
}

// qparam is one query parameter, decoded and AWS-URI-encoded.
type qparam struct {
	key, value       string // decoded
	encKey, encValue string // canonical encoding
}

// parseQuery splits a raw query string the way the SDKs' url.Values do:
// '&'-separated, '+' and %XX decoded, empty pieces dropped.
func parseQuery(raw string) ([]qparam, error) {
	if raw == "" {
		return nil, nil
	}
	n := strings.Count(raw, "&") + 1
	if n > maxQueryParams {
		return nil, incomplete("The query string has more than %d parameters.", maxQueryParams)
	}
	qs := make([]qparam, 0, n)
	for piece := range strings.SplitSeq(raw, "&") {
		if piece == "" {
			continue
		}
		k, val, _ := strings.Cut(piece, "=")
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(val)
		if err1 != nil || err2 != nil {
			return nil, incomplete("The query string is not properly percent-encoded.")
		}
		qs = append(qs, qparam{key: dk, value: dv, encKey: uriEncode(dk), encValue: uriEncode(dv)})
	}
	return qs, nil
}

// parseAuth finds and parses the request's SigV4 authentication.
func parseAuth(r *http.Request, query []qparam) (authParams, error) {
	authz, hasHeader := r.Header["Authorization"]
	presigned := false
	for i := range query {
		switch query[i].key {
		case qAlgorithm, qCredential, qSignature:
			presigned = true
		}
	}
	switch {
	case hasHeader && presigned:
		return authParams{}, incomplete("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.")
	case hasHeader:
		if len(authz) != 1 {
			return authParams{}, incomplete("The request must carry exactly one Authorization header.")
		}
		return parseHeaderAuth(r, authz[0])
	case presigned:
		return parseQueryAuth(r, query)
	}
	return authParams{}, missingToken()
}

// parseHeaderAuth parses
//
//	AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=<hex>
//
// Like AWS, it splits the parameters on commas and white space, so any
// spacing around the commas is accepted.
func parseHeaderAuth(r *http.Request, h string) (authParams, error) {
	if len(h) > maxAuthorizationLen {
		return authParams{}, incomplete("The Authorization header exceeds %d bytes.", maxAuthorizationLen)
	}
	p := authParams{expires: -1}
	rest, ok := strings.CutPrefix(h, algorithm)
	if ok && rest != "" && rest[0] != ' ' {
		ok = false
	}
	if ok {
		var seenC, seenH, seenS bool
		for len(rest) > 0 {
			i := strings.IndexAny(rest, ", \t")
			var tok string
			if i < 0 {
				tok, rest = rest, ""
			} else {
				tok, rest = rest[:i], rest[i+1:]
			}
			if tok == "" {
				continue
			}
			k, val, hasEq := strings.Cut(tok, "=")
			if !hasEq {
				return p, incomplete("'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", clip(tok), clip(h))
			}
			var seen *bool
			switch k {
			case "Credential":
				p.credential, seen = val, &seenC
			case "SignedHeaders":
				p.signedHeaders, seen = val, &seenH
			case "Signature":
				p.signature, seen = val, &seenS
			default:
				return p, incomplete("'%s' is not a valid parameter in Authorization header: '%s'.", clip(k), clip(h))
			}
			if *seen {
				return p, incomplete("Authorization header has more than one '%s' parameter: '%s'.", k, clip(h))
			}
			*seen = true
		}
	}

	date, dateErr := headerDate(r)
	if dateErr != nil {
		return p, dateErr
	}
	p.amzDate = date

	var missing []string
	if p.credential == "" {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if p.signature == "" {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if p.signedHeaders == "" {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if p.amzDate == "" {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if missing != nil {
		return p, incomplete("%s Authorization=%s", strings.Join(missing, " "), clip(h))
	}

	tokens := r.Header["X-Amz-Security-Token"]
	switch len(tokens) {
	case 0:
	case 1:
		p.token, p.hasToken = tokens[0], true
	default:
		return p, invalidToken()
	}
	if len(p.token) > maxTokenLen {
		return p, invalidToken()
	}
	return p, p.splitCredential()
}

// headerDate returns X-Amz-Date, or Date when X-Amz-Date is absent. AWS
// signs the value as sent, so it must be in ISO-8601 basic format either way;
// the format is checked with the scope.
func headerDate(r *http.Request) (string, error) {
	for _, name := range [...]string{"X-Amz-Date", "Date"} {
		switch vs := r.Header[name]; len(vs) {
		case 0:
			continue
		case 1:
			return vs[0], nil
		default:
			return "", incomplete("The request must carry at most one '%s' header.", name)
		}
	}
	return "", nil
}

// parseQueryAuth parses the pre-signed form.
func parseQueryAuth(r *http.Request, query []qparam) (authParams, error) {
	p := authParams{presigned: true, expires: -1}
	var alg, expires string
	var seen uint8
	for i := range query {
		q := &query[i]
		var dst *string
		var bit uint8
		switch q.key {
		case qAlgorithm:
			dst, bit = &alg, 1
		case qCredential:
			dst, bit = &p.credential, 2
		case qDate:
			dst, bit = &p.amzDate, 4
		case qSignedHeaders:
			dst, bit = &p.signedHeaders, 8
		case qSignature:
			dst, bit = &p.signature, 16
		case qExpires:
			dst, bit = &expires, 32
		case qSecurityToken:
			dst, bit = &p.token, 64
			p.hasToken = true
		default:
			continue
		}
		if seen&bit != 0 {
			return p, incomplete("The query string has more than one '%s' parameter.", q.key)
		}
		seen |= bit
		*dst = q.value
	}
	if alg == "" || p.credential == "" || p.signature == "" || p.signedHeaders == "" || p.amzDate == "" {
		return p, incomplete("AWS query-string parameters must include '%s', '%s', '%s', '%s', '%s'. Re-examine the query-string parameters.",
			qAlgorithm, qCredential, qSignature, qSignedHeaders, qDate)
	}
	if alg != algorithm {
		return p, incomplete("X-Amz-Algorithm only supports '%s'.", algorithm)
	}
	if seen&32 != 0 {
		n, err := strconv.ParseInt(expires, 10, 64)
		if err != nil || n < 0 {
			return p, incomplete("X-Amz-Expires should be a number of seconds, got '%s'.", clip(expires))
		}
		if n > maxPresignExpires {
			return p, incomplete("X-Amz-Expires must be less than a week (in seconds) that is %d.", maxPresignExpires)
		}
		p.expires = n
	}
	// A token may also travel as a header; if both are present they must agree.
	switch h := r.Header["X-Amz-Security-Token"]; {
	case len(h) > 1, len(h) == 1 && p.hasToken && h[0] != p.token:
		return p, invalidToken()
	case len(h) == 1:
		p.token, p.hasToken = h[0], true
	}
	if len(p.token) > maxTokenLen {
		return p, invalidToken()
	}
	return p, p.splitCredential()
}

// splitCredential splits keyid/date/region/service/terminator.
func (p *authParams) splitCredential() error {
	c := p.credential
	if strings.Count(c, "/") != 4 {
		return incomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", clip(c))
	}
	i := strings.IndexByte(c, '/')
	p.accessKeyID, p.scope = c[:i], c[i+1:]
	parts := p.scope
	p.scopeDate, parts, _ = strings.Cut(parts, "/")
	p.region, parts, _ = strings.Cut(parts, "/")
	p.service, p.terminator, _ = strings.Cut(parts, "/")
	if !validAccessKeyID(p.accessKeyID) {
		return invalidToken()
	}
	return nil
}

func validAccessKeyID(s string) bool {
	if len(s) == 0 || len(s) > maxAccessKeyIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// checkScope checks X-Amz-Date's format and the credential scope against it
// and against the service, in the order AWS reports them.
func (p *authParams) checkScope(service string) error {
	if !validAmzDate(p.amzDate) {
		return badDate(p.amzDate)
	}
	if p.scopeDate != p.amzDate[:8] {
		return kmserr.New(kmserr.InvalidSignature,
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			clip(p.scopeDate), p.amzDate[:8], p.amzDate)
	}
	if !validRegion(p.region) {
		return kmserr.New(kmserr.InvalidSignature, "Credential should be scoped to a valid region, not '%s'.", clip(p.region))
	}
	if p.service != service {
		return kmserr.New(kmserr.InvalidSignature, "Credential should be scoped to correct service: '%s'.", service)
	}
	if p.terminator != terminator {
		return kmserr.New(kmserr.InvalidSignature, "Credential should be scoped with a valid terminator: '%s', not '%s'.", terminator, clip(p.terminator))
	}
	return nil
}

// validAmzDate reports whether s has the shape 20060102T150405Z; the values
// are checked by time.Parse.
func validAmzDate(s string) bool {
	if len(s) != len(amzDateLayout) || s[8] != 'T' || s[15] != 'Z' {
		return false
	}
	for i := 0; i < 15; i++ {
		if i != 8 && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}

// validRegion accepts [a-z0-9-]{1,32}.
func validRegion(s string) bool {
	if len(s) == 0 || len(s) > maxRegionLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// checkSignedHeaders requires a strictly ascending, ';'-separated list of at
// most maxSignedHeaders lowercase header names that includes host. All SDKs
// send it so; requiring it lets the canonical request follow the list as is.
func checkSignedHeaders(s string) error {
	n, prev, host := 0, "", false
	for name := range strings.SplitSeq(s, ";") {
		n++
		if n > maxSignedHeaders {
			return incomplete("SignedHeaders must not name more than %d headers.", maxSignedHeaders)
		}
		if !validHeaderName(name) || (n > 1 && name <= prev) {
			return incomplete("SignedHeaders must be a sorted, semicolon-separated list of unique lowercase header names, got '%s'.", clip(s))
		}
		host = host || name == "host"
		prev = name
	}
	if !host {
		return incomplete("%s", msgHostNotSigned)
	}
	return nil
}

// validHeaderName accepts lowercase RFC 9110 tokens.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
