package web

import (
	"bytes"
	"crypto/rand"
	"encoding/xml"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core/coretest"
)

func TestAuth(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.newUser("a@example.test")

	var me userJSON
	if st := a.call("GET", "/v1/me", nil, &me); st != 200 || me.Address != "a@example.test" {
		t.Fatalf("GET /v1/me: got %d %+v, want 200 a@example.test", st, me)
	}
	anon := &apiClient{e: e, http: &http.Client{}}
	if st, code := anon.errorCode("GET", "/v1/me", nil); st != 401 || code != codeUnauth {
		t.Errorf("no credentials: got %d %q, want 401 unauthorized", st, code)
	}
	bad := &apiClient{e: e, http: &http.Client{}, token: "forged"}
	if st, _ := bad.errorCode("GET", "/v1/folders", nil); st != 401 {
		t.Errorf("forged token: got %d, want 401", st)
	}
	if st, code := anon.errorCode("POST", "/v1/auth/login", map[string]string{"username": "a@example.test", "password": "wrong password"}); st != 401 || code != codeUnauth {
		t.Errorf("wrong password: got %d %q, want 401 unauthorized", st, code)
	}

	// The login response sets the session cookie HttpOnly and SameSite=Strict, and a readable CSRF cookie.
	resp := anon.do("POST", "/v1/auth/login", map[string]string{"username": "a@example.test", "password": coretest.Password})
	resp.Body.Close()
	got := map[string]*http.Cookie{}
	for _, c := range resp.Cookies() {
		got[c.Name] = c
	}
	if c := got[sessionCookie]; c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure {
		t.Errorf("session cookie: got %+v, want HttpOnly SameSite=Strict, not Secure without TLS", c)
	}
	if c := got[csrfCookie]; c == nil || c.HttpOnly || c.Value == "" {
		t.Errorf("csrf cookie: got %+v, want a readable non-empty cookie", c)
	}

	// Cookie sessions work for reads, and the Secure option marks cookies Secure.
	cc := e.cookieClient("a@example.test")
	if st := cc.call("GET", "/v1/me", nil, &me); st != 200 {
		t.Errorf("cookie GET /v1/me: got %d, want 200", st)
	}
	es := newEnv(t, Options{Secure: true})
	coretest.User(t, es.svc, "s@example.test")
	resp = (&apiClient{e: es, http: &http.Client{}}).do("POST", "/v1/auth/login", map[string]string{"username": "s@example.test", "password": coretest.Password})
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if !c.Secure {
			t.Errorf("cookie %s with Options.Secure: got Secure=false, want true", c.Name)
		}
	}

	// Logout ends the token.
	if st := a.call("POST", "/v1/auth/logout", nil, nil); st != 204 {
		t.Errorf("logout: got %d, want 204", st)
	}
	if st, _ := a.errorCode("GET", "/v1/me", nil); st != 401 {
		t.Errorf("after logout: got %d, want 401", st)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, Options{})
	coretest.User(t, e.svc, "a@example.test")
	cc := e.cookieClient("a@example.test")
	csrf := cc.csrf
	cc.csrf = ""
	if st, code := cc.errorCode("POST", "/v1/folders", map[string]string{"name": "NoHeader"}); st != 403 || code != codeCSRF {
		t.Errorf("cookie write without header: got %d %q, want 403 csrf_failed", st, code)
	}
	cc.csrf = "not-the-cookie"
	if st, code := cc.errorCode("POST", "/v1/folders", map[string]string{"name": "WrongHeader"}); st != 403 || code != codeCSRF {
		t.Errorf("cookie write with a wrong header: got %d %q, want 403 csrf_failed", st, code)
	}
	cc.csrf = csrf
	if st := cc.call("POST", "/v1/folders", map[string]string{"name": "WithHeader"}, nil); st != 201 {
		t.Errorf("cookie write with the header: got %d, want 201", st)
	}
	// Bearer clients need no CSRF header.
	b := e.newUser("b@example.test")
	if st := b.call("POST", "/v1/folders", map[string]string{"name": "Bearer"}, nil); st != 201 {
		t.Errorf("bearer write: got %d, want 201", st)
	}
}

