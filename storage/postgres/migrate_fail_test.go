package postgres

import (
	"context"
	"testing"
)

// TestMigrationFailsHalfway: a migration whose second statement fails
// leaves the database as it was: its first statement is rolled back, its
// version is not recorded, and the next start tries it again.
func TestMigrationFailsHalfway(t *testing.T) {
	s := openTest(t, 2)
	ctx := context.Background()
	s.testMigrations = []migration{{version: 89, stmts: []string{
		`CREATE TABLE halfway (id bigint PRIMARY KEY)`,
		`ALTER TABLE users ADD COLUMN halfway_col text`,
		`INSERT INTO no_such_table VALUES (1)`,
	}}}
	if err := s.migrate(ctx, 2); err == nil {
		t.Fatal("migrate: got no error, want the failing migration's")
	}
	var tables, cols, recorded int
	s.pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'halfway'`, s.schema).Scan(&tables)
	s.pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns WHERE table_schema = $1 AND column_name = 'halfway_col'`, s.schema).Scan(&cols)
	s.pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = 89`).Scan(&recorded)
	if tables != 0 || cols != 0 || recorded != 0 {
		t.Errorf("after a failed migration: got table %d, column %d, version row %d; want all 0 (nothing applied)", tables, cols, recorded)
	}
	// Fixed, it applies on the next start.
	s.testMigrations[0].stmts = s.testMigrations[0].stmts[:2]
	if err := s.migrate(ctx, 2); err != nil {
		t.Fatalf("migrate after the fix: %v", err)
	}
	s.pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = 89`).Scan(&recorded)
	if recorded != 1 {
		t.Errorf("version 89 after the fix: got %d rows, want 1", recorded)
	}
}
