package identity

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/openkms/openkms/internal/arn"
	"github.com/openkms/openkms/internal/storage"
)

// Role is an IAM role.
type Role struct {
	Account string
	Path    string
	Name    string
	// ID is the unique id: "AROA" and 17 characters.
	ID string
	// ARN is arn:aws:iam::ACCOUNT:role/PATH/NAME.
	ARN     string
	Created time.Time
	// TrustPolicy is the AssumeRolePolicyDocument, as given.
	TrustPolicy string
	Description string
	// MaxSessionDuration is the longest session, in seconds (3600..43200).
	MaxSessionDuration int
	Tags               []Tag
}

func roleFrom(e *entityRecord) Role {
	return Role{
		Account: e.Account, Path: e.Path, Name: e.Name, ID: e.ID, ARN: e.ARN, Created: e.Created,
		TrustPolicy: e.TrustPolicy, Description: e.Description, MaxSessionDuration: e.MaxSession, Tags: e.Tags,
	}
}

// CreateRoleInput is the request of CreateRole.
type CreateRoleInput struct {
	Path        string // "" means "/"
	Name        string
	TrustPolicy string
	Description string
	// MaxSessionDuration in seconds; 0 means 3600.
	MaxSessionDuration int
	Tags               []Tag
}

func checkMaxSession(v int) (int, error) {
	switch {
	case v == 0:
		return DefaultMaxSessionLength, nil
	case v < DefaultMaxSessionLength:
		return 0, validationError("maxSessionDuration", fmt.Sprint(v), fmt.Sprintf("must have value greater than or equal to %d", DefaultMaxSessionLength))
	case v > MaxMaxSessionDuration:
		return 0, validationError("maxSessionDuration", fmt.Sprint(v), fmt.Sprintf("must have value less than or equal to %d", MaxMaxSessionDuration))
	}
	return v, nil
}

// CreateRole creates a role. Errors: ValidationError, EntityAlreadyExists,
// MalformedPolicyDocument, LimitExceeded, InvalidInput.
func (s *Store) CreateRole(ctx context.Context, account string, in CreateRoleInput) (Role, error) {
	if err := checkName("roleName", in.Name, MaxNameLen); err != nil {
		return Role{}, err
	}
	path, err := normPath("path", in.Path)
	if err != nil {
		return Role{}, err
	}
	if err := checkDescription(in.Description); err != nil {
		return Role{}, err
	}
	maxSession, err := checkMaxSession(in.MaxSessionDuration)
	if err != nil {
		return Role{}, err
	}
	if err := checkTags("tags", in.Tags); err != nil {
		return Role{}, err
	}
	if err := s.checkPolicyDocument("assumeRolePolicyDocument", PolicyTrust, in.TrustPolicy); err != nil {
		return Role{}, err
	}
	if err := s.checkTrustPrincipals(ctx, in.TrustPolicy); err != nil {
		return Role{}, err
	}
	id, err := randomID(roleKind.idPrefix, 17)
	if err != nil {
		return Role{}, err
	}
	e := &entityRecord{
		Account: account, Path: path, Name: in.Name, ID: id, ARN: entityARN(roleKind, account, path, in.Name),
		Created: s.now().UTC().Truncate(time.Second), Tags: in.Tags,
		TrustPolicy: in.TrustPolicy, Description: in.Description, MaxSession: maxSession,
	}
	if err := s.createEntity(ctx, roleKind, e); err != nil {
		return Role{}, err
	}
	return roleFrom(e), nil
}

// GetRole returns a role. Errors: NoSuchEntity.
func (s *Store) GetRole(ctx context.Context, account, name string) (Role, error) {
	if err := checkName("roleName", name, MaxNameLen); err != nil {
		return Role{}, err
	}
	e, err := s.viewEntity(ctx, roleKind, account, name)
	if err != nil {
		return Role{}, err
	}
	return roleFrom(e), nil
}

// SplitRoleARN splits arn:aws:iam::ACCOUNT:role/PATH/NAME.
func SplitRoleARN(roleARN string) (account, path, name string, ok bool) {
	return splitIAMARN(roleARN, "role")
}

// splitIAMARN splits arn:PARTITION:iam::ACCOUNT:TYPE/PATH/NAME.
func splitIAMARN(s, typ string) (account, path, name string, ok bool) {
	rest, ok := strings.CutPrefix(s, "arn:"+arn.Partition+":iam::")
	if !ok {
		return "", "", "", false
	}
	account, res, ok := strings.Cut(rest, ":")
	if !ok || !arn.IsAccountID(account) {
		return "", "", "", false
	}
	res, ok = strings.CutPrefix(res, typ+"/")
	if !ok {
		return "", "", "", false
	}
	i := strings.LastIndexByte(res, '/')
	path, name = "/"+res[:i+1], res[i+1:]
	if i < 0 {
		path = "/"
	}
	if name == "" {
		return "", "", "", false
	}
	return account, path, name, true
}

