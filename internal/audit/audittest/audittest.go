// Package audittest is the conformance suite that every audit.Sink
// implementation must pass (FileSink, WriterSink, and any future sink such
// as syslog or a remote collector).
package audittest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/openkms/openkms/internal/audit"
)

// Opener opens a fresh, empty sink and returns it with a function that reads
// back every line it has written so far (without newlines).
type Opener func(t *testing.T) (s audit.Sink, written func() [][]byte)

// RunSink runs the conformance suite against the sinks open returns.
func RunSink(t *testing.T, open Opener) {
	t.Helper()
	t.Run("OrderAndBatches", func(t *testing.T) { testOrder(t, open) })
	t.Run("EmptyWrite", func(t *testing.T) { testEmpty(t, open) })
	t.Run("RecordsUnchanged", func(t *testing.T) { testUnchanged(t, open) })
	t.Run("Close", func(t *testing.T) { testClose(t, open) })
}

func record(i int) []byte {
	return []byte(fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, bytes.Repeat([]byte("x"), i%50)))
}

func testOrder(t *testing.T, open Opener) {
	s, written := open(t)
	defer s.Close()
	var want [][]byte
	n := 0
	for _, size := range []int{1, 3, 100, 1, 7} {
		var batch [][]byte
		for range size {
			batch = append(batch, record(n))
			n++
		}
		if err := s.Write(context.Background(), batch); err != nil {
			t.Fatalf("Write(%d records): %v", size, err)
		}
		if err := s.Sync(); err != nil {
			t.Fatalf("Sync: %v", err)
		}
		want = append(want, batch...)
	}
	got := written()
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("line %d: got %q, want %q", i, got[i], want[i])
		}
	}
}

func testEmpty(t *testing.T, open Opener) {
	s, written := open(t)
	defer s.Close()
	if err := s.Write(context.Background(), nil); err != nil {
		t.Fatalf("Write(nil): %v", err)
	}
	if err := s.Sync(); err != nil {
		t.Fatalf("Sync with nothing written: %v", err)
	}
	if got := written(); len(got) != 0 {
		t.Fatalf("got %d lines after an empty write, want 0", len(got))
	}
}

func testUnchanged(t *testing.T, open Opener) {
	s, _ := open(t)
	defer s.Close()
	batch := [][]byte{record(1), record(2)}
	saved := [][]byte{bytes.Clone(batch[0]), bytes.Clone(batch[1])}
	if err := s.Write(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	for i := range batch {
		if !bytes.Equal(batch[i], saved[i]) {
			t.Fatalf("Write modified its input record %d", i)
		}
	}
}

func testClose(t *testing.T, open Opener) {
	s, written := open(t)
	if err := s.Write(context.Background(), [][]byte{record(1)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: got %v, want nil", err)
	}
	if got := written(); len(got) != 1 {
		t.Fatalf("after Close: got %d lines, want 1", len(got))
	}
	if err := s.Write(context.Background(), [][]byte{record(2)}); !errors.Is(err, audit.ErrSinkClosed) {
		t.Fatalf("Write after Close: got %v, want ErrSinkClosed", err)
	}
	if err := s.Sync(); !errors.Is(err, audit.ErrSinkClosed) {
		t.Fatalf("Sync after Close: got %v, want ErrSinkClosed", err)
	}
}
