// Package rootkey provides the root of trust that seals everything OpenKMS
// keeps at rest: key material, access-key secrets, and any other secret.
//
// A Provider opens a Sealer. Sealing is authenticated encryption with
// associated data: callers bind the identity of the record they seal (for
// example the key ARN and the key material version) as associated data, so a
// sealed value moved to another record fails to open.
package rootkey

import (
	"context"
	"errors"
)

// ErrOpen is returned by Sealer.Open for any sealed value that does not
// authenticate: wrong root key, wrong associated data, or tampering. It
// deliberately carries no detail.
var ErrOpen = errors.New("rootkey: sealed value does not authenticate")

// Sealer seals and opens secrets under the root key. It is safe for
// concurrent use.
type Sealer interface {
	// Seal encrypts and authenticates plaintext, binding aad. The result is
	// self-describing (it carries its own format version and nonce).
	Seal(plaintext, aad []byte) ([]byte, error)
	// Open reverses Seal. It returns ErrOpen if sealed was not produced by
	// Seal under the same root key with the same aad.
	Open(sealed, aad []byte) ([]byte, error)
}

// Provider gives access to the root key.
type Provider interface {
	// Open returns a Sealer for the root key, creating the root key first if
	// the provider supports that and none exists yet.
	Open(ctx context.Context) (Sealer, error)
	// Name describes the provider for logs (never any secret).
	Name() string
}
