// Package sigv4 verifies AWS Signature Version 4 on requests to the KMS JSON
// API, as AWS services do: it rebuilds the canonical request from the HTTP
// request and its body, derives the signing key from the caller's secret
// access key, and compares signatures in constant time.
//
// It owns the SigV4 wire forms (the Authorization header and the pre-signed
// query string), the credential-scope and clock-skew rules, and the AWS
// exception name and message for each authentication failure. Where access
// keys come from is a CredentialSource's business; what a principal may do is
// not this package's business at all.
//
// Specification:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
// (error wording follows
// https://docs.aws.amazon.com/IAM/latest/UserGuide/signature-v4-troubleshooting.html
// and what AWS JSON-protocol services return).
package sigv4

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/openkms/openkms/internal/kmserr"
	"github.com/openkms/openkms/internal/principal"
)

// Secret is a secret access key. Its bytes are unexported and it formats as
// "REDACTED" with every fmt verb and in slog, so it cannot be logged by
// accident. The zero value is the empty secret, which never verifies.
type Secret struct{ b []byte }

// ClaimedAccessKeyID is the access key id r claims in its Authorization
// header or pre-signed query (at most 128 bytes), for the audit record of a
// request that failed authentication. It is never trusted for anything
// else.
func ClaimedAccessKeyID(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if a := r.Header.Get("Authorization"); a != "" {
		if _, after, ok := strings.Cut(a, "Credential="); ok {
			cred = after
		}
	}
	akid, _, _ := strings.Cut(cred, "/")
	if len(akid) > 128 {
		akid = akid[:128]
	}
	return akid
}

// NewSecret returns a Secret holding a copy of s.
func NewSecret(s string) Secret { return Secret{b: []byte(s)} }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return len(s.b) == 0 }

// Equal reports whether s and o hold the same bytes, in time that depends
// only on their lengths.
func (s Secret) Equal(o Secret) bool { return subtle.ConstantTimeCompare(s.b, o.b) == 1 }

const redacted = "REDACTED"

// String returns "REDACTED".
func (Secret) String() string { return redacted }

// GoString returns "REDACTED", so %#v does not print the bytes either.
func (Secret) GoString() string { return redacted }

// Format writes "REDACTED" for every verb (including %x and %d).
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue makes slog print "REDACTED".
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// ErrUnknownAccessKey is returned (possibly wrapped) by a CredentialSource
// when it has no credential for an access key id.
var ErrUnknownAccessKey = errors.New("sigv4: unknown access key")

// Credential is what a CredentialSource knows about one access key.
type Credential struct {
	// Secret is the secret access key. A credential with an empty secret
	// never verifies.
	Secret Secret
	// Principal is the identity the access key belongs to.
	Principal principal.Principal
	// SessionToken, when not empty, must be presented by the request as
	// X-Amz-Security-Token (temporary credentials). When empty, a request
	// that presents a token is rejected.
	SessionToken string
}

// CredentialSource resolves access key ids.
//
// LookupAccessKey returns an error that satisfies errors.Is(err,
// ErrUnknownAccessKey) when the key does not exist (or is inactive); any other
// error is treated as a server fault. It never returns (Credential{}, nil) for
// a missing key. accessKeyID is attacker-controlled: at most 128 printable
// ASCII bytes, without '/'. Implementations must be safe for concurrent use.
type CredentialSource interface {
	LookupAccessKey(ctx context.Context, accessKeyID string) (Credential, error)
}

// Result is what a successful verification establishes.
type Result struct {
	// Principal is the caller, with AccessKeyID set to the signing key id.
	Principal principal.Principal
	// Region is the region named in the credential scope.
	Region string
	// AccessKeyID is the access key id the request was signed with.
	AccessKeyID string
	// Presigned is true when the request was authenticated by query-string
	// parameters. Its body is then covered by the signature only if the
	// request carried X-Amz-Content-Sha256 as a signed header, and the SDK
	// moves X-Amz-* headers such as X-Amz-Target into the query string.
	Presigned bool
}

