package policy_test

import (
	"testing"

	"github.com/openkms/openkms/internal/policy"
)

// The decision corpus: policies (most of them verbatim from the AWS KMS and
// IAM documentation) and requests, with the expected decision and the
// statements that must apply with their principal-match kind.

type corpusPolicy struct {
	kind policy.Kind
	doc  string
}

var K, I, T = policy.KindKey, policy.KindIdentity, policy.KindTrust

var corpusPolicies = map[string]corpusPolicy{
	// key-policy-default.md: the default key policy for keys created
	// programmatically (moto/localstack: Id key-default-1).
	"default": {K, `{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`},

	// key-policy-overview.md: "Example key policy" (console policy).
	"console": {K, `{
  "Version": "2012-10-17",
  "Id": "key-consolepolicy-2",
  "Statement": [
    {
      "Sid": "Enable IAM policies",
      "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
      "Action": "kms:*",
      "Resource": "*"
    },
    {
      "Sid": "Allow access for Key Administrators",
      "Effect": "Allow",
      "Principal": {"AWS": [
        "arn:aws:iam::111122223333:user/KMSAdminUser",
        "arn:aws:iam::111122223333:role/KMSAdminRole"
      ]},
      "Action": [
        "kms:Create*",
        "kms:Describe*",
        "kms:Enable*",
        "kms:List*",
        "kms:Put*",
        "kms:Update*",
        "kms:Revoke*",
        "kms:Disable*",
        "kms:Get*",
        "kms:Delete*",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:ScheduleKeyDeletion",
        "kms:CancelKeyDeletion"
      ],
      "Resource": "*"
    },
    {
      "Sid": "Allow use of the key",
      "Effect": "Allow",
      "Principal": {"AWS": [
        "arn:aws:iam::111122223333:user/ExampleUser",
        "arn:aws:iam::111122223333:role/ExampleRole",
        "arn:aws:iam::444455556666:root"
      ]},
      "Action": [
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey*",
        "kms:DescribeKey"
      ],
      "Resource": "*"
    },
    {
      "Sid": "Allow attachment of persistent resources",
      "Effect": "Allow",
      "Principal": {"AWS": [
        "arn:aws:iam::111122223333:user/ExampleUser",
        "arn:aws:iam::111122223333:role/ExampleRole",
        "arn:aws:iam::444455556666:root"
      ]},
      "Action": [
        "kms:CreateGrant",
        "kms:ListGrants",
        "kms:RevokeGrant"
      ],
      "Resource": "*",
      "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    }
  ]
}`},

	// conditions-kms.md kms:CallerAccount: the AWS managed key for EBS.
	"ebs": {K, kp(`{
  "Sid": "Allow access through EBS for all principals in the account that are authorized to use EBS",
  "Effect": "Allow",
  "Principal": {"AWS": "*"},
  "Condition": {
    "StringEquals": {
      "kms:CallerAccount": "111122223333",
      "kms:ViaService": "ec2.us-west-2.amazonaws.com"
    }
  },
  "Action": ["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:CreateGrant","kms:DescribeKey"],
  "Resource": "*"
}`)},

	// conditions-kms.md kms:ViaService (allow via EC2/RDS; deny via Lambda).
	"via": {K, kp(`{
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::111122223333:user/ExampleUser"},
  "Action": ["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:CreateGrant","kms:ListGrants","kms:DescribeKey"],
  "Resource": "*",
  "Condition": {"StringEquals": {"kms:ViaService": ["ec2.us-west-2.amazonaws.com","rds.us-west-2.amazonaws.com"]}}
}`, `{
  "Effect": "Deny",
  "Principal": {"AWS": "arn:aws:iam::111122223333:user/ExampleUser"},
  "Action": ["kms:Encrypt"],
  "Resource": "*",
  "Condition": {"StringEquals": {"kms:ViaService": ["lambda.us-west-2.amazonaws.com"]}}
}`)},

	// conditions-kms.md kms:EncryptionContext:context-key examples.
	"ec-appname": {K, kp(`{
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::111122223333:role/RoleForExampleApp"},
  "Action": "kms:GenerateDataKey",
  "Resource": "*",
  "Condition": {"StringEquals": {"kms:EncryptionContext:AppName": "ExampleApp"}}
}`)},
	"ec-appname-only": {K, kp(`{
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::712816755609:user/alice"},
  "Action": "kms:GenerateDataKey",
  "Resource": "*",
  "Condition": {
    "StringEquals": {"kms:EncryptionContext:AppName": "ExampleApp"},
    "ForAllValues:StringEquals": {"kms:EncryptionContextKeys": ["AppName"]}
  }
}`)},
	"ec-deny-stage": {K, kp(`{
  "Effect": "Deny",
  "Principal": {"AWS": "arn:aws:iam::111122223333:role/RoleForExampleApp"},
  "Action": "kms:GenerateDataKey",
  "Resource": "*",
  "Condition": {"StringEquals": {"kms:EncryptionContext:Stage": ["Restricted","Production"]}}
}`)},
	"ec-two-pairs": {K, kp(`{
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::111122223333:role/RoleForExampleApp"},
  "Action": "kms:Decrypt",
  "Resource": "*",
  "Condition": {"StringEquals": {"kms:EncryptionContext:Department": "IT","kms:EncryptionContext:Project": "Alpha"}}
}`)},
	"ec-either-pair": {K, kp(`{
 "Effect": "Allow",
 "Principal": {"AWS": "arn:aws:iam::111122223333:role/RoleForExampleApp"},
 "Action": "kms:GenerateDataKey",
 "Resource": "*",
 "Condition": {"StringEquals": {"kms:EncryptionContext:Department": "IT"}}
}`, `{
 "Effect": "Allow",
 "Principal": {"AWS": "arn:aws:iam::111122223333:role/RoleForExampleApp"},
 "Action": "kms:GenerateDataKey",
 "Resource": "*",
 "Condition": {"StringEquals": {"kms:EncryptionContext:Project": "Alpha"}}
}`)},
	"ec-case": {K, kp(`{
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::111122223333:role/RoleForExampleApp"},
  "Action": "kms:Decrypt",
  "Resource": "*",
  "Condition": {"StringEquals": {"kms:EncryptionContext:Appname": "ExampleApp"}}
}`)},
	"ec-keys-any": {K, kp(`{
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::111122223333:role/RoleForExampleApp"},
  "Action": ["kms:Encrypt","kms:GenerateDataKey*"],
  "Resource": "*",
  "Condition": {"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "AppName"}}
}`)},
	"ec-keys-null": {K, kp(`{
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::111122223333:role/RoleForExampleApp"},
  "Action": ["kms:Encrypt","kms:GenerateDataKey*"],
  "Resource": "*",
  "Condition": {"Null": {"kms:EncryptionContextKeys": false}}
}`)},
	"ec-var-user": {K, kp(`{
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
  "Action": ["kms:Decrypt","kms:Encrypt"],
  "Resource": "*",
  "Condition": {"StringEquals": {"kms:EncryptionContext:user": "${aws:username}"}}
}`)},
	"ec-deny-not-dept": {K, kp(`{
  "Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "kms:*", "Resource": "*"
}`, `{
  "Sid": "DenyOtherDepartments",
  "Effect": "Deny",
  "Principal": "*",
  "Action": ["kms:Decrypt","kms:GenerateDataKey*"],
  "Resource": "*",
  "Condition": {"StringNotEquals": {"kms:EncryptionContext:Department": "Finance"}}
}`)},

	// conditions-kms.md: grant conditions.
	"grant-ops-all": {K, kp(`{
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::111122223333:user/ExampleUser"},
  "Action": "kms:CreateGrant",
  "Resource": "*",
  "Condition": {"ForAllValues:StringEquals": {"kms:GrantOperations": ["Encrypt","ReEncryptTo"]}}
}`)},
	"grant-ops-any": {K, kp(`{
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::111122223333:user/ExampleUser"},
  "Action": "kms:CreateGrant",
  "Resource": "*",
  "Condition": {"ForAnyValue:StringEquals": {"kms:GrantOperations": ["Encrypt","ReEncryptTo"]}}
}`)},
	"grant-misc": {K, kp(`{
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::111122223333:user/ExampleUser"},
  "Action": "kms:CreateGrant",
  "Resource": "*",
  "Condition": {"StringEquals": {"kms:GrantConstraintType": "EncryptionContextEquals"}}
}`, `{
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::111122223333:user/ExampleUser"},
  "Action": "kms:CreateGrant",
  "Resource": "*",
  "Condition": {"StringEquals": {"kms:GranteePrincipal": "arn:aws:iam::111122223333:role/LimitedAdminRole"}}
}`, `{
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::111122223333:user/ExampleUser"},
  "Action": "kms:CreateGrant",
  "Resource": "*",
  "Condition": {"StringEquals": {"kms:RetiringPrincipal": ["arn:aws:iam::111122223333:role/LimitedAdminRole","arn:aws:iam::111122223333:user/OpsAdmin"]}}
}`)},

	// conditions-kms.md kms:KeyOrigin: first statement CreateKey (IAM policy
	// semantics, Resource "*"), second: use of CloudHSM keys.
	"keyorigin-id": {I, kp(`{
  "Effect": "Allow",
  "Action": "kms:CreateKey",
  "Resource": "*",
  "Condition": {"StringEquals": {"kms:KeyOrigin": "AWS_KMS"}}
}`, `{
  "Effect": "Allow",
  "Action": ["kms:Encrypt","kms:Decrypt","kms:GenerateDataKey","kms:GenerateDataKeyWithoutPlaintext","kms:GenerateDataKeyPair","kms:GenerateDataKeyPairWithoutPlaintext","kms:ReEncrypt*"],
  "Resource": "arn:aws:kms:us-west-2:111122223333:key/*",
  "Condition": {"StringEquals": {"kms:KeyOrigin": "AWS_CLOUDHSM"}}
}`)},
	// kms:KeySpec / kms:KeyUsage / kms:MultiRegion IAM examples.
	"keyspec-id": {I, kp(`{
  "Effect": "Allow", "Action": "kms:CreateKey", "Resource": "*",
  "Condition": {"StringLike": {"kms:KeySpec": "RSA_*"}}
}`, `{
  "Effect": "Allow", "Action": "kms:CreateKey", "Resource": "*",
  "Condition": {"StringEquals": {"kms:KeyUsage": "ENCRYPT_DECRYPT"}}
}`, `{
  "Effect": "Allow", "Action": "kms:CreateKey", "Resource": "*",
  "Condition": {"Bool": {"kms:MultiRegion": false}}
}`)},
	// kms:BypassPolicyLockoutSafetyCheck (IAM Deny; key policy Null).
	"bypass": {I, kp(`{
  "Effect": "Deny",
  "Action": ["kms:CreateKey","kms:PutKeyPolicy"],
  "Resource": "*",
  "Condition": {"Bool": {"kms:BypassPolicyLockoutSafetyCheck": true}}
}`, `{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}`)},
	"bypass-null": {K, kp(`{
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::111122223333:user/ExampleUser"},
  "Action": "kms:PutKeyPolicy",
  "Resource": "*",
  "Condition": {"Null": {"kms:BypassPolicyLockoutSafetyCheck": true}}
}`)},

	// aws:SourceIp, aws:SourceVpc, aws:SourceVpce.
	"sourceip-deny": {I, kp(`{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}`, `{
  "Effect": "Deny",
  "Action": "*",
  "Resource": "*",
  "Condition": {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24","203.0.113.0/24"]}}
}`)},
	"sourceip-v6": {K, kp(`{
  "Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "kms:Decrypt", "Resource": "*",
  "Condition": {"IpAddress": {"aws:SourceIp": ["2001:DB8:1234:5678::/64", "203.0.113.7"]}}
}`)},
	"vpc": {K, kp(`{
  "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": ["kms:Encrypt","kms:Decrypt"], "Resource": "*",
  "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-12345678"}}
}`, `{
  "Sid": "DenyOutsideEndpoint",
  "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
  "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}
}`)},

	// ABAC: aws:PrincipalTag / aws:ResourceTag / aws:RequestTag / aws:TagKeys.
	"abac-id": {I, kp(`{
  "Effect": "Allow",
  "Action": ["kms:Encrypt","kms:Decrypt"],
  "Resource": "arn:aws:kms:*:111122223333:key/*",
  "Condition": {"StringEquals": {"aws:ResourceTag/Project": "${aws:PrincipalTag/Project}"}}
}`, `{
  "Effect": "Allow",
  "Action": "kms:DescribeKey",
  "Resource": "*",
  "Condition": {"StringEquals": {"aws:ResourceTag/Project": "${aws:PrincipalTag/Project, 'shared'}"}}
}`)},
	"resourcetag-key": {K, kp(`{
  "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:Decrypt", "Resource": "*",
  "Condition": {"StringEquals": {"aws:ResourceTag/Environment": "Production"}}
}`)},
	"tagkeys": {I, kp(`{
  "Effect": "Allow", "Action": "kms:TagResource", "Resource": "*",
  "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["Project","Owner"]}, "StringEqualsIfExists": {"aws:RequestTag/Owner": "${aws:username}"}}
}`, `{
  "Sid": "DenyRestrictedTags",
  "Effect": "Deny", "Action": "kms:UntagResource", "Resource": ["*"],
  "Condition": {"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}}
}`)},

	// kms:RequestAlias / kms:ResourceAliases.
	"requestalias": {K, kp(`{
  "Sid": "Key policy using a request alias condition",
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::111122223333:role/developer"},
  "Action": "kms:GenerateDataKey",
  "Resource": "*",
  "Condition": {"StringEquals": {"kms:RequestAlias": "alias/finance-key"}}
}`)},
	"resourcealiases-id": {I, kp(`{
  "Sid": "AliasBasedIAMPolicy",
  "Effect": "Allow",
  "Action": "kms:GenerateDataKey",
  "Resource": ["arn:aws:kms:*:111122223333:key/*","arn:aws:kms:*:444455556666:key/*"],
  "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/finance-key"}}
}`)},
	"resourcealiases-test": {I, kp(`{
  "Sid": "AliasBasedIAMPolicy",
  "Effect": "Allow",
  "Action": ["kms:EnableKey","kms:DisableKey"],
  "Resource": "arn:aws:kms:*:111122223333:key/*",
  "Condition": {
    "ForAllValues:StringLike": {"kms:ResourceAliases": ["alias/*Test*"]},
    "ForAnyValue:StringLike": {"kms:ResourceAliases": ["alias/*Test*"]}
  }
}`)},

	// Explicit Deny beats Allow.
	"deny-user": {K, kp(`{
  "Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"
}`, `{
  "Sid": "DenyBob", "Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::111122223333:user/Bob"}, "Action": ["kms:Decrypt","kms:Describe*"], "Resource": "*"
}`)},
	// moto test_policy__deny_based_on_actions / allow_based_on_actions.
	"moto-deny-all":      {K, `{"Version":"2012-10-17","Id":"","Statement":[{"Sid":"test","Effect":"Deny","Principal":"*","Action":["kms:*"],"Resource":"*"}]}`},
	"moto-deny-unknown2": {K, `{"Version":"2012-10-17","Id":"","Statement":[{"Sid":"test","Effect":"Deny","Principal":"*","Action":["kms:unknown","kms:*"],"Resource":"*"}]}`},
	"moto-deny-describe": {K, `{"Version":"2012-10-17","Id":"","Statement":[{"Sid":"test","Effect":"Deny","Principal":"*","Action":["kms:DescribeKey"],"Resource":"*"}]}`},
	"moto-deny-desc*":    {K, `{"Version":"2012-10-17","Id":"","Statement":[{"Sid":"test","Effect":"Deny","Principal":"*","Action":["kms:Describe*"],"Resource":"*"}]}`},
	"moto-deny-unknown":  {K, `{"Version":"2012-10-17","Id":"","Statement":[{"Sid":"test","Effect":"Deny","Principal":"*","Action":["kms:unknown"],"Resource":"*"}]}`},
	"moto-deny-stuff":    {K, `{"Version":"2012-10-17","Id":"","Statement":[{"Sid":"test","Effect":"Deny","Principal":"*","Action":["kms:describestuff"],"Resource":"*"}]}`},

	// NotAction / NotResource / NotPrincipal.
	"notaction": {K, kp(`{
  "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/ExampleUser"},
  "NotAction": ["kms:ScheduleKeyDeletion","kms:Delete*"], "Resource": "*"
}`)},
	"notresource-id": {I, kp(`{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}`, `{
  "Effect": "Deny", "Action": "kms:*", "NotResource": "arn:aws:kms:*:111122223333:key/*"
}`)},
	// reference_policies_elements_notprincipal.md examples.
	"notprincipal-user": {K, kp(`{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}`, `{
  "Effect": "Deny",
  "NotPrincipal": {"AWS": ["arn:aws:iam::444455556666:user/Bob","arn:aws:iam::444455556666:root"]},
  "Action": "kms:*",
  "Resource": "*"
}`)},
	"notprincipal-session": {K, kp(`{
  "Effect": "Deny",
  "NotPrincipal": {"AWS": [
    "arn:aws:sts::444455556666:assumed-role/cross-account-read-only-role/cross-account-audit-app",
    "arn:aws:iam::444455556666:role/cross-account-read-only-role",
    "arn:aws:iam::444455556666:root"
  ]},
  "Action": "kms:*",
  "Resource": "*"
}`)},
	"notprincipal-role-only": {K, kp(`{
  "Effect": "Deny",
  "NotPrincipal": {"AWS": ["arn:aws:iam::444455556666:role/cross-account-read-only-role","arn:aws:iam::444455556666:root"]},
  "Action": "kms:*", "Resource": "*"
}`)},
	"notprincipal-no-account": {K, kp(`{
  "Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::444455556666:user/Bob"}, "Action": "kms:*", "Resource": "*"
}`)},
	"notprincipal-service": {K, kp(`{
  "Effect": "Deny", "NotPrincipal": {"Service": "logs.us-west-2.amazonaws.com"}, "Action": "kms:Encrypt", "Resource": "*"
}`)},

	// Action wildcards and case.
	"actions": {K, kp(
		`{"Sid":"Describe","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/A"},"Action":"kms:Describe*","Resource":"*"}`,
		`{"Sid":"All","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/B"},"Action":"kms:*","Resource":"*"}`,
		`{"Sid":"Star","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/C"},"Action":"*","Resource":"*"}`,
		`{"Sid":"Q","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/D"},"Action":["kms:?ecrypt","KMS:generatedatakey"],"Resource":"*"}`,
		`{"Sid":"Mid","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/E"},"Action":"kms:*Key*","Resource":"*"}`,
	)},

	// IfExists, Null, dates, numbers.
	"ifexists": {K, kp(
		`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:Encrypt","Resource":"*","Condition":{"StringEqualsIfExists":{"kms:ViaService":"ec2.us-west-2.amazonaws.com"}}}`,
		`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:ScheduleKeyDeletion","Resource":"*","Condition":{"NumericGreaterThanEqualsIfExists":{"kms:ScheduleKeyDeletionPendingWindowInDays":"14"}}}`,
		`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:Decrypt","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"}}}`,
		`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:Sign","Resource":"*","Condition":{"ForAnyValue:StringEqualsIfExists":{"aws:CalledVia":"cloudformation.amazonaws.com"}}}`,
	)},
	"null": {I, kp(
		`{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"true"}}}`,
		`{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"false","aws:MultiFactorAuthAge":"false"}}}`,
	)},
	"dates": {I, kp(
		`{"Sid":"After2020","Effect":"Allow","Action":"kms:Encrypt","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"}}}`,
		`{"Sid":"Before2019Epoch","Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"DateLessThan":{"aws:EpochTime":"1546257599"}}}`,
		`{"Sid":"Exactly","Effect":"Allow","Action":"kms:Sign","Resource":"*","Condition":{"DateEquals":{"aws:CurrentTime":"2020-01-01T02:00:00+02:00"}}}`,
		`{"Sid":"Window","Effect":"Allow","Action":"kms:Verify","Resource":"*","Condition":{"DateGreaterThanEquals":{"aws:CurrentTime":"2024-01-01"},"DateLessThanEquals":{"aws:CurrentTime":"2024-12-31T23:59:59Z"}}}`,
		`{"Sid":"TokenAge","Effect":"Deny","Action":"kms:*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2023-06-01T00:00:00Z"}}}`,
	)},
	"validto": {K, kp(`{
  "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::111122223333:user/ExampleUser"},
  "Action": "kms:ImportKeyMaterial",
  "Resource": "*",
  "Condition": {"NumericLessThanEquals": {"kms:ValidTo": "1546257599.0"}}
}`)},
	"pending-window": {K, kp(
		`{"Sid":"Admins","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/KMSAdminRole"},"Action":"kms:ScheduleKeyDeletion","Resource":"*","Condition":{"NumericGreaterThanEquals":{"kms:ScheduleKeyDeletionPendingWindowInDays":"14"}}}`,
		`{"Sid":"NoShortWindows","Effect":"Deny","Principal":"*","Action":"kms:ScheduleKeyDeletion","Resource":"*","Condition":{"NumericLessThan":{"kms:ScheduleKeyDeletionPendingWindowInDays":30}}}`,
	)},
	"numeric-misc": {I, kp(
		`{"Sid":"Eq","Effect":"Allow","Action":"kms:Encrypt","Resource":"*","Condition":{"NumericEquals":{"test:n":["7","1e3"]}}}`,
		`{"Sid":"Ne","Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"NumericNotEquals":{"test:n":["7","8"]}}}`,
		`{"Sid":"Gt","Effect":"Allow","Action":"kms:Sign","Resource":"*","Condition":{"NumericGreaterThan":{"test:n":"-1.5"}}}`,
	)},

	// Policy variables.
	"vars-resource": {I, kp(`{
  "Effect": "Allow", "Action": "kms:Encrypt",
  "Resource": "arn:aws:kms:us-west-2:111122223333:key/${aws:PrincipalTag/keyid}"
}`)},
	"vars-2008": {K, `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:Encrypt","Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:user":"${aws:username}"}}}]}`},
	"vars-none": {K, `{"Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:Encrypt","Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:user":"${aws:username}"}}}}`},
	"vars-escapes": {K, kp(
		`{"Sid":"Star","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:Encrypt","Resource":"*","Condition":{"StringLike":{"kms:EncryptionContext:x":"a${*}b"}}}`,
		`{"Sid":"Q","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringLike":{"kms:EncryptionContext:x":"a${?}${$}"}}}`,
		`{"Sid":"Default","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:Sign","Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:x":"${aws:PrincipalTag/team, 'it''s ok'}"}}}`,
		`{"Sid":"Literal","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:Verify","Resource":"*","Condition":{"StringLike":{"kms:EncryptionContext:x":"pre-${aws:PrincipalTag/team}-*"}}}`,
	)},
	"vars-deny-unresolved": {K, kp(
		`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:Decrypt","Resource":"*"}`,
		`{"Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*","Condition":{"StringNotEquals":{"kms:EncryptionContext:user":"${aws:username}"}}}`,
	)},

	// Principals.
	"principals": {K, kp(
		`{"Sid":"Svc","Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"kms:CreateGrant","Resource":"*"}`,
		`{"Sid":"Path","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/division_abc/subdivision_xyz/Alice"},"Action":"kms:Encrypt","Resource":"*"}`,
		`{"Sid":"RolePath","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/service-role/AppRole"},"Action":"kms:Decrypt","Resource":"*"}`,
		`{"Sid":"Session","Effect":"Allow","Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/DevRole/alice-session"},"Action":"kms:Sign","Resource":"*"}`,
		`{"Sid":"Fed","Effect":"Allow","Principal":{"AWS":"arn:aws:sts::111122223333:federated-user/Carol"},"Action":"kms:Verify","Resource":"*"}`,
		`{"Sid":"Mixed","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:user/Dave","*"]},"Action":"kms:GetPublicKey","Resource":"*"}`,
		`{"Sid":"RootAndUser","Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::111122223333:user/Dave"]},"Action":"kms:GenerateMac","Resource":"*"}`,
		`{"Sid":"AnyAWS","Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:VerifyMac","Resource":"*"}`,
		`{"Sid":"Anyone","Effect":"Allow","Principal":"*","Action":"kms:GenerateRandom","Resource":"*"}`,
		`{"Sid":"RoleLower","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/examplerole"},"Action":"kms:ListGrants","Resource":"*"}`,
	)},

	// ARN operators.
	"arn": {K, kp(
		`{"Sid":"Like","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:Encrypt","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:111122223333:trail/*"}}}`,
		`{"Sid":"Equals","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:Decrypt","Resource":"*","Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:s3:::amzn-s3-demo-bucket"}}}`,
		`{"Sid":"NotLike","Effect":"Deny","Principal":"*","Action":"kms:Sign","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/Signer*"}}}`,
		`{"Sid":"Var","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:Verify","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::${aws:PrincipalTag/bucket}/*"}}}`,
		`{"Sid":"Short","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:GenerateMac","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:iam::*"}}}`,
	)},

	// Role trust policies (IAM User Guide examples).
	"trust-ec2":   {T, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`},
	"trust-xacct": {T, `{"Version":"2012-10-17","Statement":{"Sid":"CrossAccount","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"sts:ExternalId":"Unique1"}}}}`},

	// BinaryEquals.
	"binary": {I, kp(`{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*","Condition":{"BinaryEquals":{"test:bin":"QmluYXJ5VmFsdWU="}}}`)},

	// Resource in key policies.
	"key-resource": {K, kp(
		`{"Sid":"ThisKey","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:Encrypt","Resource":"arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}`,
		`{"Sid":"NoResource","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:*"}`,
		`{"Sid":"Pattern","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:Decrypt","Resource":"arn:aws:kms:us-west-?:111122223333:key/*"}`,
	)},

	// Set operators with negated operators, and multivalued keys without
	// a set operator.
	"sets": {I, kp(
		`{"Sid":"AnyNotEq","Effect":"Allow","Action":"kms:Encrypt","Resource":"*","Condition":{"ForAnyValue:StringNotEquals":{"aws:TagKeys":"a"}}}`,
		`{"Sid":"PlainNotEq","Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"StringNotEquals":{"aws:TagKeys":"a"}}}`,
		`{"Sid":"PlainEq","Effect":"Allow","Action":"kms:Sign","Resource":"*","Condition":{"StringEquals":{"aws:TagKeys":"a"}}}`,
		`{"Sid":"AllIgnoreCase","Effect":"Allow","Action":"kms:Verify","Resource":"*","Condition":{"ForAllValues:StringEqualsIgnoreCase":{"aws:CalledVia":["CLOUDFORMATION.amazonaws.com","athena.amazonaws.com"]}}}`,
		`{"Sid":"AnyIP","Effect":"Allow","Action":"kms:GenerateMac","Resource":"*","Condition":{"ForAnyValue:IpAddress":{"test:ips":"10.0.0.0/8"}}}`,
	)},
}

type corpusCase struct {
	name    string
	policy  string
	req     policy.Request
	want    policy.Decision
	matches string // see matchesString
}

var (
	alice   = user(acctA, "Alice")
	exUser  = user(acctA, "ExampleUser")
	exRole  = sess(acctA, "ExampleRole", "s1")
	admUser = user(acctA, "KMSAdminUser")
	admRole = sess(acctA, "KMSAdminRole", "admin-session")
	appRole = sess(acctA, "RoleForExampleApp", "app")
	bobB    = user(acctB, "Bob")
	na      = policy.NotApplicable
	allow   = policy.Allow
	deny    = policy.Deny
)

var corpusCases = []corpusCase{
	// Default key policy.
	{"default/root", "default", rq(root(acctA), "kms:Encrypt", keyA), allow, "0:account"},
	{"default/user", "default", rq(alice, "kms:Decrypt", keyA), allow, "0:account"},
	{"default/session", "default", rq(exRole, "kms:PutKeyPolicy", keyA), allow, "0:account"},
	{"default/federated", "default", rq(fed(acctA, "Carol"), "kms:Encrypt", keyA), allow, "0:account"},
	{"default/other account", "default", rq(bobB, "kms:Encrypt", keyA), na, ""},
	{"default/other account root", "default", rq(root(acctB), "kms:Encrypt", keyA), na, ""},
	{"default/service", "default", rq(svc("ec2.amazonaws.com"), "kms:Encrypt", keyA), na, ""},
	{"default/action case", "default", rq(alice, "KMS:ENCRYPT", keyA), allow, "0:account"},
	{"default/other service action", "default", rq(alice, "s3:GetObject", keyA), na, ""},
	{"default/no resource op", "default", rq(alice, "kms:CreateKey", "*"), allow, "0:account"},
	{"default/other partition", "default", rq(policy.Principal{Type: policy.PrincipalUser, ARN: "arn:aws-cn:iam::111122223333:user/x", Account: acctA}, "kms:Encrypt", keyA), na, ""},
	{"default/unknown type", "default", rq(policy.Principal{ARN: "arn:aws:iam::111122223333:user/x", Account: acctA}, "kms:Encrypt", keyA), na, ""},

	// Console key policy.
	{"console/admin describe", "console", rq(admUser, "kms:DescribeKey", keyA), allow, "0:account 1:exact"},
	{"console/admin encrypt", "console", rq(admUser, "kms:Encrypt", keyA), allow, "0:account"},
	{"console/admin put policy", "console", rq(admUser, "kms:PutKeyPolicy", keyA), allow, "0:account 1:exact"},
	{"console/admin schedule deletion", "console", rq(admUser, "kms:ScheduleKeyDeletion", keyA), allow, "0:account 1:exact"},
	{"console/admin create grant", "console", rq(admUser, "kms:CreateGrant", keyA), allow, "0:account 1:exact"},
	{"console/admin get rotation", "console", rq(admUser, "kms:GetKeyRotationStatus", keyA), allow, "0:account 1:exact"},
	{"console/admin delete imported", "console", rq(admUser, "kms:DeleteImportedKeyMaterial", keyA), allow, "0:account 1:exact"},
	{"console/admin tag", "console", rq(admUser, "kms:TagResource", keyA), allow, "0:account 1:exact"},
	{"console/admin role session disable", "console", rq(admRole, "kms:DisableKey", keyA), allow, "0:account 1:exact"},
	{"console/admin role session sign", "console", rq(admRole, "kms:Sign", keyA), allow, "0:account"},
	{"console/user encrypt", "console", rq(exUser, "kms:Encrypt", keyA), allow, "0:account 2:exact"},
	{"console/user reencrypt from", "console", rq(exUser, "kms:ReEncryptFrom", keyA), allow, "0:account 2:exact"},
	{"console/user gdk without plaintext", "console", rq(exUser, "kms:GenerateDataKeyWithoutPlaintext", keyA), allow, "0:account 2:exact"},
	{"console/user gdk pair", "console", rq(exUser, "kms:GenerateDataKeyPair", keyA), allow, "0:account 2:exact"},
	{"console/user describe", "console", rq(exUser, "kms:DescribeKey", keyA), allow, "0:account 2:exact"},
	{"console/user sign", "console", rq(exUser, "kms:Sign", keyA), allow, "0:account"},
	{"console/user put policy", "console", rq(exUser, "kms:PutKeyPolicy", keyA), allow, "0:account"},
	{"console/user grant for AWS resource", "console", rq(exUser, "kms:CreateGrant", keyA, "kms:GrantIsForAWSResource", "true"), allow, "0:account 3:exact"},
	{"console/user grant not for AWS resource", "console", rq(exUser, "kms:CreateGrant", keyA, "kms:GrantIsForAWSResource", "false"), allow, "0:account"},
	{"console/user grant key absent", "console", rq(exUser, "kms:CreateGrant", keyA), allow, "0:account"},
	{"console/user grant bool case", "console", rq(exUser, "kms:CreateGrant", keyA, "kms:GrantIsForAWSResource", "TRUE"), allow, "0:account 3:exact"},
	{"console/user grant bool garbage", "console", rq(exUser, "kms:CreateGrant", keyA, "kms:GrantIsForAWSResource", "yes"), allow, "0:account"},
	{"console/user list grants", "console", rq(exUser, "kms:ListGrants", keyA, "kms:GrantIsForAWSResource", "true"), allow, "0:account 3:exact"},
	{"console/role session decrypt", "console", rq(exRole, "kms:Decrypt", keyA), allow, "0:account 2:exact"},
	{"console/external user decrypt", "console", rq(bobB, "kms:Decrypt", keyA), allow, "2:account"},
	{"console/external root encrypt", "console", rq(root(acctB), "kms:Encrypt", keyA), allow, "2:account"},
	{"console/external grant", "console", rq(bobB, "kms:RevokeGrant", keyA, "kms:GrantIsForAWSResource", "true"), allow, "3:account"},
	{"console/external put policy", "console", rq(bobB, "kms:PutKeyPolicy", keyA), na, ""},
	{"console/external session", "console", rq(sess(acctB, "Ops", "x"), "kms:GenerateDataKey", keyA), allow, "2:account"},
	{"console/third account", "console", rq(user(acctC, "Mallory"), "kms:Decrypt", keyA), na, ""},
	{"console/service", "console", rq(svc("ec2.amazonaws.com"), "kms:Decrypt", keyA), na, ""},

	// AWS managed key for EBS (kms:CallerAccount + kms:ViaService).
	{"ebs/via ec2", "ebs", rq(alice, "kms:Decrypt", keyA, "kms:CallerAccount", acctA, "kms:ViaService", "ec2.us-west-2.amazonaws.com"), allow, "0:wildcard"},
	{"ebs/create grant", "ebs", rq(exRole, "kms:CreateGrant", keyA, "kms:CallerAccount", acctA, "kms:ViaService", "ec2.us-west-2.amazonaws.com"), allow, "0:wildcard"},
	{"ebs/other account", "ebs", rq(bobB, "kms:Decrypt", keyA, "kms:CallerAccount", acctB, "kms:ViaService", "ec2.us-west-2.amazonaws.com"), na, ""},
	{"ebs/not via ec2", "ebs", rq(alice, "kms:Decrypt", keyA, "kms:CallerAccount", acctA), na, ""},
	{"ebs/via other region", "ebs", rq(alice, "kms:Decrypt", keyA, "kms:CallerAccount", acctA, "kms:ViaService", "ec2.us-east-1.amazonaws.com"), na, ""},
	{"ebs/action not listed", "ebs", rq(alice, "kms:ScheduleKeyDeletion", keyA, "kms:CallerAccount", acctA, "kms:ViaService", "ec2.us-west-2.amazonaws.com"), na, ""},
	{"ebs/service principal", "ebs", rq(svc("ec2.amazonaws.com"), "kms:Decrypt", keyA, "kms:CallerAccount", acctA, "kms:ViaService", "ec2.us-west-2.amazonaws.com"), na, ""},
	{"ebs/condition key case", "ebs", rq(alice, "kms:Decrypt", keyA, "KMS:CALLERACCOUNT", acctA, "Kms:viaservice", "ec2.us-west-2.amazonaws.com"), allow, "0:wildcard"},

	// kms:ViaService.
	{"via/ec2", "via", rq(exUser, "kms:Encrypt", keyA, "kms:ViaService", "ec2.us-west-2.amazonaws.com"), allow, "0:exact"},
	{"via/rds", "via", rq(exUser, "kms:ListGrants", keyA, "kms:ViaService", "rds.us-west-2.amazonaws.com"), allow, "0:exact"},
	{"via/lambda encrypt denied", "via", rq(exUser, "kms:Encrypt", keyA, "kms:ViaService", "lambda.us-west-2.amazonaws.com"), deny, "1:exact/Deny"},
	{"via/lambda decrypt", "via", rq(exUser, "kms:Decrypt", keyA, "kms:ViaService", "lambda.us-west-2.amazonaws.com"), na, ""},
	{"via/direct call", "via", rq(exUser, "kms:Encrypt", keyA), na, ""},
	{"via/case sensitive value", "via", rq(exUser, "kms:Encrypt", keyA, "kms:ViaService", "EC2.us-west-2.amazonaws.com"), na, ""},
	{"via/other user", "via", rq(alice, "kms:Encrypt", keyA, "kms:ViaService", "lambda.us-west-2.amazonaws.com"), na, ""},

	// kms:EncryptionContext:context-key.
	{"ec/appname", "ec-appname", rq(appRole, "kms:GenerateDataKey", keyA, "kms:EncryptionContext:AppName", "ExampleApp"), allow, "0:exact"},
	{"ec/appname plus others", "ec-appname", rq(appRole, "kms:GenerateDataKey", keyA, "kms:EncryptionContext:AppName", "ExampleApp", "kms:EncryptionContext:Project", "Alpha"), allow, "0:exact"},
	{"ec/appname wrong value", "ec-appname", rq(appRole, "kms:GenerateDataKey", keyA, "kms:EncryptionContext:AppName", "Other"), na, ""},
	{"ec/appname value case", "ec-appname", rq(appRole, "kms:GenerateDataKey", keyA, "kms:EncryptionContext:AppName", "exampleapp"), na, ""},
	{"ec/appname key case", "ec-appname", rq(appRole, "kms:GenerateDataKey", keyA, "kms:EncryptionContext:APPNAME", "ExampleApp"), allow, "0:exact"},
	{"ec/appname missing", "ec-appname", rq(appRole, "kms:GenerateDataKey", keyA), na, ""},
	{"ec/appname other action", "ec-appname", rq(appRole, "kms:Decrypt", keyA, "kms:EncryptionContext:AppName", "ExampleApp"), na, ""},
	{"ec/only appname ok", "ec-appname-only", rq(user("712816755609", "alice"), "kms:GenerateDataKey", keyA, "kms:EncryptionContext:AppName", "ExampleApp", "kms:EncryptionContextKeys", "AppName"), allow, "0:exact"},
	{"ec/only appname extra key", "ec-appname-only", rq(user("712816755609", "alice"), "kms:GenerateDataKey", keyA, "kms:EncryptionContext:AppName", "ExampleApp", "kms:EncryptionContext:Project", "Alpha", "kms:EncryptionContextKeys", "AppName", "kms:EncryptionContextKeys", "Project"), na, ""},
	{"ec/only appname no context", "ec-appname-only", rq(user("712816755609", "alice"), "kms:GenerateDataKey", keyA), na, ""},
	{"ec/deny restricted", "ec-deny-stage", rq(appRole, "kms:GenerateDataKey", keyA, "kms:EncryptionContext:Stage", "Restricted"), deny, "0:exact/Deny"},
	{"ec/deny production", "ec-deny-stage", rq(appRole, "kms:GenerateDataKey", keyA, "kms:EncryptionContext:Stage", "Production"), deny, "0:exact/Deny"},
	{"ec/stage test", "ec-deny-stage", rq(appRole, "kms:GenerateDataKey", keyA, "kms:EncryptionContext:Stage", "Test"), na, ""},
	{"ec/stage absent", "ec-deny-stage", rq(appRole, "kms:GenerateDataKey", keyA), na, ""},
	{"ec/two pairs", "ec-two-pairs", rq(appRole, "kms:Decrypt", keyA, "kms:EncryptionContext:Department", "IT", "kms:EncryptionContext:Project", "Alpha"), allow, "0:exact"},
	{"ec/two pairs one missing", "ec-two-pairs", rq(appRole, "kms:Decrypt", keyA, "kms:EncryptionContext:Department", "IT"), na, ""},
	{"ec/either first", "ec-either-pair", rq(appRole, "kms:GenerateDataKey", keyA, "kms:EncryptionContext:Department", "IT"), allow, "0:exact"},
	{"ec/either both", "ec-either-pair", rq(appRole, "kms:GenerateDataKey", keyA, "kms:EncryptionContext:Department", "IT", "kms:EncryptionContext:Project", "Alpha"), allow, "0:exact 1:exact"},
	{"ec/either neither", "ec-either-pair", rq(appRole, "kms:GenerateDataKey", keyA, "kms:EncryptionContext:Department", "HR"), na, ""},
	{"ec/key case insensitive", "ec-case", rq(appRole, "kms:Decrypt", keyA, "kms:EncryptionContext:AppName", "ExampleApp"), allow, "0:exact"},
	{"ec/keys any", "ec-keys-any", rq(appRole, "kms:GenerateDataKey", keyA, "kms:EncryptionContextKeys", "AppName", "kms:EncryptionContextKeys", "Project"), allow, "0:exact"},
	{"ec/keys any only project", "ec-keys-any", rq(appRole, "kms:Encrypt", keyA, "kms:EncryptionContextKeys", "Project"), na, ""},
	{"ec/keys any none", "ec-keys-any", rq(appRole, "kms:Encrypt", keyA), na, ""},
	{"ec/keys any value case", "ec-keys-any", rq(appRole, "kms:Encrypt", keyA, "kms:EncryptionContextKeys", "appname"), na, ""},
	{"ec/keys any empty list", "ec-keys-any", rq(appRole, "kms:Encrypt", keyA, "kms:EncryptionContextKeys", "<empty>"), na, ""},
	{"ec/null false present", "ec-keys-null", rq(appRole, "kms:GenerateDataKeyWithoutPlaintext", keyA, "kms:EncryptionContextKeys", "x"), allow, "0:exact"},
	{"ec/null false absent", "ec-keys-null", rq(appRole, "kms:Encrypt", keyA), na, ""},
	{"ec/var username", "ec-var-user", rq(user(acctA, "bob"), "kms:Decrypt", keyA, "aws:username", "bob", "kms:EncryptionContext:user", "bob"), allow, "0:account"},
	{"ec/var other user's data", "ec-var-user", rq(user(acctA, "bob"), "kms:Decrypt", keyA, "aws:username", "bob", "kms:EncryptionContext:user", "alice"), na, ""},
	{"ec/var no username", "ec-var-user", rq(exRole, "kms:Decrypt", keyA, "kms:EncryptionContext:user", "bob"), na, ""},
	{"ec/var multivalued", "ec-var-user", rq(user(acctA, "bob"), "kms:Decrypt", keyA, "aws:username", "bob", "aws:username", "alice", "kms:EncryptionContext:user", "bob"), na, ""},
	{"ec/deny other dept", "ec-deny-not-dept", rq(alice, "kms:Decrypt", keyA, "kms:EncryptionContext:Department", "HR"), deny, "0:account 1:wildcard/Deny"},
	{"ec/finance allowed", "ec-deny-not-dept", rq(alice, "kms:Decrypt", keyA, "kms:EncryptionContext:Department", "Finance"), allow, "0:account"},
	{"ec/missing dept denied", "ec-deny-not-dept", rq(alice, "kms:GenerateDataKeyPair", keyA), deny, "0:account 1:wildcard/Deny"},
	{"ec/encrypt unaffected", "ec-deny-not-dept", rq(alice, "kms:Encrypt", keyA, "kms:EncryptionContext:Department", "HR"), allow, "0:account"},

	// Grant conditions.
	{"grant/all encrypt", "grant-ops-all", rq(exUser, "kms:CreateGrant", keyA, "kms:GrantOperations", "Encrypt"), allow, "0:exact"},
	{"grant/all both", "grant-ops-all", rq(exUser, "kms:CreateGrant", keyA, "kms:GrantOperations", "Encrypt", "kms:GrantOperations", "ReEncryptTo"), allow, "0:exact"},
	{"grant/all extra decrypt", "grant-ops-all", rq(exUser, "kms:CreateGrant", keyA, "kms:GrantOperations", "Encrypt", "kms:GrantOperations", "Decrypt"), na, ""},
	{"grant/all missing", "grant-ops-all", rq(exUser, "kms:CreateGrant", keyA), allow, "0:exact"},
	{"grant/any extra decrypt", "grant-ops-any", rq(exUser, "kms:CreateGrant", keyA, "kms:GrantOperations", "Encrypt", "kms:GrantOperations", "Decrypt"), allow, "0:exact"},
	{"grant/any decrypt only", "grant-ops-any", rq(exUser, "kms:CreateGrant", keyA, "kms:GrantOperations", "Decrypt"), na, ""},
	{"grant/any missing", "grant-ops-any", rq(exUser, "kms:CreateGrant", keyA), na, ""},
	{"grant/constraint type", "grant-misc", rq(exUser, "kms:CreateGrant", keyA, "kms:GrantConstraintType", "EncryptionContextEquals"), allow, "0:exact"},
	{"grant/constraint subset", "grant-misc", rq(exUser, "kms:CreateGrant", keyA, "kms:GrantConstraintType", "EncryptionContextSubset"), na, ""},
	{"grant/grantee", "grant-misc", rq(exUser, "kms:CreateGrant", keyA, "kms:GranteePrincipal", "arn:aws:iam::111122223333:role/LimitedAdminRole"), allow, "1:exact"},
	{"grant/retiring opsadmin", "grant-misc", rq(exUser, "kms:CreateGrant", keyA, "kms:RetiringPrincipal", "arn:aws:iam::111122223333:user/OpsAdmin"), allow, "2:exact"},
	{"grant/retiring other", "grant-misc", rq(exUser, "kms:CreateGrant", keyA, "kms:RetiringPrincipal", "arn:aws:iam::111122223333:user/Other"), na, ""},

	// kms:KeyOrigin, KeySpec, KeyUsage, MultiRegion (identity policies).
	{"origin/create aws_kms", "keyorigin-id", rq(alice, "kms:CreateKey", "*", "kms:KeyOrigin", "AWS_KMS"), allow, "0:attached"},
	{"origin/create external", "keyorigin-id", rq(alice, "kms:CreateKey", "*", "kms:KeyOrigin", "EXTERNAL"), na, ""},
	{"origin/create no origin", "keyorigin-id", rq(alice, "kms:CreateKey", "*"), na, ""},
	{"origin/use cloudhsm key", "keyorigin-id", rq(alice, "kms:Encrypt", keyA, "kms:KeyOrigin", "AWS_CLOUDHSM"), allow, "1:attached"},
	{"origin/use aws_kms key", "keyorigin-id", rq(alice, "kms:Encrypt", keyA, "kms:KeyOrigin", "AWS_KMS"), na, ""},
	{"origin/other region", "keyorigin-id", rq(alice, "kms:Decrypt", keyA3, "kms:KeyOrigin", "AWS_CLOUDHSM"), na, ""},
	{"origin/other account", "keyorigin-id", rq(alice, "kms:Decrypt", keyB, "kms:KeyOrigin", "AWS_CLOUDHSM"), na, ""},
	{"origin/reencrypt wildcard", "keyorigin-id", rq(alice, "kms:ReEncryptTo", keyA2, "kms:KeyOrigin", "AWS_CLOUDHSM"), allow, "1:attached"},
	{"keyspec/rsa", "keyspec-id", rq(alice, "kms:CreateKey", "*", "kms:KeySpec", "RSA_2048", "kms:KeyUsage", "SIGN_VERIFY", "kms:MultiRegion", "true"), allow, "0:attached"},
	{"keyspec/ecc", "keyspec-id", rq(alice, "kms:CreateKey", "*", "kms:KeySpec", "ECC_NIST_P256", "kms:KeyUsage", "SIGN_VERIFY", "kms:MultiRegion", "true"), na, ""},
	{"keyspec/symmetric default", "keyspec-id", rq(alice, "kms:CreateKey", "*", "kms:KeySpec", "SYMMETRIC_DEFAULT", "kms:KeyUsage", "ENCRYPT_DECRYPT", "kms:MultiRegion", "false"), allow, "1:attached 2:attached"},
	{"keyspec/rsa lowercase", "keyspec-id", rq(alice, "kms:CreateKey", "*", "kms:KeySpec", "rsa_2048", "kms:MultiRegion", "true"), na, ""},
	{"keyspec/resource star matches any resource", "keyspec-id", rq(alice, "kms:CreateKey", keyA, "kms:KeySpec", "RSA_2048"), allow, "0:attached"},

	// kms:BypassPolicyLockoutSafetyCheck.
	{"bypass/true denied", "bypass", rq(alice, "kms:PutKeyPolicy", keyA, "kms:BypassPolicyLockoutSafetyCheck", "true"), deny, "0:attached/Deny 1:attached"},
	{"bypass/false", "bypass", rq(alice, "kms:PutKeyPolicy", keyA, "kms:BypassPolicyLockoutSafetyCheck", "false"), allow, "1:attached"},
	{"bypass/absent", "bypass", rq(alice, "kms:CreateKey", "*"), allow, "1:attached"},
	{"bypass/null absent", "bypass-null", rq(exUser, "kms:PutKeyPolicy", keyA), allow, "0:exact"},
	{"bypass/null present", "bypass-null", rq(exUser, "kms:PutKeyPolicy", keyA, "kms:BypassPolicyLockoutSafetyCheck", "false"), na, ""},

	// aws:SourceIp.
	{"ip/inside v4", "sourceip-deny", rq(alice, "kms:Encrypt", keyA, "aws:SourceIp", "192.0.2.5"), allow, "0:attached"},
	{"ip/inside second", "sourceip-deny", rq(alice, "kms:Encrypt", keyA, "aws:SourceIp", "203.0.113.250"), allow, "0:attached"},
	{"ip/outside", "sourceip-deny", rq(alice, "kms:Encrypt", keyA, "aws:SourceIp", "198.51.100.1"), deny, "0:attached 1:attached/Deny"},
	{"ip/missing", "sourceip-deny", rq(alice, "kms:Encrypt", keyA), deny, "0:attached 1:attached/Deny"},
	{"ip/v4 mapped v6", "sourceip-deny", rq(alice, "kms:Encrypt", keyA, "aws:SourceIp", "::ffff:192.0.2.5"), allow, "0:attached"},
	{"ip/garbage", "sourceip-deny", rq(alice, "kms:Encrypt", keyA, "aws:SourceIp", "not-an-ip"), deny, "0:attached 1:attached/Deny"},
	{"ip/v6 in prefix", "sourceip-v6", rq(alice, "kms:Decrypt", keyA, "aws:SourceIp", "2001:db8:1234:5678::1"), allow, "0:account"},
	{"ip/v6 outside", "sourceip-v6", rq(alice, "kms:Decrypt", keyA, "aws:SourceIp", "2001:db8:1234:5679::1"), na, ""},
	{"ip/single address", "sourceip-v6", rq(alice, "kms:Decrypt", keyA, "aws:SourceIp", "203.0.113.7"), allow, "0:account"},
	{"ip/single address neighbour", "sourceip-v6", rq(alice, "kms:Decrypt", keyA, "aws:SourceIp", "203.0.113.8"), na, ""},

	// aws:SourceVpc / aws:SourceVpce.
	{"vpc/right vpc and endpoint", "vpc", rq(alice, "kms:Decrypt", keyA, "aws:SourceVpc", "vpc-12345678", "aws:SourceVpce", "vpce-1a2b3c4d"), allow, "0:account"},
	{"vpc/wrong endpoint", "vpc", rq(alice, "kms:Decrypt", keyA, "aws:SourceVpc", "vpc-12345678", "aws:SourceVpce", "vpce-99999999"), deny, "0:account 1:wildcard/Deny"},
	{"vpc/no endpoint", "vpc", rq(alice, "kms:Decrypt", keyA, "aws:SourceVpc", "vpc-12345678"), deny, "0:account 1:wildcard/Deny"},
	{"vpc/encrypt no endpoint", "vpc", rq(alice, "kms:Encrypt", keyA, "aws:SourceVpc", "vpc-12345678"), allow, "0:account"},
	{"vpc/wrong vpc", "vpc", rq(alice, "kms:Encrypt", keyA, "aws:SourceVpc", "vpc-87654321"), na, ""},
	{"vpc/no vpc", "vpc", rq(alice, "kms:Encrypt", keyA), na, ""},

	// ABAC.
	{"abac/tags equal", "abac-id", rq(alice, "kms:Encrypt", keyA, "aws:PrincipalTag/Project", "Alpha", "aws:ResourceTag/Project", "Alpha"), allow, "0:attached"},
	{"abac/tags differ", "abac-id", rq(alice, "kms:Encrypt", keyA, "aws:PrincipalTag/Project", "Alpha", "aws:ResourceTag/Project", "Beta"), na, ""},
	{"abac/no principal tag", "abac-id", rq(alice, "kms:Encrypt", keyA, "aws:ResourceTag/Project", "Alpha"), na, ""},
	{"abac/tag key case", "abac-id", rq(alice, "kms:Decrypt", keyA, "aws:principaltag/PROJECT", "Alpha", "AWS:RESOURCETAG/project", "Alpha"), allow, "0:attached"},
	{"abac/other account key", "abac-id", rq(alice, "kms:Decrypt", keyB, "aws:PrincipalTag/Project", "Alpha", "aws:ResourceTag/Project", "Alpha"), na, ""},
	{"abac/default shared", "abac-id", rq(alice, "kms:DescribeKey", keyA, "aws:ResourceTag/Project", "shared"), allow, "1:attached"},
	{"abac/default not used", "abac-id", rq(alice, "kms:DescribeKey", keyA, "aws:PrincipalTag/Project", "Alpha", "aws:ResourceTag/Project", "shared"), na, ""},
	{"abac/resource tag key policy", "resourcetag-key", rq(alice, "kms:Decrypt", keyA, "aws:ResourceTag/Environment", "Production"), allow, "0:account"},
	{"abac/resource tag other", "resourcetag-key", rq(alice, "kms:Decrypt", keyA, "aws:ResourceTag/Environment", "Dev"), na, ""},
	{"tags/allowed keys", "tagkeys", rq(alice, "kms:TagResource", keyA, "aws:TagKeys", "Project", "aws:TagKeys", "Owner", "aws:RequestTag/Owner", "Alice", "aws:username", "Alice"), allow, "0:attached"},
	{"tags/owner not me", "tagkeys", rq(alice, "kms:TagResource", keyA, "aws:TagKeys", "Owner", "aws:RequestTag/Owner", "Bob", "aws:username", "Alice"), na, ""},
	{"tags/other key", "tagkeys", rq(alice, "kms:TagResource", keyA, "aws:TagKeys", "Project", "aws:TagKeys", "Cost"), na, ""},
	{"tags/key1 prefix not denied", "tagkeys", rq(alice, "kms:UntagResource", keyA, "aws:TagKeys", "key1:legal"), na, ""},
	{"tags/key2 denied", "tagkeys", rq(alice, "kms:UntagResource", keyA, "aws:TagKeys", "key2:audit"), deny, "1:attached/Deny"},
	{"tags/no keys denied", "tagkeys", rq(alice, "kms:UntagResource", keyA), deny, "1:attached/Deny"},
	{"tags/mixed keys not denied", "tagkeys", rq(alice, "kms:UntagResource", keyA, "aws:TagKeys", "key1:hr", "aws:TagKeys", "key2:x"), na, ""},
	{"tags/project only", "tagkeys", rq(alice, "kms:TagResource", keyA, "aws:TagKeys", "Project"), allow, "0:attached"},

	// kms:RequestAlias / kms:ResourceAliases.
	{"alias/request alias", "requestalias", rq(sess(acctA, "developer", "d"), "kms:GenerateDataKey", keyA, "kms:RequestAlias", "alias/finance-key"), allow, "0:exact"},
	{"alias/other alias", "requestalias", rq(sess(acctA, "developer", "d"), "kms:GenerateDataKey", keyA, "kms:RequestAlias", "alias/hr-key"), na, ""},
	{"alias/key id used", "requestalias", rq(sess(acctA, "developer", "d"), "kms:GenerateDataKey", keyA), na, ""},
	{"alias/resource aliases", "resourcealiases-id", rq(alice, "kms:GenerateDataKey", keyA, "kms:ResourceAliases", "alias/finance-key", "kms:ResourceAliases", "alias/other"), allow, "0:attached"},
	{"alias/resource aliases other acct", "resourcealiases-id", rq(alice, "kms:GenerateDataKey", keyB, "kms:ResourceAliases", "alias/finance-key"), allow, "0:attached"},
	{"alias/resource aliases missing", "resourcealiases-id", rq(alice, "kms:GenerateDataKey", keyA, "kms:ResourceAliases", "alias/other"), na, ""},
	{"alias/no aliases", "resourcealiases-id", rq(alice, "kms:GenerateDataKey", keyA), na, ""},
	{"alias/third account", "resourcealiases-id", rq(alice, "kms:GenerateDataKey", "arn:aws:kms:us-west-2:999988887777:key/x", "kms:ResourceAliases", "alias/finance-key"), na, ""},
	{"alias/all test", "resourcealiases-test", rq(alice, "kms:EnableKey", keyA, "kms:ResourceAliases", "alias/MyTestKey", "kms:ResourceAliases", "alias/Test"), allow, "0:attached"},
	{"alias/not all test", "resourcealiases-test", rq(alice, "kms:DisableKey", keyA, "kms:ResourceAliases", "alias/MyTestKey", "kms:ResourceAliases", "alias/prod"), na, ""},
	{"alias/no alias test", "resourcealiases-test", rq(alice, "kms:DisableKey", keyA), na, ""},

	// Explicit Deny beats Allow.
	{"deny/bob decrypt", "deny-user", rq(user(acctA, "Bob"), "kms:Decrypt", keyA), deny, "0:account 1:exact/Deny"},
	{"deny/bob describe", "deny-user", rq(user(acctA, "Bob"), "kms:DescribeKey", keyA), deny, "0:account 1:exact/Deny"},
	{"deny/bob encrypt", "deny-user", rq(user(acctA, "Bob"), "kms:Encrypt", keyA), allow, "0:account"},
	{"deny/alice decrypt", "deny-user", rq(alice, "kms:Decrypt", keyA), allow, "0:account"},
	{"deny/bob name case", "deny-user", rq(user(acctA, "BOB"), "kms:Decrypt", keyA), deny, "0:account 1:exact/Deny"},
	{"moto/deny all", "moto-deny-all", rq(alice, "kms:DescribeKey", keyA), deny, "0:wildcard/Deny"},
	{"moto/deny unknown and all", "moto-deny-unknown2", rq(alice, "kms:DescribeKey", keyA), deny, "0:wildcard/Deny"},
	{"moto/deny describe", "moto-deny-describe", rq(alice, "kms:DescribeKey", keyA), deny, "0:wildcard/Deny"},
	{"moto/deny describe*", "moto-deny-desc*", rq(alice, "kms:DescribeKey", keyA), deny, "0:wildcard/Deny"},
	{"moto/deny unknown only", "moto-deny-unknown", rq(alice, "kms:DescribeKey", keyA), na, ""},
	{"moto/deny describestuff", "moto-deny-stuff", rq(alice, "kms:DescribeKey", keyA), na, ""},
	{"moto/deny all service", "moto-deny-all", rq(svc("ec2.amazonaws.com"), "kms:Decrypt", keyA), deny, "0:wildcard/Deny"},

	// NotAction.
	{"notaction/encrypt", "notaction", rq(exUser, "kms:Encrypt", keyA), allow, "0:exact"},
	{"notaction/schedule", "notaction", rq(exUser, "kms:ScheduleKeyDeletion", keyA), na, ""},
	{"notaction/delete alias", "notaction", rq(exUser, "kms:DeleteAlias", keyA), na, ""},
	{"notaction/case", "notaction", rq(exUser, "KMS:deleteimportedkeymaterial", keyA), na, ""},
	{"notaction/other service", "notaction", rq(exUser, "s3:GetObject", keyA), allow, "0:exact"},
	{"notaction/other user", "notaction", rq(alice, "kms:Encrypt", keyA), na, ""},

	// NotResource.
	{"notresource/own account", "notresource-id", rq(alice, "kms:Encrypt", keyA), allow, "0:attached"},
	{"notresource/other region own account", "notresource-id", rq(alice, "kms:Encrypt", keyA3), allow, "0:attached"},
	{"notresource/other account", "notresource-id", rq(alice, "kms:Encrypt", keyB), deny, "0:attached 1:attached/Deny"},
	{"notresource/no resource", "notresource-id", rq(alice, "kms:CreateKey", "*"), deny, "0:attached 1:attached/Deny"},

	// NotPrincipal.
	{"notprincipal/bob", "notprincipal-user", rq(bobB, "kms:Decrypt", keyA), allow, "0:wildcard"},
	{"notprincipal/bob's account root", "notprincipal-user", rq(root(acctB), "kms:Decrypt", keyA), allow, "0:wildcard"},
	{"notprincipal/alice in bob's account", "notprincipal-user", rq(user(acctB, "Alice"), "kms:Decrypt", keyA), deny, "0:wildcard 1:not-principal/Deny"},
	{"notprincipal/other account", "notprincipal-user", rq(alice, "kms:Decrypt", keyA), deny, "0:wildcard 1:not-principal/Deny"},
	{"notprincipal/service", "notprincipal-user", rq(svc("ec2.amazonaws.com"), "kms:Decrypt", keyA), deny, "0:wildcard 1:not-principal/Deny"},
	{"notprincipal/session exempt", "notprincipal-session", rq(sess(acctB, "cross-account-read-only-role", "cross-account-audit-app"), "kms:Decrypt", keyA), na, ""},
	{"notprincipal/other session", "notprincipal-session", rq(sess(acctB, "cross-account-read-only-role", "other-app"), "kms:Decrypt", keyA), deny, "0:not-principal/Deny"},
	{"notprincipal/user same account", "notprincipal-session", rq(bobB, "kms:Decrypt", keyA), deny, "0:not-principal/Deny"},
	{"notprincipal/account root exempt", "notprincipal-session", rq(root(acctB), "kms:Decrypt", keyA), na, ""},
	{"notprincipal/role without session", "notprincipal-role-only", rq(sess(acctB, "cross-account-read-only-role", "cross-account-audit-app"), "kms:Decrypt", keyA), deny, "0:not-principal/Deny"},
	{"notprincipal/no account listed", "notprincipal-no-account", rq(bobB, "kms:Decrypt", keyA), deny, "0:not-principal/Deny"},
	{"notprincipal/service exempt", "notprincipal-service", rq(svc("logs.us-west-2.amazonaws.com"), "kms:Encrypt", keyA), na, ""},
	{"notprincipal/other service", "notprincipal-service", rq(svc("s3.amazonaws.com"), "kms:Encrypt", keyA), deny, "0:not-principal/Deny"},
	{"notprincipal/user vs service list", "notprincipal-service", rq(alice, "kms:Encrypt", keyA), deny, "0:not-principal/Deny"},

	// Action wildcards and case.
	{"actions/describe*", "actions", rq(user(acctA, "A"), "kms:DescribeKey", keyA), allow, "0:exact"},
	{"actions/describe* custom key stores", "actions", rq(user(acctA, "A"), "kms:DescribeCustomKeyStores", "*"), allow, "0:exact"},
	{"actions/describe* no encrypt", "actions", rq(user(acctA, "A"), "kms:Encrypt", keyA), na, ""},
	{"actions/describe* prefix only", "actions", rq(user(acctA, "A"), "kms:Describ", keyA), na, ""},
	{"actions/describe* lower", "actions", rq(user(acctA, "A"), "kms:describekey", keyA), allow, "0:exact"},
	{"actions/kms:*", "actions", rq(user(acctA, "B"), "kms:ScheduleKeyDeletion", keyA), allow, "1:exact"},
	{"actions/kms:* not s3", "actions", rq(user(acctA, "B"), "s3:PutObject", keyA), na, ""},
	{"actions/kms:* upper", "actions", rq(user(acctA, "B"), "KMS:ENCRYPT", keyA), allow, "1:exact"},
	{"actions/*", "actions", rq(user(acctA, "C"), "s3:PutObject", keyA), allow, "2:exact"},
	{"actions/* kms", "actions", rq(user(acctA, "C"), "kms:Decrypt", keyA), allow, "2:exact"},
	{"actions/? decrypt", "actions", rq(user(acctA, "D"), "kms:Decrypt", keyA), allow, "3:exact"},
	{"actions/? encrypt not", "actions", rq(user(acctA, "D"), "kms:Encrypt", keyA), na, ""},
	{"actions/upper-case pattern", "actions", rq(user(acctA, "D"), "kms:GenerateDataKey", keyA), allow, "3:exact"},
	{"actions/upper-case pattern exact only", "actions", rq(user(acctA, "D"), "kms:GenerateDataKeyPair", keyA), na, ""},
	{"actions/*Key*", "actions", rq(user(acctA, "E"), "kms:EnableKeyRotation", keyA), allow, "4:exact"},
	{"actions/*Key* no", "actions", rq(user(acctA, "E"), "kms:Encrypt", keyA), na, ""},

	// IfExists.
	{"ifexists/missing", "ifexists", rq(alice, "kms:Encrypt", keyA), allow, "0:account"},
	{"ifexists/present match", "ifexists", rq(alice, "kms:Encrypt", keyA, "kms:ViaService", "ec2.us-west-2.amazonaws.com"), allow, "0:account"},
	{"ifexists/present other", "ifexists", rq(alice, "kms:Encrypt", keyA, "kms:ViaService", "lambda.us-west-2.amazonaws.com"), na, ""},
	{"ifexists/numeric missing", "ifexists", rq(alice, "kms:ScheduleKeyDeletion", keyA), allow, "1:account"},
	{"ifexists/numeric 7", "ifexists", rq(alice, "kms:ScheduleKeyDeletion", keyA, "kms:ScheduleKeyDeletionPendingWindowInDays", "7"), na, ""},
	{"ifexists/numeric 30", "ifexists", rq(alice, "kms:ScheduleKeyDeletion", keyA, "kms:ScheduleKeyDeletionPendingWindowInDays", "30"), allow, "1:account"},
	{"ifexists/bool missing", "ifexists", rq(alice, "kms:Decrypt", keyA), allow, "2:account"},
	{"ifexists/bool false", "ifexists", rq(alice, "kms:Decrypt", keyA, "aws:MultiFactorAuthPresent", "false"), na, ""},
	{"ifexists/bool true", "ifexists", rq(alice, "kms:Decrypt", keyA, "aws:MultiFactorAuthPresent", "true"), allow, "2:account"},
	{"ifexists/any missing", "ifexists", rq(alice, "kms:Sign", keyA), allow, "3:account"},
	{"ifexists/any present no match", "ifexists", rq(alice, "kms:Sign", keyA, "aws:CalledVia", "athena.amazonaws.com"), na, ""},
	{"ifexists/any present match", "ifexists", rq(alice, "kms:Sign", keyA, "aws:CalledVia", "athena.amazonaws.com", "aws:CalledVia", "cloudformation.amazonaws.com"), allow, "3:account"},

	// Null.
	{"null/long-term credentials", "null", rq(alice, "kms:Encrypt", keyA), allow, "0:attached"},
	{"null/temporary credentials", "null", rq(exRole, "kms:Encrypt", keyA, "aws:TokenIssueTime", "2024-01-01T00:00:00Z"), na, ""},
	{"null/both present", "null", rq(exRole, "kms:Decrypt", keyA, "aws:TokenIssueTime", "2024-01-01T00:00:00Z", "aws:MultiFactorAuthAge", "30"), allow, "1:attached"},
	{"null/one present", "null", rq(exRole, "kms:Decrypt", keyA, "aws:TokenIssueTime", "2024-01-01T00:00:00Z"), na, ""},
	{"null/empty value list is absent", "null", rq(exRole, "kms:Encrypt", keyA, "aws:TokenIssueTime", "<empty>"), allow, "0:attached"},

	// Dates.
	{"dates/after 2020", "dates", rq(alice, "kms:Encrypt", keyA, "aws:CurrentTime", "2023-05-01T12:00:00Z"), allow, "0:attached"},
	{"dates/before 2020", "dates", rq(alice, "kms:Encrypt", keyA, "aws:CurrentTime", "2019-12-31T23:59:59Z"), na, ""},
	{"dates/exactly 2020 not greater", "dates", rq(alice, "kms:Encrypt", keyA, "aws:CurrentTime", "2020-01-01T00:00:00Z"), na, ""},
	{"dates/epoch request value", "dates", rq(alice, "kms:Encrypt", keyA, "aws:CurrentTime", "1700000000"), allow, "0:attached"},
	{"dates/fractional seconds", "dates", rq(alice, "kms:Encrypt", keyA, "aws:CurrentTime", "2020-01-01T00:00:00.001Z"), allow, "0:attached"},
	{"dates/malformed", "dates", rq(alice, "kms:Encrypt", keyA, "aws:CurrentTime", "yesterday"), na, ""},
	{"dates/missing", "dates", rq(alice, "kms:Encrypt", keyA), na, ""},
	{"dates/epoch policy before", "dates", rq(alice, "kms:Decrypt", keyA, "aws:EpochTime", "1546257598"), allow, "1:attached"},
	{"dates/epoch policy after", "dates", rq(alice, "kms:Decrypt", keyA, "aws:EpochTime", "1546257599"), na, ""},
	{"dates/epoch vs iso before", "dates", rq(alice, "kms:Decrypt", keyA, "aws:EpochTime", "2018-12-31T11:59:58Z"), allow, "1:attached"},
	{"dates/epoch vs iso same", "dates", rq(alice, "kms:Decrypt", keyA, "aws:EpochTime", "2018-12-31T11:59:59Z"), na, ""},
	{"dates/offset equal", "dates", rq(alice, "kms:Sign", keyA, "aws:CurrentTime", "2020-01-01T00:00:00Z"), allow, "2:attached"},
	{"dates/offset not equal", "dates", rq(alice, "kms:Sign", keyA, "aws:CurrentTime", "2020-01-01T02:00:00Z"), na, ""},
	{"dates/window inside", "dates", rq(alice, "kms:Verify", keyA, "aws:CurrentTime", "2024-06-15T08:00:00Z"), allow, "3:attached"},
	{"dates/window start", "dates", rq(alice, "kms:Verify", keyA, "aws:CurrentTime", "2024-01-01T00:00:00Z"), allow, "3:attached"},
	{"dates/window after", "dates", rq(alice, "kms:Verify", keyA, "aws:CurrentTime", "2025-01-01T00:00:00Z"), na, ""},
	{"dates/old token denied", "dates", rq(exRole, "kms:Encrypt", keyA, "aws:CurrentTime", "2023-07-01T00:00:00Z", "aws:TokenIssueTime", "2023-05-01T00:00:00Z"), deny, "0:attached 4:attached/Deny"},
	{"dates/new token", "dates", rq(exRole, "kms:Encrypt", keyA, "aws:CurrentTime", "2023-07-01T00:00:00Z", "aws:TokenIssueTime", "2023-06-15T00:00:00Z"), allow, "0:attached"},

	// Numbers.
	{"validto/before", "validto", rq(exUser, "kms:ImportKeyMaterial", keyA, "kms:ValidTo", "1546257599"), allow, "0:exact"},
	{"validto/after", "validto", rq(exUser, "kms:ImportKeyMaterial", keyA, "kms:ValidTo", "1546257600"), na, ""},
	{"validto/missing", "validto", rq(exUser, "kms:ImportKeyMaterial", keyA), na, ""},
	{"window/14 days", "pending-window", rq(admRole, "kms:ScheduleKeyDeletion", keyA, "kms:ScheduleKeyDeletionPendingWindowInDays", "14"), deny, "0:exact 1:wildcard/Deny"},
	{"window/30 days", "pending-window", rq(admRole, "kms:ScheduleKeyDeletion", keyA, "kms:ScheduleKeyDeletionPendingWindowInDays", "30"), allow, "0:exact"},
	{"window/7 days", "pending-window", rq(admRole, "kms:ScheduleKeyDeletion", keyA, "kms:ScheduleKeyDeletionPendingWindowInDays", "7"), deny, "1:wildcard/Deny"},
	{"window/not a number", "pending-window", rq(admRole, "kms:ScheduleKeyDeletion", keyA, "kms:ScheduleKeyDeletionPendingWindowInDays", "thirty"), na, ""},
	{"window/other user", "pending-window", rq(alice, "kms:ScheduleKeyDeletion", keyA, "kms:ScheduleKeyDeletionPendingWindowInDays", "30"), na, ""},
	{"numeric/equals 7.0", "numeric-misc", rq(alice, "kms:Encrypt", keyA, "test:n", "7.0"), allow, "0:attached"},
	{"numeric/equals 1000", "numeric-misc", rq(alice, "kms:Encrypt", keyA, "test:n", "1000"), allow, "0:attached"},
	{"numeric/equals 8", "numeric-misc", rq(alice, "kms:Encrypt", keyA, "test:n", "8"), na, ""},
	{"numeric/not equals 9", "numeric-misc", rq(alice, "kms:Decrypt", keyA, "test:n", "9"), allow, "1:attached"},
	{"numeric/not equals 8 (NOR)", "numeric-misc", rq(alice, "kms:Decrypt", keyA, "test:n", "8"), na, ""},
	{"numeric/not equals missing", "numeric-misc", rq(alice, "kms:Decrypt", keyA), allow, "1:attached"},
	{"numeric/greater than negative", "numeric-misc", rq(alice, "kms:Sign", keyA, "test:n", "-1"), allow, "2:attached"},
	{"numeric/not greater", "numeric-misc", rq(alice, "kms:Sign", keyA, "test:n", "-2"), na, ""},
	{"numeric/hex not a number", "numeric-misc", rq(alice, "kms:Sign", keyA, "test:n", "0x10"), na, ""},

	// Policy variables.
	{"vars/resource tag", "vars-resource", rq(alice, "kms:Encrypt", keyA, "aws:PrincipalTag/keyid", "1234abcd-12ab-34cd-56ef-1234567890ab"), allow, "0:attached"},
	{"vars/resource other key", "vars-resource", rq(alice, "kms:Encrypt", keyA2, "aws:PrincipalTag/keyid", "1234abcd-12ab-34cd-56ef-1234567890ab"), na, ""},
	{"vars/resource unresolved", "vars-resource", rq(alice, "kms:Encrypt", keyA), na, ""},
	{"vars/resource value is literal", "vars-resource", rq(alice, "kms:Encrypt", keyA, "aws:PrincipalTag/keyid", "*"), na, ""},
	{"vars/2008 not substituted", "vars-2008", rq(alice, "kms:Encrypt", keyA, "aws:username", "Alice", "kms:EncryptionContext:user", "Alice"), na, ""},
	{"vars/2008 literal", "vars-2008", rq(alice, "kms:Encrypt", keyA, "kms:EncryptionContext:user", "${aws:username}"), allow, "0:account"},
	{"vars/no version not substituted", "vars-none", rq(alice, "kms:Encrypt", keyA, "aws:username", "Alice", "kms:EncryptionContext:user", "Alice"), na, ""},
	{"vars/no version literal", "vars-none", rq(alice, "kms:Encrypt", keyA, "kms:EncryptionContext:user", "${aws:username}"), allow, "0:account"},
	{"vars/${*} literal star", "vars-escapes", rq(alice, "kms:Encrypt", keyA, "kms:EncryptionContext:x", "a*b"), allow, "0:account"},
	{"vars/${*} not wildcard", "vars-escapes", rq(alice, "kms:Encrypt", keyA, "kms:EncryptionContext:x", "axxb"), na, ""},
	{"vars/${?}${$}", "vars-escapes", rq(alice, "kms:Decrypt", keyA, "kms:EncryptionContext:x", "a?$"), allow, "1:account"},
	{"vars/${?} not wildcard", "vars-escapes", rq(alice, "kms:Decrypt", keyA, "kms:EncryptionContext:x", "ab$"), na, ""},
	{"vars/default with quote", "vars-escapes", rq(alice, "kms:Sign", keyA, "kms:EncryptionContext:x", "it's ok"), allow, "2:account"},
	{"vars/default not used", "vars-escapes", rq(alice, "kms:Sign", keyA, "aws:PrincipalTag/team", "blue", "kms:EncryptionContext:x", "blue"), allow, "2:account"},
	{"vars/default not used mismatch", "vars-escapes", rq(alice, "kms:Sign", keyA, "aws:PrincipalTag/team", "blue", "kms:EncryptionContext:x", "it's ok"), na, ""},
	{"vars/like with variable", "vars-escapes", rq(alice, "kms:Verify", keyA, "aws:PrincipalTag/team", "blue", "kms:EncryptionContext:x", "pre-blue-123"), allow, "3:account"},
	{"vars/like variable value literal", "vars-escapes", rq(alice, "kms:Verify", keyA, "aws:PrincipalTag/team", "b*", "kms:EncryptionContext:x", "pre-blue-123"), na, ""},
	{"vars/like variable unresolved", "vars-escapes", rq(alice, "kms:Verify", keyA, "kms:EncryptionContext:x", "pre--123"), na, ""},
	{"vars/deny unresolved negated", "vars-deny-unresolved", rq(exRole, "kms:Decrypt", keyA, "kms:EncryptionContext:user", "bob"), allow, "0:account"},
	{"vars/deny resolved mismatch", "vars-deny-unresolved", rq(user(acctA, "bob"), "kms:Decrypt", keyA, "aws:username", "bob", "kms:EncryptionContext:user", "alice"), deny, "0:account 1:wildcard/Deny"},
	{"vars/deny resolved match", "vars-deny-unresolved", rq(user(acctA, "bob"), "kms:Decrypt", keyA, "aws:username", "bob", "kms:EncryptionContext:user", "bob"), allow, "0:account"},

	// Principals.
	{"principals/service", "principals", rq(svc("ec2.amazonaws.com"), "kms:CreateGrant", keyA), allow, "0:exact"},
	{"principals/service case", "principals", rq(svc("EC2.AmazonAWS.com"), "kms:CreateGrant", keyA), allow, "0:exact"},
	{"principals/other service", "principals", rq(svc("s3.amazonaws.com"), "kms:CreateGrant", keyA), na, ""},
	{"principals/user for service statement", "principals", rq(alice, "kms:CreateGrant", keyA), na, ""},
	{"principals/user path", "principals", rq(user(acctA, "division_abc/subdivision_xyz/Alice"), "kms:Encrypt", keyA), allow, "1:exact"},
	{"principals/user path differs", "principals", rq(user(acctA, "Alice"), "kms:Encrypt", keyA), na, ""},
	{"principals/role path session", "principals", rq(sess(acctA, "service-role/AppRole", "x"), "kms:Decrypt", keyA), allow, "2:exact"},
	{"principals/role path unknown", "principals", rq(sessNoRole(acctA, "AppRole", "x"), "kms:Decrypt", keyA), allow, "2:exact"},
	{"principals/role other path", "principals", rq(sess(acctA, "other/AppRole", "x"), "kms:Decrypt", keyA), na, ""},
	{"principals/role other account", "principals", rq(sess(acctB, "service-role/AppRole", "x"), "kms:Decrypt", keyA), na, ""},
	{"principals/session exact", "principals", rq(sess(acctA, "DevRole", "alice-session"), "kms:Sign", keyA), allow, "3:exact"},
	{"principals/other session", "principals", rq(sess(acctA, "DevRole", "bob-session"), "kms:Sign", keyA), na, ""},
	{"principals/session name case", "principals", rq(sess(acctA, "DevRole", "Alice-Session"), "kms:Sign", keyA), na, ""},
	{"principals/federated", "principals", rq(fed(acctA, "Carol"), "kms:Verify", keyA), allow, "4:exact"},
	{"principals/federated other", "principals", rq(fed(acctA, "Dan"), "kms:Verify", keyA), na, ""},
	{"principals/mixed exact", "principals", rq(user(acctA, "Dave"), "kms:GetPublicKey", keyA), allow, "5:exact"},
	{"principals/mixed wildcard beats account", "principals", rq(alice, "kms:GetPublicKey", keyA), allow, "5:wildcard"},
	{"principals/mixed foreign", "principals", rq(bobB, "kms:GetPublicKey", keyA), allow, "5:wildcard"},
	{"principals/root and user exact", "principals", rq(user(acctA, "Dave"), "kms:GenerateMac", keyA), allow, "6:exact"},
	{"principals/root and user account", "principals", rq(alice, "kms:GenerateMac", keyA), allow, "6:account"},
	{"principals/any aws", "principals", rq(bobB, "kms:VerifyMac", keyA), allow, "7:wildcard"},
	{"principals/any aws not service", "principals", rq(svc("ec2.amazonaws.com"), "kms:VerifyMac", keyA), na, ""},
	{"principals/anyone service", "principals", rq(svc("ec2.amazonaws.com"), "kms:GenerateRandom", "*"), allow, "8:wildcard"},
	{"principals/anyone unknown", "principals", rq(policy.Principal{}, "kms:GenerateRandom", "*"), allow, "8:wildcard"},
	{"principals/role name case", "principals", rq(exRole, "kms:ListGrants", keyA), allow, "9:exact"},
	{"principals/root caller vs user", "principals", rq(root(acctA), "kms:Encrypt", keyA), na, ""},

	// ARN operators.
	{"arn/like trail", "arn", rq(alice, "kms:Encrypt", keyA, "aws:SourceArn", "arn:aws:cloudtrail:us-east-1:111122223333:trail/my-trail"), allow, "0:account"},
	{"arn/like other account", "arn", rq(alice, "kms:Encrypt", keyA, "aws:SourceArn", "arn:aws:cloudtrail:us-east-1:444455556666:trail/my-trail"), na, ""},
	{"arn/like not an arn", "arn", rq(alice, "kms:Encrypt", keyA, "aws:SourceArn", "trail/my-trail"), na, ""},
	{"arn/like star stays in segment", "arn", rq(alice, "kms:Encrypt", keyA, "aws:SourceArn", "arn:aws:cloudtrail:us-east-1:x:111122223333:trail/t"), na, ""},
	{"arn/equals", "arn", rq(alice, "kms:Decrypt", keyA, "aws:SourceArn", "arn:aws:s3:::amzn-s3-demo-bucket"), allow, "1:account"},
	{"arn/equals case sensitive", "arn", rq(alice, "kms:Decrypt", keyA, "aws:SourceArn", "arn:aws:s3:::AMZN-s3-demo-bucket"), na, ""},
	{"arn/not like signer", "arn", rq(alice, "kms:Sign", keyA, "aws:PrincipalArn", "arn:aws:iam::111122223333:role/SignerRole"), na, ""},
	{"arn/not like other", "arn", rq(alice, "kms:Sign", keyA, "aws:PrincipalArn", "arn:aws:iam::111122223333:user/Alice"), deny, "2:wildcard/Deny"},
	{"arn/not like missing", "arn", rq(alice, "kms:Sign", keyA), deny, "2:wildcard/Deny"},
	{"arn/variable", "arn", rq(alice, "kms:Verify", keyA, "aws:PrincipalTag/bucket", "logs", "aws:SourceArn", "arn:aws:s3:::logs/2024/x"), allow, "3:account"},
	{"arn/variable other bucket", "arn", rq(alice, "kms:Verify", keyA, "aws:PrincipalTag/bucket", "logs", "aws:SourceArn", "arn:aws:s3:::other/x"), na, ""},
	{"arn/short pattern", "arn", rq(alice, "kms:GenerateMac", keyA, "aws:SourceArn", "arn:aws:iam::111122223333:role/x"), allow, "4:account"},
	{"arn/short pattern other service", "arn", rq(alice, "kms:GenerateMac", keyA, "aws:SourceArn", "arn:aws:sts::111122223333:x"), na, ""},

	// Trust policies: the resource is implicitly the role.
	{"trust/ec2", "trust-ec2", rq(svc("ec2.amazonaws.com"), "sts:AssumeRole", "arn:aws:iam::111122223333:role/WebServer"), allow, "0:exact"},
	{"trust/ec2 any resource", "trust-ec2", rq(svc("ec2.amazonaws.com"), "sts:AssumeRole", "*"), allow, "0:exact"},
	{"trust/ec2 other action", "trust-ec2", rq(svc("ec2.amazonaws.com"), "sts:AssumeRoleWithSAML", "arn:aws:iam::111122223333:role/WebServer"), na, ""},
	{"trust/ec2 user", "trust-ec2", rq(alice, "sts:AssumeRole", "arn:aws:iam::111122223333:role/WebServer"), na, ""},
	{"trust/external id", "trust-xacct", rq(bobB, "sts:AssumeRole", "arn:aws:iam::111122223333:role/Audit", "sts:ExternalId", "Unique1"), allow, "0:account"},
	{"trust/wrong external id", "trust-xacct", rq(bobB, "sts:AssumeRole", "arn:aws:iam::111122223333:role/Audit", "sts:ExternalId", "Unique2"), na, ""},
	{"trust/no external id", "trust-xacct", rq(bobB, "sts:TagSession", "arn:aws:iam::111122223333:role/Audit"), na, ""},
	{"trust/same account user", "trust-xacct", rq(alice, "sts:AssumeRole", "arn:aws:iam::111122223333:role/Audit", "sts:ExternalId", "Unique1"), na, ""},

	// BinaryEquals.
	{"binary/equal", "binary", rq(alice, "kms:Encrypt", keyA, "test:bin", "QmluYXJ5VmFsdWU="), allow, "0:attached"},
	{"binary/different", "binary", rq(alice, "kms:Encrypt", keyA, "test:bin", "QmluYXJ5VmFsdWF="), na, ""},
	{"binary/invalid base64", "binary", rq(alice, "kms:Encrypt", keyA, "test:bin", "%%%"), na, ""},

	// Resource in key policies.
	{"resource/this key", "key-resource", rq(alice, "kms:Encrypt", keyA), allow, "0:account"},
	{"resource/other key", "key-resource", rq(alice, "kms:Encrypt", keyA2), na, ""},
	{"resource/no resource statement inert", "key-resource", rq(alice, "kms:ScheduleKeyDeletion", keyA), na, ""},
	{"resource/pattern ?", "key-resource", rq(alice, "kms:Decrypt", keyA2), allow, "2:account"},
	{"resource/pattern other region", "key-resource", rq(alice, "kms:Decrypt", keyA3), na, ""},
	{"resource/case sensitive", "key-resource", rq(alice, "kms:Encrypt", "arn:aws:kms:us-west-2:111122223333:key/1234ABCD-12ab-34cd-56ef-1234567890ab"), na, ""},

	// Set operators.
	{"sets/any not equals", "sets", rq(alice, "kms:Encrypt", keyA, "aws:TagKeys", "a", "aws:TagKeys", "b"), allow, "0:attached"},
	{"sets/any not equals only a", "sets", rq(alice, "kms:Encrypt", keyA, "aws:TagKeys", "a"), na, ""},
	{"sets/any not equals missing", "sets", rq(alice, "kms:Encrypt", keyA), na, ""},
	{"sets/plain not equals multi", "sets", rq(alice, "kms:Decrypt", keyA, "aws:TagKeys", "a", "aws:TagKeys", "b"), na, ""},
	{"sets/plain not equals other", "sets", rq(alice, "kms:Decrypt", keyA, "aws:TagKeys", "b", "aws:TagKeys", "c"), allow, "1:attached"},
	{"sets/plain equals multi", "sets", rq(alice, "kms:Sign", keyA, "aws:TagKeys", "b", "aws:TagKeys", "a"), allow, "2:attached"},
	{"sets/all ignore case", "sets", rq(alice, "kms:Verify", keyA, "aws:CalledVia", "cloudformation.amazonaws.com", "aws:CalledVia", "ATHENA.amazonaws.com"), allow, "3:attached"},
	{"sets/all ignore case extra", "sets", rq(alice, "kms:Verify", keyA, "aws:CalledVia", "cloudformation.amazonaws.com", "aws:CalledVia", "glue.amazonaws.com"), na, ""},
	{"sets/all missing", "sets", rq(alice, "kms:Verify", keyA), allow, "3:attached"},
	{"sets/any ip", "sets", rq(alice, "kms:GenerateMac", keyA, "test:ips", "192.168.0.1", "test:ips", "10.1.2.3"), allow, "4:attached"},
	{"sets/any ip none", "sets", rq(alice, "kms:GenerateMac", keyA, "test:ips", "192.168.0.1", "test:ips", "garbage"), na, ""},
}

func TestCorpus(t *testing.T) {
	parsed := map[string]*policy.Policy{}
	for name, cp := range corpusPolicies {
		p, err := policy.Parse(cp.doc, cp.kind)
		if err != nil {
			t.Fatalf("policy %q: Parse: %v", name, err)
		}
		parsed[name] = p
	}
	used := map[string]bool{}
	names := map[string]bool{}
	for _, tc := range corpusCases {
		if names[tc.name] {
			t.Errorf("duplicate case name %q", tc.name)
		}
		names[tc.name] = true
		p := parsed[tc.policy]
		if p == nil {
			t.Fatalf("%s: no policy %q", tc.name, tc.policy)
		}
		used[tc.policy] = true
		req := tc.req
		got := p.Evaluate(&req)
		if got.Decision != tc.want {
			t.Errorf("%s: decision got %s, want %s\n%s", tc.name, got.Decision, tc.want, p.Explain(&req))
		}
		if g := matchesString(got.Matches); g != tc.matches {
			t.Errorf("%s: matches got %q, want %q", tc.name, g, tc.matches)
		}
		// Explain must agree with Evaluate.
		ex := p.Explain(&req)
		if ex.Result.Decision != got.Decision || len(ex.Statements) != p.NumStatements() {
			t.Errorf("%s: Explain got %s with %d statements, want %s with %d", tc.name, ex.Result.Decision, len(ex.Statements), got.Decision, p.NumStatements())
		}
		applied := 0
		for _, st := range ex.Statements {
			if st.Applied {
				applied++
			} else if st.Reason == "" || st.Reason == "unknown" {
				t.Errorf("%s: statement %d did not apply but has no reason", tc.name, st.Index)
			}
		}
		if applied != len(got.Matches) {
			t.Errorf("%s: Explain applied got %d, want %d", tc.name, applied, len(got.Matches))
		}
	}
	for name := range corpusPolicies {
		if !used[name] {
			t.Errorf("policy %q has no case", name)
		}
	}
	if len(corpusCases) < 200 {
		t.Errorf("corpus has %d cases, want at least 200", len(corpusCases))
	}
	t.Logf("%d corpus cases over %d policies", len(corpusCases), len(corpusPolicies))
}
