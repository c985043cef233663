package backup

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"testing"

	"github.com/openkms/openkms/internal/storage"
)

// goldenFile is a version-1 backup of goldenRecords, sealed under
// newSealer(t, 1). It is the format's compatibility vector: every later
// build must restore it. Regenerate (only for a new format version) with
// go test ./internal/backup -run TestGolden -args -update.
const goldenFile = "testdata/backup-v1.bin"

var update = flag.Bool("update", false, "rewrite "+goldenFile)

var goldenRecords = map[string][]byte{
	"a":             []byte("1"),
	"meta/check":    bytes.Repeat([]byte{7}, 100),
	"z/last-record": {},
}

func TestGolden(t *testing.T) {
	sealer := newSealer(t, 1)
	if *update {
		s := newStore(t)
		put(t, s, goldenRecords)
		b, _ := writeBackup(t, s, sealer)
		if err := os.WriteFile(goldenFile, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	dst := newStore(t)
	st, err := Restore(context.Background(), bytes.NewReader(b), dst, sealer, nil)
	if err != nil {
		t.Fatalf("Restore(%s): got error %v, want nil", goldenFile, err)
	}
	if st.Records != int64(len(goldenRecords)) {
		t.Fatalf("Restore(%s): got %d records, want %d", goldenFile, st.Records, len(goldenRecords))
	}
	sameContents(t, dump(t, dst), goldenRecords)
}

// fuzzSeeds adds the golden backup and damaged variants, and returns it.
func fuzzSeeds(f *testing.F) []byte {
	valid, err := os.ReadFile(goldenFile)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)-1])
	f.Add(valid[:fixedHdrLen+10])
	f.Add([]byte(Magic))
	f.Add([]byte{})
	f.Add(append(bytes.Clone(valid), 'D', 0, 0, 0, 1, 0))
	return valid
}

// FuzzVerify: attacker-controlled backups never panic, and nothing but the
// genuine backup verifies (forging a chunk needs the root key).
func FuzzVerify(f *testing.F) {
	valid := fuzzSeeds(f)
	sealer := newSealer(f, 1)
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := Verify(context.Background(), bytes.NewReader(b), sealer)
		if err == nil {
			if !bytes.Equal(b, valid) {
				t.Fatalf("Verify accepted %d bytes that are not the genuine backup", len(b))
			}
			if st.Records != 3 {
				t.Fatalf("got %d records, want 3", st.Records)
			}
			return
		}
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Fatalf("got error %T %v, want a *FormatError", err, err)
		}
	})
}

// FuzzInspect: the structural check never panics and accepts only inputs
// that end with a final chunk.
func FuzzInspect(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := Inspect(bytes.NewReader(b))
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("got error %T %v, want a *FormatError", err, err)
			}
			return
		}
		if info.Size != int64(len(b)) {
			t.Fatalf("Inspect accepted %d bytes but reports Size %d", len(b), info.Size)
		}
	})
}

// FuzzRestore: a restore of attacker-controlled input never panics and,
// failing verification, never writes.
func FuzzRestore(f *testing.F) {
	fuzzSeeds(f)
	sealer := newSealer(f, 1)
	f.Fuzz(func(t *testing.T, b []byte) {
		s := newStore(t)
		_, err := Restore(context.Background(), bytes.NewReader(b), s, sealer, nil)
		if err != nil {
			empty, _ := isEmpty(context.Background(), s)
			if !empty {
				t.Fatalf("failed Restore (%v) wrote to the store", err)
			}
		}
	})
}

var _ storage.Store = (*failingStore)(nil)
