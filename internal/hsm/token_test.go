//go:build cgo

package hsm_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/openkms/openkms/internal/hsm"
	"github.com/openkms/openkms/internal/hsm/hsmtest"
)

// newKey generates a key with a unique label and destroys it when t ends.
func newKey(t *testing.T, tok *hsm.Token) hsm.Key {
	t.Helper()
	label := hsmtest.Label("openkms-hsm-test")
	k, err := tok.GenerateAESKey(t.Context(), label)
	if err != nil {
		t.Fatalf("GenerateAESKey(%q): got error %v, want nil", label, err)
	}
	t.Cleanup(func() {
		if err := tok.DestroyKey(context.Background(), k); err != nil && !errors.Is(err, hsm.ErrKeyNotFound) && !errors.Is(err, hsm.ErrClosed) {
			t.Errorf("cleanup: DestroyKey(%v): %v", k, err)
		}
	})
	return k
}

func TestOpenModuleNotFound(t *testing.T) {
	_, err := hsm.Open(hsm.Config{ModulePath: "/nonexistent/libsofthsm2.so", TokenLabel: "t", PIN: "secret-pin-1"})
	if !errors.Is(err, hsm.ErrModule) {
		t.Fatalf("Open with a missing module: got %v, want ErrModule", err)
	}
	for _, want := range []string{"/nonexistent/libsofthsm2.so", "does not exist", "softhsm"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open with a missing module: error %q does not mention %q", err, want)
		}
	}
}

