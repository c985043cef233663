package e2e_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/openkms/openkms/internal/iamapi"
	"github.com/openkms/openkms/internal/server/servertest"
)

// iamServer is a running server that serves KMS, IAM and STS on one
// endpoint, with a settable clock.
type iamServer struct {
	Endpoint string
	Clock    *servertest.Clock
}

// startIAM starts a test server (servertest.Start, as `openkms server`
// runs), which serves KMS, IAM and STS on one endpoint.
func startIAM(t *testing.T) *iamServer {
	t.Helper()
	clock := servertest.NewClock()
	s := servertest.Start(t, servertest.Options{Clock: clock})
	return &iamServer{Endpoint: s.Endpoint, Clock: clock}
}

func httpClient() *http.Client { return &http.Client{Timeout: 30 * time.Second} }

func iamClient(endpoint, akid, secret, token string) *iam.Client {
	return iam.New(iam.Options{
		Region:           servertest.Region,
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider(akid, secret, token),
		RetryMaxAttempts: 1,
		HTTPClient:       httpClient(),
	})
}

func stsClient(endpoint, akid, secret, token string) *sts.Client {
	return sts.New(sts.Options{
		Region:           servertest.Region,
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider(akid, secret, token),
		RetryMaxAttempts: 1,
		HTTPClient:       httpClient(),
	})
}

func kmsClient(endpoint, akid, secret, token string) *kms.Client {
	return kms.New(kms.Options{
		Region:           servertest.Region,
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider(akid, secret, token),
		RetryMaxAttempts: 1,
		HTTPClient:       httpClient(),
	})
}

// wantStatus fails unless err is an HTTP response error with the status.
func wantStatus(t *testing.T, err error, status int) {
	t.Helper()
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("got %v, want an HTTP response error", err)
	}
	if re.HTTPStatusCode() != status {
		t.Fatalf("got HTTP %d, want %d", re.HTTPStatusCode(), status)
	}
}

func createUserWithKey(t *testing.T, c *iam.Client, name string) *iamtypes.AccessKey {
	t.Helper()
	if _, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatalf("CreateUser %s: %v", name, err)
	}
	out, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateAccessKey %s: %v", name, err)
	}
	return out.AccessKey
}

