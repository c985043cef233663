package arn

import "testing"

func TestParse(t *testing.T) {
	good := []struct {
		in              string
		region, account string
		key, alias      bool
	}{
		{"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "us-east-1", "111122223333", true, false},
		{"arn:aws:kms:eu-west-1:000000000000:alias/my-key", "eu-west-1", "000000000000", false, true},
		{"arn:aws:kms:eu-west-1:000000000000:alias/a/b:c", "eu-west-1", "000000000000", false, true},
	}
	for _, tc := range good {
		a, err := Parse(tc.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.in, err)
		}
		if a.Region != tc.region || a.Account != tc.account || a.IsKey() != tc.key || a.IsAlias() != tc.alias {
			t.Errorf("Parse(%q) = %+v", tc.in, a)
		}
		if a.String() != tc.in {
			t.Errorf("String() = %q, want %q", a.String(), tc.in)
		}
	}
	bad := []string{"", "arn", "arn:aws:s3:us-east-1:111122223333:key/x", "arn:aws:kms::111122223333:key/x",
		"arn:aws:kms:us-east-1:1111:key/x", "arn:aws:kms:us-east-1:111122223333:key/", "arn:aws:kms:us-east-1:111122223333:alias/",
		"arn:aws:kms:us-east-1:111122223333:bucket/x", "alias/foo", "1234abcd-12ab-34cd-56ef-1234567890ab"}
	for _, s := range bad {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) succeeded, want error", s)
		}
	}
}
