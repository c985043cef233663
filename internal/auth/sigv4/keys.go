package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"strings"
	"sync"
)

// deriveSigningKey computes
//
//	HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request")
func deriveSigningKey(secret []byte, date, region, service string) [sha256.Size]byte {
	k := make([]byte, 0, 4+len(secret))
	k = append(k, "AWS4"...)
	k = append(k, secret...)
	key := hmacSum(k, []byte(date))
	clear(k)
	key = hmacSum(key[:], []byte(region))
	key = hmacSum(key[:], []byte(service))
	return hmacSum(key[:], []byte(terminator))
}

func hmacSum(key, data []byte) (sum [sha256.Size]byte) {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	m.Sum(sum[:0])
	return sum
}

// keyCacheSize bounds the number of cached signing keys. A key is valid for
// one (access key, day, region, service), so a few per active access key.
const keyCacheSize = 4096

type scopeKey struct{ accessKeyID, date, region, service string }

type cachedKey struct {
	secret []byte // the Secret's own bytes, never modified
	key    [sha256.Size]byte
}

// keyCache holds derived signing keys. An entry is used only if it was
// derived from the same secret as the one presented now, so a rotated secret
// is never served a stale key. When full, it is emptied.
type keyCache struct {
	mu sync.RWMutex
	m  map[scopeKey]cachedKey
}

func (c *keyCache) get(akid, date, region, service string, secret []byte) ([sha256.Size]byte, bool) {
	c.mu.RLock()
	e, ok := c.m[scopeKey{akid, date, region, service}]
	c.mu.RUnlock()
	if !ok || subtle.ConstantTimeCompare(e.secret, secret) != 1 {
		return [sha256.Size]byte{}, false
	}
	return e.key, true
}

func (c *keyCache) put(akid, date, region, service string, secret []byte, key [sha256.Size]byte) {
	// The strings point into the request's headers; copy them so that the
	// cache does not keep whole requests alive.
	k := scopeKey{strings.Clone(akid), strings.Clone(date), strings.Clone(region), strings.Clone(service)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[scopeKey]cachedKey)
	}
	if len(c.m) >= keyCacheSize {
		clear(c.m)
	}
	c.m[k] = cachedKey{secret: secret, key: key}
}
