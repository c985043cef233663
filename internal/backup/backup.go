// Package backup writes and restores portable, consistent, sealed backups of
// a whole storage.Store, and copies one store into another (migration from
// the embedded bbolt store to PostgreSQL).
//
// A backup is every key and value of the store as one transaction saw it
// (storage.Store.View: a consistent snapshot, taken while the server keeps
// serving). The values are the store's own bytes, so key material and
// secrets inside them stay sealed under the root key as they are at rest;
// on top of that every chunk of the backup is sealed again with the root key
// sealer, so a backup reveals nothing but its size, and restoring it needs
// the same root key. Keep the root key safe, and separately from the backups.
//
// # Format, version 1
//
// All integers are big-endian.
//
//	header:
//	  magic     "OPENKMS-BACKUP" (14 bytes)
//	  version   uint16 (1)
//	  backup id 16 random bytes
//	  created   int64, Unix milliseconds (UTC)
//	  check len uint16 (at most 512), then the key check:
//	            Seal("openkms backup key check", "openkms:backup:v1:check" 0x00 || header[0:40])
//	frames, one or more:
//	  kind      1 byte: 'D' (data chunk) or 'F' (final chunk, the trailer)
//	  length    uint32, 1 to MaxSealedChunk
//	  sealed    Seal(plaintext, "openkms:backup:v1:chunk" 0x00 || header[0:40] || index uint64 || kind)
//	end of file right after the final chunk.
//
// A data chunk's plaintext is a sequence of records, each a key length
// (uint16, 1 to storage.MaxKeyLen), the key, a value length (uint32) and the
// value; keys ascend strictly across the whole backup. Chunks hold about
// ChunkSize bytes; one record never spans two chunks. The final chunk's
// plaintext is the trailer: record count, key and value bytes, and data
// chunk count (three uint64s). Chunks are numbered from 0 and the final
// chunk's index is the number of data chunks.
//
// The associated data binds each chunk to its backup (the header, with the
// random id), to its position and to whether it is the last one, so a
// modified, truncated, reordered, duplicated or spliced backup fails to
// open. The key check tells a backup sealed under another root key (or a
// modified header) apart from a modified chunk.
package backup

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/openkms/openkms/internal/rootkey"
	"github.com/openkms/openkms/internal/storage"
)

// Format constants.
const (
	// Magic opens every backup.
	Magic = "OPENKMS-BACKUP"
	// Version is the format version this package writes and reads.
	Version = 1
	// ChunkSize is the plaintext size after which Write seals a chunk.
	ChunkSize = 1 << 20
	// MaxChunk bounds the plaintext of one chunk, and so the size of one
	// record (key and value) that can be backed up.
	MaxChunk = 16 << 20
	// MaxSealedChunk bounds a sealed chunk: MaxChunk plus the sealer's
	// overhead.
	MaxSealedChunk = MaxChunk + 1024

	maxCheckLen   = 512
	fixedHdrLen   = len(Magic) + 2 + 16 + 8
	trailerLen    = 3 * 8
	frameHdrLen   = 1 + 4
	kindData      = 'D'
	kindFinal     = 'F'
	checkPlain    = "openkms backup key check"
	checkLabel    = "openkms:backup:v1:check\x00"
	chunkLabel    = "openkms:backup:v1:chunk\x00"
	maxRecordSize = MaxChunk
)

// chunkSize is ChunkSize; tests lower it.
var chunkSize = ChunkSize

// IncompleteKey is the storage key Restore and Copy write into the target
// store before their first write and delete after their last. A store that
// holds it was left partially restored; Write refuses to back it up.
const IncompleteKey = "meta/restore-incomplete"

