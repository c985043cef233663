// Package pkcs11root is the root key provider backed by a PKCS#11 token (an
// HSM). The root of trust is a non-extractable AES-256 key generated inside
// the token; its value never leaves the token.
//
// Key hierarchy. Calling the HSM for every Seal and Open would make the
// token a bottleneck, so the token key is a key-encryption key: on first
// start the provider draws a random 256-bit data-encryption key (DEK) in
// software, encrypts it inside the token with AES-256-GCM under the token
// key (associated data "openkms:root-dek:v1"), and stores only that wrapped
// DEK in a file next to the data. Every start unwraps the DEK through the
// token and returns rootkey.NewAESGCMSealer(DEK): Seal and Open then run in
// software. The DEK exists in plaintext only in the server's memory; without
// the token (and its PIN) the wrapped-DEK file is useless.
//
// The wrapped-DEK file holds three lines (each ending in "\n"):
//
//	openkms-root-dek-v1
//	key-id <CKA_ID of the token key, lowercase hex, possibly empty>
//	wrapped <nonce || ciphertext || tag, 60 bytes in lowercase hex>
//
// It is written like fileroot's key file: mode 0600, fsynced under a
// temporary name, hard-linked to its final name (so two processes starting
// at once agree on one DEK) and the directory fsynced. An existing file is
// never replaced.
//
// Refusals. A wrapped-DEK file that exists is the proof that data was
// sealed under it, so Open never creates a new token key or DEK while the
// file exists: a token key that is missing, re-created, or not the one that
// wrapped the file makes Open fail with a message that says so.
//
// Adoption. AdoptFileKey moves an existing data directory from the file
// provider (fileroot) to this one in O(1): the file root key's 32 bytes
// become the DEK, wrapped under the token key, so every sealed record stays
// valid and nothing is rewritten. See docs/HSM.md.
package pkcs11root

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/openkms/openkms/internal/hsm"
	"github.com/openkms/openkms/internal/rootkey"
	"github.com/openkms/openkms/internal/rootkey/fileroot"
)

const (
	// DefaultKeyLabel is the CKA_LABEL of the token key when
	// Config.KeyLabel is empty.
	DefaultKeyLabel = "openkms-root-key"
	// WrappedKeyFileName is the suggested name of the wrapped-DEK file in
	// the data directory.
	WrappedKeyFileName = "root-dek.wrapped"

	// dekAAD is the associated data of the wrapped DEK.
	dekAAD  = "openkms:root-dek:v1"
	dekSize = 32

	magic       = "openkms-root-dek-v1\n"
	idPrefix    = "key-id "
	wrapPrefix  = "wrapped "
	wrappedSize = hsm.GCMOverhead + dekSize
	maxIDSize   = 64
	maxFileSize = len(magic) + len(idPrefix) + 2*maxIDSize + 1 + len(wrapPrefix) + 2*wrappedSize + 1
)

var (
	// ErrConfig is wrapped for an incomplete Config.
	ErrConfig = errors.New("pkcs11root: invalid configuration")
	// ErrRootKeyMissing is wrapped by Open when the wrapped-DEK file exists
	// but the token holds no key with the configured label and the file's
	// key ID.
	ErrRootKeyMissing = errors.New("pkcs11root: root key missing from token")
	// ErrRootKeyMismatch is wrapped by Open when the token key is not the
	// one that wrapped the DEK file, and by Open and AdoptFileKey when the
	// token key could leave the token (extractable or not sensitive).
	ErrRootKeyMismatch = errors.New("pkcs11root: root key does not match")
	// ErrInvalidFile is wrapped when the wrapped-DEK file is not in the
	// expected format.
	ErrInvalidFile = errors.New("pkcs11root: invalid wrapped root key file")
	// ErrPermissions is wrapped when the wrapped-DEK file is accessible by
	// group or others.
	ErrPermissions = errors.New("pkcs11root: wrapped root key file is accessible by group or others")
	// ErrExists is wrapped by AdoptFileKey when the wrapped-DEK file already
	// holds a different key.
	ErrExists = errors.New("pkcs11root: wrapped root key file exists")
)

