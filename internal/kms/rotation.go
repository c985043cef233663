package kms

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/openkms/openkms/internal/kmserr"
	"github.com/openkms/openkms/internal/storage"
)

// Rotation limits from the AWS KMS API reference.
const (
	minRotationPeriod       = 90
	maxRotationPeriod       = 2560
	defaultRotationPeriod   = 365
	maxOnDemandRotations    = 25
	prefixRotation          = "r/"
	rotationTypeAutomatic   = "AUTOMATIC"
	rotationTypeOnDemand    = "ON_DEMAND"
	materialStateCurrent    = "CURRENT"
	materialStateNonCurrent = "NON_CURRENT"
	materialStatePending    = "PENDING_ROTATION"
)

func rotationStorageKey(at time.Time, region, account, keyID string) string {
	return fmt.Sprintf("%s%020d/%s/%s/%s", prefixRotation, at.Unix(), region, account, keyID)
}

// rotatable refuses keys whose material cannot rotate automatically, as
// AWS does: only symmetric encryption keys with AWS_KMS material.
func rotatable(k *keyRecord) error {
	if k.Manager == keyManagerAWS {
		return kmserr.New(kmserr.UnsupportedOperation, "%s is an AWS managed key, whose rotation cannot be changed.", k.arn())
	}
	if k.KeySpec != specSymmetricDefault || k.Origin != OriginAWSKMS.String() {
		return kmserr.New(kmserr.UnsupportedOperation, "%s origin is %s which is not valid for this operation.", k.arn(), k.Origin)
	}
	return nil
}

// EnableKeyRotation turns on automatic rotation every periodDays (nil for
// the default, 365; else 90..2560). The first rotation is one period from
// now.
func (s *Service) EnableKeyRotation(ctx context.Context, c Caller, keyID string, periodDays *int) error {
	period := defaultRotationPeriod
	if periodDays != nil {
		period = *periodDays
		if err := intBetween("rotationPeriodInDays", period, minRotationPeriod, maxRotationPeriod); err != nil {
			return err
		}
	}
	_, err := s.mutateKey(ctx, c, keyID, requires("kms:EnableKeyRotation", withValue("kms:RotationPeriodInDays", strconv.Itoa(period))), func(w storage.Writer, k *keyRecord) error {
		if k.state() != KeyStateEnabled {
			return stateError(k)
		}
		if err := rotatable(k); err != nil {
			return err
		}
		if k.RotationEnabled {
			if err := w.Delete(rotationStorageKey(k.NextRotation, k.Region, k.Account, k.KeyID)); err != nil {
				return err
			}
		}
		k.RotationEnabled = true
		k.RotationPeriodDays = period
		k.NextRotation = s.now().UTC().Add(days(period))
		return w.Put(rotationStorageKey(k.NextRotation, k.Region, k.Account, k.KeyID), nil)
	})
	return err
}

// DisableKeyRotation turns automatic rotation off.
func (s *Service) DisableKeyRotation(ctx context.Context, c Caller, keyID string) error {
	_, err := s.mutateKey(ctx, c, keyID, requires("kms:DisableKeyRotation"), func(w storage.Writer, k *keyRecord) error {
		if k.state() != KeyStateEnabled {
			return stateError(k)
		}
		if err := rotatable(k); err != nil {
			return err
		}
		if k.RotationEnabled {
			if err := w.Delete(rotationStorageKey(k.NextRotation, k.Region, k.Account, k.KeyID)); err != nil {
				return err
			}
		}
		k.RotationEnabled = false
		k.NextRotation = time.Time{}
		return nil
	})
	return err
}

// RotationStatus is the result of GetKeyRotationStatus.
type RotationStatus struct {
	KeyID              string
	Enabled            bool
	PeriodDays         int
	NextRotationDate   time.Time
	OnDemandRotationAt time.Time
}

