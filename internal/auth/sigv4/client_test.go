package sigv4

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/openkms/openkms/internal/kmserr"
)

// TestKMSClientEndToEnd sends real Encrypt calls from the AWS SDK's KMS
// client to a server that verifies them, with the real clock.
func TestKMSClientEndToEnd(t *testing.T) {
	v := &Verifier{Source: testSource(), Service: "kms"}
	results := make(chan Result, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			t.Error(err)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		res, err := v.Verify(r, body)
		if err != nil {
			ke := kmserr.As(err)
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}{string(ke.Code), ke.Message})
			return
		}
		results <- res
		_, _ = io.WriteString(w, `{"CiphertextBlob":"AQID","KeyId":"arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}`)
	}))
	defer srv.Close()

	client := func(secret, token string) *kms.Client {
		return kms.New(kms.Options{
			Region:           "eu-central-1",
			Credentials:      credentials.NewStaticCredentialsProvider(testAKID, secret, token),
			BaseEndpoint:     aws.String(srv.URL),
			HTTPClient:       srv.Client(),
			RetryMaxAttempts: 1,
		})
	}
	input := &kms.EncryptInput{KeyId: aws.String("alias/test"), Plaintext: []byte("hello world")}

	if _, err := client(testSecret, "").Encrypt(context.Background(), input); err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	res := <-results
	if res.Region != "eu-central-1" || res.AccessKeyID != testAKID || res.Principal.ARN != testPrincipal.ARN {
		t.Errorf("Result = %+v", res)
	}

	for _, tc := range []struct {
		name, secret, token string
		code                kmserr.Code
	}{
		{"wrong secret", "not-the-secret", "", kmserr.InvalidSignature},
		{"unexpected session token", testSecret, "token", kmserr.UnrecognizedClient},
	} {
		_, err := client(tc.secret, tc.token).Encrypt(context.Background(), input)
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != string(tc.code) {
			t.Errorf("%s: err = %v, want API error %s", tc.name, err, tc.code)
		}
	}
}
