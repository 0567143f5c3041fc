package web

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/message"
	"github.com/stamp-mail/stamp/web/ui"
)

// Bounds of the inline (cid:) images written into a message's HTML
// document as data: URLs.
const (
	// maxInlineImage is the largest decoded image inlined; bigger ones are dropped.
	maxInlineImage = 2 << 20
	// maxInlineTotal bounds the decoded bytes inlined into one document.
	maxInlineTotal = 8 << 20
)

// inlineImageTypes are the image types inlined as data: URLs (no SVG: it
// may hold scripts and links of its own).
var inlineImageTypes = setOf("image/png", "image/gif", "image/jpeg", "image/webp")

// messageHTMLPolicy returns the Content-Security-Policy of a message's HTML
// document. Nothing may load but inline styles, data: fonts and images
// (remote ones only when the reader asked for them), and the document is
// sandboxed even when opened on its own: no scripts, no forms; links may
// open (unsandboxed) new windows. The document keeps its origin
// (allow-same-origin) so that the webmail can size the frame to the
// message and scale wide tables down on phones; with no script able to
// run in it, that origin gives the message itself nothing.
func messageHTMLPolicy(remote bool) string {
	img := "img-src data:"
	if remote {
		img += " https: http:"
	}
	return "default-src 'none'; style-src 'unsafe-inline'; " + img + "; font-src data:; " +
		"sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox; frame-ancestors 'self'"
}

// handleMessageHTML serves the sanitized HTML body of a message as a
// document of its own, for the webmail's sandboxed message frame (see
// Sanitize and messageHTMLPolicy). The frame's document has an opaque
// origin, so its own requests would carry no SameSite=Strict session
// cookie: inline (cid:) images are therefore written into the document as
// data: URLs, within maxInlineImage and maxInlineTotal.
func (s *Server) handleMessageHTML(w http.ResponseWriter, r *http.Request) {
	m, raw, err := s.loadRaw(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := message.Parse(raw)
	if p.HTML == "" {
		s.fail(w, r, &apiError{Status: http.StatusNotFound, Code: codeNotFound, Message: "the message has no HTML body"})
		return
	}
	remote := r.URL.Query().Get("remote") == "1"
	body, _ := Sanitize(p.HTML, SanitizeOptions{AllowRemote: remote, CIDURL: s.inlineCIDs(r, m, raw, p.Root)})

	var b strings.Builder
	b.Grow(len(body) + 1024)
	b.WriteString("<!doctype html>\n<html><head><meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\">" +
		"<meta name=\"color-scheme\" content=\"light\"><style>")
	b.WriteString(ui.MailCSS())
	b.WriteString("</style></head><body>")
	b.WriteString(body)
	b.WriteString("</body></html>\n")

	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", messageHTMLPolicy(remote))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "private")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(b.String()))
}

// inlineCIDs returns a SanitizeOptions.CIDURL that maps a "cid:" reference
// (RFC 2392) to a data: URL of the decoded inline image, or "" (dropping
// the image) when no part has that Content-ID, the part is not a raster
// image, or the size bounds are exceeded. Each part is decoded at most once.
func (s *Server) inlineCIDs(r *http.Request, m core.Message, raw []byte, root *message.Part) func(string) string {
	parts := map[string]*message.Part{}
	var walk func(p *message.Part)
	walk = func(p *message.Part) {
		if p == nil {
			return
		}
		if p.ContentID != "" && len(p.Children) == 0 {
			cid := strings.ToLower(p.ContentID)
			if _, dup := parts[cid]; !dup {
				parts[cid] = p
			}
		}
		for _, c := range p.Children {
			walk(c)
		}
	}
	walk(root)
	done := map[*message.Part]string{}
	total := 0
	return func(cid string) string {
		cid, _ = url.PathUnescape(cid)
		p := parts[strings.ToLower(strings.Trim(cid, "<>"))]
		if p == nil || !inlineImageTypes[p.ContentType] {
			return ""
		}
		if u, ok := done[p]; ok {
			return u
		}
		done[p] = ""
		data, err := message.DecodePart(raw, p)
		if err != nil {
			s.reqLog(r).Info("inline image not decoded", "message_id", m.ID, "part", p.Path, "err", err)
			return ""
		}
		if len(data) > maxInlineImage || total+len(data) > maxInlineTotal {
			return ""
		}
		total += len(data)
		u := fmt.Sprintf("data:%s;base64,%s", p.ContentType, base64.StdEncoding.EncodeToString(data))
		done[p] = u
		return u
	}
}
