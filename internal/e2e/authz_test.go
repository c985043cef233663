package e2e_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/openkms/openkms/internal/server/servertest"
)

const acct = servertest.Account

// keyPolicy builds a key policy from statements.
func keyPolicy(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

const rootStatement = `{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"kms:*","Resource":"*"}`

func userStatement(user, actions string) string {
	return `{"Sid":"Allow use of the key","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/` + user + `"},"Action":` + actions + `,"Resource":"*"}`
}

// newUser creates an IAM user with an optional inline identity policy and
// returns a KMS client signed with its credentials.
func newUser(t *testing.T, s *servertest.Server, name, identityPolicy string) *kms.Client {
	t.Helper()
	root := iamClient(s.Endpoint, servertest.AccessKeyID, servertest.Secret, "")
	ak := createUserWithKey(t, root, name)
	if identityPolicy != "" {
		if _, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(identityPolicy)}); err != nil {
			t.Fatalf("PutUserPolicy %s: %v", name, err)
		}
	}
	return kmsClient(s.Endpoint, *ak.AccessKeyId, *ak.SecretAccessKey, "")
}

func identityAllow(actions string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":` + actions + `,"Resource":"*"}]}`
}

func TestKeyPolicyDecisions(t *testing.T) {
	s, root := start(t)
	// bob is named in the key policy (no IAM policy needed); carol has only an
	// IAM policy (works through the account-root delegation); dave has
	// nothing; erin is allowed by IAM but denied by the key policy.
	bob := newUser(t, s, "bob", "")
	carol := newUser(t, s, "carol", identityAllow(`["kms:Encrypt","kms:Decrypt","kms:DescribeKey"]`))
	dave := newUser(t, s, "dave", "")
	erin := newUser(t, s, "erin", identityAllow(`"kms:*"`))
	deny := `{"Sid":"Deny erin","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/erin"},"Action":"kms:*","Resource":"*"}`
	out, err := root.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(keyPolicy(rootStatement, userStatement("bob", `["kms:Encrypt","kms:Decrypt"]`), deny))})
	if err != nil {
		t.Fatal(err)
	}
	id := out.KeyMetadata.KeyId
	arn := *out.KeyMetadata.Arn
	cases := []struct {
		name    string
		c       *kms.Client
		allowed bool
		msg     string
	}{
		{"named in key policy", bob, true, ""},
		{"IAM via root delegation", carol, true, ""},
		{"no policy at all", dave, false, "User: arn:aws:iam::" + acct + ":user/dave is not authorized to perform: kms:Encrypt on resource: " + arn + " because no identity-based policy allows the kms:Encrypt action"},
		{"explicit deny beats IAM allow", erin, false, "User: arn:aws:iam::" + acct + ":user/erin is not authorized to perform: kms:Encrypt on resource: " + arn + " with an explicit deny in a resource-based policy"},
	}
	for _, tc := range cases {
		_, err := tc.c.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
		if tc.allowed {
			if err != nil {
				t.Errorf("%s: Encrypt: %v", tc.name, err)
			}
			continue
		}
		wantAPIError(t, err, "AccessDeniedException", tc.msg)
	}
	// bob may Encrypt but not DescribeKey (not in his statement, no IAM).
	_, err = bob.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
	wantAPIError(t, err, "AccessDeniedException", "")
	// An explicit deny in an IAM policy beats the key policy's allow.
	root2 := iamClient(s.Endpoint, servertest.AccessKeyID, servertest.Secret, "")
	if _, err := root2.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("deny"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:Encrypt","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	_, err = bob.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	wantAPIError(t, err, "AccessDeniedException", "User: arn:aws:iam::"+acct+":user/bob is not authorized to perform: kms:Encrypt on resource: "+arn+" with an explicit deny in an identity-based policy")
	// A key policy without the account statement locks IAM out, even for a
	// user whose IAM policy allows everything.
	noRoot, err := root.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(keyPolicy(userStatement("bob", `"kms:*"`))), BypassPolicyLockoutSafetyCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = carol.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: noRoot.KeyMetadata.KeyId})
	wantAPIError(t, err, "AccessDeniedException", "")
	_, err = root.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: noRoot.KeyMetadata.KeyId})
	wantAPIError(t, err, "AccessDeniedException", "")
}

