// Package arn parses and formats the Amazon Resource Names that KMS uses:
// key ARNs and alias ARNs.
//
// See https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#key-id
package arn

import (
	"errors"
	"strings"
)

// Partition is the ARN partition OpenKMS reports.
const Partition = "aws"

// ErrInvalid is returned for a string that is not a KMS ARN.
var ErrInvalid = errors.New("arn: not a valid KMS ARN")

// ARN is a parsed KMS resource ARN.
type ARN struct {
	Partition string
	Region    string
	Account   string
	// Resource is "key/<id>" or "alias/<name>".
	Resource string
}

// String formats the ARN.
func (a ARN) String() string {
	return "arn:" + a.Partition + ":kms:" + a.Region + ":" + a.Account + ":" + a.Resource
}

// IsKey reports whether the ARN names a key.
func (a ARN) IsKey() bool { return strings.HasPrefix(a.Resource, "key/") }

// IsAlias reports whether the ARN names an alias.
func (a ARN) IsAlias() bool { return strings.HasPrefix(a.Resource, "alias/") }

// KeyID returns the key id of a key ARN.
func (a ARN) KeyID() string { return strings.TrimPrefix(a.Resource, "key/") }

// Parse parses a KMS ARN of the form arn:PARTITION:kms:REGION:ACCOUNT:RESOURCE.
func Parse(s string) (ARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "kms" || parts[1] == "" {
		return ARN{}, ErrInvalid
	}
	a := ARN{Partition: parts[1], Region: parts[3], Account: parts[4], Resource: parts[5]}
	if a.Region == "" || !IsAccountID(a.Account) || (!a.IsKey() && !a.IsAlias()) {
		return ARN{}, ErrInvalid
	}
	if a.IsKey() && a.KeyID() == "" || a.IsAlias() && len(a.Resource) == len("alias/") {
		return ARN{}, ErrInvalid
	}
	return a, nil
}

// Key returns the ARN of a key.
func Key(region, account, keyID string) string {
	return ARN{Partition: Partition, Region: region, Account: account, Resource: "key/" + keyID}.String()
}

// Alias returns the ARN of an alias; name includes the "alias/" prefix.
func Alias(region, account, name string) string {
	return ARN{Partition: Partition, Region: region, Account: account, Resource: name}.String()
}

// IsAccountID reports whether s is a 12-digit account id.
func IsAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