// GetKeyRotationStatus reports a key's automatic rotation settings.
func (s *Service) GetKeyRotationStatus(ctx context.Context, c Caller, keyID string) (RotationStatus, error) {
	k, err := s.loadKey(ctx, c, "keyId", keyID, keyOnly, requires("kms:GetKeyRotationStatus"))
	if err != nil {
		return RotationStatus{}, err
	}
	st := RotationStatus{KeyID: k.KeyID, Enabled: k.RotationEnabled}
	if k.RotationEnabled {
		st.PeriodDays = k.RotationPeriodDays
		st.NextRotationDate = k.NextRotation
	}
	return st, nil
}

// RotateKeyOnDemand rotates a symmetric key's material now, without moving
// its automatic schedule. A key can be rotated on demand at most 25 times.
// For imported keys it makes pending imported material current. It returns
// the key ARN.
func (s *Service) RotateKeyOnDemand(ctx context.Context, c Caller, keyID string) (string, error) {
	k, err := s.mutateKey(ctx, c, keyID, requires("kms:RotateKeyOnDemand"), func(w storage.Writer, k *keyRecord) error {
		if k.state() != KeyStateEnabled {
			return stateError(k)
		}
		if k.KeySpec != specSymmetricDefault {
			return kmserr.New(kmserr.UnsupportedOperation, "%s key spec is %s which is not valid for this operation.", k.arn(), k.KeySpec)
		}
		if k.OnDemandRotations >= maxOnDemandRotations {
			return kmserr.New(kmserr.LimitExceeded, "%s has reached the maximum number of on-demand rotations (%d).", k.arn(), maxOnDemandRotations)
		}
		if k.Origin == originExternal {
			return promotePendingMaterial(k)
		}
		if err := rotatable(k); err != nil {
			return err
		}
		k.OnDemandRotations++
		return s.addGeneration(k, rotationTypeOnDemand)
	})
	if err != nil {
		return "", err
	}
	s.log.Info("key rotated on demand", "key", k.arn(), "version", k.CurrentVersion)
	return k.arn(), nil
}

// addGeneration creates and seals new material and makes it current.
func (s *Service) addGeneration(k *keyRecord, rotationType string) error {
	next := k.latestVersion() + 1
	m, err := s.newSymmetricMaterial(k.arn(), next, s.now().UTC())
	if err != nil {
		return err
	}
	m.RotationType = rotationType
	k.Materials = append(k.Materials, m)
	k.CurrentVersion = next
	return nil
}

func (k *keyRecord) latestVersion() uint32 {
	var v uint32
	for _, m := range k.Materials {
		v = max(v, m.Version)
	}
	return v
}

// RotationEntry is one generation of key material, as ListKeyRotations
// reports it.
type RotationEntry struct {
	KeyID           string
	RotationDate    time.Time
	RotationType    string
	KeyMaterialID   string
	Description     string
	ImportState     string
	MaterialState   string
	ExpirationModel string
	ValidTo         time.Time
}

