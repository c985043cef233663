package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openkms/openkms/internal/kmserr"
)

const (
	msgExpired   = "Signature expired: 20260101T120000Z is now earlier than 20260101T120100Z (20260101T121600Z - 15 min.)"
	msgNotYet    = "Signature not yet current: 20260101T120000Z is still later than 20260101T115900Z (20260101T114400Z + 15 min.)"
	msgBadDate   = "Date must be in ISO-8601 'basic format'. Got '2026-01-01T12:00:00Z'. See http://en.wikipedia.org/wiki/ISO_8601"
	msgPayload   = "The provided 'x-amz-content-sha256' header does not match what was computed."
	msgMissingCS = "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
		"Authorization header requires 'SignedHeaders' parameter."
)

// TestVerifyAcceptsSDKSignedRequest signs a KMS Encrypt request with the
// SDK's SignHTTP and checks who Verify says signed it.
func TestVerifyAcceptsSDKSignedRequest(t *testing.T) {
	for _, region := range []string{"us-east-1", "eu-central-1", "us-gov-west-1", "local"} {
		t.Run(region, func(t *testing.T) {
			spec := defaultSpec()
			spec.region = region
			r, body := spec.sign(t)
			v := &Verifier{Source: testSource(), Service: "kms", Now: fixedClock(testTime.Add(30 * time.Second))}
			res, err := v.Verify(r, body)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			want := testPrincipal
			want.AccessKeyID = testAKID
			if res.Principal != want {
				t.Errorf("Principal = %+v, want %+v", res.Principal, want)
			}
			if res.Region != region || res.AccessKeyID != testAKID || res.Presigned {
				t.Errorf("Result = %+v, want region %s, key %s, not presigned", res, region, testAKID)
			}
		})
	}
}

// verifyCase mutates a freshly signed request (r is as the server received
// it) and states the outcome. An empty code means success.
type verifyCase struct {
	name   string
	spec   func(*signSpec)
	mutate func(r *http.Request, body []byte) []byte
	src    func(mapSource)
	now    time.Time // zero: 30 s after signing
	code   kmserr.Code
	msg    string
}

func runCases(t *testing.T, presignExpires int, cases []verifyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := defaultSpec()
			if tc.spec != nil {
				tc.spec(&spec)
			}
			var r *http.Request
			var body []byte
			if presignExpires == -2 {
				r, body = spec.sign(t)
			} else {
				r, body = spec.presign(t, presignExpires)
			}
			if tc.mutate != nil {
				body = tc.mutate(r, body)
			}
			src := testSource()
			if tc.src != nil {
				tc.src(src)
			}
			now := tc.now
			if now.IsZero() {
				now = testTime.Add(30 * time.Second)
			}
			v := &Verifier{Source: src, Now: fixedClock(now)}
			res, err := v.Verify(r, body)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if res.AccessKeyID != testAKID || res.Principal.ARN != testPrincipal.ARN {
					t.Errorf("Result = %+v", res)
				}
				return
			}
			if err == nil {
				t.Fatalf("Verify succeeded, want %s", tc.code)
			}
			checkErr(t, err, tc.code, tc.msg)
		})
	}
}

func setAuth(f func(string) string) func(*http.Request, []byte) []byte {
	return func(r *http.Request, body []byte) []byte {
		r.Header.Set("Authorization", f(r.Header.Get("Authorization")))
		return body
	}
}

func replaceAuth(old, new string) func(*http.Request, []byte) []byte {
	return setAuth(func(h string) string { return strings.Replace(h, old, new, 1) })
}

