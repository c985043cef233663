// Package principal describes who is calling: the authenticated identity
// that the auth layer hands to the service core.
package principal

import (
	"fmt"
	"sort"
	"strings"
)

// Type is the kind of identity, as CloudTrail's userIdentity.type names it.
type Type int

const (
	TypeUnknown Type = iota
	TypeRoot
	TypeIAMUser
	TypeAssumedRole
)

// String returns the CloudTrail name of the type.
func (t Type) String() string {
	switch t {
	case TypeRoot:
		return "Root"
	case TypeIAMUser:
		return "IAMUser"
	case TypeAssumedRole:
		return "AssumedRole"
	default:
		return "Unknown"
	}
}

// ParseType is the inverse of Type.String.
func ParseType(s string) (Type, error) {
	switch s {
	case "Root":
		return TypeRoot, nil
	case "IAMUser":
		return TypeIAMUser, nil
	case "AssumedRole":
		return TypeAssumedRole, nil
	}
	return TypeUnknown, fmt.Errorf("principal: unknown type %q", s)
}

// Principal is an authenticated caller. It is a value; copying is fine.
type Principal struct {
	// Account is the 12-digit AWS account id the principal belongs to.
	Account string
	// ARN is the principal's ARN, e.g. arn:aws:iam::111122223333:user/admin.
	ARN string
	// UserID is the stable unique id (AIDA..., or the account id for root).
	UserID string
	// Type is the identity kind.
	Type Type
	// AccessKeyID is the access key the request was signed with.
	AccessKeyID string

	// UserName is the IAM user's name (TypeIAMUser only).
	UserName string
	// RoleARN is the IAM ARN of the role, with its path, for an
	// assumed-role session (TypeAssumedRole only),
	// e.g. arn:aws:iam::111122223333:role/ops/Admin.
	RoleARN string
	// SessionName is the role session name (TypeAssumedRole only).
	SessionName string
	// Tags are the principal tags (aws:PrincipalTag/...): an IAM user's
	// tags, or for a role session the role's tags overridden by the
	// session tags.
	Tags Tags
}

// Tags is an immutable set of principal tags. Keys are matched
// case-insensitively, as IAM matches tag keys of users and roles; their case
// is preserved. It is comparable with ==, and its zero value is the empty
// set.
type Tags struct {
	// enc is "key\x00value\x00..." sorted by lower-cased key. Tag keys and
	// values cannot contain NUL.
	enc string
}

// NewTags returns the set holding m. Of keys equal but for case, the
// lexically smallest wins; keys or values containing NUL are dropped.
func NewTags(m map[string]string) Tags {
	if len(m) == 0 {
		return Tags{}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		if strings.IndexByte(k, 0) < 0 && strings.IndexByte(m[k], 0) < 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		li, lj := strings.ToLower(keys[i]), strings.ToLower(keys[j])
		if li != lj {
			return li < lj
		}
		return keys[i] < keys[j]
	})
	var b strings.Builder
	for i, k := range keys {
		if i > 0 && strings.EqualFold(k, keys[i-1]) {
			continue
		}
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(m[k])
		b.WriteByte(0)
	}
	return Tags{enc: b.String()}
}

// Len returns the number of tags.
func (t Tags) Len() int { return strings.Count(t.enc, "\x00") / 2 }

// Get returns the value of the tag whose key equals key, ignoring case.
func (t Tags) Get(key string) (string, bool) {
	found, val := false, ""
	t.each(func(k, v string) bool {
		if strings.EqualFold(k, key) {
			found, val = true, v
			return false
		}
		return true
	})
	return val, found
}

// Map returns the tags as a new map the caller owns.
func (t Tags) Map() map[string]string {
	m := make(map[string]string, t.Len())
	t.each(func(k, v string) bool { m[k] = v; return true })
	return m
}

// String lists the tags as "k=v,k=v" (tags are not secret).
func (t Tags) String() string {
	var b strings.Builder
	t.each(func(k, v string) bool {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + v)
		return true
	})
	return b.String()
}

func (t Tags) each(fn func(k, v string) bool) {
	s := t.enc
	for s != "" {
		k, rest, _ := strings.Cut(s, "\x00")
		v, rest2, _ := strings.Cut(rest, "\x00")
		if !fn(k, v) {
			return
		}
		s = rest2
	}
}
