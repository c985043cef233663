package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// ErrSinkClosed is returned by a Sink used after Close.
var ErrSinkClosed = errors.New("audit: sink is closed")

// Sink stores audit records, like an slog.Handler stores log records. The
// Logger calls it from a single goroutine; implementations need not be safe
// for concurrent use unless they say so.
type Sink interface {
	// Write appends records, in order, each as one line (the sink adds the
	// newline; records contain none). When Write returns nil the records
	// are written (to the OS for a file); when it returns an error the sink
	// has rolled back to its last durable point (see Sync) as far as it can,
	// and none of records counts as written. Write must not keep records,
	// or any part of them, after it returns: the Logger reuses their memory.
	Write(ctx context.Context, records [][]byte) error
	// Sync makes every record written so far durable (FileSink: fsync).
	// After an error, the sink has rolled back to its previous durable
	// point as far as it can; the caller must treat records written since
	// then as lost.
	Sync() error
	// Close syncs and releases the sink. Write and Sync after Close return
	// ErrSinkClosed. Close is idempotent.
	Close() error
}

// SegmentedSink is a Sink that stores records in segments (files) and keeps
// the chain on durable storage, so a Logger can continue it after a restart
// and close each segment with a digest.
type SegmentedSink interface {
	Sink
	// Resume returns the head of the chain found in storage. The Logger
	// calls it once, before the first Write.
	Resume() (Head, error)
	// RotateDue reports whether the current segment should be closed
	// before more records are written (size or age limit reached). It is
	// false when no segment is open.
	RotateDue(now time.Time) bool
	// Rotate syncs and closes the current segment; the next Write opens a
	// new one.
	Rotate() error
}

// Head is the chain head that a SegmentedSink found in storage.
type Head struct {
	// Seq is the seq of the last complete record (0: empty log).
	Seq uint64
	// Hash is that record's hash (64 zeros for an empty log).
	Hash string
	// Closed reports whether that record is a closing digest (the previous
	// logger shut down cleanly).
	Closed bool
	// File names the segment that holds the head record.
	File string
	// Torn, if not nil, is an incomplete last line found after the head.
	Torn *TornTail
}

// TornTail is an incomplete last line: the bytes after the last newline of a
// file, left by a write cut short by a crash.
type TornTail struct {
	File   string
	Offset int64
	Bytes  int64
}

// WriterSink writes records as JSON Lines to an io.Writer such as
// os.Stdout. It has no chain memory: a Logger over it starts a new chain
// (seq 1) each time. It is safe for concurrent use.
type WriterSink struct {
	mu     sync.Mutex
	w      io.Writer
	buf    []byte
	closed bool
}

var _ Sink = (*WriterSink)(nil)

// NewWriterSink returns a Sink that writes to w. Sync calls w.Sync if w has
// such a method and ignores its error when w is not a regular file (a
// terminal or pipe cannot be fsynced); Close does not close w.
func NewWriterSink(w io.Writer) *WriterSink { return &WriterSink{w: w} }

// NewStdoutSink returns a WriterSink on os.Stdout.
func NewStdoutSink() *WriterSink { return NewWriterSink(os.Stdout) }

// Write implements Sink with one Write call on the underlying writer.
func (s *WriterSink) Write(_ context.Context, records [][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrSinkClosed
	}
	s.buf = joinLines(s.buf[:0], records)
	if len(s.buf) == 0 {
		return nil
	}
	if _, err := s.w.Write(s.buf); err != nil {
		return fmt.Errorf("audit: write: %w", err)
	}
	return nil
}

// Sync implements Sink.
func (s *WriterSink) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrSinkClosed
	}
	f, ok := s.w.(*os.File)
	if !ok {
		return nil
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("audit: fsync: %w", err)
	}
	return nil
}

// Close implements Sink.
func (s *WriterSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// joinLines appends each record and a newline to dst.
func joinLines(dst []byte, records [][]byte) []byte {
	for _, r := range records {
		dst = append(dst, r...)
		dst = append(dst, '\n')
	}
	return dst
}
