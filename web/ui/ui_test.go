package ui_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stamp-mail/stamp/web/ui"
)

// TestHandler checks what the webmail's files are served with.
func TestHandler(t *testing.T) {
	ts := httptest.NewServer(ui.Handler())
	t.Cleanup(ts.Close)
	cases := []struct {
		path, wantType, wantBody string
	}{
		{"/", "text/html", `<script type="module" src="/js/app.js">`},
		{"/js/app.js", "text/javascript", "import"},
		{"/app.css", "text/css", ":root"},
		{"/mail.css", "text/css", "body"},
		{"/clip.svg", "image/svg+xml", "<svg"},
	}
	for _, c := range cases {
		resp, err := ts.Client().Get(ts.URL + c.path)
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: got status %d, want 200", c.path, resp.StatusCode)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, c.wantType) {
			t.Errorf("%s: got Content-Type %q, want %s", c.path, ct, c.wantType)
		}
		if !strings.Contains(string(body), c.wantBody) {
			t.Errorf("%s: got a body without %q", c.path, c.wantBody)
		}
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "style-src 'self'", "object-src 'none'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: got CSP %q, want it to contain %q", c.path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: got CSP %q, want no unsafe-inline or unsafe-eval", c.path, csp)
		}
		if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: got X-Content-Type-Options %q, want nosniff", c.path, got)
		}
	}
}

// TestUnknownPaths checks that paths outside the webmail's files are 404
// (the app routes in the URL fragment), with a page that links home.
func TestUnknownPaths(t *testing.T) {
	ts := httptest.NewServer(ui.Handler())
	t.Cleanup(ts.Close)
	for _, p := range []string{"/folder/3/message/7", "/wp-login.php", "/js/", "/mail/config-v1.1.xml", "/js/nope.js"} {
		resp, err := ts.Client().Get(ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), `href="/"`) {
			t.Errorf("%s: got %d %q, want 404 with a link to /", p, resp.StatusCode, body)
		}
	}
}

// TestNoInlineCode fails when a static file would need the CSP relaxed:
// inline scripts, event handler attributes, style attributes or elements,
// innerHTML assignments, or external (CDN) resources.
func TestNoInlineCode(t *testing.T) {
	bad := map[string]*regexp.Regexp{
		"inline script":        regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`),
		"event handler":        regexp.MustCompile(`(?i)<[^>]+\son[a-z]+\s*=`),
		"style attribute":      regexp.MustCompile(`(?i)<[^>]+\sstyle\s*=`),
		"style element":        regexp.MustCompile(`(?i)<style[\s>]`),
		"innerHTML":            regexp.MustCompile(`\.(?:inner|outer)HTML\s*=|insertAdjacentHTML`),
		"external resource":    regexp.MustCompile(`(?i)(?:src|href)\s*=\s*["']?(?:https?:)?//`),
		"element.style writes": regexp.MustCompile(`\.style\.[a-zA-Z]+\s*=|setAttribute\(\s*['"]style`),
	}
	err := filepath.WalkDir("static", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if ext := filepath.Ext(path); ext != ".html" && ext != ".js" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for what, re := range bad {
			if loc := re.FindIndex(b); loc != nil {
				t.Errorf("%s: got %s at byte %d (%q), want none", path, what, loc[0], b[loc[0]:min(loc[1]+20, len(b))])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
