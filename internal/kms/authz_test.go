package kms

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/openkms/openkms/internal/principal"
)

// TestRequestContext checks every condition key requestContext works out
// on demand, that absent ones are absent, and that the request's own keys
// win over derived ones.
func TestRequestContext(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	c := Caller{
		Principal: principal.Principal{Account: "111122223333", ARN: "arn:aws:iam::111122223333:user/eng/alice",
			UserID: "AIDAALICE", Type: principal.TypeIAMUser, Tags: principal.NewTags(map[string]string{"Team": "kms"})},
		Region: "us-east-1", SourceIP: "192.0.2.7", SecureTransport: true, SourceVpc: "vpc-1", SourceVpce: "vpce-1",
		ViaService: "s3.us-east-1.amazonaws.com", CalledVia: "s3.amazonaws.com",
	}
	k := &keyRecord{KeyID: "k", Account: "444455556666", Region: "us-east-1", KeySpec: "RSA_2048", KeyUsage: "SIGN_VERIFY",
		Origin: "EXTERNAL", Tags: []Tag{{Key: "Project", Value: "x"}}}
	r := newAuthz(c, "kms:Sign", k).with("kms:SigningAlgorithm", "RSASSA_PSS_SHA_256").with("aws:SourceIp", "198.51.100.1")
	rc := &requestContext{r: r, now: now, s: &Service{now: func() time.Time { return now }}, ctx: context.Background()}
	want := map[string][]string{
		"aws:currenttime":            {"2026-11-28T12:00:00Z"},
		"aws:epochtime":              {"1795867200"},
		"aws:sourceip":               {"198.51.100.1"}, // the request's own value wins
		"aws:securetransport":        {"true"},
		"aws:sourcevpc":              {"vpc-1"},
		"aws:sourcevpce":             {"vpce-1"},
		"aws:viaawsservice":          {"true"},
		"kms:viaservice":             {"s3.us-east-1.amazonaws.com"},
		"aws:calledvia":              {"s3.amazonaws.com"},
		"aws:calledviafirst":         {"s3.amazonaws.com"},
		"aws:calledvialast":          {"s3.amazonaws.com"},
		"kms:keyorigin":              {"EXTERNAL"},
		"kms:keyspec":                {"RSA_2048"},
		"kms:customermasterkeyspec":  {"RSA_2048"},
		"kms:keyusage":               {"SIGN_VERIFY"},
		"kms:customermasterkeyusage": {"SIGN_VERIFY"},
		"kms:multiregion":            {"false"},
		"kms:signingalgorithm":       {"RSASSA_PSS_SHA_256"},
		"aws:principalarn":           {"arn:aws:iam::111122223333:user/eng/alice"},
		"aws:principalaccount":       {"111122223333"},
		"kms:calleraccount":          {"111122223333"},
		"aws:principaltype":          {"User"},
		"aws:username":               {"alice"},
		"aws:userid":                 {"AIDAALICE"},
		"aws:principaltag/team":      {"kms"},
		"aws:resourcetag/project":    {"x"},
	}
	for key, w := range want {
		if got, ok := rc.Lookup(key); !ok || !slices.Equal(got, w) {
			t.Errorf("%s = %q, %v; want %q", key, got, ok, w)
		}
	}
	for _, key := range []string{"aws:principaltag/other", "aws:resourcetag/other", "kms:encryptioncontextkeys", "aws:principalservicename"} {
		if got, ok := rc.Lookup(key); ok {
			t.Errorf("%s = %q, want absent", key, got)
		}
	}

	// A caller with no network or service details, and no key.
	plain := &requestContext{r: newAuthz(Caller{Principal: principal.Principal{Account: "111122223333",
		ARN: "arn:aws:iam::111122223333:root", Type: principal.TypeRoot}}, "kms:ListKeys", nil), now: now}
	for _, key := range []string{"aws:sourceip", "aws:sourcevpc", "aws:sourcevpce", "kms:viaservice", "aws:calledvia", "kms:keyspec", "kms:resourcealiases", "aws:username"} {
		if got, ok := plain.Lookup(key); ok {
			t.Errorf("plain caller: %s = %q, want absent", key, got)
		}
	}
	for key, w := range map[string]string{"aws:viaawsservice": "false", "aws:securetransport": "false", "aws:principaltype": "Account"} {
		if got, ok := plain.Lookup(key); !ok || len(got) != 1 || got[0] != w {
			t.Errorf("plain caller: %s = %q, %v; want %q", key, got, ok, w)
		}
	}
}
