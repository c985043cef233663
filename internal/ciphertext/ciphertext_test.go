package ciphertext_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/openkms/openkms/internal/ciphertext"
)

var (
	testHeader = ciphertext.Header{Account: "111122223333", KeyID: "1234abcd-12ab-34cd-56ef-1234567890ab", Version: 7}
	testCtx    = map[string]string{"purpose": "test", "department": "10"}
)

func testKey(seed byte) []byte {
	k := make([]byte, ciphertext.KeyLen)
	for i := range k {
		k[i] = seed + byte(i)
	}
	return k
}

func mustSeal(t testing.TB, key []byte, h ciphertext.Header, pt []byte, ctx map[string]string) []byte {
	t.Helper()
	blob, err := ciphertext.Seal(key, h, pt, ctx, rand.Reader)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return blob
}

func TestRoundTrip(t *testing.T) {
	key := testKey(0)
	for _, n := range []int{0, 1, 15, 16, 17, 256, 4096, ciphertext.MaxPlaintextLen} {
		for _, ctx := range []map[string]string{nil, {}, {"a": "b"}, testCtx} {
			pt := bytes.Repeat([]byte{0xa5}, n)
			blob := mustSeal(t, key, testHeader, pt, ctx)
			if got, want := len(blob), n+ciphertext.Overhead; got != want {
				t.Fatalf("len(blob) = %d, want %d", got, want)
			}
			if cap(blob) != len(blob) {
				t.Errorf("cap(blob) = %d, want %d", cap(blob), len(blob))
			}
			h, got, err := ciphertext.Open(key, blob, ctx)
			if err != nil {
				t.Fatalf("Open(n=%d, ctx=%v): %v", n, ctx, err)
			}
			if h != testHeader {
				t.Errorf("Open header = %+v, want %+v", h, testHeader)
			}
			if !bytes.Equal(got, pt) {
				t.Errorf("Open plaintext differs (n=%d)", n)
			}
			if cap(got) != len(got) {
				t.Errorf("cap(plaintext) = %d, want %d", cap(got), len(got))
			}
			ph, err := ciphertext.ParseHeader(blob)
			if err != nil || ph != testHeader {
				t.Errorf("ParseHeader = %+v, %v; want %+v, nil", ph, err, testHeader)
			}
		}
	}
}

func TestSealNonceIsFresh(t *testing.T) {
	key := testKey(0)
	a := mustSeal(t, key, testHeader, []byte("x"), nil)
	b := mustSeal(t, key, testHeader, []byte("x"), nil)
	if bytes.Equal(a, b) {
		t.Fatal("two Seals of the same input produced the same blob")
	}
	if _, err := ciphertext.Seal(key, testHeader, []byte("x"), nil, nil); err != nil {
		t.Fatalf("Seal with nil rand: %v", err)
	}
}

// TestInvariant2RotationKeepsOldBlobs: a blob names its key and material
// version, so after rotation the caller finds the old material from the
// header alone (no KeyId) and the old blob still opens; the new material
// does not open it.
func TestInvariant2RotationKeepsOldBlobs(t *testing.T) {
	materials := map[uint32][]byte{1: testKey(1)}
	h := testHeader
	h.Version = 1
	old := mustSeal(t, materials[1], h, []byte("old secret"), testCtx)

	materials[2] = testKey(2) // rotate
	h.Version = 2
	mustSeal(t, materials[2], h, []byte("new secret"), testCtx)

	ph, err := ciphertext.ParseHeader(old)
	if err != nil {
		t.Fatal(err)
	}
	if ph.Account != testHeader.Account || ph.KeyID != testHeader.KeyID || ph.Version != 1 {
		t.Fatalf("ParseHeader = %+v, want account %s key %s version 1", ph, testHeader.Account, testHeader.KeyID)
	}
	if _, pt, err := ciphertext.Open(materials[ph.Version], old, testCtx); err != nil || string(pt) != "old secret" {
		t.Fatalf("Open(old blob, version %d material) = %q, %v", ph.Version, pt, err)
	}
	if _, _, err := ciphertext.Open(materials[2], old, testCtx); !errors.Is(err, ciphertext.ErrInvalid) {
		t.Fatalf("Open(old blob, version 2 material) err = %v, want ErrInvalid", err)
	}
}