// ListKeyRotations lists a key's completed rotations (includeAll adds the
// initial material and pending imported material, as
// IncludeKeyMaterial=ALL_KEY_MATERIAL does). limit is 0 for the default
// (100) or 1..1000.
func (s *Service) ListKeyRotations(ctx context.Context, c Caller, keyID string, includeAll bool, limit int, marker string) (Page[RotationEntry], error) {
	limit, err := pageLimit(limit, 100, 1000)
	if err != nil {
		return Page[RotationEntry]{}, err
	}
	after, err := decodeMarker(marker)
	if err != nil {
		return Page[RotationEntry]{}, err
	}
	k, err := s.loadKey(ctx, c, "keyId", keyID, keyOnly, requires("kms:ListKeyRotations"))
	if err != nil {
		return Page[RotationEntry]{}, err
	}
	if k.KeySpec != specSymmetricDefault {
		return Page[RotationEntry]{}, kmserr.New(kmserr.UnsupportedOperation, "%s key spec is %s which is not valid for this operation.", k.arn(), k.KeySpec)
	}
	var afterVersion uint64
	if after != "" {
		if afterVersion, err = strconv.ParseUint(after, 10, 32); err != nil {
			return Page[RotationEntry]{}, kmserr.New(kmserr.InvalidMarker, "Invalid marker")
		}
	}
	var page Page[RotationEntry]
	var last uint32
	for _, m := range k.Materials {
		if !includeAll && (m.RotationType == "" || m.Pending) {
			continue
		}
		if uint64(m.Version) <= afterVersion {
			continue
		}
		if len(page.Items) == limit {
			page.NextMarker = encodeMarker(strconv.FormatUint(uint64(last), 10))
			break
		}
		e := RotationEntry{KeyID: k.arn(), RotationDate: m.Created, RotationType: m.RotationType, KeyMaterialID: m.id(k.arn())}
		if includeAll {
			switch {
			case m.Pending:
				e.MaterialState = materialStatePending
			case m.Version == k.CurrentVersion:
				e.MaterialState = materialStateCurrent
			default:
				e.MaterialState = materialStateNonCurrent
			}
			if m.Imported {
				e.Description, e.ExpirationModel, e.ValidTo = m.Description, m.ExpirationModel, m.ValidTo
				e.ImportState = "IMPORTED"
				if m.Sealed == nil {
					e.ImportState = "PENDING_IMPORT"
				}
			}
		}
		page.Items = append(page.Items, e)
		last = m.Version
	}
	return page, nil
}

// RotateDueKeys rotates every key whose automatic rotation date has passed
// and moves its next date one period on. Disabled and pending-deletion
// keys are skipped (their rotation waits until they are enabled again, as
// on AWS). It returns how many keys it rotated.
func (s *Service) RotateDueKeys(ctx context.Context) (int, error) {
	now := s.now().UTC()
	due, err := s.dueEntries(ctx, prefixRotation, now)
	if err != nil {
		return 0, err
	}
	rotated := 0
	for _, idx := range due {
		region, account, keyID, ok := parseScheduleKey(idx, prefixRotation)
		if !ok {
			continue
		}
		err := s.update(ctx, func(w storage.Writer) error {
			k, err := getKeyRecord(w, region, account, keyID)
			if errors.Is(err, storage.ErrNotFound) {
				return w.Delete(idx)
			}
			if err != nil {
				return err
			}
			if !k.RotationEnabled || rotationStorageKey(k.NextRotation, region, account, keyID) != idx {
				return w.Delete(idx) // stale entry
			}
			if k.state() != KeyStateEnabled {
				return nil // paused; re-checked on the next run
			}
			if err := w.Delete(idx); err != nil {
				return err
			}
			if err := s.addGeneration(k, rotationTypeAutomatic); err != nil {
				return err
			}
			k.NextRotation = now.Add(days(k.RotationPeriodDays))
			if err := w.Put(rotationStorageKey(k.NextRotation, region, account, keyID), nil); err != nil {
				return err
			}
			rotated++
			return putKeyRecord(w, k)
		})
		if err != nil {
			return rotated, err
		}
	}
	return rotated, nil
}

// dueEntries lists schedule index entries under prefix whose time has
// come, oldest first, at most 1000 per call.
func (s *Service) dueEntries(ctx context.Context, prefix string, now time.Time) ([]string, error) {
	var due []string
	err := s.view(ctx, func(r storage.Reader) error {
		return r.Scan(prefix, "", func(key string, _ []byte) (bool, error) {
			ts, _, _ := strings.Cut(strings.TrimPrefix(key, prefix), "/")
			var sec int64
			if _, err := fmt.Sscanf(ts, "%d", &sec); err != nil || sec > now.Unix() {
				return false, nil
			}
			due = append(due, key)
			return len(due) < 1000, nil
		})
	})
	return due, err
}

// parseScheduleKey splits "<prefix><time>/<region>/<account>/<key-id>".
func parseScheduleKey(key, prefix string) (region, account, keyID string, ok bool) {
	parts := strings.Split(strings.TrimPrefix(key, prefix), "/")
	if len(parts) != 4 {
		return "", "", "", false
	}
	return parts[1], parts[2], parts[3], true
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }
