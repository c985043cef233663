package e2e_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/openkms/openkms/internal/config"
	"github.com/openkms/openkms/internal/server/servertest"
)

func TestCreateKeyDefaults(t *testing.T) {
	_, c := start(t)
	before := time.Now().Add(-time.Second)
	out, err := c.CreateKey(ctx, &kms.CreateKeyInput{
		Description: aws.String("my key"),
		Tags:        []types.Tag{{TagKey: aws.String("team"), TagValue: aws.String("blue")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	md := out.KeyMetadata
	wantARN := fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", servertest.Region, servertest.Account, *md.KeyId)
	checks := []struct {
		name      string
		got, want any
	}{
		{"Arn", aws.ToString(md.Arn), wantARN},
		{"AWSAccountId", aws.ToString(md.AWSAccountId), servertest.Account},
		{"Description", aws.ToString(md.Description), "my key"},
		{"Enabled", md.Enabled, true},
		{"KeyState", md.KeyState, types.KeyStateEnabled},
		{"KeyUsage", md.KeyUsage, types.KeyUsageTypeEncryptDecrypt},
		{"KeySpec", md.KeySpec, types.KeySpecSymmetricDefault},
		{"CustomerMasterKeySpec", md.CustomerMasterKeySpec, types.CustomerMasterKeySpecSymmetricDefault},
		{"Origin", md.Origin, types.OriginTypeAwsKms},
		{"KeyManager", md.KeyManager, types.KeyManagerTypeCustomer},
		{"EncryptionAlgorithms", fmt.Sprint(md.EncryptionAlgorithms), "[SYMMETRIC_DEFAULT]"},
		{"MultiRegion", aws.ToBool(md.MultiRegion), false},
		{"DeletionDate", md.DeletionDate == nil, true},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if md.CreationDate == nil || md.CreationDate.Before(before) || md.CreationDate.After(time.Now().Add(time.Second)) {
		t.Errorf("CreationDate: got %v, want about now", md.CreationDate)
	}
	if len(aws.ToString(md.CurrentKeyMaterialId)) != 64 {
		t.Errorf("CurrentKeyMaterialId: got %q, want 64 hex characters", aws.ToString(md.CurrentKeyMaterialId))
	}

	// DescribeKey by id, key ARN, alias name and alias ARN.
	if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/my-key"), TargetKeyId: md.KeyId}); err != nil {
		t.Fatal(err)
	}
	aliasARN := fmt.Sprintf("arn:aws:kms:%s:%s:alias/my-key", servertest.Region, servertest.Account)
	for _, id := range []string{*md.KeyId, wantARN, "alias/my-key", aliasARN} {
		d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
		if err != nil {
			t.Fatalf("DescribeKey(%s): %v", id, err)
		}
		if *d.KeyMetadata.KeyId != *md.KeyId {
			t.Errorf("DescribeKey(%s): got key %s, want %s", id, *d.KeyMetadata.KeyId, *md.KeyId)
		}
	}

	// The policy is the default key policy, and tags were stored.
	pol, err := c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: md.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(aws.ToString(pol.Policy), "arn:aws:iam::"+servertest.Account+":root") {
		t.Errorf("default policy: got %s, want it to name the account root", aws.ToString(pol.Policy))
	}
	tags, err := c.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: md.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.Tags) != 1 || *tags.Tags[0].TagKey != "team" || *tags.Tags[0].TagValue != "blue" {
		t.Errorf("tags: got %+v, want team=blue", tags.Tags)
	}
}

func TestCreateKeyWithPolicyStoredAsGiven(t *testing.T) {
	_, c := start(t)
	policy := `{"Version":"2012-10-17","Statement":[{"Sid":"x","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`
	out, err := c.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(policy), BypassPolicyLockoutSafetyCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: out.KeyMetadata.KeyId, PolicyName: aws.String("default")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Policy) != policy {
		t.Errorf("policy: got %s, want %s", aws.ToString(got.Policy), policy)
	}
	_, err = c.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(strings.Repeat(" ", 32769))})
	wantAPIError(t, err, "LimitExceededException", "")
	names, err := c.ListKeyPolicies(ctx, &kms.ListKeyPoliciesInput{KeyId: out.KeyMetadata.KeyId})
	if err != nil || len(names.PolicyNames) != 1 || names.PolicyNames[0] != "default" {
		t.Errorf("ListKeyPolicies: got %v, %v; want [default]", names, err)
	}
}

