package e2e_test

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/openkms/openkms/internal/audit"
	"github.com/openkms/openkms/internal/server/servertest"
)

// TestAuditIAMAndSTS checks that IAM and STS calls are recorded like KMS
// calls: one record each, in the same verified chain, with CloudTrail's
// eventSource, the caller, the kept parameters, failures with their error
// code, and never a secret access key or session token.
func TestAuditIAMAndSTS(t *testing.T) {
	s := servertest.Start(t, servertest.Options{})
	root := iamClient(s.Endpoint, servertest.AccessKeyID, servertest.Secret, "")
	key := createUserWithKey(t, root, "auditee") // CreateUser, CreateAccessKey
	if _, err := root.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")}); err == nil {
		t.Fatal("GetUser of a missing user succeeded")
	}
	if _, err := root.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("Auditor"),
		AssumeRolePolicyDocument: aws.String(trustPolicy("arn:aws:iam::" + servertest.Account + ":user/auditee"))}); err != nil {
		t.Fatal(err)
	}
	user := stsClient(s.Endpoint, *key.AccessKeyId, *key.SecretAccessKey, "")
	if _, err := user.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	sess, err := user.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + servertest.Account + ":role/Auditor"),
		RoleSessionName: aws.String("audit-session"), ExternalId: aws.String("external-id-marker")})
	if err != nil {
		t.Fatal(err)
	}
	forged := iamClient(s.Endpoint, "AKIAFORGEDKEY0000001", "not-the-secret", "")
	if _, err := forged.ListUsers(ctx, &iam.ListUsersInput{}); err == nil {
		t.Fatal("ListUsers with an unknown access key succeeded")
	}
	s.Stop(t)

	events := verifyAudit(t, auditDir(s))
	type want struct{ source, name, identity, errCode string }
	find := func(w want) *audit.Event {
		for i := range events {
			e := &events[i]
			if e.EventSource == w.source && e.EventName == w.name && e.ErrorCode == w.errCode && e.UserIdentity.Type == w.identity {
				return e
			}
		}
		t.Errorf("no record %+v", w)
		return nil
	}
	if e := find(want{audit.EventSourceIAM, "CreateUser", "Root", ""}); e != nil {
		if v, _ := e.RequestParameters.Get("userName"); v != "auditee" || e.ReadOnly || e.AWSRegion != "us-east-1" {
			t.Errorf("CreateUser record: userName %v, readOnly %v, region %s", v, e.ReadOnly, e.AWSRegion)
		}
		if !e.ResponseElements.IsZero() {
			t.Errorf("CreateUser record keeps responseElements %v", e.ResponseElements.Names())
		}
	}
	find(want{audit.EventSourceIAM, "CreateAccessKey", "Root", ""})
	if e := find(want{audit.EventSourceIAM, "GetUser", "Root", "NoSuchEntity"}); e != nil && !e.ReadOnly {
		t.Error("GetUser record is not readOnly")
	}
	if e := find(want{audit.EventSourceSTS, "GetCallerIdentity", "IAMUser", ""}); e != nil && e.UserIdentity.AccessKeyID != *key.AccessKeyId {
		t.Errorf("GetCallerIdentity record names access key %q", e.UserIdentity.AccessKeyID)
	}
	if e := find(want{audit.EventSourceSTS, "AssumeRole", "IAMUser", ""}); e != nil {
		if v, _ := e.RequestParameters.Get("roleSessionName"); v != "audit-session" {
			t.Errorf("AssumeRole record: roleSessionName %v", v)
		}
		if _, ok := e.RequestParameters.Get("externalId"); ok {
			t.Error("AssumeRole record keeps the external id")
		}
	}
	if e := find(want{audit.EventSourceIAM, "ListUsers", "Unknown", "InvalidClientTokenId"}); e != nil && e.UserIdentity.AccessKeyID != "AKIAFORGEDKEY0000001" {
		t.Errorf("unauthenticated record names access key %q", e.UserIdentity.AccessKeyID)
	}

	all := auditBytes(t, auditDir(s))
	for name, secret := range map[string]string{
		"the user's secret access key": *key.SecretAccessKey,
		"the session's secret key":     *sess.Credentials.SecretAccessKey,
		"the session token":            *sess.Credentials.SessionToken,
		"the root secret":              servertest.Secret,
		"the external id":              "external-id-marker",
	} {
		if bytes.Contains(all, []byte(secret)) || bytes.Contains(all, []byte(base64.StdEncoding.EncodeToString([]byte(secret)))) {
			t.Errorf("%s is in the audit files", name)
		}
	}
}
