package sqlite

import (
	"context"
	"path/filepath"
	"testing"
)

// TestMigrationFailsHalfway: a migration whose last statement fails leaves
// the database as it was (its earlier statements are rolled back and its
// version is not recorded), and applies once fixed.
func TestMigrationFailsHalfway(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "stamp.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	saved := migrations
	t.Cleanup(func() { migrations = saved })
	migrations = append(append([]migration(nil), saved...), migration{89, `
CREATE TABLE halfway (id INTEGER PRIMARY KEY);
ALTER TABLE users ADD COLUMN halfway_col TEXT;
INSERT INTO no_such_table VALUES (1);`})
	if _, err := Open(ctx, path, Options{}); err == nil {
		t.Fatal("open: got no error, want the failing migration's")
	}
	migrations = saved
	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var tables, cols, recorded int
	s.r.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'halfway'`).Scan(&tables)
	s.r.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('users') WHERE name = 'halfway_col'`).Scan(&cols)
	s.r.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = 89`).Scan(&recorded)
	s.Close()
	if tables != 0 || cols != 0 || recorded != 0 {
		t.Errorf("after a failed migration: got table %d, column %d, version row %d; want all 0 (nothing applied)", tables, cols, recorded)
	}
}
