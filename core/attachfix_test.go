package core_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"path/filepath"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/storage"
	"github.com/stamp-mail/stamp/storage/blob/fs"
)

// waitRepairDone waits until the start-time attachment repair of a service
// on st has recorded that it finished (it runs in the background).
func waitRepairDone(t *testing.T, st storage.Store) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := st.GetKV(context.Background(), "core/attachment-repair-done"); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the start-time attachment repair never recorded that it finished")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRepairAttachmentFlags: a message stored with the old flag (an inline
// cid: image counted as an attachment) is cleared; one with a real
// attachment, and one whose image the HTML does not show, keep theirs.
func TestRepairAttachmentFlags(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	waitRepairDone(t, e.store) // the start-time pass (on an empty database) is over
	u, err := e.svc.CreateUser(ctx, "repair@example.test", "a long password")
	if err != nil {
		t.Fatal(err)
	}
	inbox, err := e.svc.GetMailboxByRole(ctx, u.ID, storage.RoleInbox)
	if err != nil {
		t.Fatal(err)
	}
	png := base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\nnot really"))
	msg := func(html, extra string) string {
		return "From: a@remote.example\r\nTo: repair@example.test\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=r\r\n\r\n" +
			"--r\r\nContent-Type: text/html\r\n\r\n" + html + "\r\n--r\r\nContent-Type: image/png\r\nContent-ID: <img1@x>\r\nContent-Transfer-Encoding: base64\r\n\r\n" + png + "\r\n" + extra + "--r--\r\n"
	}
	raws := []string{
		msg(`<img src="cid:img1@x">`, ""),
		msg(`<img src="cid:img1@x">`, "--r\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\n%PDF\r\n"),
		msg(`<p>no image shown</p>`, ""),
	}
	var ids []int64
	for _, raw := range raws {
		m, err := e.svc.Append(ctx, u.ID, inbox.ID, nil, time.Now(), []byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	// Mail stored before the fix: every attachment counted (written
	// through a second connection to the same database file).
	db, err := sql.Open("sqlite", "file:"+filepath.Join(e.dir, "stamp.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `UPDATE messages SET has_attachments = 1 WHERE user_id = ?`, u.ID); err != nil {
		t.Fatal(err)
	}
	if m, _ := e.svc.GetMessage(ctx, u.ID, ids[0]); !m.HasAttachments {
		t.Fatal("the old flag was not written")
	}
	checked, cleared, err := e.svc.RepairAttachmentFlags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if checked != 2 || cleared != 1 {
		t.Errorf("repair: checked %d, cleared %d; want 2 read (the PDF one is not), 1 cleared", checked, cleared)
	}
	for i, want := range []bool{false, true, true} {
		m, err := e.svc.GetMessage(ctx, u.ID, ids[i])
		if err != nil {
			t.Fatal(err)
		}
		if m.HasAttachments != want {
			t.Errorf("message %d: HasAttachments %v, want %v", i, m.HasAttachments, want)
		}
	}
	if _, cleared, err := e.svc.RepairAttachmentFlags(ctx); err != nil || cleared != 0 {
		t.Errorf("second repair: cleared %d, %v; want 0", cleared, err)
	}
}

// TestAttachmentRepairAtStart: a server started on a database whose mail
// carries the old flag (an upgrade) clears it by itself, once.
func TestAttachmentRepairAtStart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	waitRepairDone(t, e.store)
	u, err := e.svc.CreateUser(ctx, "upgrade@example.test", "a long password")
	if err != nil {
		t.Fatal(err)
	}
	inbox, err := e.svc.GetMailboxByRole(ctx, u.ID, storage.RoleInbox)
	if err != nil {
		t.Fatal(err)
	}
	png := base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\nnot really"))
	raw := "From: a@remote.example\r\nTo: upgrade@example.test\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=r\r\n\r\n" +
		"--r\r\nContent-Type: text/html\r\n\r\n<img src=\"cid:img1@x\">\r\n--r\r\nContent-Type: image/png\r\nContent-ID: <img1@x>\r\nContent-Transfer-Encoding: base64\r\n\r\n" + png + "\r\n--r--\r\n"
	m, err := e.svc.Append(ctx, u.ID, inbox.ID, nil, time.Now(), []byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	// The database as an older release left it: the old flag, no marker.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(e.dir, "stamp.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`UPDATE messages SET has_attachments = 1`, `DELETE FROM kv WHERE key = 'core/attachment-repair-done'`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := e.svc.GetMessage(ctx, u.ID, m.ID); !got.HasAttachments {
		t.Fatal("the old flag was not written")
	}
	// The upgraded server starts on it.
	bl, err := fs.Open(filepath.Join(e.dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	svc2 := coretest.New(t, coretest.Options{Dir: e.dir, Deps: core.Deps{Store: e.store, Blobs: bl}})
	waitRepairDone(t, e.store)
	if got, err := svc2.GetMessage(ctx, u.ID, m.ID); err != nil || got.HasAttachments {
		t.Errorf("after start: HasAttachments %v (err %v), want false", got.HasAttachments, err)
	}
}
