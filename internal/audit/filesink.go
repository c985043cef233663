package audit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// File names: audit-<UTC open time>-<index>.jsonl, e.g.
// audit-20261128T160000Z-000001.jsonl. The index increases by one per file
// and never repeats, so a missing index is a missing file.
const (
	filePrefix     = "audit-"
	fileSuffix     = ".jsonl"
	fileTimeLayout = "20060102T150405Z"
)

// FileOptions configures a FileSink. Zero values mean the defaults.
type FileOptions struct {
	// MaxFileBytes rotates a file once it holds at least this many bytes
	// (checked before each batch, so a file can exceed it by one batch).
	// Default 64 MiB.
	MaxFileBytes int64
	// MaxFileAge rotates a file this long after it was opened. Default 24h.
	MaxFileAge time.Duration
	// Now is the clock for file names and age; nil means time.Now.
	Now func() time.Time
}

// FileSink stores records in append-only JSON Lines files in one directory,
// rotated by size and age. Files are created 0600 with O_EXCL and
// O_APPEND; the directory is fsynced when a file is created.
//
// On a write or fsync error the sink truncates the file back to its last
// durable size (bytes never acknowledged) and abandons it; the next Write
// opens a new file. It never rewrites a byte it has made durable.
//
// A FileSink is used by one Logger goroutine; it is not safe for concurrent
// use.
type FileSink struct {
	dir      string
	maxBytes int64
	maxAge   time.Duration
	now      func() time.Time

	f      *os.File
	name   string
	opened time.Time
	size   int64 // bytes written to f
	synced int64 // bytes of f known durable
	next   uint64
	buf    []byte
	closed bool
	head   Head
}

var _ SegmentedSink = (*FileSink)(nil)

