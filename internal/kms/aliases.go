package kms

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/openkms/openkms/internal/arn"
	"github.com/openkms/openkms/internal/kmserr"
	"github.com/openkms/openkms/internal/storage"
)

const maxAliasNameLen = 256

// validateAliasName checks an AliasName parameter of CreateAlias,
// UpdateAlias and DeleteAlias.
func validateAliasName(name string, creating bool) error {
	if name == "" {
		return required("aliasName")
	}
	if err := lengthBetween("aliasName", name, 1, maxAliasNameLen); err != nil {
		return err
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ':' || c == '/' || c == '_' || c == '-') {
			return validation("aliasName", name, "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$")
		}
	}
	if !strings.HasPrefix(name, "alias/") || len(name) == len("alias/") {
		return kmserr.New(kmserr.Validation, `Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html`)
	}
	if creating && strings.Contains(name, ":") {
		return kmserr.New(kmserr.Validation, "%s contains invalid characters for an alias", name)
	}
	if strings.HasPrefix(name, "alias/aws/") {
		return kmserr.New(kmserr.NotAuthorized, "")
	}
	return nil
}

// CreateAlias creates an alias for a key in the caller's account and
// region.
func (s *Service) CreateAlias(ctx context.Context, c Caller, aliasName, targetKeyID string) error {
	if err := validateAliasName(aliasName, true); err != nil {
		return err
	}
	if targetKeyID == "" {
		return required("targetKeyId")
	}
	if isAliasRef(targetKeyID) {
		return kmserr.New(kmserr.Validation, "Aliases must refer to keys. Not aliases")
	}
	if _, err := s.loadKey(ctx, c, "targetKeyId", targetKeyID, keyOnly, requires("kms:CreateAlias")); err != nil {
		return err
	}
	return s.update(ctx, func(w storage.Writer) error {
		k, err := resolveKey(w, c, "targetKeyId", targetKeyID, keyOnly)
		if err != nil {
			return err
		}
		noteKey(ctx, k.arn())
		if k.state() == KeyStatePendingDeletion {
			return invalidState(k)
		}
		_, err = getAliasRecord(w, c.Region, c.Principal.Account, aliasName)
		if err == nil {
			return kmserr.New(kmserr.AlreadyExists, "An alias with the name %s already exists",
				arn.Alias(c.Region, c.Principal.Account, aliasName))
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		now := s.now().UTC()
		return putAliasRecord(w, c.Region, c.Principal.Account, aliasName,
			&aliasRecord{TargetKeyID: k.KeyID, Created: now, Updated: now})
	})
}

// UpdateAlias points an existing alias at another key of the same type and
// usage.
func (s *Service) UpdateAlias(ctx context.Context, c Caller, aliasName, targetKeyID string) error {
	if err := validateAliasName(aliasName, false); err != nil {
		return err
	}
	if targetKeyID == "" {
		return required("targetKeyId")
	}
	if isAliasRef(targetKeyID) {
		return kmserr.New(kmserr.Validation, "Aliases must refer to keys. Not aliases")
	}
	if _, err := s.loadKey(ctx, c, "targetKeyId", targetKeyID, keyOnly, requires("kms:UpdateAlias")); err != nil {
		return err
	}
	if al, err := storage.Get(ctx, s.store, aliasStorageKey(c.Region, c.Principal.Account, aliasName)); err == nil {
		var rec aliasRecord
		if json.Unmarshal(al, &rec) == nil && rec.TargetKeyID != "" {
			if _, err := s.loadKey(ctx, c, "aliasName", rec.TargetKeyID, keyOnly, requires("kms:UpdateAlias")); err != nil && !kmserr.Is(err, kmserr.NotFound) {
				return err
			}
		}
	}
	return s.update(ctx, func(w storage.Writer) error {
		al, err := getAliasRecord(w, c.Region, c.Principal.Account, aliasName)
		if errors.Is(err, storage.ErrNotFound) {
			return aliasNotFound(arn.Alias(c.Region, c.Principal.Account, aliasName))
		}
		if err != nil {
			return err
		}
		k, err := resolveKey(w, c, "targetKeyId", targetKeyID, keyOnly)
		if err != nil {
			return err
		}
		noteKey(ctx, k.arn())
		if k.state() == KeyStatePendingDeletion {
			return invalidState(k)
		}
		if old, err := getKeyRecord(w, c.Region, c.Principal.Account, al.TargetKeyID); err == nil {
			if old.KeySpec != k.KeySpec || old.KeyUsage != k.KeyUsage {
				return kmserr.New(kmserr.Validation,
					"Alias %s cannot be changed from a key of type %s/%s to a key of type %s/%s",
					aliasName, old.KeySpec, old.KeyUsage, k.KeySpec, k.KeyUsage)
			}
		}
		al.TargetKeyID = k.KeyID
		al.Updated = s.now().UTC()
		return putAliasRecord(w, c.Region, c.Principal.Account, aliasName, al)
	})
}

// DeleteAlias deletes an alias; the key is not affected.
func (s *Service) DeleteAlias(ctx context.Context, c Caller, aliasName string) error {
	if err := validateAliasName(aliasName, false); err != nil {
		return err
	}
	if al, err := storage.Get(ctx, s.store, aliasStorageKey(c.Region, c.Principal.Account, aliasName)); err == nil {
		var rec aliasRecord
		if json.Unmarshal(al, &rec) == nil && rec.TargetKeyID != "" {
			if _, err := s.loadKey(ctx, c, "aliasName", rec.TargetKeyID, keyOnly, requires("kms:DeleteAlias")); err != nil && !kmserr.Is(err, kmserr.NotFound) {
				return err
			}
		}
	}
	return s.update(ctx, func(w storage.Writer) error {
		if _, err := getAliasRecord(w, c.Region, c.Principal.Account, aliasName); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return aliasNotFound(arn.Alias(c.Region, c.Principal.Account, aliasName))
			}
			return err
		}
		return w.Delete(aliasStorageKey(c.Region, c.Principal.Account, aliasName))
	})
}

