package kms

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openkms/openkms/internal/arn"
	"github.com/openkms/openkms/internal/keymaterial"
	"github.com/openkms/openkms/internal/kmserr"
	"github.com/openkms/openkms/internal/storage"
)

// Limits from the AWS KMS API reference.
const (
	maxDescriptionLen  = 8192
	maxPolicyLen       = 32768
	minPendingWindow   = 7
	maxPendingWindow   = 30
	defaultPendingDays = 30
)

// CreateKeyInput is the input of CreateKey. Empty strings mean "not given".
type CreateKeyInput struct {
	Description                    string
	DescriptionSet                 bool
	KeySpec                        string
	KeyUsage                       string
	Origin                         string
	Policy                         string
	Tags                           []Tag
	BypassPolicyLockoutSafetyCheck bool
	MultiRegion                    bool
	CustomKeyStoreID               string
	XksKeyID                       string
}

// CreateKey creates a customer managed key.
func (s *Service) CreateKey(ctx context.Context, c Caller, in CreateKeyInput) (KeyMetadata, error) {
	if err := lengthBetween("description", in.Description, 0, maxDescriptionLen); err != nil {
		return KeyMetadata{}, err
	}
	spec, usage, err := keySpecAndUsage(in.KeySpec, in.KeyUsage)
	if err != nil {
		return KeyMetadata{}, err
	}
	origin := OriginAWSKMS
	if in.Origin != "" {
		if !knownAWSOrigin(in.Origin) {
			return KeyMetadata{}, validation("origin", in.Origin, "Member must satisfy enum value set: ["+strings.Join(awsOrigins, ", ")+"]")
		}
		var err error
		if origin, err = ParseOrigin(in.Origin); err != nil {
			return KeyMetadata{}, kmserr.New(kmserr.UnsupportedOperation, "Origin %s is not supported by this server yet.", in.Origin)
		}
	}
	if in.MultiRegion {
		return KeyMetadata{}, kmserr.New(kmserr.UnsupportedOperation, "Multi-Region keys are not supported by this server yet.")
	}
	if in.XksKeyID != "" {
		return KeyMetadata{}, kmserr.New(kmserr.UnsupportedOperation, "External key stores are not supported by this server.")
	}
	if in.CustomKeyStoreID != "" || origin == OriginAWSCloudHSM {
		if in.CustomKeyStoreID == "" {
			return KeyMetadata{}, kmserr.New(kmserr.Validation, "CustomKeyStoreId is required for origin AWS_CLOUDHSM.")
		}
		if in.Origin != "" && origin != OriginAWSCloudHSM {
			return KeyMetadata{}, kmserr.New(kmserr.UnsupportedOperation, "Keys in a custom key store must have origin AWS_CLOUDHSM, not %s.", in.Origin)
		}
		if spec != specSymmetricDefault {
			return KeyMetadata{}, kmserr.New(kmserr.UnsupportedOperation, "KeySpec %s is not supported in a custom key store; only SYMMETRIC_DEFAULT is.", spec)
		}
		origin = OriginAWSCloudHSM
	}
	if err := validateTags(in.Tags); err != nil {
		return KeyMetadata{}, err
	}
	policy := in.Policy
	if policy == "" {
		policy = defaultKeyPolicy(c.Principal.Account)
	} else if err := validatePolicyDocument(policy); err != nil {
		return KeyMetadata{}, err
	} else if err := s.parseKeyPolicy(policy); err != nil {
		return KeyMetadata{}, err
	}
	az := newAuthz(c, "kms:CreateKey", nil).
		with("kms:KeyOrigin", origin.String()).with("kms:KeySpec", spec).with("kms:KeyUsage", usage).
		with("kms:MultiRegion", strconv.FormatBool(in.MultiRegion)).
		with("kms:BypassPolicyLockoutSafetyCheck", strconv.FormatBool(in.BypassPolicyLockoutSafetyCheck))
	withRequestTags(in.Tags)(az)
	if err := s.authorize(ctx, c, az); err != nil {
		return KeyMetadata{}, err
	}

	keyID, err := newUUID(s.rand)
	if err != nil {
		return KeyMetadata{}, kmserr.Internal(err)
	}
	now := s.now().UTC()
	k := &keyRecord{
		KeyID:          keyID,
		Account:        c.Principal.Account,
		Region:         c.Region,
		CreationDate:   now,
		Description:    in.Description,
		State:          KeyStateEnabled.String(),
		KeySpec:        spec,
		KeyUsage:       usage,
		Origin:         origin.String(),
		Policy:         policy,
		Tags:           in.Tags,
		CurrentVersion: 1,
	}
	if in.Policy != "" && !in.BypassPolicyLockoutSafetyCheck {
		if err := s.lockoutCheck(ctx, c, k, policy); err != nil {
			return KeyMetadata{}, err
		}
	}
	switch {
	case origin == OriginAWSCloudHSM:
		if err := s.newHSMKey(ctx, c, k, in.CustomKeyStoreID); err != nil {
			return KeyMetadata{}, err
		}
	case origin == OriginExternal:
		k.State = KeyStatePendingImport.String()
		k.CurrentVersion = 0
	case k.symmetric():
		m, err := s.newSymmetricMaterial(k.arn(), 1, now)
		if err != nil {
			return KeyMetadata{}, err
		}
		k.Materials = []materialRecord{m}
	default:
		m, pub, err := s.newAsymmetricMaterial(k, 1, now)
		if err != nil {
			return KeyMetadata{}, err
		}
		k.Materials, k.PublicKey = []materialRecord{m}, pub
	}
	err = s.update(ctx, func(w storage.Writer) error { return putKeyRecord(w, k) })
	if err != nil {
		return KeyMetadata{}, err
	}
	noteKey(ctx, k.arn())
	s.log.Info("key created", "key", k.arn(), "principal", c.Principal.ARN)
	return k.metadata(), nil
}

// newSymmetricMaterial generates 256 bits of key material and seals it.
func (s *Service) newSymmetricMaterial(keyARN string, version uint32, now time.Time) (materialRecord, error) {
	raw := make([]byte, 32)
	if _, err := readFull(s.rand, raw); err != nil {
		return materialRecord{}, kmserr.Internal(err)
	}
	defer clear(raw)
	sealed, err := s.sealer.Seal(raw, materialAAD(keyARN, version))
	if err != nil {
		return materialRecord{}, kmserr.Internal(err)
	}
	return materialRecord{Version: version, Created: now, Sealed: sealed}, nil
}

// DescribeKey returns a key's metadata.
func (s *Service) DescribeKey(ctx context.Context, c Caller, keyID string) (KeyMetadata, error) {
	k, err := s.loadKey(ctx, c, "keyId", keyID, keyOrAlias, requires("kms:DescribeKey"))
	if err != nil {
		return KeyMetadata{}, err
	}
	return k.metadata(), nil
}

// KeyListEntry is one entry of ListKeys.
type KeyListEntry struct {
	KeyID, KeyARN string
}

// Page is a page of a listing: NextMarker is empty on the last page.
type Page[T any] struct {
	Items      []T
	NextMarker string
}

// ListKeys lists the keys of the caller's account in the caller's region.
// limit is 0 for the default (100) or 1..1000.
func (s *Service) ListKeys(ctx context.Context, c Caller, limit int, marker string) (Page[KeyListEntry], error) {
	if err := s.authorize(ctx, c, newAuthz(c, "kms:ListKeys", nil)); err != nil {
		return Page[KeyListEntry]{}, err
	}
	limit, err := pageLimit(limit, 100, 1000)
	if err != nil {
		return Page[KeyListEntry]{}, err
	}
	after, err := decodeMarker(marker)
	if err != nil {
		return Page[KeyListEntry]{}, err
	}
	var page Page[KeyListEntry]
	prefix := prefixKey + c.Region + "/" + c.Principal.Account + "/"
	err = s.view(ctx, func(r storage.Reader) error {
		return r.Scan(prefix, prefix+after, func(key string, value []byte) (bool, error) {
			id := strings.TrimPrefix(key, prefix)
			if len(page.Items) == limit {
				page.NextMarker = encodeMarker(page.Items[len(page.Items)-1].KeyID)
				return false, nil
			}
			page.Items = append(page.Items, KeyListEntry{KeyID: id, KeyARN: arn.Key(c.Region, c.Principal.Account, id)})
			return true, nil
		})
	})
	return page, err
}

