package upgradetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/server"
	"github.com/stamp-mail/stamp/storage"
)

// versions are the earlier schema versions with fixtures.
var versions = []string{"v1", "v2"}

// copyTree copies the fixture blob folder (tests must not change testdata).
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if fi.IsDir() {
			return os.MkdirAll(dst, 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func config(t *testing.T, dir string) server.Config {
	t.Helper()
	c, err := server.Load("")
	if err != nil {
		t.Fatal(err)
	}
	c.DataDir = dir
	c.Storage.BlobDir = filepath.Join(dir, "blobs")
	return c
}

// check opens c with today's code (which migrates) and finds the fixture's
// data intact, then delivers one more message.
func check(t *testing.T, c server.Config) {
	t.Helper()
	ctx := context.Background()
	app, err := server.Open(ctx, c, nil)
	if err != nil {
		t.Fatalf("open (migrate) the old database: %v", err)
	}
	defer app.Close()
	app.Service.Start(ctx)
	svc := app.Service
	u, err := svc.Authenticate(ctx, "fix@example.test", "fixture password", "127.0.0.1")
	if err != nil {
		t.Fatalf("the old user cannot log in: %v", err)
	}
	mbs, err := svc.ListMailboxes(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mb := range mbs {
		names = append(names, mb.Name)
	}
	for _, want := range []string{"INBOX", "Sent", "Drafts", "Junk", "Trash", "Archive", "Projects/Old"} {
		if !slices.Contains(names, want) {
			t.Errorf("folders: got %v, want %s among them", names, want)
		}
	}
	base := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	type want struct {
		folder  string
		subject string
		flags   []string
		date    time.Time
		size    int
	}
	wants := []want{
		{"INBOX", "first", []string{`\Seen`}, base, 0},
		{"INBOX", "second", []string{"$Important", `\Flagged`}, base.Add(time.Hour), 0},
		{"INBOX", "big", nil, base.Add(2 * time.Hour), 129000 + 48},
		{"Projects/Old", "in a folder", []string{`\Answered`, `\Seen`}, base.Add(3 * time.Hour), 0},
	}
	for _, w := range wants {
		mb, err := svc.GetMailboxByName(ctx, u.ID, w.folder)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := svc.MessagesByUID(ctx, u.ID, mb.ID, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		var found *core.Message
		for i := range ms {
			if ms[i].Subject == w.subject {
				found = &ms[i]
			}
		}
		if found == nil {
			t.Errorf("%s: message %q lost", w.folder, w.subject)
			continue
		}
		flags := append([]string(nil), found.Flags...)
		slices.Sort(flags)
		if !slices.Equal(flags, w.flags) {
			t.Errorf("%q: flags got %v, want %v", w.subject, flags, w.flags)
		}
		if !found.InternalDate.Equal(w.date) {
			t.Errorf("%q: internal date got %s, want %s", w.subject, found.InternalDate, w.date)
		}
		raw, err := svc.ReadMessage(ctx, *found)
		if err != nil {
			t.Errorf("%q: bytes unreadable after the upgrade: %v", w.subject, err)
			continue
		}
		if int64(len(raw)) != found.Size || !strings.Contains(string(raw), "Subject: "+w.subject+"\r\n") {
			t.Errorf("%q: got %d bytes (size %d), want the original message", w.subject, len(raw), found.Size)
		}
		if w.size > 0 && len(raw) != w.size {
			t.Errorf("%q: got %d bytes, want %d", w.subject, len(raw), w.size)
		}
	}
	// The old mail is searchable (SQLite migration 90 moves it into the key
	// index): body words, a subject word through TEXT, an address.
	for _, c := range []struct {
		folder, needle string
		body           bool
		want           int
	}{
		{"INBOX", "FIRST message", true, 1},
		{"INBOX", "attachment-sized", true, 1},
		{"INBOX", "message", true, 2},
		{"INBOX", "ann@remote", false, 1},
		{"INBOX", "filed", true, 0},
		{"Projects/Old", "FILED", true, 1}, // PostgreSQL keeps mail from before its migration 20 as words only
		{"Projects/Old", "folder", false, 1},
	} {
		mb, err := svc.GetMailboxByName(ctx, u.ID, c.folder)
		if err != nil {
			t.Fatal(err)
		}
		q := storage.SearchQuery{MailboxID: mb.ID, AnyText: []string{c.needle}}
		if c.body {
			q = storage.SearchQuery{MailboxID: mb.ID, Body: []string{c.needle}}
		}
		if got, err := app.Store.SearchUIDs(ctx, u.ID, q); err != nil || len(got) != c.want {
			t.Errorf("search %s for %q after the upgrade: got %v, %v, want %d", c.folder, c.needle, got, err, c.want)
		}
	}
	if v, err := app.Store.GetKV(ctx, "fixture/written-by"); err != nil || string(v) != "older stamp" {
		t.Errorf("kv: got %q, %v; want the old value", v, err)
	}
	// Mail still flows into the upgraded database, with the next UID.
	inbox, _ := svc.GetMailboxByName(ctx, u.ID, "INBOX")
	m, err := svc.Append(ctx, u.ID, inbox.ID, nil, time.Now(), []byte("Subject: after the upgrade\r\n\r\nnew\r\n"))
	if err != nil {
		t.Fatalf("append after upgrade: %v", err)
	}
	if m.UID != 4 {
		t.Errorf("append after upgrade: UID %d, want 4 (after the three old ones)", m.UID)
	}
}

func TestUpgradeSQLite(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			dir := t.TempDir()
			c := config(t, dir)
			c.Storage.DSN = filepath.Join(dir, "stamp.db")
			copyTree(t, filepath.Join("testdata", v+"-blobs"), c.Storage.BlobDir)
			b, err := os.ReadFile(filepath.Join("testdata", v+".db"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(c.Storage.DSN, b, 0o600); err != nil {
				t.Fatal(err)
			}
			check(t, c)
		})
	}
}

// psql finds the psql binary (Debian keeps it under /usr/lib/postgresql).
func psql(t *testing.T) string {
	if p, err := exec.LookPath("psql"); err == nil {
		return p
	}
	ms, _ := filepath.Glob("/usr/lib/postgresql/*/bin/psql")
	if len(ms) == 0 {
		t.Skip("SKIPPED: psql not installed")
	}
	return ms[len(ms)-1]
}

// freshDatabase creates an empty database and returns its DSN.
func freshDatabase(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("STAMP_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("SKIPPED: STAMP_TEST_POSTGRES_DSN not set (scripts/test.sh starts a throwaway PostgreSQL)")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("stamp_upgrade_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		conn.Close(context.Background())
	})
	u, _ := url.Parse(dsn)
	u.Path = "/" + name
	return u.String()
}

func loadDump(t *testing.T, dsn, file string) {
	t.Helper()
	out, err := exec.Command(psql(t), "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "--dbname="+dsn, "--file="+file).CombinedOutput()
	if err != nil {
		t.Fatalf("psql -f %s: %v\n%s", file, err, out)
	}
}

func TestUpgradePostgres(t *testing.T) {
	for _, v := range versions {
		t.Run(v, func(t *testing.T) {
			dsn := freshDatabase(t)
			loadDump(t, dsn, filepath.Join("testdata", v+".pg.sql"))
			dir := t.TempDir()
			c := config(t, dir)
			c.Storage.Database, c.Storage.DSN, c.Storage.Partitions = "postgres", dsn, 4
			copyTree(t, filepath.Join("testdata", v+"-blobs"), c.Storage.BlobDir)
			check(t, c)
		})
	}
}

// TestNewerSchemaRefused: a database with a migration this binary does not
// know (as a newer stamp would leave it) is refused with a clear message,
// on both backends, and `stamp serve` would stop at the same error.
func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			c := config(t, dir)
			switch backend {
			case "sqlite":
				c.Storage.DSN = filepath.Join(dir, "stamp.db")
			case "postgres":
				c.Storage.Database, c.Storage.DSN, c.Storage.Partitions = "postgres", freshDatabase(t), 4
			}
			app, err := server.Open(ctx, c, nil)
			if err != nil {
				t.Fatal(err)
			}
			// A newer stamp's migration 9999 (inside nobody's range).
			if err := insertVersion(ctx, app.Store, c, 9999); err != nil {
				t.Fatal(err)
			}
			app.Close()
			_, err = server.Open(ctx, c, nil)
			if !errors.Is(err, storage.ErrSchemaTooNew) {
				t.Fatalf("open a newer database: got %v, want ErrSchemaTooNew", err)
			}
			if !strings.Contains(err.Error(), "9999") || !strings.Contains(err.Error(), "newer") {
				t.Errorf("message %q: want it to name the unknown migration and say newer", err)
			}
		})
	}
}

func insertVersion(ctx context.Context, st storage.Store, c server.Config, v int) error {
	switch c.Storage.Database {
	case "postgres":
		conn, err := pgx.Connect(ctx, c.Storage.DSN)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", v)
		return err
	default:
		db, err := sql.Open("sqlite", "file:"+c.Storage.DSN)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.ExecContext(ctx, "INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)", v, time.Now().Unix())
		return err
	}
}
