package kms

import (
	"context"
	"errors"
	"strings"

	"github.com/openkms/openkms/internal/arn"
	"github.com/openkms/openkms/internal/storage"
)

// AWS managed keys
// (https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key):
// the default key of an integrated service, alias/aws/<service>, is created
// in an account and region the first time it is referred to. Its key
// policy lets the account's principals use it only through that service
// (kms:ViaService, kms:CallerAccount) and read its metadata directly, and
// nothing else — so customers cannot change its policy, rotation or
// deletion: those requests are denied by the policy itself. It is rotated
// every year.

const keyManagerAWS = "AWS"

// managedService returns the service of an AWS managed alias name
// ("alias/aws/s3" → "s3"), or "".
func managedService(aliasName string) string {
	svc, ok := strings.CutPrefix(aliasName, "alias/aws/")
	if !ok || svc == "" || len(svc) > 64 {
		return ""
	}
	for i := 0; i < len(svc); i++ {
		c := svc[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return ""
		}
	}
	return svc
}

func awsManagedKeyPolicy(account, region, service string) string {
	return `{
  "Version" : "2012-10-17",
  "Id" : "auto-` + service + `-1",
  "Statement" : [ {
    "Sid" : "Allow access through ` + service + ` for all principals in the account that are authorized to use ` + service + `",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "*"
    },
    "Action" : [ "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey" ],
    "Resource" : "*",
    "Condition" : {
      "StringEquals" : {
        "kms:CallerAccount" : "` + account + `",
        "kms:ViaService" : "` + service + `.` + region + `.amazonaws.com"
      }
    }
  }, {
    "Sid" : "Allow direct access to key metadata to the account",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::` + account + `:root"
    },
    "Action" : [ "kms:Describe*", "kms:Get*", "kms:List*" ],
    "Resource" : "*"
  } ]
}`
}

// ensureManagedKey creates the AWS managed key behind alias/aws/<service> in
// the caller's account and region if it does not exist yet. It is
// idempotent and safe to race: the alias is created in the same
// transaction as the key, and a second creator finds it.
func (s *Service) ensureManagedKey(ctx context.Context, c Caller, aliasName string) error {
	service := managedService(aliasName)
	if service == "" {
		return nil
	}
	keyID, err := newUUID(s.rand)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	k := &keyRecord{
		KeyID: keyID, Account: c.Principal.Account, Region: c.Region, CreationDate: now,
		Description: "Default key that protects my " + service + " data when no other key is defined",
		State:       KeyStateEnabled.String(), KeySpec: specSymmetricDefault, KeyUsage: usageEncryptDecrypt,
		Origin: OriginAWSKMS.String(), Policy: awsManagedKeyPolicy(c.Principal.Account, c.Region, service),
		CurrentVersion: 1, Manager: keyManagerAWS,
		RotationEnabled: true, RotationPeriodDays: defaultRotationPeriod, NextRotation: now.Add(days(defaultRotationPeriod)),
	}
	m, err := s.newSymmetricMaterial(k.arn(), 1, now)
	if err != nil {
		return err
	}
	k.Materials = []materialRecord{m}
	return s.update(ctx, func(w storage.Writer) error {
		if _, err := getAliasRecord(w, c.Region, c.Principal.Account, aliasName); err == nil {
			return nil // created meanwhile
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if err := putKeyRecord(w, k); err != nil {
			return err
		}
		if err := w.Put(rotationStorageKey(k.NextRotation, k.Region, k.Account, k.KeyID), nil); err != nil {
			return err
		}
		s.log.Info("AWS managed key created", "alias", arn.Alias(c.Region, c.Principal.Account, aliasName), "key", k.arn())
		return putAliasRecord(w, c.Region, c.Principal.Account, aliasName, &aliasRecord{TargetKeyID: keyID, Created: now, Updated: now})
	})
}

// managedAliasOf returns the AWS managed alias name a KeyId parameter
// names in the caller's account, or "".
func managedAliasOf(c Caller, id string) string {
	name := id
	if strings.HasPrefix(id, "arn:") {
		a, err := arn.Parse(id)
		if err != nil || !a.IsAlias() || a.Account != c.Principal.Account || a.Region != c.Region {
			return ""
		}
		name = a.Resource
	}
	if managedService(name) == "" {
		return ""
	}
	return name
}
