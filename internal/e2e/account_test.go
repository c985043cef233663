package e2e_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/openkms/openkms/internal/server/servertest"
)

// TestAdminAccountCreate runs `openkms admin account create` against a
// real server and uses the printed credentials.
func TestAdminAccountCreate(t *testing.T) {
	s, _ := start(t)
	env := []string{"AWS_ACCESS_KEY_ID=" + servertest.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + servertest.Secret, "AWS_REGION=us-east-1"}
	out := mustRun(t, env, "admin", "account", "create", "--id", "777788889999", "--endpoint-url", s.Endpoint)
	var res struct{ AccountId, AccessKeyId, SecretAccessKey string }
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output %q is not JSON: %v", out, err)
	}
	if res.AccountId != "777788889999" || res.AccessKeyId == "" || res.SecretAccessKey == "" {
		t.Fatalf("got %+v", res)
	}
	c := s.ClientAs(servertest.Region, res.AccessKeyId, res.SecretAccessKey)
	md := createKey(t, c)
	if *md.AWSAccountId != "777788889999" {
		t.Errorf("key made by the new account's root: account %s", *md.AWSAccountId)
	}
	if _, err := c.ListKeys(ctx, &kms.ListKeysInput{}); err != nil {
		t.Errorf("ListKeys as the new account: %v", err)
	}
	// Only the bootstrap account's root may create accounts.
	other := []string{"AWS_ACCESS_KEY_ID=" + servertest.OtherAccessKeyID, "AWS_SECRET_ACCESS_KEY=" + servertest.OtherSecret}
	if code, _, _ := runOpenKMS(t, other, "admin", "account", "create", "--endpoint-url", s.Endpoint); code == 0 {
		t.Error("another account's root created an account")
	}
}

// TestPolicyExplain asks the running server why a user may or may not use
// a key, with `openkms admin policy explain`.
func TestPolicyExplain(t *testing.T) {
	s, root := start(t)
	newUser(t, s, "bob", "")
	out, err := root.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(keyPolicy(rootStatement, userStatement("bob", `"kms:Encrypt"`)))})
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"AWS_ACCESS_KEY_ID=" + servertest.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + servertest.Secret}
	bob := "arn:aws:iam::" + servertest.Account + ":user/bob"
	got := mustRun(t, env, "admin", "policy", "explain", "--endpoint-url", s.Endpoint, "--principal", bob, "--action", "kms:Encrypt", "--key", *out.KeyMetadata.Arn)
	if !strings.HasPrefix(got, "ALLOWED: key policy statement 1 (Sid \"Allow use of the key\")") {
		t.Errorf("explain Encrypt: got\n%s", got)
	}
	got = mustRun(t, env, "admin", "policy", "explain", "--endpoint-url", s.Endpoint, "--principal", bob, "--action", "kms:Decrypt", "--key", *out.KeyMetadata.Arn)
	if !strings.HasPrefix(got, "DENIED:") || !strings.Contains(got, "key policy:") {
		t.Errorf("explain Decrypt: got\n%s", got)
	}
}
