package main

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// TestBackupUnderLoadRestores takes `stamp backup` while six SMTP clients
// stream mail (some messages big enough to live in the blob store), then
// restores it into a new data dir served on other ports: every message
// acknowledged before the backup began is there over IMAP, byte for byte,
// and the restored database passes PRAGMA integrity_check. A second backup
// copies only new blobs.
func TestBackupUnderLoadRestores(t *testing.T) {
	dir := t.TempDir()
	cfg := opsConfig(t, dir, "")
	stamp(t, dir, "a long password\n", "user", "add", "keep@example.test", "--password-stdin", "--config", cfg)
	r := serve(t, dir, "--config", cfg)

	var (
		mu    sync.Mutex
		acked = map[[32]byte]time.Time{}
		count atomic.Int64
		wg    sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := 0; w < 6; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := strings.Repeat(fmt.Sprintf("line %d %d\r\n", w, i), 40)
				if i%10 == 0 {
					// Over the 64 KiB inline limit: a blob-store file.
					body = strings.Repeat(fmt.Sprintf("big %d %d %s\r\n", w, i, strings.Repeat("z", 60)), 1200)
				}
				raw := []byte(fmt.Sprintf("X-Backup-ID: %d-%d\r\nFrom: s@remote.example\r\nTo: keep@example.test\r\nSubject: m %d %d\r\n\r\n%s",
					w, i, w, i, body))
				if err := sendMail(r.addrs["smtp"], "s@remote.example", "keep@example.test", raw); err != nil {
					t.Errorf("send: %v", err)
					return
				}
				mu.Lock()
				acked[sha256.Sum256(raw)] = time.Now()
				mu.Unlock()
				count.Add(1)
			}
		}(w)
	}
	deadline := time.Now().Add(30 * time.Second)
	for count.Load() < 200 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	began := time.Now()
	mu.Lock()
	before := map[[32]byte]bool{}
	for h := range acked {
		before[h] = true
	}
	mu.Unlock()
	bdir := filepath.Join(t.TempDir(), "backups")
	out := stamp(t, dir, "", "backup", bdir, "--config", cfg)
	t.Logf("backup (while load ran): %s", strings.TrimSpace(out))
	if count.Load() <= int64(len(before)) {
		t.Logf("note: no message was acknowledged while the backup ran")
	}
	close(stop)
	wg.Wait()
	if len(before) == 0 {
		t.Fatal("no message acknowledged before the backup")
	}

	// A second backup copies only the blobs that are new since the first.
	out2 := stamp(t, dir, "", "backup", bdir, "--config", cfg)
	t.Logf("second backup: %s", strings.TrimSpace(out2))
	if !strings.Contains(out2, "already in the backup") || strings.Contains(out2, " 0 already in the backup") {
		t.Errorf("second backup: got %q, want blobs reused from the first", out2)
	}

	// An interrupted backup (a .partial- folder without manifest) is never taken.
	os.MkdirAll(filepath.Join(bdir, ".partial-99991231T000000.000Z"), 0o700)
	os.MkdirAll(filepath.Join(bdir, "99991231T000000.000Z"), 0o700) // no manifest: incomplete

	// Restore the first snapshot into a fresh data dir on other ports.
	ents, _ := os.ReadDir(bdir)
	var first string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "20") {
			first = filepath.Join(bdir, e.Name())
			break
		}
	}
	dir2 := t.TempDir()
	cfg2 := opsConfig(t, dir2, "")
	if out := stamp(t, dir2, "", "restore", first, "--config", cfg2); !strings.Contains(out, "restored") {
		t.Fatalf("restore: %q", out)
	}
	// Restoring again over a non-empty data dir is refused without --force.
	cmd := exec.Command(stampBinary(t), "restore", bdir, "--config", cfg2)
	cmd.Dir = dir2
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "not empty") {
		t.Errorf("restore over a non-empty data_dir: got %v %q, want a refusal naming it", err, b)
	}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir2, "stamp-data", "stamp.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	var integrity string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("restored database: PRAGMA integrity_check = %q, %v; want ok", integrity, err)
	}
	db.Close()

	r2 := serve(t, dir2, "--config", cfg2)
	if r2.addrs["imap"] == r.addrs["imap"] {
		t.Fatalf("restored server on the same IMAP port %s", r2.addrs["imap"])
	}
	got := map[[32]byte]bool{}
	for _, b := range fetchFolder(t, r2.addrs["imap"], "keep@example.test", "a long password", "INBOX") {
		i := bytes.Index(b, []byte("X-Backup-ID: "))
		if i < 0 {
			t.Fatalf("restored message without its content")
		}
		got[sha256.Sum256(b[i:])] = true
	}
	missing := 0
	for h := range before {
		if !got[h] {
			missing++
		}
	}
	t.Logf("acknowledged before the backup %d, in the restored server %d (%s since the backup began)", len(before), len(got), time.Since(began).Round(time.Millisecond))
	if missing > 0 {
		t.Fatalf("%d of %d messages acknowledged before the backup are missing after restore", missing, len(before))
	}
}