func TestIAMUsersAndAccessKeys(t *testing.T) {
	s := startIAM(t)
	root := iamClient(s.Endpoint, servertest.AccessKeyID, servertest.Secret, "")

	created, err := root.CreateUser(ctx, &iam.CreateUserInput{
		UserName: aws.String("alice"), Path: aws.String("/eng/"),
		Tags: []iamtypes.Tag{{Key: aws.String("team"), Value: aws.String("kms")}},
	})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	u := created.User
	if got, want := aws.ToString(u.Arn), "arn:aws:iam::111122223333:user/eng/alice"; got != want {
		t.Fatalf("got ARN %s, want %s", got, want)
	}
	if id := aws.ToString(u.UserId); len(id) != 21 || !strings.HasPrefix(id, "AIDA") {
		t.Fatalf("got UserId %q, want AIDA + 17 characters", id)
	}
	if len(u.Tags) != 1 || aws.ToString(u.Tags[0].Key) != "team" || u.CreateDate == nil {
		t.Fatalf("got tags %v and CreateDate %v, want [team=kms] and a date", u.Tags, u.CreateDate)
	}
	_, err = root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ALICE")})
	wantAPIError(t, err, "EntityAlreadyExists", "User with name ALICE already exists.")
	wantStatus(t, err, 409)
	_, err = root.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
	wantAPIError(t, err, "NoSuchEntity", "The user with name nobody cannot be found.")
	wantStatus(t, err, 404)
	_, err = root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bad/name")})
	wantAPIError(t, err, "ValidationError", "")

	list, err := root.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String("/eng/")})
	if err != nil || len(list.Users) != 1 || aws.ToString(list.Users[0].UserName) != "alice" {
		t.Fatalf("ListUsers /eng/: got %v, %v; want [alice]", list, err)
	}
	me, err := root.GetUser(ctx, &iam.GetUserInput{})
	if err != nil || aws.ToString(me.User.Arn) != "arn:aws:iam::111122223333:root" {
		t.Fatalf("GetUser as root: got %v, %v; want the root user", me, err)
	}

	key, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatalf("CreateAccessKey: %v", err)
	}
	ak := key.AccessKey
	if id := aws.ToString(ak.AccessKeyId); !strings.HasPrefix(id, "AKIA") || len(id) != 20 || ak.Status != iamtypes.StatusTypeActive {
		t.Fatalf("got key %s (%s), want an active AKIA key", id, ak.Status)
	}
	if _, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")}); err != nil {
		t.Fatalf("second CreateAccessKey: %v", err)
	}
	_, err = root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	wantAPIError(t, err, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2")

	// The user's credentials authenticate STS and KMS calls.
	id, err := stsClient(s.Endpoint, *ak.AccessKeyId, *ak.SecretAccessKey, "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity as alice: %v", err)
	}
	if aws.ToString(id.Arn) != aws.ToString(u.Arn) || aws.ToString(id.UserId) != aws.ToString(u.UserId) || aws.ToString(id.Account) != servertest.Account {
		t.Fatalf("got identity %s %s %s, want alice's", aws.ToString(id.Arn), aws.ToString(id.UserId), aws.ToString(id.Account))
	}
	// KMS authorizes her by IAM policy: none yet, so denied; then allowed.
	aliceKMS := kmsClient(s.Endpoint, *ak.AccessKeyId, *ak.SecretAccessKey, "")
	_, err = aliceKMS.ListKeys(ctx, &kms.ListKeysInput{})
	wantAPIError(t, err, "AccessDeniedException", "User: arn:aws:iam::111122223333:user/eng/alice is not authorized to perform: kms:ListKeys on resource: * because no identity-based policy allows the kms:ListKeys action")
	if _, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("list-keys"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:ListKeys","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := aliceKMS.ListKeys(ctx, &kms.ListKeysInput{}); err != nil {
		t.Fatalf("KMS ListKeys as alice with an allowing policy: %v", err)
	}
	if _, err := root.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("list-keys")}); err != nil {
		t.Fatal(err)
	}

	// Without an identity policy alice may not manage IAM.
	aliceIAM := iamClient(s.Endpoint, *ak.AccessKeyId, *ak.SecretAccessKey, "")
	_, err = aliceIAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("mallory")})
	wantAPIError(t, err, "AccessDenied", "User: arn:aws:iam::111122223333:user/eng/alice is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::111122223333:user/mallory")
	wantStatus(t, err, 403)

	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreateUser","iam:ListUsers"],"Resource":"*"}]}`
	if _, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("iam-admin"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatalf("PutUserPolicy: %v", err)
	}
	got, err := root.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("iam-admin")})
	if err != nil {
		t.Fatalf("GetUserPolicy: %v", err)
	}
	if raw := aws.ToString(got.PolicyDocument); strings.Contains(raw, "{") {
		t.Fatalf("got PolicyDocument %q, want it URL-encoded as IAM returns it", raw)
	}
	if dec, err := url.QueryUnescape(aws.ToString(got.PolicyDocument)); err != nil || dec != doc {
		t.Fatalf("got decoded PolicyDocument %q (%v), want %q", dec, err, doc)
	}
	if _, err := aliceIAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("mallory")}); err != nil {
		t.Fatalf("CreateUser by alice with iam:CreateUser allowed: %v", err)
	}
	_, err = aliceIAM.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("mallory")})
	wantAPIError(t, err, "AccessDenied", "")
	_, err = root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("bad"), PolicyDocument: aws.String(`{"Statement":[{"Effect":"Allow","Action":"kms:*"}]}`)})
	wantAPIError(t, err, "MalformedPolicyDocument", "")
	_, err = root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("big"),
		PolicyDocument: aws.String(`{"Statement":[{"Sid":"` + strings.Repeat("a", 2000) + `","Effect":"Allow","Action":"kms:*","Resource":"*"}]}`)})
	wantAPIError(t, err, "LimitExceeded", "Maximum policy size of 2048 bytes exceeded for user alice")

	// Inactive keys stop working; users with keys or policies cannot be
	// deleted.
	if _, err := root.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: ak.AccessKeyId, Status: iamtypes.StatusTypeInactive}); err != nil {
		t.Fatalf("UpdateAccessKey: %v", err)
	}
	_, err = aliceKMS.ListKeys(ctx, &kms.ListKeysInput{})
	wantAPIError(t, err, "UnrecognizedClientException", "")
	_, err = root.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
	wantAPIError(t, err, "DeleteConflict", "Cannot delete entity, must delete access keys first.")
	keys, err := root.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("alice")})
	if err != nil || len(keys.AccessKeyMetadata) != 2 {
		t.Fatalf("ListAccessKeys: got %v, %v; want 2 keys", keys, err)
	}
	for _, k := range keys.AccessKeyMetadata {
		if _, err := root.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: k.AccessKeyId}); err != nil {
			t.Fatalf("DeleteAccessKey: %v", err)
		}
	}
	_, err = root.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
	wantAPIError(t, err, "DeleteConflict", "Cannot delete entity, must delete policies first.")
	names, err := root.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("alice")})
	if err != nil || len(names.PolicyNames) != 1 || names.PolicyNames[0] != "iam-admin" {
		t.Fatalf("ListUserPolicies: got %v, %v; want [iam-admin]", names, err)
	}
	if _, err := root.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("iam-admin")}); err != nil {
		t.Fatalf("DeleteUserPolicy: %v", err)
	}
	if _, err := root.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	// Another account sees nothing of this one.
	other := iamClient(s.Endpoint, servertest.OtherAccessKeyID, servertest.OtherSecret, "")
	_, err = other.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("mallory")})
	wantAPIError(t, err, "NoSuchEntity", "")
}

