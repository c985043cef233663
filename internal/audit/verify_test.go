package audit

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// tamperBase is a log of three files, written once and copied by each test.
var tamperBase struct {
	once sync.Once
	dir  string
}

func baseLog(t *testing.T) string {
	tamperBase.once.Do(func() {
		dir, err := os.MkdirTemp("", "audit-tamper-*")
		if err != nil {
			t.Fatal(err)
		}
		for run := range 3 { // one file per run
			l := openLog(t, dir, Config{DigestEvery: 5}, FileOptions{})
			for i := range 14 {
				if err := l.Log(context.Background(), sampleEvent(run*100+i)); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		}
		tamperBase.dir = dir
	})
	if tamperBase.dir == "" {
		t.Fatal("base log not created")
	}
	return copyDir(t, tamperBase.dir)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if tamperBase.dir != "" {
		os.RemoveAll(tamperBase.dir)
	}
	os.Exit(code)
}

func mustTime(testing.TB) time.Time { return time.Date(2026, 11, 28, 16, 0, 0, 0, time.UTC) }

func isDigest(line []byte) bool { return bytes.Contains(line, []byte(`"recordType":"OpenKMSDigest"`)) }

func seqOf(t *testing.T, line []byte) uint64 {
	t.Helper()
	p, err := parseLine(line)
	if err != nil {
		t.Fatalf("parse %s: %v", line, err)
	}
	return p.seq
}

// errorsOf returns the error-severity issues.
func errorsOf(rep Report) []Issue {
	var out []Issue
	for _, i := range rep.Issues {
		if i.Severity == SeverityError {
			out = append(out, i)
		}
	}
	return out
}

// wantOneError checks that the report has exactly one error, of kind k at
// file/line, for seq.
func wantOneError(t *testing.T, rep Report, k IssueKind, file string, line int, seq uint64) {
	t.Helper()
	errs := errorsOf(rep)
	if len(errs) != 1 {
		t.Fatalf("got %d errors, want exactly one %s:\n%s", len(errs), k, rep)
	}
	got := errs[0]
	if got.Kind != k || got.File != file || got.Line != line || got.Seq != seq {
		t.Fatalf("got %q, want %s at %s line %d, seq %d\n%s", got, k, file, line, seq, rep)
	}
	t.Logf("reported: %s", got)
}

func verify(t *testing.T, dir string) Report {
	t.Helper()
	rep, err := Verify(dir, pubKey(t, dir))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return rep
}

func TestVerifyClean(t *testing.T) {
	dir := baseLog(t)
	rep := verify(t, dir)
	if len(rep.Issues) != 0 || len(rep.Files) != 3 || rep.Records != 42 || rep.SignedThrough != rep.LastSeq {
		t.Fatalf("clean log:\n%s", rep)
	}
	for _, f := range rep.Files {
		if !f.Closed || f.Torn {
			t.Errorf("file %+v: want closed, not torn", f)
		}
	}
}

// middle picks a file, its lines, and an event line in the middle of it.
func middle(t *testing.T, dir string, fileIdx int) (name string, lines [][]byte, i int) {
	t.Helper()
	name = logFileNames(t, dir)[fileIdx]
	lines, _ = readLines(t, filepath.Join(dir, name))
	for i = len(lines) / 2; isDigest(lines[i]) || isDigest(lines[i+1]); i++ {
	}
	return name, lines, i
}

func TestVerifyModifiedByte(t *testing.T) {
	dir := baseLog(t)
	name, lines, i := middle(t, dir, 0)
	seq := seqOf(t, lines[i])
	lines[i] = bytes.Replace(lines[i], []byte("test/"), []byte("tesT/"), 1)
	writeLines(t, filepath.Join(dir, name), lines)
	wantOneError(t, verify(t, dir), IssueModified, name, i+1, seq)
}

func TestVerifyModifiedToGarbage(t *testing.T) {
	dir := baseLog(t)
	name, lines, i := middle(t, dir, 1)
	seq := seqOf(t, lines[i])
	lines[i][0] = 'X' // no longer JSON
	writeLines(t, filepath.Join(dir, name), lines)
	wantOneError(t, verify(t, dir), IssueModified, name, i+1, seq)
}

func TestVerifyDeletedLine(t *testing.T) {
	dir := baseLog(t)
	name, lines, i := middle(t, dir, 1)
	seq := seqOf(t, lines[i])
	lines = slices.Delete(lines, i, i+1)
	writeLines(t, filepath.Join(dir, name), lines)
	rep := verify(t, dir)
	wantOneError(t, rep, IssueDeleted, name, i+1, seq)
	if d := errorsOf(rep)[0]; d.SeqEnd != seq {
		t.Errorf("deleted range: got %d..%d, want %d..%d", d.Seq, d.SeqEnd, seq, seq)
	}
}

func TestVerifyDeletedLines(t *testing.T) {
	dir := baseLog(t)
	name, lines, i := middle(t, dir, 0)
	seq := seqOf(t, lines[i])
	lines = slices.Delete(lines, i, i+3)
	writeLines(t, filepath.Join(dir, name), lines)
	rep := verify(t, dir)
	wantOneError(t, rep, IssueDeleted, name, i+1, seq)
	if d := errorsOf(rep)[0]; d.SeqEnd != seq+2 {
		t.Errorf("deleted range: got %d..%d, want %d..%d", d.Seq, d.SeqEnd, seq, seq+2)
	}
}

func TestVerifyInsertedReplay(t *testing.T) {
	dir := baseLog(t)
	name, lines, i := middle(t, dir, 0)
	replayed := slices.Clone(lines[1])
	lines = slices.Insert(lines, i, replayed)
	writeLines(t, filepath.Join(dir, name), lines)
	wantOneError(t, verify(t, dir), IssueInserted, name, i+1, seqOf(t, replayed))
}

// TestVerifyInsertedForgery inserts a well-formed record that links to its
// predecessor with the next seq: the chain continues from the genuine one.
func TestVerifyInsertedForgery(t *testing.T) {
	dir := baseLog(t)
	name, lines, i := middle(t, dir, 2)
	prev, err := parseLine(lines[i])
	if err != nil {
		t.Fatal(err)
	}
	body, err := cutBody(sampleEvent(999).normalize(mustTime(t)))
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := chainLine(body, prev.seq+1, prev.hash)
	lines = slices.Insert(lines, i+1, forged)
	writeLines(t, filepath.Join(dir, name), lines)
	wantOneError(t, verify(t, dir), IssueInserted, name, i+2, prev.seq+1)
}

func TestVerifyInsertedGarbage(t *testing.T) {
	dir := baseLog(t)
	name, lines, i := middle(t, dir, 0)
	lines = slices.Insert(lines, i, []byte(`{"eventName":"Decrypt","note":"forged"}`))
	writeLines(t, filepath.Join(dir, name), lines)
	wantOneError(t, verify(t, dir), IssueInserted, name, i+1, 0)
}

func TestVerifySwappedLines(t *testing.T) {
	dir := baseLog(t)
	name, lines, i := middle(t, dir, 1)
	seq := seqOf(t, lines[i])
	lines[i], lines[i+1] = lines[i+1], lines[i]
	writeLines(t, filepath.Join(dir, name), lines)
	wantOneError(t, verify(t, dir), IssueReordered, name, i+1, seq+1)
}

// TestVerifyMovedFar moves a record much further than the look-ahead
// window: still one reordered record, no deletion.
func TestVerifyMovedFar(t *testing.T) {
	dir := baseLog(t)
	names := logFileNames(t, dir)
	_, lines0, i := middle(t, dir, 0)
	seq := seqOf(t, lines0[i])
	moved := lines0[i]
	lines0 = slices.Delete(lines0, i, i+1)
	writeLines(t, filepath.Join(dir, names[0]), lines0)
	lines2, _ := readLines(t, filepath.Join(dir, names[2]))
	lines2 = slices.Insert(lines2, 3, moved)
	writeLines(t, filepath.Join(dir, names[2]), lines2)
	rep := verify(t, dir)
	errs := errorsOf(rep)
	if len(errs) > 2 || rep.IssuesOf(IssueDeleted) != nil {
		t.Fatalf("got %d errors, want the move reported as reordering only:\n%s", len(errs), rep)
	}
	re := rep.IssuesOf(IssueReordered)
	if len(re) != 1 || re[0].Seq != seq || re[0].File != names[2] || re[0].Line != 4 {
		t.Fatalf("got %v, want seq %d reordered at %s line 4\n%s", re, seq, names[2], rep)
	}
}

func TestVerifyTruncatedMidLine(t *testing.T) {
	dir := baseLog(t)
	names := logFileNames(t, dir)
	name := names[len(names)-1]
	lines, _ := readLines(t, filepath.Join(dir, name))
	path := filepath.Join(dir, name)
	full, _ := os.ReadFile(path)
	cut := len(full) - len(lines[len(lines)-1])/2
	if err := os.Truncate(path, int64(cut)); err != nil {
		t.Fatal(err)
	}
	rep := verify(t, dir)
	if !rep.OK() {
		t.Fatalf("a torn last line must be a warning, not an error:\n%s", rep)
	}
	tr := rep.IssuesOf(IssueTruncated)
	if len(tr) != 1 || tr[0].File != name || tr[0].Line != len(lines) || tr[0].Severity != SeverityWarning {
		t.Fatalf("got %v, want a truncation warning at %s line %d\n%s", tr, name, len(lines), rep)
	}
	if len(rep.IssuesOf(IssueUnclosedFile)) != 1 {
		t.Errorf("want the file reported unclosed (its closing digest is gone):\n%s", rep)
	}
}

func TestVerifyMissingMiddleFile(t *testing.T) {
	dir := baseLog(t)
	names := logFileNames(t, dir)
	lines, _ := readLines(t, filepath.Join(dir, names[1]))
	first, last := seqOf(t, lines[0]), seqOf(t, lines[len(lines)-1])
	if err := os.Remove(filepath.Join(dir, names[1])); err != nil {
		t.Fatal(err)
	}
	rep := verify(t, dir)
	errs := errorsOf(rep)
	if len(errs) != 1 || errs[0].Kind != IssueMissingFile || errs[0].Seq != first || errs[0].SeqEnd != last ||
		!strings.Contains(errs[0].Detail, "index 2") {
		t.Fatalf("got %v, want one missing-file error for index 2, seq %d..%d\n%s", errs, first, last, rep)
	}
	t.Logf("reported: %s", errs[0])
}

func TestVerifyMissingFirstFile(t *testing.T) {
	dir := baseLog(t)
	names := logFileNames(t, dir)
	os.Remove(filepath.Join(dir, names[0]))
	rep := verify(t, dir)
	if !rep.OK() || len(rep.IssuesOf(IssueMissingFile)) == 0 {
		t.Fatalf("expired first file: want a missing-file warning only:\n%s", rep)
	}
}

func TestVerifyAlteredDigestSignature(t *testing.T) {
	dir := baseLog(t)
	name := logFileNames(t, dir)[1]
	lines, _ := readLines(t, filepath.Join(dir, name))
	i := 3
	for !isDigest(lines[i]) {
		i++
	}
	seq := seqOf(t, lines[i])
	j := bytes.Index(lines[i], []byte(`"signature":"`)) + len(`"signature":"`) + 5
	lines[i][j] ^= 'A' ^ 'B'
	if lines[i][j] == lines[i][j]^('A'^'B') {
		t.Fatal("no change")
	}
	writeLines(t, filepath.Join(dir, name), lines)
	rep := verify(t, dir)
	bad := rep.IssuesOf(IssueBadSignature)
	if len(bad) != 1 || bad[0].Seq != seq || bad[0].File != name || bad[0].Line != i+1 {
		t.Fatalf("got %v, want a bad signature at seq %d, %s line %d\n%s", bad, seq, name, i+1, rep)
	}
	if rep.OK() {
		t.Fatal("report OK with a bad signature")
	}
}

// rechain recomputes the chain of lines from prevHash, as a forger who
// knows the format (but not the signing key) would.
func rechain(t *testing.T, lines [][]byte, prevHash string) string {
	for k, line := range lines {
		p, err := parseLine(line)
		if err != nil {
			t.Fatal(err)
		}
		cut := bytes.LastIndex(line, []byte(`,"chain":{`))
		lines[k], prevHash = chainLine(slices.Clone(line[:cut]), p.seq, prevHash)
	}
	return prevHash
}

// TestVerifyRehashedForgery modifies a record and recomputes every hash
// after it: the hash chain is consistent again, but the next digest's
// signature no longer verifies.
func TestVerifyRehashedForgery(t *testing.T) {
	dir := baseLog(t)
	names := logFileNames(t, dir)
	name, lines, i := middle(t, dir, 0)
	lines[i] = bytes.Replace(lines[i], []byte(`"outcome":"allowed"`), []byte(`"outcome":"denied"`), 1)
	prev, _ := parseLine(lines[i-1])
	h := rechain(t, lines[i:], prev.hash)
	writeLines(t, filepath.Join(dir, name), lines)
	for _, n := range names[1:] {
		ls, _ := readLines(t, filepath.Join(dir, n))
		h = rechain(t, ls, h)
		writeLines(t, filepath.Join(dir, n), ls)
	}
	rep := verify(t, dir)
	if len(rep.IssuesOf(IssueModified)) != 0 || len(rep.IssuesOf(IssueBrokenLink)) != 0 {
		t.Fatalf("the re-hashed chain should be consistent:\n%s", rep)
	}
	bad := rep.IssuesOf(IssueBadSignature)
	j := i + 1
	for !isDigest(lines[j]) {
		j++
	}
	if len(bad) == 0 || bad[0].File != name || bad[0].Line != j+1 {
		t.Fatalf("got %v, want the first bad signature at %s line %d\n%s", bad, name, j+1, rep)
	}
	if rep.SignedThrough >= seqOf(t, lines[i]) {
		t.Errorf("signed through %d, want before the forged seq %d", rep.SignedThrough, seqOf(t, lines[i]))
	}
}

// TestVerifyRehashedLink modifies a record and recomputes only its own hash.
func TestVerifyRehashedLink(t *testing.T) {
	dir := baseLog(t)
	name, lines, i := middle(t, dir, 1)
	prev, _ := parseLine(lines[i-1])
	lines[i] = bytes.Replace(lines[i], []byte("192.0.2.10"), []byte("192.0.2.99"), 1)
	rechain(t, lines[i:i+1], prev.hash)
	writeLines(t, filepath.Join(dir, name), lines)
	wantOneError(t, verify(t, dir), IssueBrokenLink, name, i+2, seqOf(t, lines[i+1]))
}

func TestVerifyAfterClosingDigest(t *testing.T) {
	dir := baseLog(t)
	names := logFileNames(t, dir)
	name := names[0]
	lines, _ := readLines(t, filepath.Join(dir, name))
	last, _ := parseLine(lines[len(lines)-1])
	body, _ := cutBody(sampleEvent(5).normalize(mustTime(t)))
	extra, _ := chainLine(body, last.seq+1, last.hash)
	lines = append(lines, extra)
	writeLines(t, filepath.Join(dir, name), lines)
	rep := verify(t, dir)
	ins := rep.IssuesOf(IssueInserted)
	if len(ins) == 0 || ins[0].File != name || ins[0].Line != len(lines) {
		t.Fatalf("got %v, want a record after the closing digest at %s line %d\n%s", ins, name, len(lines), rep)
	}
}

func TestVerifyWrongKey(t *testing.T) {
	dir := baseLog(t)
	other, _ := GenerateSigningKey()
	rep, err := Verify(dir, other.Public())
	if err != nil {
		t.Fatal(err)
	}
	if bad := rep.IssuesOf(IssueBadSignature); len(bad) != rep.Digests || rep.SignedThrough != 0 {
		t.Fatalf("got %d bad signatures of %d digests, want all:\n%s", len(bad), rep.Digests, rep)
	}
}

func TestVerifyGarbageFiles(t *testing.T) {
	dir := baseLog(t)
	for i, junk := range []string{"", "\n\n\n", "{}\n", "\x00\xff\xfe garbage", `{"openkms":{"chain":{"seq":1}}}` + "\n",
		strings.Repeat("x", 1<<20) + "\n", `"hash":"` + strings.Repeat("a", 64) + `"}}}` + "\n"} {
		name := fileName(mustTime(t), uint64(10+i))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(junk), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rep := verify(t, dir)
	if rep.OK() {
		t.Fatalf("garbage files: want errors\n%s", rep)
	}
	// Query skips or reports garbage without failing.
	n := 0
	for _, err := range Query(dir, Filter{}) {
		if err == nil {
			n++
		}
	}
	if n != 42 {
		t.Errorf("Query over garbage: got %d events, want 42", n)
	}
}

func FuzzVerify(f *testing.F) {
	f.Add([]byte(`{"openkms":{"chain":{"seq":99,"prevHash":"00","hash":"00"}}}` + "\n"))
	f.Add([]byte("\n{\n"))
	f.Add([]byte(`{"recordType":"OpenKMSDigest","openkms":{"digest":{"version":1},"chain":{"seq":1,"prevHash":"` + zeroHash + `","hash":"` + zeroHash + `"}}}` + "\n"))
	key, _ := GenerateSigningKey()
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, fileName(mustTime(t), 1)), data, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Verify(dir, key.Public()); err != nil {
			t.Fatal(err)
		}
		for range Query(dir, Filter{}) {
		}
		if _, err := OpenFileSink(dir, FileOptions{}); err != nil {
			t.Fatal(err)
		}
	})
}
