// Package pgstore is the PostgreSQL storage backend: a storage.Store in one
// table of a PostgreSQL database, shared by every OpenKMS node of a cluster.
// It speaks the PostgreSQL protocol through pgx
// (https://github.com/jackc/pgx).
//
// It owns, inside one schema (Options.Schema, or the connection's current
// schema): the kv table (key text COLLATE "C" primary key, value bytea), the
// schema_migrations table that records which migrations ran, and a small
// pool of connections. Open applies missing migrations in one transaction
// under a transaction-level advisory lock, so nodes that start at once do
// not race. It also offers the cluster primitives built on the same database:
// Notify/Listen (LISTEN/NOTIFY) and TryLock (session advisory locks).
//
// Keys are UTF-8 strings in a text column with the "C" collation, which
// compares bytes, so ORDER BY key and range scans follow the bytewise order
// storage.Reader.Scan promises (the order of the bbolt backend). PostgreSQL
// text cannot hold a NUL byte or invalid UTF-8: Put rejects such a key, Get
// reports it as not found and Delete ignores it. Scan accepts any prefix and
// any `after` and filters exactly.
//
// Isolation: Update runs SERIALIZABLE, so Updates are serializable with
// respect to each other, as storage.Store requires, without explicit row
// locks; a transaction PostgreSQL aborts with a serialization failure
// (SQLSTATE 40001) or a deadlock (40P01) runs again, up to
// Options.MaxAttempts times with jittered exponential backoff (the contract
// lets fn run more than once). View runs REPEATABLE READ READ ONLY: one
// consistent snapshot (taken at its first read) that never blocks writers,
// never waits, and never fails with a serialization error. SERIALIZABLE READ
// ONLY DEFERRABLE would also exclude SSI's read-only anomaly, but may wait
// for a safe snapshot; the contract asks only for a consistent snapshot.
// See https://www.postgresql.org/docs/current/transaction-iso.html.
//
// Durability: sessions run with synchronous_commit on (Open rejects a DSN
// that turns it off), so when Update returns nil the commit record has been
// flushed to the WAL on disk on the primary (and, if the server is set up
// for synchronous replication, on the synchronous standbys).
//
// Availability: errors caused by an unreachable or restarting server wrap
// ErrUnavailable, so the service can answer with a retryable error. Pooled
// connections that a server restart broke are discarded and replaced
// without reopening the Store. A COMMIT whose connection fails has an
// unknown outcome; Update then returns an error wrapping ErrUnavailable and
// does not run fn again.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/openkms/openkms/internal/storage"
)

// ErrUnavailable is wrapped by errors caused by a database that cannot be
// reached or lost the connection (refused or timed-out connects, a server
// shutting down or restarting, a broken connection). The operation may
// succeed if retried later. It is storage.ErrUnavailable.
var ErrUnavailable = storage.ErrUnavailable

// DefaultMaxAttempts is how many times Update runs a transaction that keeps
// failing with a serialization failure, a deadlock or a lost connection,
// when Options.MaxAttempts is zero.
const DefaultMaxAttempts = 20

// Backoff between Update attempts: a random duration up to
// min(maxBackoff, baseBackoff<<attempt).
const (
	baseBackoff = time.Millisecond
	maxBackoff  = 200 * time.Millisecond
)

// defaultScanBatch is how many rows Scan fetches per query.
const defaultScanBatch = 256

// defaultConnectTimeout bounds a connection attempt when the DSN does not
// set connect_timeout.
const defaultConnectTimeout = 10 * time.Second

// commitTimeout bounds a COMMIT. A commit is not interrupted by the
// caller's context, because an interrupted commit has an unknown outcome.
const commitTimeout = 30 * time.Second

// cleanupTimeout bounds a ROLLBACK, an unlock or a connection close.
const cleanupTimeout = 5 * time.Second