func TestVerifyHeaderForm(t *testing.T) {
	otherSecret := func(m mapSource) {
		c := m[testAKID]
		c.Secret = NewSecret("AnotherSecretAnotherSecretAnotherSecret0")
		m[testAKID] = c
	}
	withToken := func(tok string) func(*signSpec) {
		return func(s *signSpec) { s.creds.SessionToken = tok }
	}
	credToken := func(tok string) func(mapSource) {
		return func(m mapSource) {
			c := m[testAKID]
			c.SessionToken = tok
			m[testAKID] = c
		}
	}
	manyHeaders := "host"
	for i := range maxSignedHeaders {
		manyHeaders += fmt.Sprintf(";x-h%02d", i)
	}

	runCases(t, -2, []verifyCase{
		{name: "valid"},
		{name: "at skew limit, past", now: testTime.Add(15 * time.Minute)},
		{name: "at skew limit, future", now: testTime.Add(-15 * time.Minute)},
		{name: "unsigned header changed", mutate: func(r *http.Request, b []byte) []byte {
			r.Header.Set("User-Agent", "something-else/1.0")
			r.Header.Set("X-Forwarded-For", "192.0.2.1")
			return b
		}},
		{name: "no spaces after commas", mutate: setAuth(func(h string) string { return strings.ReplaceAll(h, ", ", ",") })},
		{name: "more spaces around commas", mutate: setAuth(func(h string) string { return strings.ReplaceAll(h, ", ", " ,  \t") })},
		{name: "parameters in another order", mutate: setAuth(func(h string) string {
			rest := strings.TrimPrefix(h, algorithm+" ")
			parts := strings.Split(rest, ", ")
			return algorithm + " " + parts[2] + ", " + parts[0] + ", " + parts[1]
		})},
		{name: "header values with runs of spaces and several lines", spec: func(s *signSpec) {
			s.header["X-Custom"] = []string{"a   b  c", " d\t e "}
			s.header.Set("X-Tab", "x\t\ty")
		}},
		{name: "several header lines, reordered", spec: func(s *signSpec) { s.header["X-Custom"] = []string{"1", "2"} },
			mutate: func(r *http.Request, b []byte) []byte { r.Header["X-Custom"] = []string{"2", "1"}; return b },
			code:   kmserr.InvalidSignature, msg: msgMismatch},
		{name: "query reordered on the wire", spec: func(s *signSpec) { s.url += "?b=2&a=1" },
			mutate: func(r *http.Request, b []byte) []byte {
				r.URL.RawQuery, r.RequestURI = "b=2&a=1", "/?b=2&a=1"
				return b
			}},

		{name: "tampered body", mutate: func(r *http.Request, b []byte) []byte {
			return bytes.Replace(b, []byte("alias/test"), []byte("alias/evil"), 1)
		},
			code: kmserr.InvalidSignature, msg: msgMismatch},
		{name: "tampered signed header", mutate: func(r *http.Request, b []byte) []byte { r.Header.Set("X-Amz-Target", "TrentService.Decrypt"); return b },
			code: kmserr.InvalidSignature, msg: msgMismatch},
		{name: "tampered host", mutate: func(r *http.Request, b []byte) []byte { r.Host = "kms.example.net"; return b },
			code: kmserr.InvalidSignature, msg: msgMismatch},
		{name: "tampered method", mutate: func(r *http.Request, b []byte) []byte { r.Method = http.MethodPut; return b },
			code: kmserr.InvalidSignature, msg: msgMismatch},
		{name: "tampered path", mutate: func(r *http.Request, b []byte) []byte { r.RequestURI = "/x"; return b },
			code: kmserr.InvalidSignature, msg: msgMismatch},
		{name: "query added", mutate: func(r *http.Request, b []byte) []byte { setQuery(r, "a", "1"); return b },
			code: kmserr.InvalidSignature, msg: msgMismatch},
		{name: "wrong secret", src: otherSecret, code: kmserr.InvalidSignature, msg: msgMismatch},
		{name: "unknown access key", src: func(m mapSource) { delete(m, testAKID) },
			code: kmserr.UnrecognizedClient, msg: msgInvalidToken},
		{name: "expired", now: testTime.Add(16 * time.Minute), code: kmserr.InvalidSignature, msg: msgExpired},
		{name: "future", now: testTime.Add(-16 * time.Minute), code: kmserr.InvalidSignature, msg: msgNotYet},
		{name: "wrong service", spec: func(s *signSpec) { s.service = "s3" },
			code: kmserr.InvalidSignature, msg: "Credential should be scoped to correct service: 'kms'."},
		{name: "invalid region", spec: func(s *signSpec) { s.region = "US_EAST_1" },
			code: kmserr.InvalidSignature, msg: "Credential should be scoped to a valid region, not 'US_EAST_1'."},
		{name: "region too long", spec: func(s *signSpec) { s.region = strings.Repeat("a", 33) },
			code: kmserr.InvalidSignature, msg: "Credential should be scoped to a valid region*"},
		{name: "scope date differs from X-Amz-Date", mutate: replaceAuth("/20260101/", "/20251231/"),
			code: kmserr.InvalidSignature,
			msg:  "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20251231' != '20260101', from '20260101T120000Z'."},
		{name: "wrong terminator", mutate: replaceAuth("/aws4_request", "/aws5_request"),
			code: kmserr.InvalidSignature, msg: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'."},
		{name: "host not signed", mutate: replaceAuth(";host;", ";"), code: kmserr.IncompleteSignature, msg: msgHostNotSigned},

		{name: "no authentication", mutate: func(r *http.Request, b []byte) []byte { r.Header.Del("Authorization"); return b },
			code: kmserr.MissingAuthenticationTok, msg: msgMissingToken},
		{name: "empty Authorization", mutate: setAuth(func(string) string { return "" }),
			code: kmserr.IncompleteSignature, msg: msgMissingCS + " Authorization="},
		{name: "bearer token", mutate: setAuth(func(string) string { return "Bearer eyJhbGciOi" }),
			code: kmserr.IncompleteSignature, msg: msgMissingCS + " Authorization=Bearer eyJhbGciOi"},
		{name: "SigV4a", mutate: replaceAuth("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"),
			code: kmserr.IncompleteSignature, msg: msgMissingCS + "*"},
		{name: "algorithm glued to parameters", mutate: replaceAuth("AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256"),
			code: kmserr.IncompleteSignature, msg: msgMissingCS + "*"},
		{name: "missing Signature", mutate: setAuth(func(h string) string { i := strings.Index(h, ", Signature="); return h[:i] }),
			code: kmserr.IncompleteSignature, msg: "Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 Credential=*"},
		{name: "empty SignedHeaders", mutate: setAuth(func(h string) string {
			i, j := strings.Index(h, "SignedHeaders="), strings.Index(h, ", Signature=")
			return h[:i] + "SignedHeaders=" + h[j:]
		}), code: kmserr.IncompleteSignature, msg: "Authorization header requires 'SignedHeaders' parameter.*"},
		{name: "space after equal sign", mutate: replaceAuth("Credential=", "Credential= "),
			code: kmserr.IncompleteSignature, msg: "'" + testAKID + "/20260101/us-east-1/kms/aws4_request' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 Credential= *"},
		{name: "duplicate parameter", mutate: setAuth(func(h string) string { return h + ", Signature=00" }),
			code: kmserr.IncompleteSignature, msg: "Authorization header has more than one 'Signature' parameter*"},
		{name: "unknown parameter", mutate: setAuth(func(h string) string { return h + ", Foo=bar" }),
			code: kmserr.IncompleteSignature, msg: "'Foo' is not a valid parameter in Authorization header*"},
		{name: "lowercase parameter name", mutate: replaceAuth("Credential=", "credential="),
			code: kmserr.IncompleteSignature, msg: "'credential' is not a valid parameter*"},
		{name: "credential with 4 elements", mutate: replaceAuth("/kms/", "/"),
			code: kmserr.IncompleteSignature, msg: "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '" + testAKID + "/20260101/us-east-1/aws4_request'"},
		{name: "credential with 6 elements", mutate: replaceAuth("Credential=", "Credential=x/"),
			code: kmserr.IncompleteSignature, msg: "Credential must have exactly 5 slash-delimited elements*"},
		{name: "empty access key id", mutate: replaceAuth("Credential="+testAKID, "Credential="),
			code: kmserr.UnrecognizedClient, msg: msgInvalidToken},
		{name: "access key id too long", mutate: replaceAuth("Credential="+testAKID, "Credential="+strings.Repeat("A", 129)),
			code: kmserr.UnrecognizedClient, msg: msgInvalidToken},
		{name: "SignedHeaders unsorted", mutate: replaceAuth("content-length;content-type", "content-type;content-length"),
			code: kmserr.IncompleteSignature, msg: "SignedHeaders must be a sorted, semicolon-separated list of unique lowercase header names*"},
		{name: "SignedHeaders duplicated", mutate: replaceAuth("host;", "host;host;"),
			code: kmserr.IncompleteSignature, msg: "SignedHeaders must be a sorted*"},
		{name: "SignedHeaders upper case", mutate: replaceAuth("host;", "Host;"),
			code: kmserr.IncompleteSignature, msg: "SignedHeaders must be a sorted*"},
		{name: "SignedHeaders empty name", mutate: replaceAuth("host;", "host;;"),
			code: kmserr.IncompleteSignature, msg: "SignedHeaders must be a sorted*"},
		{name: "too many SignedHeaders", mutate: setAuth(func(h string) string {
			i, j := strings.Index(h, "SignedHeaders="), strings.Index(h, ", Signature=")
			return h[:i] + "SignedHeaders=" + manyHeaders + h[j:]
		}), code: kmserr.IncompleteSignature, msg: "SignedHeaders must not name more than 64 headers."},
		{name: "Authorization too long", mutate: setAuth(func(h string) string { return h + strings.Repeat(" ", maxAuthorizationLen) }),
			code: kmserr.IncompleteSignature, msg: "The Authorization header exceeds 4096 bytes."},
		{name: "two Authorization headers", mutate: func(r *http.Request, b []byte) []byte {
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
			return b
		}, code: kmserr.IncompleteSignature, msg: "The request must carry exactly one Authorization header."},
		{name: "signature upper case", mutate: setAuth(func(h string) string {
			i := strings.Index(h, "Signature=") + len("Signature=")
			return h[:i] + strings.ToUpper(h[i:])
		}), code: kmserr.InvalidSignature, msg: msgMismatch},
		{name: "signature truncated", mutate: setAuth(func(h string) string { return h[:len(h)-2] }),
			code: kmserr.InvalidSignature, msg: msgMismatch},
		{name: "signature not hex", mutate: setAuth(func(h string) string { return h[:len(h)-1] + "g" }),
			code: kmserr.InvalidSignature, msg: msgMismatch},

		{name: "no date", mutate: func(r *http.Request, b []byte) []byte { r.Header.Del("X-Amz-Date"); return b },
			code: kmserr.IncompleteSignature, msg: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256*"},
		{name: "date not in basic format", mutate: func(r *http.Request, b []byte) []byte { r.Header.Set("X-Amz-Date", "2026-01-01T12:00:00Z"); return b },
			code: kmserr.IncompleteSignature, msg: msgBadDate},
		{name: "date out of range", mutate: func(r *http.Request, b []byte) []byte { r.Header.Set("X-Amz-Date", "20260101T250000Z"); return b },
			code: kmserr.IncompleteSignature, msg: "Date must be in ISO-8601 'basic format'. Got '20260101T250000Z'.*"},
		{name: "two dates", mutate: func(r *http.Request, b []byte) []byte { r.Header.Add("X-Amz-Date", "20260101T120000Z"); return b },
			code: kmserr.IncompleteSignature, msg: "The request must carry at most one 'X-Amz-Date' header."},

		{name: "session token", spec: withToken("token-1"), src: credToken("token-1")},
		{name: "session token missing", src: credToken("token-1"), code: kmserr.UnrecognizedClient, msg: msgInvalidToken},
		{name: "session token mismatch", spec: withToken("token-2"), src: credToken("token-1"),
			code: kmserr.UnrecognizedClient, msg: msgInvalidToken},
		{name: "session token extra", spec: withToken("token-1"), code: kmserr.UnrecognizedClient, msg: msgInvalidToken},
		{name: "session token empty but present", spec: withToken("token-1"), src: credToken("token-1"),
			mutate: func(r *http.Request, b []byte) []byte { r.Header.Set("X-Amz-Security-Token", ""); return b },
			code:   kmserr.UnrecognizedClient, msg: msgInvalidToken},
		{name: "session token twice", spec: withToken("token-1"), src: credToken("token-1"),
			mutate: func(r *http.Request, b []byte) []byte { r.Header.Add("X-Amz-Security-Token", "token-1"); return b },
			code:   kmserr.UnrecognizedClient, msg: msgInvalidToken},

		{name: "content sha256 signed", spec: func(s *signSpec) {
			sum := sha256.Sum256(s.body)
			s.header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
		}},
		{name: "content sha256 wrong", spec: func(s *signSpec) {
			s.payloadHash = strings.Repeat("ab", 32)
			s.header.Set("X-Amz-Content-Sha256", s.payloadHash)
		}, code: kmserr.InvalidSignature, msg: msgPayload},
		{name: "content sha256 unsigned payload", spec: func(s *signSpec) {
			s.payloadHash = unsignedPayload
			s.header.Set("X-Amz-Content-Sha256", unsignedPayload)
		}, code: kmserr.InvalidSignature, msg: msgPayload},
		{name: "body replaced with matching content sha256", spec: func(s *signSpec) {
			sum := sha256.Sum256(s.body)
			s.header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
		}, mutate: func(r *http.Request, _ []byte) []byte {
			b := []byte(`{"KeyId":"alias/evil"}`)
			sum := sha256.Sum256(b)
			r.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
			return b
		}, code: kmserr.InvalidSignature, msg: msgMismatch},
	})
}

func TestVerifyPresigned(t *testing.T) {
	t.Run("accepted", func(t *testing.T) {
		r, body := defaultSpec().presign(t, 300)
		v := &Verifier{Source: testSource(), Now: fixedClock(testTime.Add(4 * time.Minute))}
		res, err := v.Verify(r, body)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if !res.Presigned || res.Region != testRegion || res.Principal.ARN != testPrincipal.ARN {
			t.Errorf("Result = %+v", res)
		}
		// The SDK moves X-Amz-Target into the query string.
		if got := r.URL.Query().Get("X-Amz-Target"); got != "TrentService.Encrypt" {
			t.Errorf("X-Amz-Target in query = %q", got)
		}
	})

	const week = 604800
	runCases(t, 90, []verifyCase{
		{name: "valid"},
		{name: "at expiry", now: testTime.Add(90 * time.Second)},
		{name: "expired", now: testTime.Add(91 * time.Second), code: kmserr.InvalidSignature,
			msg: "Signature expired: 20260101T120000Z is now earlier than 20260101T120001Z (20260101T120131Z - 90 sec.)"},
		{name: "future", now: testTime.Add(-16 * time.Minute), code: kmserr.InvalidSignature, msg: msgNotYet},
		{name: "body is not signed", mutate: func(r *http.Request, b []byte) []byte { return []byte(`{"other":1}`) }},
		{name: "body signed by content sha256", spec: func(s *signSpec) {
			sum := sha256.Sum256(s.body)
			s.header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
		}, mutate: func(r *http.Request, b []byte) []byte { return []byte(`{"other":1}`) },
			code: kmserr.InvalidSignature, msg: msgPayload},
		{name: "tampered hoisted header", mutate: func(r *http.Request, b []byte) []byte { setQuery(r, "X-Amz-Target", "TrentService.Decrypt"); return b },
			code: kmserr.InvalidSignature, msg: msgMismatch},
		{name: "tampered signed header", mutate: func(r *http.Request, b []byte) []byte { r.Header.Set("Content-Type", "text/plain"); return b },
			code: kmserr.InvalidSignature, msg: msgMismatch},
		{name: "expires raised", mutate: func(r *http.Request, b []byte) []byte { setQuery(r, "X-Amz-Expires", "3600"); return b },
			code: kmserr.InvalidSignature, msg: msgMismatch},
		{name: "expires over a week", mutate: func(r *http.Request, b []byte) []byte { setQuery(r, "X-Amz-Expires", fmt.Sprint(week+1)); return b },
			code: kmserr.IncompleteSignature, msg: "X-Amz-Expires must be less than a week (in seconds) that is 604800."},
		{name: "expires not a number", mutate: func(r *http.Request, b []byte) []byte { setQuery(r, "X-Amz-Expires", "-1"); return b },
			code: kmserr.IncompleteSignature, msg: "X-Amz-Expires should be a number of seconds, got '-1'."},
		{name: "signature missing", mutate: func(r *http.Request, b []byte) []byte { delQuery(r, "X-Amz-Signature"); return b },
			code: kmserr.IncompleteSignature, msg: "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders', 'X-Amz-Date'. Re-examine the query-string parameters."},
		{name: "date missing", mutate: func(r *http.Request, b []byte) []byte { delQuery(r, "X-Amz-Date"); return b },
			code: kmserr.IncompleteSignature, msg: "AWS query-string parameters must include*"},
		{name: "other algorithm", mutate: func(r *http.Request, b []byte) []byte { setQuery(r, "X-Amz-Algorithm", "AWS4-HMAC-SHA1"); return b },
			code: kmserr.IncompleteSignature, msg: "X-Amz-Algorithm only supports 'AWS4-HMAC-SHA256'."},
		{name: "duplicate parameter", mutate: func(r *http.Request, b []byte) []byte {
			r.URL.RawQuery += "&X-Amz-Signature=00"
			r.RequestURI = r.URL.RequestURI()
			return b
		}, code: kmserr.IncompleteSignature, msg: "The query string has more than one 'X-Amz-Signature' parameter."},
		{name: "also an Authorization header", mutate: func(r *http.Request, b []byte) []byte {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 x=y")
			return b
		},
			code: kmserr.IncompleteSignature, msg: "Only one auth mechanism allowed*"},
		{name: "wrong secret", src: func(m mapSource) {
			c := m[testAKID]
			c.Secret = NewSecret("x")
			m[testAKID] = c
		}, code: kmserr.InvalidSignature, msg: msgMismatch},
		{name: "wrong service", spec: func(s *signSpec) { s.service = "sts" },
			code: kmserr.InvalidSignature, msg: "Credential should be scoped to correct service: 'kms'."},
		{name: "session token", spec: func(s *signSpec) { s.creds.SessionToken = "tok" }, src: func(m mapSource) {
			c := m[testAKID]
			c.SessionToken = "tok"
			m[testAKID] = c
		}},
		{name: "session token mismatch", spec: func(s *signSpec) { s.creds.SessionToken = "tok" }, src: func(m mapSource) {
			c := m[testAKID]
			c.SessionToken = "other"
			m[testAKID] = c
		}, code: kmserr.UnrecognizedClient, msg: msgInvalidToken},
		{name: "session token extra", spec: func(s *signSpec) { s.creds.SessionToken = "tok" },
			code: kmserr.UnrecognizedClient, msg: msgInvalidToken},
		{name: "session token header disagrees", spec: func(s *signSpec) { s.creds.SessionToken = "tok" }, src: func(m mapSource) {
			c := m[testAKID]
			c.SessionToken = "tok"
			m[testAKID] = c
		}, mutate: func(r *http.Request, b []byte) []byte { r.Header.Set("X-Amz-Security-Token", "other"); return b },
			code: kmserr.UnrecognizedClient, msg: msgInvalidToken},
	})

	t.Run("without X-Amz-Expires the skew applies", func(t *testing.T) {
		r, body := defaultSpec().presign(t, -1)
		for _, tc := range []struct {
			after time.Duration
			ok    bool
		}{{10 * time.Minute, true}, {16 * time.Minute, false}} {
			v := &Verifier{Source: testSource(), Now: fixedClock(testTime.Add(tc.after))}
			_, err := v.Verify(r, body)
			if tc.ok && err != nil {
				t.Errorf("after %v: %v", tc.after, err)
			}
			if !tc.ok {
				checkErr(t, err, kmserr.InvalidSignature, msgExpired)
			}
		}
	})
}

// TestVerifyPaths signs unusual paths and query strings with the SDK.
func TestVerifyPaths(t *testing.T) {
	for _, u := range []string{
		"https://kms.us-east-1.amazonaws.com",
		"https://kms.us-east-1.amazonaws.com/",
		"https://kms.us-east-1.amazonaws.com/a%20b/c+d/%E2%82%AC/~x/-._",
		"https://kms.us-east-1.amazonaws.com/%2F%25%3F/x",
		"https://kms.us-east-1.amazonaws.com/foo/./bar/../baz",
		"https://kms.us-east-1.amazonaws.com//double//slash/",
		"https://kms.us-east-1.amazonaws.com/ሴ/🔑",
		"https://kms.us-east-1.amazonaws.com/?b=2&a=1&a=0&A=3",
		"https://kms.us-east-1.amazonaws.com/p?sp=x%20y&plus=a%2Bb&space=a+b&empty=&novalue",
		"https://kms.us-east-1.amazonaws.com/p?%E1%88%B4=%E2%82%AC&z=%7E&star=*&slash=a/b&colon=a:b&pct=%25",
		"https://kms.us-east-1.amazonaws.com:8443/port",
		"http://127.0.0.1:8080/",
		"https://[::1]:8443/",
	} {
		t.Run(u, func(t *testing.T) {
			spec := defaultSpec()
			spec.url = u
			r, body := spec.sign(t)
			v := &Verifier{Source: testSource(), Now: fixedClock(testTime)}
			if _, err := v.Verify(r, body); err != nil {
				t.Fatalf("Verify: %v\nrequest URI %q", err, r.RequestURI)
			}
			if u != "https://kms.us-east-1.amazonaws.com" {
				r2, body := spec.sign(t)
				r2.RequestURI = strings.Replace(r2.RequestURI, "/", "/z/", 1)
				if _, err := v.Verify(r2, body); !kmserr.Is(err, kmserr.InvalidSignature) {
					t.Errorf("changed path: err = %v, want InvalidSignatureException", err)
				}
			}
		})
	}
}

// TestVerifyErrorsDoNotLeakExpectedSignature checks that the signature the
// verifier computed for a tampered request appears in no message.
func TestVerifyErrorsDoNotLeakExpectedSignature(t *testing.T) {
	tampered := defaultSpec()
	tampered.body = []byte(`{"KeyId":"alias/evil"}`)
	want, _ := tampered.sign(t)
	expected := signatureOf(t, want)

	r, _ := defaultSpec().sign(t)
	v := &Verifier{Source: testSource(), Now: fixedClock(testTime)}
	_, err := v.Verify(r, tampered.body)
	checkErr(t, err, kmserr.InvalidSignature, msgMismatch)
	if strings.Contains(err.Error(), expected) {
		t.Errorf("error %q contains the expected signature", err)
	}
}

func TestVerifyInternalErrors(t *testing.T) {
	r, body := defaultSpec().sign(t)
	for name, v := range map[string]*Verifier{
		"nil source":   {Now: fixedClock(testTime)},
		"source fails": {Source: failingSource{}, Now: fixedClock(testTime)},
		"empty secret": {Source: mapSource{testAKID: {Principal: testPrincipal}}, Now: fixedClock(testTime)},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := v.Verify(r, body)
			if err == nil {
				t.Fatal("Verify succeeded")
			}
			var ke *kmserr.Error
			if errors.As(err, &ke) {
				t.Fatalf("err = %v, want a server fault, not a client error", err)
			}
			if got := kmserr.As(err); got.Code != kmserr.KMSInternal || !got.Server {
				t.Errorf("kmserr.As = %+v", got)
			}
		})
	}
}

