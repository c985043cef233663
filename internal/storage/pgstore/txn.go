package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/openkms/openkms/internal/storage"
)

// errTxDone is returned by a Reader or Writer used after its fn returned.
var errTxDone = errors.New("pgstore: transaction used after its function returned")

// txn is the Reader and Writer handed to fn. It is not safe for concurrent
// use, like the connection under it.
type txn struct {
	s        *Store
	ctx      context.Context
	tx       pgx.Tx
	writable bool
	done     bool
	// err is the first statement error. PostgreSQL aborts the transaction
	// after it, so every later call fails with it too, and Update decides
	// from it whether to run fn again.
	err    error
	writes uint64 // lets Scan notice writes made by its callback
}

func (t *txn) usable() error {
	if t.done {
		return errTxDone
	}
	if t.err != nil {
		return fmt.Errorf("pgstore: transaction aborted by an earlier error: %w", t.err)
	}
	return nil
}

// fail records err, a statement's error, as the transaction's error and
// returns it wrapped for the caller.
func (t *txn) fail(op string, err error) error {
	err = classify(t.ctx, op, t.tx.Conn(), err)
	if t.err == nil {
		t.err = err
	}
	return err
}

func checkKey(key string) error {
	switch {
	case key == "":
		return errors.New("pgstore: empty key")
	case len(key) > storage.MaxKeyLen:
		return fmt.Errorf("pgstore: key of %d bytes exceeds the limit of %d", len(key), storage.MaxKeyLen)
	}
	return nil
}

// storable reports whether s fits in a PostgreSQL text value: valid UTF-8
// without NUL bytes.
func storable(s string) bool {
	return utf8.ValidString(s) && !strings.Contains(s, "\x00")
}

// storablePrefix returns the longest prefix of s that is storable.
func storablePrefix(s string) string {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == 0 || (r == utf8.RuneError && size == 1) {
			return s[:i]
		}
		i += size
	}
	return s
}

// upperBound returns the least storable string that sorts bytewise after
// every string that starts with the storable string p, or ok false if there
// is none (p is empty or made of U+10FFFF). It replaces the last rune of p by
// the next valid rune: UTF-8 is prefix-free and orders runes by code point,
// so that string sorts after every extension of p and before any other
// string that does not start with p.
func upperBound(p string) (bound string, ok bool) {
	for p != "" {
		r, size := utf8.DecodeLastRuneInString(p)
		p = p[:len(p)-size]
		if r < utf8.MaxRune {
			r++
			if r == 0xD800 { // skip the surrogates, which UTF-8 cannot encode
				r = 0xE000
			}
			return p + string(r), true
		}
	}
	return "", false
}

// Get implements storage.Reader. The returned value is owned by the caller;
// an empty stored value is returned as a non-nil empty slice. A key that
// PostgreSQL text cannot hold (NUL bytes, invalid UTF-8) is not found.
func (t *txn) Get(key string) ([]byte, error) {
	if err := t.usable(); err != nil {
		return nil, err
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if !storable(key) {
		return nil, storage.ErrNotFound
	}
	var v []byte
	err := t.tx.QueryRow(t.ctx, t.s.q.get, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, t.fail("get", err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

type row struct {
	key   string
	value []byte
}

// Scan implements storage.Reader. It fetches the keys in batches of
// defaultScanBatch rows, so a long scan never holds more than one batch. The
// value passed to fn belongs to fn. fn may write through the same Writer:
// Scan then continues strictly after the last key it passed to fn, in the
// table as fn left it. Scan checks ctx between keys and returns an error
// wrapping ctx.Err() once it is done.
func (t *txn) Scan(prefix, after string, fn func(key string, value []byte) (bool, error)) error {
	if err := t.usable(); err != nil {
		return err
	}
	// The SQL bounds use only storable strings, which may make them wider
	// than the exact ones; the exact ones are checked below.
	from, inclusive := prefix, true
	if after >= prefix {
		from, inclusive = after, false
	}
	if !storable(from) {
		from, inclusive = storablePrefix(from), true
	}
	hi, bounded := upperBound(storablePrefix(prefix))
	batch := make([]row, 0, t.s.scanBatch)
	for {
		if err := t.usable(); err != nil {
			return err
		}
		var err error
		batch, err = t.fetch(batch[:0], from, inclusive, hi, bounded)
		if err != nil {
			return t.fail("scan", err)
		}
		changed := false
		for _, r := range batch {
			from, inclusive = r.key, false
			if r.key <= after || r.key < prefix {
				continue
			}
			if !strings.HasPrefix(r.key, prefix) {
				return nil // past the keys with this prefix
			}
			if err := t.ctx.Err(); err != nil {
				return fmt.Errorf("pgstore: scan: %w", err)
			}
			writes := t.writes
			more, err := fn(r.key, r.value)
			if err != nil || !more {
				return err
			}
			if t.writes != writes {
				// fn changed the table: the rest of the batch may be stale.
				changed = true
				break
			}
		}
		if !changed && len(batch) < t.s.scanBatch {
			return nil
		}
	}
}

// fetch appends to batch the rows after (or from, if inclusive) the key
// from and below hi, if bounded, in key order, at most t.s.scanBatch.
func (t *txn) fetch(batch []row, from string, inclusive bool, hi string, bounded bool) ([]row, error) {
	var i, j int
	if inclusive {
		i = 1
	}
	args := []any{from, t.s.scanBatch}
	if bounded {
		j = 1
		args = []any{from, hi, t.s.scanBatch}
	}
	rows, err := t.tx.Query(t.ctx, t.s.q.scan[i][j], args...)
	if err != nil {
		return batch, err
	}
	defer rows.Close()
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.key, &r.value); err != nil {
			return batch, err
		}
		if r.value == nil {
			r.value = []byte{}
		}
		batch = append(batch, r)
	}
	return batch, rows.Err()
}

// Put implements storage.Writer. The value is sent to the server before Put
// returns, so the caller may reuse it; a nil value is stored as an empty
// one. A key that PostgreSQL text cannot hold (NUL bytes, invalid UTF-8) is
// rejected; that error does not abort the transaction.
func (t *txn) Put(key string, value []byte) error {
	if err := t.usable(); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if !storable(key) {
		return fmt.Errorf("pgstore: key %q is not valid UTF-8 or contains a NUL byte", key)
	}
	if value == nil {
		value = []byte{}
	}
	t.writes++
	if _, err := t.tx.Exec(t.ctx, t.s.q.put, key, value); err != nil {
		return t.fail("put", err)
	}
	return nil
}

// Delete implements storage.Writer. A key that PostgreSQL text cannot hold
// cannot exist, so deleting it does nothing.
func (t *txn) Delete(key string) error {
	if err := t.usable(); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	if !storable(key) {
		return nil
	}
	t.writes++
	if _, err := t.tx.Exec(t.ctx, t.s.q.del, key); err != nil {
		return t.fail("delete", err)
	}
	return nil
}