// TestBackupPostgres is the README's PostgreSQL recipe: `stamp backup`
// runs pg_dump on an exported REPEATABLE READ snapshot and copies the blobs
// that snapshot references; `stamp restore` loads it into an empty database
// (refusing one with Stamp data without --force), and the restored node
// serves the same mail.
func TestBackupPostgres(t *testing.T) {
	if _, err := exec.LookPath("pg_dump"); err != nil {
		t.Skip("SKIPPED: pg_dump not installed")
	}
	dsn := freshDatabase(t)
	dir := t.TempDir()
	cfg := opsConfig(t, dir, fmt.Sprintf("storage: {database: postgres, dsn: %q, partitions: 4}\n", dsn))
	stamp(t, dir, "a long password\n", "user", "add", "pg@example.test", "--password-stdin", "--config", cfg)
	r := serve(t, dir, "--config", cfg)
	var sent [][]byte
	for i := 0; i < 20; i++ {
		body := fmt.Sprintf("small %d\r\n", i)
		if i%5 == 0 {
			body = strings.Repeat(fmt.Sprintf("big %d %s\r\n", i, strings.Repeat("q", 70)), 1000)
		}
		raw := []byte(fmt.Sprintf("X-Backup-ID: %d\r\nFrom: s@remote.example\r\nTo: pg@example.test\r\nSubject: pg %d\r\n\r\n%s", i, i, body))
		if err := sendMail(r.addrs["smtp"], "s@remote.example", "pg@example.test", raw); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, raw)
	}
	bdir := filepath.Join(t.TempDir(), "backups")
	out := stamp(t, dir, "", "backup", bdir, "--config", cfg)
	t.Logf("backup: %s", strings.TrimSpace(out))
	if !strings.Contains(out, "postgres metadata stamp.pgdump") || !strings.Contains(out, "4 blobs") {
		t.Errorf("backup: got %q, want a pg_dump and the 4 big messages' blobs", out)
	}

	// Into the same (non-empty) database: refused without --force.
	dir2 := t.TempDir()
	cmd := exec.Command(stampBinary(t), "restore", bdir, "--config", cfg)
	cmd.Dir = dir2
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "--force") {
		t.Errorf("restore into a database with data: got %v %q, want a refusal", err, b)
	}
	dsn2 := freshDatabase(t)
	cfg2 := opsConfig(t, dir2, fmt.Sprintf("storage: {database: postgres, dsn: %q, partitions: 4}\n", dsn2))
	if out := stamp(t, dir2, "", "restore", bdir, "--config", cfg2); !strings.Contains(out, "with 4 blobs") {
		t.Fatalf("restore: %q", out)
	}
	r2 := serve(t, dir2, "--config", cfg2)
	got := fetchFolder(t, r2.addrs["imap"], "pg@example.test", "a long password", "INBOX")
	if len(got) != len(sent) {
		t.Fatalf("restored INBOX: got %d messages, want %d", len(got), len(sent))
	}
	have := map[[32]byte]bool{}
	for _, b := range got {
		if i := bytes.Index(b, []byte("X-Backup-ID: ")); i >= 0 {
			have[sha256.Sum256(b[i:])] = true
		}
	}
	for i, raw := range sent {
		if !have[sha256.Sum256(raw)] {
			t.Errorf("message %d not restored byte for byte", i)
		}
	}
}