func TestFolders(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.newUser("a@example.test")
	var fs []folderJSON
	a.call("GET", "/v1/folders", nil, &fs)
	roles := map[string]bool{}
	for _, f := range fs {
		roles[f.Role] = true
	}
	for _, r := range []string{"inbox", "sent", "drafts", "junk", "trash", "archive"} {
		if !roles[r] {
			t.Errorf("folders: role %q missing in %+v", r, fs)
		}
	}
	var f folderJSON
	if st := a.call("POST", "/v1/folders", map[string]string{"name": "Projects"}, &f); st != 201 || f.Name != "Projects" || f.Role != "" {
		t.Fatalf("create: got %d %+v, want 201 Projects", st, f)
	}
	if st, code := a.errorCode("POST", "/v1/folders", map[string]string{"name": "Projects"}); st != 409 || code != codeExists {
		t.Errorf("create twice: got %d %q, want 409 exists", st, code)
	}
	if st, code := a.errorCode("POST", "/v1/folders", map[string]string{"name": ""}); st != 400 || code != codeInvalid {
		t.Errorf("empty name: got %d %q, want 400 invalid", st, code)
	}
	if st := a.call("PATCH", fmt.Sprintf("/v1/folders/%d", f.ID), map[string]string{"name": "Work"}, &f); st != 200 || f.Name != "Work" {
		t.Errorf("rename: got %d %+v, want 200 Work", st, f)
	}
	if st, code := a.errorCode("DELETE", fmt.Sprintf("/v1/folders/%d", a.folderID("inbox")), nil); st != 403 || code != codeNotAllowed {
		t.Errorf("delete INBOX: got %d %q, want 403 not_allowed", st, code)
	}
	if st := a.call("DELETE", fmt.Sprintf("/v1/folders/%d", f.ID), nil, nil); st != 204 {
		t.Errorf("delete: got %d, want 204", st)
	}
	if st, _ := a.errorCode("DELETE", fmt.Sprintf("/v1/folders/%d", f.ID), nil); st != 404 {
		t.Errorf("delete again: got %d, want 404", st)
	}
}

func TestLimits(t *testing.T) {
	e := newEnv(t, Options{MaxUploadBytes: 64 << 10})
	a := e.newUser("a@example.test")
	cases := []struct {
		name, method, path string
		body               []byte
		status             int
		code               string
	}{
		{"malformed folder JSON", "POST", "/v1/folders", []byte(`{"name": `), 400, codeBadRequest},
		{"trailing data", "POST", "/v1/folders", []byte(`{"name":"x"} {}`), 400, codeBadRequest},
		{"malformed login", "POST", "/v1/auth/login", []byte(`not json`), 400, codeBadRequest},
		{"oversize folder body", "POST", "/v1/folders", []byte(`{"name":"` + strings.Repeat("x", 2<<20) + `"}`), 413, codeTooLarge},
		{"oversize upload", "POST", "/v1/messages", []byte(`{"to":["b@example.test"],"text":"` + strings.Repeat("y", 200<<10) + `"}`), 413, codeTooLarge},
		{"malformed send", "POST", "/v1/messages", []byte(`{"to": 5}`), 400, codeBadRequest},
		{"bad cursor", "GET", fmt.Sprintf("/v1/folders/%d/messages?cursor=not*base64", a.folderID("inbox")), nil, 400, codeBadRequest},
		{"bad limit", "GET", fmt.Sprintf("/v1/folders/%d/messages?limit=500", a.folderID("inbox")), nil, 400, codeInvalid},
		{"unknown endpoint", "GET", "/v1/nope", nil, 404, codeNotFound},
		{"bad date operator", "GET", "/v1/search?q=before:yesterday", nil, 400, codeInvalid},
		{"bulk unknown action", "POST", "/v1/messages/bulk", []byte(`{"ids":[1],"action":"explode"}`), 400, codeInvalid},
	}
	for _, c := range cases {
		var body any
		if c.body != nil {
			body = c.body
		}
		if st, code := a.errorCode(c.method, c.path, body); st != c.status || code != c.code {
			t.Errorf("%s: got %d %q, want %d %q", c.name, st, code, c.status, c.code)
		}
	}
	// An oversize multipart upload is refused the same way.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("to", "b@example.test")
	fw, _ := mw.CreateFormFile("file", "big.bin")
	fw.Write(bytes.Repeat([]byte{1}, 100<<10))
	mw.Close()
	req, _ := http.NewRequest("POST", e.url+"/v1/messages", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Errorf("oversize multipart upload: got %d, want 413", resp.StatusCode)
	}
}

