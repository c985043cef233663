package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// migrations[v-1] upgrades the schema from version v-1 to version v; %[1]s
// is the quoted schema name. Append new migrations; never edit one that has
// been released.
var migrations = []string{
	// 1: the key-value table. COLLATE "C" compares bytes, the order that
	// storage.Reader.Scan promises.
	`CREATE TABLE %[1]s.kv (
		key   text COLLATE "C" PRIMARY KEY CHECK (octet_length(key) BETWEEN 1 AND 1024),
		value bytea NOT NULL
	)`,
}

// maxIdentLen is PostgreSQL's limit on identifiers (NAMEDATALEN-1); longer
// ones are silently truncated.
const maxIdentLen = 63

// migrate resolves the schema, creates it if needed and applies the missing
// migrations, in one transaction that holds an advisory lock for the schema,
// so that concurrent Opens apply each migration once.
func (s *Store) migrate(ctx context.Context, schema string) error {
	if schema != "" && (len(schema) > maxIdentLen || !storable(schema)) {
		return fmt.Errorf("pgstore: open: invalid schema name %q (at most %d bytes of UTF-8, no NUL)", schema, maxIdentLen)
	}
	conn, err := s.pool.acquire(ctx)
	if err != nil {
		return classify(ctx, "open", nil, err)
	}
	defer s.pool.release(conn)

	var encoding string
	if err := conn.QueryRow(ctx, "SHOW server_encoding").Scan(&encoding); err != nil {
		return classify(ctx, "open", conn, err)
	}
	if encoding != "UTF8" {
		return fmt.Errorf("pgstore: open: database encoding is %s, want UTF8", encoding)
	}
	if schema == "" {
		var cur *string
		if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&cur); err != nil {
			return classify(ctx, "open", conn, err)
		}
		if cur == nil {
			return errors.New("pgstore: open: the search_path names no existing schema; set Options.Schema")
		}
		schema = *cur
	}
	s.schema = schema

	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return classify(ctx, "open: migrate", conn, err)
	}
	defer s.rollback(ctx, tx)
	if err := applyMigrations(ctx, tx, schema); err != nil {
		return classify(ctx, "open: migrate", conn, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return classify(ctx, "open: migrate: commit", conn, err)
	}
	return nil
}

// versionError reports a schema migrated by a newer OpenKMS.
type versionError struct{ have, want int }

func (e *versionError) Error() string {
	return fmt.Sprintf("schema version %d is newer than this version of OpenKMS supports (%d)", e.have, e.want)
}

func applyMigrations(ctx context.Context, tx pgx.Tx, schema string) error {
	quoted := pgx.Identifier{schema}.Sanitize()
	table := pgx.Identifier{schema, "schema_migrations"}.Sanitize()
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", advisoryKey(schema, "migrate", "")); err != nil {
		return err
	}
	// Check before creating: CREATE ... IF NOT EXISTS needs the CREATE
	// privilege even when the object exists, and a deployment may have
	// created the schema for a role without it.
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		if _, err := tx.Exec(ctx, "CREATE SCHEMA "+quoted); err != nil {
			return err
		}
	}
	if err := tx.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", table).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		_, err := tx.Exec(ctx, "CREATE TABLE "+table+` (
			version    integer PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`)
		if err != nil {
			return err
		}
	}
	var version int
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM "+table).Scan(&version); err != nil {
		return err
	}
	if version > len(migrations) {
		return &versionError{have: version, want: len(migrations)}
	}
	for v := version + 1; v <= len(migrations); v++ {
		if _, err := tx.Exec(ctx, fmt.Sprintf(migrations[v-1], quoted)); err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO "+table+" (version) VALUES ($1)", v); err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
	}
	return nil
}
