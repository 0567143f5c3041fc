package message

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Bounds of the extracted text.
const (
	maxText    = 256 << 10 // bytes of Parsed.Text
	snippetLen = 200       // characters of Parsed.Snippet
)

// Parse reads a message (RFC 5322 with MIME, RFC 2045-2049) and never fails:
// what cannot be read is skipped and the first problem is recorded in
// Parsed.Malformed. Bare LF line endings, a header without the blank line and
// unknown charsets are accepted.
func Parse(raw []byte) *Parsed {
	root, err := scan(raw)
	p := &Parsed{Root: root, HeaderSize: root.BodyStart, Malformed: err}
	h := root.header
	p.Subject = decodeWords(h.get("Subject"))
	p.From = parseAddrHeader(h.get("From"))
	p.Sender = parseAddrHeader(h.get("Sender"))
	p.ReplyTo = parseAddrHeader(h.get("Reply-To"))
	p.To = parseAddrHeader(strings.Join(h.all("To"), ", "))
	p.Cc = parseAddrHeader(strings.Join(h.all("Cc"), ", "))
	p.Bcc = parseAddrHeader(strings.Join(h.all("Bcc"), ", "))
	p.Date = parseDate(h.get("Date"))
	if ids := msgIDs(h.get("Message-Id")); len(ids) > 0 {
		p.MessageID = ids[0]
	}
	p.InReplyTo = msgIDs(h.get("In-Reply-To"))
	p.References = msgIDs(strings.Join(h.all("References"), " "))

	var text, html strings.Builder
	var htmlSeen bool
	var walk func(part *Part)
	walk = func(part *Part) {
		if len(part.Children) > 0 && part.Message == nil {
			for _, c := range part.Children {
				walk(c)
			}
			return
		}
		if part.Message == nil && strings.HasPrefix(part.ContentType, "multipart/") {
			return // a multipart without parts
		}
		if isAttachment(part) {
			data, err := DecodePart(raw, part)
			if err != nil && p.Malformed == nil {
				p.Malformed = fmt.Errorf("part %q: %w", part.Path, err)
			}
			sum := sha256.Sum256(data)
			name := part.Filename
			p.Attachments = append(p.Attachments, Attachment{
				Part:        part,
				Filename:    name,
				ContentType: part.ContentType,
				Size:        int64(len(data)),
				Hash:        hex.EncodeToString(sum[:]),
			})
			return
		}
		switch part.ContentType {
		case "text/plain":
			if text.Len() >= maxText {
				return
			}
			s := decodeText(raw, part, p)
			if text.Len() > 0 {
				text.WriteString("\n")
			}
			text.WriteString(s)
		case "text/html":
			if htmlSeen {
				return
			}
			htmlSeen = true
			html.WriteString(decodeText(raw, part, p))
		}
	}
	// The synthetic child "1" of a single-part message stands for the body.
	walk(root)
	p.HTML = html.String()
	t := text.String()
	if t == "" && p.HTML != "" {
		t = htmlToText(p.HTML)
	}
	p.Text = truncUTF8(strings.ReplaceAll(t, "\r\n", "\n"), maxText)
	p.Snippet = snippet(p.Text, snippetLen)
	return p
}

// isAttachment reports whether a leaf is shown as an attachment: declared so,
// named, or anything but text (message/rfc822 included).
func isAttachment(part *Part) bool {
	if part.Disposition == "attachment" || part.Filename != "" {
		return true
	}
	return !strings.HasPrefix(part.ContentType, "text/")
}

// decodeText decodes a text part to UTF-8, recording problems in p.
func decodeText(raw []byte, part *Part, p *Parsed) string {
	data, err := DecodePart(raw, part)
	if err != nil && p.Malformed == nil {
		p.Malformed = fmt.Errorf("part %q: %w", part.Path, err)
	}
	return toUTF8(data, part.Params["charset"])
}

// truncUTF8 cuts s to at most n bytes on a character boundary.
func truncUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// snippet collapses white space and keeps the first n characters. It reads
// only as much of s as it keeps (s is a whole message's text).
func snippet(s string, n int) string {
	var b strings.Builder
	count := 0
	space := false // white space seen since the last word character
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if count >= n {
			break
		}
		if space {
			b.WriteByte(' ')
			count++
			space = false
			if count >= n {
				break
			}
		}
		b.WriteRune(r)
		count++
	}
	return b.String()
}

// msgIDs extracts message ids without angle brackets (RFC 5322 section 3.6.4).
// Values without brackets are split on white space.
func msgIDs(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	var ids []string
	rest := v
	for {
		i := strings.IndexByte(rest, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '>')
		if j < 0 {
			break
		}
		if id := strings.TrimSpace(rest[i+1 : i+j]); id != "" {
			ids = append(ids, id)
		}
		rest = rest[i+j+1:]
	}
	if len(ids) == 0 && !strings.ContainsAny(v, "<>") {
		for _, f := range strings.Fields(v) {
			if strings.Contains(f, "@") {
				ids = append(ids, f)
			}
		}
	}
	return ids
}

// dateLayouts are tried when net/mail cannot read a Date header; they cover
// forms seen in real mail (two-digit years, AM/PM, slashes, missing zone).
var dateLayouts = []string{
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 06 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04 -0700",
	"Mon, 2 Jan 2006 15:4:5 -0700",
	"Mon, 2 Jan 2006 15:4:5",
	"Mon Jan 2 15:04:05 2006",
	"Mon Jan 2 15:04:05 MST 2006",
	"Mon Jan 2 15:04:05 -0700 2006",
	"Mon, 2 Jan 2006 15:04:05",
	"Mon, 2 Jan 06 15:04:05",
	"2 Jan 2006 15:04:05",
	"2 Jan 06 15:04:05",
	"2 Jan 06 3:04:05 PM",
	"Mon, 2 Jan 2006 3:04:05 PM",
	"2006/01/02 Mon 15:04:05 MST",
	"2006/01/02 Mon 15:04:05",
	"2006-01-02 15:04:05",
	time.RFC3339,
}

// parseDate reads a Date header (RFC 5322 section 3.3, with the obsolete
// forms of section 4.3) leniently; zero if unreadable. Zone names that cannot
// be read are dropped (the time is then taken as UTC).
func parseDate(v string) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}
	}
	if t, err := mail.ParseDate(v); err == nil {
		return t
	}
	// Drop a comment like "(PST)", fix "+-0500" and unsigned "0530" zones.
	if i := strings.IndexByte(v, '('); i > 0 {
		v = v[:i]
	}
	v = strings.ReplaceAll(strings.ReplaceAll(v, "+-", "-"), ",", ", ")
	f := strings.Fields(v)
	candidates := [][]string{f}
	if n := len(f); n > 1 && len(f[n-1]) == 4 && isDigits(f[n-1]) && strings.Contains(f[n-2], ":") {
		g := append([]string(nil), f...)
		g[n-1] = "+" + g[n-1]
		candidates = [][]string{g, f}
	}
	// Try the whole value, then without up to four trailing words (zone names
	// like "Eastern Daylight Time" or garbage).
	for _, f := range candidates {
		for drop := 0; drop <= 4 && drop < len(f); drop++ {
			s := strings.Join(f[:len(f)-drop], " ")
			if t, err := mail.ParseDate(s); err == nil {
				return t
			}
			for _, l := range dateLayouts {
				if t, err := time.Parse(l, s); err == nil {
					return t
				}
			}
		}
	}
	return time.Time{}
}
