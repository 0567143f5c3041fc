package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
)

// BackupFile writes a consistent copy of the database at src into dest (a
// new file) with VACUUM INTO, which reads one snapshot of the database, WAL
// included, while other connections keep writing. It uses a connection of
// its own, so a running server's writer is never held up.
func BackupFile(ctx context.Context, src, dest string) error {
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("sqlite: backup: %s already exists", dest)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	db, err := sql.Open("sqlite", "file:"+src+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, dest); err != nil {
		os.Remove(dest)
		return fmt.Errorf("sqlite: backup into %s: %w", dest, err)
	}
	return nil
}

// FileInfo is what CheckFile reads from a database file that is not open.
type FileInfo struct {
	// Integrity is the result of PRAGMA integrity_check: "ok" when sound.
	Integrity string
	// SchemaVersion is the highest applied migration.
	SchemaVersion int
	// Blobs are the blobs the database references whose bytes live in the
	// blob store (not inline), with whether anything still references them.
	Blobs []BlobRef
}

// BlobRef is a blob of the blob store that a database knows.
type BlobRef struct {
	Hash       string
	Size       int64
	Referenced bool
}

// CheckFile opens the database file at path read-only, runs PRAGMA
// integrity_check and lists its blob-store blobs and schema version.
func CheckFile(ctx context.Context, path string) (FileInfo, error) {
	var fi FileInfo
	if _, err := os.Stat(path); err != nil {
		return fi, fmt.Errorf("sqlite: %w", err)
	}
	q := url.Values{}
	q.Add("mode", "ro")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return fi, fmt.Errorf("sqlite: %w", err)
	}
	defer db.Close()
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&fi.Integrity); err != nil {
		return fi, fmt.Errorf("sqlite: integrity check of %s: %w", path, err)
	}
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&fi.SchemaVersion); err != nil {
		return fi, fmt.Errorf("sqlite: schema version of %s: %w", path, err)
	}
	rows, err := db.QueryContext(ctx, `SELECT hash, size, refcount > 0 FROM blobs b
		WHERE NOT EXISTS (SELECT 1 FROM blob_data d WHERE d.hash = b.hash) ORDER BY hash`)
	if err != nil {
		return fi, fmt.Errorf("sqlite: blobs of %s: %w", path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var b BlobRef
		if err := rows.Scan(&b.Hash, &b.Size, &b.Referenced); err != nil {
			return fi, err
		}
		fi.Blobs = append(fi.Blobs, b)
	}
	return fi, rows.Err()
}
