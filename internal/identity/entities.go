package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/openkms/openkms/internal/arn"
	"github.com/openkms/openkms/internal/storage"
)

// entityKind describes what users and roles share (both are IAM
// identities with a path, tags, inline policies and attached managed
// policies) and where they differ.
type entityKind struct {
	prefix        string     // storage key prefix
	noun          string     // "user" or "role", in messages and ARNs
	title         string     // "User" or "Role"
	idPrefix      string     // unique id prefix
	nameField     string     // request parameter name in validation messages
	inlineKind    PolicyKind // kind of its inline policies
	inlineLimit   int        // aggregate inline policy quota
	attachedQuota string     // quota name for attached policies
	countQuota    string     // quota name for entities per account
	maxCount      int
}

var (
	userKind = &entityKind{
		prefix: prefixUser, noun: "user", title: "User", idPrefix: "AIDA", nameField: "userName",
		inlineKind: PolicyInlineUser, inlineLimit: MaxUserInlinePolicyChars,
		attachedQuota: "PoliciesPerUser", countQuota: "UsersPerAccount", maxCount: MaxUsersPerAccount,
	}
	roleKind = &entityKind{
		prefix: prefixRole, noun: "role", title: "Role", idPrefix: "AROA", nameField: "roleName",
		inlineKind: PolicyInlineRole, inlineLimit: MaxRoleInlinePolicyChars,
		attachedQuota: "PoliciesPerRole", countQuota: "RolesPerAccount", maxCount: MaxRolesPerAccount,
	}
)

type inlinePolicy struct {
	Name     string `json:"name"`
	Document string `json:"doc"`
}

// entityRecord is the stored form of a user or a role.
type entityRecord struct {
	Account  string         `json:"account"`
	Path     string         `json:"path"`
	Name     string         `json:"name"`
	ID       string         `json:"id"`
	ARN      string         `json:"arn"`
	Created  time.Time      `json:"created"`
	Tags     []Tag          `json:"tags,omitempty"`
	Inline   []inlinePolicy `json:"inline,omitempty"`
	Attached []string       `json:"attached,omitempty"` // managed policy ARNs

	AccessKeys []string `json:"accessKeys,omitempty"` // users: access key ids

	TrustPolicy string `json:"trust,omitempty"`       // roles
	Description string `json:"description,omitempty"` // roles
	MaxSession  int    `json:"maxSession,omitempty"`  // roles, seconds
}

func entityKey(k *entityKind, account, name string) string {
	return k.prefix + account + "/" + strings.ToLower(name)
}

func entityARN(k *entityKind, account, path, name string) string {
	return "arn:" + arn.Partition + ":iam::" + account + ":" + k.noun + path + name
}

func (k *entityKind) notFound(name string) *Error {
	return newError(CodeNoSuchEntity, "The %s with name %s cannot be found.", k.noun, clip(name))
}

// getEntity reads a user or role; a missing one is NoSuchEntity.
func getEntity(r storage.Reader, k *entityKind, account, name string) (*entityRecord, error) {
	e, _, err := getEntityRaw(r, k, account, name)
	return e, err
}

// getEntityRaw is getEntity that also returns the record's stored bytes.
func getEntityRaw(r storage.Reader, k *entityKind, account, name string) (*entityRecord, []byte, error) {
	if name == "" || len(name) > 128 {
		return nil, nil, k.notFound(name)
	}
	b, err := r.Get(entityKey(k, account, name))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, k.notFound(name)
	}
	if err != nil {
		return nil, nil, err
	}
	var e entityRecord
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, nil, fmt.Errorf("identity: decoding %s %s: %w", k.noun, name, err)
	}
	return &e, b, nil
}

func putEntity(w storage.Writer, k *entityKind, e *entityRecord) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return w.Put(entityKey(k, e.Account, e.Name), b)
}

// viewEntity reads a user or role in its own transaction.
func (s *Store) viewEntity(ctx context.Context, k *entityKind, account, name string) (*entityRecord, error) {
	var e *entityRecord
	err := s.store.View(ctx, func(r storage.Reader) error {
		var err error
		e, err = getEntity(r, k, account, name)
		return err
	})
	return e, err
}

// updateEntity reads a user or role, lets fn change it, and writes it back,
// in one transaction. fn may run more than once.
func (s *Store) updateEntity(ctx context.Context, k *entityKind, account, name string, fn func(w storage.Writer, e *entityRecord) error) error {
	return s.store.Update(ctx, func(w storage.Writer) error {
		e, err := getEntity(w, k, account, name)
		if err != nil {
			return err
		}
		if err := fn(w, e); err != nil {
			return err
		}
		return putEntity(w, k, e)
	})
}

