package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/openkms/openkms/internal/arn"
	"github.com/openkms/openkms/internal/principal"
	"github.com/openkms/openkms/internal/storage"
)

// ManagedPolicy is a customer managed policy.
type ManagedPolicy struct {
	Account string
	Path    string
	Name    string
	// ID is the unique id: "ANPA" and 17 characters.
	ID string
	// ARN is arn:aws:iam::ACCOUNT:policy/PATH/NAME.
	ARN              string
	Description      string
	DefaultVersionID string
	AttachmentCount  int
	Created          time.Time
	Updated          time.Time
	Tags             []Tag
}

// PolicyVersion is one version of a managed policy.
type PolicyVersion struct {
	VersionID string
	Document  string
	IsDefault bool
	Created   time.Time
}

type policyVersionRecord struct {
	ID       string    `json:"id"`
	Document string    `json:"doc"`
	Created  time.Time `json:"created"`
}

type policyRecord struct {
	Account        string                `json:"account"`
	Path           string                `json:"path"`
	Name           string                `json:"name"`
	ID             string                `json:"id"`
	ARN            string                `json:"arn"`
	Description    string                `json:"description,omitempty"`
	Created        time.Time             `json:"created"`
	Updated        time.Time             `json:"updated"`
	DefaultVersion string                `json:"defaultVersion"`
	Versions       []policyVersionRecord `json:"versions"`
	Attachments    int                   `json:"attachments"`
	Tags           []Tag                 `json:"tags,omitempty"`
}

func (p *policyRecord) public() ManagedPolicy {
	return ManagedPolicy{
		Account: p.Account, Path: p.Path, Name: p.Name, ID: p.ID, ARN: p.ARN, Description: p.Description,
		DefaultVersionID: p.DefaultVersion, AttachmentCount: p.Attachments, Created: p.Created, Updated: p.Updated, Tags: p.Tags,
	}
}

func (p *policyRecord) defaultDocument() string {
	for _, v := range p.Versions {
		if v.ID == p.DefaultVersion {
			return v.Document
		}
	}
	return ""
}

func policyKey(account, name string) string {
	return prefixPolicy + account + "/" + strings.ToLower(name)
}

// splitPolicyARN splits arn:aws:iam::ACCOUNT:policy/PATH/NAME.
func splitPolicyARN(s string) (account, path, name string, ok bool) {
	return splitIAMARN(s, "policy")
}

func policyNotFound(policyARN string) *Error {
	return newError(CodeNoSuchEntity, "Policy %s does not exist or is not attachable.", clip(policyARN))
}

// checkPolicyARNParam validates a PolicyArn parameter.
func checkPolicyARNParam(s string) error {
	if len(s) < 20 || len(s) > 2048 {
		return validationError("policyArn", s, "must have length greater than or equal to 20 and less than or equal to 2048")
	}
	if !strings.HasPrefix(s, "arn:") || strings.Count(s, ":") < 5 {
		return newError(CodeInvalidInput, "ARN %s is not valid.", clip(s))
	}
	return nil
}

// getPolicyByARN reads the managed policy of account that policyARN names.
func getPolicyByARN(r storage.Reader, account, policyARN string) (*policyRecord, error) {
	acct, _, name, ok := splitPolicyARN(policyARN)
	if !ok || acct != account || len(name) > MaxPolicyNameLen {
		return nil, policyNotFound(policyARN)
	}
	b, err := r.Get(policyKey(account, name))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, policyNotFound(policyARN)
	}
	if err != nil {
		return nil, err
	}
	var p policyRecord
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("identity: decoding policy %s: %w", name, err)
	}
	if p.ARN != policyARN {
		return nil, policyNotFound(policyARN)
	}
	return &p, nil
}

func putPolicy(w storage.Writer, p *policyRecord) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return w.Put(policyKey(p.Account, p.Name), b)
}

// CreatePolicyInput is the request of CreatePolicy.
type CreatePolicyInput struct {
	Path        string // "" means "/"
	Name        string
	Document    string
	Description string
	Tags        []Tag
}