func TestCreateKeyValidation(t *testing.T) {
	_, c := start(t)
	cases := []struct {
		name string
		in   kms.CreateKeyInput
		code string
	}{
		{"unknown key spec", kms.CreateKeyInput{KeySpec: "AES_512"}, "ValidationException"},
		{"unknown usage", kms.CreateKeyInput{KeyUsage: "FLY"}, "ValidationException"},
		{"usage incompatible with spec", kms.CreateKeyInput{KeyUsage: types.KeyUsageTypeSignVerify}, "ValidationException"},
		{"description too long", kms.CreateKeyInput{Description: aws.String(strings.Repeat("d", 8193))}, "ValidationException"},
		{"reserved tag", kms.CreateKeyInput{Tags: []types.Tag{{TagKey: aws.String("aws:x"), TagValue: aws.String("v")}}}, "TagException"},
		{"tag key too long", kms.CreateKeyInput{Tags: []types.Tag{{TagKey: aws.String(strings.Repeat("k", 129)), TagValue: aws.String("v")}}}, "ValidationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateKey(ctx, &tc.in)
			wantAPIError(t, err, tc.code, "")
		})
	}
}

func TestListKeysPaging(t *testing.T) {
	_, c := start(t)
	want := map[string]bool{}
	for i := 0; i < 7; i++ {
		want[*createKey(t, c).KeyId] = true
	}
	got := map[string]bool{}
	var marker *string
	pages := 0
	for {
		out, err := c.ListKeys(ctx, &kms.ListKeysInput{Limit: aws.Int32(3), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, k := range out.Keys {
			if got[*k.KeyId] {
				t.Fatalf("key %s listed twice", *k.KeyId)
			}
			got[*k.KeyId] = true
			if !strings.HasSuffix(*k.KeyArn, ":key/"+*k.KeyId) {
				t.Errorf("KeyArn %s does not end with the key id", *k.KeyArn)
			}
		}
		if !out.Truncated {
			if out.NextMarker != nil {
				t.Errorf("last page has NextMarker %q", *out.NextMarker)
			}
			break
		}
		marker = out.NextMarker
	}
	if len(got) != len(want) || pages != 3 {
		t.Errorf("got %d keys in %d pages, want %d in 3", len(got), pages, len(want))
	}
	_, err := c.ListKeys(ctx, &kms.ListKeysInput{Limit: aws.Int32(1001)})
	wantAPIError(t, err, "ValidationException", "")
	_, err = c.ListKeys(ctx, &kms.ListKeysInput{Marker: aws.String("!!not-a-marker!!")})
	wantAPIError(t, err, "InvalidMarkerException", "")
}

func TestEnableDisableAndDescription(t *testing.T) {
	_, c := start(t)
	id := createKey(t, c).KeyId
	if _, err := c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	d, _ := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
	if d.KeyMetadata.KeyState != types.KeyStateDisabled || d.KeyMetadata.Enabled {
		t.Errorf("after DisableKey: got %s enabled=%v, want Disabled", d.KeyMetadata.KeyState, d.KeyMetadata.Enabled)
	}
	_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	wantAPIError(t, err, "DisabledException", "")
	if _, err := c.EnableKey(ctx, &kms.EnableKeyInput{KeyId: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")}); err != nil {
		t.Errorf("Encrypt after EnableKey: %v", err)
	}
	if _, err := c.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: id, Description: aws.String("new")}); err != nil {
		t.Fatal(err)
	}
	d, _ = c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
	if aws.ToString(d.KeyMetadata.Description) != "new" {
		t.Errorf("description: got %q, want new", aws.ToString(d.KeyMetadata.Description))
	}
	// Management operations take a key id or key ARN, not an alias.
	c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/a"), TargetKeyId: id})
	_, err = c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String("alias/a")})
	wantAPIError(t, err, "NotFoundException", "Invalid keyId alias/a")
}