// Config describes the token, the token key and the wrapped-DEK file.
// Formatting a Config never shows the PIN (see hsm.Config).
type Config struct {
	// HSM selects the PKCS#11 module, the token and the PIN.
	HSM hsm.Config
	// KeyLabel is the CKA_LABEL of the token key; empty means
	// DefaultKeyLabel.
	KeyLabel string
	// WrappedKeyPath is the wrapped-DEK file, normally
	// <data dir>/WrappedKeyFileName. Its directory must exist.
	WrappedKeyPath string
}

func (c Config) withDefaults() (Config, error) {
	if c.KeyLabel == "" {
		c.KeyLabel = DefaultKeyLabel
	}
	if c.WrappedKeyPath == "" {
		return c, fmt.Errorf("%w: no wrapped root key path; set it to a file in the data directory (e.g. %s)", ErrConfig, WrappedKeyFileName)
	}
	return c, nil
}

// Provider is a rootkey.Provider whose root key lives in a PKCS#11 token.
// It is safe for concurrent use, also by several processes sharing the
// token and the wrapped-DEK file.
type Provider struct {
	cfg Config
}

var _ rootkey.Provider = (*Provider)(nil)

// NewProvider returns a Provider for cfg. It touches neither the token nor
// the file system; Open does.
func NewProvider(cfg Config) *Provider { return &Provider{cfg: cfg} }

// Name implements rootkey.Provider: a PKCS#11 URI (RFC 7512) naming the
// token and the key, e.g. "pkcs11:token=openkms;object=openkms-root-key".
func (p *Provider) Name() string {
	label := p.cfg.KeyLabel
	if label == "" {
		label = DefaultKeyLabel
	}
	return "pkcs11:token=" + uriEscape(p.cfg.HSM.TokenLabel) + ";object=" + uriEscape(label)
}

// uriEscape percent-encodes all but RFC 3986 unreserved characters.
func uriEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// Open implements rootkey.Provider. It logs in to the token and, if the
// wrapped-DEK file exists, unwraps the DEK with the token key; if it does
// not, it uses the token key labelled Config.KeyLabel (generating it if the
// token has none), makes a new random DEK and writes it wrapped. It returns
// a software Sealer under the DEK and closes the token.
//
// Errors wrap the hsm sentinels (hsm.ErrModule, hsm.ErrTokenNotFound,
// hsm.ErrPINIncorrect, ...) for the token, and ErrRootKeyMissing,
// ErrRootKeyMismatch, ErrInvalidFile or ErrPermissions for the key and the
// file; each message says what to fix. Neither ever contains the PIN or key
// bytes.
func (p *Provider) Open(ctx context.Context) (rootkey.Sealer, error) {
	dek, err := p.openDEK(ctx)
	if err != nil {
		return nil, err
	}
	defer clear(dek)
	return rootkey.NewAESGCMSealer(dek)
}

// openDEK returns the DEK, creating it on first start. The caller clears
// it.
func (p *Provider) openDEK(ctx context.Context) ([]byte, error) {
	cfg, err := p.cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pkcs11root: %w", err)
	}
	wf, err := readWrapped(cfg.WrappedKeyPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	tok, err := hsm.Open(cfg.HSM)
	if err != nil {
		return nil, fmt.Errorf("pkcs11root: %w", err)
	}
	defer tok.Close()
	if wf != nil {
		return unwrap(ctx, tok, cfg, wf)
	}

	// First start: a new DEK under the token key.
	dek := make([]byte, dekSize)
	rand.Read(dek) // never fails (crypto/rand)
	err = wrapAndWrite(ctx, tok, cfg, dek)
	if errors.Is(err, fs.ErrExist) {
		// Another process created the file first: use its DEK.
		clear(dek)
		if wf, err = readWrapped(cfg.WrappedKeyPath); err != nil {
			return nil, err
		}
		return unwrap(ctx, tok, cfg, wf)
	}
	if err != nil {
		clear(dek)
		return nil, err
	}
	return dek, nil
}

