// Package e2e_test drives a real OpenKMS server over HTTP with the official
// AWS SDK for Go v2, as users do.
package e2e_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/openkms/openkms/internal/server/servertest"
)

var ctx = context.Background()

// wantAPIError fails the test unless err is an AWS API error with the code
// (and, if msg is not empty, exactly that message).
func wantAPIError(t *testing.T, err error, code, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got success, want %s", code)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("got non-API error %v, want %s", err, code)
	}
	if apiErr.ErrorCode() != code {
		t.Fatalf("got error code %s (%q), want %s", apiErr.ErrorCode(), apiErr.ErrorMessage(), code)
	}
	if msg != "" && apiErr.ErrorMessage() != msg {
		t.Fatalf("got message %q, want %q", apiErr.ErrorMessage(), msg)
	}
}

func createKey(t *testing.T, c *kms.Client) *types.KeyMetadata {
	t.Helper()
	out, err := c.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	return out.KeyMetadata
}

func start(t *testing.T) (*servertest.Server, *kms.Client) {
	t.Helper()
	s := servertest.Start(t, servertest.Options{})
	return s, s.Client(servertest.Region)
}

var _ = aws.String