func TestKeyNotFoundErrors(t *testing.T) {
	_, c := start(t)
	missing := "11111111-2222-3333-4444-555555555555"
	arn := fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", servertest.Region, servertest.Account, missing)
	_, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(missing)})
	wantAPIError(t, err, "NotFoundException", "Key '"+arn+"' does not exist")
	_, err = c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("not-a-key")})
	wantAPIError(t, err, "NotFoundException", "Invalid keyId 'not-a-key'")
	_, err = c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/nope")})
	wantAPIError(t, err, "NotFoundException", fmt.Sprintf("Alias arn:aws:kms:%s:%s:alias/nope is not found.", servertest.Region, servertest.Account))
	_, err = c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("")})
	wantAPIError(t, err, "ValidationException", "")
}

func TestKeysLiveInTheirRegion(t *testing.T) {
	s, c := start(t)
	md := createKey(t, c)
	west := s.Client("eu-west-1")
	_, err := west.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: md.KeyId})
	wantAPIError(t, err, "NotFoundException", "")
	_, err = west.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: md.Arn})
	wantAPIError(t, err, "NotFoundException", "")
	list, err := west.ListKeys(ctx, &kms.ListKeysInput{})
	if err != nil || len(list.Keys) != 0 {
		t.Errorf("ListKeys in eu-west-1: got %v, %v; want none", list, err)
	}
	wmd := createKey(t, west)
	if !strings.HasPrefix(*wmd.Arn, "arn:aws:kms:eu-west-1:") {
		t.Errorf("key made in eu-west-1 has ARN %s", *wmd.Arn)
	}
}

func TestRegionsCanBeRestricted(t *testing.T) {
	s := servertest.Start(t, servertest.Options{Config: func(c *config.Server) { c.Regions = []string{"us-east-1"} }})
	if _, err := s.Client("us-east-1").ListKeys(ctx, &kms.ListKeysInput{}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Client("ap-south-1").ListKeys(ctx, &kms.ListKeysInput{})
	wantAPIError(t, err, "UnrecognizedClientException", "")
}

func TestAccountIsolation(t *testing.T) {
	s, c := start(t)
	md := createKey(t, c)
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: md.KeyId, Plaintext: []byte("secret")})
	if err != nil {
		t.Fatal(err)
	}
	other := s.ClientAs(servertest.Region, servertest.OtherAccessKeyID, servertest.OtherSecret)
	_, err = other.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: md.Arn})
	wantAPIError(t, err, "AccessDeniedException", "")
	_, err = other.Encrypt(ctx, &kms.EncryptInput{KeyId: md.Arn, Plaintext: []byte("x")})
	wantAPIError(t, err, "AccessDeniedException", "")
	_, err = other.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	wantAPIError(t, err, "AccessDeniedException", "")
	// A bare key id names a key in the caller's own account.
	_, err = other.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: md.KeyId})
	wantAPIError(t, err, "NotFoundException", "")
	list, err := other.ListKeys(ctx, &kms.ListKeysInput{})
	if err != nil || len(list.Keys) != 0 {
		t.Errorf("other account ListKeys: got %v, %v; want none", list, err)
	}
}

