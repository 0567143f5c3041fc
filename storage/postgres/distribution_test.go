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
// makes every primary and unique key include it) or has a primary key
// leading with it, or is one of the named global tables; unique indexes lead with user_id; and a per-user table's
// foreign keys stay within its user (to users(id), or through user_id).
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
		if kind == "p" && partkey == "HASH (user_id)" {
			perUser = append(perUser, name)
			continue
		}
		// A plain table is per-user too if its primary key leads with
		// user_id (one row per user, such as user_settings): Citus can
		// distribute it as it is.
		var first string
		err := s.pool.QueryRow(ctx, `SELECT a.attname FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid
			JOIN pg_namespace n ON n.oid = c.relnamespace
			JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = x.indkey[0]
			WHERE n.nspname = current_schema() AND c.relname = $1 AND x.indisprimary`, name).Scan(&first)
		if err != nil || first != "user_id" {
			t.Errorf("table %s has a user_id column but is neither PARTITION BY HASH (user_id) (kind %s, key %q) nor keyed by user_id first (%q, %v): a per-user table must be, or be listed as global", name, kind, partkey, first, err)
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
	// Foreign keys of per-user tables may point at the same user's row in
	// users (a reference table under Citus) or at a per-user table through
	// user_id; anything else could cross users, and shards.
	rows, err = s.pool.Query(ctx, `
		SELECT c.conname, c.conrelid::regclass::text, c.confrelid::regclass::text,
			ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = c.conrelid AND attnum = ANY(c.conkey)),
			ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = c.confrelid AND attnum = ANY(c.confkey))
		FROM pg_constraint c
		WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY($1)`, perUser)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name, from, to string
		var cols, refCols []string
		if err := rows.Scan(&name, &from, &to, &cols, &refCols); err != nil {
			t.Fatal(err)
		}
		sameUser := to == "users" && slices.Equal(cols, []string{"user_id"}) && slices.Equal(refCols, []string{"id"})
		viaUser := slices.Contains(perUser, to) && slices.Contains(cols, "user_id") && slices.Contains(refCols, "user_id")
		if !sameUser && !viaUser {
			t.Errorf("foreign key %s of %s %v -> %s %v may cross users: want user_id -> users(id) or a key through user_id", name, from, cols, to, refCols)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("per-user tables, distributable by user_id: %v", perUser)
}
