package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/server"
	"github.com/stamp-mail/stamp/storage"
)

// TestGCCommand: `stamp gc` deletes the blob of an expunged attachment at
// once with --grace 0, and keeps it under the default grace.
func TestGCCommand(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfgText := "data_dir: " + data + "\nlisten:\n  smtp: \"\"\n"
	if err := os.WriteFile(filepath.Join(dir, "stamp.yaml"), []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	stamp(t, dir, "a long password\n", "user", "add", "gc@example.test", "--password-stdin")

	cfg, err := server.Load(filepath.Join(dir, "stamp.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	app, err := server.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	att := make([]byte, 256<<10)
	rand.Read(att)
	var b bytes.Buffer
	b.WriteString("From: a@remote.example\r\nTo: gc@example.test\r\nSubject: big\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nhi\r\n--B\r\n" +
		"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(att)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--B--\r\n")
	svc := app.Service
	svc.Start(ctx) // the group committers (only serve starts them)
	u, err := svc.LookupUser(ctx, "gc@example.test")
	if err != nil {
		t.Fatal(err)
	}
	mb, err := svc.GetMailboxByRole(ctx, u.ID, storage.RoleInbox)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Append(ctx, u.ID, mb.ID, nil, time.Now(), b.Bytes()); err != nil {
		t.Fatal(err)
	}
	ms, err := svc.ListMessages(ctx, u.ID, mb.ID, core.ListQuery{Limit: 10})
	if err != nil || len(ms) != 1 {
		t.Fatalf("list: %v %d", err, len(ms))
	}
	if _, err := svc.Expunge(ctx, u.ID, mb.ID, []int64{ms[0].ID}); err != nil {
		t.Fatal(err)
	}
	app.Close()

	files := func() int {
		n := 0
		filepath.WalkDir(filepath.Join(data, "blobs"), func(_ string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() && d.Name()[0] != '.' {
				n++
			}
			return nil
		})
		return n
	}
	if files() == 0 {
		t.Fatal("no blob file before gc")
	}
	if out := stamp(t, dir, "", "gc"); !strings.Contains(out, "removed 0 ") || files() == 0 {
		t.Errorf("stamp gc (default grace): got %q with %d files, want nothing removed", out, files())
	}
	if out := stamp(t, dir, "", "gc", "--grace", "0s"); !strings.HasPrefix(out, "removed ") || strings.HasPrefix(out, "removed 0 ") || files() != 0 {
		t.Errorf("stamp gc --grace 0s: got %q with %d files left, want blobs removed and no file left", out, files())
	}
}