// createEntity stores a new user or role, enforcing unique names (ignoring
// case) and the per-account quota.
func (s *Store) createEntity(ctx context.Context, k *entityKind, e *entityRecord) error {
	return s.store.Update(ctx, func(w storage.Writer) error {
		if _, err := w.Get(entityKey(k, e.Account, e.Name)); err == nil {
			return newError(CodeEntityAlreadyExists, "%s with name %s already exists.", k.title, e.Name)
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		n := 0
		err := w.Scan(k.prefix+e.Account+"/", "", func(string, []byte) (bool, error) {
			n++
			return n < k.maxCount, nil
		})
		if err != nil {
			return err
		}
		if n >= k.maxCount {
			return newError(CodeLimitExceeded, "Cannot exceed quota for %s: %d", k.countQuota, k.maxCount)
		}
		return putEntity(w, k, e)
	})
}

// listEntities returns the users or roles of an account whose path starts
// with pathPrefix, ordered by name (ignoring case).
func (s *Store) listEntities(ctx context.Context, k *entityKind, account, pathPrefix string) ([]*entityRecord, error) {
	if err := CheckPathPrefix(pathPrefix); err != nil {
		return nil, err
	}
	var out []*entityRecord
	err := s.store.View(ctx, func(r storage.Reader) error {
		return r.Scan(k.prefix+account+"/", "", func(key string, b []byte) (bool, error) {
			var e entityRecord
			if err := json.Unmarshal(b, &e); err != nil {
				return false, fmt.Errorf("identity: decoding %s: %w", key, err)
			}
			if strings.HasPrefix(e.Path, pathPrefix) {
				out = append(out, &e)
			}
			return true, nil
		})
	})
	return out, err
}

// deleteEntity deletes a user or role that has no access keys and no
// policies left, as IAM requires.
func (s *Store) deleteEntity(ctx context.Context, k *entityKind, account, name string) error {
	return s.store.Update(ctx, func(w storage.Writer) error {
		e, err := getEntity(w, k, account, name)
		if err != nil {
			return err
		}
		switch {
		case len(e.AccessKeys) > 0:
			return newError(CodeDeleteConflict, "Cannot delete entity, must delete access keys first.")
		case len(e.Inline) > 0:
			return newError(CodeDeleteConflict, "Cannot delete entity, must delete policies first.")
		case len(e.Attached) > 0:
			return newError(CodeDeleteConflict, "Cannot delete entity, must detach all policies first.")
		}
		return w.Delete(entityKey(k, account, name))
	})
}

func (s *Store) tagEntity(ctx context.Context, k *entityKind, account, name string, tags []Tag) error {
	if err := checkName(k.nameField, name, 128); err != nil {
		return err
	}
	if len(tags) == 0 {
		return validationError("tags", "[]", "must have length greater than or equal to 1")
	}
	if err := checkTags("tags", tags); err != nil {
		return err
	}
	return s.updateEntity(ctx, k, account, name, func(_ storage.Writer, e *entityRecord) error {
		merged, err := mergeTags(e.Tags, tags)
		if err != nil {
			return err
		}
		e.Tags = merged
		return nil
	})
}

func (s *Store) untagEntity(ctx context.Context, k *entityKind, account, name string, keys []string) error {
	if err := checkName(k.nameField, name, 128); err != nil {
		return err
	}
	if err := checkTagKeys(keys); err != nil {
		return err
	}
	return s.updateEntity(ctx, k, account, name, func(_ storage.Writer, e *entityRecord) error {
		e.Tags = removeTags(e.Tags, keys)
		return nil
	})
}

func (s *Store) entityTags(ctx context.Context, k *entityKind, account, name string) ([]Tag, error) {
	if err := checkName(k.nameField, name, 128); err != nil {
		return nil, err
	}
	e, err := s.viewEntity(ctx, k, account, name)
	if err != nil {
		return nil, err
	}
	return e.Tags, nil
}

// putInline adds or replaces an inline policy, enforcing the aggregate size
// quota of the entity's inline policies.
func (s *Store) putInline(ctx context.Context, k *entityKind, account, name, policyName, doc string) error {
	if err := checkName(k.nameField, name, 128); err != nil {
		return err
	}
	if err := checkName("policyName", policyName, MaxPolicyNameLen); err != nil {
		return err
	}
	if err := s.checkPolicyDocument("policyDocument", k.inlineKind, doc); err != nil {
		return err
	}
	return s.updateEntity(ctx, k, account, name, func(_ storage.Writer, e *entityRecord) error {
		total := policyChars(doc)
		kept := e.Inline[:0:0]
		for _, p := range e.Inline {
			if !strings.EqualFold(p.Name, policyName) {
				kept = append(kept, p)
				total += policyChars(p.Document)
			}
		}
		if total > k.inlineLimit {
			return newError(CodeLimitExceeded, "Maximum policy size of %d bytes exceeded for %s %s", k.inlineLimit, k.noun, e.Name)
		}
		e.Inline = append(kept, inlinePolicy{Name: policyName, Document: doc})
		sort.Slice(e.Inline, func(i, j int) bool { return strings.ToLower(e.Inline[i].Name) < strings.ToLower(e.Inline[j].Name) })
		return nil
	})
}

func (k *entityKind) inlineNotFound(policyName string) *Error {
	return newError(CodeNoSuchEntity, "The %s policy with name %s cannot be found.", k.noun, clip(policyName))
}

// InlinePolicy is an inline policy of a user or role.
type InlinePolicy struct {
	EntityName string // the user or role name, as stored
	Name       string
	Document   string
}

func (s *Store) getInline(ctx context.Context, k *entityKind, account, name, policyName string) (InlinePolicy, error) {
	if err := checkName(k.nameField, name, 128); err != nil {
		return InlinePolicy{}, err
	}
	if err := checkName("policyName", policyName, MaxPolicyNameLen); err != nil {
		return InlinePolicy{}, err
	}
	e, err := s.viewEntity(ctx, k, account, name)
	if err != nil {
		return InlinePolicy{}, err
	}
	for _, p := range e.Inline {
		if strings.EqualFold(p.Name, policyName) {
			return InlinePolicy{EntityName: e.Name, Name: p.Name, Document: p.Document}, nil
		}
	}
	return InlinePolicy{}, k.inlineNotFound(policyName)
}

func (s *Store) listInline(ctx context.Context, k *entityKind, account, name string) ([]string, error) {
	if err := checkName(k.nameField, name, 128); err != nil {
		return nil, err
	}
	e, err := s.viewEntity(ctx, k, account, name)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(e.Inline))
	for _, p := range e.Inline {
		out = append(out, p.Name)
	}
	return out, nil
}

