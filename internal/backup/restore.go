package backup

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"

	"github.com/openkms/openkms/internal/rootkey"
	"github.com/openkms/openkms/internal/storage"
)

// DefaultBatchSize is how many records one Update transaction of Restore
// or Copy writes when the options do not say.
const DefaultBatchSize = 500

// RestoreOptions adjust Restore. The zero value is ready to use.
type RestoreOptions struct {
	// Force allows restoring into a store that is not empty: once the
	// backup has been verified, every key of the store is deleted first.
	Force bool
	// TempDir is where a backup read from an input that cannot seek is
	// spooled (mode 0600, removed afterwards) while it is verified; empty
	// means os.TempDir().
	TempDir string
	// BatchSize is how many records one Update transaction writes; zero
	// means DefaultBatchSize.
	BatchSize int
}

// IncompleteError is returned by Restore and Copy when they fail after
// they started writing to the target store. The store then holds part of
// the data and IncompleteKey; Write refuses to back it up, and a Restore
// with Force (or a new Copy into an emptied store) replaces it.
type IncompleteError struct {
	// Op is "restore" or "copy".
	Op string
	// Written is how many records were committed; Total how many there are.
	Written, Total int64
	// Err is the cause.
	Err error
}

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("backup: %s failed after writing %d of %d records; the target store is partially restored "+
		"and marked with the key %s (a server should not serve it): %v", e.Op, e.Written, e.Total, IncompleteKey, e.Err)
}

// Unwrap returns ErrIncomplete and the cause.
func (e *IncompleteError) Unwrap() []error { return []error{ErrIncomplete, e.Err} }