// Options configure Open. The zero value is ready to use.
type Options struct {
	// Schema is the PostgreSQL schema that holds the store's tables. Open
	// creates it if it does not exist. Empty means the current schema of
	// the connection (the first existing schema on its search_path, normally
	// "public"). Stores in different schemas of one database are
	// independent, which isolates tests and clusters sharing a server.
	Schema string

	// MaxConns bounds the connections of the transaction pool. Zero means
	// max(4, runtime.NumCPU()). Listen and TryLock use dedicated connections
	// outside this bound.
	MaxConns int

	// MaxAttempts bounds how many times Update runs a transaction that
	// fails with a serialization failure, a deadlock or a lost connection
	// before it gives up. Zero means DefaultMaxAttempts.
	MaxAttempts int
}

// Store is a storage.Store backed by a PostgreSQL database.
//
// A Store is safe for concurrent use. Each View and Update holds one pooled
// connection while fn runs, so fn must not start another transaction on the
// same Store when that could exhaust Options.MaxConns.
type Store struct {
	cfg         *pgx.ConnConfig
	schema      string
	pool        *pool
	maxAttempts int
	scanBatch   int
	q           queries

	mu        sync.Mutex
	closed    bool
	inflight  sync.WaitGroup // Views, Updates and Notifies in progress
	listeners map[*listener]struct{}
	locks     map[*heldLock]struct{}
}

var _ storage.Store = (*Store)(nil)

// queries holds the SQL of the store's statements, with the table names
// qualified by the schema.
type queries struct {
	get, put, del string
	// scan[inclusive][bounded] selects a batch of rows from a lower bound
	// ($1, inclusive or not) below an optional upper bound ($2).
	scan [2][2]string
}

func newQueries(schema string) queries {
	kv := pgx.Identifier{schema, "kv"}.Sanitize()
	var q queries
	q.get = "SELECT value FROM " + kv + " WHERE key = $1"
	q.put = "INSERT INTO " + kv + " (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
	q.del = "DELETE FROM " + kv + " WHERE key = $1"
	for i, op := range []string{">", ">="} {
		q.scan[i][0] = "SELECT key, value FROM " + kv + " WHERE key " + op + " $1 ORDER BY key LIMIT $2"
		q.scan[i][1] = "SELECT key, value FROM " + kv + " WHERE key " + op + " $1 AND key < $2 ORDER BY key LIMIT $3"
	}
	return q
}

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value connection string, as libpq accepts), checks the server, and
// applies missing schema migrations. opts may be nil.
//
// Open fails with an error wrapping ErrUnavailable if the server cannot be
// reached, and with a plain error if the DSN is invalid, authentication
// fails, the database does not use the UTF8 encoding, or the schema was
// migrated by a newer version of OpenKMS. ctx bounds Open only.
func Open(ctx context.Context, dsn string, opts *Options) (*Store, error) {
	if opts == nil {
		opts = &Options{}
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// ParseConfig's errors quote the DSN, and may not manage to
		// redact every form of password in it.
		return nil, errors.New("pgstore: open: invalid DSN (details withheld: they may contain the password)")
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = defaultConnectTimeout
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "openkms"
	}
	switch sc := cfg.RuntimeParams["synchronous_commit"]; sc {
	case "":
		cfg.RuntimeParams["synchronous_commit"] = "on"
	case "off":
		return nil, errors.New("pgstore: open: synchronous_commit=off would acknowledge updates before they are durable")
	}
	maxConns := opts.MaxConns
	if maxConns <= 0 {
		maxConns = max(4, runtime.NumCPU())
	}
	s := &Store{
		cfg:         cfg,
		pool:        newPool(cfg, maxConns),
		maxAttempts: opts.MaxAttempts,
		scanBatch:   defaultScanBatch,
		listeners:   map[*listener]struct{}{},
		locks:       map[*heldLock]struct{}{},
	}
	if s.maxAttempts <= 0 {
		s.maxAttempts = DefaultMaxAttempts
	}
	if err := s.migrate(ctx, opts.Schema); err != nil {
		s.pool.close()
		return nil, err
	}
	s.q = newQueries(s.schema)
	return s, nil
}

// Schema returns the schema that holds the store's tables.
func (s *Store) Schema() string { return s.schema }

