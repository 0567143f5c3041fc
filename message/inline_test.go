package message

import (
	"strings"
	"testing"
)

// FuzzInlineParts: InlineParts never panics and names only parts that
// exist and have a Content-ID the HTML refers to.
func FuzzInlineParts(f *testing.F) {
	f.Add("Content-Type: multipart/related; boundary=r\r\n\r\n--r\r\nContent-Type: text/html\r\n\r\n<img src=\"cid:a%40b\">\r\n--r\r\nContent-Type: image/png\r\nContent-ID: <a@b>\r\n\r\nx\r\n--r--\r\n")
	f.Add("Content-Type: text/html\r\n\r\ncid:\r\n")
	f.Fuzz(func(t *testing.T, raw string) {
		p := Parse([]byte(raw))
		paths := map[string]*Part{}
		var walk func(pt *Part)
		walk = func(pt *Part) {
			if pt == nil {
				return
			}
			paths[pt.Path] = pt
			for _, c := range pt.Children {
				walk(c)
			}
		}
		walk(p.Root)
		for path := range InlineParts(p) {
			pt := paths[path]
			if pt == nil || pt.ContentID == "" || !strings.Contains(strings.ToLower(p.HTML), "cid:") {
				t.Fatalf("InlineParts named %q: part %+v", path, pt)
			}
		}
	})
}

func TestInlineParts(t *testing.T) {
	raw := "Content-Type: multipart/related; boundary=r\r\n\r\n--r\r\nContent-Type: text/html\r\n\r\n<img src=\"CID:Logo%401\"><img src='cid:missing'>\r\n" +
		"--r\r\nContent-Type: image/png\r\nContent-ID: <logo@1>\r\n\r\nx\r\n--r\r\nContent-Type: image/png\r\nContent-ID: <other@1>\r\n\r\ny\r\n--r--\r\n"
	got := InlineParts(Parse([]byte(raw)))
	if len(got) != 1 || !got["2"] {
		t.Errorf("InlineParts: got %v, want only part 2 (referenced case-insensitively, percent-decoded)", got)
	}
}