func TestIAMTagsAndPagination(t *testing.T) {
	s := startIAM(t)
	root := iamClient(s.Endpoint, servertest.AccessKeyID, servertest.Secret, "")
	for i := range 5 {
		if _, err := root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(fmt.Sprintf("u%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	var marker *string
	for pages := 0; ; pages++ {
		out, err := root.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(2), Marker: marker})
		if err != nil {
			t.Fatalf("ListUsers: %v", err)
		}
		for _, u := range out.Users {
			seen = append(seen, aws.ToString(u.UserName))
		}
		if !out.IsTruncated {
			break
		}
		marker = out.Marker
		if pages > 5 {
			t.Fatal("ListUsers: got more pages than users")
		}
	}
	if got := strings.Join(seen, ","); got != "u0,u1,u2,u3,u4" {
		t.Fatalf("got users %s over pages of 2, want u0,u1,u2,u3,u4", got)
	}

	if _, err := root.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("u0"), Tags: []iamtypes.Tag{
		{Key: aws.String("b"), Value: aws.String("2")}, {Key: aws.String("a"), Value: aws.String("1")},
	}}); err != nil {
		t.Fatalf("TagUser: %v", err)
	}
	if _, err := root.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String("u0"), TagKeys: []string{"B"}}); err != nil {
		t.Fatalf("UntagUser: %v", err)
	}
	tags, err := root.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String("u0")})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "a" {
		t.Fatalf("ListUserTags: got %v, %v; want [a=1]", tags, err)
	}
	_, err = root.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("u0"), Tags: []iamtypes.Tag{
		{Key: aws.String("x"), Value: aws.String("1")}, {Key: aws.String("X"), Value: aws.String("2")},
	}})
	wantAPIError(t, err, "InvalidInput", "")
}

const (
	roleARN = "arn:aws:iam::111122223333:role/Deployer"
	bobARN  = "arn:aws:iam::111122223333:user/bob"
)

