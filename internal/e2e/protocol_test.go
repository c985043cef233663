package e2e_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/openkms/openkms/internal/server/servertest"
)

// rawCall sends a hand-built AWS JSON 1.1 request, signed with the AWS SDK's
// SigV4 signer unless sign is false, and returns the status and decoded
// error body.
type rawResult struct {
	status    int
	errType   string
	message   string
	requestID string
	body      []byte
}

func rawCall(t *testing.T, endpoint, target string, body []byte, mutate func(*http.Request), signAs *aws.Credentials, at time.Time) rawResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, endpoint+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	if signAs != nil {
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(ctx, *signAs, req, hex.EncodeToString(sum[:]), "kms", servertest.Region, at); err != nil {
			t.Fatal(err)
		}
	}
	if mutate != nil {
		mutate(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := rawResult{status: resp.StatusCode, body: b, requestID: resp.Header.Get("x-amzn-RequestId")}
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &e) == nil {
		r.errType, r.message = e.Type, e.Message
	}
	return r
}

var testCreds = &aws.Credentials{AccessKeyID: servertest.AccessKeyID, SecretAccessKey: servertest.Secret}

func TestProtocolErrors(t *testing.T) {
	s, _ := start(t)
	now := time.Now()
	cases := []struct {
		name   string
		target string
		body   string
		mutate func(*http.Request)
		creds  *aws.Credentials
		at     time.Time
		status int
		code   string
	}{
		{"ok", "TrentService.ListKeys", `{}`, nil, testCreds, now, 200, ""},
		{"empty body is an empty request", "TrentService.ListKeys", ``, nil, testCreds, now, 200, ""},
		{"unknown operation", "TrentService.FlyToTheMoon", `{}`, nil, testCreds, now, 400, "UnknownOperationException"},
		{"wrong service prefix", "DynamoDB_20120810.ListTables", `{}`, nil, testCreds, now, 400, "UnknownOperationException"},
		{"missing target", "", `{}`, nil, testCreds, now, 400, "UnknownOperationException"},
		{"malformed JSON", "TrentService.ListKeys", `{"Limit":`, nil, testCreds, now, 400, "SerializationException"},
		{"wrong type", "TrentService.ListKeys", `{"Limit":"ten"}`, nil, testCreds, now, 400, "SerializationException"},
		{"bad base64", "TrentService.Decrypt", `{"CiphertextBlob":"***"}`, nil, testCreds, now, 400, "SerializationException"},
		{"unsigned", "TrentService.ListKeys", `{}`, nil, nil, now, 400, "MissingAuthenticationTokenException"},
		{"unknown access key", "TrentService.ListKeys", `{}`, nil, &aws.Credentials{AccessKeyID: "AKIAUNKNOWN000000000", SecretAccessKey: "x"}, now, 400, "UnrecognizedClientException"},
		{"wrong secret", "TrentService.ListKeys", `{}`, nil, &aws.Credentials{AccessKeyID: servertest.AccessKeyID, SecretAccessKey: "wrong"}, now, 400, "InvalidSignatureException"},
		{"stale date", "TrentService.ListKeys", `{}`, nil, testCreds, now.Add(-20 * time.Minute), 400, "InvalidSignatureException"},
		{"body changed after signing", "TrentService.ListKeys", `{}`, func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(`{"Limit":1}`))
			r.ContentLength = 11
		}, testCreds, now, 400, "InvalidSignatureException"},
	}
	uuidV4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := rawCall(t, s.Endpoint, tc.target, []byte(tc.body), tc.mutate, tc.creds, tc.at)
			if r.status != tc.status || r.errType != tc.code {
				t.Fatalf("got %d %s (%s), want %d %s", r.status, r.errType, r.message, tc.status, tc.code)
			}
			if !uuidV4.MatchString(r.requestID) {
				t.Errorf("x-amzn-RequestId: got %q, want a version 4 UUID", r.requestID)
			}
		})
	}
}

func TestOversizedBody(t *testing.T) {
	s, _ := start(t)
	big := []byte(`{"Description":"` + strings.Repeat("x", 300<<10) + `"}`)
	r := rawCall(t, s.Endpoint, "TrentService.CreateKey", big, nil, testCreds, time.Now())
	if r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("got %d %s, want 413", r.status, r.errType)
	}
}

func TestErrorsCarryNoInternals(t *testing.T) {
	s, _ := start(t)
	r := rawCall(t, s.Endpoint, "TrentService.Decrypt", []byte(`{"CiphertextBlob":"AAAA"}`), nil, testCreds, time.Now())
	if r.status != 400 || r.errType != "InvalidCiphertextException" {
		t.Fatalf("got %d %s, want 400 InvalidCiphertextException", r.status, r.errType)
	}
	for _, bad := range []string{"goroutine", ".go:", "panic", "storage:", "bbolt"} {
		if strings.Contains(string(r.body), bad) {
			t.Errorf("error body %s contains %q", r.body, bad)
		}
	}
}

func TestHealthz(t *testing.T) {
	s, _ := start(t)
	resp, err := http.Get(s.Endpoint + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("healthz: got %d, want 200", resp.StatusCode)
	}
	resp, err = http.Get(s.Endpoint + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == 200 {
		t.Errorf("GET /: got 200, want an error")
	}
}