// enter admits an operation: it fails if ctx is done or the store is
// closed, and otherwise counts the operation until the caller calls
// s.inflight.Done.
func (s *Store) enter(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pgstore: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("pgstore: %w", storage.ErrClosed)
	}
	s.inflight.Add(1)
	return nil
}

var (
	viewTx   = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	updateTx = pgx.TxOptions{IsoLevel: pgx.Serializable, AccessMode: pgx.ReadWrite}
)

// View implements storage.Store: fn runs once in a REPEATABLE READ READ
// ONLY transaction. View returns fn's error unchanged, an error wrapping
// ctx.Err() if ctx is done before fn runs, an error wrapping
// storage.ErrClosed after Close, or an error wrapping ErrUnavailable if no
// transaction could be started. Reader errors that fn returns wrap
// ErrUnavailable or ctx.Err() when those are the cause.
func (s *Store) View(ctx context.Context, fn func(storage.Reader) error) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.inflight.Done()
	conn, tx, err := s.begin(ctx, viewTx)
	if err != nil {
		return err
	}
	t := &txn{s: s, ctx: ctx, tx: tx}
	err = fn(t)
	t.done = true
	s.rollback(ctx, tx)
	s.pool.release(conn)
	return err
}

// Update implements storage.Store: fn runs in a SERIALIZABLE transaction,
// which commits if fn returns nil. fn runs again, in a new transaction,
// when PostgreSQL aborts the previous one with a serialization failure or a
// deadlock, or its connection is lost before the commit: at most
// Options.MaxAttempts times in all, with jittered backoff in between.
//
// Update returns nil once the commit is durable; fn's error unchanged (after
// rolling back); an error wrapping ctx.Err() if ctx is done before the
// commit starts (nothing is written); an error wrapping storage.ErrClosed
// after Close; or an error wrapping ErrUnavailable if the database cannot
// be reached or the connection failed during the commit (the outcome is
// then unknown).
func (s *Store) Update(ctx context.Context, fn func(storage.Writer) error) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.inflight.Done()
	for attempt := 1; ; attempt++ {
		conn, tx, err := s.begin(ctx, updateTx)
		if err != nil {
			return err
		}
		t := &txn{s: s, ctx: ctx, tx: tx, writable: true}
		fnErr := fn(t)
		t.done = true
		var retryErr error // why this attempt failed, if it may be retried
		switch {
		case t.err != nil && retryable(t.err):
			// The transaction is aborted; whatever fn made of the error, a
			// new attempt may succeed.
			s.rollback(ctx, tx)
			retryErr = t.err
		case fnErr != nil:
			s.rollback(ctx, tx)
			s.pool.release(conn)
			return fnErr
		case ctx.Err() != nil:
			s.rollback(ctx, tx)
			s.pool.release(conn)
			return fmt.Errorf("pgstore: update: %w", ctx.Err())
		default:
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
			err := tx.Commit(cctx)
			cancel()
			switch {
			case err == nil:
				s.pool.release(conn)
				return nil
			case t.err != nil:
				// fn ignored a failed statement; PostgreSQL rolled back.
				s.pool.release(conn)
				return fmt.Errorf("pgstore: commit: transaction aborted by an earlier error: %w", t.err)
			case isSerializationFailure(err):
				retryErr = fmt.Errorf("pgstore: commit: %w", err)
			default:
				broken := conn.IsClosed() || isConnLoss(conn, err)
				s.pool.release(conn)
				if broken {
					s.pool.discardIdle()
					return fmt.Errorf("pgstore: commit outcome unknown: %w: %w", ErrUnavailable, err)
				}
				return fmt.Errorf("pgstore: commit: %w", err)
			}
		}
		broken := conn.IsClosed()
		s.pool.release(conn)
		if broken {
			s.pool.discardIdle()
		}
		if attempt >= s.maxAttempts {
			if fnErr != nil {
				return fnErr
			}
			return fmt.Errorf("pgstore: update: giving up after %d attempts: %w", attempt, retryErr)
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return fmt.Errorf("pgstore: update: %w", err)
		}
	}
}