func trustPolicy(principals ...string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["` +
		strings.Join(principals, `","`) + `"]},"Action":["sts:AssumeRole","sts:TagSession"]}]}`
}

func TestAssumeRole(t *testing.T) {
	s := startIAM(t)
	root := iamClient(s.Endpoint, servertest.AccessKeyID, servertest.Secret, "")
	bobKey := createUserWithKey(t, root, "bob")
	bob := stsClient(s.Endpoint, *bobKey.AccessKeyId, *bobKey.SecretAccessKey, "")

	cr, err := root.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName: aws.String("Deployer"), AssumeRolePolicyDocument: aws.String(trustPolicy(bobARN)),
		MaxSessionDuration: aws.Int32(7200), Description: aws.String("deploys"),
		Tags: []iamtypes.Tag{{Key: aws.String("env"), Value: aws.String("prod")}},
	})
	if err != nil {
		t.Fatalf("CreateRole: %v", err)
	}
	// The role's sessions may list keys (KMS authorizes them by the role's policy).
	if _, err := root.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("Deployer"), PolicyName: aws.String("list-keys"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:ListKeys","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if aws.ToString(cr.Role.Arn) != roleARN || !strings.HasPrefix(aws.ToString(cr.Role.RoleId), "AROA") || aws.ToInt32(cr.Role.MaxSessionDuration) != 7200 {
		t.Fatalf("got role %s %s %d, want %s, an AROA id, 7200", aws.ToString(cr.Role.Arn), aws.ToString(cr.Role.RoleId), aws.ToInt32(cr.Role.MaxSessionDuration), roleARN)
	}
	gr, err := root.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("deployer")})
	if err != nil {
		t.Fatalf("GetRole: %v", err)
	}
	if dec, _ := url.QueryUnescape(aws.ToString(gr.Role.AssumeRolePolicyDocument)); dec != trustPolicy(bobARN) {
		t.Fatalf("got trust policy %q, want %q", dec, trustPolicy(bobARN))
	}
	_, err = root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("Ghost"), AssumeRolePolicyDocument: aws.String(trustPolicy("arn:aws:iam::111122223333:user/ghost"))})
	wantAPIError(t, err, "MalformedPolicyDocument", `Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:user/ghost"`)

	// The trust policy names bob: that is enough in the role's account.
	out, err := bob.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String("deploy-1"), DurationSeconds: aws.Int32(900),
		Tags: []ststypes.Tag{{Key: aws.String("ticket"), Value: aws.String("T-1")}},
	})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	cred := out.Credentials
	if id := aws.ToString(cred.AccessKeyId); !strings.HasPrefix(id, "ASIA") || aws.ToString(cred.SessionToken) == "" {
		t.Fatalf("got key %s with token %q, want ASIA and a token", id, aws.ToString(cred.SessionToken))
	}
	if d := time.Until(aws.ToTime(cred.Expiration)); d < 890*time.Second || d > 910*time.Second {
		t.Fatalf("got expiration in %v, want about 900s", d)
	}
	wantSession := "arn:aws:sts::111122223333:assumed-role/Deployer/deploy-1"
	if aws.ToString(out.AssumedRoleUser.Arn) != wantSession || aws.ToString(out.AssumedRoleUser.AssumedRoleId) != aws.ToString(cr.Role.RoleId)+":deploy-1" {
		t.Fatalf("got assumed role user %s %s, want %s", aws.ToString(out.AssumedRoleUser.Arn), aws.ToString(out.AssumedRoleUser.AssumedRoleId), wantSession)
	}

	sess := stsClient(s.Endpoint, *cred.AccessKeyId, *cred.SecretAccessKey, *cred.SessionToken)
	id, err := sess.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity with session credentials: %v", err)
	}
	if aws.ToString(id.Arn) != wantSession {
		t.Fatalf("got caller %s, want %s", aws.ToString(id.Arn), wantSession)
	}
	if _, err := kmsClient(s.Endpoint, *cred.AccessKeyId, *cred.SecretAccessKey, *cred.SessionToken).ListKeys(ctx, &kms.ListKeysInput{}); err != nil {
		t.Fatalf("KMS ListKeys with session credentials: %v", err)
	}

	// The token is bound to the key: a wrong or missing one is refused.
	wrong := strings.Repeat("A", len(*cred.SessionToken))
	_, err = stsClient(s.Endpoint, *cred.AccessKeyId, *cred.SecretAccessKey, wrong).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "InvalidClientTokenId", "The security token included in the request is invalid.")
	wantStatus(t, err, 403)
	_, err = kmsClient(s.Endpoint, *cred.AccessKeyId, *cred.SecretAccessKey, "").ListKeys(ctx, &kms.ListKeysInput{})
	wantAPIError(t, err, "UnrecognizedClientException", "")
	_, err = kmsClient(s.Endpoint, *cred.AccessKeyId, *cred.SecretAccessKey, wrong).ListKeys(ctx, &kms.ListKeysInput{})
	wantAPIError(t, err, "UnrecognizedClientException", "")

	// Durations: the role's maximum, and 900 at least.
	_, err = bob.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("long"), DurationSeconds: aws.Int32(7201)})
	wantAPIError(t, err, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	_, err = bob.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("x")})
	wantAPIError(t, err, "ValidationError", "")
	_, err = bob.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("p"), Policy: aws.String(`{}`)})
	wantAPIError(t, err, "ValidationError", "")

	// Expired sessions are refused.
	s.Clock.Advance(901 * time.Second)
	_, err = sess.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "InvalidClientTokenId", "")

	// Denials.
	_, err = stsClient(s.Endpoint, servertest.AccessKeyID, servertest.Secret, "").AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("root")})
	wantAPIError(t, err, "AccessDenied", "Roles may not be assumed by root accounts.")
	carolKey := createUserWithKey(t, root, "carol")
	carol := stsClient(s.Endpoint, *carolKey.AccessKeyId, *carolKey.SecretAccessKey, "")
	_, err = carol.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("carol-1")})
	wantAPIError(t, err, "AccessDenied", "User: arn:aws:iam::111122223333:user/carol is not authorized to perform: sts:AssumeRole on resource: "+roleARN)
	wantStatus(t, err, 403)
	_, err = carol.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111122223333:role/Missing"), RoleSessionName: aws.String("carol-1")})
	wantAPIError(t, err, "AccessDenied", "User: arn:aws:iam::111122223333:user/carol is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111122223333:role/Missing")

	// A trust policy naming the account delegates to the caller's own
	// identity policy.
	if _, err := root.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("Deployer"),
		PolicyDocument: aws.String(trustPolicy("arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"))}); err != nil {
		t.Fatalf("UpdateAssumeRolePolicy: %v", err)
	}
	_, err = bob.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("bob-1")})
	wantAPIError(t, err, "AccessDenied", "User: "+bobARN+" is not authorized to perform: sts:AssumeRole on resource: "+roleARN)
	allowAssume := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"` + roleARN + `"}]}`
	if _, err := root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("assume"), PolicyDocument: aws.String(allowAssume)}); err != nil {
		t.Fatalf("PutUserPolicy: %v", err)
	}
	if _, err := bob.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("bob-1")}); err != nil {
		t.Fatalf("AssumeRole with trust naming the account and an identity policy allowing it: %v", err)
	}

	// Cross-account: the trust policy names the other account, and the
	// other account's user needs its own identity policy too.
	other := iamClient(s.Endpoint, servertest.OtherAccessKeyID, servertest.OtherSecret, "")
	daveKey := createUserWithKey(t, other, "dave")
	dave := stsClient(s.Endpoint, *daveKey.AccessKeyId, *daveKey.SecretAccessKey, "")
	_, err = dave.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("dave-1")})
	wantAPIError(t, err, "AccessDenied", "")
	if _, err := other.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("dave"), PolicyName: aws.String("assume"), PolicyDocument: aws.String(allowAssume)}); err != nil {
		t.Fatalf("PutUserPolicy in the other account: %v", err)
	}
	x, err := dave.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("dave-1")})
	if err != nil {
		t.Fatalf("cross-account AssumeRole: %v", err)
	}
	if got := aws.ToString(x.AssumedRoleUser.Arn); got != "arn:aws:sts::111122223333:assumed-role/Deployer/dave-1" {
		t.Fatalf("got %s, want a session in the role's account", got)
	}

	// Role policies and deletion.
	if _, err := root.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("Deployer"), PolicyName: aws.String("keys"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}`)}); err != nil {
		t.Fatalf("PutRolePolicy: %v", err)
	}
	if _, err := root.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("Deployer"), PolicyName: aws.String("list-keys")}); err != nil {
		t.Fatal(err)
	}
	_, err = root.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("Deployer")})
	wantAPIError(t, err, "DeleteConflict", "Cannot delete entity, must delete policies first.")
	if _, err := root.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("Deployer"), PolicyName: aws.String("keys")}); err != nil {
		t.Fatalf("DeleteRolePolicy: %v", err)
	}
	if _, err := root.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("Deployer")}); err != nil {
		t.Fatalf("DeleteRole: %v", err)
	}
	xs := stsClient(s.Endpoint, *x.Credentials.AccessKeyId, *x.Credentials.SecretAccessKey, *x.Credentials.SessionToken)
	_, err = xs.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "InvalidClientTokenId", "")
}

