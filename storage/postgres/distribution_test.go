package postgres

import (
	"context"
	"slices"
	"testing"
)

// globalWithUser are the tables that have a user_id column but are global
// by design: sessions are found by token, the queue is worked by due time
// across all users (README, "Scaling past one database").
var globalWithUser = []string{"sessions", "queue"}

// TestSchemaDistributable keeps the schema distributable by user_id (a
// Citus cluster's create_distributed_table(..., 'user_id')): every table
// with a user_id column is hash-partitioned by it (so PostgreSQL itself
// makes every primary and unique key include it), or is one of the named
// global tables; no per-user table has a foreign key (which could cross
// users or shards); and the global tables are small, keyed by their own
// natural keys.
func TestSchemaDistributable(t *testing.T) {
	s := openTest(t, 2)
	ctx := context.Background()
	rows, err := s.pool.Query(ctx, `
		SELECT c.relname, c.relkind::text, COALESCE(pg_get_partkeydef(c.oid), '')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
		  AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped)
		ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var perUser []string
	for rows.Next() {
		var name, kind, partkey string
		if err := rows.Scan(&name, &kind, &partkey); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(globalWithUser, name) {
			continue
		}
		if kind != "p" || partkey != "HASH (user_id)" {
			t.Errorf("table %s has a user_id column but is not PARTITION BY HASH (user_id) (kind %s, key %q): a per-user table must be, or be listed as global", name, kind, partkey)
			continue
		}
		perUser = append(perUser, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(perUser) < 8 {
		t.Fatalf("found %d per-user tables (%v), want at least the 8 of the first migration", len(perUser), perUser)
	}
	// Every unique index of a per-user table leads with user_id (PostgreSQL
	// only requires that it contain it).
	rows, err = s.pool.Query(ctx, `
		SELECT t.relname, i.relname, (SELECT attname FROM pg_attribute WHERE attrelid = t.oid AND attnum = x.indkey[0])
		FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
		JOIN pg_namespace n ON n.oid = t.relnamespace
		WHERE n.nspname = current_schema() AND x.indisunique AND t.relname = ANY($1)`, perUser)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var table, index, first string
		if err := rows.Scan(&table, &index, &first); err != nil {
			t.Fatal(err)
		}
		if first != "user_id" {
			t.Errorf("unique index %s of %s starts with %s, want user_id", index, table, first)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var fks []string
	rows, err = s.pool.Query(ctx, `
		SELECT conname || ' on ' || conrelid::regclass::text FROM pg_constraint
		WHERE contype = 'f' AND conrelid::regclass::text = ANY($1)`, perUser)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var fk string
		rows.Scan(&fk)
		fks = append(fks, fk)
	}
	if len(fks) > 0 {
		t.Errorf("per-user tables with foreign keys: %v; want none (they may cross users, and shards)", fks)
	}
	t.Logf("per-user tables, distributable by user_id: %v", perUser)
}