var (
	// ErrNotBackup means the input does not start like an OpenKMS backup.
	ErrNotBackup = errors.New("backup: not an OpenKMS backup")
	// ErrVersion means the backup has a format version this build cannot read.
	ErrVersion = errors.New("backup: unsupported backup format version")
	// ErrWrongRootKey means the backup's key check does not open: it was
	// sealed under a different root key, or its header was modified.
	ErrWrongRootKey = errors.New("backup: the backup was sealed under a different root key, or its header was modified")
	// ErrTampered means a chunk does not authenticate or is inconsistent:
	// the backup was modified, reordered or spliced.
	ErrTampered = errors.New("backup: the backup was modified")
	// ErrTruncated means the backup ends before its final chunk.
	ErrTruncated = errors.New("backup: the backup is truncated")
	// ErrNotEmpty is returned by Restore (without Force) and Copy when the
	// target store already holds keys.
	ErrNotEmpty = errors.New("backup: the target store is not empty")
	// ErrIncomplete is wrapped by the errors of a Restore or Copy that
	// stopped after it had started writing, and by Write for a store that
	// such a run left behind (it holds IncompleteKey).
	ErrIncomplete = errors.New("backup: the store is partially restored")
)

// FormatError says where a backup was refused and why. It wraps one of
// ErrNotBackup, ErrVersion, ErrWrongRootKey, ErrTampered or ErrTruncated.
type FormatError struct {
	// Offset is the byte offset of the part that failed.
	Offset int64
	// Chunk is the index of the chunk that failed, or -1 for the header.
	Chunk int64
	// Reason is a short description.
	Reason string
	// Err is the sentinel.
	Err error
}

func (e *FormatError) Error() string {
	where := "header"
	if e.Chunk >= 0 {
		where = fmt.Sprintf("chunk %d", e.Chunk)
	}
	return fmt.Sprintf("%v: %s at byte %d: %s", e.Err, where, e.Offset, e.Reason)
}

func (e *FormatError) Unwrap() error { return e.Err }

// Stats describe a backup that was written, verified or restored, or a copy.
type Stats struct {
	// ID is the backup id in hex (empty for Copy).
	ID string
	// Created is when the backup was taken.
	Created time.Time
	// Records is the number of keys.
	Records int64
	// Bytes is the total size of the keys and values.
	Bytes int64
	// Chunks is the number of data chunks.
	Chunks int64
	// Size is the size of the backup stream in bytes.
	Size int64
}

// header is the plaintext header of a backup.
type header struct {
	version uint16
	id      [16]byte
	created time.Time
}

func (h *header) fixed() []byte {
	b := make([]byte, 0, fixedHdrLen)
	b = append(b, Magic...)
	b = binary.BigEndian.AppendUint16(b, h.version)
	b = append(b, h.id[:]...)
	return binary.BigEndian.AppendUint64(b, uint64(h.created.UnixMilli()))
}

func checkAAD(fixed []byte) []byte {
	return append([]byte(checkLabel), fixed...)
}

func chunkAAD(fixed []byte, index uint64, kind byte) []byte {
	b := make([]byte, 0, len(chunkLabel)+len(fixed)+9)
	b = append(b, chunkLabel...)
	b = append(b, fixed...)
	b = binary.BigEndian.AppendUint64(b, index)
	return append(b, kind)
}

