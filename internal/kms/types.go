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

// Key specs and usages are kept as their AWS names. Symmetric encryption
// keys are handled here; every other spec (asymmetric, HMAC) by package
// keymaterial, whose typed enums parse and validate the names.
const (
	specSymmetricDefault = "SYMMETRIC_DEFAULT"
	usageEncryptDecrypt  = "ENCRYPT_DECRYPT"
)

// Origin is where the key material came from.
type Origin int

const (
	OriginUnknown Origin = iota
	OriginAWSKMS
	OriginExternal
	OriginAWSCloudHSM
)

var originNames = [...]string{"", "AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM"}

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
	KeyUsage            string
	KeyState            KeyState
	DeletionDate        time.Time // zero unless PendingDeletion
	PendingWindowInDays int       // zero unless PendingDeletion
	Origin              Origin
	KeyManager          string
	KeySpec             string
	EncryptionAlgorithm []string
	SigningAlgorithms   []string
	MacAlgorithms       []string
	KeyAgreementAlgs    []string
	MultiRegion         bool
	// CurrentKeyMaterialID identifies the key material Encrypt uses now.
	CurrentKeyMaterialID string
	// ExpirationModel and ValidTo describe imported material (EXTERNAL keys).
	ExpirationModel string
	ValidTo         time.Time
	// CustomKeyStoreID and CloudHsmClusterID name the custom key store
	// and its cluster for keys in a custom key store.
	CustomKeyStoreID  string
	CloudHsmClusterID string
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
