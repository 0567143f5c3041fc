package web

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core/mailfile"
)

// TestExport downloads GET /v1/export and reads the zip back: one mbox per
// folder (empty folders too), every message of the user and nobody else's,
// with "From " lines inside messages quoted so that the mbox reads back
// into the same messages.
func TestExport(t *testing.T) {
	e := newEnv(t, Options{})
	alice := e.newUser("alice@example.test")
	e.newUser("bob@example.test")
	e.deliver("alice@example.test", "hello alice", "First line\r\nFrom the start, a line mbox must quote\r\n")
	e.deliver("alice@example.test", "second", "Second body\r\n")
	e.deliver("bob@example.test", "for bob only", "secret\r\n")
	ctx := context.Background()
	mb, err := e.svc.CreateMailbox(ctx, alice.user.ID, "Lists/go", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Append(ctx, alice.user.ID, mb.ID, []string{`\Seen`}, time.Now(), []byte("Subject: list mail\r\n\r\nabout go\r\n")); err != nil {
		t.Fatal(err)
	}

	resp := alice.do("GET", "/v1/export", nil)
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("GET /v1/export: got %d %q, want 200 application/zip", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
		t.Errorf("Content-Disposition: got %q, want an attachment", cd)
	}
	body, _ := io.ReadAll(resp.Body)
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	got := map[string][]mailfile.Message{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var ms []mailfile.Message
		if err := mailfile.ReadMbox(rc, f.Name, mailfile.MboxRD, func(m mailfile.Message) error { ms = append(ms, m); return nil }); err != nil {
			t.Errorf("%s: %v", f.Name, err)
		}
		rc.Close()
		got[f.Name] = ms
	}
	for _, name := range []string{"INBOX.mbox", "Sent.mbox", "Drafts.mbox", "Junk.mbox", "Trash.mbox", "Archive.mbox", "Lists.go.mbox"} {
		if _, ok := got[name]; !ok {
			t.Errorf("zip: got no %s, want one mbox per folder (entries: %d)", name, len(got))
		}
	}
	if n := len(got["INBOX.mbox"]); n != 2 {
		t.Fatalf("INBOX.mbox: got %d messages, want 2", n)
	}
	var all []byte
	for _, m := range got["INBOX.mbox"] {
		all = append(all, m.Raw...)
	}
	if !bytes.Contains(all, []byte("\r\nFrom the start, a line mbox must quote\r\n")) {
		t.Errorf("INBOX.mbox: the body line starting with \"From \" did not come back unquoted")
	}
	if bytes.Contains(body, []byte("secret")) {
		t.Errorf("alice's export holds bob's mail")
	}
	// Messages are exported byte for byte: no Status header is added.
	if ms := got["Lists.go.mbox"]; len(ms) != 1 || string(ms[0].Raw) != "Subject: list mail\r\n\r\nabout go\r\n" {
		t.Errorf("Lists.go.mbox: got %+v, want the one message unchanged", ms)
	}

	// Without a login: 401 with a JSON error.
	anon := &apiClient{e: e, http: alice.http}
	if st, _ := anon.errorCode("GET", "/v1/export", nil); st != 401 {
		t.Errorf("anonymous export: got %d, want 401", st)
	}
}
