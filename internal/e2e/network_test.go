package e2e_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/openkms/openkms/internal/config"
	"github.com/openkms/openkms/internal/server/servertest"
)

// clientFrom returns a KMS client whose connections come from a given
// loopback address.
func clientFrom(endpoint, localIP, akid, secret string) *kms.Client {
	tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(localIP)}}).DialContext}
	return kms.New(kms.Options{Region: servertest.Region, BaseEndpoint: aws.String(endpoint), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(akid, secret, ""), HTTPClient: &http.Client{Transport: tr, Timeout: 30 * time.Second}})
}

func TestSourceVpcAndVpce(t *testing.T) {
	s := servertest.Start(t, servertest.Options{Config: func(c *config.Server) {
		c.Networks = []config.Network{{CIDR: "127.0.0.2/32", VPC: "vpc-0a1", VPCE: "vpce-0a1"}, {CIDR: "127.0.0.0/8", VPC: "vpc-0b2"}}
	}})
	root := s.Client(servertest.Region)
	only := `{"Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-0a1"}}}`
	out, err := root.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(keyPolicy(rootStatement, only))})
	if err != nil {
		t.Fatal(err)
	}
	vpc := `{"Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpc":"vpc-0b2"}}}`
	out2, err := root.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(keyPolicy(rootStatement, vpc))})
	if err != nil {
		t.Fatal(err)
	}
	via2 := clientFrom(s.Endpoint, "127.0.0.2", servertest.AccessKeyID, servertest.Secret)
	via3 := clientFrom(s.Endpoint, "127.0.0.3", servertest.AccessKeyID, servertest.Secret)
	if _, err := via2.Encrypt(ctx, &kms.EncryptInput{KeyId: out.KeyMetadata.KeyId, Plaintext: []byte("x")}); err != nil {
		t.Errorf("from the VPC endpoint's range: %v", err)
	}
	_, err = via3.Encrypt(ctx, &kms.EncryptInput{KeyId: out.KeyMetadata.KeyId, Plaintext: []byte("x")})
	wantAPIError(t, err, "AccessDeniedException", "")
	if _, err := via3.Encrypt(ctx, &kms.EncryptInput{KeyId: out2.KeyMetadata.KeyId, Plaintext: []byte("x")}); err != nil {
		t.Errorf("from vpc-0b2: %v", err)
	}
	_, err = via2.Encrypt(ctx, &kms.EncryptInput{KeyId: out2.KeyMetadata.KeyId, Plaintext: []byte("x")})
	wantAPIError(t, err, "AccessDeniedException", "")
}

func TestTrustedProxyForwardedFor(t *testing.T) {
	s := servertest.Start(t, servertest.Options{Config: func(c *config.Server) { c.TrustedProxies = []string{"127.0.0.5/32"} }})
	root := s.Client(servertest.Region)
	deny := `{"Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}`
	out, _ := root.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(keyPolicy(rootStatement, deny))})
	body := []byte(`{"KeyId":"` + *out.KeyMetadata.KeyId + `","Plaintext":"eA=="}`)
	send := func(from string) int {
		return signedPost(t, s.Endpoint, from, "TrentService.Encrypt", body, map[string]string{"X-Forwarded-For": "203.0.113.9"}, servertest.AccessKeyID, servertest.Secret)
	}
	if code := send("127.0.0.5"); code != 200 {
		t.Errorf("through the trusted proxy: got %d, want 200", code)
	}
	if code := send("127.0.0.6"); code != 400 {
		t.Errorf("X-Forwarded-For from an untrusted address must be ignored: got %d, want 400 (denied)", code)
	}
}