type failingSource struct{}

func (failingSource) LookupAccessKey(context.Context, string) (Credential, error) {
	return Credential{}, errors.New("database is down")
}

// TestKeyCacheFollowsSecretRotation checks that a cached signing key is not
// used once the access key's secret changes.
func TestKeyCacheFollowsSecretRotation(t *testing.T) {
	src := testSource()
	v := &Verifier{Source: src, Now: fixedClock(testTime)}
	oldReq, oldBody := defaultSpec().sign(t)
	if _, err := v.Verify(oldReq, oldBody); err != nil {
		t.Fatal(err)
	}
	if _, ok := v.keys.get(testAKID, "20260101", testRegion, "kms", src[testAKID].Secret.b); !ok {
		t.Fatal("signing key was not cached")
	}

	const rotated = "RotatedSecretRotatedSecretRotatedSecret0"
	c := src[testAKID]
	c.Secret = NewSecret(rotated)
	src[testAKID] = c

	oldReq, oldBody = defaultSpec().sign(t)
	_, err := v.Verify(oldReq, oldBody)
	checkErr(t, err, kmserr.InvalidSignature, msgMismatch)

	spec := defaultSpec()
	spec.creds.SecretAccessKey = rotated
	newReq, newBody := spec.sign(t)
	if _, err := v.Verify(newReq, newBody); err != nil {
		t.Fatalf("new secret: %v", err)
	}
}