// Write writes a backup of every key in store to w, from one View
// transaction, so the backup is a consistent snapshot even while other
// goroutines (or nodes) write. It seals each chunk with sealer as it goes
// and buffers at most about two chunks. Write writes nothing to w before the
// View has started, so an error from opening the transaction leaves w
// untouched; an error afterwards leaves an incomplete backup that Verify and
// Restore refuse.
//
// Write fails with an error wrapping ErrIncomplete if store holds
// IncompleteKey, and with an error if a record exceeds MaxChunk. The View's
// errors and w's errors are returned wrapped. ctx bounds the whole backup.
func Write(ctx context.Context, w io.Writer, store storage.Store, sealer rootkey.Sealer) (Stats, error) {
	h := header{version: Version, created: time.Now().UTC().Truncate(time.Millisecond)}
	if _, err := rand.Read(h.id[:]); err != nil {
		return Stats{}, fmt.Errorf("backup: %w", err)
	}
	fixed := h.fixed()
	check, err := sealer.Seal([]byte(checkPlain), checkAAD(fixed))
	if err != nil {
		return Stats{}, fmt.Errorf("backup: sealing the key check: %w", err)
	}
	if len(check) > maxCheckLen {
		return Stats{}, fmt.Errorf("backup: the sealer's output is too large (%d bytes)", len(check))
	}
	cw := &countingWriter{w: w}
	bw := bufio.NewWriterSize(cw, 64<<10)
	st := Stats{ID: hex.EncodeToString(h.id[:]), Created: h.created}
	var index uint64
	var refused error // why Write refused the store, if it did
	seal := func(kind byte, plain []byte) error {
		sealed, err := sealer.Seal(plain, chunkAAD(fixed, index, kind))
		if err != nil {
			return fmt.Errorf("backup: sealing chunk %d: %w", index, err)
		}
		if len(sealed) > MaxSealedChunk {
			return fmt.Errorf("backup: sealed chunk %d is too large (%d bytes)", index, len(sealed))
		}
		var fh [frameHdrLen]byte
		fh[0] = kind
		binary.BigEndian.PutUint32(fh[1:], uint32(len(sealed)))
		if _, err := bw.Write(fh[:]); err != nil {
			return err
		}
		if _, err := bw.Write(sealed); err != nil {
			return err
		}
		index++
		return nil
	}
	err = store.View(ctx, func(r storage.Reader) error {
		hdr := make([]byte, 0, fixedHdrLen+2+len(check))
		hdr = append(hdr, fixed...)
		hdr = binary.BigEndian.AppendUint16(hdr, uint16(len(check)))
		if _, err := bw.Write(append(hdr, check...)); err != nil {
			return err
		}
		chunk := make([]byte, 0, chunkSize+64<<10)
		err := r.Scan("", "", func(key string, value []byte) (bool, error) {
			if key == IncompleteKey {
				refused = fmt.Errorf("%w (it holds %s): restore it again before backing it up", ErrIncomplete, IncompleteKey)
				return false, refused
			}
			size := 2 + len(key) + 4 + len(value)
			if size > maxRecordSize {
				refused = fmt.Errorf("backup: the value of %q is too large to back up (%d bytes)", key, len(value))
				return false, refused
			}
			if len(chunk) > 0 && len(chunk)+size > chunkSize {
				if err := seal(kindData, chunk); err != nil {
					return false, err
				}
				chunk = chunk[:0]
			}
			chunk = binary.BigEndian.AppendUint16(chunk, uint16(len(key)))
			chunk = append(chunk, key...)
			chunk = binary.BigEndian.AppendUint32(chunk, uint32(len(value)))
			chunk = append(chunk, value...)
			st.Records++
			st.Bytes += int64(len(key) + len(value))
			return true, ctx.Err()
		})
		if err != nil {
			return err
		}
		if len(chunk) > 0 {
			if err := seal(kindData, chunk); err != nil {
				return err
			}
		}
		st.Chunks = int64(index)
		if err := seal(kindFinal, st.trailer()); err != nil {
			return err
		}
		return bw.Flush()
	})
	st.Size = cw.n
	if err != nil && errors.Is(err, refused) {
		return st, refused
	}
	if err != nil {
		return st, fmt.Errorf("backup: %w", err)
	}
	return st, nil
}