// Defaults and bounds.
const (
	DefaultService = "kms"
	DefaultMaxSkew = 15 * time.Minute

	maxAuthorizationLen = 4 << 10  // Authorization header
	maxSignedHeaders    = 64       // names in SignedHeaders
	maxSignedHeaderData = 64 << 10 // bytes of signed header values
	maxPathLen          = 8 << 10  // raw request path
	maxQueryLen         = 16 << 10 // raw query string
	maxQueryParams      = 256      // query parameters
	maxAccessKeyIDLen   = 128
	maxRegionLen        = 32
	maxTokenLen         = 8 << 10 // X-Amz-Security-Token
	maxPresignExpires   = 604800  // seconds: one week, as AWS
)

// Verifier verifies SigV4 signatures. Set the exported fields before first
// use and do not change or copy the Verifier afterwards; Verify is then safe
// for concurrent use. The zero value of every field but Source is usable.
type Verifier struct {
	// Source resolves access key ids. Required.
	Source CredentialSource
	// Service is the service name the credential scope must carry;
	// DefaultService ("kms") when empty.
	Service string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// MaxSkew is how far X-Amz-Date may be from Now, either way;
	// DefaultMaxSkew (15 minutes, as AWS) when zero or negative.
	MaxSkew time.Duration

	keys keyCache
}