// EnableKey sets a key's state to Enabled.
func (s *Service) EnableKey(ctx context.Context, c Caller, keyID string) error {
	_, err := s.mutateKey(ctx, c, keyID, requires("kms:EnableKey"), func(_ storage.Writer, k *keyRecord) error {
		switch k.state() {
		case KeyStateEnabled, KeyStateDisabled:
			k.State = KeyStateEnabled.String()
			return nil
		}
		return invalidState(k)
	})
	return err
}

// DisableKey sets a key's state to Disabled.
func (s *Service) DisableKey(ctx context.Context, c Caller, keyID string) error {
	_, err := s.mutateKey(ctx, c, keyID, requires("kms:DisableKey"), func(_ storage.Writer, k *keyRecord) error {
		switch k.state() {
		case KeyStateEnabled, KeyStateDisabled:
			k.State = KeyStateDisabled.String()
			return nil
		}
		return invalidState(k)
	})
	return err
}

// UpdateKeyDescription replaces a key's description.
func (s *Service) UpdateKeyDescription(ctx context.Context, c Caller, keyID, description string) error {
	if err := lengthBetween("description", description, 0, maxDescriptionLen); err != nil {
		return err
	}
	_, err := s.mutateKey(ctx, c, keyID, requires("kms:UpdateKeyDescription"), func(_ storage.Writer, k *keyRecord) error {
		if k.state() == KeyStatePendingDeletion {
			return invalidState(k)
		}
		k.Description = description
		return nil
	})
	return err
}

// ScheduleKeyDeletionOutput is the result of ScheduleKeyDeletion.
type ScheduleKeyDeletionOutput struct {
	KeyARN              string
	DeletionDate        time.Time
	KeyState            KeyState
	PendingWindowInDays int
}

// ScheduleKeyDeletion puts a key in PendingDeletion; it is deleted when
// its deletion date passes. window is nil for the default (30 days) or
// 7..30.
func (s *Service) ScheduleKeyDeletion(ctx context.Context, c Caller, keyID string, window *int) (ScheduleKeyDeletionOutput, error) {
	days := defaultPendingDays
	if window != nil {
		days = *window
		if days < minPendingWindow || days > maxPendingWindow {
			return ScheduleKeyDeletionOutput{}, kmserr.New(kmserr.Validation, "PendingWindowInDays must be between %d and %d", minPendingWindow, maxPendingWindow)
		}
	}
	k, err := s.mutateKey(ctx, c, keyID, requires("kms:ScheduleKeyDeletion", withValue("kms:ScheduleKeyDeletionPendingWindowInDays", strconv.Itoa(days))), func(w storage.Writer, k *keyRecord) error {
		switch k.state() {
		case KeyStateEnabled, KeyStateDisabled, KeyStatePendingImport:
		default:
			return invalidState(k)
		}
		k.State = KeyStatePendingDeletion.String()
		k.DeletionDate = s.now().UTC().Add(time.Duration(days) * 24 * time.Hour)
		k.PendingWindowInDays = days
		return w.Put(deletionStorageKey(k.DeletionDate, k.Region, k.Account, k.KeyID), nil)
	})
	if err != nil {
		return ScheduleKeyDeletionOutput{}, err
	}
	s.log.Info("key deletion scheduled", "key", k.arn(), "date", k.DeletionDate)
	return ScheduleKeyDeletionOutput{KeyARN: k.arn(), DeletionDate: k.DeletionDate, KeyState: KeyStatePendingDeletion, PendingWindowInDays: days}, nil
}

// CancelKeyDeletion takes a key out of PendingDeletion; it becomes Disabled
// as on AWS. It returns the key ARN.
func (s *Service) CancelKeyDeletion(ctx context.Context, c Caller, keyID string) (string, error) {
	k, err := s.mutateKey(ctx, c, keyID, requires("kms:CancelKeyDeletion"), func(w storage.Writer, k *keyRecord) error {
		if k.state() != KeyStatePendingDeletion {
			return kmserr.New(kmserr.KMSInvalidState, "%s is not pending deletion.", k.arn())
		}
		if err := w.Delete(deletionStorageKey(k.DeletionDate, k.Region, k.Account, k.KeyID)); err != nil {
			return err
		}
		k.State = KeyStateDisabled.String()
		if m, ok := k.material(k.CurrentVersion); !ok || m.Sealed == nil {
			k.State = KeyStatePendingImport.String()
		}
		k.DeletionDate = time.Time{}
		k.PendingWindowInDays = 0
		return nil
	})
	if err != nil {
		return "", err
	}
	return k.arn(), nil
}