func TestScheduleAndCancelDeletion(t *testing.T) {
	_, c := start(t)
	id := createKey(t, c).KeyId
	for _, days := range []int32{6, 31} {
		_, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: aws.Int32(days)})
		wantAPIError(t, err, "ValidationException", "PendingWindowInDays must be between 7 and 30")
	}
	out, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: id})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.PendingWindowInDays) != 30 || out.KeyState != types.KeyStatePendingDeletion {
		t.Errorf("ScheduleKeyDeletion: got %d days, state %s; want 30, PendingDeletion", aws.ToInt32(out.PendingWindowInDays), out.KeyState)
	}
	if d := time.Until(*out.DeletionDate); d < 29*24*time.Hour || d > 31*24*time.Hour {
		t.Errorf("DeletionDate: got %v from now, want 30 days", d)
	}
	d, _ := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
	if d.KeyMetadata.KeyState != types.KeyStatePendingDeletion || d.KeyMetadata.DeletionDate == nil || aws.ToInt32(d.KeyMetadata.PendingDeletionWindowInDays) != 30 {
		t.Errorf("DescribeKey while pending: got %+v", d.KeyMetadata)
	}
	// State gates: crypto is KMSInvalidStateException; so are Enable,
	// Disable, a second schedule, tags and description.
	_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: id, Plaintext: []byte("x")})
	wantAPIError(t, err, "KMSInvalidStateException", "")
	_, err = c.EnableKey(ctx, &kms.EnableKeyInput{KeyId: id})
	wantAPIError(t, err, "KMSInvalidStateException", "")
	_, err = c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: id})
	wantAPIError(t, err, "KMSInvalidStateException", "")
	_, err = c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: id})
	wantAPIError(t, err, "KMSInvalidStateException", "")
	_, err = c.TagResource(ctx, &kms.TagResourceInput{KeyId: id, Tags: []types.Tag{{TagKey: aws.String("k"), TagValue: aws.String("v")}}})
	wantAPIError(t, err, "KMSInvalidStateException", "")
	_, err = c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/doomed"), TargetKeyId: id})
	wantAPIError(t, err, "KMSInvalidStateException", "")

	cancel, err := c.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: id})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(aws.ToString(cancel.KeyId), *id) {
		t.Errorf("CancelKeyDeletion KeyId: got %s", aws.ToString(cancel.KeyId))
	}
	d, _ = c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
	if d.KeyMetadata.KeyState != types.KeyStateDisabled || d.KeyMetadata.DeletionDate != nil {
		t.Errorf("after cancel: got %s deletion %v, want Disabled and no date", d.KeyMetadata.KeyState, d.KeyMetadata.DeletionDate)
	}
	_, err = c.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: id})
	wantAPIError(t, err, "KMSInvalidStateException", *d.KeyMetadata.Arn+" is not pending deletion.")
}

func TestKeyIsDeletedWhenItsDateComes(t *testing.T) {
	clock := servertest.NewClock()
	s := servertest.Start(t, servertest.Options{Clock: clock, Config: func(c *config.Server) {
		c.SchedulerInterval = config.Duration(20 * time.Millisecond)
	}})
	c := s.Client(servertest.Region)
	doomed, kept := createKey(t, c).KeyId, createKey(t, c).KeyId
	c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/doomed"), TargetKeyId: doomed})
	if _, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: doomed, PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(6 * 24 * time.Hour)
	time.Sleep(100 * time.Millisecond) // several job runs
	if _, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: doomed}); err != nil {
		t.Fatalf("key deleted before its date: %v", err)
	}
	clock.Advance(24*time.Hour + time.Minute)
	waitFor(t, func() bool {
		_, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: doomed})
		return err != nil
	})
	_, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: doomed})
	wantAPIError(t, err, "NotFoundException", "")
	if _, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: kept}); err != nil {
		t.Errorf("other key: %v", err)
	}
	aliases, _ := c.ListAliases(ctx, &kms.ListAliasesInput{})
	if len(aliases.Aliases) != 0 {
		t.Errorf("aliases of the deleted key remain: %+v", aliases.Aliases)
	}
}

func TestDeletionScheduleSurvivesRestart(t *testing.T) {
	clock := servertest.NewClock()
	fast := func(c *config.Server) { c.SchedulerInterval = config.Duration(20 * time.Millisecond) }
	s := servertest.Start(t, servertest.Options{Clock: clock, Config: fast})
	c := s.Client(servertest.Region)
	id := createKey(t, c).KeyId
	if _, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	s.Stop(t)
	clock.Advance(8 * 24 * time.Hour)
	s2 := servertest.Start(t, servertest.Options{DataDir: s.DataDir, Clock: clock, Config: fast})
	c2 := s2.Client(servertest.Region)
	waitFor(t, func() bool {
		_, err := c2.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: id})
		return err != nil
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