// GetRoleByARN returns the role an ARN names, in any account. The ARN must
// match the role's path too. Errors: NoSuchEntity.
func (s *Store) GetRoleByARN(ctx context.Context, roleARN string) (Role, error) {
	account, _, name, ok := SplitRoleARN(roleARN)
	if !ok || len(name) > MaxNameLen {
		return Role{}, newError(CodeNoSuchEntity, "The role %s cannot be found.", clip(roleARN))
	}
	e, err := s.viewEntity(ctx, roleKind, account, name)
	if err != nil {
		return Role{}, err
	}
	if e.ARN != roleARN {
		return Role{}, roleKind.notFound(name)
	}
	return roleFrom(e), nil
}

// ListRoles returns the roles of account whose path starts with pathPrefix.
func (s *Store) ListRoles(ctx context.Context, account, pathPrefix string) ([]Role, error) {
	es, err := s.listEntities(ctx, roleKind, account, pathPrefix)
	if err != nil {
		return nil, err
	}
	out := make([]Role, len(es))
	for i, e := range es {
		out[i] = roleFrom(e)
	}
	return out, nil
}

// DeleteRole deletes a role. Errors: NoSuchEntity; DeleteConflict while it
// has inline or attached policies. Sessions of a deleted role stop
// authenticating.
func (s *Store) DeleteRole(ctx context.Context, account, name string) error {
	if err := checkName("roleName", name, MaxNameLen); err != nil {
		return err
	}
	return s.deleteEntity(ctx, roleKind, account, name)
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (s *Store) UpdateAssumeRolePolicy(ctx context.Context, account, name, doc string) error {
	if err := checkName("roleName", name, MaxNameLen); err != nil {
		return err
	}
	if err := s.checkPolicyDocument("policyDocument", PolicyTrust, doc); err != nil {
		return err
	}
	if err := s.checkTrustPrincipals(ctx, doc); err != nil {
		return err
	}
	return s.updateEntity(ctx, roleKind, account, name, func(_ storage.Writer, e *entityRecord) error {
		e.TrustPolicy = doc
		return nil
	})
}

// TagRole adds or replaces tags of a role.
func (s *Store) TagRole(ctx context.Context, account, name string, tags []Tag) error {
	return s.tagEntity(ctx, roleKind, account, name, tags)
}

// UntagRole removes tags of a role.
func (s *Store) UntagRole(ctx context.Context, account, name string, keys []string) error {
	return s.untagEntity(ctx, roleKind, account, name, keys)
}

// RoleTags returns the tags of a role.
func (s *Store) RoleTags(ctx context.Context, account, name string) ([]Tag, error) {
	return s.entityTags(ctx, roleKind, account, name)
}

// PutRolePolicy adds or replaces an inline policy of a role (all inline
// policies of a role together: 10,240 characters other than white space).
func (s *Store) PutRolePolicy(ctx context.Context, account, roleName, policyName, doc string) error {
	return s.putInline(ctx, roleKind, account, roleName, policyName, doc)
}

// GetRolePolicy returns an inline policy of a role.
func (s *Store) GetRolePolicy(ctx context.Context, account, roleName, policyName string) (InlinePolicy, error) {
	return s.getInline(ctx, roleKind, account, roleName, policyName)
}

// ListRolePolicies returns the names of a role's inline policies.
func (s *Store) ListRolePolicies(ctx context.Context, account, roleName string) ([]string, error) {
	return s.listInline(ctx, roleKind, account, roleName)
}

// DeleteRolePolicy deletes an inline policy of a role.
func (s *Store) DeleteRolePolicy(ctx context.Context, account, roleName, policyName string) error {
	return s.deleteInline(ctx, roleKind, account, roleName, policyName)
}

// AttachRolePolicy attaches a customer managed policy to a role.
func (s *Store) AttachRolePolicy(ctx context.Context, account, roleName, policyARN string) error {
	return s.attach(ctx, roleKind, account, roleName, policyARN)
}

// DetachRolePolicy detaches a managed policy from a role.
func (s *Store) DetachRolePolicy(ctx context.Context, account, roleName, policyARN string) error {
	return s.detach(ctx, roleKind, account, roleName, policyARN)
}

// ListAttachedRolePolicies lists the managed policies attached to a role.
func (s *Store) ListAttachedRolePolicies(ctx context.Context, account, roleName, pathPrefix string) ([]AttachedPolicy, error) {
	return s.listAttached(ctx, roleKind, account, roleName, pathPrefix)
}