func TestOpenNotALibrary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "libnot-pkcs11.so")
	if err := os.WriteFile(path, []byte("not an ELF file"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := hsm.Open(hsm.Config{ModulePath: path, TokenLabel: "t", PIN: "secret-pin-1"})
	if !errors.Is(err, hsm.ErrModule) || !strings.Contains(err.Error(), "cannot be loaded") {
		t.Fatalf("Open with a non-library: got %v, want ErrModule saying it cannot be loaded", err)
	}
	_, err = hsm.Open(hsm.Config{ModulePath: t.TempDir(), TokenLabel: "t", PIN: "secret-pin-1"})
	if !errors.Is(err, hsm.ErrModule) {
		t.Fatalf("Open with a directory as module: got %v, want ErrModule", err)
	}
}

func TestOpenTokenNotFound(t *testing.T) {
	cfg := hsmtest.Config(t)
	cfg.TokenLabel = "no-such-token"
	_, err := hsm.Open(cfg)
	if !errors.Is(err, hsm.ErrTokenNotFound) {
		t.Fatalf("Open(token %q): got %v, want ErrTokenNotFound", cfg.TokenLabel, err)
	}
	real := hsmtest.Config(t).TokenLabel
	for _, want := range []string{`"no-such-token"`, `tokens present:`, fmt.Sprintf("%q", real)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if strings.Contains(err.Error(), cfg.PIN) {
		t.Errorf("error %q contains the PIN", err)
	}
}

func TestOpenWrongPIN(t *testing.T) {
	cfg := hsmtest.Config(t)
	cfg.PIN = "wrong-pin-" + cfg.PIN
	_, err := hsm.Open(cfg)
	if !errors.Is(err, hsm.ErrPINIncorrect) {
		t.Fatalf("Open with a wrong PIN: got %v, want ErrPINIncorrect", err)
	}
	var e *hsm.Error
	if !errors.As(err, &e) || e.Name != "CKR_PIN_INCORRECT" || e.Func != "C_Login" {
		t.Errorf("Open with a wrong PIN: got %v, want it to wrap C_Login: CKR_PIN_INCORRECT", err)
	}
	if strings.Contains(err.Error(), cfg.PIN) || strings.Contains(err.Error(), hsmtest.Config(t).PIN) {
		t.Errorf("error %q contains a PIN", err)
	}
	if !strings.Contains(err.Error(), "check the configured PIN") {
		t.Errorf("error %q does not say what to fix", err)
	}
	// The right PIN still works: the failure left nothing behind.
	hsmtest.Open(t)
}

// Two Tokens in one process share the module and the login; a second Open
// with another PIN is refused even though the token is logged in.
func TestSharedLogin(t *testing.T) {
	cfg := hsmtest.Config(t)
	a := hsmtest.Open(t)
	b := hsmtest.Open(t)
	bad := cfg
	bad.PIN = "wrong-pin-" + cfg.PIN
	if _, err := hsm.Open(bad); !errors.Is(err, hsm.ErrPINIncorrect) {
		t.Fatalf("Open with a wrong PIN while logged in: got %v, want ErrPINIncorrect", err)
	}
	k := newKey(t, a)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	// a is still logged in after b closed.
	if _, err := a.EncryptGCM(t.Context(), k, []byte("x"), nil); err != nil {
		t.Fatalf("EncryptGCM after another Token closed: got %v, want nil", err)
	}
	if _, err := b.Random(t.Context(), 8); !errors.Is(err, hsm.ErrClosed) {
		t.Fatalf("Random on a closed Token: got %v, want ErrClosed", err)
	}
	// A Key belongs to its Token.
	c := hsmtest.Open(t)
	if _, err := c.EncryptGCM(t.Context(), k, []byte("x"), nil); !errors.Is(err, hsm.ErrInput) {
		t.Fatalf("EncryptGCM with another Token's Key: got %v, want ErrInput", err)
	}
	if _, err := c.EncryptGCM(t.Context(), hsm.Key{}, []byte("x"), nil); !errors.Is(err, hsm.ErrInput) {
		t.Fatalf("EncryptGCM with the zero Key: got %v, want ErrInput", err)
	}
}

func TestKeyIsNonExtractable(t *testing.T) {
	tok := hsmtest.Open(t)
	ctx := t.Context()
	k := newKey(t, tok)
	if len(k.ID()) != hsm.KeyIDSize {
		t.Errorf("key ID: got %d bytes, want %d", len(k.ID()), hsm.KeyIDSize)
	}
	got, err := tok.KeyAttributes(ctx, k)
	if err != nil {
		t.Fatalf("KeyAttributes: got error %v, want nil", err)
	}
	want := hsm.Attributes{Token: true, Private: true, Sensitive: true, Extractable: false, AlwaysSensitive: true, NeverExtractable: true, ValueLen: 32}
	if got != want {
		t.Fatalf("KeyAttributes: got %+v, want %+v", got, want)
	}

	// The token refuses to reveal the value.
	v, err := tok.ReadValueForTest(ctx, k)
	var e *hsm.Error
	if !errors.As(err, &e) || e.Name != "CKR_ATTRIBUTE_SENSITIVE" {
		t.Fatalf("reading CKA_VALUE: got (%x, %v), want CKR_ATTRIBUTE_SENSITIVE", v, err)
	}
	// ... or to wrap it out under a key allowed to wrap.
	w, err := tok.WrapForTest(ctx, k)
	if !errors.As(err, &e) || e.Name != "CKR_KEY_UNEXTRACTABLE" {
		t.Fatalf("wrapping the key out: got (%x, %v), want CKR_KEY_UNEXTRACTABLE", w, err)
	}
	// ... and the attributes cannot be weakened.
	if err := tok.SetAttributeForTest(ctx, k, hsm.CKAExtractableForTest, true); err == nil {
		t.Fatal("setting CKA_EXTRACTABLE to true: got nil, want an error")
	}
	if err := tok.SetAttributeForTest(ctx, k, hsm.CKASensitiveForTest, false); err == nil {
		t.Fatal("setting CKA_SENSITIVE to false: got nil, want an error")
	}
	if got, err := tok.KeyAttributes(ctx, k); err != nil || got != want {
		t.Fatalf("KeyAttributes after attempts to change them: got (%+v, %v), want %+v", got, err, want)
	}
}

func TestFindAndDestroy(t *testing.T) {
	tok := hsmtest.Open(t)
	ctx := t.Context()
	k := newKey(t, tok)
	if _, err := tok.GenerateAESKey(ctx, k.Label()); !errors.Is(err, hsm.ErrKeyExists) {
		t.Fatalf("GenerateAESKey of an existing label: got %v, want ErrKeyExists", err)
	}
	byLabel, err := tok.FindKey(ctx, k.Label())
	if err != nil || byLabel.Label() != k.Label() || !bytes.Equal(byLabel.ID(), k.ID()) {
		t.Fatalf("FindKey(%q): got (%v, %v), want %v", k.Label(), byLabel, err, k)
	}
	byID, err := tok.FindKeyByID(ctx, k.ID())
	if err != nil || byID.Label() != k.Label() {
		t.Fatalf("FindKeyByID(%x): got (%v, %v), want %v", k.ID(), byID, err, k)
	}
	sealed, err := tok.EncryptGCM(ctx, k, []byte("secret"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := tok.DecryptGCM(ctx, byID, sealed, nil); err != nil || string(got) != "secret" {
		t.Fatalf("DecryptGCM with the key found by ID: got (%q, %v), want (\"secret\", nil)", got, err)
	}
	// A second Token in the same process finds the same key.
	other := hsmtest.Open(t)
	k2, err := other.FindKey(ctx, k.Label())
	if err != nil {
		t.Fatalf("FindKey from a second Token: got %v", err)
	}
	if got, err := other.DecryptGCM(ctx, k2, sealed, nil); err != nil || string(got) != "secret" {
		t.Fatalf("DecryptGCM from a second Token: got (%q, %v), want (\"secret\", nil)", got, err)
	}

	if err := tok.DestroyKey(ctx, k); err != nil {
		t.Fatalf("DestroyKey: got %v, want nil", err)
	}
	if _, err := tok.FindKey(ctx, k.Label()); !errors.Is(err, hsm.ErrKeyNotFound) {
		t.Fatalf("FindKey after DestroyKey: got %v, want ErrKeyNotFound", err)
	}
	if _, err := tok.FindKeyByID(ctx, k.ID()); !errors.Is(err, hsm.ErrKeyNotFound) {
		t.Fatalf("FindKeyByID after DestroyKey: got %v, want ErrKeyNotFound", err)
	}
	if _, err := tok.EncryptGCM(ctx, k, []byte("x"), nil); !errors.Is(err, hsm.ErrKeyNotFound) {
		t.Fatalf("EncryptGCM with a destroyed key: got %v, want ErrKeyNotFound", err)
	}
	if err := tok.DestroyKey(ctx, k); !errors.Is(err, hsm.ErrKeyNotFound) {
		t.Fatalf("second DestroyKey: got %v, want ErrKeyNotFound", err)
	}

	for _, bad := range []string{"", strings.Repeat("a", hsm.MaxKeyLabelSize+1), "a\nb", "\xff"} {
		if _, err := tok.GenerateAESKey(ctx, bad); !errors.Is(err, hsm.ErrInput) {
			t.Errorf("GenerateAESKey(%q): got %v, want ErrInput", bad, err)
		}
		if _, err := tok.FindKey(ctx, bad); !errors.Is(err, hsm.ErrInput) {
			t.Errorf("FindKey(%q): got %v, want ErrInput", bad, err)
		}
	}
	for _, bad := range [][]byte{nil, make([]byte, 65)} {
		if _, err := tok.FindKeyByID(ctx, bad); !errors.Is(err, hsm.ErrInput) {
			t.Errorf("FindKeyByID(%d bytes): got %v, want ErrInput", len(bad), err)
		}
	}
}

func TestDuplicateLabels(t *testing.T) {
	a := hsmtest.Open(t)
	b := hsmtest.Open(t)
	ctx := t.Context()
	k := newKey(t, a)
	if _, err := b.GenerateAESKey(ctx, k.Label()); !errors.Is(err, hsm.ErrKeyExists) {
		t.Fatalf("GenerateAESKey of a label another Token created: got %v, want ErrKeyExists", err)
	}
	// Two processes racing can still create two keys with one label:
	// FindKey then refuses to choose, FindKeyByID still works.
	dup, err := b.GenerateUncheckedForTest(ctx, k.Label())
	if err != nil {
		t.Fatal(err)
	}
	defer b.DestroyKey(context.Background(), dup)
	if _, err := a.FindKey(ctx, k.Label()); !errors.Is(err, hsm.ErrAmbiguousKey) {
		t.Fatalf("FindKey of a label two keys carry: got %v, want ErrAmbiguousKey", err)
	}
	if got, err := a.FindKeyByID(ctx, dup.ID()); err != nil || !bytes.Equal(got.ID(), dup.ID()) {
		t.Fatalf("FindKeyByID(%x): got (%v, %v)", dup.ID(), got, err)
	}
}

func TestGCM(t *testing.T) {
	tok := hsmtest.Open(t)
	ctx := t.Context()
	k := newKey(t, tok)
	other := newKey(t, tok)

	for _, n := range []int{0, 1, 15, 16, 17, 32, 1000, hsm.MaxPlaintextSize} {
		for _, aad := range [][]byte{nil, []byte("openkms:root-dek:v1"), bytes.Repeat([]byte{7}, hsm.MaxAADSize)} {
			plaintext := bytes.Repeat([]byte{byte(n), 0xa5}, n)[:n]
			sealed, err := tok.EncryptGCM(ctx, k, plaintext, aad)
			if err != nil {
				t.Fatalf("EncryptGCM(%d bytes, aad %d bytes): got error %v", n, len(aad), err)
			}
			if len(sealed) != n+hsm.GCMOverhead {
				t.Fatalf("EncryptGCM(%d bytes): got %d bytes, want %d", n, len(sealed), n+hsm.GCMOverhead)
			}
			if n >= 16 && bytes.Contains(sealed, plaintext) {
				t.Fatalf("EncryptGCM(%d bytes): the plaintext appears in the output", n)
			}
			got, err := tok.DecryptGCM(ctx, k, sealed, aad)
			if err != nil || !bytes.Equal(got, plaintext) {
				t.Fatalf("DecryptGCM(EncryptGCM(%d bytes)): got (%d bytes, %v), want the plaintext", n, len(got), err)
			}
			if got == nil {
				t.Fatal("DecryptGCM: got nil plaintext, want non-nil")
			}
		}
	}

	aad := []byte("aad")
	sealed, err := tok.EncryptGCM(ctx, k, []byte("a 32-byte secret key, for tests!"), aad)
	if err != nil {
		t.Fatal(err)
	}
	wantErr := func(what string, sealed, aad []byte, key hsm.Key) {
		t.Helper()
		got, err := tok.DecryptGCM(ctx, key, sealed, aad)
		if err != hsm.ErrDecrypt || got != nil {
			t.Fatalf("%s: got (%x, %v), want (nil, ErrDecrypt)", what, got, err)
		}
	}
	for i := range sealed {
		tampered := bytes.Clone(sealed)
		tampered[i] ^= 0x01
		wantErr(fmt.Sprintf("DecryptGCM with byte %d flipped", i), tampered, aad, k)
	}
	wantErr("DecryptGCM with other aad", sealed, []byte("aae"), k)
	wantErr("DecryptGCM without aad", sealed, nil, k)
	wantErr("DecryptGCM under another key", sealed, aad, other)
	wantErr("DecryptGCM with a byte appended", append(bytes.Clone(sealed), 0), aad, k)
	for _, n := range []int{0, 1, hsm.GCMOverhead - 1, hsm.GCMOverhead, len(sealed) - 1} {
		wantErr(fmt.Sprintf("DecryptGCM of %d bytes", n), sealed[:n], aad, k)
	}
	wantErr("DecryptGCM of an oversized input", make([]byte, hsm.GCMOverhead+hsm.MaxPlaintextSize+1), nil, k)
	// Failed decryptions did not break the session pool.
	if got, err := tok.DecryptGCM(ctx, k, sealed, aad); err != nil || string(got) != "a 32-byte secret key, for tests!" {
		t.Fatalf("DecryptGCM after failures: got (%q, %v)", got, err)
	}

	if _, err := tok.EncryptGCM(ctx, k, make([]byte, hsm.MaxPlaintextSize+1), nil); !errors.Is(err, hsm.ErrInput) {
		t.Fatalf("EncryptGCM of %d bytes: got %v, want ErrInput", hsm.MaxPlaintextSize+1, err)
	}
	if _, err := tok.EncryptGCM(ctx, k, nil, make([]byte, hsm.MaxAADSize+1)); !errors.Is(err, hsm.ErrInput) {
		t.Fatalf("EncryptGCM with %d bytes of aad: got %v, want ErrInput", hsm.MaxAADSize+1, err)
	}

	// Fresh nonces.
	seen := make(map[string]bool)
	for range 100 {
		s, err := tok.EncryptGCM(ctx, k, []byte("same"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if seen[string(s[:hsm.GCMNonceSize])] {
			t.Fatalf("EncryptGCM: nonce %x repeated", s[:hsm.GCMNonceSize])
		}
		seen[string(s[:hsm.GCMNonceSize])] = true
	}
}

func TestRandom(t *testing.T) {
	tok := hsmtest.Open(t)
	ctx := t.Context()
	a, err := tok.Random(ctx, 32)
	if err != nil || len(a) != 32 {
		t.Fatalf("Random(32): got (%d bytes, %v), want 32 bytes", len(a), err)
	}
	b, err := tok.Random(ctx, 32)
	if err != nil || bytes.Equal(a, b) {
		t.Fatalf("two Random(32): got equal outputs %x (err %v)", a, err)
	}
	if got, err := tok.Random(ctx, hsm.MaxRandomSize); err != nil || len(got) != hsm.MaxRandomSize {
		t.Fatalf("Random(%d): got (%d bytes, %v)", hsm.MaxRandomSize, len(got), err)
	}
	for _, n := range []int{-1, 0, hsm.MaxRandomSize + 1} {
		if _, err := tok.Random(ctx, n); !errors.Is(err, hsm.ErrInput) {
			t.Errorf("Random(%d): got %v, want ErrInput", n, err)
		}
	}
}

func TestConcurrent(t *testing.T) {
	tok := hsmtest.Open(t)
	k := newKey(t, tok)
	ctx := t.Context()
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 40 {
				plaintext := fmt.Appendf(nil, "secret %d/%d", g, i)
				aad := fmt.Appendf(nil, "aad %d", g)
				sealed, err := tok.EncryptGCM(ctx, k, plaintext, aad)
				if err != nil {
					t.Errorf("concurrent EncryptGCM: %v", err)
					return
				}
				got, err := tok.DecryptGCM(ctx, k, sealed, aad)
				if err != nil || !bytes.Equal(got, plaintext) {
					t.Errorf("concurrent DecryptGCM: got (%q, %v), want (%q, nil)", got, err, plaintext)
					return
				}
				if i%8 == 0 {
					sealed[len(sealed)-1] ^= 1
					if _, err := tok.DecryptGCM(ctx, k, sealed, aad); err != hsm.ErrDecrypt {
						t.Errorf("concurrent DecryptGCM of a tampered value: got %v, want ErrDecrypt", err)
						return
					}
					if _, err := tok.Random(ctx, 16); err != nil {
						t.Errorf("concurrent Random: %v", err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if n := tok.SessionsOpenForTest(); n > hsm.DefaultSessions {
		t.Fatalf("open sessions: got %d, want at most %d", n, hsm.DefaultSessions)
	}
}

func TestContextAndClose(t *testing.T) {
	cfg := hsmtest.Config(t)
	cfg.Sessions = 1
	tok := hsmtest.OpenConfig(t, cfg)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := tok.Random(ctx, 8); !errors.Is(err, context.Canceled) {
		t.Fatalf("Random with a cancelled context: got %v, want context.Canceled", err)
	}
	if _, err := tok.Random(t.Context(), 8); err != nil {
		t.Fatalf("Random: got %v, want nil", err)
	}
	// Close waits for running operations, then everything fails.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 20 {
				if _, err := tok.Random(t.Context(), 8); err != nil && !errors.Is(err, hsm.ErrClosed) {
					t.Errorf("Random racing Close: got %v, want nil or ErrClosed", err)
					return
				}
			}
		})
	}
	if err := tok.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	if err := tok.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := tok.Random(t.Context(), 8); !errors.Is(err, hsm.ErrClosed) {
		t.Fatalf("Random after Close: got %v, want ErrClosed", err)
	}
	if _, err := tok.FindKey(t.Context(), "x"); !errors.Is(err, hsm.ErrClosed) {
		t.Fatalf("FindKey after Close: got %v, want ErrClosed", err)
	}
}

// BenchmarkEncryptGCM256 measures one AES-256-GCM encryption of 256 bytes
// inside the token: the cost of an HSM call.
func BenchmarkEncryptGCM256(b *testing.B) {
	cfg := hsmtest.Config(b)
	tok := hsmtest.OpenConfig(b, cfg)
	k, err := tok.GenerateAESKey(b.Context(), hsmtest.Label("openkms-hsm-bench"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { tok.DestroyKey(context.Background(), k) })
	plaintext := make([]byte, 256)
	b.SetBytes(256)
	for b.Loop() {
		if _, err := tok.EncryptGCM(b.Context(), k, plaintext, []byte("aad")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncryptGCM256Parallel is BenchmarkEncryptGCM256 from many
// goroutines sharing the session pool.
func BenchmarkEncryptGCM256Parallel(b *testing.B) {
	tok := hsmtest.Open(b)
	k, err := tok.GenerateAESKey(b.Context(), hsmtest.Label("openkms-hsm-bench"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { tok.DestroyKey(context.Background(), k) })
	plaintext := make([]byte, 256)
	b.SetBytes(256)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := tok.EncryptGCM(context.Background(), k, plaintext, []byte("aad")); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
