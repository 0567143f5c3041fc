package imap

import (
	"bytes"
	"strings"
)

// maxMIMEDepth bounds multipart and message/rfc822 nesting (issue 16: the
// limit other servers use). Deeper parts are treated as opaque bodies.
const maxMIMEDepth = 100

// maxParts bounds the parts of one message the walk looks at.
const maxParts = 10000

// part is one MIME entity of a message: offsets into the raw message, the
// header fields that BODYSTRUCTURE and sections need, and its children
// (multipart) or its encapsulated message (message/rfc822).
type part struct {
	hdr, body, end int // raw[hdr:body] is the header (with its blank line), raw[body:end] the body

	typ, sub   string // lower case
	params     []kv   // Content-Type parameters, in order
	id, desc   string
	enc        string // Content-Transfer-Encoding as written, "" if none
	md5        string
	disp       string
	dispParams []kv
	lang       []string
	location   string
	hasType    bool
	lines      int64
	children   []*part
	msg        *part // message/rfc822: the encapsulated message
}

type kv struct{ k, v string }

// walker parses a message into parts, counting them.
type walker struct {
	raw   []byte
	parts int
}

// parseMIME parses raw into its part tree. It never fails: malformed input
// gives the parts a lenient reader would see. Time is linear in len(raw)
// per nesting level, and nesting is bounded.
func parseMIME(raw []byte) *part {
	w := &walker{raw: raw}
	return w.entity(0, len(raw), 0, false)
}

// headerEnd finds the end of the header starting at start: the offset just
// after the blank line, and where the header text ends.
func headerEnd(raw []byte, start, end int) (bodyStart int) {
	i := start
	for i < end {
		j := bytes.IndexByte(raw[i:end], '\n')
		if j < 0 {
			return end
		}
		line := raw[i : i+j]
		if len(line) == 0 || (len(line) == 1 && line[0] == '\r') {
			return i + j + 1
		}
		i += j + 1
	}
	return end
}