// OpenFileSink opens the log directory dir, creating it (0700) if needed,
// and finds the chain head in its newest files. It does not create a file
// until the first Write.
func OpenFileSink(dir string, opts FileOptions) (*FileSink, error) {
	s := &FileSink{dir: dir, maxBytes: opts.MaxFileBytes, maxAge: opts.MaxFileAge, now: opts.Now}
	if s.maxBytes <= 0 {
		s.maxBytes = 64 << 20
	}
	if s.maxAge <= 0 {
		s.maxAge = 24 * time.Hour
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	files, err := listLogFiles(dir)
	if err != nil {
		return nil, err
	}
	s.next = 1
	if len(files) > 0 {
		s.next = files[len(files)-1].index + 1
	}
	head, err := findHead(dir, files)
	if err != nil {
		return nil, err
	}
	s.head = head
	return s, nil
}

// Dir returns the directory of the sink.
func (s *FileSink) Dir() string { return s.dir }

// Resume implements SegmentedSink.
func (s *FileSink) Resume() (Head, error) { return s.head, nil }

// RotateDue implements SegmentedSink.
func (s *FileSink) RotateDue(now time.Time) bool {
	return s.f != nil && (s.size >= s.maxBytes || now.Sub(s.opened) >= s.maxAge)
}

// Rotate implements SegmentedSink.
func (s *FileSink) Rotate() error {
	if s.f == nil {
		return nil
	}
	if err := s.Sync(); err != nil {
		return err
	}
	err := s.f.Close()
	s.f = nil
	if err != nil {
		return fmt.Errorf("audit: close %s: %w", s.name, err)
	}
	return nil
}

// Write implements Sink: one write(2) of all records, opening a new file
// first if none is open.
func (s *FileSink) Write(_ context.Context, records [][]byte) error {
	if s.closed {
		return ErrSinkClosed
	}
	if len(records) == 0 {
		return nil
	}
	if s.f == nil {
		if err := s.openNext(); err != nil {
			return err
		}
	}
	s.buf = joinLines(s.buf[:0], records)
	n, err := s.f.Write(s.buf)
	s.size += int64(n)
	if err != nil {
		s.abandon()
		return fmt.Errorf("audit: write %s: %w", s.name, err)
	}
	if cap(s.buf) > 4<<20 {
		s.buf = nil // do not pin a huge batch buffer
	}
	return nil
}

// Sync implements Sink with fsync.
func (s *FileSink) Sync() error {
	if s.closed {
		return ErrSinkClosed
	}
	if s.f == nil || s.synced == s.size {
		return nil
	}
	if err := s.f.Sync(); err != nil {
		s.abandon()
		return fmt.Errorf("audit: fsync %s: %w", s.name, err)
	}
	s.synced = s.size
	return nil
}

// Close implements Sink.
func (s *FileSink) Close() error {
	if s.closed {
		return nil
	}
	var err error
	if s.f != nil {
		err = s.Rotate()
	}
	s.closed = true
	return err
}

// abandon truncates the file to its durable size (best effort: after a
// failed fsync the kernel may have dropped the pages anyway) and closes it.
func (s *FileSink) abandon() {
	_ = s.f.Truncate(s.synced)
	_ = s.f.Sync()
	_ = s.f.Close()
	s.f = nil
}

func (s *FileSink) openNext() error {
	for range 100 {
		now := s.now().UTC()
		name := fileName(now, s.next)
		f, err := os.OpenFile(filepath.Join(s.dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
		if os.IsExist(err) {
			s.next++
			continue
		}
		if err != nil {
			return fmt.Errorf("audit: create log file: %w", err)
		}
		if err := syncDir(s.dir); err != nil {
			f.Close()
			return err
		}
		s.f, s.name, s.opened, s.size, s.synced = f, name, now, 0, 0
		s.next++
		return nil
	}
	return fmt.Errorf("audit: create log file in %s: too many existing names", s.dir)
}

func fileName(t time.Time, index uint64) string {
	return fmt.Sprintf("%s%s-%06d%s", filePrefix, t.UTC().Format(fileTimeLayout), index, fileSuffix)
}

// logFile is one log file found in a directory.
type logFile struct {
	name  string
	index uint64
	start time.Time
}

// parseFileName parses audit-<time>-<index>.jsonl.
func parseFileName(name string) (logFile, bool) {
	mid, ok := strings.CutPrefix(name, filePrefix)
	if !ok {
		return logFile{}, false
	}
	mid, ok = strings.CutSuffix(mid, fileSuffix)
	if !ok {
		return logFile{}, false
	}
	ts, idx, ok := strings.Cut(mid, "-")
	if !ok {
		return logFile{}, false
	}
	t, err := time.Parse(fileTimeLayout, ts)
	if err != nil {
		return logFile{}, false
	}
	n, err := strconv.ParseUint(idx, 10, 64)
	if err != nil || n == 0 {
		return logFile{}, false
	}
	return logFile{name: name, index: n, start: t}, true
}

// listLogFiles returns the log files of dir in index order. Other files are
// ignored.
func listLogFiles(dir string) ([]logFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	var files []logFile
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if lf, ok := parseFileName(e.Name()); ok {
			files = append(files, lf)
		}
	}
	slices.SortFunc(files, func(a, b logFile) int {
		switch {
		case a.index < b.index:
			return -1
		case a.index > b.index:
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	return files, nil
}

// findHead finds the last complete, self-consistent record, searching the
// files from the newest, and any torn tail after it.
func findHead(dir string, files []logFile) (Head, error) {
	head := Head{Hash: zeroHash}
	for i := len(files) - 1; i >= 0; i-- {
		path := filepath.Join(dir, files[i].name)
		rec, found, torn, err := lastRecord(path)
		if err != nil {
			return Head{}, err
		}
		if torn != nil && head.Torn == nil {
			torn.File = files[i].name
			head.Torn = torn
		}
		if found {
			head.Seq, head.Hash, head.File = rec.seq, rec.hash, files[i].name
			head.Closed = rec.digest != nil && rec.digest.Reason.closes()
			return head, nil
		}
	}
	return head, nil
}

// lastRecord reads path from its end: the bytes after the last newline are
// a torn tail; the last complete line that parses with a matching hash is
// the record returned.
func lastRecord(path string) (rec parsedLine, found bool, torn *TornTail, err error) {
	f, err := os.Open(path)
	if err != nil {
		return rec, false, nil, fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return rec, false, nil, fmt.Errorf("audit: %w", err)
	}
	size := st.Size()
	end := size // lines end before end
	first := true
	window := int64(256 << 10)
	for end > 0 {
		start := max(end-window, 0)
		buf := make([]byte, end-start)
		if _, err := f.ReadAt(buf, start); err != nil && err != io.EOF {
			return rec, false, nil, fmt.Errorf("audit: read %s: %w", path, err)
		}
		if first {
			if buf[len(buf)-1] != '\n' {
				i := bytes.LastIndexByte(buf, '\n')
				if i < 0 && start > 0 {
					window *= 2 // the torn tail is longer than the window
					continue
				}
				off := start + int64(i) + 1
				torn = &TornTail{Offset: off, Bytes: size - off}
				buf = buf[:i+1]
				end = off
			}
			first = false
		}
		// buf[:] ends with '\n' (or is empty). Walk its lines backwards;
		// the first segment is partial unless the window starts the file.
		body := buf
		lo := 0
		if start > 0 {
			j := bytes.IndexByte(body, '\n')
			if j < 0 {
				window *= 2
				continue
			}
			lo = j + 1
		}
		lines := body[lo:]
		for len(lines) > 0 {
			lines = lines[:len(lines)-1] // drop the trailing '\n'
			k := bytes.LastIndexByte(lines, '\n')
			line := lines[k+1:]
			if p, err := parseLine(line); err == nil && p.selfOK {
				return p, true, torn, nil
			}
			lines = lines[:k+1]
		}
		end = start + int64(lo)
		if window < maxLineBytes*2 {
			window *= 2
		}
	}
	return rec, false, torn, nil
}
