package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/openkms/openkms/internal/kmserr"
	"github.com/openkms/openkms/internal/principal"
)

const (
	testAKID   = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testRegion = "us-east-1"
	testBody   = `{"KeyId":"alias/test","Plaintext":"aGVsbG8gd29ybGQ="}`
)

// testTime is when test requests are signed; verifiers run 30 s later.
var testTime = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

var testPrincipal = principal.Principal{
	Account: "111122223333",
	ARN:     "arn:aws:iam::111122223333:user/alice",
	UserID:  "AIDAEXAMPLEALICE",
	Type:    principal.TypeIAMUser,
}

// mapSource is a CredentialSource over a map: test scaffolding for the
// interface.
type mapSource map[string]Credential

var _ CredentialSource = mapSource(nil)

func (m mapSource) LookupAccessKey(_ context.Context, id string) (Credential, error) {
	c, ok := m[id]
	if !ok {
		return Credential{}, fmt.Errorf("access key %q: %w", id, ErrUnknownAccessKey)
	}
	return c, nil
}

func testSource() mapSource {
	return mapSource{testAKID: {Secret: NewSecret(testSecret), Principal: testPrincipal}}
}

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// signSpec describes a request for the SDK signer.
type signSpec struct {
	method      string
	url         string
	body        []byte
	header      http.Header // added before signing
	creds       aws.Credentials
	service     string
	region      string
	at          time.Time
	payloadHash string // default: hex sha256(body)
}

func defaultSpec() signSpec {
	return signSpec{
		method: http.MethodPost,
		url:    "https://kms.us-east-1.amazonaws.com/",
		body:   []byte(testBody),
		header: http.Header{
			"Content-Type": {"application/x-amz-json-1.1"},
			"X-Amz-Target": {"TrentService.Encrypt"},
		},
		creds:   aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret},
		service: "kms",
		region:  testRegion,
		at:      testTime,
	}
}

func (s signSpec) clientRequest(t testing.TB) *http.Request {
	t.Helper()
	req, err := http.NewRequest(s.method, s.url, bytes.NewReader(s.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range s.header {
		req.Header[k] = append([]string(nil), vs...)
	}
	return req
}

func (s signSpec) hash() string {
	if s.payloadHash != "" {
		return s.payloadHash
	}
	sum := sha256.Sum256(s.body)
	return hex.EncodeToString(sum[:])
}

// sign signs s with the SDK's SignHTTP and returns the request as a server
// receives it, and its body.
func (s signSpec) sign(t testing.TB) (*http.Request, []byte) {
	t.Helper()
	req := s.clientRequest(t)
	if err := v4.NewSigner().SignHTTP(context.Background(), s.creds, req, s.hash(), s.service, s.region, s.at); err != nil {
		t.Fatal(err)
	}
	return overTheWire(t, req)
}

// presign presigns s with the SDK's PresignHTTP (X-Amz-Expires set to
// expires seconds unless negative) and returns the request a holder of the
// URL sends, as a server receives it.
func (s signSpec) presign(t testing.TB, expires int) (*http.Request, []byte) {
	t.Helper()
	req := s.clientRequest(t)
	if expires >= 0 {
		q := req.URL.Query()
		q.Set("X-Amz-Expires", strconv.Itoa(expires))
		req.URL.RawQuery = q.Encode()
	}
	hash := s.payloadHash
	if hash == "" {
		hash = unsignedPayload
	}
	signedURL, signedHeaders, err := v4.NewSigner().PresignHTTP(context.Background(), s.creds, req, hash, s.service, s.region, s.at)
	if err != nil {
		t.Fatal(err)
	}
	out, err := http.NewRequest(s.method, signedURL, bytes.NewReader(s.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range signedHeaders {
		if k == "Host" {
			continue
		}
		out.Header[k] = vs
	}
	return overTheWire(t, out)
}

// overTheWire serialises a client request and parses it as net/http's
// server does.
func overTheWire(t testing.TB, req *http.Request) (*http.Request, []byte) {
	t.Helper()
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		t.Fatal(err)
	}
	return parseWire(t, wire.String())
}

func parseWire(t testing.TB, wire string) (*http.Request, []byte) {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(wire)))
	if err != nil {
		t.Fatalf("parsing request: %v\n%s", err, wire)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return r, body
}

// signatureOf returns the Signature parameter of a signed request.
func signatureOf(t testing.TB, r *http.Request) string {
	t.Helper()
	if s := r.URL.Query().Get("X-Amz-Signature"); s != "" {
		return s
	}
	_, sig, ok := strings.Cut(r.Header.Get("Authorization"), "Signature=")
	if !ok {
		t.Fatal("no signature in request")
	}
	return sig
}

// setQuery replaces one query parameter of a server-side request.
func setQuery(r *http.Request, key, value string) {
	q := r.URL.Query()
	q.Set(key, value)
	r.URL.RawQuery = q.Encode()
	r.RequestURI = r.URL.RequestURI()
}

func delQuery(r *http.Request, key string) {
	q := r.URL.Query()
	q.Del(key)
	r.URL.RawQuery = q.Encode()
	r.RequestURI = r.URL.RequestURI()
}

// checkErr fails unless err is a client *kmserr.Error with the code and,
// when msg is not empty, the message (a trailing "*" matches a prefix). No
// error may carry the secret.
func checkErr(t *testing.T, err error, code kmserr.Code, msg string) {
	t.Helper()
	var ke *kmserr.Error
	if !errors.As(err, &ke) {
		t.Fatalf("error = %v (%T), want *kmserr.Error %s", err, err, code)
	}
	if ke.Code != code {
		t.Errorf("code = %s, want %s (message %q)", ke.Code, code, ke.Message)
	}
	if ke.Server || ke.Status != 0 {
		t.Errorf("Server, Status = %v, %d; want false, 0", ke.Server, ke.Status)
	}
	if prefix, ok := strings.CutSuffix(msg, "*"); ok {
		if !strings.HasPrefix(ke.Message, prefix) {
			t.Errorf("message = %q, want prefix %q", ke.Message, prefix)
		}
	} else if msg != "" && ke.Message != msg {
		t.Errorf("message = %q, want %q", ke.Message, msg)
	}
	if strings.Contains(ke.Message, testSecret) || strings.Contains(err.Error(), testSecret) {
		t.Errorf("error contains the secret: %q", ke.Message)
	}
}