// signedPost sends a SigV4-signed KMS request with extra (signed) headers
// from a given local address and returns the HTTP status.
func signedPost(t *testing.T, endpoint, from, target string, body []byte, headers map[string]string, akid, secret string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}, req, hex.EncodeToString(sum[:]), "kms", servertest.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}).DialContext}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestViaService: a key policy that allows bob to decrypt only through an
// integrated service; the service calls on his behalf; bob cannot forge it.
func TestViaService(t *testing.T) {
	serviceARN := "arn:aws:iam::" + servertest.Account + ":user/storage-service"
	s := servertest.Start(t, servertest.Options{Config: func(c *config.Server) {
		c.IntegratedServices = []config.IntegratedService{{Name: "s3", PrincipalARN: serviceARN}}
	}})
	root := s.Client(servertest.Region)
	iamRoot := iamClient(s.Endpoint, servertest.AccessKeyID, servertest.Secret, "")
	bobKey := createUserWithKey(t, iamRoot, "bob")
	svcKey := createUserWithKey(t, iamRoot, "storage-service")
	stmt := `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/bob"},"Action":"kms:Encrypt","Resource":"*",
	  "Condition":{"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"},"Bool":{"aws:ViaAWSService":"true"}}}`
	out, err := root.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(keyPolicy(rootStatement, stmt))})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"KeyId":"` + *out.KeyMetadata.Arn + `","Plaintext":"eA=="}`)
	bob := kmsClient(s.Endpoint, *bobKey.AccessKeyId, *bobKey.SecretAccessKey, "")
	_, err = bob.Encrypt(ctx, &kms.EncryptInput{KeyId: out.KeyMetadata.Arn, Plaintext: []byte("x")})
	wantAPIError(t, err, "AccessDeniedException", "")
	onBehalf := map[string]string{"X-OpenKMS-On-Behalf-Of": *bobKey.AccessKeyId}
	if code := signedPost(t, s.Endpoint, "127.0.0.1", "TrentService.Encrypt", body, onBehalf, *svcKey.AccessKeyId, *svcKey.SecretAccessKey); code != 200 {
		t.Errorf("the integrated service on bob's behalf: got %d, want 200", code)
	}
	if code := signedPost(t, s.Endpoint, "127.0.0.1", "TrentService.Encrypt", body, onBehalf, *bobKey.AccessKeyId, *bobKey.SecretAccessKey); code != 400 {
		t.Errorf("bob naming himself via a service: got %d, want 400 (AccessDenied)", code)
	}
}

// TestAWSManagedKey: the first reference to alias/aws/<service> creates
// the AWS managed key; it is usable only through that service, and its
// policy, rotation and deletion are not the customer's to change.
func TestAWSManagedKey(t *testing.T) {
	serviceARN := "arn:aws:iam::" + servertest.Account + ":user/storage-service"
	s := servertest.Start(t, servertest.Options{Config: func(c *config.Server) {
		c.IntegratedServices = []config.IntegratedService{{Name: "s3", PrincipalARN: serviceARN}}
	}})
	root := s.Client(servertest.Region)
	d, err := root.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/s3")})
	if err != nil {
		t.Fatalf("DescribeKey alias/aws/s3: %v", err)
	}
	md := d.KeyMetadata
	if md.KeyManager != "AWS" || md.KeyState != "Enabled" {
		t.Fatalf("AWS managed key: got manager %s state %s", md.KeyManager, md.KeyState)
	}
	again, _ := root.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/s3")})
	if *again.KeyMetadata.KeyId != *md.KeyId {
		t.Errorf("a second reference created another key")
	}
	st, err := root.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: md.KeyId})
	if err != nil || !st.KeyRotationEnabled || aws.ToInt32(st.RotationPeriodInDays) != 365 {
		t.Errorf("rotation: got %+v, %v; want yearly", st, err)
	}
	// Not usable directly, not changeable.
	_, err = root.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String("alias/aws/s3"), Plaintext: []byte("x")})
	wantAPIError(t, err, "AccessDeniedException", "")
	_, err = root.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: md.KeyId, Policy: aws.String(keyPolicy(rootStatement))})
	wantAPIError(t, err, "AccessDeniedException", "")
	_, err = root.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: md.KeyId})
	wantAPIError(t, err, "AccessDeniedException", "")
	_, err = root.DisableKeyRotation(ctx, &kms.DisableKeyRotationInput{KeyId: md.KeyId})
	wantAPIError(t, err, "AccessDeniedException", "")
	_, err = root.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String("alias/aws/s3")})
	wantAPIError(t, err, "NotAuthorizedException", "")
	// Usable through the service by the account's principals.
	iamRoot := iamClient(s.Endpoint, servertest.AccessKeyID, servertest.Secret, "")
	bobKey := createUserWithKey(t, iamRoot, "bob")
	svcKey := createUserWithKey(t, iamRoot, "storage-service")
	body := []byte(`{"KeyId":"alias/aws/s3","Plaintext":"eA=="}`)
	if code := signedPost(t, s.Endpoint, "127.0.0.1", "TrentService.Encrypt", body, map[string]string{"X-OpenKMS-On-Behalf-Of": *bobKey.AccessKeyId}, *svcKey.AccessKeyId, *svcKey.SecretAccessKey); code != 200 {
		t.Errorf("Encrypt with the AWS managed key through s3: got %d, want 200", code)
	}
	aliases, _ := root.ListAliases(ctx, &kms.ListAliasesInput{})
	found := false
	for _, a := range aliases.Aliases {
		if aws.ToString(a.AliasName) == "alias/aws/s3" && aws.ToString(a.TargetKeyId) == *md.KeyId {
			found = true
		}
	}
	if !found {
		t.Errorf("ListAliases does not show alias/aws/s3: %+v", aliases.Aliases)
	}
}