func TestSendAttachmentsRoundTrip(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.newUser("a@example.test")
	b := e.newUser("b@example.test")
	bin := make([]byte, 300<<10)
	rand.Read(bin)
	text := []byte("héllo wörld\r\nline two\n")
	var sent struct {
		ID    int64 `json:"id"`
		Local int   `json:"local"`
	}
	st := a.call("POST", "/v1/messages", map[string]any{
		"to":      []string{"Bee <b@example.test>"},
		"subject": "Files for you ✓",
		"text":    "See attached.",
		"html":    "<p>See <b>attached</b><script>alert(1)</script></p>",
		"attachments": []map[string]any{
			{"filename": "random.bin", "content_type": "application/octet-stream", "data": bin},
			{"filename": "notes ünïcode.txt", "content_type": "text/plain", "data": text},
		},
	}, &sent)
	if st != 202 || sent.ID == 0 || sent.Local != 1 {
		t.Fatalf("send: got %d %+v, want 202 with an id and 1 local recipient", st, sent)
	}
	var page struct {
		Messages []summaryJSON `json:"messages"`
	}
	b.call("GET", fmt.Sprintf("/v1/folders/%d/messages", b.folderID("inbox")), nil, &page)
	if len(page.Messages) != 1 || page.Messages[0].Subject != "Files for you ✓" || !page.Messages[0].HasAttachments {
		t.Fatalf("recipient inbox: got %+v, want the message with attachments", page.Messages)
	}
	var m messageJSON
	b.call("GET", fmt.Sprintf("/v1/messages/%d", page.Messages[0].ID), nil, &m)
	if strings.Contains(m.HTML, "script") || !strings.Contains(m.HTML, "<b>attached</b>") {
		t.Errorf("html: got %q, want sanitized HTML keeping <b>", m.HTML)
	}
	if !strings.Contains(m.Text, "See attached.") {
		t.Errorf("text: got %q, want it to contain the body", m.Text)
	}
	if len(m.Attachments) != 2 {
		t.Fatalf("attachments: got %+v, want 2", m.Attachments)
	}
	want := map[string][]byte{"random.bin": bin, "notes ünïcode.txt": text}
	for _, att := range m.Attachments {
		resp := b.do("GET", fmt.Sprintf("/v1/messages/%d/attachments/%s", m.ID, att.ID), nil)
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("attachment %s: got status %d", att.ID, resp.StatusCode)
		}
		if !bytes.Equal(data, want[att.Filename]) {
			t.Errorf("attachment %q: got %d bytes, want the %d sent, byte for byte", att.Filename, len(data), len(want[att.Filename]))
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("attachment %q: X-Content-Type-Options %q, want nosniff", att.Filename, got)
		}
		_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
		if err != nil || params["filename"] != att.Filename {
			t.Errorf("attachment %q: Content-Disposition %q gives filename %q (%v), want the original name",
				att.Filename, resp.Header.Get("Content-Disposition"), params["filename"], err)
		}
	}
	// The sender's Sent copy and the raw bytes.
	resp := a.do("GET", fmt.Sprintf("/v1/messages/%d/raw", sent.ID), nil)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "message/rfc822" || !bytes.Contains(raw, []byte("Subject:")) {
		t.Errorf("raw: got %d %q (%d bytes), want 200 message/rfc822", resp.StatusCode, resp.Header.Get("Content-Type"), len(raw))
	}

	// Multipart/form-data sends too, with a file part.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("to", "b@example.test")
	mw.WriteField("subject", "Multipart")
	mw.WriteField("text", "form body")
	mw.WriteField("in_reply_to", fmt.Sprint(sent.ID))
	fw, _ := mw.CreateFormFile("attachments", "form.bin")
	fw.Write(bin[:1000])
	mw.Close()
	req, _ := http.NewRequest("POST", e.url+"/v1/messages", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("multipart send: got %d, want 202", resp.StatusCode)
	}
	b.call("GET", fmt.Sprintf("/v1/folders/%d/messages", b.folderID("inbox")), nil, &page)
	if len(page.Messages) != 2 || page.Messages[0].Subject != "Multipart" {
		t.Fatalf("after multipart: got %+v, want Multipart first", page.Messages)
	}
	// The reply is threaded with the first message.
	if page.Messages[0].ThreadID != page.Messages[1].ThreadID {
		t.Errorf("reply thread: got %d and %d, want the same thread", page.Messages[0].ThreadID, page.Messages[1].ThreadID)
	}
	var th struct {
		Messages []summaryJSON `json:"messages"`
	}
	if st := b.call("GET", fmt.Sprintf("/v1/threads/%d", page.Messages[0].ThreadID), nil, &th); st != 200 || len(th.Messages) != 2 || th.Messages[0].Subject != "Files for you ✓" {
		t.Errorf("thread: got %d %+v, want both messages oldest first", st, th.Messages)
	}
}

