// Package principal describes who is calling: the authenticated identity
// that the auth layer hands to the service core.
package principal

import "fmt"

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
}
