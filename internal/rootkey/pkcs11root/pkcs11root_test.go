package pkcs11root_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/openkms/openkms/internal/hsm"
	"github.com/openkms/openkms/internal/hsm/hsmtest"
	"github.com/openkms/openkms/internal/rootkey"
	"github.com/openkms/openkms/internal/rootkey/fileroot"
	"github.com/openkms/openkms/internal/rootkey/pkcs11root"
	"github.com/openkms/openkms/internal/rootkey/rootkeytest"
)

// testConfig returns a Config with a key label unique to this test and a
// wrapped-DEK path in a new directory. The token key is destroyed when t
// ends.
func testConfig(t *testing.T) pkcs11root.Config {
	t.Helper()
	// Skips (or fails under OPENKMS_REQUIRE_ALL=1) without a token or cgo.
	hsmtest.Open(t).Close()
	cfg := pkcs11root.Config{
		HSM:            hsmtest.Config(t),
		KeyLabel:       hsmtest.Label("openkms-root-test"),
		WrappedKeyPath: filepath.Join(t.TempDir(), pkcs11root.WrappedKeyFileName),
	}
	t.Cleanup(func() { destroyKeys(t, cfg) })
	return cfg
}

// destroyKeys removes every token key labelled cfg.KeyLabel.
func destroyKeys(t *testing.T, cfg pkcs11root.Config) {
	t.Helper()
	tok, err := hsm.Open(cfg.HSM)
	if errors.Is(err, hsm.ErrNoCgo) {
		return
	}
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	defer tok.Close()
	for range 10 {
		k, err := tok.FindKey(context.Background(), cfg.KeyLabel)
		if errors.Is(err, hsm.ErrAmbiguousKey) {
			t.Errorf("cleanup: several keys labelled %q", cfg.KeyLabel)
			return
		}
		if err != nil {
			return
		}
		tok.DestroyKey(context.Background(), k)
	}
}

func open(t *testing.T, cfg pkcs11root.Config) rootkey.Sealer {
	t.Helper()
	s, err := pkcs11root.NewProvider(cfg).Open(t.Context())
	if errors.Is(err, hsm.ErrNoCgo) {
		if hsmtest.Required() {
			t.Fatalf("OPENKMS_REQUIRE_ALL=1: CI must provide SoftHSM: %v", err)
		}
		t.Skip(err)
	}
	if err != nil {
		t.Fatalf("Open(%v): got error %v, want nil", cfg, err)
	}
	return s
}

func TestConformance(t *testing.T) {
	rootkeytest.RunSealer(t, open(t, testConfig(t)), open(t, testConfig(t)))
}