// Verify checks the SigV4 signature of r, whose body the caller has already
// read (and bounded) into body. It reads r and never modifies it. The
// credential is looked up with r.Context().
//
// Every error is either a *kmserr.Error with the exception AWS returns for
// the same failure (MissingAuthenticationTokenException,
// IncompleteSignatureException, InvalidSignatureException,
// UnrecognizedClientException), or, when the CredentialSource fails for
// another reason than ErrUnknownAccessKey, an error from kmserr.Internal.
// No error or message contains the secret or the expected signature.
func (v *Verifier) Verify(r *http.Request, body []byte) (Result, error) {
	if v.Source == nil {
		return Result{}, kmserr.Internal(errors.New("sigv4: Verifier.Source is nil"))
	}
	rawQuery := r.URL.RawQuery
	if len(rawQuery) > maxQueryLen {
		return Result{}, incomplete("The query string exceeds %d bytes.", maxQueryLen)
	}
	query, err := parseQuery(rawQuery)
	if err != nil {
		return Result{}, err
	}
	p, err := parseAuth(r, query)
	if err != nil {
		return Result{}, err
	}

	service := v.Service
	if service == "" {
		service = DefaultService
	}
	if err := p.checkScope(service); err != nil {
		return Result{}, err
	}
	if err := v.checkTime(&p); err != nil {
		return Result{}, err
	}
	if err := checkSignedHeaders(p.signedHeaders); err != nil {
		return Result{}, err
	}

	var payload [64]byte
	payloadHash, err := payloadHash(r, body, p.presigned, &payload)
	if err != nil {
		return Result{}, err
	}

	cred, err := v.Source.LookupAccessKey(r.Context(), p.accessKeyID)
	if err != nil {
		if errors.Is(err, ErrUnknownAccessKey) {
			return Result{}, invalidToken()
		}
		return Result{}, kmserr.Internal(fmt.Errorf("sigv4: looking up access key: %w", err))
	}
	if cred.Secret.IsZero() {
		return Result{}, kmserr.Internal(errors.New("sigv4: credential source returned an empty secret"))
	}
	if !tokenMatches(p.token, p.hasToken, cred.SessionToken) {
		return Result{}, invalidToken()
	}

	sig, ok := decodeSignature(p.signature)
	if !ok {
		return Result{}, mismatch()
	}
	key, cached := v.keys.get(p.accessKeyID, p.scopeDate, p.region, p.service, cred.Secret.b)
	if !cached {
		key = deriveSigningKey(cred.Secret.b, p.scopeDate, p.region, p.service)
	}

	path := requestPath(r)
	if len(path) > maxPathLen {
		return Result{}, incomplete("The request path exceeds %d bytes.", maxPathLen)
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	good, err := signatureMatches(bp, key, sig, r, path, query, &p, payloadHash)
	if err == nil && !good {
		// AWS services normalise the path (RFC 3986 dot segments, repeated
		// slashes) before signing; the Go SDK signs it as sent. Accept both.
		if norm := normalizePath(path); norm != path {
			good, err = signatureMatches(bp, key, sig, r, norm, query, &p, payloadHash)
		}
	}
	if err != nil {
		return Result{}, err
	}
	if !good {
		return Result{}, mismatch()
	}
	if !cached {
		// Only keys that verified a signature are cached, so unauthenticated
		// callers cannot churn the cache.
		v.keys.put(p.accessKeyID, p.scopeDate, p.region, p.service, cred.Secret.b, key)
	}

	pr := cred.Principal
	pr.AccessKeyID = p.accessKeyID
	return Result{Principal: pr, Region: p.region, AccessKeyID: p.accessKeyID, Presigned: p.presigned}, nil
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// checkTime applies the clock-skew window and, for pre-signed requests with
// X-Amz-Expires, the expiry.
func (v *Verifier) checkTime(p *authParams) error {
	t, err := time.Parse(amzDateLayout, p.amzDate)
	if err != nil {
		return badDate(p.amzDate)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	n := now().UTC().Truncate(time.Second)
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	if lim := n.Add(skew); t.After(lim) {
		return kmserr.New(kmserr.InvalidSignature, "Signature not yet current: %s is still later than %s (%s + %s)",
			p.amzDate, lim.Format(amzDateLayout), n.Format(amzDateLayout), durationText(skew))
	}
	window := skew
	if p.presigned && p.expires >= 0 {
		window = time.Duration(p.expires) * time.Second
	}
	if lim := n.Add(-window); t.Before(lim) {
		return kmserr.New(kmserr.InvalidSignature, "Signature expired: %s is now earlier than %s (%s - %s)",
			p.amzDate, lim.Format(amzDateLayout), n.Format(amzDateLayout), durationText(window))
	}
	return nil
}

// durationText renders d as AWS does in skew messages ("15 min.").
func durationText(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%d min.", d/time.Minute)
	}
	return fmt.Sprintf("%d sec.", d/time.Second)
}

// tokenMatches applies the session-token rule: a credential with a token
// requires the same token; one without rejects any token.
func tokenMatches(got string, present bool, want string) bool {
	if want == "" {
		return !present
	}
	return present && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// payloadHash returns the hash that goes into the canonical request, writing
// the hex digest of body into buf when it is needed.
func payloadHash(r *http.Request, body []byte, presigned bool, buf *[64]byte) ([]byte, error) {
	claimed, ok := r.Header["X-Amz-Content-Sha256"]
	if !ok || len(claimed) == 0 {
		if presigned {
			return []byte(unsignedPayload), nil
		}
		hexSum(buf, body)
		return buf[:], nil
	}
	if len(claimed) == 1 {
		if presigned && claimed[0] == unsignedPayload {
			return []byte(unsignedPayload), nil
		}
		hexSum(buf, body)
		if claimed[0] == string(buf[:]) {
			return buf[:], nil
		}
	}
	return nil, kmserr.New(kmserr.InvalidSignature, "The provided 'x-amz-content-sha256' header does not match what was computed.")
}

const unsignedPayload = "UNSIGNED-PAYLOAD"

func hexSum(dst *[64]byte, b []byte) {
	sum := sha256.Sum256(b)
	hexEncode(dst[:], sum[:])
}

const hexDigits = "0123456789abcdef"

func hexEncode(dst, src []byte) {
	for i, c := range src {
		dst[2*i] = hexDigits[c>>4]
		dst[2*i+1] = hexDigits[c&0x0f]
	}
}

// decodeSignature parses exactly 64 lowercase hex digits, as the SDKs send.
func decodeSignature(s string) (sig [sha256.Size]byte, ok bool) {
	if len(s) != 2*sha256.Size {
		return sig, false
	}
	for i := 0; i < len(s); i += 2 {
		hi, ok1 := fromHex(s[i])
		lo, ok2 := fromHex(s[i+1])
		if !ok1 || !ok2 {
			return sig, false
		}
		sig[i/2] = hi<<4 | lo
	}
	return sig, true
}

func fromHex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