func TestOtherUsersIDsAre404(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.newUser("a@example.test")
	b := e.newUser("b@example.test")
	var sent struct{ ID int64 }
	a.call("POST", "/v1/messages", map[string]any{"to": []string{"a@example.test"}, "subject": "mine", "text": "x",
		"attachments": []map[string]any{{"filename": "f.txt", "data": []byte("secret")}}}, &sent)
	var m messageJSON
	if st := a.call("GET", fmt.Sprintf("/v1/messages/%d", sent.ID), nil, &m); st != 200 || len(m.Attachments) != 1 {
		t.Fatalf("own message: got %d %+v", st, m)
	}
	inbox := a.folderID("inbox")
	paths := []struct{ method, path string }{
		{"GET", fmt.Sprintf("/v1/messages/%d", m.ID)},
		{"GET", fmt.Sprintf("/v1/messages/%d/raw", m.ID)},
		{"GET", fmt.Sprintf("/v1/messages/%d/attachments/%s", m.ID, m.Attachments[0].ID)},
		{"PATCH", fmt.Sprintf("/v1/messages/%d", m.ID)},
		{"DELETE", fmt.Sprintf("/v1/messages/%d", m.ID)},
		{"PUT", fmt.Sprintf("/v1/drafts/%d", m.ID)},
		{"GET", fmt.Sprintf("/v1/threads/%d", m.ThreadID)},
		{"GET", fmt.Sprintf("/v1/folders/%d/messages", inbox)},
		{"PATCH", fmt.Sprintf("/v1/folders/%d", inbox)},
		{"DELETE", fmt.Sprintf("/v1/folders/%d", inbox)},
		{"GET", fmt.Sprintf("/v1/search?q=mine&folder_id=%d", inbox)},
		{"GET", "/v1/messages/999999"},
	}
	for _, p := range paths {
		var body any
		if p.method == "PATCH" || p.method == "PUT" {
			body = map[string]any{"seen": true, "name": "Stolen"}
		}
		if st, code := b.errorCode(p.method, p.path, body); st != 404 || code != codeNotFound {
			t.Errorf("B %s %s: got %d %q, want 404 not_found", p.method, p.path, st, code)
		}
	}
	var res struct {
		NotFound []int64 `json:"not_found"`
	}
	b.call("POST", "/v1/messages/bulk", map[string]any{"ids": []int64{m.ID}, "action": "delete"}, &res)
	if len(res.NotFound) != 1 {
		t.Errorf("bulk on A's id as B: got not_found %v, want [%d]", res.NotFound, m.ID)
	}
	if st := a.call("GET", fmt.Sprintf("/v1/messages/%d", m.ID), nil, nil); st != 200 {
		t.Errorf("A's message after B's attempts: got %d, want 200", st)
	}
}