func (st *Stats) trailer() []byte {
	b := make([]byte, 0, trailerLen)
	b = binary.BigEndian.AppendUint64(b, uint64(st.Records))
	b = binary.BigEndian.AppendUint64(b, uint64(st.Bytes))
	return binary.BigEndian.AppendUint64(b, uint64(st.Chunks))
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Verify reads a whole backup from r and checks everything Restore checks
// (structure, the key check, every chunk's authenticity and order, record
// order, the trailer, nothing after it), without writing anywhere. It
// returns the backup's Stats, or an error wrapping a *FormatError.
func Verify(ctx context.Context, r io.Reader, sealer rootkey.Sealer) (Stats, error) {
	rd, err := newReader(r, sealer)
	if err != nil {
		return Stats{}, err
	}
	return rd.readAll(ctx, nil)
}

// Info is what Inspect learns from a backup without the root key.
type Info struct {
	ID      string
	Created time.Time
	Version int
	// Chunks is the number of data chunks.
	Chunks int64
	// Size is the size of the backup in bytes.
	Size int64
}

// Inspect checks the structure of a backup without the root key: the
// header, well-formed frames, a final chunk and nothing after it. It does
// not authenticate anything (Verify does), but it catches a backup cut short
// in transfer. Errors wrap a *FormatError.
func Inspect(r io.Reader) (Info, error) {
	fr := &frameReader{r: bufio.NewReaderSize(r, 64<<10)}
	h, _, err := fr.header()
	if err != nil {
		return Info{}, err
	}
	info := Info{ID: hex.EncodeToString(h.id[:]), Created: h.created, Version: int(h.version)}
	for index := int64(0); ; index++ {
		kind, _, err := fr.frame(index, true)
		if err != nil {
			return Info{}, err
		}
		if kind == kindFinal {
			if err := fr.eof(index); err != nil {
				return Info{}, err
			}
			info.Chunks = index
			info.Size = fr.off
			return info, nil
		}
	}
}

// frameReader reads the unauthenticated structure of a backup, bounding
// every length.
type frameReader struct {
	r   *bufio.Reader
	off int64
}

func (fr *frameReader) fail(chunk int64, sentinel error, format string, args ...any) error {
	return &FormatError{Offset: fr.off, Chunk: chunk, Reason: fmt.Sprintf(format, args...), Err: sentinel}
}

// read reads exactly n bytes (n is bounded by the caller), growing the
// buffer only as data arrives.
func (fr *frameReader) read(n int, chunk int64, what string) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(min(n, 64<<10))
	m, err := buf.ReadFrom(io.LimitReader(fr.r, int64(n)))
	if err != nil {
		return nil, fr.fail(chunk, ErrTruncated, "reading %s: %v", what, err)
	}
	if m < int64(n) {
		fr.off += m
		return nil, fr.fail(chunk, ErrTruncated, "%s ends after %d of %d bytes", what, m, n)
	}
	fr.off += m
	return buf.Bytes(), nil
}

// header reads the header and returns it with the sealed key check.
func (fr *frameReader) header() (header, []byte, error) {
	var h header
	b, err := fr.read(len(Magic), -1, "the magic")
	if err != nil || string(b) != Magic {
		fr.off = 0
		return h, nil, fr.fail(-1, ErrNotBackup, "the input does not start with %q", Magic)
	}
	b, err = fr.read(fixedHdrLen-len(Magic)+2, -1, "the header")
	if err != nil {
		return h, nil, err
	}
	h.version = binary.BigEndian.Uint16(b)
	if h.version != Version {
		return h, nil, fr.fail(-1, ErrVersion, "format version %d, this build reads version %d", h.version, Version)
	}
	copy(h.id[:], b[2:18])
	h.created = time.UnixMilli(int64(binary.BigEndian.Uint64(b[18:26]))).UTC()
	n := int(binary.BigEndian.Uint16(b[26:28]))
	if n == 0 || n > maxCheckLen {
		return h, nil, fr.fail(-1, ErrTampered, "key check length %d out of range", n)
	}
	check, err := fr.read(n, -1, "the key check")
	if err != nil {
		return h, nil, err
	}
	return h, check, nil
}

// frame reads one frame. With skip, the sealed bytes are discarded.
func (fr *frameReader) frame(index int64, skip bool) (kind byte, sealed []byte, err error) {
	kind, err = fr.r.ReadByte()
	if err != nil {
		return 0, nil, fr.fail(index, ErrTruncated, "the backup ends before its final chunk")
	}
	fr.off++
	if kind != kindData && kind != kindFinal {
		return 0, nil, fr.fail(index, ErrTampered, "unknown chunk kind 0x%02x", kind)
	}
	b, err := fr.read(4, index, "the chunk length")
	if err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(b)
	if n == 0 || n > MaxSealedChunk {
		return 0, nil, fr.fail(index, ErrTampered, "chunk length %d out of range", n)
	}
	if skip {
		m, err := io.CopyN(io.Discard, fr.r, int64(n))
		fr.off += m
		if err != nil {
			return 0, nil, fr.fail(index, ErrTruncated, "the chunk ends after %d of %d bytes", m, n)
		}
		return kind, nil, nil
	}
	sealed, err = fr.read(int(n), index, "the chunk")
	return kind, sealed, err
}