// ListAliases lists the aliases of the caller's account and region, or
// only those of one key when keyID is given. limit is 0 for the default
// (50) or 1..100.
func (s *Service) ListAliases(ctx context.Context, c Caller, keyID string, limit int, marker string) (Page[AliasEntry], error) {
	limit, err := pageLimit(limit, 50, 100)
	if err != nil {
		return Page[AliasEntry]{}, err
	}
	if err := s.authorize(ctx, c, newAuthz(c, "kms:ListAliases", nil)); err != nil {
		return Page[AliasEntry]{}, err
	}
	after, err := decodeMarker(marker)
	if err != nil {
		return Page[AliasEntry]{}, err
	}
	var page Page[AliasEntry]
	prefix := prefixAlias + c.Region + "/" + c.Principal.Account + "/"
	err = s.view(ctx, func(r storage.Reader) error {
		filter := ""
		if keyID != "" {
			k, err := resolveKey(r, c, "keyId", keyID, keyOnly)
			if err != nil {
				return err
			}
			filter = k.KeyID
		}
		return r.Scan(prefix, prefix+after, func(key string, value []byte) (bool, error) {
			name := "alias/" + strings.TrimPrefix(key, prefix)
			al, err := getAliasRecord(r, c.Region, c.Principal.Account, name)
			if err != nil {
				return false, err
			}
			if filter != "" && al.TargetKeyID != filter {
				return true, nil
			}
			if len(page.Items) == limit {
				last := page.Items[len(page.Items)-1].AliasName
				page.NextMarker = encodeMarker(strings.TrimPrefix(last, "alias/"))
				return false, nil
			}
			page.Items = append(page.Items, AliasEntry{
				AliasName:       name,
				AliasARN:        arn.Alias(c.Region, c.Principal.Account, name),
				TargetKeyID:     al.TargetKeyID,
				CreationDate:    al.Created,
				LastUpdatedDate: al.Updated,
			})
			return true, nil
		})
	})
	return page, err
}

// deleteAliasesOf removes every alias that points at a key (when the key
// is deleted).
func deleteAliasesOf(w storage.Writer, region, account, keyID string) error {
	prefix := prefixAlias + region + "/" + account + "/"
	var doomed []string
	err := w.Scan(prefix, "", func(key string, value []byte) (bool, error) {
		name := "alias/" + strings.TrimPrefix(key, prefix)
		al, err := getAliasRecord(w, region, account, name)
		if err != nil {
			return false, err
		}
		if al.TargetKeyID == keyID {
			doomed = append(doomed, key)
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, key := range doomed {
		if err := w.Delete(key); err != nil {
			return err
		}
	}
	return nil
}

func isAliasRef(id string) bool {
	if strings.HasPrefix(id, "alias/") {
		return true
	}
	a, err := arn.Parse(id)
	return err == nil && a.IsAlias()
}

// aliasesOf lists the alias names that point at a key
// (kms:ResourceAliases).
func (s *Service) aliasesOf(ctx context.Context, k *keyRecord) ([]string, error) {
	prefix := prefixAlias + k.Region + "/" + k.Account + "/"
	var out []string
	err := s.view(ctx, func(r storage.Reader) error {
		return r.Scan(prefix, "", func(key string, v []byte) (bool, error) {
			var al aliasRecord
			if json.Unmarshal(v, &al) == nil && al.TargetKeyID == k.KeyID {
				out = append(out, "alias/"+strings.TrimPrefix(key, prefix))
			}
			return len(out) < 100, nil
		})
	})
	return out, err
}