func TestPolicyConditions(t *testing.T) {
	s, root := start(t)
	bob := newUser(t, s, "bob", "")
	stmt := `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/bob"},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*",
	  "Condition":{"StringEquals":{"kms:EncryptionContext:tenant":"acme"},"IpAddress":{"aws:SourceIp":"127.0.0.0/8"},"Bool":{"aws:SecureTransport":"false"}}}`
	out, err := root.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(keyPolicy(rootStatement, stmt))})
	if err != nil {
		t.Fatal(err)
	}
	id := out.KeyMetadata.KeyId
	if _, err := bob.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x"), EncryptionContext: map[string]string{"tenant": "acme"}}); err != nil {
		t.Errorf("matching encryption context: %v", err)
	}
	for _, ec := range []map[string]string{nil, {"tenant": "other"}, {"Tenant": "acme "}} {
		_, err := bob.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x"), EncryptionContext: ec})
		wantAPIError(t, err, "AccessDeniedException", "")
	}
	// A source-IP condition that excludes loopback denies.
	stmt2 := `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/bob"},"Action":"kms:Encrypt","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"127.0.0.0/8"}}}`
	out2, _ := root.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(keyPolicy(rootStatement, stmt2))})
	_, err = bob.Encrypt(ctx, &kms.EncryptInput{KeyId: out2.KeyMetadata.KeyId, Plaintext: []byte("x")})
	wantAPIError(t, err, "AccessDeniedException", "")
	// kms:KeySpec in an IAM policy limits which keys a user may create.
	carol := newUser(t, s, "carol", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:CreateKey","Resource":"*","Condition":{"StringEquals":{"kms:KeySpec":"SYMMETRIC_DEFAULT"}}}]}`)
	if _, err := carol.CreateKey(ctx, &kms.CreateKeyInput{}); err != nil {
		t.Errorf("CreateKey allowed by kms:KeySpec: %v", err)
	}
	_, err = carol.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC"})
	wantAPIError(t, err, "AccessDeniedException", "")
}

func TestCrossAccountNeedsBothHalves(t *testing.T) {
	s, root := start(t)
	other := s.ClientAs(servertest.Region, servertest.OtherAccessKeyID, servertest.OtherSecret)
	otherRoot := "arn:aws:iam::" + servertest.OtherAccount + ":root"
	cross := `{"Sid":"Other account","Effect":"Allow","Principal":{"AWS":"` + otherRoot + `"},"Action":["kms:Encrypt","kms:Decrypt","kms:DescribeKey","kms:DisableKey"],"Resource":"*"}`
	withCross, err := root.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(keyPolicy(rootStatement, cross))})
	if err != nil {
		t.Fatal(err)
	}
	without := createKey(t, root)
	// The other account's root: the key policy half decides.
	enc, err := other.Encrypt(ctx, &kms.EncryptInput{KeyId: withCross.KeyMetadata.Arn, Plaintext: []byte("x")})
	if err != nil {
		t.Fatalf("cross-account Encrypt allowed by the key policy: %v", err)
	}
	if _, err := other.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil {
		t.Errorf("cross-account Decrypt: %v", err)
	}
	_, err = other.Encrypt(ctx, &kms.EncryptInput{KeyId: without.Arn, Plaintext: []byte("x")})
	wantAPIError(t, err, "AccessDeniedException", "")
	// Management operations never work across accounts.
	_, err = other.DisableKey(ctx, &kms.DisableKeyInput{KeyId: withCross.KeyMetadata.Arn})
	wantAPIError(t, err, "AccessDeniedException", "")
	// A bare key id always means the caller's own account.
	_, err = other.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: withCross.KeyMetadata.KeyId})
	wantAPIError(t, err, "NotFoundException", "")
	if d, err := other.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: withCross.KeyMetadata.Arn}); err != nil || *d.KeyMetadata.AWSAccountId != acct {
		t.Errorf("cross-account DescribeKey by ARN: %v", err)
	}
	// An IAM user of the other account needs its own identity policy too.
	otherIAM := iamClient(s.Endpoint, servertest.OtherAccessKeyID, servertest.OtherSecret, "")
	ak := createUserWithKey(t, otherIAM, "olga")
	olga := kmsClient(s.Endpoint, *ak.AccessKeyId, *ak.SecretAccessKey, "")
	_, err = olga.Encrypt(ctx, &kms.EncryptInput{KeyId: withCross.KeyMetadata.Arn, Plaintext: []byte("x")})
	wantAPIError(t, err, "AccessDeniedException", "User: arn:aws:iam::"+servertest.OtherAccount+":user/olga is not authorized to perform: kms:Encrypt on resource: "+*withCross.KeyMetadata.Arn+" because no identity-based policy allows the kms:Encrypt action")
	if _, err := otherIAM.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("olga"), PolicyName: aws.String("use-shared-key"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"` + *withCross.KeyMetadata.Arn + `"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := olga.Encrypt(ctx, &kms.EncryptInput{KeyId: withCross.KeyMetadata.Arn, Plaintext: []byte("x")}); err != nil {
		t.Errorf("cross-account Encrypt with both halves: %v", err)
	}
	_, err = olga.Encrypt(ctx, &kms.EncryptInput{KeyId: without.Arn, Plaintext: []byte("x")})
	wantAPIError(t, err, "AccessDeniedException", "")
}

func TestPolicyValidationAndLockout(t *testing.T) {
	s, root := start(t)
	_, err := root.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String("not a policy")})
	wantAPIError(t, err, "MalformedPolicyDocumentException", "")
	_, err = root.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(keyPolicy(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/bob"},"Action":"kms:*"}`))})
	if err == nil {
		t.Error("a key policy that locks the caller out was accepted without BypassPolicyLockoutSafetyCheck")
	} else {
		wantAPIError(t, err, "MalformedPolicyDocumentException", "The new key policy will not allow you to update the key policy in the future.")
	}
	md := createKey(t, root)
	_, err = root.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: md.KeyId, Policy: aws.String(keyPolicy(userStatement("bob", `"kms:*"`)))})
	wantAPIError(t, err, "MalformedPolicyDocumentException", "The new key policy will not allow you to update the key policy in the future.")
	if _, err := root.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: md.KeyId, Policy: aws.String(keyPolicy(userStatement("bob", `"kms:*"`))), BypassPolicyLockoutSafetyCheck: true}); err != nil {
		t.Errorf("PutKeyPolicy with the bypass: %v", err)
	}
	_, err = root.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: md.KeyId})
	wantAPIError(t, err, "AccessDeniedException", "")
	_ = s
}

func TestResourceAliasesAndTimeConditions(t *testing.T) {
	s, root := start(t)
	bob := newUser(t, s, "bob", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*",
	  "Condition":{"ForAnyValue:StringLike":{"kms:ResourceAliases":"alias/team-blue/*"},"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}}]}`)
	blue, red := createKey(t, root), createKey(t, root)
	root.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/team-blue/app"), TargetKeyId: blue.KeyId})
	root.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/team-red/app"), TargetKeyId: red.KeyId})
	if _, err := bob.Encrypt(ctx, &kms.EncryptInput{KeyId: blue.Arn, Plaintext: []byte("x")}); err != nil {
		t.Errorf("key with a team-blue alias: %v", err)
	}
	_, err := bob.Encrypt(ctx, &kms.EncryptInput{KeyId: red.Arn, Plaintext: []byte("x")})
	wantAPIError(t, err, "AccessDeniedException", "")
}
