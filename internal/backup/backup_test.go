package backup

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/openkms/openkms/internal/rootkey"
	"github.com/openkms/openkms/internal/storage"
	"github.com/openkms/openkms/internal/storage/boltstore"
)

func newSealer(t testing.TB, b byte) rootkey.Sealer {
	t.Helper()
	s, err := rootkey.NewAESGCMSealer(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newStore(t testing.TB) storage.Store {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "test.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func put(t testing.TB, s storage.Store, kv map[string][]byte) {
	t.Helper()
	err := s.Update(context.Background(), func(w storage.Writer) error {
		for k, v := range kv {
			if err := w.Put(k, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func dump(t testing.TB, s storage.Store) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	err := s.View(context.Background(), func(r storage.Reader) error {
		return r.Scan("", "", func(k string, v []byte) (bool, error) {
			m[k] = append([]byte{}, v...)
			return true, nil
		})
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	return m
}

func sameContents(t testing.TB, got, want map[string][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || !bytes.Equal(g, v) {
			t.Fatalf("record %q: got %d bytes (present %v), want %d bytes", k, len(g), ok, len(v))
		}
	}
}

// sample is a store's worth of records that spans several chunks: many
// small records, binary and empty values, a key of the maximum length and
// a value larger than ChunkSize.
func sample() map[string][]byte {
	m := map[string][]byte{
		"meta/root-key-check":                  []byte("sealed"),
		"a/us-east-1/111122223333/alias/x":     {},
		"bin":                                  {0, 1, 2, 0xff, 0},
		strings.Repeat("k", storage.MaxKeyLen): []byte("longest key"),
		"z/big":                                bytes.Repeat([]byte{0xab}, ChunkSize+12345),
	}
	for i := range 3000 {
		m[fmt.Sprintf("k/us-east-1/111122223333/%06d", i)] = bytes.Repeat([]byte{byte(i)}, 300+i%200)
	}
	return m
}

func writeBackup(t testing.TB, s storage.Store, sealer rootkey.Sealer) ([]byte, Stats) {
	t.Helper()
	var buf bytes.Buffer
	st, err := Write(context.Background(), &buf, s, sealer)
	if err != nil {
		t.Fatalf("Write: got error %v, want nil", err)
	}
	if st.Size != int64(buf.Len()) {
		t.Fatalf("Write: got Size %d, want %d", st.Size, buf.Len())
	}
	return buf.Bytes(), st
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	sealer := newSealer(t, 1)
	src := newStore(t)
	want := sample()
	put(t, src, want)

	b, st := writeBackup(t, src, sealer)
	if st.Records != int64(len(want)) {
		t.Fatalf("Write: got %d records, want %d", st.Records, len(want))
	}
	if st.Chunks < 3 {
		t.Fatalf("Write: got %d chunks, want at least 3 (the sample spans several)", st.Chunks)
	}
	if !bytes.HasPrefix(b, []byte(Magic)) {
		t.Fatalf("backup starts with %q, want %q", b[:14], Magic)
	}
	// The values never appear in the clear.
	if bytes.Contains(b, []byte("longest key")) || bytes.Contains(b, []byte("root-key-check")) {
		t.Fatal("backup contains a key or value in the clear, want every chunk sealed")
	}

	vst, err := Verify(ctx, bytes.NewReader(b), sealer)
	if err != nil {
		t.Fatalf("Verify: got error %v, want nil", err)
	}
	if vst != st {
		t.Fatalf("Verify: got %+v, want %+v", vst, st)
	}
	info, err := Inspect(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("Inspect: got error %v, want nil", err)
	}
	if info.ID != st.ID || info.Chunks != st.Chunks || info.Size != st.Size || !info.Created.Equal(st.Created) {
		t.Fatalf("Inspect: got %+v, want id %s, %d chunks, %d bytes", info, st.ID, st.Chunks, st.Size)
	}

	dst := newStore(t)
	rst, err := Restore(ctx, bytes.NewReader(b), dst, sealer, &RestoreOptions{BatchSize: 100})
	if err != nil {
		t.Fatalf("Restore: got error %v, want nil", err)
	}
	if rst.Records != st.Records || rst.Bytes != st.Bytes {
		t.Fatalf("Restore: got %+v, want %+v", rst, st)
	}
	sameContents(t, dump(t, dst), want)
}

func TestEmptyStore(t *testing.T) {
	sealer := newSealer(t, 1)
	b, st := writeBackup(t, newStore(t), sealer)
	if st.Records != 0 || st.Chunks != 0 {
		t.Fatalf("Write: got %+v, want no records and no data chunks", st)
	}
	dst := newStore(t)
	if _, err := Restore(context.Background(), bytes.NewReader(b), dst, sealer, nil); err != nil {
		t.Fatalf("Restore: got error %v, want nil", err)
	}
	sameContents(t, dump(t, dst), map[string][]byte{})
}

// TestSnapshot writes to the store while a backup is being streamed; the
// backup holds the store as it was when the backup began.
func TestSnapshot(t *testing.T) {
	ctx := context.Background()
	sealer := newSealer(t, 1)
	src := newStore(t)
	want := sample()
	put(t, src, want)

	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := Write(ctx, pw, src, sealer)
		pw.CloseWithError(err)
		done <- err
	}()
	var buf bytes.Buffer
	if _, err := io.CopyN(&buf, pr, 100); err != nil {
		t.Fatal(err)
	}
	// The View is open now; these writes are not in its snapshot.
	put(t, src, map[string][]byte{"k/us-east-1/111122223333/000001": []byte("changed"), "new": []byte("new")})
	if _, err := io.Copy(&buf, pr); err != nil {
		t.Fatalf("reading the backup: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Write: got error %v, want nil", err)
	}
	dst := newStore(t)
	if _, err := Restore(ctx, &buf, dst, sealer, nil); err != nil {
		t.Fatalf("Restore: got error %v, want nil", err)
	}
	sameContents(t, dump(t, dst), want)
}

// smallChunks makes Write seal 4 KiB chunks until the test ends.
func smallChunks(t testing.TB) {
	chunkSize = 4 << 10
	t.Cleanup(func() { chunkSize = ChunkSize })
}

// small returns a backup of a few records in three data chunks.
func small(t testing.TB, sealer rootkey.Sealer) []byte {
	t.Helper()
	smallChunks(t)
	s := newStore(t)
	put(t, s, map[string][]byte{
		"a": bytes.Repeat([]byte{1}, chunkSize-100),
		"b": bytes.Repeat([]byte{2}, chunkSize-100),
		"c": bytes.Repeat([]byte{3}, 200),
	})
	b, st := writeBackup(t, s, sealer)
	if st.Chunks != 3 {
		t.Fatalf("got %d chunks, want 3", st.Chunks)
	}
	return b
}

// frames splits a backup into its header and frames.
func frames(t testing.TB, b []byte) (hdr []byte, fr [][]byte) {
	t.Helper()
	n := fixedHdrLen + 2 + int(binary.BigEndian.Uint16(b[fixedHdrLen:]))
	hdr, b = b[:n], b[n:]
	for len(b) > 0 {
		l := 5 + int(binary.BigEndian.Uint32(b[1:5]))
		fr, b = append(fr, b[:l]), b[l:]
	}
	return hdr, fr
}

func join(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func wantRefused(t *testing.T, name string, b []byte, sealer rootkey.Sealer, want error) {
	t.Helper()
	_, err := Verify(context.Background(), bytes.NewReader(b), sealer)
	if !errors.Is(err, want) {
		t.Fatalf("%s: Verify got error %v, want %v", name, err, want)
	}
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("%s: got %T, want *FormatError", name, err)
	}
}

func TestTampering(t *testing.T) {
	sealer := newSealer(t, 1)
	b := small(t, sealer)
	other := small(t, sealer)
	hdr, fr := frames(t, b)
	_, ofr := frames(t, other)
	if len(fr) != 4 {
		t.Fatalf("got %d frames, want 4", len(fr))
	}
	flip := func(i int) []byte {
		c := bytes.Clone(b)
		c[i] ^= 0x01
		return c
	}
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"magic", flip(0), ErrNotBackup},
		{"version", flip(len(Magic) + 1), ErrVersion},
		{"id", flip(len(Magic) + 2), ErrWrongRootKey},
		{"created", flip(fixedHdrLen - 1), ErrWrongRootKey},
		{"key check", flip(fixedHdrLen + 10), ErrWrongRootKey},
		{"chunk byte", flip(len(hdr) + 100), ErrTampered},
		{"kind data→final", func() []byte { c := bytes.Clone(b); c[len(hdr)] = kindFinal; return c }(), ErrTampered},
		{"kind unknown", func() []byte { c := bytes.Clone(b); c[len(hdr)] = 'X'; return c }(), ErrTampered},
		{"reordered", join(hdr, fr[1], fr[0], fr[2], fr[3]), ErrTampered},
		{"duplicated", join(hdr, fr[0], fr[0], fr[1], fr[2], fr[3]), ErrTampered},
		{"chunk dropped", join(hdr, fr[0], fr[1], fr[3]), ErrTampered},
		{"spliced chunk", join(hdr, fr[0], ofr[1], fr[2], fr[3]), ErrTampered},
		{"spliced final", join(hdr, fr[0], fr[1], fr[2], ofr[3]), ErrTampered},
		{"final missing", join(hdr, fr[0], fr[1], fr[2]), ErrTruncated},
		{"data after final", join(b, []byte{0}), ErrTampered},
		{"backup after final", join(b, b), ErrTampered},
		{"empty", nil, ErrNotBackup},
		{"zero length chunk", join(hdr, []byte{kindData, 0, 0, 0, 0}), ErrTampered},
		{"huge chunk", join(hdr, []byte{kindData, 0xff, 0xff, 0xff, 0xff}), ErrTampered},
	}
	for _, c := range cases {
		wantRefused(t, c.name, c.b, sealer, c.want)
	}
	wantRefused(t, "other root key", b, newSealer(t, 2), ErrWrongRootKey)
}

// TestTruncation cuts the backup at every length up to the first chunk and
// near the end, and at every seventh length in between.
func TestTruncation(t *testing.T) {
	sealer := newSealer(t, 1)
	b := small(t, sealer)
	for n := 0; n < len(b); n++ {
		if n > 300 && n%7 != 0 && n < len(b)-100 {
			continue
		}
		if _, err := Verify(context.Background(), bytes.NewReader(b[:n]), sealer); err == nil {
			t.Fatalf("Verify(first %d of %d bytes): got nil error, want one", n, len(b))
		}
		if _, err := Inspect(bytes.NewReader(b[:n])); err == nil {
			t.Fatalf("Inspect(first %d of %d bytes): got nil error, want one", n, len(b))
		}
	}
}

func TestRestoreRefusesNonEmpty(t *testing.T) {
	ctx := context.Background()
	sealer := newSealer(t, 1)
	src := newStore(t)
	put(t, src, map[string][]byte{"a": []byte("1"), "b": []byte("2")})
	b, _ := writeBackup(t, src, sealer)

	dst := newStore(t)
	put(t, dst, map[string][]byte{"old": []byte("x"), "b": []byte("old b")})
	if _, err := Restore(ctx, bytes.NewReader(b), dst, sealer, nil); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("Restore into a non-empty store: got error %v, want ErrNotEmpty", err)
	}
	sameContents(t, dump(t, dst), map[string][]byte{"old": []byte("x"), "b": []byte("old b")})

	// Force, but a damaged backup: the store is untouched.
	bad := bytes.Clone(b)
	bad[len(bad)-3] ^= 1
	if _, err := Restore(ctx, bytes.NewReader(bad), dst, sealer, &RestoreOptions{Force: true}); !errors.Is(err, ErrTampered) {
		t.Fatalf("Restore of a damaged backup: got error %v, want ErrTampered", err)
	}
	sameContents(t, dump(t, dst), map[string][]byte{"old": []byte("x"), "b": []byte("old b")})

	// Force replaces the contents.
	if _, err := Restore(ctx, bytes.NewReader(b), dst, sealer, &RestoreOptions{Force: true, BatchSize: 1}); err != nil {
		t.Fatalf("Restore with Force: got error %v, want nil", err)
	}
	sameContents(t, dump(t, dst), dump(t, src))
}

// onlyReader hides Seek, so Restore has to spool.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestRestoreSpools(t *testing.T) {
	sealer := newSealer(t, 1)
	src := newStore(t)
	want := sample()
	put(t, src, want)
	b, _ := writeBackup(t, src, sealer)
	tmp := t.TempDir()
	dst := newStore(t)
	if _, err := Restore(context.Background(), onlyReader{bytes.NewReader(b)}, dst, sealer, &RestoreOptions{TempDir: tmp}); err != nil {
		t.Fatalf("Restore: got error %v, want nil", err)
	}
	sameContents(t, dump(t, dst), want)
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Fatalf("temporary directory: got %d entries left, want 0", len(ents))
	}
}

// failingStore fails every Update after the first n.
type failingStore struct {
	storage.Store
	mu sync.Mutex
	n  int
}

var errInjected = errors.New("injected storage failure")

func (f *failingStore) Update(ctx context.Context, fn func(storage.Writer) error) error {
	f.mu.Lock()
	f.n--
	fail := f.n < 0
	f.mu.Unlock()
	if fail {
		return errInjected
	}
	return f.Store.Update(ctx, fn)
}

func TestRestoreInterrupted(t *testing.T) {
	ctx := context.Background()
	sealer := newSealer(t, 1)
	src := newStore(t)
	want := sample()
	put(t, src, want)
	b, _ := writeBackup(t, src, sealer)

	dst := newStore(t)
	// The marker, then two batches of 1000, then failure.
	_, err := Restore(ctx, bytes.NewReader(b), &failingStore{Store: dst, n: 3}, sealer, &RestoreOptions{BatchSize: 1000})
	var ie *IncompleteError
	if !errors.As(err, &ie) || !errors.Is(err, ErrIncomplete) || !errors.Is(err, errInjected) {
		t.Fatalf("interrupted Restore: got error %v, want an *IncompleteError wrapping ErrIncomplete and the cause", err)
	}
	if ie.Written != 2000 || ie.Total != int64(len(want)) {
		t.Fatalf("IncompleteError: got %d of %d written, want 2000 of %d", ie.Written, ie.Total, len(want))
	}
	if _, ok := dump(t, dst)[IncompleteKey]; !ok {
		t.Fatalf("partially restored store: %s missing, want it present", IncompleteKey)
	}
	if _, err := Write(ctx, io.Discard, dst, sealer); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("Write of a partially restored store: got error %v, want ErrIncomplete", err)
	}
	if _, err := Restore(ctx, bytes.NewReader(b), dst, sealer, nil); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("Restore without Force over a partial restore: got error %v, want ErrNotEmpty", err)
	}
	if _, err := Restore(ctx, bytes.NewReader(b), dst, sealer, &RestoreOptions{Force: true}); err != nil {
		t.Fatalf("Restore with Force: got error %v, want nil", err)
	}
	sameContents(t, dump(t, dst), want)
}

