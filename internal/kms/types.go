package kms

import (
	"fmt"
	"time"
)

// KeyState is the lifecycle state of a KMS key.
// See https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html
type KeyState int

const (
	KeyStateUnknown KeyState = iota
	KeyStateEnabled
	KeyStateDisabled
	KeyStatePendingDeletion
	KeyStatePendingImport
	KeyStateUnavailable
)

var keyStateNames = [...]string{"", "Enabled", "Disabled", "PendingDeletion", "PendingImport", "Unavailable"}

func (s KeyState) String() string {
	if s <= 0 || int(s) >= len(keyStateNames) {
		return "Unknown"
	}
	return keyStateNames[s]
}

// ParseKeyState is the inverse of KeyState.String.
func ParseKeyState(s string) (KeyState, error) {
	return parseEnum[KeyState](keyStateNames[:], "key state", s)
}

// KeySpec is the type of key material.
type KeySpec int

const (
	KeySpecUnknown KeySpec = iota
	KeySpecSymmetricDefault
)

var keySpecNames = [...]string{"", "SYMMETRIC_DEFAULT"}

func (s KeySpec) String() string {
	if s <= 0 || int(s) >= len(keySpecNames) {
		return "Unknown"
	}
	return keySpecNames[s]
}

// ParseKeySpec is the inverse of KeySpec.String.
func ParseKeySpec(s string) (KeySpec, error) {
	return parseEnum[KeySpec](keySpecNames[:], "key spec", s)
}

// KeyUsage is what a key may be used for.
type KeyUsage int

const (
	KeyUsageUnknown KeyUsage = iota
	KeyUsageEncryptDecrypt
)

var keyUsageNames = [...]string{"", "ENCRYPT_DECRYPT"}

func (u KeyUsage) String() string {
	if u <= 0 || int(u) >= len(keyUsageNames) {
		return "Unknown"
	}
	return keyUsageNames[u]
}

// ParseKeyUsage is the inverse of KeyUsage.String.
func ParseKeyUsage(s string) (KeyUsage, error) {
	return parseEnum[KeyUsage](keyUsageNames[:], "key usage", s)
}

// Origin is where the key material came from.
type Origin int

const (
	OriginUnknown Origin = iota
	OriginAWSKMS
	OriginExternal
)

var originNames = [...]string{"", "AWS_KMS", "EXTERNAL"}

func (o Origin) String() string {
	if o <= 0 || int(o) >= len(originNames) {
		return "Unknown"
	}
	return originNames[o]
}

// ParseOrigin is the inverse of Origin.String.
func ParseOrigin(s string) (Origin, error) { return parseEnum[Origin](originNames[:], "origin", s) }

func parseEnum[E ~int](names []string, what, s string) (E, error) {
	for i := 1; i < len(names); i++ {
		if names[i] == s {
			return E(i), nil
		}
	}
	return 0, fmt.Errorf("kms: unknown %s %q", what, s)
}

// Tag is a key tag.
type Tag struct {
	Key, Value string
}

// KeyMetadata describes a key, as DescribeKey returns it.
type KeyMetadata struct {
	AccountID           string
	KeyID               string
	ARN                 string
	CreationDate        time.Time
	Enabled             bool
	Description         string
	KeyUsage            KeyUsage
	KeyState            KeyState
	DeletionDate        time.Time // zero unless PendingDeletion
	PendingWindowInDays int       // zero unless PendingDeletion
	Origin              Origin
	KeyManager          string
	KeySpec             KeySpec
	EncryptionAlgorithm []string
	MultiRegion         bool
	// CurrentKeyMaterialID identifies the key material Encrypt uses now.
	CurrentKeyMaterialID string
	// ExpirationModel and ValidTo describe imported material (EXTERNAL keys).
	ExpirationModel string
	ValidTo         time.Time
}

// AliasEntry is one alias as ListAliases returns it.
type AliasEntry struct {
	AliasName       string
	AliasARN        string
	TargetKeyID     string // empty for aliases with no target
	CreationDate    time.Time
	LastUpdatedDate time.Time
}

// EncryptionAlgorithmSymmetricDefault is the only algorithm of symmetric keys.
const EncryptionAlgorithmSymmetricDefault = "SYMMETRIC_DEFAULT"
