package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/openkms/openkms/internal/principal"
	"github.com/openkms/openkms/internal/storage"
)

// User is an IAM user.
type User struct {
	Account string
	Path    string
	Name    string
	// ID is the unique id: "AIDA" and 17 characters.
	ID string
	// ARN is arn:aws:iam::ACCOUNT:user/PATH/NAME.
	ARN     string
	Created time.Time
	Tags    []Tag
}

func userFrom(e *entityRecord) User {
	return User{Account: e.Account, Path: e.Path, Name: e.Name, ID: e.ID, ARN: e.ARN, Created: e.Created, Tags: e.Tags}
}

// CreateUserInput is the request of CreateUser.
type CreateUserInput struct {
	Path string // "" means "/"
	Name string
	Tags []Tag
}

// CreateUser creates an IAM user in account. Errors: ValidationError,
// EntityAlreadyExists (names are unique ignoring case), LimitExceeded,
// InvalidInput (tags).
func (s *Store) CreateUser(ctx context.Context, account string, in CreateUserInput) (User, error) {
	if err := checkName("userName", in.Name, MaxNameLen); err != nil {
		return User{}, err
	}
	path, err := normPath("path", in.Path)
	if err != nil {
		return User{}, err
	}
	if err := checkTags("tags", in.Tags); err != nil {
		return User{}, err
	}
	id, err := randomID(userKind.idPrefix, 17)
	if err != nil {
		return User{}, err
	}
	e := &entityRecord{
		Account: account, Path: path, Name: in.Name, ID: id, ARN: entityARN(userKind, account, path, in.Name),
		Created: s.now().UTC().Truncate(time.Second), Tags: in.Tags,
	}
	if err := s.createEntity(ctx, userKind, e); err != nil {
		return User{}, err
	}
	return userFrom(e), nil
}

// GetUser returns a user. Errors: NoSuchEntity.
func (s *Store) GetUser(ctx context.Context, account, name string) (User, error) {
	if err := checkName("userName", name, 128); err != nil {
		return User{}, err
	}
	e, err := s.viewEntity(ctx, userKind, account, name)
	if err != nil {
		return User{}, err
	}
	return userFrom(e), nil
}

// ListUsers returns the users of account whose path starts with pathPrefix
// ("" for all), ordered by name.
func (s *Store) ListUsers(ctx context.Context, account, pathPrefix string) ([]User, error) {
	es, err := s.listEntities(ctx, userKind, account, pathPrefix)
	if err != nil {
		return nil, err
	}
	out := make([]User, len(es))
	for i, e := range es {
		out[i] = userFrom(e)
	}
	return out, nil
}

// DeleteUser deletes a user. Errors: NoSuchEntity; DeleteConflict while
// the user has access keys, inline policies or attached policies.
func (s *Store) DeleteUser(ctx context.Context, account, name string) error {
	if err := checkName("userName", name, 128); err != nil {
		return err
	}
	return s.deleteEntity(ctx, userKind, account, name)
}

// TagUser adds or replaces tags of a user.
func (s *Store) TagUser(ctx context.Context, account, name string, tags []Tag) error {
	return s.tagEntity(ctx, userKind, account, name, tags)
}

// UntagUser removes tags of a user; keys that are not there are ignored.
func (s *Store) UntagUser(ctx context.Context, account, name string, keys []string) error {
	return s.untagEntity(ctx, userKind, account, name, keys)
}

// UserTags returns the tags of a user.
func (s *Store) UserTags(ctx context.Context, account, name string) ([]Tag, error) {
	return s.entityTags(ctx, userKind, account, name)
}

// PutUserPolicy adds or replaces an inline policy of a user. Errors:
// NoSuchEntity, MalformedPolicyDocument, LimitExceeded (all inline policies
// of a user together: 2,048 characters other than white space).
func (s *Store) PutUserPolicy(ctx context.Context, account, userName, policyName, doc string) error {
	return s.putInline(ctx, userKind, account, userName, policyName, doc)
}