func TestKeyCacheIsBounded(t *testing.T) {
	var c keyCache
	secret := []byte("s")
	for i := range keyCacheSize + 10 {
		c.put(fmt.Sprint(i), "20260101", "r", "kms", secret, [32]byte{byte(i)})
		if n := len(c.m); n > keyCacheSize {
			t.Fatalf("cache holds %d keys, bound is %d", n, keyCacheSize)
		}
	}
	last := keyCacheSize + 9
	if k, ok := c.get(fmt.Sprint(last), "20260101", "r", "kms", secret); !ok || k[0] != byte(last) {
		t.Errorf("latest key missing")
	}
	if _, ok := c.get(fmt.Sprint(last), "20260101", "r", "kms", []byte("t")); ok {
		t.Errorf("key served for another secret")
	}
}

// TestFailedVerificationIsNotCached checks that signatures that fail do not
// fill the cache.
func TestFailedVerificationIsNotCached(t *testing.T) {
	v := &Verifier{Source: testSource(), Now: fixedClock(testTime)}
	r, _ := defaultSpec().sign(t)
	_, err := v.Verify(r, []byte("tampered"))
	checkErr(t, err, kmserr.InvalidSignature, msgMismatch)
	if len(v.keys.m) != 0 {
		t.Errorf("cache has %d entries after a failed verification", len(v.keys.m))
	}
}