// DeleteDueKeys deletes every key whose deletion date has passed, with its
// aliases, and returns how many it deleted. The server runs it
// periodically; because the schedule is in storage, it survives restarts.
func (s *Service) DeleteDueKeys(ctx context.Context) (int, error) {
	now := s.now().UTC()
	due, err := s.dueEntries(ctx, prefixDeletion, now)
	if err != nil {
		return 0, err
	}
	deleted := 0
	for _, idx := range due {
		region, account, keyID, ok := parseScheduleKey(idx, prefixDeletion)
		if !ok {
			continue
		}
		var gone *keyRecord
		err := s.update(ctx, func(w storage.Writer) error {
			gone = nil
			if err := w.Delete(idx); err != nil {
				return err
			}
			k, err := getKeyRecord(w, region, account, keyID)
			if errors.Is(err, storage.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			if k.state() != KeyStatePendingDeletion || k.DeletionDate.After(now) {
				return nil // cancelled, or rescheduled; the index entry was stale
			}
			if err := deleteAliasesOf(w, region, account, keyID); err != nil {
				return err
			}
			if err := deleteGrantsOf(w, region, account, keyID); err != nil {
				return err
			}
			if s.usage != nil {
				if err := s.usage.Forget(w, k.arn()); err != nil {
					return err
				}
			}
			if k.RotationEnabled {
				if err := w.Delete(rotationStorageKey(k.NextRotation, region, account, keyID)); err != nil {
					return err
				}
			}
			deleted++
			gone = k
			return w.Delete(keyStorageKey(region, account, keyID))
		})
		if err != nil {
			return deleted, err
		}
		if gone != nil && gone.CustomKeyStoreID != "" {
			s.destroyHSMKey(ctx, gone)
		}
		s.log.Info("key deleted", "region", region, "account", account, "key", keyID)
	}
	return deleted, nil
}

// GetKeyPolicy returns a key's policy. Only the policy name "default"
// exists.
func (s *Service) GetKeyPolicy(ctx context.Context, c Caller, keyID, policyName string) (string, error) {
	if policyName != "" && policyName != "default" {
		return "", kmserr.New(kmserr.NotFound, "No such policy exists")
	}
	k, err := s.loadKey(ctx, c, "keyId", keyID, keyOnly, requires("kms:GetKeyPolicy"))
	if err != nil {
		return "", err
	}
	return k.Policy, nil
}

// PutKeyPolicy replaces a key's policy (stored as given until policy
// evaluation lands).
//
// Unless bypass is set, the new policy must still let the caller change
// the policy (the policy lockout safety check).
func (s *Service) PutKeyPolicy(ctx context.Context, c Caller, keyID, policyName, policy string, bypass bool) error {
	if policyName != "" && policyName != "default" {
		return validation("policyName", policyName, "Member must satisfy regular expression pattern: default")
	}
	if policy == "" {
		return required("policy")
	}
	if err := validatePolicyDocument(policy); err != nil {
		return err
	}
	if err := s.parseKeyPolicy(policy); err != nil {
		return err
	}
	_, err := s.mutateKey(ctx, c, keyID, requires("kms:PutKeyPolicy", withValue("kms:BypassPolicyLockoutSafetyCheck", strconv.FormatBool(bypass))), func(_ storage.Writer, k *keyRecord) error {
		if !bypass {
			if err := s.lockoutCheck(ctx, c, k, policy); err != nil {
				return err
			}
		}
		k.Policy = policy
		return nil
	})
	return err
}

// ListKeyPolicies lists a key's policy names: always "default".
func (s *Service) ListKeyPolicies(ctx context.Context, c Caller, keyID string) ([]string, error) {
	if _, err := s.loadKey(ctx, c, "keyId", keyID, keyOnly, requires("kms:ListKeyPolicies")); err != nil {
		return nil, err
	}
	return []string{"default"}, nil
}

func defaultKeyPolicy(account string) string {
	return `{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::` + account + `:root"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  } ]
}`
}

// validatePolicyDocument checks a key policy's size. Until the policy
// language is evaluated, policies are stored as given.
func validatePolicyDocument(p string) error {
	if len(p) > maxPolicyLen {
		return kmserr.New(kmserr.LimitExceeded, "The key policy exceeds the maximum size of %d bytes.", maxPolicyLen)
	}
	return nil
}

// The enum values AWS accepts on the wire, so that a value AWS knows but
// this server does not support yet gets UnsupportedOperationException
// rather than a ValidationException.
var (
	awsKeySpecs = []string{"RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521",
		"ECC_SECG_P256K1", "SYMMETRIC_DEFAULT", "HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512", "SM2",
		"ML_DSA_44", "ML_DSA_65", "ML_DSA_87", "ECC_NIST_EDWARDS25519"}
	awsKeyUsages = []string{"SIGN_VERIFY", "ENCRYPT_DECRYPT", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"}
	awsOrigins   = []string{"AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"}
)

func knownAWSKeySpec(s string) bool  { return slices.Contains(awsKeySpecs, s) }
func knownAWSKeyUsage(s string) bool { return slices.Contains(awsKeyUsages, s) }
func knownAWSOrigin(s string) bool   { return slices.Contains(awsOrigins, s) }

// keySpecAndUsage validates CreateKey's KeySpec and KeyUsage, as AWS does:
// the spec defaults to SYMMETRIC_DEFAULT, whose usage defaults to
// ENCRYPT_DECRYPT; every other spec needs an explicit usage that it allows.
func keySpecAndUsage(spec, usage string) (string, string, error) {
	if spec == "" {
		spec = specSymmetricDefault
	}
	if !knownAWSKeySpec(spec) {
		return "", "", validation("keySpec", spec, "Member must satisfy enum value set: ["+strings.Join(awsKeySpecs, ", ")+"]")
	}
	if usage != "" && !knownAWSKeyUsage(usage) {
		return "", "", validation("keyUsage", usage, "Member must satisfy enum value set: ["+strings.Join(awsKeyUsages, ", ")+"]")
	}
	if spec == specSymmetricDefault {
		if usage == "" {
			usage = usageEncryptDecrypt
		}
		if usage != usageEncryptDecrypt {
			return "", "", kmserr.New(kmserr.Validation, "KeyUsage %s is not compatible with KeySpec %s", usage, spec)
		}
		return spec, usage, nil
	}
	ks, err := keymaterial.ParseKeySpec(spec)
	if err != nil || !ks.Valid() {
		return "", "", kmserr.New(kmserr.UnsupportedOperation, "KeySpec %s is not supported by this server.", spec)
	}
	if usage == "" {
		return "", "", kmserr.New(kmserr.Validation, "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.")
	}
	ku, err := keymaterial.ParseKeyUsage(usage)
	if err != nil || !ks.Allows(ku) {
		return "", "", kmserr.New(kmserr.Validation, "KeyUsage %s is not compatible with KeySpec %s", usage, spec)
	}
	return spec, usage, nil
}

// newAsymmetricMaterial generates key material for an asymmetric or HMAC
// key, seals the private part, and returns it with the public key (nil for
// HMAC keys).
func (s *Service) newAsymmetricMaterial(k *keyRecord, version uint32, now time.Time) (materialRecord, []byte, error) {
	spec, err := keymaterial.ParseKeySpec(k.KeySpec)
	if err != nil {
		return materialRecord{}, nil, kmserr.Internal(err)
	}
	key, err := keymaterial.Generate(spec, s.rand)
	if err != nil {
		return materialRecord{}, nil, kmserr.Internal(err)
	}
	priv, err := key.MarshalPrivate()
	if err != nil {
		return materialRecord{}, nil, kmserr.Internal(err)
	}
	defer clear(priv)
	var pub []byte
	if spec.Asymmetric() {
		if pub, err = key.PublicKeyDER(); err != nil {
			return materialRecord{}, nil, kmserr.Internal(err)
		}
	}
	sealed, err := s.sealer.Seal(priv, materialAAD(k.arn(), version))
	if err != nil {
		return materialRecord{}, nil, kmserr.Internal(err)
	}
	return materialRecord{Version: version, Created: now, Sealed: sealed}, pub, nil
}