// TestHeaderTampering: every header field is authenticated. Each field is
// replaced by another valid value (so the blob still parses) and Open must
// fail.
func TestHeaderTampering(t *testing.T) {
	key := testKey(0)
	blob := mustSeal(t, key, testHeader, []byte("secret"), testCtx)
	for _, tc := range []struct {
		name   string
		mutate func(h *ciphertext.Header)
	}{
		{"account", func(h *ciphertext.Header) { h.Account = "111122223334" }},
		{"key id", func(h *ciphertext.Header) { h.KeyID = "1234abcd-12ab-34cd-56ef-1234567890ac" }},
		{"version", func(h *ciphertext.Header) { h.Version = 8 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := testHeader
			tc.mutate(&h)
			// Encode the new header by sealing something with it and
			// splicing its header onto the original blob.
			other := mustSeal(t, key, h, nil, nil)
			forged := append(append([]byte{}, other[:ciphertext.HeaderLen]...), blob[ciphertext.HeaderLen:]...)
			if ph, err := ciphertext.ParseHeader(forged); err != nil || ph != h {
				t.Fatalf("ParseHeader(forged) = %+v, %v; want %+v", ph, err, h)
			}
			if _, _, err := ciphertext.Open(key, forged, testCtx); !errors.Is(err, ciphertext.ErrInvalid) {
				t.Fatalf("Open(forged %s) err = %v, want ErrInvalid", tc.name, err)
			}
		})
	}
	t.Run("format version", func(t *testing.T) {
		forged := bytes.Clone(blob)
		forged[0] = 2
		if _, _, err := ciphertext.Open(key, forged, testCtx); !errors.Is(err, ciphertext.ErrInvalid) {
			t.Fatalf("Open err = %v, want ErrInvalid", err)
		}
	})
}

// TestEveryBitFlipFails flips each bit of a blob; none may open.
func TestEveryBitFlipFails(t *testing.T) {
	key := testKey(0)
	blob := mustSeal(t, key, testHeader, []byte("secret"), testCtx)
	for i := range blob {
		for bit := range 8 {
			forged := bytes.Clone(blob)
			forged[i] ^= 1 << bit
			if _, pt, err := ciphertext.Open(key, forged, testCtx); err != ciphertext.ErrInvalid || pt != nil {
				t.Fatalf("Open(blob with byte %d bit %d flipped) = %q, %v; want nil, ErrInvalid", i, bit, pt, err)
			}
		}
	}
	for _, forged := range [][]byte{blob[:len(blob)-1], append(bytes.Clone(blob), 0)} {
		if _, _, err := ciphertext.Open(key, forged, testCtx); err != ciphertext.ErrInvalid {
			t.Fatalf("Open(len %d) err = %v, want ErrInvalid", len(forged), err)
		}
	}
	if _, _, err := ciphertext.Open(testKey(1), blob, testCtx); err != ciphertext.ErrInvalid {
		t.Fatalf("Open(wrong key) err = %v, want ErrInvalid", err)
	}
}

// TestInvariant3ContextIsBound: Decrypt with a different encryption context
// fails.
func TestInvariant3ContextIsBound(t *testing.T) {
	key := testKey(0)
	sealed := map[string]string{"purpose": "test", "department": "10"}
	blob := mustSeal(t, key, testHeader, []byte("secret"), sealed)
	for _, tc := range []struct {
		name string
		ctx  map[string]string
	}{
		{"changed value", map[string]string{"purpose": "test", "department": "11"}},
		{"changed key", map[string]string{"purpose": "test", "Department": "10"}},
		{"extra pair", map[string]string{"purpose": "test", "department": "10", "x": ""}},
		{"missing pair", map[string]string{"purpose": "test"}},
		{"nil", nil},
		{"empty", map[string]string{}},
		{"swapped key and value", map[string]string{"test": "purpose", "department": "10"}},
		{"shifted boundary", map[string]string{"purposet": "est", "department": "10"}},
	} {
		if _, _, err := ciphertext.Open(key, blob, tc.ctx); err != ciphertext.ErrInvalid {
			t.Errorf("Open with %s context err = %v, want ErrInvalid", tc.name, err)
		}
	}
	// And the other way round: sealed with no context, opened with one.
	blob = mustSeal(t, key, testHeader, []byte("secret"), nil)
	for _, ctx := range []map[string]string{{"": ""}, {"a": ""}} {
		if _, _, err := ciphertext.Open(key, blob, ctx); err != ciphertext.ErrInvalid {
			t.Errorf("Open(sealed with nil context, %v) err = %v, want ErrInvalid", ctx, err)
		}
	}
}

