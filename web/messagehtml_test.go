package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/message"
)

// htmlMail is a multipart/related message whose HTML refers to inline
// parts: a small PNG (cid:logo), an SVG (cid:vector, never inlined) and an
// image over maxInlineImage (cid:huge).
func htmlMail(t *testing.T, png, huge []byte) []byte {
	t.Helper()
	html := `<html><head><style>body{display:none}</style><script>alert(1)</script></head><body>` +
		`<h1 onclick="steal()">Hello</h1>` +
		`<p title="styled" style="color: rgb(200, 0, 0); position: fixed">Red</p>` +
		`<a href="https://example.com/report" target="_self" rel="opener">Report</a>` +
		`<a href="javascript:alert(1)">Bad</a>` +
		`<form action="https://evil.example/"><input name="pw"></form>` +
		`<object data="https://evil.example/x.swf"></object>` +
		`<img src="https://tracker.example/p.gif" alt="tracker">` +
		`<img src="cid:logo@example" alt="logo">` +
		`<img src="cid:vector@example" alt="vector">` +
		`<img src="cid:huge@example" alt="huge">` +
		`</body></html>`
	var b bytes.Buffer
	b.WriteString("From: Sender <sender@remote.example>\r\nTo: a@example.test\r\nSubject: Styled\r\n" +
		"Message-ID: <styled@remote.example>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/related; boundary=\"rel\"\r\n\r\n" +
		"--rel\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html + "\r\n")
	part := func(ctype, cid string, data []byte) {
		fmt.Fprintf(&b, "--rel\r\nContent-Type: %s\r\nContent-ID: <%s>\r\nContent-Transfer-Encoding: base64\r\n\r\n", ctype, cid)
		enc := base64.StdEncoding.EncodeToString(data)
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\r\n")
	}
	part("image/png", "logo@example", png)
	part("image/svg+xml", "vector@example", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`))
	part("image/png", "huge@example", huge)
	b.WriteString("--rel--\r\n")
	return b.Bytes()
}

func TestMessageHTML(t *testing.T) {
	e := newEnv(t, Options{})
	a := e.newUser("a@example.test")
	b := e.newUser("b@example.test")
	ac := e.cookieClient("a@example.test")
	anon := &apiClient{e: e, http: &http.Client{}}

	png := []byte("\x89PNG\r\n\x1a\nnot really a picture, but bytes all the same")
	huge := bytes.Repeat([]byte{0x42}, maxInlineImage+1)
	ctx := context.Background()
	m, err := e.svc.Append(ctx, a.user.ID, a.folderID("inbox"), nil, time.Now(), htmlMail(t, png, huge))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := e.svc.Append(ctx, a.user.ID, a.folderID("inbox"), nil, time.Now(), []byte("Subject: plain\r\n\r\nJust text.\r\n"))
	if err != nil {
		t.Fatal(err)
	}

	const (
		policy       = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox; frame-ancestors 'self'"
		remotePolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data: https: http:; font-src data:; sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox; frame-ancestors 'self'"
	)
	logo := `<img src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(png) + `" alt="logo">`
	common := []string{
		"<!doctype html>", `<meta charset="utf-8">`, "<style>", // mail.css
		"<h1>Hello</h1>",
		`<p title="styled" style="color: rgb(200, 0, 0)">Red</p>`,
		`<a href="https://example.com/report" target="_blank" rel="noopener noreferrer nofollow">Report</a>`,
		`<a target="_blank" rel="noopener noreferrer nofollow">Bad</a>`,
		logo,
		`<img alt="vector">`,
		`<img alt="huge">`,
	}
	never := []string{"<script", "alert(", "onclick", "steal", "<form", "<input", "<object", "javascript:",
		"position", "display:none", "target=\"_self\"", "opener\"", "cid:", "image/svg", "/attachments/"}
	page := fmt.Sprintf("/v1/messages/%d/html", m.ID)
	cases := []struct {
		name       string
		c          *apiClient
		path       string
		status     int
		csp        string
		has, hasNo []string
	}{
		{"bearer", a, page, 200, policy,
			append(common, `<img data-src="https://tracker.example/p.gif" alt="tracker">`),
			append(never, ` src="https://tracker.example`)},
		{"session cookie", ac, page, 200, policy, common, never},
		{"remote=1", a, page + "?remote=1", 200, remotePolicy,
			append(common, `<img src="https://tracker.example/p.gif" alt="tracker">`),
			append(never, "<img data-src")},
		{"remote=0 blocks", a, page + "?remote=0", 200, policy, common, append(never, ` src="https://tracker.example`)},
		{"other user's id", b, page, 404, "", nil, []string{"Hello"}},
		{"no credentials", anon, page, 401, "", nil, []string{"Hello"}},
		{"no such message", a, "/v1/messages/999999/html", 404, "", nil, nil},
		{"plain text message", a, fmt.Sprintf("/v1/messages/%d/html", plain.ID), 404, "", nil, nil},
	}
	for _, c := range cases {
		resp := c.c.do("GET", c.path, nil)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if resp.StatusCode != c.status {
			t.Errorf("%s: GET %s: got status %d, want %d (%s)", c.name, c.path, resp.StatusCode, c.status, body)
			continue
		}
		for _, s := range c.hasNo {
			if bytes.Contains(body, []byte(s)) {
				t.Errorf("%s: body holds %q, want it removed:\n%s", c.name, s, body)
			}
		}
		if c.status != 200 {
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("%s: error Content-Type: got %q, want application/json", c.name, ct)
			}
			continue
		}
		for _, h := range []struct{ name, want string }{
			{"Content-Type", "text/html; charset=utf-8"},
			{"Content-Security-Policy", c.csp},
			{"X-Content-Type-Options", "nosniff"},
			{"Referrer-Policy", "no-referrer"},
			{"Cache-Control", "private"},
		} {
			if got := resp.Header.Values(h.name); len(got) != 1 || got[0] != h.want {
				t.Errorf("%s: %s: got %q, want exactly %q", c.name, h.name, got, h.want)
			}
		}
		for _, s := range c.has {
			if !bytes.Contains(body, []byte(s)) {
				t.Errorf("%s: body lacks %q:\n%s", c.name, s, body)
			}
		}
	}

}

// TestInlineCIDsBounds checks that inline images are written in up to
// maxInlineTotal bytes per document, each part once.
func TestInlineCIDsBounds(t *testing.T) {
	img := bytes.Repeat([]byte{7}, maxInlineImage) // the largest inlined
	n := maxInlineTotal/maxInlineImage + 1
	var b bytes.Buffer
	b.WriteString("Subject: many\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"r\"\r\n\r\n" +
		"--r\r\nContent-Type: text/html\r\n\r\n<p>x</p>\r\n")
	for i := range n {
		fmt.Fprintf(&b, "--r\r\nContent-Type: image/gif\r\nContent-ID: <p%d@x>\r\nContent-Transfer-Encoding: base64\r\n\r\n%s\r\n",
			i, base64.StdEncoding.EncodeToString(img))
	}
	b.WriteString("--r--\r\n")
	raw := b.Bytes()
	s := New(Options{})
	resolve := s.inlineCIDs(httptest.NewRequest("GET", "/v1/messages/1/html", nil), core.Message{ID: 1}, raw, message.Parse(raw).Root)
	want := "data:image/gif;base64," + base64.StdEncoding.EncodeToString(img)
	for i := range n {
		got := resolve(fmt.Sprintf("p%d@x", i))
		if i < n-1 && got != want {
			t.Errorf("image %d: got %d bytes of URL, want the %d-byte data: URL", i, len(got), len(want))
		}
		if i == n-1 && got != "" {
			t.Errorf("image %d: got %d bytes of URL, want none (over %d bytes in all)", i, len(got), maxInlineTotal)
		}
	}
	if got := resolve("P0@X"); got != want {
		t.Errorf("image 0 again, in other case: got %d bytes of URL, want the same data: URL", len(got))
	}
	if got := resolve("%3Cp1@x%3E"); got != want {
		t.Errorf("image 1 escaped with brackets: got %d bytes of URL, want the same data: URL", len(got))
	}
}