// AdoptFileKey makes the root key in the fileroot key file at fileKeyPath
// the DEK of the HSM provider described by cfg: it wraps the key's 32 bytes
// under the token key (generated if the token has none) and writes the
// wrapped-DEK file, after checking that it unwraps again. Every value
// sealed by the file provider then opens with NewProvider(cfg): nothing is
// re-sealed. Once it returns nil the operator switches the configuration to
// the HSM provider and destroys the key file (and its backups); AdoptFileKey
// leaves the key file in place so that a failure at any point loses
// nothing.
//
// If the wrapped-DEK file already holds this same key, AdoptFileKey returns
// nil (it can be re-run); if it holds another key, it returns an error
// wrapping ErrExists. Other errors are those of fileroot.ReadKey (including
// fs.ErrNotExist for a missing key file) and of Provider.Open.
func AdoptFileKey(ctx context.Context, cfg Config, fileKeyPath string) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pkcs11root: %w", err)
	}
	key, err := fileroot.ReadKey(fileKeyPath)
	if err != nil {
		return fmt.Errorf("pkcs11root: adopt %s: %w", fileKeyPath, err)
	}
	defer clear(key)
	wf, err := readWrapped(cfg.WrappedKeyPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	tok, err := hsm.Open(cfg.HSM)
	if err != nil {
		return fmt.Errorf("pkcs11root: %w", err)
	}
	defer tok.Close()
	if wf == nil {
		err = wrapAndWrite(ctx, tok, cfg, key)
		if !errors.Is(err, fs.ErrExist) {
			return err
		}
		// Created meanwhile by someone else: compare below.
		if wf, err = readWrapped(cfg.WrappedKeyPath); err != nil {
			return err
		}
	}
	dek, err := unwrap(ctx, tok, cfg, wf)
	if err != nil {
		return err
	}
	defer clear(dek)
	if subtle.ConstantTimeCompare(dek, key) != 1 {
		return fmt.Errorf("%w: %s already holds a different root key; this data directory already uses the HSM provider with its own key. Refusing to overwrite it", ErrExists, cfg.WrappedKeyPath)
	}
	return nil // already adopted
}

// unwrap finds the token key that wrapped wf and unwraps the DEK.
func unwrap(ctx context.Context, tok *hsm.Token, cfg Config, wf *wrappedFile) ([]byte, error) {
	key, err := findWrappingKey(ctx, tok, cfg, wf)
	if err != nil {
		return nil, err
	}
	dek, err := tok.DecryptGCM(ctx, key, wf.wrapped, []byte(dekAAD))
	if errors.Is(err, hsm.ErrDecrypt) {
		return nil, fmt.Errorf("%w: the wrapped root key in %s does not open under key %q in token %q: the file was wrapped by another key with the same label and ID (another token?), or it is damaged; restore it from a backup of this data directory; refusing to start", ErrRootKeyMismatch, cfg.WrappedKeyPath, cfg.KeyLabel, tok.Label())
	}
	if err != nil {
		return nil, fmt.Errorf("pkcs11root: unwrap the root key: %w", err)
	}
	if len(dek) != dekSize {
		clear(dek)
		return nil, fmt.Errorf("%w: %s holds a %d-byte key, want %d", ErrInvalidFile, cfg.WrappedKeyPath, len(dek), dekSize)
	}
	return dek, nil
}