// GetUserPolicy returns an inline policy of a user.
func (s *Store) GetUserPolicy(ctx context.Context, account, userName, policyName string) (InlinePolicy, error) {
	return s.getInline(ctx, userKind, account, userName, policyName)
}

// ListUserPolicies returns the names of a user's inline policies, ordered.
func (s *Store) ListUserPolicies(ctx context.Context, account, userName string) ([]string, error) {
	return s.listInline(ctx, userKind, account, userName)
}

// DeleteUserPolicy deletes an inline policy of a user.
func (s *Store) DeleteUserPolicy(ctx context.Context, account, userName, policyName string) error {
	return s.deleteInline(ctx, userKind, account, userName, policyName)
}

// AttachUserPolicy attaches a customer managed policy of the same account
// to a user. Attaching an attached policy again is not an error.
func (s *Store) AttachUserPolicy(ctx context.Context, account, userName, policyARN string) error {
	return s.attach(ctx, userKind, account, userName, policyARN)
}

// DetachUserPolicy detaches a managed policy from a user.
func (s *Store) DetachUserPolicy(ctx context.Context, account, userName, policyARN string) error {
	return s.detach(ctx, userKind, account, userName, policyARN)
}

// ListAttachedUserPolicies lists the managed policies attached to a user.
func (s *Store) ListAttachedUserPolicies(ctx context.Context, account, userName, pathPrefix string) ([]AttachedPolicy, error) {
	return s.listAttached(ctx, userKind, account, userName, pathPrefix)
}

// AccessKeyInfo is an access key's metadata (never its secret).
type AccessKeyInfo struct {
	UserName    string
	AccessKeyID string
	Status      string
	Created     time.Time
}

// CreateAccessKey issues an access key for an IAM user. The secret is in
// the result only. Errors: NoSuchEntity, LimitExceeded (two keys per user).
func (s *Store) CreateAccessKey(ctx context.Context, account, userName string) (AccessKey, error) {
	if err := checkName("userName", userName, 128); err != nil {
		return AccessKey{}, err
	}
	akid, err := NewAccessKeyID()
	if err != nil {
		return AccessKey{}, err
	}
	secret, err := NewSecretAccessKey()
	if err != nil {
		return AccessKey{}, err
	}
	sealed, err := s.sealer.Seal([]byte(secret), secretAAD(akid))
	if err != nil {
		return AccessKey{}, err
	}
	created := s.now().UTC().Truncate(time.Second)
	var out AccessKey
	err = s.updateEntity(ctx, userKind, account, userName, func(w storage.Writer, e *entityRecord) error {
		if len(e.AccessKeys) >= MaxAccessKeysPerUser {
			return newError(CodeLimitExceeded, "Cannot exceed quota for AccessKeysPerUser: %d", MaxAccessKeysPerUser)
		}
		if _, err := w.Get(prefixAccessKey + akid); err == nil {
			return fmt.Errorf("identity: generated access key id %s exists", akid)
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		rec := accessKeyRecord{
			AccessKeyID: akid, Account: account, PrincipalARN: e.ARN, UserID: e.ID,
			Type: principal.TypeIAMUser.String(), Status: StatusActive, Created: created,
			SealedSecret: sealed, UserName: e.Name,
		}
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		if err := w.Put(prefixAccessKey+akid, b); err != nil {
			return err
		}
		e.AccessKeys = append(e.AccessKeys, akid)
		out = AccessKey{
			AccessKeyID: akid, Secret: secret, UserName: e.Name, Status: StatusActive, Created: created,
			Principal: principal.Principal{
				Account: account, ARN: e.ARN, UserID: e.ID, Type: principal.TypeIAMUser, AccessKeyID: akid, UserName: e.Name,
			},
		}
		return nil
	})
	if err != nil {
		return AccessKey{}, err
	}
	return out, nil
}

// ListAccessKeys returns the metadata of a user's access keys.
func (s *Store) ListAccessKeys(ctx context.Context, account, userName string) ([]AccessKeyInfo, error) {
	if err := checkName("userName", userName, 128); err != nil {
		return nil, err
	}
	var out []AccessKeyInfo
	err := s.store.View(ctx, func(r storage.Reader) error {
		out = nil
		e, err := getEntity(r, userKind, account, userName)
		if err != nil {
			return err
		}
		for _, akid := range e.AccessKeys {
			rec, err := getAccessKey(r, akid)
			if err != nil {
				return err
			}
			out = append(out, AccessKeyInfo{UserName: e.Name, AccessKeyID: akid, Status: rec.Status, Created: rec.Created})
		}
		return nil
	})
	return out, err
}

func getAccessKey(r storage.Reader, akid string) (*accessKeyRecord, error) {
	b, err := r.Get(prefixAccessKey + akid)
	if err != nil {
		return nil, err
	}
	var rec accessKeyRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("identity: decoding access key %s: %w", akid, err)
	}
	return &rec, nil
}

