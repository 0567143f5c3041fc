package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/jackc/pgx/v5"
)

// freshDatabase creates an empty database on the test PostgreSQL server and
// returns its DSN; it is dropped at cleanup.
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
	name := fmt.Sprintf("stamp_e2e_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		conn.Close(context.Background())
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// TestTwoNodesIDLE runs two stamp nodes on one PostgreSQL database and one
// shared blob directory: an IMAP client IDLEs on node B while a message is
// delivered over SMTP to node A, and must see EXISTS within a second.
func TestTwoNodesIDLE(t *testing.T) {
	dsn := freshDatabase(t)
	shared := t.TempDir()
	cfgFor := func(node string) (dir, cfg string) {
		dir = filepath.Join(shared, node)
		os.MkdirAll(dir, 0o700)
		cfg = filepath.Join(dir, "stamp.yaml")
		os.WriteFile(cfg, []byte(fmt.Sprintf(`hostname: %s.cluster.test
storage: {database: postgres, dsn: %q, partitions: 4, blob_dir: %q}
listen: {smtp: "127.0.0.1:0", submission: "", submissions: "", imap: "127.0.0.1:0", imaps: "", pop3: "", pop3s: "", http: "", managesieve: ""}
`, node, dsn, filepath.Join(shared, "blobs"))), 0o600)
		return dir, cfg
	}
	dirA, cfgA := cfgFor("a")
	dirB, cfgB := cfgFor("b")
	stamp(t, dirA, "a long password\n", "user", "add", "idle@example.test", "--password-stdin", "--config", cfgA)
	a := serve(t, dirA, "--config", cfgA)
	b := serve(t, dirB, "--config", cfgB)

	exists := make(chan uint32, 16)
	c, err := imapclient.DialInsecure(b.addrs["imap"], &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					exists <- *d.NumMessages
				}
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("idle@example.test", "a long password").Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let node B's IDLE settle
	start := time.Now()
	raw := []byte("From: x@remote.example\r\nTo: idle@example.test\r\nSubject: across nodes\r\n\r\nhello from node A\r\n")
	if err := sendMail(a.addrs["smtp"], "x@remote.example", "idle@example.test", raw); err != nil {
		t.Fatalf("smtp to node A: %v", err)
	}
	acked := time.Since(start)
	select {
	case n := <-exists:
		seen := time.Since(start)
		t.Logf("node A acknowledged after %v; node B's IDLE saw EXISTS %d after %v", acked, n, seen)
		if n != 1 {
			t.Errorf("EXISTS: got %d, want 1", n)
		}
		if seen-acked > time.Second {
			t.Errorf("EXISTS arrived %v after the 250, want within 1s", seen-acked)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("node B's IDLE saw nothing within 5s\nnode A log:\n%s\nnode B log:\n%s", a.stderr, b.stderr)
	}
	idle.Close()
	idle.Wait()
	if !strings.Contains(a.addrs["smtp"], "127.0.0.1") {
		t.Errorf("node A smtp address %q", a.addrs["smtp"])
	}
}