// begin takes a pooled connection and starts a transaction on it. A pooled
// connection broken by a server restart fails on BEGIN; begin then drops
// the idle connections (they are most likely broken too) and tries again
// on a new one. Failing to connect is not retried: it returns an error
// wrapping ErrUnavailable at once.
func (s *Store) begin(ctx context.Context, opts pgx.TxOptions) (*pgx.Conn, pgx.Tx, error) {
	const maxStale = 3
	for i := 1; ; i++ {
		conn, err := s.pool.acquire(ctx)
		if err != nil {
			return nil, nil, classify(ctx, "connect", nil, err)
		}
		tx, err := conn.BeginTx(ctx, opts)
		if err == nil {
			return conn, tx, nil
		}
		lost := ctx.Err() == nil && isConnLoss(conn, err)
		s.pool.release(conn)
		if !lost || i >= maxStale {
			return nil, nil, classify(ctx, "begin", conn, err)
		}
		s.pool.discardIdle()
	}
}

// rollback ends tx. It runs even when ctx is done, so that the connection
// can go back to the pool; a connection it fails on is closed by pgx and
// then discarded by release.
func (s *Store) rollback(ctx context.Context, tx pgx.Tx) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_ = tx.Rollback(rctx)
}

// Close stops the listeners, releases the locks taken with TryLock, waits
// for running Views, Updates and Notifies to finish and closes the
// connections. It is safe to call more than once; later calls return nil.
// Close must not be called from inside fn or a Listen callback.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var stops []func()
	for l := range s.listeners {
		stops = append(stops, l.stop)
	}
	for h := range s.locks {
		stops = append(stops, h.unlock)
	}
	s.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
	s.inflight.Wait()
	s.pool.close()
	return nil
}

// retryable reports whether a transaction that failed with err may succeed
// if run again: serialization failures, deadlocks, and connections lost
// before the commit.
func retryable(err error) bool {
	return isSerializationFailure(err) || errors.Is(err, ErrUnavailable)
}

func isSerializationFailure(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// isConnLoss reports whether err means the server cannot be reached or the
// connection is gone. conn may be nil.
func isConnLoss(conn *pgx.Conn, err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			pgErr.Code == "57P01", // admin_shutdown
			pgErr.Code == "57P02", // crash_shutdown
			pgErr.Code == "57P03", // cannot_connect_now (starting up)
			pgErr.Code == "53300": // too_many_connections
			return true
		}
		return false // a server's answer: authentication, missing database, ...
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connectErr), errors.As(err, &netErr),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	return conn != nil && conn.IsClosed()
}

// classify wraps a database error for the caller: with ctx's error when ctx
// is done, with ErrUnavailable when the connection is the cause.
func classify(ctx context.Context, op string, conn *pgx.Conn, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		if errors.Is(err, ctxErr) {
			return fmt.Errorf("pgstore: %s: %w", op, err)
		}
		return fmt.Errorf("pgstore: %s: %w (%w)", op, ctxErr, err)
	}
	if errors.Is(err, ErrUnavailable) || errors.Is(err, storage.ErrClosed) {
		return fmt.Errorf("pgstore: %s: %w", op, err)
	}
	if isConnLoss(conn, err) {
		return fmt.Errorf("pgstore: %s: %w: %w", op, ErrUnavailable, err)
	}
	return fmt.Errorf("pgstore: %s: %w", op, err)
}

// backoff returns a random delay before attempt+1, growing exponentially
// with attempt up to maxBackoff ("full jitter").
func backoff(attempt int) time.Duration {
	d := min(maxBackoff, baseBackoff<<min(attempt, 16))
	return time.Duration(rand.Int64N(int64(d))) + 1
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// advisoryKey derives a 64-bit advisory lock key from the schema and a name,
// so that stores in different schemas do not share locks.
func advisoryKey(schema, kind, name string) int64 {
	h := fnv.New64a()
	for _, part := range []string{"openkms/pgstore", kind, schema, name} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return int64(h.Sum64())
}