func accessKeyNotFound(akid string) *Error {
	return newError(CodeNoSuchEntity, "The Access Key with id %s cannot be found.", clip(akid))
}

func checkAccessKeyIDParam(akid string) error {
	if len(akid) < 16 || len(akid) > 128 {
		return validationError("accessKeyId", akid, "must have length greater than or equal to 16 and less than or equal to 128")
	}
	for i := 0; i < len(akid); i++ {
		if !isWordChar(akid[i]) {
			return validationError("accessKeyId", akid, `must satisfy regular expression pattern: [\w]+`)
		}
	}
	return nil
}

// UpdateAccessKey sets a user's access key Active or Inactive. An inactive
// key no longer authenticates. Errors: NoSuchEntity, ValidationError.
func (s *Store) UpdateAccessKey(ctx context.Context, account, userName, akid, status string) error {
	if err := checkName("userName", userName, 128); err != nil {
		return err
	}
	if err := checkAccessKeyIDParam(akid); err != nil {
		return err
	}
	if status != StatusActive && status != StatusInactive {
		return validationError("status", status, "must satisfy enum value set: [Active, Inactive, Expired]")
	}
	return s.store.Update(ctx, func(w storage.Writer) error {
		rec, err := s.userAccessKey(w, account, userName, akid)
		if err != nil {
			return err
		}
		rec.Status = status
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return w.Put(prefixAccessKey+akid, b)
	})
}

// DeleteAccessKey deletes a user's access key. Errors: NoSuchEntity.
func (s *Store) DeleteAccessKey(ctx context.Context, account, userName, akid string) error {
	if err := checkName("userName", userName, 128); err != nil {
		return err
	}
	if err := checkAccessKeyIDParam(akid); err != nil {
		return err
	}
	return s.store.Update(ctx, func(w storage.Writer) error {
		if _, err := s.userAccessKey(w, account, userName, akid); err != nil {
			return err
		}
		e, err := getEntity(w, userKind, account, userName)
		if err != nil {
			return err
		}
		for i, k := range e.AccessKeys {
			if k == akid {
				e.AccessKeys = append(e.AccessKeys[:i:i], e.AccessKeys[i+1:]...)
				break
			}
		}
		if err := putEntity(w, userKind, e); err != nil {
			return err
		}
		return w.Delete(prefixAccessKey + akid)
	})
}

// userAccessKey reads an access key and checks that it belongs to the user.
func (s *Store) userAccessKey(r storage.Reader, account, userName, akid string) (*accessKeyRecord, error) {
	e, err := getEntity(r, userKind, account, userName)
	if err != nil {
		return nil, err
	}
	owned := false
	for _, k := range e.AccessKeys {
		owned = owned || k == akid
	}
	if !owned {
		return nil, accessKeyNotFound(akid)
	}
	rec, err := getAccessKey(r, akid)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, accessKeyNotFound(akid)
	}
	return rec, err
}