// findWrappingKey returns the token key labelled cfg.KeyLabel whose ID is
// the one recorded in wf, and explains any difference.
func findWrappingKey(ctx context.Context, tok *hsm.Token, cfg Config, wf *wrappedFile) (hsm.Key, error) {
	var key hsm.Key
	var err error
	if len(wf.keyID) > 0 {
		key, err = tok.FindKeyByID(ctx, wf.keyID)
		if err == nil && key.Label() != cfg.KeyLabel {
			return hsm.Key{}, fmt.Errorf("%w: the root key in %s was wrapped by the key labelled %q (id %x) in token %q, but the configured key label is %q; set the key label to %q", ErrRootKeyMismatch, cfg.WrappedKeyPath, key.Label(), wf.keyID, tok.Label(), cfg.KeyLabel, key.Label())
		}
	} else {
		key, err = tok.FindKey(ctx, cfg.KeyLabel)
	}
	if errors.Is(err, hsm.ErrKeyNotFound) {
		if _, err := tok.FindKey(ctx, cfg.KeyLabel); err == nil || errors.Is(err, hsm.ErrAmbiguousKey) {
			return hsm.Key{}, fmt.Errorf("%w: token %q holds a key labelled %q, but not the one (id %x) that wrapped the root key in %s: the key was deleted and re-created, or the file belongs to another token; refusing to start", ErrRootKeyMismatch, tok.Label(), cfg.KeyLabel, wf.keyID, cfg.WrappedKeyPath)
		}
		return hsm.Key{}, fmt.Errorf("%w: the root key %q is not in token %q: wrong token, or the key was deleted; refusing to start (the data in this directory is sealed under it; %s holds it wrapped)", ErrRootKeyMissing, cfg.KeyLabel, tok.Label(), cfg.WrappedKeyPath)
	}
	if err != nil {
		return hsm.Key{}, fmt.Errorf("pkcs11root: find the root key: %w", err)
	}
	if err := checkKey(ctx, tok, key); err != nil {
		return hsm.Key{}, err
	}
	return key, nil
}

// checkKey refuses a token key that could leave the token.
func checkKey(ctx context.Context, tok *hsm.Token, key hsm.Key) error {
	a, err := tok.KeyAttributes(ctx, key)
	if err != nil {
		return fmt.Errorf("pkcs11root: read the root key's attributes: %w", err)
	}
	if !a.Sensitive || a.Extractable || a.ValueLen != 32 {
		return fmt.Errorf("%w: key %q in token %q is not a sensitive, non-extractable AES-256 key (sensitive %t, extractable %t, %d bytes); openkms needs a root key that cannot leave the token: delete it, or configure another label, and let openkms generate one", ErrRootKeyMismatch, key.Label(), tok.Label(), a.Sensitive, a.Extractable, a.ValueLen)
	}
	return nil
}

// rootKeyForNewFile returns the token key labelled cfg.KeyLabel,
// generating it if the token has none; generated says which.
func rootKeyForNewFile(ctx context.Context, tok *hsm.Token, cfg Config) (key hsm.Key, generated bool, err error) {
	key, err = tok.FindKey(ctx, cfg.KeyLabel)
	if errors.Is(err, hsm.ErrKeyNotFound) {
		key, err = tok.GenerateAESKey(ctx, cfg.KeyLabel)
		generated = err == nil
		if errors.Is(err, hsm.ErrKeyExists) {
			key, err = tok.FindKey(ctx, cfg.KeyLabel) // generated meanwhile
		}
	}
	if errors.Is(err, hsm.ErrAmbiguousKey) {
		return hsm.Key{}, false, fmt.Errorf("pkcs11root: token %q holds several keys labelled %q; delete all but one, or configure another label: %w", tok.Label(), cfg.KeyLabel, err)
	}
	if err != nil {
		return hsm.Key{}, false, fmt.Errorf("pkcs11root: root key %q: %w", cfg.KeyLabel, err)
	}
	if err := checkKey(ctx, tok, key); err != nil {
		return hsm.Key{}, false, err
	}
	return key, generated, nil
}

// wrapAndWrite wraps dek under the token key, checks that it unwraps, and
// creates the wrapped-DEK file. It returns an error wrapping fs.ErrExist if
// the file exists.
//
// Two processes starting at once on a new token can each generate a key;
// the one whose file write loses the race destroys the key it generated if
// the winner's file names another key, so one key with the label remains.
func wrapAndWrite(ctx context.Context, tok *hsm.Token, cfg Config, dek []byte) error {
	key, generated, err := rootKeyForNewFile(ctx, tok, cfg)
	if err != nil {
		return err
	}
	wrapped, err := tok.EncryptGCM(ctx, key, dek, []byte(dekAAD))
	if err != nil {
		return fmt.Errorf("pkcs11root: wrap the root key: %w", err)
	}
	// Check the round trip before anything depends on the file.
	back, err := tok.DecryptGCM(ctx, key, wrapped, []byte(dekAAD))
	ok := err == nil && subtle.ConstantTimeCompare(back, dek) == 1
	clear(back)
	if !ok {
		return fmt.Errorf("pkcs11root: token %q does not unwrap what it wrapped (%v); refusing to use it", tok.Label(), err)
	}
	wf := &wrappedFile{keyID: key.ID(), wrapped: wrapped}
	err = writeNew(cfg.WrappedKeyPath, wf.encode())
	if errors.Is(err, fs.ErrExist) && generated {
		if won, rerr := readWrapped(cfg.WrappedKeyPath); rerr == nil && !bytes.Equal(won.keyID, wf.keyID) {
			tok.DestroyKey(ctx, key) // best effort: an unused key is harmless
		}
	}
	return err
}