func TestFirstOpenThenReopen(t *testing.T) {
	cfg := testConfig(t)
	s1 := open(t, cfg)

	// The token now holds a sensitive, non-extractable key with the label.
	tok := hsmtest.OpenConfig(t, cfg.HSM)
	k, err := tok.FindKey(t.Context(), cfg.KeyLabel)
	if err != nil {
		t.Fatalf("FindKey(%q) after the first Open: got %v, want the root key", cfg.KeyLabel, err)
	}
	attrs, err := tok.KeyAttributes(t.Context(), k)
	if err != nil || !attrs.Sensitive || attrs.Extractable || !attrs.NeverExtractable || !attrs.AlwaysSensitive || !attrs.Token || attrs.ValueLen != 32 {
		t.Fatalf("root key attributes: got (%+v, %v), want a persistent, sensitive, never-extractable 32-byte key", attrs, err)
	}
	tok.Close()

	// And the directory holds only the wrapped DEK, mode 0600, in format.
	fi, err := os.Stat(cfg.WrappedKeyPath)
	if err != nil {
		t.Fatalf("Stat(wrapped DEK): %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("wrapped DEK mode: got %04o, want 0600", fi.Mode().Perm())
	}
	content, err := os.ReadFile(cfg.WrappedKeyPath)
	if err != nil {
		t.Fatal(err)
	}
	wantPrefix := "openkms-root-dek-v1\nkey-id " + hex.EncodeToString(k.ID()) + "\nwrapped "
	if !strings.HasPrefix(string(content), wantPrefix) || len(content) != len(wantPrefix)+2*60+1 {
		t.Fatalf("wrapped DEK file: got %q, want %q followed by 120 hex digits", content, wantPrefix)
	}
	entries, err := os.ReadDir(filepath.Dir(cfg.WrappedKeyPath))
	if err != nil || len(entries) != 1 {
		t.Fatalf("data directory after Open: got %d entries (%v), want only the wrapped DEK", len(entries), err)
	}

	// A new Provider (as a restarted process would) opens what the first
	// sealed, and leaves file and token alone.
	sealed, err := s1.Seal([]byte("key material"), []byte("arn:aws:kms:us-east-1:111122223333:key/1/v1"))
	if err != nil {
		t.Fatal(err)
	}
	s2 := open(t, cfg)
	if got, err := s2.Open(sealed, []byte("arn:aws:kms:us-east-1:111122223333:key/1/v1")); err != nil || string(got) != "key material" {
		t.Fatalf("second Provider opening the first's value: got (%q, %v), want (\"key material\", nil)", got, err)
	}
	if after, err := os.ReadFile(cfg.WrappedKeyPath); err != nil || !bytes.Equal(after, content) {
		t.Fatalf("wrapped DEK changed by the second Open (err %v)", err)
	}
	// The reopened Sealer passes the conformance suite against a fresh one.
	rootkeytest.RunSealer(t, s2, open(t, testConfig(t)))
}

// A token key that already exists (created by an operator, or shared with
// another data directory) is used, not replaced; each directory gets its
// own DEK.
func TestExistingKeyNewDirectory(t *testing.T) {
	cfg := testConfig(t)
	s1 := open(t, cfg)
	cfg2 := cfg
	cfg2.WrappedKeyPath = filepath.Join(t.TempDir(), "other.wrapped")
	s2 := open(t, cfg2)
	sealed, err := s1.Seal([]byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Open(sealed, nil); !errors.Is(err, rootkey.ErrOpen) {
		t.Fatalf("another directory's Sealer opening this one's value: got %v, want ErrOpen", err)
	}
	tok := hsmtest.OpenConfig(t, cfg.HSM)
	if _, err := tok.FindKey(t.Context(), cfg.KeyLabel); err != nil {
		t.Fatalf("FindKey(%q): got %v, want one key", cfg.KeyLabel, err)
	}
}

func TestWrongPIN(t *testing.T) {
	cfg := testConfig(t)
	bad := cfg
	bad.HSM.PIN = "wrong-" + cfg.HSM.PIN
	_, err := pkcs11root.NewProvider(bad).Open(t.Context())
	if !errors.Is(err, hsm.ErrPINIncorrect) {
		t.Fatalf("Open with a wrong PIN: got %v, want ErrPINIncorrect", err)
	}
	if _, serr := os.Stat(cfg.WrappedKeyPath); !errors.Is(serr, fs.ErrNotExist) {
		t.Fatalf("Open with a wrong PIN created the wrapped DEK: got %v, want ErrNotExist", serr)
	}
	if strings.Contains(err.Error(), bad.HSM.PIN) || strings.Contains(err.Error(), cfg.HSM.PIN) {
		t.Fatalf("error %q contains a PIN", err)
	}
	if !strings.Contains(err.Error(), "rejected the PIN") {
		t.Fatalf("error %q does not say the PIN was rejected", err)
	}

	open(t, cfg)
	before, _ := os.ReadFile(cfg.WrappedKeyPath)
	if _, err := pkcs11root.NewProvider(bad).Open(t.Context()); !errors.Is(err, hsm.ErrPINIncorrect) {
		t.Fatalf("reopen with a wrong PIN: got %v, want ErrPINIncorrect", err)
	}
	if after, _ := os.ReadFile(cfg.WrappedKeyPath); !bytes.Equal(before, after) {
		t.Fatal("reopen with a wrong PIN changed the wrapped DEK")
	}
}

func TestWrongToken(t *testing.T) {
	cfg := testConfig(t)
	open(t, cfg)
	bad := cfg
	bad.HSM.TokenLabel = "not-the-openkms-token"
	_, err := pkcs11root.NewProvider(bad).Open(t.Context())
	if !errors.Is(err, hsm.ErrTokenNotFound) || !strings.Contains(err.Error(), `no token labelled "not-the-openkms-token"`) {
		t.Fatalf("Open with a wrong token label: got %v, want ErrTokenNotFound naming the label", err)
	}
}

func TestKeyDestroyedRefuses(t *testing.T) {
	cfg := testConfig(t)
	open(t, cfg)
	before, err := os.ReadFile(cfg.WrappedKeyPath)
	if err != nil {
		t.Fatal(err)
	}
	tok := hsmtest.OpenConfig(t, cfg.HSM)
	k, err := tok.FindKey(t.Context(), cfg.KeyLabel)
	if err != nil {
		t.Fatal(err)
	}
	if err := tok.DestroyKey(t.Context(), k); err != nil {
		t.Fatal(err)
	}

	_, err = pkcs11root.NewProvider(cfg).Open(t.Context())
	if !errors.Is(err, pkcs11root.ErrRootKeyMissing) {
		t.Fatalf("Open with the token key destroyed: got %v, want ErrRootKeyMissing", err)
	}
	want := fmt.Sprintf("the root key %q is not in token %q: wrong token, or the key was deleted; refusing to start", cfg.KeyLabel, cfg.HSM.TokenLabel)
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("Open with the token key destroyed: got %q, want it to contain %q", err, want)
	}
	// Nothing was created in its place.
	if _, err := tok.FindKey(t.Context(), cfg.KeyLabel); !errors.Is(err, hsm.ErrKeyNotFound) {
		t.Fatalf("FindKey after the refused Open: got %v, want ErrKeyNotFound (no new key)", err)
	}
	if after, _ := os.ReadFile(cfg.WrappedKeyPath); !bytes.Equal(before, after) {
		t.Fatal("the refused Open changed the wrapped DEK")
	}

	// A key re-created under the same label is not the one that wrapped.
	if _, err := tok.GenerateAESKey(t.Context(), cfg.KeyLabel); err != nil {
		t.Fatal(err)
	}
	_, err = pkcs11root.NewProvider(cfg).Open(t.Context())
	if !errors.Is(err, pkcs11root.ErrRootKeyMismatch) || !strings.Contains(err.Error(), "re-created") {
		t.Fatalf("Open with the token key re-created: got %v, want ErrRootKeyMismatch saying it was re-created", err)
	}
}

func TestWrongKeyLabel(t *testing.T) {
	cfg := testConfig(t)
	open(t, cfg)
	other := testConfig(t)
	other.WrappedKeyPath = cfg.WrappedKeyPath
	_, err := pkcs11root.NewProvider(other).Open(t.Context())
	if !errors.Is(err, pkcs11root.ErrRootKeyMismatch) || !strings.Contains(err.Error(), fmt.Sprintf("set the key label to %q", cfg.KeyLabel)) {
		t.Fatalf("Open with another key label: got %v, want ErrRootKeyMismatch naming %q", err, cfg.KeyLabel)
	}
	tok := hsmtest.OpenConfig(t, cfg.HSM)
	if _, err := tok.FindKey(t.Context(), other.KeyLabel); !errors.Is(err, hsm.ErrKeyNotFound) {
		t.Fatalf("FindKey(%q): got %v, want ErrKeyNotFound (no key created)", other.KeyLabel, err)
	}
}

func TestTamperedWrappedDEK(t *testing.T) {
	cfg := testConfig(t)
	open(t, cfg)
	content, err := os.ReadFile(cfg.WrappedKeyPath)
	if err != nil {
		t.Fatal(err)
	}
	// Flip one hex digit of the wrapped key: still well-formed, no longer
	// authentic.
	i := len(content) - 10
	tampered := bytes.Clone(content)
	tampered[i] = "01"[(tampered[i]-'0'+1)%2]
	if tampered[i] == content[i] {
		tampered[i] = 'a'
	}
	if err := os.WriteFile(cfg.WrappedKeyPath, tampered, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := pkcs11root.NewProvider(cfg).Open(t.Context()); !errors.Is(err, pkcs11root.ErrRootKeyMismatch) || !strings.Contains(err.Error(), "refusing to start") {
		t.Fatalf("Open of a tampered wrapped DEK: got %v, want ErrRootKeyMismatch", err)
	}
}

func TestInvalidWrappedFile(t *testing.T) {
	cfg := testConfig(t)
	for _, tc := range []struct {
		name    string
		content string
	}{
		{"empty", ""},
		{"other magic", "openkms-root-key-v1\n" + strings.Repeat("0", 64) + "\n"},
		{"no newline", "openkms-root-dek-v1\nkey-id 00\nwrapped " + strings.Repeat("00", 60)},
		{"short wrapped", "openkms-root-dek-v1\nkey-id 00\nwrapped " + strings.Repeat("00", 59) + "\n"},
		{"upper hex", "openkms-root-dek-v1\nkey-id AA\nwrapped " + strings.Repeat("00", 60) + "\n"},
		{"bad hex", "openkms-root-dek-v1\nkey-id zz\nwrapped " + strings.Repeat("00", 60) + "\n"},
		{"extra line", "openkms-root-dek-v1\nkey-id 00\nwrapped " + strings.Repeat("00", 60) + "\n\n"},
		{"long id", "openkms-root-dek-v1\nkey-id " + strings.Repeat("00", 65) + "\nwrapped " + strings.Repeat("00", 60) + "\n"},
		{"huge", strings.Repeat("x", pkcs11root.MaxFileSizeForTest+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(cfg.WrappedKeyPath, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := pkcs11root.NewProvider(cfg).Open(t.Context()); !errors.Is(err, pkcs11root.ErrInvalidFile) {
				t.Fatalf("Open: got %v, want ErrInvalidFile", err)
			}
		})
	}
	if err := os.WriteFile(cfg.WrappedKeyPath, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(cfg.WrappedKeyPath, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := pkcs11root.NewProvider(cfg).Open(t.Context()); !errors.Is(err, pkcs11root.ErrPermissions) || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("Open of a 0644 file: got %v, want ErrPermissions with a chmod hint", err)
	}
	os.Remove(cfg.WrappedKeyPath)
	if err := os.Mkdir(cfg.WrappedKeyPath, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := pkcs11root.NewProvider(cfg).Open(t.Context()); !errors.Is(err, pkcs11root.ErrInvalidFile) {
		t.Fatalf("Open of a directory: got %v, want ErrInvalidFile", err)
	}
}

func TestConcurrentFirstOpen(t *testing.T) {
	cfg := testConfig(t)
	sealers := make([]rootkey.Sealer, 6)
	errs := make([]error, len(sealers))
	var wg sync.WaitGroup
	for i := range sealers {
		wg.Go(func() { sealers[i], errs[i] = pkcs11root.NewProvider(cfg).Open(t.Context()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open %d: %v", i, err)
		}
	}
	sealed, err := sealers[0].Seal([]byte("secret"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range sealers {
		if got, err := s.Open(sealed, nil); err != nil || string(got) != "secret" {
			t.Fatalf("Sealer %d opening Sealer 0's value: got (%q, %v): the concurrent Opens disagree on the DEK", i, got, err)
		}
	}
	tok := hsmtest.OpenConfig(t, cfg.HSM)
	if _, err := tok.FindKey(t.Context(), cfg.KeyLabel); err != nil {
		t.Fatalf("FindKey after concurrent first Opens: got %v, want exactly one key", err)
	}
}

// Neither the DEK nor an adopted file root key is ever written in
// plaintext: not in the data directory, not in the token's storage.
func TestNoPlaintextKeyOnDisk(t *testing.T) {
	cfg := testConfig(t)
	p := pkcs11root.NewProvider(cfg)
	dek, err := p.OpenDEKForTest(t.Context())
	if err != nil {
		if errors.Is(err, hsm.ErrNoCgo) {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	again, err := pkcs11root.NewProvider(cfg).OpenDEKForTest(t.Context())
	if err != nil || !bytes.Equal(again, dek) {
		t.Fatalf("second OpenDEK: got (%d bytes, %v), want the same DEK", len(again), err)
	}
	dirs := []string{filepath.Dir(cfg.WrappedKeyPath)}
	if d := softHSMTokenDir(t); d != "" {
		dirs = append(dirs, d)
	}
	assertNotOnDisk(t, dek, dirs)

	// Adoption: the file key, once wrapped and the key file deleted, is
	// nowhere on disk either.
	acfg := testConfig(t)
	keyPath := filepath.Join(filepath.Dir(acfg.WrappedKeyPath), "root.key")
	if _, err := fileroot.NewProvider(keyPath).Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	fileKey, err := fileroot.ReadKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := pkcs11root.AdoptFileKey(t.Context(), acfg, keyPath); err != nil {
		t.Fatalf("AdoptFileKey: %v", err)
	}
	if err := os.Remove(keyPath); err != nil {
		t.Fatal(err)
	}
	assertNotOnDisk(t, fileKey, append(dirs, filepath.Dir(acfg.WrappedKeyPath)))
}

func assertNotOnDisk(t *testing.T, key []byte, dirs []string) {
	t.Helper()
	needles := [][]byte{key, []byte(hex.EncodeToString(key)), []byte(strings.ToUpper(hex.EncodeToString(key)))}
	files := 0
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files++
			for _, n := range needles {
				if bytes.Contains(b, n) {
					t.Errorf("%s contains the key in plaintext", path)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if files == 0 {
		t.Fatal("no files scanned")
	}
}

// softHSMTokenDir returns directories.tokendir from $SOFTHSM2_CONF, or "".
func softHSMTokenDir(t *testing.T) string {
	f, err := os.Open(os.Getenv("SOFTHSM2_CONF"))
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && strings.TrimSpace(k) == "directories.tokendir" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func TestAdoptFileKey(t *testing.T) {
	cfg := testConfig(t)
	dir := filepath.Dir(cfg.WrappedKeyPath)
	keyPath := filepath.Join(dir, "root.key")

	// A data directory running on the file provider...
	fileSealer, err := fileroot.NewProvider(keyPath).Open(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	records := map[string][]byte{}
	for i := range 10 {
		aad := fmt.Sprintf("openkms:key-material:v1:arn:aws:kms:us-east-1:111122223333:key/%d:1", i)
		sealed, err := fileSealer.Seal(fmt.Appendf(nil, "material %d", i), []byte(aad))
		if err != nil {
			t.Fatal(err)
		}
		records[aad] = sealed
	}

	// ...is adopted by the HSM provider,
	if err := pkcs11root.AdoptFileKey(t.Context(), cfg, keyPath); err != nil {
		t.Fatalf("AdoptFileKey: got %v, want nil", err)
	}
	if fi, err := os.Stat(cfg.WrappedKeyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("wrapped DEK after adoption: got (%v, %v), want a 0600 file", fi, err)
	}
	// which can be re-run,
	if err := pkcs11root.AdoptFileKey(t.Context(), cfg, keyPath); err != nil {
		t.Fatalf("second AdoptFileKey: got %v, want nil (idempotent)", err)
	}
	// and, with the key file deleted, opens every record sealed before.
	if err := os.Remove(keyPath); err != nil {
		t.Fatal(err)
	}
	hsmSealer := open(t, cfg)
	for aad, sealed := range records {
		got, err := hsmSealer.Open(sealed, []byte(aad))
		if err != nil || !strings.HasPrefix(string(got), "material ") {
			t.Fatalf("Open(%q) after adoption: got (%q, %v), want the material", aad, got, err)
		}
	}
	// New records sealed by the HSM provider open with the old key too
	// (it is the same DEK), so a rollback is possible while backups exist.
	sealed, err := hsmSealer.Seal([]byte("new"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := fileSealer.Open(sealed, []byte("aad")); err != nil || string(got) != "new" {
		t.Fatalf("file Sealer opening a post-adoption value: got (%q, %v)", got, err)
	}

	// Adopting another key into a directory that has one is refused.
	otherKey := filepath.Join(t.TempDir(), "root.key")
	if _, err := fileroot.NewProvider(otherKey).Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(cfg.WrappedKeyPath)
	if err := pkcs11root.AdoptFileKey(t.Context(), cfg, otherKey); !errors.Is(err, pkcs11root.ErrExists) {
		t.Fatalf("AdoptFileKey of another key: got %v, want ErrExists", err)
	}
	if after, _ := os.ReadFile(cfg.WrappedKeyPath); !bytes.Equal(before, after) {
		t.Fatal("refused AdoptFileKey changed the wrapped DEK")
	}
	// A missing key file is an error, not a new key.
	if err := pkcs11root.AdoptFileKey(t.Context(), cfg, keyPath); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("AdoptFileKey of a missing file: got %v, want ErrNotExist", err)
	}
}

func TestAdoptFileKeyErrors(t *testing.T) {
	cfg := testConfig(t)
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "root.key")
	if err := os.WriteFile(keyPath, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := pkcs11root.AdoptFileKey(t.Context(), cfg, keyPath); !errors.Is(err, fileroot.ErrInvalidFile) {
		t.Fatalf("AdoptFileKey of a malformed key file: got %v, want fileroot.ErrInvalidFile", err)
	}
	os.Remove(keyPath)
	if _, err := fileroot.NewProvider(keyPath).Open(t.Context()); err != nil {
		t.Fatal(err)
	}
	bad := cfg
	bad.HSM.PIN = "wrong-" + cfg.HSM.PIN
	err := pkcs11root.AdoptFileKey(t.Context(), bad, keyPath)
	if errors.Is(err, hsm.ErrNoCgo) {
		t.Skip(err)
	}
	if !errors.Is(err, hsm.ErrPINIncorrect) {
		t.Fatalf("AdoptFileKey with a wrong PIN: got %v, want ErrPINIncorrect", err)
	}
	if _, err := os.Stat(cfg.WrappedKeyPath); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("failed AdoptFileKey wrote the wrapped DEK: got %v", err)
	}
}
