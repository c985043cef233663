package e2e_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/openkms/openkms/internal/server/servertest"
)

func TestGetKeyLastUsage(t *testing.T) {
	s, c := start(t)
	md := createKey(t, c)
	out, err := c.GetKeyLastUsage(ctx, &kms.GetKeyLastUsageInput{KeyId: md.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	if out.KeyLastUsage != nil || out.KeyCreationDate == nil || out.TrackingStartDate == nil || aws.ToString(out.KeyId) != *md.KeyId {
		t.Fatalf("unused key: got %+v", out)
	}
	before := time.Now().Add(-time.Second)
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	out, _ = c.GetKeyLastUsage(ctx, &kms.GetKeyLastUsageInput{KeyId: md.KeyId})
	if out.KeyLastUsage == nil || out.KeyLastUsage.Operation != "Encrypt" || out.KeyLastUsage.Timestamp.Before(before) || aws.ToString(out.KeyLastUsage.CloudTrailEventId) == "" {
		t.Fatalf("after Encrypt: got %+v", out.KeyLastUsage)
	}
	// A failed call is not a use; a management call is not tracked.
	c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"wrong": "ctx"}})
	c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: md.KeyId})
	out, _ = c.GetKeyLastUsage(ctx, &kms.GetKeyLastUsageInput{KeyId: md.KeyId})
	if out.KeyLastUsage.Operation != "Encrypt" {
		t.Errorf("after a failed Decrypt and a DescribeKey: got %s, want Encrypt", out.KeyLastUsage.Operation)
	}
	if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil {
		t.Fatal(err)
	}
	// Usage survives a restart.
	s.Stop(t)
	s2 := servertest.Start(t, servertest.Options{DataDir: s.DataDir})
	c2 := s2.Client(servertest.Region)
	out, err = c2.GetKeyLastUsage(ctx, &kms.GetKeyLastUsageInput{KeyId: md.KeyId})
	if err != nil || out.KeyLastUsage == nil || out.KeyLastUsage.Operation != "Decrypt" {
		t.Fatalf("after restart: got %+v, %v; want the Decrypt", out, err)
	}
	// kms:TrailingDaysWithoutKeyUsage: a key used today has 0 trailing days.
	bob := newUser(t, s2, "bob", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*",
	  "Condition":{"NumericGreaterThan":{"kms:TrailingDaysWithoutKeyUsage":"30"}}}]}`)
	_, err = bob.Encrypt(ctx, &kms.EncryptInput{KeyId: md.Arn, Plaintext: []byte("x")})
	wantAPIError(t, err, "AccessDeniedException", "")
}

// TestTrailingDaysWithoutKeyUsage: a policy that allows Encrypt only for
// keys unused for more than 30 days denies a key used today and allows it
// once 40 days have passed.
func TestTrailingDaysWithoutKeyUsage(t *testing.T) {
	clock := servertest.NewClock()
	s := servertest.Start(t, servertest.Options{Clock: clock})
	c := s.Client(servertest.Region)
	md := createKey(t, c)
	if _, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	bob := newUser(t, s, "bob", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*",
	  "Condition":{"NumericGreaterThan":{"kms:TrailingDaysWithoutKeyUsage":"30"}}}]}`)
	_, err := bob.Encrypt(ctx, &kms.EncryptInput{KeyId: md.Arn, Plaintext: []byte("x")})
	wantAPIError(t, err, "AccessDeniedException", "")
	clock.Advance(40 * 24 * time.Hour)
	if _, err := bob.Encrypt(ctx, &kms.EncryptInput{KeyId: md.Arn, Plaintext: []byte("x")}); err != nil {
		t.Errorf("Encrypt 40 days after the last use: got %v, want success", err)
	}
}
