package upgradetest

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stamp-mail/stamp/server"
	"github.com/stamp-mail/stamp/storage"
)

// oldDSNResults is the results column of an item queued before migration
// 80: its DSN parameters as JSON text under the key "=dsn", beside a
// recipient's outcome.
const oldDSNResults = `{"x@r.example":"451 4.4.1 try later","=dsn":"{\"ret\":\"FULL\",\"envid\":\"env-7\",\"rcpts\":{\"x@r.example\":{\"notify\":[\"SUCCESS\",\"FAILURE\"],\"orcpt\":\"rfc822;X@r.example\"}},\"delay_notified\":true}"}`

// checkQueuedDSN opens c with today's code (which migrates) and finds the
// old item's DSN parameters in their columns and gone from results.
func checkQueuedDSN(t *testing.T, c server.Config) {
	t.Helper()
	ctx := context.Background()
	app, err := server.Open(ctx, c, nil)
	if err != nil {
		t.Fatalf("open (migrate) the old database: %v", err)
	}
	defer app.Close()
	items, err := app.Store.ListQueue(ctx)
	if err != nil || len(items) != 2 {
		t.Fatalf("ListQueue: got %d items, %v, want the 2 queued before the upgrade", len(items), err)
	}
	want := storage.QueueDSN{Ret: "FULL", EnvID: "env-7", DelayNotified: true, Rcpts: map[string]storage.RcptDSN{
		"x@r.example": {Notify: []string{"SUCCESS", "FAILURE"}, ORcpt: "rfc822;X@r.example"}}}
	it := items[0]
	if !reflect.DeepEqual(it.DSN, want) {
		t.Errorf("migrated DSN: got %+v, want %+v", it.DSN, want)
	}
	if len(it.Results) != 1 || it.Results["x@r.example"] != "451 4.4.1 try later" {
		t.Errorf("migrated results: got %v, want only the recipient's outcome", it.Results)
	}
	if it.RequireTLS {
		t.Errorf("migrated item: REQUIRETLS set, want unset")
	}
	if p := items[1]; p.DSN.Ret != "" || len(p.DSN.Rcpts) != 0 || p.DSN.DelayNotified || len(p.Results) != 0 {
		t.Errorf("item without DSN: got %+v, want empty", p)
	}
}

// TestUpgradeQueuedDSNSQLite: items queued by the code before migration 80
// (DSN parameters under "=dsn" in results) keep their parameters.
func TestUpgradeQueuedDSNSQLite(t *testing.T) {
	dir := t.TempDir()
	c := config(t, dir)
	c.Storage.DSN = filepath.Join(dir, "stamp.db")
	copyTree(t, filepath.Join("testdata", "v2-blobs"), c.Storage.BlobDir)
	b, err := os.ReadFile(filepath.Join("testdata", "v2.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.Storage.DSN, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", c.Storage.DSN)
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range []string{oldDSNResults, `{}`} {
		if _, err := db.Exec(`INSERT INTO queue (user_id, sender, recipients, segments, size, state, attempts,
			next_attempt_at, created_at, last_error, results) VALUES (0, 'fix@example.test', '["x@r.example"]', '[]', 0,
			'queued', 1, 0, 0, '', ?)`, res); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	checkQueuedDSN(t, c)
}

// TestUpgradeQueuedDSNPostgres is TestUpgradeQueuedDSNSQLite on PostgreSQL.
func TestUpgradeQueuedDSNPostgres(t *testing.T) {
	dsn := freshDatabase(t)
	loadDump(t, dsn, filepath.Join("testdata", "v2.pg.sql"))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range []any{oldDSNResults, nil} {
		if _, err := conn.Exec(ctx, `INSERT INTO queue (user_id, sender, recipients, segments, size, state, attempts,
			next_attempt_at, created_at, results) VALUES (0, 'fix@example.test', '["x@r.example"]', '[]', 0,
			'queued', 1, now(), now(), $1::jsonb)`, res); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close(ctx)
	dir := t.TempDir()
	c := config(t, dir)
	c.Storage.Database, c.Storage.DSN, c.Storage.Partitions = "postgres", dsn, 4
	copyTree(t, filepath.Join("testdata", "v2-blobs"), c.Storage.BlobDir)
	checkQueuedDSN(t, c)
}