func TestNilAndEmptyContextAreEquivalent(t *testing.T) {
	key := testKey(0)
	for _, sealCtx := range []map[string]string{nil, {}} {
		blob := mustSeal(t, key, testHeader, []byte("secret"), sealCtx)
		for _, openCtx := range []map[string]string{nil, {}} {
			if _, _, err := ciphertext.Open(key, blob, openCtx); err != nil {
				t.Errorf("Seal(ctx %#v), Open(ctx %#v): %v", sealCtx, openCtx, err)
			}
		}
	}
	if got := ciphertext.CanonicalContext(nil); len(got) != 0 {
		t.Errorf("CanonicalContext(nil) = %x, want empty", got)
	}
	if got := ciphertext.CanonicalContext(map[string]string{}); len(got) != 0 {
		t.Errorf("CanonicalContext({}) = %x, want empty", got)
	}
}

func TestCanonicalContext(t *testing.T) {
	for _, tc := range []struct {
		ctx  map[string]string
		want string // hex
	}{
		{map[string]string{"a": "b"}, "00000001" + "61" + "00000001" + "62"},
		{map[string]string{"": ""}, "00000000" + "00000000"},
		{map[string]string{"b": "1", "a": "2", "B": "3"}, // bytewise: "B" < "a" < "b"
			"00000001" + "42" + "00000001" + "33" +
				"00000001" + "61" + "00000001" + "32" +
				"00000001" + "62" + "00000001" + "31"},
		{map[string]string{"ab": "", "a": "b"}, // a prefix sorts first
			"00000001" + "61" + "00000001" + "62" +
				"00000002" + "6162" + "00000000"},
		{map[string]string{"é": "ü"}, "00000002" + "c3a9" + "00000002" + "c3bc"},
	} {
		got := hex.EncodeToString(ciphertext.CanonicalContext(tc.ctx))
		if got != tc.want {
			t.Errorf("CanonicalContext(%q) = %s, want %s", tc.ctx, got, tc.want)
		}
	}
}

func TestCanonicalContextOrderIndependent(t *testing.T) {
	// Go randomises map iteration; build the same context in several
	// insertion orders and encode many times.
	keys := []string{"zeta", "alpha", "mid", "Alpha", "alpha2", "", "ω", "aws:cmk", "17"}
	want := ciphertext.CanonicalContext(func() map[string]string {
		m := map[string]string{}
		for _, k := range keys {
			m[k] = "v-" + k
		}
		return m
	}())
	for i := range 50 {
		m := map[string]string{}
		for j := range keys {
			k := keys[(i+j)%len(keys)]
			m[k] = "v-" + k
		}
		if got := ciphertext.CanonicalContext(m); !bytes.Equal(got, want) {
			t.Fatalf("encoding depends on insertion order:\n got %x\nwant %x", got, want)
		}
	}
}

func TestCanonicalContextUnambiguous(t *testing.T) {
	pairs := [][2]map[string]string{
		{{"a": "bc"}, {"ab": "c"}},
		{{"a": "b", "c": "d"}, {"a": "b\x00\x00\x00\x01c\x00\x00\x00\x01d"}},
		{{"a": ""}, {"": "a"}},
		{{"": ""}, nil},
		{{"k": "v"}, {"v": "k"}},
		{{"a": "b", "c": "d"}, {"a": "d", "c": "b"}},
	}
	for _, p := range pairs {
		if bytes.Equal(ciphertext.CanonicalContext(p[0]), ciphertext.CanonicalContext(p[1])) {
			t.Errorf("CanonicalContext(%q) == CanonicalContext(%q)", p[0], p[1])
		}
	}
}

