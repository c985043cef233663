package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openkms/openkms/internal/storage"
	"github.com/openkms/openkms/internal/storage/storagetest"
)

// testDSN returns the DSN of the test server from OPENKMS_TEST_POSTGRES_DSN
// (scripts/postgres-start.sh prints one). Without it the test is skipped,
// unless OPENKMS_REQUIRE_ALL=1, as in CI, where it fails.
func testDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("OPENKMS_TEST_POSTGRES_DSN")
	if dsn == "" {
		if os.Getenv("OPENKMS_REQUIRE_ALL") == "1" {
			t.Fatal("OPENKMS_TEST_POSTGRES_DSN is not set but OPENKMS_REQUIRE_ALL=1: CI must provide PostgreSQL (run scripts/postgres-start.sh)")
		}
		t.Skip("OPENKMS_TEST_POSTGRES_DSN is not set; run scripts/postgres-start.sh and export the DSN it prints")
	}
	return dsn
}

// freshSchema returns the name of a schema that does not exist yet, and
// drops it (with everything in it) when the test ends.
func freshSchema(t testing.TB, dsn string) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	name := "openkms_test_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("drop schema %s: connect: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

func openStore(t testing.TB, dsn, schema string, opts *Options) *Store {
	t.Helper()
	var o Options
	if opts != nil {
		o = *opts
	}
	o.Schema = schema
	s, err := Open(context.Background(), dsn, &o)
	if err != nil {
		t.Fatalf("Open(schema %s): got error %v, want nil", schema, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// adminConn is a plain connection for checks behind the store's back.
func adminConn(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func put(t testing.TB, s storage.Store, key, value string) {
	t.Helper()
	err := s.Update(t.Context(), func(w storage.Writer) error { return w.Put(key, []byte(value)) })
	if err != nil {
		t.Fatalf("Put(%q): got error %v, want nil", key, err)
	}
}

func wantValue(t testing.TB, s storage.Store, key, want string) {
	t.Helper()
	got, err := storage.Get(t.Context(), s, key)
	if err != nil || string(got) != want {
		t.Fatalf("Get(%q): got (%q, %v), want (%q, nil)", key, got, err, want)
	}
}

func TestConformance(t *testing.T) {
	dsn := testDSN(t)
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return openStore(t, dsn, freshSchema(t, dsn), nil)
	})
}

// TestConformanceSmallBatches runs the suite with two rows per Scan query,
// so that every scan crosses batch boundaries.
func TestConformanceSmallBatches(t *testing.T) {
	dsn := testDSN(t)
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s := openStore(t, dsn, freshSchema(t, dsn), nil)
		s.scanBatch = 2
		return s
	})
}

// TestTwoNodes checks that two Stores on one schema, as two OpenKMS nodes,
// see each other's commits.
func TestTwoNodes(t *testing.T) {
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	a := openStore(t, dsn, schema, nil)
	b := openStore(t, dsn, schema, nil)
	put(t, a, "k", "from a")
	wantValue(t, b, "k", "from a")
	if err := storage.CompareAndSwap(t.Context(), b, "k", []byte("from a"), []byte("from b")); err != nil {
		t.Fatalf("CompareAndSwap on b: got error %v, want nil", err)
	}
	wantValue(t, a, "k", "from b")
	if err := storage.CompareAndSwap(t.Context(), a, "k", []byte("from a"), []byte("stale")); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("stale CompareAndSwap on a: got error %v, want ErrConflict", err)
	}

	// A store in another schema of the same database is independent.
	other := openStore(t, dsn, freshSchema(t, dsn), nil)
	if got, err := storage.Get(t.Context(), other, "k"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Get(k) in another schema: got (%q, %v), want ErrNotFound", got, err)
	}
}