// Restore reads a backup from r and writes every record into store.
//
// Nothing is written until the whole backup has been read and verified
// (every chunk authenticated under sealer, in order, with the trailer
// matching and nothing after it), so a damaged, truncated or foreign backup
// leaves store untouched. The backup is then read a second time (r is
// rewound if it is an io.ReadSeeker, else it was spooled to a temporary
// file during the first read; the second read authenticates again) and
// written in Update transactions of opts.BatchSize records. A store cannot
// take a whole backup atomically in one transaction without holding all of
// it in memory, so while Restore writes, store holds IncompleteKey; it is
// deleted only after the records in store have been read back and match
// the backup (count, bytes and a SHA-256 over every key and value). If
// anything fails after the first write, Restore returns an
// *IncompleteError.
//
// store must be empty, else Restore fails with ErrNotEmpty (before reading
// r) unless opts.Force. Restore is meant for a store no server is using.
// Backup errors wrap a *FormatError; opts may be nil.
func Restore(ctx context.Context, r io.Reader, store storage.Store, sealer rootkey.Sealer, opts *RestoreOptions) (Stats, error) {
	var o RestoreOptions
	if opts != nil {
		o = *opts
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	empty, err := isEmpty(ctx, store)
	if err != nil {
		return Stats{}, fmt.Errorf("backup: reading the target store: %w", err)
	}
	if !empty && !o.Force {
		return Stats{}, ErrNotEmpty
	}

	first, again, cleanup, err := rewindable(r, o.TempDir)
	if err != nil {
		return Stats{}, err
	}
	defer cleanup()
	verified, err := Verify(ctx, first, sealer)
	if sp, ok := first.(*spool); ok && sp.err != nil {
		return Stats{}, fmt.Errorf("backup: spooling the backup to a temporary file: %w", sp.err)
	}
	if err != nil {
		return Stats{}, err
	}
	src, err := again()
	if err != nil {
		return Stats{}, fmt.Errorf("backup: reading the input again: %w", err)
	}

	// From here on every failure leaves a partially restored store.
	w := &batchWriter{ctx: ctx, store: store, size: o.BatchSize, digest: sha256.New()}
	fail := func(err error) (Stats, error) {
		return verified, &IncompleteError{Op: "restore", Written: w.written, Total: verified.Records, Err: err}
	}
	if err := store.Update(ctx, func(tx storage.Writer) error { return tx.Put(IncompleteKey, []byte(verified.ID)) }); err != nil {
		return Stats{}, fmt.Errorf("backup: writing to the target store: %w", err)
	}
	if !empty {
		if err := wipe(ctx, store, o.BatchSize); err != nil {
			return fail(fmt.Errorf("deleting the keys of the target store: %w", err))
		}
	}
	rd, err := newReader(src, sealer)
	if err != nil {
		return fail(err)
	}
	if id := hexID(rd.h.id); id != verified.ID {
		return fail(fmt.Errorf("the input changed between its verification and the restore (backup %s, then %s)", verified.ID, id))
	}
	st, err := rd.readAll(ctx, w.add)
	if err == nil {
		err = w.flush()
	}
	if err != nil {
		return fail(err)
	}
	if st.Records != verified.Records || st.Bytes != verified.Bytes {
		return fail(fmt.Errorf("the input changed between its verification and the restore"))
	}
	if err := w.check(); err != nil {
		return fail(err)
	}
	if err := store.Update(ctx, func(tx storage.Writer) error { return tx.Delete(IncompleteKey) }); err != nil {
		return fail(fmt.Errorf("removing %s: %w", IncompleteKey, err))
	}
	return st, nil
}

// Copy copies every key of from into to, which must be empty (else
// ErrNotEmpty), from one View transaction of from, in Update transactions
// of DefaultBatchSize records. Values are copied as they are, so values
// sealed under the root key stay valid if the servers of to use the same
// root key. Afterwards it reads to back and checks that it holds exactly
// the records copied (count, bytes and a SHA-256 over every key and value).
//
// Like Restore, Copy marks to with IncompleteKey while it writes and
// returns an *IncompleteError if it fails after its first write. It fails
// with an error wrapping ErrIncomplete if from holds IncompleteKey.
func Copy(ctx context.Context, from, to storage.Store) (Stats, error) {
	empty, err := isEmpty(ctx, to)
	if err != nil {
		return Stats{}, fmt.Errorf("backup: reading the target store: %w", err)
	}
	if !empty {
		return Stats{}, ErrNotEmpty
	}
	if _, err := storage.Get(ctx, from, IncompleteKey); err == nil {
		return Stats{}, fmt.Errorf("%w: the source store holds %s", ErrIncomplete, IncompleteKey)
	} else if !errors.Is(err, storage.ErrNotFound) {
		return Stats{}, fmt.Errorf("backup: reading the source store: %w", err)
	}
	w := &batchWriter{ctx: ctx, store: to, size: DefaultBatchSize, digest: sha256.New()}
	if err := to.Update(ctx, func(tx storage.Writer) error { return tx.Put(IncompleteKey, []byte("copy")) }); err != nil {
		return Stats{}, fmt.Errorf("backup: writing to the target store: %w", err)
	}
	var st Stats
	fail := func(err error) (Stats, error) {
		return st, &IncompleteError{Op: "copy", Written: w.written, Total: st.Records, Err: err}
	}
	err = from.View(ctx, func(r storage.Reader) error {
		return r.Scan("", "", func(key string, value []byte) (bool, error) {
			if key == IncompleteKey {
				return false, fmt.Errorf("%w: the source store holds %s", ErrIncomplete, IncompleteKey)
			}
			st.Records++
			st.Bytes += int64(len(key) + len(value))
			return true, w.add(key, append([]byte(nil), value...))
		})
	})
	if err == nil {
		err = w.flush()
	}
	if err != nil {
		return fail(err)
	}
	if err := w.check(); err != nil {
		return fail(err)
	}
	if err := to.Update(ctx, func(tx storage.Writer) error { return tx.Delete(IncompleteKey) }); err != nil {
		return fail(fmt.Errorf("removing %s: %w", IncompleteKey, err))
	}
	return st, nil
}

// batchWriter writes records in Update transactions and keeps a digest of
// everything it was given.
type batchWriter struct {
	ctx     context.Context
	store   storage.Store
	size    int
	batch   []record
	written int64
	records int64
	bytes   int64
	digest  hash.Hash
}

type record struct {
	key   string
	value []byte
}

// add queues a record; value must not change afterwards.
func (w *batchWriter) add(key string, value []byte) error {
	if key == IncompleteKey {
		return fmt.Errorf("the records include the key %s", IncompleteKey)
	}
	writeDigest(w.digest, key, value)
	w.records++
	w.bytes += int64(len(key) + len(value))
	w.batch = append(w.batch, record{key, value})
	if len(w.batch) >= w.size {
		return w.flush()
	}
	return nil
}

func (w *batchWriter) flush() error {
	if len(w.batch) == 0 {
		return nil
	}
	err := w.store.Update(w.ctx, func(tx storage.Writer) error {
		for _, r := range w.batch {
			if err := tx.Put(r.key, r.value); err != nil {
				return fmt.Errorf("writing %q: %w", r.key, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.written += int64(len(w.batch))
	w.batch = w.batch[:0]
	return nil
}

// check reads the store back and compares it with what was written.
func (w *batchWriter) check() error {
	d := sha256.New()
	var n, size int64
	err := w.store.View(w.ctx, func(r storage.Reader) error {
		return r.Scan("", "", func(key string, value []byte) (bool, error) {
			if key != IncompleteKey {
				writeDigest(d, key, value)
				n++
				size += int64(len(key) + len(value))
			}
			return true, nil
		})
	})
	if err != nil {
		return fmt.Errorf("reading the target store back: %w", err)
	}
	if n != w.records || size != w.bytes || string(d.Sum(nil)) != string(w.digest.Sum(nil)) {
		return fmt.Errorf("the target store does not hold what was written: got %d records (%d bytes), want %d (%d bytes), or different contents",
			n, size, w.records, w.bytes)
	}
	return nil
}

func writeDigest(h hash.Hash, key string, value []byte) {
	var b [6]byte
	binary.BigEndian.PutUint16(b[:2], uint16(len(key)))
	binary.BigEndian.PutUint32(b[2:], uint32(len(value)))
	h.Write(b[:2])
	h.Write([]byte(key))
	h.Write(b[2:])
	h.Write(value)
}

// isEmpty reports whether store holds no key.
func isEmpty(ctx context.Context, store storage.Store) (bool, error) {
	empty := true
	err := store.View(ctx, func(r storage.Reader) error {
		return r.Scan("", "", func(string, []byte) (bool, error) {
			empty = false
			return false, nil
		})
	})
	return empty, err
}

// wipe deletes every key of store but IncompleteKey, batch keys per Update.
func wipe(ctx context.Context, store storage.Store, batch int) error {
	for {
		var keys []string
		err := store.Update(ctx, func(w storage.Writer) error {
			keys = keys[:0]
			err := w.Scan("", "", func(key string, _ []byte) (bool, error) {
				if key != IncompleteKey {
					keys = append(keys, key)
				}
				return len(keys) < batch, nil
			})
			if err != nil {
				return err
			}
			for _, k := range keys {
				if err := w.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(keys) == 0 {
			return nil
		}
	}
}

// spool copies what is read from r into a temporary file.
type spool struct {
	r   io.Reader
	f   *os.File
	err error // the first write error
}

func (s *spool) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 && s.err == nil {
		if _, werr := s.f.Write(p[:n]); werr != nil {
			s.err = werr
			return n, werr
		}
	}
	return n, err
}

// rewindable returns a reader for r (first) and a function that returns a
// reader for it again from the start: r itself, rewound, if it can seek,
// else a temporary file in dir that first filled while it was read.
func rewindable(r io.Reader, dir string) (first io.Reader, again func() (io.Reader, error), cleanup func(), err error) {
	if rs, ok := r.(io.ReadSeeker); ok {
		if start, err := rs.Seek(0, io.SeekCurrent); err == nil {
			return rs, func() (io.Reader, error) {
				_, err := rs.Seek(start, io.SeekStart)
				return rs, err
			}, func() {}, nil
		}
	}
	f, err := os.CreateTemp(dir, "openkms-restore-*")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("backup: creating a temporary file for the backup: %w", err)
	}
	sp := &spool{r: r, f: f}
	return sp, func() (io.Reader, error) {
			if sp.err != nil {
				return nil, sp.err
			}
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return nil, err
			}
			return f, nil
		}, func() {
			f.Close()
			os.Remove(f.Name())
		}, nil
}

func hexID(id [16]byte) string { return hex.EncodeToString(id[:]) }
