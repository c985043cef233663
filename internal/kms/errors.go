package kms

import (
	"errors"
	"fmt"

	"github.com/openkms/openkms/internal/kmserr"
)

// internalize passes client-visible errors through and turns anything else
// (storage failures, sealing failures) into a KMSInternalException whose
// message carries no detail.
func internalize(err error) error {
	if err == nil {
		return nil
	}
	var e *kmserr.Error
	if errors.As(err, &e) {
		return e
	}
	return kmserr.Internal(err)
}

// validation builds AWS's ValidationException for one failed constraint, in
// the form AWS services use: "1 validation error detected: Value 'x' at
// 'field' failed to satisfy constraint: ...".
func validation(field string, value any, constraint string) error {
	v := "null"
	if value != nil {
		v = fmt.Sprintf("'%v'", value)
	}
	return kmserr.New(kmserr.Validation,
		"1 validation error detected: Value %s at '%s' failed to satisfy constraint: %s", v, field, constraint)
}

func required(field string) error {
	return validation(field, nil, "Member must not be null")
}

func lengthBetween(field string, s string, min, max int) error {
	if len(s) < min {
		return validation(field, s, fmt.Sprintf("Member must have length greater than or equal to %d", min))
	}
	if len(s) > max {
		return validation(field, "...", fmt.Sprintf("Member must have length less than or equal to %d", max))
	}
	return nil
}

func intBetween(field string, v, min, max int) error {
	if v < min {
		return validation(field, v, fmt.Sprintf("Member must have value greater than or equal to %d", min))
	}
	if v > max {
		return validation(field, v, fmt.Sprintf("Member must have value less than or equal to %d", max))
	}
	return nil
}

func notFoundKey(arn string) error {
	return kmserr.New(kmserr.NotFound, "Key '%s' does not exist", arn)
}

// invalidKeyID is the NotFoundException for a KeyId that is not a key id,
// ARN or alias. AWS quotes the id in the operations that accept aliases
// (DescribeKey and the cryptographic operations) and not in the key
// management operations.
func invalidKeyID(id string, ref keyRef) error {
	if ref == keyOrAlias {
		return kmserr.New(kmserr.NotFound, "Invalid keyId '%s'", id)
	}
	return kmserr.New(kmserr.NotFound, "Invalid keyId %s", id)
}

func aliasNotFound(aliasARN string) error {
	return kmserr.New(kmserr.NotFound, "Alias %s is not found.", aliasARN)
}
