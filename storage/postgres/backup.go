package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// BlobRef is a blob of the blob store that the database knows.
type BlobRef struct {
	Hash       string
	Size       int64
	Referenced bool
}

// Snapshot opens a REPEATABLE READ, READ ONLY transaction, exports its
// snapshot (pg_export_snapshot) and calls fn with the snapshot's name and
// the blob-store blobs (not inline) visible in it, while the transaction
// stays open. fn typically runs pg_dump --snapshot=name, so the dump and
// the blob list describe the same instant.
func (s *Store) Snapshot(ctx context.Context, fn func(snapshot string, blobs []BlobRef) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: snapshot: %w", err)
	}
	defer conn.Release()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("postgres: snapshot: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var name string
	if err := tx.QueryRow(ctx, `SELECT pg_export_snapshot()`).Scan(&name); err != nil {
		return fmt.Errorf("postgres: export snapshot: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT hash, size, refcount > 0 FROM blobs b
		WHERE NOT EXISTS (SELECT 1 FROM blob_data d WHERE d.hash = b.hash) ORDER BY hash`)
	if err != nil {
		return fmt.Errorf("postgres: snapshot blobs: %w", err)
	}
	var refs []BlobRef
	for rows.Next() {
		var b BlobRef
		if err := rows.Scan(&b.Hash, &b.Size, &b.Referenced); err != nil {
			rows.Close()
			return err
		}
		refs = append(refs, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: snapshot blobs: %w", err)
	}
	return fn(name, refs)
}

// SchemaVersion returns the highest applied migration (0 for an empty database).
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("postgres: schema version: %w", err)
	}
	return v, nil
}

// ExistingSchemaVersion connects to dsn without migrating anything and
// returns the highest applied migration, 0 if the database holds no Stamp
// schema.
func ExistingSchemaVersion(ctx context.Context, dsn string) (int, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, fmt.Errorf("postgres: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var v int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("postgres: schema version: %w", err)
	}
	return v, nil
}