// CreatePolicy creates a customer managed policy with version v1 as its
// default version. Names are unique in an account regardless of path and
// case. Errors: ValidationError, EntityAlreadyExists,
// MalformedPolicyDocument, LimitExceeded (6,144 characters other than white
// space; 1,500 policies per account).
func (s *Store) CreatePolicy(ctx context.Context, account string, in CreatePolicyInput) (ManagedPolicy, error) {
	if err := checkName("policyName", in.Name, MaxPolicyNameLen); err != nil {
		return ManagedPolicy{}, err
	}
	path, err := normPolicyPath(in.Path)
	if err != nil {
		return ManagedPolicy{}, err
	}
	if len(in.Description) > MaxDescriptionLen {
		return ManagedPolicy{}, validationError("description", in.Description, fmt.Sprintf("must have length less than or equal to %d", MaxDescriptionLen))
	}
	if err := checkTags("tags", in.Tags); err != nil {
		return ManagedPolicy{}, err
	}
	if err := s.checkPolicyDocument("policyDocument", PolicyManaged, in.Document); err != nil {
		return ManagedPolicy{}, err
	}
	id, err := randomID("ANPA", 17)
	if err != nil {
		return ManagedPolicy{}, err
	}
	now := s.now().UTC().Truncate(time.Second)
	p := &policyRecord{
		Account: account, Path: path, Name: in.Name, ID: id,
		ARN:         "arn:" + arn.Partition + ":iam::" + account + ":policy" + path + in.Name,
		Description: in.Description, Created: now, Updated: now, DefaultVersion: "v1",
		Versions: []policyVersionRecord{{ID: "v1", Document: in.Document, Created: now}}, Tags: in.Tags,
	}
	err = s.store.Update(ctx, func(w storage.Writer) error {
		if _, err := w.Get(policyKey(account, in.Name)); err == nil {
			return newError(CodeEntityAlreadyExists, "A policy called %s already exists. Duplicate names are not allowed.", in.Name)
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		n := 0
		if err := w.Scan(prefixPolicy+account+"/", "", func(string, []byte) (bool, error) {
			n++
			return n < MaxPoliciesPerAccount, nil
		}); err != nil {
			return err
		}
		if n >= MaxPoliciesPerAccount {
			return newError(CodeLimitExceeded, "Cannot exceed quota for PoliciesPerAccount: %d", MaxPoliciesPerAccount)
		}
		return putPolicy(w, p)
	})
	if err != nil {
		return ManagedPolicy{}, err
	}
	return p.public(), nil
}

func (s *Store) viewPolicy(ctx context.Context, account, policyARN string) (*policyRecord, error) {
	if err := checkPolicyARNParam(policyARN); err != nil {
		return nil, err
	}
	var p *policyRecord
	err := s.store.View(ctx, func(r storage.Reader) error {
		var err error
		p, err = getPolicyByARN(r, account, policyARN)
		return err
	})
	return p, err
}

// GetPolicy returns a managed policy of account. Errors: NoSuchEntity,
// InvalidInput.
func (s *Store) GetPolicy(ctx context.Context, account, policyARN string) (ManagedPolicy, error) {
	p, err := s.viewPolicy(ctx, account, policyARN)
	if err != nil {
		return ManagedPolicy{}, err
	}
	return p.public(), nil
}

// GetPolicyVersion returns one version of a managed policy.
func (s *Store) GetPolicyVersion(ctx context.Context, account, policyARN, versionID string) (PolicyVersion, error) {
	if !validVersionID(versionID) {
		return PolicyVersion{}, validationError("versionId", versionID, `must satisfy regular expression pattern: v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`)
	}
	p, err := s.viewPolicy(ctx, account, policyARN)
	if err != nil {
		return PolicyVersion{}, err
	}
	for _, v := range p.Versions {
		if v.ID == versionID {
			return PolicyVersion{VersionID: v.ID, Document: v.Document, IsDefault: v.ID == p.DefaultVersion, Created: v.Created}, nil
		}
	}
	return PolicyVersion{}, newError(CodeNoSuchEntity, "Policy %s version %s does not exist or is not attachable.", clip(policyARN), versionID)
}

func validVersionID(v string) bool {
	if len(v) < 2 || len(v) > 64 || v[0] != 'v' || v[1] < '1' || v[1] > '9' {
		return false
	}
	i := 2
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	if i == len(v) {
		return true
	}
	if v[i] != '.' {
		return false
	}
	for _, c := range []byte(v[i+1:]) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// ListPolicies returns the customer managed policies of account whose path
// starts with pathPrefix; with onlyAttached, only those attached to a user
// or role.
func (s *Store) ListPolicies(ctx context.Context, account, pathPrefix string, onlyAttached bool) ([]ManagedPolicy, error) {
	if pathPrefix != "" {
		if _, err := normPolicyPath(pathPrefix); err != nil {
			return nil, err
		}
	}
	var out []ManagedPolicy
	err := s.store.View(ctx, func(r storage.Reader) error {
		out = nil
		return r.Scan(prefixPolicy+account+"/", "", func(key string, b []byte) (bool, error) {
			var p policyRecord
			if err := json.Unmarshal(b, &p); err != nil {
				return false, fmt.Errorf("identity: decoding %s: %w", key, err)
			}
			if strings.HasPrefix(p.Path, pathPrefix) && (!onlyAttached || p.Attachments > 0) {
				out = append(out, p.public())
			}
			return true, nil
		})
	})
	return out, err
}

// DeletePolicy deletes a managed policy. Errors: NoSuchEntity,
// DeleteConflict while it is attached.
func (s *Store) DeletePolicy(ctx context.Context, account, policyARN string) error {
	if err := checkPolicyARNParam(policyARN); err != nil {
		return err
	}
	return s.store.Update(ctx, func(w storage.Writer) error {
		p, err := getPolicyByARN(w, account, policyARN)
		if err != nil {
			return err
		}
		if p.Attachments > 0 {
			return newError(CodeDeleteConflict, "Cannot delete a policy attached to entities.")
		}
		return w.Delete(policyKey(p.Account, p.Name))
	})
}

// NamedPolicy is one identity-based policy of a principal.
type NamedPolicy struct {
	// Name is the inline policy's name or the managed policy's name.
	Name string
	// ARN is the managed policy's ARN; "" for an inline policy.
	ARN string
	// Document is the policy JSON (for a managed policy, its default
	// version).
	Document string
}

// PoliciesFor returns the identity-based policies that apply to a
// principal: for an IAM user its inline policies and the default versions
// of its attached managed policies; for a role session those of the role.
// The account root has none (it is not governed by identity policies) and
// gets (nil, nil). The principal's tags are in p.Tags, as LookupAccessKey
// set them.
//
// If the user or role no longer exists, or has been replaced by one with
// the same name (a different unique id), the error matches ErrNoSuchEntity;
// callers must treat any error as "no permission".
func (s *Store) PoliciesFor(ctx context.Context, p principal.Principal) ([]NamedPolicy, error) {
	var k *entityKind
	var name, wantID string
	switch p.Type {
	case principal.TypeRoot:
		return nil, nil
	case principal.TypeIAMUser:
		k, name, wantID = userKind, p.UserName, p.UserID
		if name == "" {
			name = p.ARN[strings.LastIndexByte(p.ARN, '/')+1:]
		}
	case principal.TypeAssumedRole:
		_, _, roleName, ok := SplitRoleARN(p.RoleARN)
		if !ok {
			return nil, newError(CodeNoSuchEntity, "The role of session %s cannot be found.", clip(p.ARN))
		}
		k, name = roleKind, roleName
		wantID, _, _ = strings.Cut(p.UserID, ":")
	default:
		return nil, fmt.Errorf("identity: no identity policies for principal type %s", p.Type)
	}
	var out []NamedPolicy
	err := s.store.View(ctx, func(r storage.Reader) error {
		out = nil
		e, err := getEntity(r, k, p.Account, name)
		if err != nil {
			return err
		}
		// wantID guards against a deleted and re-created entity of the same
		// name; callers without it (policy explanations) skip the check.
		if wantID != "" && e.ID != wantID {
			return k.notFound(name)
		}
		for _, ip := range e.Inline {
			out = append(out, NamedPolicy{Name: ip.Name, Document: ip.Document})
		}
		for _, a := range e.Attached {
			pol, err := getPolicyByARN(r, p.Account, a)
			if errors.Is(err, ErrNoSuchEntity) {
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, NamedPolicy{Name: pol.Name, ARN: pol.ARN, Document: pol.defaultDocument()})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
