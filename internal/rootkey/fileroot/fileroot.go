// Package fileroot is the default root key provider: a random 32-byte
// AES-256-GCM root key kept in a file in the data directory.
//
// It owns that file: its format, its creation on first start and the checks
// made every time it is read. The file holds two lines:
//
//	openkms-root-key-v1
//	<64 lowercase hex digits>
//
// (each ending in "\n", 85 bytes in all). The key is created atomically: it is
// written and fsynced under a temporary name in the same directory, then
// hard-linked to its final name (which fails if that name exists, so two
// processes starting at once agree on one key) and the directory is fsynced.
// A crash therefore leaves either no key file or a complete one, never a
// partial key that a later start would use. An existing file that is not
// exactly in this format, or that grants any permission to group or others,
// is refused with an error; it is never replaced.
package fileroot

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/openkms/openkms/internal/rootkey"
)

var (
	// ErrInvalidFile is returned by Open when the root key file exists but is
	// not a root key file in the expected format.
	ErrInvalidFile = errors.New("fileroot: invalid root key file")
	// ErrPermissions is returned by Open when the root key file is
	// accessible by group or others.
	ErrPermissions = errors.New("fileroot: root key file is accessible by group or others")
)

const (
	magic   = "openkms-root-key-v1\n"
	keySize = 32
	// fileSize is the exact size of a valid file.
	fileSize = len(magic) + 2*keySize + 1
)

// Provider is a rootkey.Provider for a root key file. It is safe for
// concurrent use, also by several processes sharing the file.
type Provider struct {
	path string
}

var _ rootkey.Provider = (*Provider)(nil)

// NewProvider returns a Provider for the root key file at path. It does not
// touch the file system; Open does.
func NewProvider(path string) *Provider {
	return &Provider{path: path}
}

// Name implements rootkey.Provider. It returns "file:" and the path.
func (p *Provider) Name() string { return "file:" + p.path }

// Open implements rootkey.Provider. It reads the root key file, creating it
// with a new random key and mode 0600 if it does not exist; the directory
// must exist. It returns an error wrapping ErrInvalidFile or ErrPermissions
// for an unusable existing file, and an error wrapping ctx.Err() if ctx is
// done.
func (p *Provider) Open(ctx context.Context) (rootkey.Sealer, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fileroot: %w", err)
	}
	key, err := p.read()
	if errors.Is(err, fs.ErrNotExist) {
		key, err = p.create()
	}
	if err != nil {
		return nil, err
	}
	defer clear(key)
	return rootkey.NewAESGCMSealer(key)
}

// ReadKey returns the 32-byte root key in the root key file at path, after
// the checks Open makes (a regular file, no group or other permissions, the
// exact format), and never creates the file: it returns an error wrapping
// fs.ErrNotExist if there is none, and ErrInvalidFile or ErrPermissions as
// Open does. It exists to move the root key into another provider without
// re-sealing anything (pkcs11root.AdoptFileKey). The caller owns the key and
// should clear it when done; it must never be logged or written out in
// plaintext.
func ReadKey(path string) ([]byte, error) {
	return NewProvider(path).read()
}

// read returns the key in the file, or an error wrapping fs.ErrNotExist if
// there is no file.
func (p *Provider) read() ([]byte, error) {
	f, err := os.Open(p.path)
	if err != nil {
		return nil, fmt.Errorf("fileroot: read root key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("fileroot: read root key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrInvalidFile, p.path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("%w: %s has mode %04o; run chmod 600 %s", ErrPermissions, p.path, perm, p.path)
	}
	buf, err := io.ReadAll(io.LimitReader(f, int64(fileSize)+1))
	defer clear(buf)
	if err != nil {
		return nil, fmt.Errorf("fileroot: read root key: %w", err)
	}
	return decode(buf, p.path)
}

func decode(buf []byte, path string) ([]byte, error) {
	if len(buf) != fileSize || !bytes.HasPrefix(buf, []byte(magic)) || buf[fileSize-1] != '\n' {
		return nil, fmt.Errorf("%w: %s is not a %d-byte openkms-root-key-v1 file (it was not created by openkms, or is damaged); restore it from a backup", ErrInvalidFile, path, fileSize)
	}
	hexKey := buf[len(magic) : fileSize-1]
	key := make([]byte, keySize)
	if _, err := hex.Decode(key, hexKey); err != nil || !bytes.Equal(hexKey, bytes.ToLower(hexKey)) {
		clear(key)
		return nil, fmt.Errorf("%w: %s does not hold %d lowercase hex digits; restore it from a backup", ErrInvalidFile, path, 2*keySize)
	}
	return key, nil
}

func encode(key []byte) []byte {
	buf := make([]byte, 0, fileSize)
	buf = append(buf, magic...)
	buf = hex.AppendEncode(buf, key)
	return append(buf, '\n')
}

// create makes a new key file, or reads the one another caller created
// first.
func (p *Provider) create() ([]byte, error) {
	key := make([]byte, keySize)
	rand.Read(key) // never fails (crypto/rand)
	buf := encode(key)
	defer clear(buf)

	dir := filepath.Dir(p.path)
	// CreateTemp opens with O_EXCL and mode 0600.
	tmp, err := os.CreateTemp(dir, ".openkms-root-key-*.tmp")
	if err != nil {
		clear(key)
		return nil, fmt.Errorf("fileroot: create root key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(buf)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp.Name(), p.path)
	}
	if errors.Is(err, fs.ErrExist) {
		// Another process created it first: use its key.
		clear(key)
		return p.read()
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		clear(key)
		return nil, fmt.Errorf("fileroot: create root key: %w", err)
	}
	return key, nil
}

// syncDir makes a new directory entry durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be fsynced there
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