// eof checks that nothing follows the final chunk.
func (fr *frameReader) eof(index int64) error {
	if _, err := fr.r.ReadByte(); err != io.EOF {
		if err == nil {
			return fr.fail(index, ErrTampered, "data follows the final chunk")
		}
		return fr.fail(index, ErrTruncated, "reading after the final chunk: %v", err)
	}
	return nil
}

// reader authenticates and parses a backup.
type reader struct {
	fr     frameReader
	sealer rootkey.Sealer
	h      header
	fixed  []byte
}

func newReader(r io.Reader, sealer rootkey.Sealer) (*reader, error) {
	rd := &reader{fr: frameReader{r: bufio.NewReaderSize(r, 64<<10)}, sealer: sealer}
	h, check, err := rd.fr.header()
	if err != nil {
		return nil, err
	}
	rd.h, rd.fixed = h, h.fixed()
	if pt, err := sealer.Open(check, checkAAD(rd.fixed)); err != nil || string(pt) != checkPlain {
		return nil, &FormatError{Offset: int64(fixedHdrLen + 2), Chunk: -1, Reason: "the key check does not open with this root key", Err: ErrWrongRootKey}
	}
	return rd, nil
}

// readAll reads every chunk, calling fn (if not nil) with each record of a
// data chunk once that chunk has authenticated. value belongs to fn.
func (rd *reader) readAll(ctx context.Context, fn func(key string, value []byte) error) (Stats, error) {
	st := Stats{ID: hex.EncodeToString(rd.h.id[:]), Created: rd.h.created}
	var last string
	for index := int64(0); ; index++ {
		if err := ctx.Err(); err != nil {
			return st, fmt.Errorf("backup: %w", err)
		}
		start := rd.fr.off
		kind, sealed, err := rd.fr.frame(index, false)
		if err != nil {
			return st, err
		}
		plain, err := rd.sealer.Open(sealed, chunkAAD(rd.fixed, uint64(index), kind))
		if err != nil {
			return st, &FormatError{Offset: start, Chunk: index, Err: ErrTampered,
				Reason: "the chunk does not authenticate (modified, reordered, truncated or from another backup)"}
		}
		bad := func(format string, args ...any) error {
			return &FormatError{Offset: start, Chunk: index, Err: ErrTampered, Reason: fmt.Sprintf(format, args...)}
		}
		if kind == kindFinal {
			if len(plain) != trailerLen {
				return st, bad("trailer of %d bytes, want %d", len(plain), trailerLen)
			}
			want := Stats{
				Records: int64(binary.BigEndian.Uint64(plain[0:])),
				Bytes:   int64(binary.BigEndian.Uint64(plain[8:])),
				Chunks:  int64(binary.BigEndian.Uint64(plain[16:])),
			}
			st.Chunks = index
			if want.Records != st.Records || want.Bytes != st.Bytes || want.Chunks != st.Chunks {
				return st, bad("the trailer counts %d records, %d bytes, %d chunks; got %d, %d, %d",
					want.Records, want.Bytes, want.Chunks, st.Records, st.Bytes, st.Chunks)
			}
			if err := rd.fr.eof(index); err != nil {
				return st, err
			}
			st.Size = rd.fr.off
			return st, nil
		}
		if len(plain) == 0 {
			return st, bad("empty data chunk")
		}
		for p := plain; len(p) > 0; {
			if len(p) < 2 {
				return st, bad("record header cut short")
			}
			kl := int(binary.BigEndian.Uint16(p))
			p = p[2:]
			if kl == 0 || kl > storage.MaxKeyLen || len(p) < kl+4 {
				return st, bad("key length %d out of range", kl)
			}
			key := string(p[:kl])
			p = p[kl:]
			vl := binary.BigEndian.Uint32(p)
			p = p[4:]
			if uint64(vl) > uint64(len(p)) {
				return st, bad("value length %d exceeds the chunk", vl)
			}
			value := p[:vl:vl]
			p = p[vl:]
			if st.Records > 0 && key <= last {
				return st, bad("keys out of order")
			}
			last = key
			st.Records++
			st.Bytes += int64(kl) + int64(vl)
			if fn != nil {
				if err := fn(key, value); err != nil {
					return st, err
				}
			}
		}
	}
}
