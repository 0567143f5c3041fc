package message

import (
	"net/url"
	"regexp"
	"strings"
)

// cidRef finds cid: references (RFC 2392) in HTML.
var cidRef = regexp.MustCompile(`(?i)cid:([^"'\s)>]+)`)

// InlineParts returns the paths of the parts that the HTML body shows
// through a cid: reference (an image of a multipart/related message): a
// mail client shows them in the body, not among the attachments.
func InlineParts(p *Parsed) map[string]bool {
	out := map[string]bool{}
	if p == nil || p.HTML == "" {
		return out
	}
	refs := map[string]bool{}
	for _, m := range cidRef.FindAllStringSubmatch(p.HTML, -1) {
		v, err := url.PathUnescape(m[1])
		if err != nil {
			v = m[1]
		}
		refs[strings.ToLower(strings.Trim(v, "<>"))] = true
	}
	if len(refs) == 0 {
		return out
	}
	var walk func(pt *Part, depth int)
	walk = func(pt *Part, depth int) {
		if pt == nil || depth > maxInlineDepth {
			return
		}
		if pt.ContentID != "" && refs[strings.ToLower(pt.ContentID)] {
			out[pt.Path] = true
		}
		for _, c := range pt.Children {
			walk(c, depth+1)
		}
	}
	walk(p.Root, 0)
	return out
}

// maxInlineDepth bounds InlineParts' walk (Parse bounds nesting already).
const maxInlineDepth = 200
