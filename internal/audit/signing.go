package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/openkms/openkms/internal/rootkey"
)

// Names of the signing key files in the audit directory, and the associated
// data that binds the sealed key to its purpose.
const (
	SigningKeyFile    = "audit-signing-key.sealed"
	PublicKeyFile     = "audit-signing-key.pub.pem"
	signingKeyAAD     = "openkms:audit-signing-key:v1"
	pemPublicKeyBlock = "PUBLIC KEY"
)

// SigningKey is the Ed25519 key that signs digest records. The private key
// never leaves it: there is no accessor, and String does not print it. It is
// safe for concurrent use.
type SigningKey struct {
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
	id   string
}

// GenerateSigningKey returns a fresh, unpersisted signing key (tests, or a
// stdout-only log whose digests nobody verifies later).
func GenerateSigningKey() (*SigningKey, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return signingKeyFromSeed(seed), nil
}

func signingKeyFromSeed(seed []byte) *SigningKey {
	priv := ed25519.NewKeyFromSeed(seed)
	clear(seed)
	pub := priv.Public().(ed25519.PublicKey)
	return &SigningKey{priv: priv, pub: pub, id: KeyID(pub)}
}

// LoadOrCreateSigningKey returns the audit signing key sealed in
// dir/audit-signing-key.sealed, generating and persisting it (sealed under
// the root key with associated data "openkms:audit-signing-key:v1") if the
// file does not exist. It also writes the public key, PEM, to
// dir/audit-signing-key.pub.pem for convenience; verifiers should pin the
// public key out of band rather than trust that file.
//
// A sealed file that does not open (wrong root key, tampering) is an error
// wrapping rootkey.ErrOpen: the key is never silently replaced, since that
// would make earlier digests unverifiable. Concurrent callers on one
// directory get the same key.
func LoadOrCreateSigningKey(dir string, s rootkey.Sealer) (*SigningKey, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	path := filepath.Join(dir, SigningKeyFile)
	for range 2 {
		sealed, err := os.ReadFile(path)
		if err == nil {
			seed, err := s.Open(sealed, []byte(signingKeyAAD))
			if err != nil {
				return nil, fmt.Errorf("audit: open %s: %w", path, err)
			}
			if len(seed) != ed25519.SeedSize {
				clear(seed)
				return nil, fmt.Errorf("audit: %s: sealed key has the wrong size", path)
			}
			k := signingKeyFromSeed(seed)
			if err := writeFileAtomic(dir, PublicKeyFile, k.PublicKeyPEM(), true); err != nil {
				return nil, err
			}
			return k, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("audit: %w", err)
		}
		seed := make([]byte, ed25519.SeedSize)
		if _, err := rand.Read(seed); err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		sealed, err = s.Seal(seed, []byte(signingKeyAAD))
		clear(seed)
		if err != nil {
			return nil, fmt.Errorf("audit: seal signing key: %w", err)
		}
		// Link, not rename: if another process created the key meanwhile,
		// keep theirs and load it on the next iteration.
		if err := writeFileAtomic(dir, SigningKeyFile, sealed, false); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("audit: %s: could not create or load the signing key", path)
}

// writeFileAtomic writes data to dir/name through a temporary file, fsyncs
// it, and moves it into place: replacing an existing file if replace, else
// failing with fs.ErrExist. It fsyncs the directory.
func writeFileAtomic(dir, name string, data []byte, replace bool) error {
	tmp, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("audit: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("audit: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	final := filepath.Join(dir, name)
	if replace {
		err = os.Rename(tmp.Name(), final)
	} else {
		err = os.Link(tmp.Name(), final)
	}
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("audit: fsync %s: %w", dir, err)
	}
	return nil
}

// Public returns the public key.
func (k *SigningKey) Public() ed25519.PublicKey { return k.pub }

// ID returns the key id recorded in digests: see KeyID.
func (k *SigningKey) ID() string { return k.id }

// PublicKeyPEM returns the public key as a PEM "PUBLIC KEY" block (PKIX).
func (k *SigningKey) PublicKeyPEM() []byte { return PublicKeyPEM(k.pub) }

// String describes the key without any secret.
func (k *SigningKey) String() string { return "audit signing key " + k.id }

func (k *SigningKey) sign(msg []byte) []byte { return ed25519.Sign(k.priv, msg) }

// KeyID returns the id of a public key as digests record it: the hex of the
// first 16 bytes of SHA-256 of the raw key.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:16])
}

// PublicKeyPEM encodes pub as a PEM "PUBLIC KEY" block (PKIX).
func PublicKeyPEM(pub ed25519.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic("audit: marshal Ed25519 public key: " + err.Error()) // cannot happen for a valid key
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPublicKeyBlock, Bytes: der})
}

// ParsePublicKeyPEM parses the output of PublicKeyPEM.
func ParsePublicKeyPEM(b []byte) (ed25519.PublicKey, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != pemPublicKeyBlock {
		return nil, errors.New("audit: not a PEM PUBLIC KEY block")
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("audit: public key is not Ed25519")
	}
	return pub, nil
}