func (s *Store) deleteInline(ctx context.Context, k *entityKind, account, name, policyName string) error {
	if err := checkName(k.nameField, name, 128); err != nil {
		return err
	}
	if err := checkName("policyName", policyName, MaxPolicyNameLen); err != nil {
		return err
	}
	return s.updateEntity(ctx, k, account, name, func(_ storage.Writer, e *entityRecord) error {
		for i, p := range e.Inline {
			if strings.EqualFold(p.Name, policyName) {
				e.Inline = append(e.Inline[:i:i], e.Inline[i+1:]...)
				return nil
			}
		}
		return k.inlineNotFound(policyName)
	})
}

// AttachedPolicy names a managed policy attached to a user or role.
type AttachedPolicy struct {
	Name string
	ARN  string
	Path string
}

func (s *Store) attach(ctx context.Context, k *entityKind, account, name, policyARN string) error {
	if err := checkName(k.nameField, name, MaxNameLen); err != nil {
		return err
	}
	if err := checkPolicyARNParam(policyARN); err != nil {
		return err
	}
	return s.updateEntity(ctx, k, account, name, func(w storage.Writer, e *entityRecord) error {
		pol, err := getPolicyByARN(w, account, policyARN)
		if err != nil {
			return err
		}
		for _, a := range e.Attached {
			if a == pol.ARN {
				return nil // attaching twice is not an error in IAM
			}
		}
		if len(e.Attached) >= MaxAttachedPerEntity {
			return newError(CodeLimitExceeded, "Cannot exceed quota for %s: %d", k.attachedQuota, MaxAttachedPerEntity)
		}
		e.Attached = append(e.Attached, pol.ARN)
		pol.Attachments++
		return putPolicy(w, pol)
	})
}

func (s *Store) detach(ctx context.Context, k *entityKind, account, name, policyARN string) error {
	if err := checkName(k.nameField, name, MaxNameLen); err != nil {
		return err
	}
	if err := checkPolicyARNParam(policyARN); err != nil {
		return err
	}
	return s.updateEntity(ctx, k, account, name, func(w storage.Writer, e *entityRecord) error {
		for i, a := range e.Attached {
			if a != policyARN {
				continue
			}
			e.Attached = append(e.Attached[:i:i], e.Attached[i+1:]...)
			pol, err := getPolicyByARN(w, account, policyARN)
			if errors.Is(err, ErrNoSuchEntity) {
				return nil
			}
			if err != nil {
				return err
			}
			if pol.Attachments > 0 {
				pol.Attachments--
			}
			return putPolicy(w, pol)
		}
		return newError(CodeNoSuchEntity, "Policy %s was not found.", clip(policyARN))
	})
}

func (s *Store) listAttached(ctx context.Context, k *entityKind, account, name, pathPrefix string) ([]AttachedPolicy, error) {
	if err := checkName(k.nameField, name, MaxNameLen); err != nil {
		return nil, err
	}
	if pathPrefix != "" {
		if _, err := normPolicyPath(pathPrefix); err != nil {
			return nil, err
		}
	}
	e, err := s.viewEntity(ctx, k, account, name)
	if err != nil {
		return nil, err
	}
	out := make([]AttachedPolicy, 0, len(e.Attached))
	for _, a := range e.Attached {
		_, path, pname, ok := splitPolicyARN(a)
		if !ok || !strings.HasPrefix(path, pathPrefix) {
			continue
		}
		out = append(out, AttachedPolicy{Name: pname, ARN: a, Path: path})
	}
	return out, nil
}