func TestVerifyConcurrent(t *testing.T) {
	v := &Verifier{Source: testSource(), Now: fixedClock(testTime)}
	good, goodBody := defaultSpec().sign(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				region := fmt.Sprintf("region-%d", (i+j)%5)
				spec := defaultSpec()
				spec.region = region
				r, body := spec.sign(t)
				if j%3 == 0 {
					body = append(body, ' ')
				}
				res, err := v.Verify(r, body)
				if (err == nil) != (j%3 != 0) || (err == nil && res.Region != region) {
					t.Errorf("goroutine %d, request %d: res %+v, err %v", i, j, res, err)
				}
				if _, err := v.Verify(good, goodBody); err != nil {
					t.Errorf("shared request: %v", err)
				}
			}
		})
	}
	wg.Wait()
}

// TestVerifyDefaults checks the zero Service and MaxSkew.
func TestVerifyDefaults(t *testing.T) {
	r, body := defaultSpec().sign(t)
	v := &Verifier{Source: testSource(), Now: fixedClock(testTime.Add(14 * time.Minute))}
	if _, err := v.Verify(r, body); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	v = &Verifier{Source: testSource(), Now: fixedClock(testTime.Add(90 * time.Second)), MaxSkew: time.Minute}
	_, err := v.Verify(r, body)
	checkErr(t, err, kmserr.InvalidSignature,
		"Signature expired: 20260101T120000Z is now earlier than 20260101T120030Z (20260101T120130Z - 1 min.)")
	v = &Verifier{Source: testSource(), Now: fixedClock(testTime), Service: "service"}
	_, err = v.Verify(r, body)
	checkErr(t, err, kmserr.InvalidSignature, "Credential should be scoped to correct service: 'service'.")
}