func TestSealRejectsBadHeader(t *testing.T) {
	key := testKey(0)
	badAccounts := []string{"", "11112222333", "1111222233334", "11112222333a", "+11122223333", " 11122223333",
		"１11122223333", "-11122223333"}
	for _, a := range badAccounts {
		h := testHeader
		h.Account = a
		if _, err := ciphertext.Seal(key, h, nil, nil, rand.Reader); err == nil || errors.Is(err, ciphertext.ErrInvalid) {
			t.Errorf("Seal(account %q) err = %v, want a non-ErrInvalid error", a, err)
		}
	}
	badKeyIDs := []string{"", "1234ABCD-12AB-34CD-56EF-1234567890AB", "1234abcd12ab34cd56ef1234567890ab",
		"{1234abcd-12ab-34cd-56ef-1234567890ab}", "1234abcd-12ab-34cd-56ef-1234567890a", "1234abcd-12ab-34cd-56ef-1234567890abc",
		"1234abcd-12ab-34cd-56ef_1234567890ab", "1234abcd-12ab-34cd-56eg-1234567890ab", "1234abc-d12ab-34cd-56ef-1234567890ab",
		"mrk-1234abcd12ab34cd56ef1234567890ab", "urn:uuid:1234abcd-12ab-34cd-56ef-1234567890ab", "alias/foo"}
	for _, id := range badKeyIDs {
		h := testHeader
		h.KeyID = id
		if _, err := ciphertext.Seal(key, h, nil, nil, rand.Reader); err == nil || errors.Is(err, ciphertext.ErrInvalid) {
			t.Errorf("Seal(key id %q) err = %v, want a non-ErrInvalid error", id, err)
		}
	}
	for _, h := range []ciphertext.Header{
		{Account: "000000000000", KeyID: "00000000-0000-0000-0000-000000000000", Version: 0},
		{Account: "999999999999", KeyID: "ffffffff-ffff-ffff-ffff-ffffffffffff", Version: ^uint32(0)},
	} {
		blob := mustSeal(t, key, h, nil, nil)
		if got, err := ciphertext.ParseHeader(blob); err != nil || got != h {
			t.Errorf("ParseHeader = %+v, %v; want %+v", got, err, h)
		}
	}
}

func TestKeyAndAEADErrors(t *testing.T) {
	for _, n := range []int{0, 16, 24, 31, 33} {
		key := make([]byte, n)
		if _, err := ciphertext.Seal(key, testHeader, nil, nil, rand.Reader); err == nil {
			t.Errorf("Seal with %d-byte key succeeded", n)
		}
		if _, _, err := ciphertext.Open(key, make([]byte, 100), nil); err == nil || errors.Is(err, ciphertext.ErrInvalid) {
			t.Errorf("Open with %d-byte key err = %v, want a non-ErrInvalid error", n, err)
		}
	}
	block, _ := aes.NewCipher(testKey(0))
	for _, mk := range []func() (cipher.AEAD, error){
		func() (cipher.AEAD, error) { return cipher.NewGCMWithNonceSize(block, 16) },
		func() (cipher.AEAD, error) { return cipher.NewGCMWithTagSize(block, 12) },
		func() (cipher.AEAD, error) { return nil, nil },
	} {
		aead, err := mk()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ciphertext.SealAEAD(aead, testHeader, nil, nil, rand.Reader); err == nil {
			t.Error("SealAEAD with a non-standard AEAD succeeded")
		}
		if _, _, err := ciphertext.OpenAEAD(aead, make([]byte, 100), nil); err == nil || errors.Is(err, ciphertext.ErrInvalid) {
			t.Errorf("OpenAEAD with a non-standard AEAD err = %v, want a non-ErrInvalid error", err)
		}
	}
}

