package fileroot

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/openkms/openkms/internal/rootkey"
	"github.com/openkms/openkms/internal/rootkey/rootkeytest"
)

func open(t *testing.T, path string) rootkey.Sealer {
	t.Helper()
	s, err := NewProvider(path).Open(t.Context())
	if err != nil {
		t.Fatalf("Open(%s): got error %v, want nil", path, err)
	}
	return s
}

func TestConformance(t *testing.T) {
	rootkeytest.RunSealer(t,
		open(t, filepath.Join(t.TempDir(), "root.key")),
		open(t, filepath.Join(t.TempDir(), "root.key")))
}

func TestName(t *testing.T) {
	if got, want := NewProvider("/var/lib/openkms/root.key").Name(), "file:/var/lib/openkms/root.key"; got != want {
		t.Fatalf("Name: got %q, want %q", got, want)
	}
}

func TestCreateOnceThenReuse(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "root.key")
	s1 := open(t, path)

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("Stat after first Open: got error %v, want nil", err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Fatalf("root key file mode: got %04o, want 0600", got)
	}
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(content) != fileSize || !strings.HasPrefix(string(content), "openkms-root-key-v1\n") {
		t.Fatalf("root key file: got %d bytes starting %q, want %d bytes starting with the magic line", len(content), content[:min(len(content), 20)], fileSize)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("directory after Open: got %d entries (%v), want only the key file", len(entries), err)
	}

	sealed, err := s1.Seal([]byte("secret"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	s2 := open(t, path)
	if got, err := s2.Open(sealed, []byte("aad")); err != nil || string(got) != "secret" {
		t.Fatalf("second Open's Sealer opening the first's value: got (%q, %v), want (\"secret\", nil)", got, err)
	}
	after, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(after, content) {
		t.Fatalf("root key file changed by the second Open (err %v)", err)
	}
}

func TestConcurrentFirstOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "root.key")
	sealers := make([]rootkey.Sealer, 8)
	var wg sync.WaitGroup
	for i := range sealers {
		wg.Go(func() {
			s, err := NewProvider(path).Open(context.Background())
			if err != nil {
				t.Errorf("concurrent Open: got error %v, want nil", err)
			}
			sealers[i] = s
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	sealed, err := sealers[0].Seal([]byte("secret"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range sealers {
		if got, err := s.Open(sealed, nil); err != nil || string(got) != "secret" {
			t.Fatalf("Sealer %d opening Sealer 0's value: got (%q, %v), want (\"secret\", nil)", i, got, err)
		}
	}
}

func TestInvalidFileRefused(t *testing.T) {
	valid := "openkms-root-key-v1\n" + strings.Repeat("0123456789abcdef", 4) + "\n"
	cases := map[string]string{
		"empty":           "",
		"magic only":      "openkms-root-key-v1\n",
		"short":           valid[:len(valid)-2] + "\n",
		"truncated":       valid[:len(valid)-1],
		"trailing data":   valid + "\n",
		"wrong magic":     "openkms-root-key-v2\n" + valid[20:],
		"uppercase hex":   "openkms-root-key-v1\n" + strings.ToUpper(valid[20:]),
		"not hex":         "openkms-root-key-v1\n" + strings.Repeat("zz", 32) + "\n",
		"raw 32 bytes":    strings.Repeat("k", 32),
		"CRLF":            "openkms-root-key-v1\r\n" + valid[20:84] + "\r\n",
		"no final line":   valid[:len(valid)-1] + " ",
		"binary garbage":  strings.Repeat("\x00\xff", fileSize),
		"hex line spaces": "openkms-root-key-v1\n" + " " + valid[21:],
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "root.key")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := NewProvider(path).Open(t.Context())
			if !errors.Is(err, ErrInvalidFile) || s != nil {
				t.Fatalf("Open of %q: got (%v, %v), want ErrInvalidFile", content, s, err)
			}
			if got, _ := os.ReadFile(path); string(got) != content {
				t.Fatalf("refused file was changed: got %q, want %q", got, content)
			}
		})
	}
	// The valid content itself opens.
	path := filepath.Join(t.TempDir(), "root.key")
	if err := os.WriteFile(path, []byte(valid), 0o600); err != nil {
		t.Fatal(err)
	}
	open(t, path)
}

func TestLoosePermissionsRefused(t *testing.T) {
	src := filepath.Join(t.TempDir(), "root.key")
	open(t, src)
	content, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o660, 0o644, 0o700, 0o610} {
		path := filepath.Join(t.TempDir(), "root.key")
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		s, err := NewProvider(path).Open(t.Context())
		if mode&0o077 != 0 {
			if !errors.Is(err, ErrPermissions) || s != nil {
				t.Errorf("Open of a mode %04o file: got (%v, %v), want ErrPermissions", mode, s, err)
			} else if !strings.Contains(err.Error(), "chmod 600") {
				t.Errorf("error for mode %04o: got %q, want a chmod hint", mode, err)
			}
		} else if err != nil {
			t.Errorf("Open of a mode %04o file: got error %v, want nil", mode, err)
		}
	}
}

func TestNotARegularFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "root.key")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if s, err := NewProvider(path).Open(t.Context()); !errors.Is(err, ErrInvalidFile) {
		t.Fatalf("Open of a directory: got (%v, %v), want ErrInvalidFile", s, err)
	}
}

func TestMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "root.key")
	if s, err := NewProvider(path).Open(t.Context()); err == nil {
		t.Fatalf("Open in a missing directory: got (%v, nil), want an error", s)
	}
	if _, err := os.Stat(filepath.Dir(path)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open created the missing directory: got %v, want ErrNotExist", err)
	}
}

func TestContextCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "root.key")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if s, err := NewProvider(path).Open(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Open with a cancelled context: got (%v, %v), want context.Canceled", s, err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open with a cancelled context created the file: got %v, want ErrNotExist", err)
	}
}

func TestReadKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "root.key")
	if key, err := ReadKey(path); !errors.Is(err, fs.ErrNotExist) || key != nil {
		t.Fatalf("ReadKey of a missing file: got (%x, %v), want ErrNotExist", key, err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadKey created the file: got %v, want ErrNotExist", err)
	}

	s := open(t, path)
	key, err := ReadKey(path)
	if err != nil || len(key) != keySize {
		t.Fatalf("ReadKey: got (%d bytes, %v), want %d bytes", len(key), err, keySize)
	}
	// The key read is the provider's root key: a Sealer made from it opens
	// what the provider sealed, and the reverse.
	fromKey, err := rootkey.NewAESGCMSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.Seal([]byte("secret"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := fromKey.Open(sealed, []byte("aad")); err != nil || string(got) != "secret" {
		t.Fatalf("Sealer from ReadKey opening the provider's value: got (%q, %v), want (\"secret\", nil)", got, err)
	}
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := encode(key); !bytes.Equal(content, want) {
		t.Fatal("ReadKey: the key does not encode to the file's content")
	}

	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if key, err := ReadKey(path); !errors.Is(err, ErrPermissions) || key != nil {
		t.Fatalf("ReadKey of a 0640 file: got (%x, %v), want ErrPermissions", key, err)
	}
	bad := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(bad, []byte("openkms-root-key-v1\nzz\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if key, err := ReadKey(bad); !errors.Is(err, ErrInvalidFile) || key != nil {
		t.Fatalf("ReadKey of a malformed file: got (%x, %v), want ErrInvalidFile", key, err)
	}
}
