//go:build !cgo

package hsm

import "context"

// Token is a logged-in PKCS#11 token. This binary was built without cgo, so
// no Token can exist: Open always fails with ErrNoCgo, and every method
// returns ErrNoCgo.
type Token struct{}

// Open fails with ErrNoCgo: PKCS#11 modules are C libraries, loaded through
// cgo. Rebuild with CGO_ENABLED=1 to use an HSM.
func Open(cfg Config) (*Token, error) {
	if _, err := cfg.validate(); err != nil {
		return nil, err
	}
	return nil, ErrNoCgo
}

// Label returns "".
func (t *Token) Label() string { return "" }

// Close returns nil.
func (t *Token) Close() error { return nil }

// GenerateAESKey returns ErrNoCgo.
func (t *Token) GenerateAESKey(ctx context.Context, label string) (Key, error) {
	return Key{}, ErrNoCgo
}

// FindKey returns ErrNoCgo.
func (t *Token) FindKey(ctx context.Context, label string) (Key, error) { return Key{}, ErrNoCgo }

// FindKeyByID returns ErrNoCgo.
func (t *Token) FindKeyByID(ctx context.Context, id []byte) (Key, error) { return Key{}, ErrNoCgo }

// DestroyKey returns ErrNoCgo.
func (t *Token) DestroyKey(ctx context.Context, k Key) error { return ErrNoCgo }

// EncryptGCM returns ErrNoCgo.
func (t *Token) EncryptGCM(ctx context.Context, k Key, plaintext, aad []byte) ([]byte, error) {
	return nil, ErrNoCgo
}

// DecryptGCM returns ErrNoCgo.
func (t *Token) DecryptGCM(ctx context.Context, k Key, sealed, aad []byte) ([]byte, error) {
	return nil, ErrNoCgo
}

// Random returns ErrNoCgo.
func (t *Token) Random(ctx context.Context, n int) ([]byte, error) { return nil, ErrNoCgo }

// KeyAttributes returns ErrNoCgo.
func (t *Token) KeyAttributes(ctx context.Context, k Key) (Attributes, error) {
	return Attributes{}, ErrNoCgo
}
