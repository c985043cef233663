package audit

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

func writeSome(t *testing.T, dir string, n int) {
	t.Helper()
	l := openLog(t, dir, Config{}, FileOptions{})
	for i := range n {
		if err := l.Log(context.Background(), sampleEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

// TestResumeLongTornTail: a torn tail longer than the tail-reading window.
func TestResumeLongTornTail(t *testing.T) {
	dir := t.TempDir()
	writeSome(t, dir, 3)
	name := logFileNames(t, dir)[0]
	appendFile(t, filepath.Join(dir, name), bytes.Repeat([]byte("y"), 700<<10))
	s, err := OpenFileSink(dir, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := s.Resume()
	if h.Seq != 5 || !h.Closed || h.Torn == nil || h.Torn.Bytes != 700<<10 || h.Torn.File != name {
		t.Fatalf("head: got %+v torn %+v, want seq 5, closed, 700 KiB torn in %s", h, h.Torn, name)
	}
	writeSome(t, dir, 2)
	rep := verifyOK(t, dir)
	if tr := rep.IssuesOf(IssueTruncated); len(tr) != 1 {
		t.Fatalf("got %v, want one truncation", tr)
	}
}

// TestResumeAfterCorruptLastLine: a complete but corrupt last line is
// skipped; the chain resumes from the last valid record and Verify reports
// the corrupt line.
func TestResumeAfterCorruptLastLine(t *testing.T) {
	dir := t.TempDir()
	writeSome(t, dir, 3)
	name := logFileNames(t, dir)[0]
	appendFile(t, filepath.Join(dir, name), []byte("{\"garbage\":true}\n"))
	writeSome(t, dir, 2)
	rep, err := Verify(dir, pubKey(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(errorsOf(rep)) != 1 || len(rep.IssuesOf(IssueInserted)) != 1 {
		t.Fatalf("want exactly the garbage line reported:\n%s", rep)
	}
}

// TestResumeEmptyNewestFile: a crash right after creating a file leaves it
// empty; the head comes from the file before.
func TestResumeEmptyNewestFile(t *testing.T) {
	dir := t.TempDir()
	writeSome(t, dir, 3)
	if err := os.WriteFile(filepath.Join(dir, fileName(mustTime(t), 2)), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	writeSome(t, dir, 1)
	rep := verifyOK(t, dir)
	if len(rep.Files) != 3 || rep.Records != 4 {
		t.Fatalf("got %d files, %d records:\n%s", len(rep.Files), rep.Records, rep)
	}
}