func TestMessageOperations(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.newUser("a@example.test")
	for i := 0; i < 3; i++ {
		e.deliver("a@example.test", fmt.Sprintf("Hello number %d", i), fmt.Sprintf("body zebra%d", i))
	}
	inbox, trash, archive := a.folderID("inbox"), a.folderID("trash"), a.folderID("archive")
	var page struct {
		Messages []summaryJSON `json:"messages"`
	}
	a.call("GET", fmt.Sprintf("/v1/folders/%d/messages", inbox), nil, &page)
	if len(page.Messages) != 3 || page.Messages[0].Seen {
		t.Fatalf("inbox: got %+v, want 3 unread", page.Messages)
	}
	id := page.Messages[0].ID
	var s summaryJSON
	if st := a.call("PATCH", fmt.Sprintf("/v1/messages/%d", id), map[string]any{"seen": true, "flagged": true}, &s); st != 200 || !s.Seen || !s.Flagged {
		t.Errorf("patch flags: got %d %+v, want seen and flagged", st, s)
	}
	if st := a.call("PATCH", fmt.Sprintf("/v1/messages/%d", id), map[string]any{"folder_id": archive}, &s); st != 200 || s.FolderID != archive {
		t.Errorf("patch move: got %d %+v, want folder %d", st, s, archive)
	}
	// Unread filter.
	var unread struct {
		Messages []summaryJSON `json:"messages"`
	}
	a.call("GET", fmt.Sprintf("/v1/folders/%d/messages?unread=true", inbox), nil, &unread)
	if len(unread.Messages) != 2 {
		t.Errorf("unread=true: got %d messages, want 2", len(unread.Messages))
	}
	// Delete goes to Trash, then for good.
	id2 := page.Messages[1].ID
	if st := a.call("DELETE", fmt.Sprintf("/v1/messages/%d", id2), nil, nil); st != 204 {
		t.Fatalf("delete: got %d, want 204", st)
	}
	a.call("GET", fmt.Sprintf("/v1/folders/%d/messages", trash), nil, &page)
	if len(page.Messages) != 1 {
		t.Fatalf("trash: got %+v, want 1 message", page.Messages)
	}
	if st := a.call("DELETE", fmt.Sprintf("/v1/messages/%d", page.Messages[0].ID), nil, nil); st != 204 {
		t.Errorf("delete from trash: got %d, want 204", st)
	}
	a.call("GET", fmt.Sprintf("/v1/folders/%d/messages", trash), nil, &page)
	if len(page.Messages) != 0 {
		t.Errorf("trash after delete: got %+v, want empty", page.Messages)
	}
	// Bulk.
	a.call("GET", fmt.Sprintf("/v1/folders/%d/messages", inbox), nil, &page)
	var ids []int64
	for _, m := range page.Messages {
		ids = append(ids, m.ID)
	}
	for _, action := range []string{"read", "flag", "unflag", "unread", "read"} {
		if st := a.call("POST", "/v1/messages/bulk", map[string]any{"ids": ids, "action": action}, nil); st != 200 {
			t.Errorf("bulk %s: got %d, want 200", action, st)
		}
	}
	a.call("GET", fmt.Sprintf("/v1/folders/%d/messages?unread=true", inbox), nil, &unread)
	if len(unread.Messages) != 0 {
		t.Errorf("after bulk read: got %d unread, want 0", len(unread.Messages))
	}
	if st := a.call("POST", "/v1/messages/bulk", map[string]any{"ids": ids, "action": "move", "folder_id": archive}, nil); st != 200 {
		t.Errorf("bulk move: got %d, want 200", st)
	}
	var fs []folderJSON
	a.call("GET", "/v1/folders", nil, &fs)
	for _, f := range fs {
		if f.ID == archive && f.Total != 2 {
			t.Errorf("archive after bulk move: got total %d, want 2 (one moved before, one in bulk)", f.Total)
		}
	}
	// Search with operators.
	var res struct {
		Messages []summaryJSON `json:"messages"`
	}
	for _, c := range []struct {
		q    string
		want int
	}{
		{"zebra0", 1},
		{"zebra1", 0}, // deleted for good above
		{"from:sender subject:hello", 2},
		{`subject:"number 2"`, 1},
		{"is:unread", 0},
		{"has:attachment", 0},
		{"after:2000-01-01 hello", 2},
		{"before:2000-01-01", 0},
	} {
		if st := a.call("GET", "/v1/search?q="+urlQuery(c.q), nil, &res); st != 200 || len(res.Messages) != c.want {
			t.Errorf("search %q: got %d with %d results, want 200 with %d", c.q, st, len(res.Messages), c.want)
		}
	}
	// Drafts: create, then replace twice (as two devices would) through the
	// same id: each save is a new message, the first id keeps naming it.
	var d struct{ ID int64 }
	if st := a.call("POST", "/v1/drafts", map[string]any{"subject": "draft v1", "text": "first"}, &d); st != 201 || d.ID == 0 {
		t.Fatalf("create draft: got %d %+v", st, d)
	}
	var last int64
	for i, subj := range []string{"draft v2", "draft v3"} {
		var d2 struct {
			ID        int64 `json:"id"`
			MessageID int64 `json:"message_id"`
		}
		if st := a.call("PUT", fmt.Sprintf("/v1/drafts/%d", d.ID), map[string]any{"to": []string{"x@remote.example"}, "subject": subj, "text": "again"}, &d2); st != 200 || d2.ID != d.ID || d2.MessageID == d.ID || d2.MessageID == last {
			t.Fatalf("replace draft %d: got %d %+v, want 200 with id %d and a new message_id", i, st, d2, d.ID)
		}
		if last != 0 {
			if st := a.call("GET", fmt.Sprintf("/v1/messages/%d", last), nil, nil); st != 404 {
				t.Errorf("previous version %d: got %d, want 404 (expunged)", last, st)
			}
		}
		last = d2.MessageID
		var dm messageJSON
		a.call("GET", fmt.Sprintf("/v1/messages/%d", d.ID), nil, &dm)
		if dm.Subject != subj || dm.ID != last || !contains(dm.Flags, `\Draft`) || dm.FolderID != a.folderID("drafts") {
			t.Errorf("draft through its first id: got %+v, want %s (message %d) with \\Draft in Drafts", dm.summaryJSON, subj, last)
		}
	}
	var drafts struct {
		Messages []summaryJSON `json:"messages"`
		Total    int           `json:"total"`
	}
	a.call("GET", fmt.Sprintf("/v1/folders/%d/messages", a.folderID("drafts")), nil, &drafts)
	if len(drafts.Messages) != 1 || drafts.Total != 1 {
		t.Errorf("Drafts after three saves: got %d messages, total %d, want 1 and 1", len(drafts.Messages), drafts.Total)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func urlQuery(s string) string {
	r := strings.NewReplacer(" ", "%20", `"`, "%22", ":", "%3A")
	return r.Replace(s)
}

func TestHealthMetricsAutoconfig(t *testing.T) {
	e := newEnv(t, Options{Autoconfig: AutoconfigInfo{IMAPHost: "imap.example.test", IMAPPort: 143, IMAPSPort: 993, POP3SPort: 995, SubmissionPort: 587, SubmissionsPort: 465}})
	a := e.newUser("a@example.test")
	var h map[string]string
	if st := a.call("GET", "/healthz", nil, &h); st != 200 || h["status"] != "ok" {
		t.Errorf("healthz: got %d %v, want 200 ok", st, h)
	}
	a.call("GET", "/v1/folders", nil, nil)
	resp := a.do("GET", "/metrics", nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"stamp_messages_delivered_total", `route="http GET /v1/folders"`, `stamp_sessions{proto="http"}`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("metrics: missing %q in\n%s", want, body)
		}
	}

	resp = a.do("GET", "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=a@example.test", nil)
	var cfg clientConfig
	err := xml.NewDecoder(resp.Body).Decode(&cfg)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("autoconfig: %v", err)
	}
	got := map[string]bool{}
	for _, s := range append(cfg.Provider.Incoming, cfg.Provider.Outgoing...) {
		got[fmt.Sprintf("%s %d %s %s %s", s.Type, s.Port, s.SocketType, s.Hostname, s.Username)] = true
	}
	for _, want := range []string{
		"imap 993 SSL imap.example.test %EMAILADDRESS%", "imap 143 STARTTLS imap.example.test %EMAILADDRESS%",
		"pop3 995 SSL imap.example.test %EMAILADDRESS%",
		"smtp 465 SSL imap.example.test %EMAILADDRESS%", "smtp 587 STARTTLS imap.example.test %EMAILADDRESS%",
	} {
		if !got[want] {
			t.Errorf("autoconfig: missing %q in %v", want, got)
		}
	}
	if cfg.Provider.Domain != "example.test" {
		t.Errorf("autoconfig domain: got %q, want example.test", cfg.Provider.Domain)
	}

	req, _ := http.NewRequest("POST", e.url+"/autodiscover/autodiscover.xml", strings.NewReader(
		`<?xml version="1.0"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>a@example.test</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`))
	req.Header.Set("Content-Type", "text/xml")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"<Type>IMAP</Type>", "<Port>993</Port>", "<Type>SMTP</Type>", "<Port>465</Port>", "<LoginName>a@example.test</LoginName>"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("autodiscover: missing %q in\n%s", want, body)
		}
	}

	// The webmail is served at /.
	resp = a.do("GET", "/", nil)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("webmail: got %d %q, want 200 text/html", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// TestCurl talks to a real listener with curl, an independent client.
func TestCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	e := newEnv(t, Options{})
	coretest.User(t, e.svc, "a@example.test")
	out, err := exec.Command(curl, "-sS", "-c", "-", "-H", "Content-Type: application/json",
		"-d", `{"username":"a@example.test","password":"`+coretest.Password+`"}`, e.url+"/v1/auth/login").CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte(`"token"`)) || !bytes.Contains(out, []byte("#HttpOnly_")) {
		t.Fatalf("curl login: %v\n%s", err, out)
	}
	tok := out[bytes.Index(out, []byte(`"token":"`))+9:]
	tok = tok[:bytes.IndexByte(tok, '"')]
	out, err = exec.Command(curl, "-sS", "-w", "\n%{http_code}", "-H", "Authorization: Bearer "+string(tok), e.url+"/v1/me").CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte(`"address":"a@example.test"`)) || !bytes.HasSuffix(out, []byte("200")) {
		t.Errorf("curl /v1/me: %v\n%s", err, out)
	}
}

// TestShutdown checks that Serve returns after Shutdown and open long polls end.
func TestShutdown(t *testing.T) {
	svc := coretest.New(t, coretest.Options{})
	coretest.User(t, svc, "a@example.test")
	srv := New(Options{Core: svc, PollWait: time.Minute})
	ln := listen(t)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()
	resp, err := http.Post(base+"/v1/auth/login", "application/json", strings.NewReader(`{"username":"a@example.test","password":"`+coretest.Password+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var login struct{ Token string }
	decode(t, resp, &login)
	polled := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("GET", base+"/v1/events/poll", nil)
		req.Header.Set("Authorization", "Bearer "+login.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			polled <- 0
			return
		}
		resp.Body.Close()
		polled <- resp.StatusCode
	}()
	time.Sleep(100 * time.Millisecond) // let the poll start waiting
	ctx, cancel := contextWithTimeout(5 * time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; err != http.ErrServerClosed {
		t.Errorf("Serve after Shutdown: got %v, want http.ErrServerClosed", err)
	}
	if st := <-polled; st != 200 {
		t.Errorf("long poll during shutdown: got %d, want 200 (answered early)", st)
	}
}