func TestSealRandFailure(t *testing.T) {
	_, err := ciphertext.Seal(testKey(0), testHeader, []byte("x"), nil, bytes.NewReader([]byte{1, 2, 3}))
	if err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Seal with short rand err = %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestBlobLengthBounds(t *testing.T) {
	key := testKey(0)
	max := mustSeal(t, key, testHeader, make([]byte, ciphertext.MaxPlaintextLen), nil)
	if len(max) != ciphertext.MaxBlobLen {
		t.Fatalf("len(blob of MaxPlaintextLen) = %d, want %d", len(max), ciphertext.MaxBlobLen)
	}
	if _, err := ciphertext.Seal(key, testHeader, make([]byte, ciphertext.MaxPlaintextLen+1), nil, rand.Reader); err == nil {
		t.Fatal("Seal of MaxPlaintextLen+1 bytes succeeded")
	}
	min := mustSeal(t, key, testHeader, nil, nil)
	if len(min) != ciphertext.Overhead || ciphertext.Overhead != 57 {
		t.Fatalf("len(blob of empty plaintext) = %d, Overhead = %d, want 57", len(min), ciphertext.Overhead)
	}

	// A blob one byte too long: a valid header in front of garbage.
	tooLong := append(bytes.Clone(max), 0)
	if _, err := ciphertext.ParseHeader(tooLong); err != ciphertext.ErrInvalid {
		t.Errorf("ParseHeader(%d bytes) err = %v, want ErrInvalid", len(tooLong), err)
	}
	if _, _, err := ciphertext.Open(key, tooLong, nil); err != ciphertext.ErrInvalid {
		t.Errorf("Open(%d bytes) err = %v, want ErrInvalid", len(tooLong), err)
	}
	huge := append(bytes.Clone(max), make([]byte, 1<<20)...)
	if _, _, err := ciphertext.Open(key, huge, nil); err != ciphertext.ErrInvalid {
		t.Errorf("Open(%d bytes) err = %v, want ErrInvalid", len(huge), err)
	}
}

func TestParseHeaderTruncated(t *testing.T) {
	blob := mustSeal(t, testKey(0), testHeader, nil, nil)
	for n := 0; n < len(blob); n++ {
		if h, err := ciphertext.ParseHeader(blob[:n]); err != ciphertext.ErrInvalid || h != (ciphertext.Header{}) {
			t.Errorf("ParseHeader(first %d bytes) = %+v, %v; want zero, ErrInvalid", n, h, err)
		}
		if h, pt, err := ciphertext.Open(testKey(0), blob[:n], nil); err != ciphertext.ErrInvalid || pt != nil || h != (ciphertext.Header{}) {
			t.Errorf("Open(first %d bytes) = %+v, %q, %v; want zero, nil, ErrInvalid", n, h, pt, err)
		}
	}
	if _, err := ciphertext.ParseHeader(nil); err != ciphertext.ErrInvalid {
		t.Errorf("ParseHeader(nil) err = %v, want ErrInvalid", err)
	}
}

func TestParseHeaderRejectsOutOfRangeAccount(t *testing.T) {
	blob := mustSeal(t, testKey(0), testHeader, nil, nil)
	for _, acct := range []uint64{1_000_000_000_000, ^uint64(0)} {
		b := bytes.Clone(blob)
		binary.BigEndian.PutUint64(b[1:9], acct)
		if _, err := ciphertext.ParseHeader(b); err != ciphertext.ErrInvalid {
			t.Errorf("ParseHeader(account %d) err = %v, want ErrInvalid", acct, err)
		}
	}
}

// Known-answer vector; the same one is in docs/CIPHERTEXT.md.
const (
	katKeyHex   = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	katNonceHex = "000102030405060708090a0b"
	katPlain    = "Hello, OpenKMS!"
	katBlobHex  = "01" + // format version
		"00000019df6690e5" + // account 111122223333
		"1234abcd12ab34cd56ef1234567890ab" + // key id
		"00000007" + // material version 7
		"000102030405060708090a0b" + // nonce
		"0f67ba77aac9e254fd24f9c0fcba59" + // ciphertext
		"4ecaf87c474beca4475bc0e12b183b86" // tag
)

func TestKnownAnswer(t *testing.T) {
	key, _ := hex.DecodeString(katKeyHex)
	nonce, _ := hex.DecodeString(katNonceHex)
	blob, err := ciphertext.Seal(key, testHeader, []byte(katPlain), testCtx, bytes.NewReader(nonce))
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(blob); got != katBlobHex {
		t.Fatalf("Seal:\n got %s\nwant %s", got, katBlobHex)
	}
	h, pt, err := ciphertext.Open(key, blob, testCtx)
	if err != nil || h != testHeader || string(pt) != katPlain {
		t.Fatalf("Open = %+v, %q, %v; want %+v, %q, nil", h, pt, err, testHeader, katPlain)
	}
}

// TestKnownAnswerByTheDoc opens the known-answer blob the way
// docs/CIPHERTEXT.md tells a customer to, using only crypto/aes and
// crypto/cipher and a hand-written context encoding — no package code — to
// prove the document is right.
func TestKnownAnswerByTheDoc(t *testing.T) {
	key, _ := hex.DecodeString(katKeyHex)
	blob, _ := hex.DecodeString(katBlobHex)

	// Layout: version(1) | account(8, BE) | key id(16) | material version(4, BE) | nonce(12) | ciphertext || tag(16).
	if blob[0] != 1 {
		t.Fatalf("format version = %d, want 1", blob[0])
	}
	header, nonce, sealed := blob[:29], blob[29:41], blob[41:]
	if got := binary.BigEndian.Uint64(header[1:9]); got != 111122223333 {
		t.Errorf("account = %d, want 111122223333", got)
	}
	wantID, _ := hex.DecodeString(strings.ReplaceAll(testHeader.KeyID, "-", ""))
	if !bytes.Equal(header[9:25], wantID) {
		t.Errorf("key id = %x, want %x", header[9:25], wantID)
	}
	if got := binary.BigEndian.Uint32(header[25:29]); got != 7 {
		t.Errorf("material version = %d, want 7", got)
	}

	// Context {"purpose":"test","department":"10"}: sorted by key, each
	// key and value with a 4-byte big-endian length.
	ctx := []byte("\x00\x00\x00\x0adepartment\x00\x00\x00\x0210" +
		"\x00\x00\x00\x07purpose\x00\x00\x00\x04test")
	aad := append(bytes.Clone(header), ctx...)

	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := gcm.Open(nil, nonce, sealed, aad)
	if err != nil {
		t.Fatalf("decrypting the known-answer blob per the doc: %v", err)
	}
	if string(pt) != katPlain {
		t.Fatalf("plaintext = %q, want %q", pt, katPlain)
	}
	if got := ciphertext.CanonicalContext(testCtx); !bytes.Equal(got, ctx) {
		t.Errorf("CanonicalContext = %x, want %x", got, ctx)
	}
}

func TestAEADVariantsMatchKeyVariants(t *testing.T) {
	key, _ := hex.DecodeString(katKeyHex)
	nonce, _ := hex.DecodeString(katNonceHex)
	aead, err := ciphertext.NewAEAD(key)
	if err != nil {
		t.Fatal(err)
	}
	blob, err := ciphertext.SealAEAD(aead, testHeader, []byte(katPlain), testCtx, bytes.NewReader(nonce))
	if err != nil || hex.EncodeToString(blob) != katBlobHex {
		t.Fatalf("SealAEAD = %x, %v; want %s", blob, err, katBlobHex)
	}
	if _, pt, err := ciphertext.OpenAEAD(aead, blob, testCtx); err != nil || string(pt) != katPlain {
		t.Fatalf("OpenAEAD = %q, %v", pt, err)
	}
}

func TestOpenDoesNotAliasInput(t *testing.T) {
	key := testKey(0)
	pt := []byte("plaintext")
	blob := mustSeal(t, key, testHeader, pt, testCtx)
	saved := bytes.Clone(blob)
	_, got, err := ciphertext.Open(key, blob, testCtx)
	if err != nil {
		t.Fatal(err)
	}
	got[0] ^= 0xff
	if !bytes.Equal(blob, saved) {
		t.Fatal("Open's plaintext aliases the blob")
	}
	pt[0] ^= 0xff
	if !bytes.Equal(blob, saved) {
		t.Fatal("Seal's blob aliases the plaintext")
	}
}

func TestAllocations(t *testing.T) {
	aead, _ := ciphertext.NewAEAD(testKey(0))
	pt := make([]byte, 256)
	blob := mustSeal(t, testKey(0), testHeader, pt, testCtx)
	var zero zeroReader
	if n := testing.AllocsPerRun(100, func() {
		_, _ = ciphertext.SealAEAD(aead, testHeader, pt, testCtx, zero)
	}); n > 1 {
		t.Errorf("SealAEAD allocs = %v, want <= 1", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		_, _, _ = ciphertext.OpenAEAD(aead, blob, testCtx)
	}); n > 3 { // plaintext+AAD, and the two header strings
		t.Errorf("OpenAEAD allocs = %v, want <= 3", n)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func benchmarkSetup(b *testing.B) (cipher.AEAD, []byte, []byte) {
	aead, err := ciphertext.NewAEAD(testKey(0))
	if err != nil {
		b.Fatal(err)
	}
	pt := make([]byte, 256)
	blob, err := ciphertext.SealAEAD(aead, testHeader, pt, testCtx, rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	return aead, pt, blob
}

func BenchmarkSealAEAD(b *testing.B) {
	aead, pt, _ := benchmarkSetup(b)
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ciphertext.SealAEAD(aead, testHeader, pt, testCtx, rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenAEAD(b *testing.B) {
	aead, pt, blob := benchmarkSetup(b)
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ciphertext.OpenAEAD(aead, blob, testCtx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	key := testKey(0)
	_, pt, _ := benchmarkSetup(b)
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ciphertext.Seal(key, testHeader, pt, testCtx, rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	key := testKey(0)
	_, pt, blob := benchmarkSetup(b)
	b.SetBytes(int64(len(pt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ciphertext.Open(key, blob, testCtx); err != nil {
			b.Fatal(err)
		}
	}
}