// fields returns the unfolded header fields of raw[start:end].
func fields(h []byte) []kv {
	var out []kv
	for len(h) > 0 {
		j := bytes.IndexByte(h, '\n')
		var line []byte
		if j < 0 {
			line, h = h, nil
		} else {
			line, h = h[:j], h[j+1:]
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(out) > 0 {
			out[len(out)-1].v += " " + strings.TrimSpace(string(line))
			continue
		}
		c := bytes.IndexByte(line, ':')
		if c <= 0 {
			continue
		}
		out = append(out, kv{strings.TrimSpace(string(line[:c])), strings.TrimSpace(string(line[c+1:]))})
	}
	return out
}

func fieldValue(fs []kv, name string) (string, bool) {
	for _, f := range fs {
		if strings.EqualFold(f.k, name) {
			return f.v, true
		}
	}
	return "", false
}

func (w *walker) entity(start, end, depth int, digest bool) *part {
	w.parts++
	raw := w.raw
	p := &part{hdr: start, end: end}
	p.body = headerEnd(raw, start, end)
	fs := fields(raw[start:p.body])
	p.typ, p.sub = "text", "plain"
	if digest {
		p.typ, p.sub = "message", "rfc822"
	}
	if ct, ok := fieldValue(fs, "Content-Type"); ok {
		t, params := parseParamHeader(ct)
		if slash := strings.IndexByte(t, '/'); slash > 0 && slash < len(t)-1 {
			p.typ, p.sub = strings.ToLower(t[:slash]), strings.ToLower(t[slash+1:])
			p.params = params
			p.hasType = true
		}
	}
	if !p.hasType && p.typ == "text" {
		p.params = []kv{{"charset", "us-ascii"}}
	}
	p.id, _ = fieldValue(fs, "Content-ID")
	p.desc, _ = fieldValue(fs, "Content-Description")
	p.enc, _ = fieldValue(fs, "Content-Transfer-Encoding")
	p.md5, _ = fieldValue(fs, "Content-MD5")
	p.location, _ = fieldValue(fs, "Content-Location")
	if d, ok := fieldValue(fs, "Content-Disposition"); ok {
		p.disp, p.dispParams = parseParamHeader(d)
	}
	if l, ok := fieldValue(fs, "Content-Language"); ok {
		for _, x := range strings.Split(l, ",") {
			if x = strings.TrimSpace(x); x != "" {
				p.lang = append(p.lang, x)
			}
		}
	}
	p.lines = int64(bytes.Count(raw[p.body:end], []byte{'\n'}))
	if end > p.body && raw[end-1] != '\n' {
		p.lines++
	}
	if depth >= maxMIMEDepth || w.parts >= maxParts {
		return p
	}
	switch {
	case p.typ == "multipart":
		b := paramValue(p.params, "boundary")
		if b == "" {
			return p
		}
		w.multipart(p, b, depth, p.sub == "digest")
	case p.typ == "message" && (p.sub == "rfc822" || p.sub == "global"):
		p.msg = w.entity(p.body, end, depth+1, false)
	}
	return p
}

// multipart splits the body of p at its boundary (RFC 2046 section 5.1.1).
func (w *walker) multipart(p *part, boundary string, depth int, digest bool) {
	raw := w.raw
	delim := []byte("--" + boundary)
	i := p.body
	partStart := -1
	for i <= p.end {
		j := bytes.IndexByte(raw[i:p.end], '\n')
		lineEnd := p.end
		next := p.end + 1
		if j >= 0 {
			lineEnd = i + j
			next = lineEnd + 1
		}
		line := bytes.TrimRight(raw[i:lineEnd], "\r \t")
		if bytes.HasPrefix(line, delim) {
			rest := line[len(delim):]
			closing := bytes.Equal(rest, []byte("--"))
			if len(rest) == 0 || closing {
				if partStart >= 0 {
					// The CRLF before the delimiter belongs to the delimiter.
					e := i
					if e > partStart && raw[e-1] == '\n' {
						e--
						if e > partStart && raw[e-1] == '\r' {
							e--
						}
					}
					p.children = append(p.children, w.entity(partStart, e, depth+1, digest))
					if w.parts >= maxParts {
						return
					}
				}
				if closing {
					return
				}
				partStart = min(next, p.end)
			}
		}
		if j < 0 {
			break
		}
		i = next
	}
	if partStart >= 0 && partStart < p.end {
		p.children = append(p.children, w.entity(partStart, p.end, depth+1, digest))
	}
}

// parseParamHeader splits "value; a=b; c="d"" (RFC 2045 section 5.1,
// with RFC 2231 continuations joined).
func parseParamHeader(s string) (string, []kv) {
	val, rest, _ := strings.Cut(s, ";")
	val = strings.TrimSpace(stripComments(val))
	var params []kv
	for rest != "" {
		var item string
		item, rest = cutParam(rest)
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = unquote(v[1 : len(v)-1])
		}
		if k != "" {
			params = append(params, kv{k, v})
		}
	}
	return val, params
}

// cutParam cuts at the next ";" outside quotes.
func cutParam(s string) (string, string) {
	q := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if q {
				i++
			}
		case '"':
			q = !q
		case ';':
			if !q {
				return s[:i], s[i+1:]
			}
		}
	}
	return s, ""
}

func unquote(s string) string {
	if !strings.ContainsRune(s, '\\') {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func stripComments(s string) string {
	if !strings.ContainsRune(s, '(') {
		return s
	}
	var b strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func paramValue(ps []kv, k string) string {
	for _, p := range ps {
		if p.k == k {
			return p.v
		}
	}
	return ""
}

// find resolves a section part path (RFC 9051 section 6.4.5): numbers
// index multipart children; a message/rfc822 part is entered before the
// next number; "1" of a single-part entity is its body.
func (p *part) find(path []int) *part {
	cur := p
	for i, n := range path {
		if i > 0 && cur.msg != nil {
			cur = cur.msg
		}
		switch {
		case cur.typ == "multipart" && cur.children != nil:
			if n < 1 || n > len(cur.children) {
				return nil
			}
			cur = cur.children[n-1]
		case n == 1:
		default:
			return nil
		}
	}
	return cur
}