func TestCopy(t *testing.T) {
	ctx := context.Background()
	src := newStore(t)
	want := sample()
	put(t, src, want)
	dst := newStore(t)
	st, err := Copy(ctx, src, dst)
	if err != nil {
		t.Fatalf("Copy: got error %v, want nil", err)
	}
	if st.Records != int64(len(want)) {
		t.Fatalf("Copy: got %d records, want %d", st.Records, len(want))
	}
	sameContents(t, dump(t, dst), want)
	if _, err := Copy(ctx, src, dst); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("Copy into a non-empty store: got error %v, want ErrNotEmpty", err)
	}

	part := newStore(t)
	_, err = Copy(ctx, src, &failingStore{Store: part, n: 2})
	if !errors.Is(err, ErrIncomplete) || !errors.Is(err, errInjected) {
		t.Fatalf("interrupted Copy: got error %v, want ErrIncomplete and the cause", err)
	}
	if _, err := Copy(ctx, part, newStore(t)); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("Copy from a partially copied store: got error %v, want ErrIncomplete", err)
	}
}

func TestErrorNamesTheProblem(t *testing.T) {
	sealer := newSealer(t, 1)
	b := small(t, sealer)
	hdr, _ := frames(t, b)
	c := bytes.Clone(b)
	c[len(hdr)+50] ^= 0x80
	_, err := Verify(context.Background(), bytes.NewReader(c), sealer)
	const want = "backup: the backup was modified: chunk 0 at byte"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("got error %v, want one starting %q", err, want)
	}
}
