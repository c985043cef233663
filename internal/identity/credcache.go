package identity

import (
	"bytes"
	"sync"
	"time"

	"github.com/openkms/openkms/internal/auth/sigv4"
	"github.com/openkms/openkms/internal/storage"
)

// credentialCache keeps the credentials LookupAccessKey has built, so that
// a request by a known access key skips decoding its records and unsealing
// its secret. Like the key-record cache in package kms, it never trusts
// itself over storage: every lookup still reads the access key's record
// and its user's or role's record in the request's own read transaction,
// and an entry is used only while both are byte-for-byte what it was built
// from (and, for a role session, before the session expires). Deactivating
// or deleting a key, deleting its user or role, or changing their tags on
// any node is therefore seen by the next request everywhere.
type credentialCache struct {
	mu sync.RWMutex
	m  map[string]cachedCredential
}

type cachedCredential struct {
	keyRaw   []byte    // the access key record it was built from
	owner    string    // storage key of the user or role ("" for a root key)
	ownerRaw []byte    // that record's bytes
	expires  time.Time // a role session's expiry; zero for long-term keys
	cred     sigv4.Credential
}

// maxCachedCredentials bounds the cache; when full it starts over.
const maxCachedCredentials = 16384

// lookup returns the cached credential of accessKeyID if keyRaw (the access
// key record just read) and the owner's current record match the entry.
func (c *credentialCache) lookup(r storage.Reader, accessKeyID string, keyRaw []byte, now time.Time) (sigv4.Credential, bool) {
	c.mu.RLock()
	e, ok := c.m[accessKeyID]
	c.mu.RUnlock()
	if !ok || !bytes.Equal(e.keyRaw, keyRaw) {
		return sigv4.Credential{}, false
	}
	if !e.expires.IsZero() && !now.Before(e.expires) {
		return sigv4.Credential{}, false
	}
	if e.owner != "" {
		raw, err := storage.Peek(r, e.owner)
		if err != nil || !bytes.Equal(e.ownerRaw, raw) {
			return sigv4.Credential{}, false
		}
	}
	return e.cred, true
}

func (c *credentialCache) store(accessKeyID string, e cachedCredential) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedCredentials {
		c.m = make(map[string]cachedCredential)
	}
	c.m[accessKeyID] = e
	c.mu.Unlock()
}
