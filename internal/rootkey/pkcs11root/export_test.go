package pkcs11root

import "context"

// OpenDEKForTest returns the DEK that Open builds its Sealer from, so tests
// can look for it on disk.
func (p *Provider) OpenDEKForTest(ctx context.Context) ([]byte, error) { return p.openDEK(ctx) }

// Test hooks for the file format.
const (
	MaxFileSizeForTest = maxFileSize
	DEKAADForTest      = dekAAD
)
