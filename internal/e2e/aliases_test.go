package e2e_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/openkms/openkms/internal/server/servertest"
)

func TestAliases(t *testing.T) {
	_, c := start(t)
	a, b := createKey(t, c), createKey(t, c)
	if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/app"), TargetKeyId: a.Arn}); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/app"), TargetKeyId: b.KeyId})
	wantAPIError(t, err, "AlreadyExistsException", "")
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String("alias/app"), Plaintext: []byte("x")})
	if err != nil || aws.ToString(enc.KeyId) != *a.Arn {
		t.Fatalf("Encrypt via alias: %v %v", enc, err)
	}
	if _, err := c.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: aws.String("alias/app"), TargetKeyId: b.KeyId}); err != nil {
		t.Fatal(err)
	}
	d, _ := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/app")})
	if *d.KeyMetadata.KeyId != *b.KeyId {
		t.Errorf("after UpdateAlias: alias names %s, want %s", *d.KeyMetadata.KeyId, *b.KeyId)
	}
	// Old ciphertexts still decrypt: they name their key, not the alias.
	if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil {
		t.Errorf("Decrypt after alias moved: %v", err)
	}
	list, err := c.ListAliases(ctx, &kms.ListAliasesInput{})
	if err != nil || len(list.Aliases) != 1 {
		t.Fatalf("ListAliases: %v %v", list, err)
	}
	al := list.Aliases[0]
	wantARN := fmt.Sprintf("arn:aws:kms:%s:%s:alias/app", servertest.Region, servertest.Account)
	if aws.ToString(al.AliasName) != "alias/app" || aws.ToString(al.AliasArn) != wantARN || aws.ToString(al.TargetKeyId) != *b.KeyId ||
		al.CreationDate == nil || al.LastUpdatedDate == nil {
		t.Errorf("alias entry: got %+v", al)
	}
	if _, err := c.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String("alias/app")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String("alias/app")})
	wantAPIError(t, err, "NotFoundException", "Alias "+wantARN+" is not found.")
	_, err = c.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: aws.String("alias/app"), TargetKeyId: a.KeyId})
	wantAPIError(t, err, "NotFoundException", "")
	if _, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: b.KeyId}); err != nil {
		t.Errorf("key after its alias was deleted: %v", err)
	}
}

func TestAliasNameRules(t *testing.T) {
	_, c := start(t)
	id := createKey(t, c).KeyId
	cases := []struct {
		name, code string
	}{
		{"no-prefix", "ValidationException"},
		{"alias/has:colon", "ValidationException"},
		{"alias/", "ValidationException"},
		{"alias/has space", "ValidationException"},
		{"alias/" + strings.Repeat("a", 251), "ValidationException"},
		{"alias/aws/reserved", "NotAuthorizedException"},
	}
	for _, tc := range cases {
		_, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(tc.name), TargetKeyId: id})
		wantAPIError(t, err, tc.code, "")
	}
	if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/Ok_name-1/x"), TargetKeyId: id}); err != nil {
		t.Errorf("valid alias name refused: %v", err)
	}
	_, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/to-alias"), TargetKeyId: aws.String("alias/Ok_name-1/x")})
	wantAPIError(t, err, "ValidationException", "")
	_, err = c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/missing"), TargetKeyId: aws.String("11111111-2222-3333-4444-555555555555")})
	wantAPIError(t, err, "NotFoundException", "")
}

func TestListAliasesFilterAndPaging(t *testing.T) {
	_, c := start(t)
	a, b := createKey(t, c), createKey(t, c)
	var want []string
	for i := 0; i < 5; i++ {
		name := fmt.Sprintf("alias/a%d", i)
		want = append(want, name)
		c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(name), TargetKeyId: a.KeyId})
	}
	c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/b"), TargetKeyId: b.KeyId})
	var got []string
	var marker *string
	for {
		out, err := c.ListAliases(ctx, &kms.ListAliasesInput{KeyId: a.Arn, Limit: aws.Int32(2), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, al := range out.Aliases {
			got = append(got, *al.AliasName)
		}
		if !out.Truncated {
			break
		}
		marker = out.NextMarker
	}
	sort.Strings(got)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ListAliases(KeyId=a): got %v, want %v", got, want)
	}
	_, err := c.ListAliases(ctx, &kms.ListAliasesInput{Limit: aws.Int32(101)})
	wantAPIError(t, err, "ValidationException", "")
}

func TestTags(t *testing.T) {
	_, c := start(t)
	id := createKey(t, c).KeyId
	tag := func(k, v string) types.Tag { return types.Tag{TagKey: aws.String(k), TagValue: aws.String(v)} }
	if _, err := c.TagResource(ctx, &kms.TagResourceInput{KeyId: id, Tags: []types.Tag{tag("a", "1"), tag("b", "2"), tag("c", "")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TagResource(ctx, &kms.TagResourceInput{KeyId: id, Tags: []types.Tag{tag("a", "changed")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &kms.UntagResourceInput{KeyId: id, TagKeys: []string{"b", "absent"}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: id})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range out.Tags {
		got = append(got, *tg.TagKey+"="+*tg.TagValue)
	}
	if fmt.Sprint(got) != "[a=changed c=]" {
		t.Errorf("tags: got %v, want [a=changed c=]", got)
	}
	_, err = c.TagResource(ctx, &kms.TagResourceInput{KeyId: id, Tags: []types.Tag{tag("AWS:reserved", "x")}})
	wantAPIError(t, err, "TagException", "Tags beginning with aws: are reserved")
	many := make([]types.Tag, 0, 49)
	for i := 0; i < 49; i++ {
		many = append(many, tag(fmt.Sprintf("k%02d", i), "v"))
	}
	_, err = c.TagResource(ctx, &kms.TagResourceInput{KeyId: id, Tags: many})
	wantAPIError(t, err, "TagException", "Too many tags")
	_, err = c.TagResource(ctx, &kms.TagResourceInput{KeyId: id, Tags: []types.Tag{tag("d", "1"), tag("d", "2")}})
	wantAPIError(t, err, "TagException", "Duplicate tag keys")
	_, err = c.TagResource(ctx, &kms.TagResourceInput{KeyId: id, Tags: []types.Tag{tag("ok", "1"), tag("v", strings.Repeat("v", 257))}})
	wantAPIError(t, err, "ValidationException", "")
	// Paging.
	page, err := c.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: id, Limit: aws.Int32(1)})
	if err != nil || len(page.Tags) != 1 || !page.Truncated {
		t.Fatalf("first page: %+v %v", page, err)
	}
	page2, err := c.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: id, Limit: aws.Int32(1), Marker: page.NextMarker})
	if err != nil || len(page2.Tags) != 1 || *page2.Tags[0].TagKey != "c" || page2.Truncated {
		t.Fatalf("second page: %+v %v", page2, err)
	}
}