// TestConcurrentIncrementsTwoNodes increments one counter from many
// goroutines on two Stores: serialization failures must be retried so that
// no increment is lost.
func TestConcurrentIncrementsTwoNodes(t *testing.T) {
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	nodes := []*Store{openStore(t, dsn, schema, nil), openStore(t, dsn, schema, nil)}
	const perNode, increments = 8, 25
	var calls atomic.Int64
	var wg sync.WaitGroup
	for _, s := range nodes {
		for range perNode {
			wg.Go(func() {
				for range increments {
					err := s.Update(t.Context(), func(w storage.Writer) error {
						calls.Add(1)
						n := 0
						v, err := w.Get("counter")
						switch {
						case errors.Is(err, storage.ErrNotFound):
						case err != nil:
							return err
						default:
							if n, err = strconv.Atoi(string(v)); err != nil {
								return err
							}
						}
						return w.Put("counter", []byte(strconv.Itoa(n+1)))
					})
					if err != nil {
						t.Errorf("increment: got error %v, want nil", err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	want := len(nodes) * perNode * increments
	wantValue(t, nodes[0], "counter", strconv.Itoa(want))
	t.Logf("%d increments took %d runs of fn (%d retries)", want, calls.Load(), calls.Load()-int64(want))
}

// TestUpdateRetriesSerializationFailure makes the first attempt of an
// Update conflict with a concurrent commit, and checks that Update runs fn
// again, and that MaxAttempts bounds the attempts.
func TestUpdateRetriesSerializationFailure(t *testing.T) {
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	for _, tc := range []struct {
		maxAttempts int
		wantCalls   int
		wantErr     bool
	}{
		{maxAttempts: 1, wantCalls: 1, wantErr: true},
		{maxAttempts: 3, wantCalls: 2, wantErr: false},
	} {
		t.Run(fmt.Sprintf("MaxAttempts=%d", tc.maxAttempts), func(t *testing.T) {
			s := openStore(t, dsn, schema, &Options{MaxAttempts: tc.maxAttempts})
			other := openStore(t, dsn, schema, nil)
			put(t, s, "n", "0")
			calls := 0
			err := s.Update(t.Context(), func(w storage.Writer) error {
				calls++
				v, err := w.Get("n")
				if err != nil {
					return err
				}
				if calls == 1 { // a concurrent node commits in between
					put(t, other, "n", "100")
				}
				n, _ := strconv.Atoi(string(v))
				return w.Put("n", []byte(strconv.Itoa(n+1)))
			})
			if calls != tc.wantCalls {
				t.Errorf("fn calls: got %d, want %d", calls, tc.wantCalls)
			}
			if tc.wantErr {
				if !isSerializationFailure(err) {
					t.Fatalf("Update: got error %v, want a serialization failure (40001)", err)
				}
				wantValue(t, s, "n", "100")
				return
			}
			if err != nil {
				t.Fatalf("Update: got error %v, want nil", err)
			}
			wantValue(t, s, "n", "101")
		})
	}
}

func TestUpdateCancelledInsideFn(t *testing.T) {
	dsn := testDSN(t)
	s := openStore(t, dsn, freshSchema(t, dsn), nil)
	ctx, cancel := context.WithCancel(t.Context())
	err := s.Update(ctx, func(w storage.Writer) error {
		if err := w.Put("k", []byte("v")); err != nil {
			return err
		}
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Update cancelled before commit: got error %v, want context.Canceled", err)
	}
	if got, err := storage.Get(t.Context(), s, "k"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Get(k) after cancelled Update: got (%q, %v), want ErrNotFound", got, err)
	}
	put(t, s, "k", "after") // the pool still works
	wantValue(t, s, "k", "after")
}

func TestMigrations(t *testing.T) {
	dsn := testDSN(t)
	admin := adminConn(t, dsn)
	versions := func(schema string) string {
		t.Helper()
		rows, err := admin.Query(t.Context(), "SELECT version FROM "+pgx.Identifier{schema, "schema_migrations"}.Sanitize()+" ORDER BY version")
		if err != nil {
			t.Fatalf("read schema_migrations: %v", err)
		}
		vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
		if err != nil {
			t.Fatalf("read schema_migrations: %v", err)
		}
		return fmt.Sprint(vs)
	}
	want := fmt.Sprint([]int{1})

	t.Run("Reopen", func(t *testing.T) {
		schema := freshSchema(t, dsn)
		s := openStore(t, dsn, schema, nil)
		put(t, s, "k", "v")
		s.Close()
		s = openStore(t, dsn, schema, nil)
		wantValue(t, s, "k", "v")
		if got := versions(schema); got != want {
			t.Fatalf("schema_migrations after two Opens: got %s, want %s", got, want)
		}
	})

	t.Run("ConcurrentOpen", func(t *testing.T) {
		schema := freshSchema(t, dsn)
		var wg sync.WaitGroup
		stores := make([]*Store, 3)
		errs := make([]error, 3)
		for i := range stores {
			wg.Go(func() { stores[i], errs[i] = Open(t.Context(), dsn, &Options{Schema: schema}) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("concurrent Open %d: got error %v, want nil", i, err)
			}
			t.Cleanup(func() { stores[i].Close() })
		}
		if got := versions(schema); got != want {
			t.Fatalf("schema_migrations after concurrent Opens: got %s, want %s", got, want)
		}
		put(t, stores[0], "k", "v")
		wantValue(t, stores[2], "k", "v")
	})

	t.Run("NewerSchema", func(t *testing.T) {
		schema := freshSchema(t, dsn)
		openStore(t, dsn, schema, nil).Close()
		_, err := admin.Exec(t.Context(), "INSERT INTO "+pgx.Identifier{schema, "schema_migrations"}.Sanitize()+" (version) VALUES (999)")
		if err != nil {
			t.Fatal(err)
		}
		s, err := Open(t.Context(), dsn, &Options{Schema: schema})
		var ve *versionError
		if !errors.As(err, &ve) {
			if s != nil {
				s.Close()
			}
			t.Fatalf("Open of a schema at version 999: got error %v, want a version error", err)
		}
	})

	t.Run("SearchPath", func(t *testing.T) {
		schema := freshSchema(t, dsn)
		if _, err := admin.Exec(t.Context(), "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(dsn)
		if err != nil {
			t.Skipf("DSN is not a URL: %v", err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		s, err := Open(t.Context(), u.String(), nil)
		if err != nil {
			t.Fatalf("Open without Options.Schema: got error %v, want nil", err)
		}
		defer s.Close()
		if got := s.Schema(); got != schema {
			t.Fatalf("Schema(): got %q, want %q (from search_path)", got, schema)
		}
	})
}

// TestKeysPostgresCannotHold checks keys with NUL bytes or invalid UTF-8,
// which text cannot store: Put fails, Get finds nothing, Delete does
// nothing, and Scan still filters bytewise.
func TestKeysPostgresCannotHold(t *testing.T) {
	dsn := testDSN(t)
	s := openStore(t, dsn, freshSchema(t, dsn), nil)
	for _, k := range []string{"a\x00b", "a\xffb", "\xc3"} {
		err := s.Update(t.Context(), func(w storage.Writer) error { return w.Put(k, []byte("v")) })
		if err == nil {
			t.Errorf("Put(%q): got nil error, want an error", k)
		}
		if got, err := storage.Get(t.Context(), s, k); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Get(%q): got (%q, %v), want ErrNotFound", k, got, err)
		}
		err = s.Update(t.Context(), func(w storage.Writer) error { return w.Delete(k) })
		if err != nil {
			t.Errorf("Delete(%q): got error %v, want nil", k, err)
		}
	}
	// A rejected Put does not abort the transaction.
	err := s.Update(t.Context(), func(w storage.Writer) error {
		_ = w.Put("bad\x00", []byte("v"))
		return w.Put("good", []byte("v"))
	})
	if err != nil {
		t.Fatalf("Update after a rejected Put: got error %v, want nil", err)
	}
	keys := []string{"a", "aé", "aê", "a\u007f", "a\u0080", "a\U0010FFFF", "a\U0010FFFFz", "b", "\uD7FF", "\uE000"}
	for _, k := range keys {
		put(t, s, k, "v")
	}
	scan := func(prefix, after string) string {
		var got []string
		err := s.View(t.Context(), func(r storage.Reader) error {
			return r.Scan(prefix, after, func(k string, _ []byte) (bool, error) {
				got = append(got, k)
				return true, nil
			})
		})
		if err != nil {
			t.Fatalf("Scan(%q, %q): got error %v, want nil", prefix, after, err)
		}
		return fmt.Sprintf("%q", got)
	}
	for _, c := range []struct {
		prefix, after string
		want          []string
	}{
		{"a\xc3", "", []string{"aé", "aê"}}, // a prefix that ends inside a rune
		{"a\xc3\xa9", "", []string{"aé"}},
		{"a\x00", "", nil},
		{"a\U0010FFFF", "", []string{"a\U0010FFFF", "a\U0010FFFFz"}},
		{"a\u007f", "", []string{"a\u007f"}},
		{"a", "a\xc3", []string{"aé", "aê", "a\U0010FFFF", "a\U0010FFFFz"}},
		{"a", "a\xc3\xff", []string{"a\U0010FFFF", "a\U0010FFFFz"}},
		{"", "a\U0010FFFF\x00", []string{"a\U0010FFFFz", "b", "good", "\uD7FF", "\uE000"}},
		{"\uD7FF", "", []string{"\uD7FF"}}, // the bound skips the surrogates
		{"\xed", "", []string{"\uD7FF"}},
		{"\xee", "", []string{"\uE000"}},
	} {
		if got, want := scan(c.prefix, c.after), fmt.Sprintf("%q", c.want); got != want {
			t.Errorf("Scan(%q, after %q): got %s, want %s", c.prefix, c.after, got, want)
		}
	}
}

// TestScanManyBatches scans more rows than one query fetches while the
// callback rewrites and deletes them.
func TestScanManyBatches(t *testing.T) {
	dsn := testDSN(t)
	s := openStore(t, dsn, freshSchema(t, dsn), nil)
	const n = 3*defaultScanBatch + 7
	err := s.Update(t.Context(), func(w storage.Writer) error {
		for i := range n {
			if err := w.Put(fmt.Sprintf("m/%05d", i), []byte("v")); err != nil {
				return err
			}
		}
		return w.Put("n", []byte("outside"))
	})
	if err != nil {
		t.Fatalf("Put %d keys: got error %v, want nil", n, err)
	}
	seen := 0
	err = s.Update(t.Context(), func(w storage.Writer) error {
		seen = 0
		return w.Scan("m/", "", func(k string, _ []byte) (bool, error) {
			if want := fmt.Sprintf("m/%05d", seen); k != want {
				return false, fmt.Errorf("key %d: got %q, want %q", seen, k, want)
			}
			seen++
			if seen%100 == 0 {
				return true, w.Delete(k)
			}
			return true, nil
		})
	})
	if err != nil {
		t.Fatalf("Scan: got error %v, want nil", err)
	}
	if seen != n {
		t.Fatalf("Scan visited: got %d keys, want %d", seen, n)
	}
}

func TestUnavailable(t *testing.T) {
	dsn := testDSN(t)
	s, err := Open(t.Context(), "postgres://openkms:openkms@127.0.0.1:1/openkms_test?sslmode=disable&connect_timeout=5", nil)
	if !errors.Is(err, ErrUnavailable) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open of a closed port: got error %v, want ErrUnavailable", err)
	}

	// A wrong password is a configuration error, not unavailability.
	u, err := url.Parse(dsn)
	if err != nil {
		t.Skipf("DSN is not a URL: %v", err)
	}
	u.User = url.UserPassword(u.User.Username(), "wrong-password")
	s, err = Open(t.Context(), u.String(), nil)
	if err == nil || errors.Is(err, ErrUnavailable) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Open with a wrong password: got error %v, want an error not wrapping ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), "wrong-password") {
		t.Fatalf("Open error reveals the password: %v", err)
	}
}

// pooledPIDs returns the server process IDs of the idle pooled connections.
func (s *Store) pooledPIDs() []uint32 {
	s.pool.mu.Lock()
	defer s.pool.mu.Unlock()
	var pids []uint32
	for _, c := range s.pool.idle {
		pids = append(pids, c.PgConn().PID())
	}
	return pids
}

// TestRecoversFromKilledConnections terminates every pooled connection on
// the server side, as a server restart does, and checks that the Store goes
// on without being reopened.
func TestRecoversFromKilledConnections(t *testing.T) {
	dsn := testDSN(t)
	s := openStore(t, dsn, freshSchema(t, dsn), &Options{MaxConns: 3})
	put(t, s, "k", "v")
	var wg sync.WaitGroup
	for range 3 { // fill the pool
		wg.Go(func() {
			_ = s.View(t.Context(), func(r storage.Reader) error {
				time.Sleep(50 * time.Millisecond)
				return nil
			})
		})
	}
	wg.Wait()
	pids := s.pooledPIDs()
	if len(pids) == 0 {
		t.Fatal("pooled connections: got none, want some")
	}
	admin := adminConn(t, dsn)
	for _, pid := range pids {
		if _, err := admin.Exec(t.Context(), "SELECT pg_terminate_backend($1)", int64(pid)); err != nil {
			t.Fatalf("pg_terminate_backend(%d): %v", pid, err)
		}
	}
	time.Sleep(100 * time.Millisecond)
	wantValue(t, s, "k", "v")
	put(t, s, "k", "v2")
	wantValue(t, s, "k", "v2")
}

func TestNotifyListen(t *testing.T) {
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	a := openStore(t, dsn, schema, nil)
	b := openStore(t, dsn, schema, nil)
	other := openStore(t, dsn, freshSchema(t, dsn), nil)

	got := make(chan string, 10)
	stop, err := b.Listen(t.Context(), "keys", func(p string) { got <- p })
	if err != nil {
		t.Fatalf("Listen: got error %v, want nil", err)
	}
	defer stop()
	otherGot := make(chan string, 10)
	stopOther, err := other.Listen(t.Context(), "keys", func(p string) { otherGot <- p })
	if err != nil {
		t.Fatalf("Listen in another schema: got error %v, want nil", err)
	}
	defer stopOther()

	for _, payload := range []string{"key/1 changed", "", "é"} {
		if err := a.Notify(t.Context(), "keys", payload); err != nil {
			t.Fatalf("Notify(%q): got error %v, want nil", payload, err)
		}
		select {
		case p := <-got:
			if p != payload {
				t.Fatalf("notification: got %q, want %q", p, payload)
			}
		case <-time.After(time.Second):
			t.Fatalf("notification %q: got nothing within 1s, want it", payload)
		}
	}
	select {
	case p := <-otherGot:
		t.Fatalf("listener in another schema: got %q, want nothing", p)
	default:
	}

	stop()
	stop() // twice is fine
	if err := a.Notify(t.Context(), "keys", "after stop"); err != nil {
		t.Fatalf("Notify: got error %v, want nil", err)
	}
	select {
	case p := <-got:
		t.Fatalf("after stop: got %q, want nothing", p)
	case <-time.After(200 * time.Millisecond):
	}

	if _, err := a.Listen(t.Context(), strings.Repeat("x", 64), func(string) {}); err == nil {
		t.Fatal("Listen with a 64-byte channel: got nil error, want an error")
	}
	b.Close()
	if _, err := b.Listen(t.Context(), "keys", func(string) {}); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("Listen after Close: got error %v, want ErrClosed", err)
	}
	if err := b.Notify(t.Context(), "keys", "x"); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("Notify after Close: got error %v, want ErrClosed", err)
	}
}

// heldLockPID returns the server process ID of the connection that holds
// the lock taken with TryLock(name).
func (s *Store) heldLockPID(t *testing.T) uint32 {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for h := range s.locks {
		return h.conn.PgConn().PID()
	}
	t.Fatal("held locks: got none, want one")
	return 0
}

func TestTryLock(t *testing.T) {
	dsn := testDSN(t)
	schema := freshSchema(t, dsn)
	a := openStore(t, dsn, schema, nil)
	b := openStore(t, dsn, schema, nil)
	ctx := t.Context()
	tryLock := func(s *Store, name string, want bool) func() {
		t.Helper()
		unlock, ok, err := s.TryLock(ctx, name)
		if err != nil || ok != want {
			t.Fatalf("TryLock(%q): got (ok %v, %v), want (ok %v, nil)", name, ok, err, want)
		}
		return unlock
	}

	unlockA := tryLock(a, "rotation", true)
	tryLock(b, "rotation", false)
	tryLock(a, "rotation", false) // another session of the same store
	unlockOther := tryLock(b, "deletion", true)
	unlockOther()
	unlockA()
	unlockA() // twice is fine
	tryLock(b, "rotation", true)
	tryLock(a, "rotation", false)

	// The server releases the lock when the holder's connection dies.
	admin := adminConn(t, dsn)
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend($1)", int64(b.heldLockPID(t))); err != nil {
		t.Fatalf("pg_terminate_backend: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		unlock, ok, err := a.TryLock(ctx, "rotation")
		if err != nil {
			t.Fatalf("TryLock after the holder died: got error %v, want nil", err)
		}
		if ok {
			defer unlock()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("TryLock after the holder died: got ok false for 5s, want ok true")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Close releases the locks of the store.
	tryLock(b, "shutdown", true)
	b.Close()
	tryLock(a, "shutdown", true)
	if _, _, err := b.TryLock(ctx, "x"); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("TryLock after Close: got error %v, want ErrClosed", err)
	}
}

// TestServerRestart restarts the server with the command in
// OPENKMS_PG_CTL_RESTART (for example "$PWD/scripts/postgres-start.sh
// restart") and checks that a Store keeps working without being reopened,
// and that a listener resubscribes.
//
// Restarting a server breaks every other test using it, so when
// OPENKMS_TEST_POSTGRES_RESTART_DSN names a dedicated server (as CI sets
// it, next to OPENKMS_PG_CTL_RESTART restarting that server) it is used
// instead of the shared one.
func TestServerRestart(t *testing.T) {
	dsn := testDSN(t)
	if d := os.Getenv("OPENKMS_TEST_POSTGRES_RESTART_DSN"); d != "" {
		dsn = d
	}
	restart := os.Getenv("OPENKMS_PG_CTL_RESTART")
	if restart == "" {
		t.Skip("OPENKMS_PG_CTL_RESTART is not set; set it to a command that restarts the test server, e.g. \"$PWD/scripts/postgres-start.sh restart\"")
	}
	schema := freshSchema(t, dsn)
	a := openStore(t, dsn, schema, nil)
	b := openStore(t, dsn, schema, nil)
	put(t, a, "k", "before")
	got := make(chan string, 100)
	stop, err := b.Listen(t.Context(), "restart", func(p string) { got <- p })
	if err != nil {
		t.Fatalf("Listen: got error %v, want nil", err)
	}
	defer stop()

	if out, err := exec.CommandContext(t.Context(), "sh", "-c", restart).CombinedOutput(); err != nil {
		t.Fatalf("restart command %q: %v\n%s", restart, err, out)
	}

	put(t, a, "k", "after")
	wantValue(t, b, "k", "after")

	// Notifications sent before the listener resubscribed are lost: send
	// until one arrives.
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for received := false; !received; {
		select {
		case <-got:
			received = true
		case <-tick.C:
			if err := a.Notify(t.Context(), "restart", "ping"); err != nil {
				t.Fatalf("Notify after restart: got error %v, want nil", err)
			}
		case <-deadline:
			t.Fatal("listener after restart: got no notification within 20s, want one")
		}
	}
}

func benchStore(b *testing.B) *Store {
	dsn := testDSN(b)
	s := openStore(b, dsn, freshSchema(b, dsn), nil)
	put(b, s, "key/us-east-1/111122223333/1234abcd", strings.Repeat("v", 200))
	return s
}

func BenchmarkGet(b *testing.B) {
	s := benchStore(b)
	for b.Loop() {
		if _, err := storage.Get(b.Context(), s, "key/us-east-1/111122223333/1234abcd"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpdate(b *testing.B) {
	s := benchStore(b)
	v := []byte(strings.Repeat("w", 200))
	for b.Loop() {
		err := s.Update(b.Context(), func(w storage.Writer) error {
			return w.Put("key/us-east-1/111122223333/1234abcd", v)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
