package policy_test

import (
	"testing"

	"github.com/openkms/openkms/internal/policy"
)

// benchPolicy is a realistic five-statement key policy: account root,
// key administrators, key users, the grant statement for AWS services, and
// a Deny that requires an encryption context.
const benchPolicy = `{
  "Version": "2012-10-17",
  "Id": "key-consolepolicy-3",
  "Statement": [
    {
      "Sid": "Enable IAM User Permissions",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
      "Action": "kms:*",
      "Resource": "*"
    },
    {
      "Sid": "Allow access for Key Administrators",
      "Effect": "Allow",
      "Principal": {"AWS": ["arn:aws:iam::111122223333:user/KMSAdminUser", "arn:aws:iam::111122223333:role/KMSAdminRole"]},
      "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
                 "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
                 "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"],
      "Resource": "*"
    },
    {
      "Sid": "Allow use of the key",
      "Effect": "Allow",
      "Principal": {"AWS": ["arn:aws:iam::111122223333:user/ExampleUser", "arn:aws:iam::111122223333:role/ExampleRole", "arn:aws:iam::444455556666:root"]},
      "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
      "Resource": "*"
    },
    {
      "Sid": "Allow attachment of persistent resources",
      "Effect": "Allow",
      "Principal": {"AWS": ["arn:aws:iam::111122223333:user/ExampleUser", "arn:aws:iam::111122223333:role/ExampleRole", "arn:aws:iam::444455556666:root"]},
      "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
      "Resource": "*",
      "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    },
    {
      "Sid": "Require the department encryption context",
      "Effect": "Deny",
      "Principal": "*",
      "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
      "Resource": "*",
      "Condition": {"StringNotEquals": {"kms:EncryptionContext:Department": ["Finance", "IT"]}}
    }
  ]
}`

type benchReq struct {
	name string
	req  policy.Request
	want policy.Decision
}

func benchRequests() []benchReq {
	return []benchReq{
		{"user decrypt with context", rq(exUser, "kms:Decrypt", keyA, "kms:EncryptionContext:Department", "Finance", "kms:EncryptionContextKeys", "Department", "aws:SourceIp", "203.0.113.9"), policy.Allow},
		{"role session encrypt", rq(exRole, "kms:Encrypt", keyA, "aws:SourceIp", "203.0.113.9"), policy.Allow},
		{"user decrypt without context", rq(exUser, "kms:Decrypt", keyA), policy.Deny},
		{"external grant", rq(bobB, "kms:CreateGrant", keyA, "kms:GrantIsForAWSResource", "true"), policy.Allow},
		{"admin describe", rq(admUser, "kms:DescribeKey", keyA), policy.Allow},
		{"stranger", rq(user(acctC, "Mallory"), "kms:Decrypt", keyA, "kms:EncryptionContext:Department", "IT"), policy.NotApplicable},
	}
}

func BenchmarkEvaluate(b *testing.B) {
	p := mustParse(b, benchPolicy, K)
	for _, br := range benchRequests() {
		b.Run(br.name, func(b *testing.B) {
			req := br.req
			if got := p.Evaluate(&req); got.Decision != br.want {
				b.Fatalf("got %s, want %s", got.Decision, br.want)
			}
			b.ReportAllocs()
			for b.Loop() {
				p.Evaluate(&req)
			}
		})
	}
}

func BenchmarkParseKeyPolicy(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := policy.ParseKeyPolicy(benchPolicy); err != nil {
			b.Fatal(err)
		}
	}
}
