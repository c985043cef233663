package audit_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/openkms/openkms/internal/audit"
	"github.com/openkms/openkms/internal/audit/audittest"
)

func lines(b []byte) [][]byte {
	var out [][]byte
	for _, l := range bytes.SplitAfter(b, []byte("\n")) {
		if len(l) > 0 {
			out = append(out, bytes.TrimSuffix(l, []byte("\n")))
		}
	}
	return out
}

func TestFileSinkConformance(t *testing.T) {
	audittest.RunSink(t, func(t *testing.T) (audit.Sink, func() [][]byte) {
		dir := t.TempDir()
		s, err := audit.OpenFileSink(dir, audit.FileOptions{MaxFileBytes: 512})
		if err != nil {
			t.Fatal(err)
		}
		return s, func() [][]byte {
			names, _ := filepath.Glob(filepath.Join(dir, "audit-*.jsonl"))
			var out [][]byte
			for _, n := range names { // one file: nothing rotates without a Logger
				b, _ := os.ReadFile(n)
				out = append(out, lines(b)...)
			}
			return out
		}
	})
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func TestWriterSinkConformance(t *testing.T) {
	audittest.RunSink(t, func(t *testing.T) (audit.Sink, func() [][]byte) {
		var buf syncBuffer
		return audit.NewWriterSink(&buf), func() [][]byte {
			buf.mu.Lock()
			defer buf.mu.Unlock()
			return lines(bytes.Clone(buf.b.Bytes()))
		}
	})
}
