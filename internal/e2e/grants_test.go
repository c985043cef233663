package e2e_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/openkms/openkms/internal/server/servertest"
)

func TestGrants(t *testing.T) {
	s, root := start(t)
	gina := newUser(t, s, "gina", "") // no IAM policy: only grants give her access
	ginaARN := "arn:aws:iam::" + servertest.Account + ":user/gina"
	retirer := newUser(t, s, "rita", "")
	ritaARN := "arn:aws:iam::" + servertest.Account + ":user/rita"
	md := createKey(t, root)
	ec := map[string]string{"project": "blue"}

	_, err := gina.Encrypt(ctx, &kms.EncryptInput{KeyId: md.Arn, Plaintext: []byte("x"), EncryptionContext: ec})
	wantAPIError(t, err, "AccessDeniedException", "")

	g, err := root.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: md.KeyId, GranteePrincipal: aws.String(ginaARN), RetiringPrincipal: aws.String(ritaARN),
		Operations:  []types.GrantOperation{"Encrypt", "Decrypt", "CreateGrant"},
		Constraints: &types.GrantConstraints{EncryptionContextSubset: ec}, Name: aws.String("blue-data")})
	if err != nil {
		t.Fatal(err)
	}
	if len(aws.ToString(g.GrantId)) != 64 || aws.ToString(g.GrantToken) == "" {
		t.Fatalf("CreateGrant output: %+v", g)
	}
	// The same name and parameters return the same grant.
	again, err := root.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: md.KeyId, GranteePrincipal: aws.String(ginaARN), RetiringPrincipal: aws.String(ritaARN),
		Operations:  []types.GrantOperation{"Encrypt", "Decrypt", "CreateGrant"},
		Constraints: &types.GrantConstraints{EncryptionContextSubset: ec}, Name: aws.String("blue-data")})
	if err != nil || aws.ToString(again.GrantId) != aws.ToString(g.GrantId) {
		t.Errorf("idempotent CreateGrant: got %v, %v; want grant %s", again, err, aws.ToString(g.GrantId))
	}
	// The grant works at once (with its token, or without), within its constraints.
	enc, err := gina.Encrypt(ctx, &kms.EncryptInput{KeyId: md.Arn, Plaintext: []byte("x"), EncryptionContext: map[string]string{"project": "blue", "extra": "ok"},
		GrantTokens: []string{aws.ToString(g.GrantToken)}})
	if err != nil {
		t.Fatalf("Encrypt through the grant: %v", err)
	}
	if _, err := gina.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"project": "blue", "extra": "ok"}}); err != nil {
		t.Errorf("Decrypt through the grant: %v", err)
	}
	_, err = gina.Encrypt(ctx, &kms.EncryptInput{KeyId: md.Arn, Plaintext: []byte("x"), EncryptionContext: map[string]string{"project": "red"}})
	wantAPIError(t, err, "AccessDeniedException", "")
	_, err = gina.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: md.Arn, KeySpec: types.DataKeySpecAes256, EncryptionContext: ec})
	wantAPIError(t, err, "AccessDeniedException", "")
	_, err = gina.Encrypt(ctx, &kms.EncryptInput{KeyId: md.Arn, Plaintext: []byte("x"), EncryptionContext: ec, GrantTokens: []string{"not-a-token"}})
	wantAPIError(t, err, "InvalidGrantTokenException", "")

	// A grant with CreateGrant allows only grants that are no wider.
	if _, err := gina.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: md.Arn, GranteePrincipal: aws.String(ritaARN),
		Operations: []types.GrantOperation{"Decrypt"}, Constraints: &types.GrantConstraints{EncryptionContextEquals: ec}}); err != nil {
		t.Errorf("narrower grant through a grant: %v", err)
	}
	_, err = gina.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: md.Arn, GranteePrincipal: aws.String(ritaARN), Operations: []types.GrantOperation{"Decrypt", "GenerateDataKey"}})
	wantAPIError(t, err, "AccessDeniedException", "")
	_, err = gina.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: md.Arn, GranteePrincipal: aws.String(ritaARN), Operations: []types.GrantOperation{"Decrypt"}})
	wantAPIError(t, err, "AccessDeniedException", "")

	list, err := root.ListGrants(ctx, &kms.ListGrantsInput{KeyId: md.KeyId})
	if err != nil || len(list.Grants) != 2 || list.Truncated {
		t.Fatalf("ListGrants: got %+v, %v; want 2 grants", list, err)
	}
	retirable, err := retirer.ListRetirableGrants(ctx, &kms.ListRetirableGrantsInput{RetiringPrincipal: aws.String(ritaARN)})
	if err == nil {
		t.Errorf("ListRetirableGrants without IAM permission succeeded: %+v", retirable)
	}
	retirable, err = root.ListRetirableGrants(ctx, &kms.ListRetirableGrantsInput{RetiringPrincipal: aws.String(ritaARN)})
	if err != nil || len(retirable.Grants) != 1 || aws.ToString(retirable.Grants[0].GrantId) != aws.ToString(g.GrantId) {
		t.Fatalf("ListRetirableGrants: got %+v, %v", retirable, err)
	}

	// The retiring principal retires the grant; access ends.
	if _, err := retirer.RetireGrant(ctx, &kms.RetireGrantInput{GrantToken: g.GrantToken}); err != nil {
		t.Fatalf("RetireGrant by the retiring principal: %v", err)
	}
	_, err = gina.Encrypt(ctx, &kms.EncryptInput{KeyId: md.Arn, Plaintext: []byte("x"), EncryptionContext: ec})
	wantAPIError(t, err, "AccessDeniedException", "")
	// The remaining grant (rita's) is revoked by the key owner.
	list, _ = root.ListGrants(ctx, &kms.ListGrantsInput{KeyId: md.KeyId})
	if len(list.Grants) != 1 {
		t.Fatalf("grants after retiring one: %d", len(list.Grants))
	}
	_, err = gina.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: md.Arn, GrantId: list.Grants[0].GrantId})
	wantAPIError(t, err, "AccessDeniedException", "")
	if _, err := root.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: md.KeyId, GrantId: list.Grants[0].GrantId}); err != nil {
		t.Fatalf("RevokeGrant: %v", err)
	}
	_, err = root.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: md.KeyId, GrantId: list.Grants[0].GrantId})
	wantAPIError(t, err, "NotFoundException", "")
	_, err = root.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: md.KeyId, GranteePrincipal: aws.String("not an arn"), Operations: []types.GrantOperation{"Decrypt"}})
	wantAPIError(t, err, "InvalidArnException", "")
	_, err = root.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: md.KeyId, GranteePrincipal: aws.String(ginaARN), Operations: []types.GrantOperation{"Sign"},
		Constraints: &types.GrantConstraints{EncryptionContextSubset: ec}})
	wantAPIError(t, err, "ValidationException", "")
}