func TestSecretIsRedacted(t *testing.T) {
	s := NewSecret(testSecret)
	c := Credential{Secret: s, Principal: testPrincipal, SessionToken: "tok"}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
		out = append(out, fmt.Sprintf(verb, s), fmt.Sprintf(verb, c), fmt.Sprintf(verb, &c))
	}
	out = append(out, s.String(), s.GoString(), fmt.Sprint(s))
	var logs bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&logs, nil))
	l.Info("x", "secret", s, "cred", c)
	l2 := slog.New(slog.NewTextHandler(&logs, nil))
	l2.Info("x", "secret", s, "cred", c)
	out = append(out, logs.String())
	hexSecret := hex.EncodeToString([]byte(testSecret))
	for _, o := range out {
		if strings.Contains(o, testSecret) || strings.Contains(o, hexSecret) || strings.Contains(o, "119 74 97") {
			t.Errorf("secret leaked: %s", o)
		}
	}
	if !s.Equal(NewSecret(testSecret)) || s.Equal(NewSecret(testSecret+"x")) || s.IsZero() || !(Secret{}).IsZero() {
		t.Error("Equal or IsZero is wrong")
	}
}

func TestNormalizePath(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "/",
		"/":                 "/",
		"/a/b":              "/a/b",
		"/a/b/":             "/a/b/",
		"//example//":       "/example/",
		"/./":               "/",
		"/example/..":       "/",
		"/a/./b/../c":       "/a/c",
		"/../../a":          "/a",
		"/a/%2E%2E/b":       "/a/%2E%2E/b",
		"/a/..b/.c/":        "/a/..b/.c/",
		"/example1/example": "/example1/example",
	} {
		if got := normalizePath(in); got != want {
			t.Errorf("normalizePath(%q) = %q, want %q", in, got, want)
		}
	}
}