func TestManagedPolicies(t *testing.T) {
	s := startIAM(t)
	root := iamClient(s.Endpoint, servertest.AccessKeyID, servertest.Secret, "")
	createUserWithKey(t, root, "erin")
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}]}`
	cp, err := root.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("Encrypters"), Path: aws.String("/kms/"), PolicyDocument: aws.String(doc)})
	if err != nil {
		t.Fatalf("CreatePolicy: %v", err)
	}
	arn := aws.ToString(cp.Policy.Arn)
	if arn != "arn:aws:iam::111122223333:policy/kms/Encrypters" || aws.ToString(cp.Policy.DefaultVersionId) != "v1" {
		t.Fatalf("got %s %s, want .../policy/kms/Encrypters v1", arn, aws.ToString(cp.Policy.DefaultVersionId))
	}
	_, err = root.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("encrypters"), PolicyDocument: aws.String(doc)})
	wantAPIError(t, err, "EntityAlreadyExists", "A policy called encrypters already exists. Duplicate names are not allowed.")
	v, err := root.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")})
	if err != nil {
		t.Fatalf("GetPolicyVersion: %v", err)
	}
	if dec, _ := url.QueryUnescape(aws.ToString(v.PolicyVersion.Document)); dec != doc || !v.PolicyVersion.IsDefaultVersion {
		t.Fatalf("got version %q default=%v, want the document and default", dec, v.PolicyVersion.IsDefaultVersion)
	}
	if _, err := root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("erin"), PolicyArn: aws.String(arn)}); err != nil {
		t.Fatalf("AttachUserPolicy: %v", err)
	}
	att, err := root.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("erin")})
	if err != nil || len(att.AttachedPolicies) != 1 || aws.ToString(att.AttachedPolicies[0].PolicyArn) != arn {
		t.Fatalf("ListAttachedUserPolicies: got %v, %v; want [%s]", att, err, arn)
	}
	gp, err := root.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil || aws.ToInt32(gp.Policy.AttachmentCount) != 1 {
		t.Fatalf("GetPolicy: got %v, %v; want AttachmentCount 1", gp, err)
	}
	lp, err := root.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal, OnlyAttached: true})
	if err != nil || len(lp.Policies) != 1 {
		t.Fatalf("ListPolicies: got %v, %v; want one attached policy", lp, err)
	}
	_, err = root.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
	wantAPIError(t, err, "DeleteConflict", "Cannot delete a policy attached to entities.")
	_, err = root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("erin"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")})
	wantAPIError(t, err, "NoSuchEntity", "Policy arn:aws:iam::aws:policy/AdministratorAccess does not exist or is not attachable.")
	if _, err := root.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("erin"), PolicyArn: aws.String(arn)}); err != nil {
		t.Fatalf("DetachUserPolicy: %v", err)
	}
	if _, err := root.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)}); err != nil {
		t.Fatalf("DeletePolicy: %v", err)
	}
	_, err = root.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	wantAPIError(t, err, "NoSuchEntity", "")
}

// signedForm sends a form-encoded request signed like the CLI signs it.
func signedForm(t *testing.T, endpoint, service, body string, mutate func(*http.Request)) (int, string) {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, endpoint+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	signRequest(t, r, body, service)
	if mutate != nil {
		mutate(r)
	}
	resp, err := httpClient().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestIAMQueryProtocol(t *testing.T) {
	s := startIAM(t)

	// Unsigned.
	resp, err := httpClient().Post(s.Endpoint+"/", "application/x-www-form-urlencoded", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(b), "<Code>MissingAuthenticationToken</Code>") ||
		!strings.Contains(string(b), `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>`) {
		t.Fatalf("unsigned: got %d %s, want 403 MissingAuthenticationToken in an STS ErrorResponse", resp.StatusCode, b)
	}

	// The exact shape of a result.
	status, body := signedForm(t, s.Endpoint, "sts", "Action=GetCallerIdentity&Version=2011-06-15", nil)
	wantPrefix := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
		`<Arn>arn:aws:iam::111122223333:root</Arn><UserId>111122223333</UserId><Account>111122223333</Account>` +
		`</GetCallerIdentityResult><ResponseMetadata><RequestId>`
	if status != 200 || !strings.HasPrefix(body, wantPrefix) || !strings.HasSuffix(body, "</RequestId></ResponseMetadata></GetCallerIdentityResponse>") {
		t.Fatalf("got %d %s, want 200 and\n%s...", status, body, wantPrefix)
	}

	for _, tc := range []struct {
		name, service, body string
		mutate              func(*http.Request)
		status              int
		code                string
	}{
		{"unknown action", "iam", "Action=CreateGroup&Version=2010-05-08", nil, 400, "InvalidAction"},
		{"wrong version", "iam", "Action=CreateUser&Version=2011-06-15&UserName=x", nil, 400, "InvalidAction"},
		{"no action", "iam", "Version=2010-05-08", nil, 400, "MissingAction"},
		{"iam signed as sts", "sts", "Action=ListUsers&Version=2010-05-08", nil, 403, "SignatureDoesNotMatch"},
		{"tampered", "iam", "Action=ListUsers&Version=2010-05-08", func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader("Action=ListRoles&Version=2010-05-08"))
		}, 403, "SignatureDoesNotMatch"},
		{"missing parameter", "iam", "Action=CreateUser&Version=2010-05-08", nil, 400, "ValidationError"},
		{"bad escape", "iam", "Action=CreateUser&Version=2010-05-08&UserName=%zz", nil, 400, "MalformedQueryString"},
		{"too many parameters", "iam", "Action=ListUsers&Version=2010-05-08" + strings.Repeat("&a=1", 600), nil, 400, "MalformedQueryString"},
		{"too large", "iam", "Action=ListUsers&Version=2010-05-08&Pad=" + strings.Repeat("a", 70<<10), nil, 413, "RequestEntityTooLarge"},
		{"max items", "iam", "Action=ListUsers&Version=2010-05-08&MaxItems=0", nil, 400, "ValidationError"},
		{"bad marker", "iam", "Action=ListUsers&Version=2010-05-08&Marker=%%%", nil, 400, "MalformedQueryString"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := signedForm(t, s.Endpoint, tc.service, tc.body, tc.mutate)
			if status != tc.status || !strings.Contains(body, "<Code>"+tc.code+"</Code>") {
				t.Fatalf("got %d %s, want %d %s", status, body, tc.status, tc.code)
			}
		})
	}

	// GET with the parameters in the query string.
	r, err := http.NewRequest(http.MethodGet, s.Endpoint+"/?Action=ListUsers&Version=2010-05-08", nil)
	if err != nil {
		t.Fatal(err)
	}
	signRequest(t, r, "", "iam")
	resp, err = httpClient().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "<ListUsersResult><Users></Users><IsTruncated>false</IsTruncated></ListUsersResult>") {
		t.Fatalf("GET ListUsers: got %d %s, want 200 and an empty user list", resp.StatusCode, b)
	}

	// KMS JSON requests on the same endpoint still reach KMS.
	if _, err := kmsClient(s.Endpoint, servertest.AccessKeyID, servertest.Secret, "").ListKeys(ctx, &kms.ListKeysInput{}); err != nil {
		t.Fatalf("KMS ListKeys: %v", err)
	}
}

func TestAdminCreateAccount(t *testing.T) {
	s := startIAM(t)
	res, err := iamapi.CreateAccount(ctx, s.Endpoint, "", servertest.AccessKeyID, servertest.Secret, "777788889999")
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if res.AccountID != "777788889999" || res.ARN != "arn:aws:iam::777788889999:root" || !strings.HasPrefix(res.AccessKeyID, "AKIA") || res.SecretAccessKey == "" {
		t.Fatalf("got %+v, want account 777788889999 with a root key", res)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", res, res, res), res.SecretAccessKey) {
		t.Fatal("got the secret in the formatted result, want it redacted")
	}
	id, err := stsClient(s.Endpoint, res.AccessKeyID, res.SecretAccessKey, "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != "777788889999" {
		t.Fatalf("GetCallerIdentity with the new root key: got %v, %v; want account 777788889999", id, err)
	}
	if _, err := kmsClient(s.Endpoint, res.AccessKeyID, res.SecretAccessKey, "").CreateKey(ctx, &kms.CreateKeyInput{}); err != nil {
		t.Fatalf("CreateKey in the new account: %v", err)
	}

	random, err := iamapi.CreateAccount(ctx, s.Endpoint, "eu-west-1", servertest.AccessKeyID, servertest.Secret, "")
	if err != nil || len(random.AccountID) != 12 {
		t.Fatalf("CreateAccount with a random id: got %+v, %v", random, err)
	}

	_, err = iamapi.CreateAccount(ctx, s.Endpoint, "", servertest.AccessKeyID, servertest.Secret, "777788889999")
	var apiErr *iamapi.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "EntityAlreadyExists" || apiErr.StatusCode != 409 {
		t.Fatalf("duplicate: got %v, want EntityAlreadyExists (409)", err)
	}
	_, err = iamapi.CreateAccount(ctx, s.Endpoint, "", servertest.OtherAccessKeyID, servertest.OtherSecret, "")
	if !errors.As(err, &apiErr) || apiErr.Code != "AccessDenied" || apiErr.StatusCode != 403 {
		t.Fatalf("another account's root: got %v, want AccessDenied (403)", err)
	}
	_, err = iamapi.CreateAccount(ctx, s.Endpoint, "", servertest.AccessKeyID, servertest.Secret, "12")
	if !errors.As(err, &apiErr) || apiErr.Code != "ValidationError" {
		t.Fatalf("bad id: got %v, want ValidationError", err)
	}
}

// TestIAMCLIScript runs scripts/iam-e2e.sh, the AWS CLI flow for users,
// roles and sessions.
func TestIAMCLIScript(t *testing.T) {
	requireTool(t, "aws")
	requireTool(t, "bash")
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "iam-e2e.sh"))
	if err != nil {
		t.Fatal(err)
	}
	s := startIAM(t)
	runCtx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(runCtx, "bash", script, s.Endpoint)
	cmd.Dir = t.TempDir()
	cmd.Env = awsCLIEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("iam-e2e.sh: got %v, want success; output:\n%s", err, out)
	}
	if !strings.Contains(string(out), "iam-e2e: ok") {
		t.Fatalf("iam-e2e.sh: got output without \"iam-e2e: ok\":\n%s", out)
	}
}

// signRequest signs r as the default account's root user for service.
func signRequest(t *testing.T, r *http.Request, body, service string) {
	t.Helper()
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: servertest.AccessKeyID, SecretAccessKey: servertest.Secret}
	if err := v4.NewSigner().SignHTTP(ctx, creds, r, hex.EncodeToString(sum[:]), service, servertest.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
}
