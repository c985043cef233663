package sigv4

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// signatureMatches builds the canonical request and string to sign in *bp
// and reports whether sig is their signature under key.
func signatureMatches(bp *[]byte, key, sig [sha256.Size]byte, r *http.Request, path string, query []qparam, p *authParams, payloadHash []byte) (bool, error) {
	buf, err := appendCanonicalRequest((*bp)[:0], r, path, query, p, payloadHash)
	if err != nil {
		return false, err
	}
	sum := sha256.Sum256(buf)

	buf = append(buf[:0], algorithm...)
	buf = append(buf, '\n')
	buf = append(buf, p.amzDate...)
	buf = append(buf, '\n')
	buf = append(buf, p.scope...)
	buf = append(buf, '\n')
	buf = append(buf, make([]byte, 2*sha256.Size)...)
	hexEncode(buf[len(buf)-2*sha256.Size:], sum[:])
	*bp = buf

	want := hmacSum(key[:], buf)
	return hmac.Equal(want[:], sig[:]), nil
}

// appendCanonicalRequest appends
//
//	Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n HashedPayload
//
// where CanonicalHeaders ends with its own newline.
func appendCanonicalRequest(buf []byte, r *http.Request, path string, query []qparam, p *authParams, payloadHash []byte) ([]byte, error) {
	buf = append(buf, r.Method...)
	buf = append(buf, '\n')
	// The path as sent is already escaped; AWS (and the SDKs for every
	// service but S3) escape it once more.
	buf = appendURIEncoded(buf, path, false)
	buf = append(buf, '\n')
	buf = appendCanonicalQuery(buf, query, p.presigned)
	buf = append(buf, '\n')

	size := 0
	for name := range strings.SplitSeq(p.signedHeaders, ";") {
		buf = append(buf, name...)
		buf = append(buf, ':')
		start := len(buf)
		buf = appendHeaderValue(buf, r, name)
		buf = append(buf, '\n')
		if size += len(buf) - start; size > maxSignedHeaderData {
			return nil, incomplete("The signed headers exceed %d bytes.", maxSignedHeaderData)
		}
	}
	buf = append(buf, '\n')
	buf = append(buf, p.signedHeaders...)
	buf = append(buf, '\n')
	return append(buf, payloadHash...), nil
}

// appendCanonicalQuery appends the parameters sorted by encoded key, then
// encoded value, leaving out X-Amz-Signature in the pre-signed form. It
// sorts query in place.
func appendCanonicalQuery(buf []byte, query []qparam, presigned bool) []byte {
	if len(query) > 1 {
		slices.SortFunc(query, func(a, b qparam) int {
			return cmp.Or(strings.Compare(a.encKey, b.encKey), strings.Compare(a.encValue, b.encValue))
		})
	}
	first := true
	for i := range query {
		q := &query[i]
		if presigned && q.key == qSignature {
			continue
		}
		if !first {
			buf = append(buf, '&')
		}
		first = false
		buf = append(buf, q.encKey...)
		buf = append(buf, '=')
		buf = append(buf, q.encValue...)
	}
	return buf
}

// appendHeaderValue appends the canonical value of the named (lowercase)
// header: its values trimmed, runs of spaces collapsed, joined by commas.
func appendHeaderValue(buf []byte, r *http.Request, name string) []byte {
	if name == "host" {
		h := r.Host
		if h == "" {
			h = r.URL.Host
		}
		return appendTrimmed(buf, h)
	}
	vals := r.Header[canonicalHeaderKey(name)]
	if len(vals) == 0 && name == "content-length" && r.ContentLength > 0 {
		// Outgoing requests built in-process keep the length out of Header.
		return strconv.AppendInt(buf, r.ContentLength, 10)
	}
	for i, v := range vals {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendTrimmed(buf, v)
	}
	return buf
}

// appendTrimmed appends v without leading or trailing white space and with
// each run of spaces replaced by one space, as the SDKs do.
func appendTrimmed(buf []byte, v string) []byte {
	v = strings.TrimSpace(v)
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		buf = append(buf, c)
	}
	return buf
}

// canonicalHeaderKey is textproto.CanonicalMIMEHeaderKey without its
// allocation for the headers AWS clients sign on every request.
func canonicalHeaderKey(name string) string {
	switch name {
	case "content-type":
		return "Content-Type"
	case "content-length":
		return "Content-Length"
	case "x-amz-date":
		return "X-Amz-Date"
	case "x-amz-target":
		return "X-Amz-Target"
	case "x-amz-security-token":
		return "X-Amz-Security-Token"
	case "x-amz-content-sha256":
		return "X-Amz-Content-Sha256"
	case "x-amz-user-agent":
		return "X-Amz-User-Agent"
	case "amz-sdk-invocation-id":
		return "Amz-Sdk-Invocation-Id"
	case "amz-sdk-request":
		return "Amz-Sdk-Request"
	}
	return http.CanonicalHeaderKey(name)
}

// requestPath returns the path exactly as the client sent it, still escaped.
func requestPath(r *http.Request) string {
	if u := r.RequestURI; u != "" && u[0] == '/' {
		if i := strings.IndexByte(u, '?'); i >= 0 {
			u = u[:i]
		}
		return u
	}
	// Requests built in-process, or with an absolute-form target.
	if p := r.URL.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

// normalizePath removes "." and ".." segments and repeated slashes, as AWS
// services (and botocore) do before signing.
func normalizePath(p string) string {
	if p == "" {
		return "/"
	}
	if !strings.Contains(p, "//") && !strings.Contains(p, "/./") && !strings.Contains(p, "/../") &&
		!strings.HasSuffix(p, "/.") && !strings.HasSuffix(p, "/..") && p[0] == '/' {
		return p
	}
	var out []string
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	var b strings.Builder
	b.Grow(len(p))
	b.WriteByte('/')
	b.WriteString(strings.Join(out, "/"))
	if len(out) > 0 && p[len(p)-1] == '/' {
		b.WriteByte('/')
	}
	return b.String()
}

// uriEncode is AWS's UriEncode with '/' encoded, for query components. It
// returns s itself when nothing needs encoding.
func uriEncode(s string) string {
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			return string(appendURIEncoded(make([]byte, 0, len(s)+16), s, true))
		}
	}
	return s
}

// appendURIEncoded percent-encodes every byte but A-Z a-z 0-9 - . _ ~ (and
// '/', unless encodeSlash), with upper-case hex.
func appendURIEncoded(buf []byte, s string, encodeSlash bool) []byte {
	const upper = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || (c == '/' && !encodeSlash) {
			buf = append(buf, c)
		} else {
			buf = append(buf, '%', upper[c>>4], upper[c&0x0f])
		}
	}
	return buf
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
