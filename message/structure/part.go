// Package structure is the MIME part tree of a message as IMAP describes
// it (RFC 9051 section 7.5.2: BODYSTRUCTURE and ENVELOPE) and its compact
// binary encoding, stored with each message at delivery so FETCH of
// ENVELOPE, BODY and BODYSTRUCTURE never reads message bytes. It knows no
// protocol syntax: imap/ renders the tree.
package structure

import (
	"bytes"
	"strings"
)

// MaxDepth bounds multipart and message/rfc822 nesting (issue 16: the
// limit other servers use). Deeper parts are treated as opaque bodies.
const MaxDepth = 100

// MaxParts bounds the parts of one message the walk looks at.
const MaxParts = 10000

// Part is one MIME entity of a message: offsets into the raw message, the
// header fields that BODYSTRUCTURE and sections need, and its children
// (multipart) or its encapsulated message (message/rfc822).
type Part struct {
	Hdr, Body, End int // raw[Hdr:Body] is the header (with its blank line), raw[Body:End] the body

	Type, Sub  string // lower case
	Params     []KV   // Content-Type parameters, in order
	ID, Desc   string
	Enc        string // Content-Transfer-Encoding as written, "" if none
	MD5        string
	Disp       string
	DispParams []KV
	Lang       []string
	Location   string
	HasType    bool
	Lines      int64
	Children   []*Part
	Msg        *Part // message/rfc822: the encapsulated message

	// Env is the envelope of a message's header: set by Build on the root
	// and on every Msg, nil from Parse.
	Env *Envelope
}

// KV is a header field or a parameter.
type KV struct{ K, V string }

// walker parses a message into parts, counting them.
type walker struct {
	raw   []byte
	parts int
}

// Parse parses raw into its part tree. It never fails: malformed input
// gives the parts a lenient reader would see. Time is linear in len(raw)
// per nesting level, and nesting is bounded.
func Parse(raw []byte) *Part {
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

// Fields returns the unfolded header fields of raw[start:end].
func Fields(h []byte) []KV {
	var out []KV
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
			out[len(out)-1].V += " " + strings.TrimSpace(string(line))
			continue
		}
		c := bytes.IndexByte(line, ':')
		if c <= 0 {
			continue
		}
		out = append(out, KV{strings.TrimSpace(string(line[:c])), strings.TrimSpace(string(line[c+1:]))})
	}
	return out
}

func FieldValue(fs []KV, name string) (string, bool) {
	for _, f := range fs {
		if strings.EqualFold(f.K, name) {
			return f.V, true
		}
	}
	return "", false
}

func (w *walker) entity(start, end, depth int, digest bool) *Part {
	w.parts++
	raw := w.raw
	p := &Part{Hdr: start, End: end}
	p.Body = headerEnd(raw, start, end)
	fs := Fields(raw[start:p.Body])
	p.Type, p.Sub = "text", "plain"
	if digest {
		p.Type, p.Sub = "message", "rfc822"
	}
	if ct, ok := FieldValue(fs, "Content-Type"); ok {
		t, params := ParseParams(ct)
		if slash := strings.IndexByte(t, '/'); slash > 0 && slash < len(t)-1 {
			p.Type, p.Sub = strings.ToLower(t[:slash]), strings.ToLower(t[slash+1:])
			p.Params = params
			p.HasType = true
		}
	}
	if !p.HasType && p.Type == "text" {
		p.Params = []KV{{"charset", "us-ascii"}}
	}
	p.ID, _ = FieldValue(fs, "Content-ID")
	p.Desc, _ = FieldValue(fs, "Content-Description")
	p.Enc, _ = FieldValue(fs, "Content-Transfer-Encoding")
	p.MD5, _ = FieldValue(fs, "Content-MD5")
	p.Location, _ = FieldValue(fs, "Content-Location")
	if d, ok := FieldValue(fs, "Content-Disposition"); ok {
		p.Disp, p.DispParams = ParseParams(d)
	}
	if l, ok := FieldValue(fs, "Content-Language"); ok {
		for _, x := range strings.Split(l, ",") {
			if x = strings.TrimSpace(x); x != "" {
				p.Lang = append(p.Lang, x)
			}
		}
	}
	p.Lines = int64(bytes.Count(raw[p.Body:end], []byte{'\n'}))
	if end > p.Body && raw[end-1] != '\n' {
		p.Lines++
	}
	if depth >= MaxDepth || w.parts >= MaxParts {
		return p
	}
	switch {
	case p.Type == "multipart":
		b := ParamValue(p.Params, "boundary")
		if b == "" {
			return p
		}
		w.multipart(p, b, depth, p.Sub == "digest")
	case p.Type == "message" && (p.Sub == "rfc822" || p.Sub == "global"):
		p.Msg = w.entity(p.Body, end, depth+1, false)
	}
	return p
}

// multipart splits the body of p at its boundary (RFC 2046 section 5.1.1).
func (w *walker) multipart(p *Part, boundary string, depth int, digest bool) {
	raw := w.raw
	delim := []byte("--" + boundary)
	i := p.Body
	partStart := -1
	for i <= p.End {
		j := bytes.IndexByte(raw[i:p.End], '\n')
		lineEnd := p.End
		next := p.End + 1
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
					p.Children = append(p.Children, w.entity(partStart, e, depth+1, digest))
					if w.parts >= MaxParts {
						return
					}
				}
				if closing {
					return
				}
				partStart = min(next, p.End)
			}
		}
		if j < 0 {
			break
		}
		i = next
	}
	if partStart >= 0 && partStart < p.End {
		p.Children = append(p.Children, w.entity(partStart, p.End, depth+1, digest))
	}
}

// ParseParams splits "value; a=b; c="d"" (RFC 2045 section 5.1,
// with RFC 2231 continuations joined).
func ParseParams(s string) (string, []KV) {
	val, rest, _ := strings.Cut(s, ";")
	val = strings.TrimSpace(stripComments(val))
	var params []KV
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
			params = append(params, KV{k, v})
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

func ParamValue(ps []KV, k string) string {
	for _, p := range ps {
		if p.K == k {
			return p.V
		}
	}
	return ""
}

// Find resolves a section part path (RFC 9051 section 6.4.5): numbers
// index multipart children; a message/rfc822 part is entered before the
// next number; "1" of a single-part entity is its body.
func (p *Part) Find(path []int) *Part {
	cur := p
	for i, n := range path {
		if i > 0 && cur.Msg != nil {
			cur = cur.Msg
		}
		switch {
		case cur.Type == "multipart" && cur.Children != nil:
			if n < 1 || n > len(cur.Children) {
				return nil
			}
			cur = cur.Children[n-1]
		case n == 1:
		default:
			return nil
		}
	}
	return cur
}
