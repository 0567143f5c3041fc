package web

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core"
)

// TestInlineImagesAreNotAttachments delivers through core's pipeline an
// HTML message whose only part besides the body is a cid: image, one with
// a cid: image and a real attachment, and one whose image is not referenced
// by the HTML: has_attachments (list, message, search has:attachment) is
// true only for those with a part a reader lists.
func TestInlineImagesAreNotAttachments(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.newUser("alice@example.test")
	png := "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
	related := func(subject, html, extra string) string {
		return "From: Carol <carol@remote.example>\r\nTo: alice@example.test\r\nSubject: " + subject + "\r\nDate: " + time.Now().Format(time.RFC1123Z) +
			"\r\nMessage-ID: <" + fmt.Sprint(time.Now().UnixNano()) + "@remote.example>\r\nMIME-Version: 1.0\r\n" +
			"Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\nContent-Type: multipart/related; boundary=\"r\"\r\n\r\n" +
			"--r\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html + "\r\n" +
			"--r\r\nContent-Type: image/png; name=\"logo.png\"\r\nContent-Disposition: inline; filename=\"logo.png\"\r\nContent-ID: <Logo.1@remote.example>\r\n" +
			"Content-Transfer-Encoding: base64\r\n\r\n" + png + "\r\n--r--\r\n" + extra + "--m--\r\n"
	}
	pdf := "--m\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\n\r\n%PDF-1\r\n"
	for _, raw := range []string{
		related("Inline only", `<p>Logo:</p><img src="cid:logo.1@remote.example">`, ""),
		related("Inline and a file", `<img src="CID:Logo.1@remote.example">`, pdf),
		related("Unreferenced image", `<p>No image shown here.</p>`, ""),
	} {
		env := core.Envelope{MailFrom: "carol@remote.example", Recipients: []string{"alice@example.test"}, Helo: "remote.example"}
		if err := e.svc.Deliver(context.Background(), env, []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	var page struct {
		Messages []summaryJSON `json:"messages"`
	}
	if st := a.call("GET", fmt.Sprintf("/v1/folders/%d/messages", a.folderID("inbox")), nil, &page); st != 200 {
		t.Fatalf("list: %d", st)
	}
	want := map[string]struct {
		has    bool
		listed int // attachments the reader lists (inline false)
	}{"Inline only": {false, 0}, "Inline and a file": {true, 1}, "Unreferenced image": {true, 1}}
	if len(page.Messages) != len(want) {
		t.Fatalf("got %d messages, want %d", len(page.Messages), len(want))
	}
	for _, m := range page.Messages {
		w := want[m.Subject]
		if m.HasAttachments != w.has {
			t.Errorf("%s: list has_attachments %v, want %v", m.Subject, m.HasAttachments, w.has)
		}
		var full messageJSON
		if st := a.call("GET", fmt.Sprintf("/v1/messages/%d", m.ID), nil, &full); st != 200 {
			t.Fatalf("get: %d", st)
		}
		listed := 0
		for _, at := range full.Attachments {
			if !at.Inline {
				listed++
			}
		}
		if full.HasAttachments != w.has || listed != w.listed || len(full.Attachments) != w.listed+boolInt(m.Subject != "Unreferenced image") {
			t.Errorf("%s: message has_attachments %v, attachments %+v; want %v with %d listed", m.Subject, full.HasAttachments, full.Attachments, w.has, w.listed)
		}
	}
	var res struct {
		Messages []summaryJSON `json:"messages"`
	}
	if st := a.call("GET", "/v1/search?q="+url.QueryEscape("has:attachment"), nil, &res); st != 200 || len(res.Messages) != 2 {
		t.Errorf("has:attachment: %d, %d results, want the two with a listed attachment", st, len(res.Messages))
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