// wrappedFile is the content of the wrapped-DEK file.
type wrappedFile struct {
	keyID   []byte
	wrapped []byte // nonce || ciphertext || tag
}

func (w *wrappedFile) encode() []byte {
	var b bytes.Buffer
	b.WriteString(magic)
	b.WriteString(idPrefix)
	b.WriteString(hex.EncodeToString(w.keyID))
	b.WriteString("\n" + wrapPrefix)
	b.WriteString(hex.EncodeToString(w.wrapped))
	b.WriteString("\n")
	return b.Bytes()
}

func decodeWrapped(buf []byte, path string) (*wrappedFile, error) {
	bad := func(what string) error {
		return fmt.Errorf("%w: %s: %s (it was not written by openkms, or is damaged); restore it from a backup of this data directory", ErrInvalidFile, path, what)
	}
	if len(buf) > maxFileSize {
		return nil, bad("too large")
	}
	rest, ok := bytes.CutPrefix(buf, []byte(magic))
	if !ok {
		return nil, bad("the first line is not " + strings.TrimSpace(magic))
	}
	lines := strings.Split(string(rest), "\n")
	if len(lines) != 3 || lines[2] != "" {
		return nil, bad("want exactly three lines")
	}
	idHex, ok1 := strings.CutPrefix(lines[0], idPrefix)
	wrappedHex, ok2 := strings.CutPrefix(lines[1], wrapPrefix)
	if !ok1 || !ok2 {
		return nil, bad(`want lines "key-id <hex>" and "wrapped <hex>"`)
	}
	id, err1 := hex.DecodeString(idHex)
	wrapped, err2 := hex.DecodeString(wrappedHex)
	if err1 != nil || err2 != nil || idHex != strings.ToLower(idHex) || wrappedHex != strings.ToLower(wrappedHex) {
		return nil, bad("not lowercase hex")
	}
	if len(id) > maxIDSize || len(wrapped) != wrappedSize {
		return nil, bad(fmt.Sprintf("a %d-byte key id and %d-byte wrapped key, want at most %d and exactly %d", len(id), len(wrapped), maxIDSize, wrappedSize))
	}
	return &wrappedFile{keyID: id, wrapped: wrapped}, nil
}

// readWrapped reads the wrapped-DEK file, returning an error wrapping
// fs.ErrNotExist if there is none.
func readWrapped(path string) (*wrappedFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("pkcs11root: read wrapped root key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("pkcs11root: read wrapped root key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrInvalidFile, path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("%w: %s has mode %04o; run chmod 600 %s", ErrPermissions, path, perm, path)
	}
	buf, err := io.ReadAll(io.LimitReader(f, int64(maxFileSize)+1))
	if err != nil {
		return nil, fmt.Errorf("pkcs11root: read wrapped root key: %w", err)
	}
	return decodeWrapped(buf, path)
}

// writeNew creates path with content, mode 0600, atomically: written and
// fsynced under a temporary name, hard-linked to path (which fails with an
// error wrapping fs.ErrExist if path exists), and the directory fsynced.
func writeNew(path string, content []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".openkms-root-dek-*.tmp") // O_EXCL, 0600
	if err != nil {
		return fmt.Errorf("pkcs11root: write wrapped root key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(content)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp.Name(), path)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("pkcs11root: write wrapped root key: %w", err)
	}
	return nil
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
