package core_test

import (
	"context"
	"database/sql"
	"encoding/base64"
	"path/filepath"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

// TestRepairAttachmentFlags: a message stored with the old flag (an inline
// cid: image counted as an attachment) is cleared; one with a real
// attachment, and one whose image the HTML does not show, keep theirs.
func TestRepairAttachmentFlags(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
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
