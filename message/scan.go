package message

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"mime"
	"slices"
	"strings"
)

// Limits that keep hostile input from costing unbounded time or memory.
const (
	maxDepth = 100   // nesting of multiparts and message/rfc822 parts (as other servers limit it)
	maxParts = 10000 // parts in one message
)

// Errors recorded in Parsed.Malformed (wrapped with details).
var (
	// ErrMissingBoundary means a multipart body lacks its closing delimiter (RFC 2046 section 5.1.1).
	ErrMissingBoundary = errors.New("missing closing boundary")
	// ErrNoParts means a multipart body has no delimiter line at all.
	ErrNoParts = errors.New("multipart without parts")
	// ErrBadBase64 means a base64 body holds characters outside the alphabet or is truncated (RFC 2045 section 6.8).
	ErrBadBase64 = errors.New("invalid base64")
	// ErrTooComplex means the message nests too deep or has too many parts.
	ErrTooComplex = errors.New("message too complex")
	// ErrBadContentType means a Content-Type header could not be parsed (RFC 2045 section 5).
	ErrBadContentType = errors.New("invalid content-type")
)

// field is one raw header field, unfolded.
type field struct {
	key   string // canonical as written, compare with strings.EqualFold
	value string // unfolded, trimmed
}

// header is the ordered list of fields of one entity.
type header []field

// get returns the first value of key, "" if absent.
func (h header) get(key string) string {
	for _, f := range h {
		if strings.EqualFold(f.key, key) {
			return f.value
		}
	}
	return ""
}

// has reports whether key is present.
func (h header) has(key string) bool {
	for _, f := range h {
		if strings.EqualFold(f.key, key) {
			return true
		}
	}
	return false
}

// all returns every value of key.
func (h header) all(key string) []string {
	var vs []string
	for _, f := range h {
		if strings.EqualFold(f.key, key) {
			vs = append(vs, f.value)
		}
	}
	return vs
}

// nextLine returns the end of the line starting at i (just past its LF, or end).
func nextLine(raw []byte, i, end int) int {
	j := bytes.IndexByte(raw[i:end], '\n')
	if j < 0 {
		return end
	}
	return i + j + 1
}

// trimEOL strips a trailing LF and CR.
func trimEOL(line []byte) []byte {
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r"))
}

// isFieldLine reports whether line looks like "name: value" (RFC 5322 section 2.2).
// Spaces before the colon are tolerated (obsolete syntax, RFC 5322 section 4.5).
func isFieldLine(line []byte) bool {
	c := bytes.IndexByte(line, ':')
	if c <= 0 {
		return false
	}
	name := bytes.TrimRight(line[:c], " \t")
	if len(name) == 0 {
		return false
	}
	for _, b := range name {
		if b <= ' ' || b >= 0x7f {
			return false
		}
	}
	return true
}

// scanHeader reads the header starting at start. It returns the fields and the
// offset of the body. A header ends at an empty line (consumed), at a line that
// is neither a field nor a continuation (not consumed), or at end. Folded
// lines are unfolded (RFC 5322 section 2.2.3).
func scanHeader(raw []byte, start, end int) (header, int) {
	var h header
	var cont [][]string // continuation lines of each field
	finish := func() header {
		for i, c := range cont {
			if len(c) > 0 {
				h[i].value = strings.TrimSpace(h[i].value + " " + strings.Join(c, " "))
			}
		}
		return h
	}
	i := start
	first := true
	for i < end {
		e := nextLine(raw, i, end)
		line := trimEOL(raw[i:e])
		switch {
		case len(line) == 0:
			return finish(), e
		case line[0] == ' ' || line[0] == '\t':
			if len(h) == 0 {
				if first && start == 0 {
					// Leading white space before any field: skip.
					i = e
					continue
				}
				return finish(), i
			}
			if t := strings.TrimSpace(string(line)); t != "" {
				cont[len(h)-1] = append(cont[len(h)-1], t)
			}
		case isFieldLine(line):
			c := bytes.IndexByte(line, ':')
			h = append(h, field{
				key:   string(bytes.TrimRight(line[:c], " \t")),
				value: strings.TrimSpace(string(line[c+1:])),
			})
			cont = append(cont, nil)
		case first && start == 0 && bytes.HasPrefix(line, []byte("From ")):
			// mbox separator line before the header.
		default:
			return finish(), i
		}
		first = false
		i = e
	}
	return finish(), end
}

// scanner builds the Part tree.
//
// Every multipart needs the delimiter lines of its boundary inside its
// body, and every part its line count. Searching the body for them at each
// level would cost the message size once per level of nesting (quadratic
// for deep messages), so the scanner indexes the raw message once, on the
// first multipart: the offsets of all line ends, and the delimiter-like
// lines ("--" + something) by the boundary they would close or open. Each
// level then only looks up its own lines, and the whole parse stays linear
// in the message size, however deep the nesting (up to maxDepth).
type scanner struct {
	raw   []byte
	parts int
	err   error // first problem

	indexed bool
	eols    []int              // offsets of every '\n', ascending
	delims  map[string][]delim // boundary -> its delimiter lines, ascending
}

// delim is a line that is a delimiter of some boundary (RFC 2046 section 5.1.1).
type delim struct {
	start, next int  // the line's offset and the offset after its line break
	close       bool // "--boundary--"
}

// index builds eols and delims in one pass over the message.
func (s *scanner) index() {
	s.indexed = true
	s.delims = map[string][]delim{}
	raw := s.raw
	for i := 0; i < len(raw); {
		e := nextLine(raw, i, len(raw))
		if e > i && raw[e-1] == '\n' {
			s.eols = append(s.eols, e-1)
		}
		line := trimEOL(raw[i:e])
		if len(line) > 2 && line[0] == '-' && line[1] == '-' {
			rest := bytes.TrimRight(line[2:], " \t")
			s.delims[string(rest)] = append(s.delims[string(rest)], delim{start: i, next: e})
			if b, ok := bytes.CutSuffix(rest, []byte("--")); ok {
				s.delims[string(b)] = append(s.delims[string(b)], delim{start: i, next: e, close: true})
			}
		}
		i = e
	}
}

// lines counts the lines of raw[start:end] as countLines does, from the index.
func (s *scanner) lines(start, end int) int64 {
	if !s.indexed {
		return countLines(s.raw[start:end])
	}
	lo, _ := slices.BinarySearch(s.eols, start)
	hi, _ := slices.BinarySearch(s.eols, end)
	n := int64(hi - lo)
	if end > start && s.raw[end-1] != '\n' {
		n++
	}
	return n
}

// fail records the first problem.
func (s *scanner) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

// mediaType parses a Content-Type value leniently, returning a lower-case
// type/subtype ("" if unusable) and lower-case parameter names.
func (s *scanner) mediaType(v string, path string) (string, map[string]string) {
	if strings.TrimSpace(v) == "" {
		return "", map[string]string{}
	}
	t, params, err := mime.ParseMediaType(v)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
		// Retry with only the type, then with parameters one at a time.
		base, rest, _ := strings.Cut(v, ";")
		t, _, err2 := mime.ParseMediaType(base)
		if f := strings.Fields(base); err2 != nil && len(f) > 1 {
			// "text/plain charset=us-ascii": a missing semicolon.
			t, _, err2 = mime.ParseMediaType(f[0])
			rest = strings.Join(f[1:], ";") + ";" + rest
		}
		if err2 != nil {
			s.fail(fmt.Errorf("part %q: %w %q", path, ErrBadContentType, v))
			return "", map[string]string{}
		}
		params = map[string]string{}
		for _, p := range strings.Split(rest, ";") {
			if _, pp, err := mime.ParseMediaType("x/x;" + p); err == nil {
				for k, val := range pp {
					params[k] = val
				}
			} else if k, val, ok := strings.Cut(p, "="); ok {
				k = strings.ToLower(strings.TrimSpace(k))
				val = strings.Trim(strings.TrimSpace(val), `"`)
				if k != "" {
					params[k] = val
				}
			}
		}
		return strings.ToLower(t), params
	}
	if params == nil {
		params = map[string]string{}
	}
	if !strings.Contains(t, "/") {
		return "", params
	}
	return strings.ToLower(t), params
}

// entity parses the entity at [start,end). defType is the default content type.
func (s *scanner) entity(start, end int, path, defType string, depth int) *Part {
	s.parts++
	h, bodyStart := scanHeader(s.raw, start, end)
	p := &Part{
		Path:        path,
		HeaderStart: int64(start),
		BodyStart:   int64(bodyStart),
		BodyEnd:     int64(end),
	}
	p.header = h
	p.ContentID = strings.Trim(h.get("Content-Id"), "<> \t")
	p.Description = decodeWords(h.get("Content-Description"))
	ct, params := s.mediaType(h.get("Content-Type"), path)
	if ct == "" {
		ct = defType
		if _, ok := params["charset"]; !ok && ct == "text/plain" {
			params["charset"] = "us-ascii"
		}
	}
	p.ContentType = ct
	p.Params = params
	p.Encoding = strings.ToLower(strings.TrimSpace(h.get("Content-Transfer-Encoding")))
	disp := h.get("Content-Disposition")
	if disp != "" {
		d, dp, err := mime.ParseMediaType(disp)
		if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
			d, _, _ = strings.Cut(disp, ";")
			dp = map[string]string{}
			if i := strings.Index(strings.ToLower(disp), "filename="); i >= 0 {
				fn := disp[i+len("filename="):]
				fn, _, _ = strings.Cut(fn, ";")
				dp["filename"] = strings.Trim(strings.TrimSpace(fn), `"`)
			}
		}
		p.Disposition = strings.ToLower(strings.TrimSpace(d))
		p.Filename = decodeWords(dp["filename"])
	}
	if p.Filename == "" && params["name"] != "" {
		p.Filename = decodeWords(params["name"])
	}
	p.Lines = s.lines(bodyStart, end)

	if depth >= maxDepth || s.parts >= maxParts {
		if strings.HasPrefix(ct, "multipart/") || ct == "message/rfc822" {
			s.fail(fmt.Errorf("part %q: %w", path, ErrTooComplex))
		}
		return p
	}
	switch {
	case strings.HasPrefix(ct, "multipart/"):
		s.multipart(p, depth)
	case ct == "message/rfc822" || ct == "message/global":
		switch p.Encoding {
		case "", "7bit", "8bit", "binary":
			sub := s.entity(bodyStart, end, path, "text/plain", depth+1)
			if len(sub.Children) == 0 {
				c := *sub
				c.Path = childPath(path, 1)
				sub.Children = []*Part{&c}
			}
			p.Message = sub
			p.Children = sub.Children
		}
	}
	return p
}

// countLines counts the lines of a body as IMAP's BODYSTRUCTURE reports them.
func countLines(b []byte) int64 {
	n := int64(bytes.Count(b, []byte("\n")))
	if len(b) > 0 && b[len(b)-1] != '\n' {
		n++
	}
	return n
}

// childPath returns the IMAP section number of the n-th child (1-based).
func childPath(parent string, n int) string {
	if parent == "" {
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("%s.%d", parent, n)
}

// multipart finds the body parts of p between its delimiter lines (RFC 2046
// section 5.1.1). The line break before a delimiter belongs to the delimiter.
func (s *scanner) multipart(p *Part, depth int) {
	boundary := p.Params["boundary"]
	if boundary == "" {
		s.fail(fmt.Errorf("part %q: %w: no boundary parameter", p.Path, ErrNoParts))
		p.ContentType = "text/plain"
		return
	}
	if !s.indexed {
		s.index()
	}
	defType := "text/plain"
	if p.ContentType == "multipart/digest" {
		defType = "message/rfc822"
	}
	end := int(p.BodyEnd)
	var starts []int // offsets of child entities
	var ends []int   // offsets where each child's body ends
	closed := false
	ds := s.delims[strings.TrimRight(boundary, " \t")]
	first, _ := slices.BinarySearchFunc(ds, int(p.BodyStart), func(d delim, off int) int { return cmp.Compare(d.start, off) })
	for _, d := range ds[first:] {
		if d.start >= end {
			break
		}
		if len(starts) > len(ends) {
			ends = append(ends, bodyEndBefore(s.raw, starts[len(starts)-1], d.start))
		}
		if d.close {
			closed = true
			break
		}
		starts = append(starts, min(d.next, end))
	}
	if len(starts) > len(ends) {
		ends = append(ends, end)
	}
	if len(starts) == 0 {
		// Shown as text, as mail clients do, so the body stays readable.
		s.fail(fmt.Errorf("part %q: %w (boundary %q)", p.Path, ErrNoParts, boundary))
		p.ContentType = "text/plain"
		return
	}
	if !closed {
		s.fail(fmt.Errorf("part %q: %w %q", p.Path, ErrMissingBoundary, boundary))
	}
	for n := range starts {
		if s.parts >= maxParts {
			s.fail(fmt.Errorf("part %q: %w", p.Path, ErrTooComplex))
			break
		}
		p.Children = append(p.Children, s.entity(starts[n], ends[n], childPath(p.Path, n+1), defType, depth+1))
	}
}

// bodyEndBefore returns the end of a part whose next delimiter line starts at
// delim: the CRLF (or LF) before the delimiter is not part of the body.
func bodyEndBefore(raw []byte, start, delim int) int {
	e := delim
	if e > start && raw[e-1] == '\n' {
		e--
		if e > start && raw[e-1] == '\r' {
			e--
		}
	}
	return e
}

// scan parses raw into its Part tree. The root has Path ""; a root that is
// not multipart gets one child "1" covering the same body, as IMAP numbers it
// (RFC 3501 section 6.4.5).
func scan(raw []byte) (*Part, error) {
	s := &scanner{raw: raw}
	root := s.entity(0, len(raw), "", "text/plain", 0)
	if !strings.HasPrefix(root.ContentType, "multipart/") {
		c := *root
		c.Path = "1"
		c.Children = nil
		c.Message = nil
		if root.Message != nil {
			// message/rfc822 at the top: renumber the embedded parts under "1".
			c.Message = renumber(root.Message, "1")
			c.Children = c.Message.Children
		}
		root.Children = []*Part{&c}
	}
	return root, s.err
}

// renumber returns a copy of p and its descendants with paths under prefix.
func renumber(p *Part, path string) *Part {
	c := *p
	c.Path = path
	c.Children = nil
	for i, ch := range p.Children {
		c.Children = append(c.Children, renumber(ch, childPath(path, i+1)))
	}
	if p.Message != nil {
		c.Message = &Part{}
		*c.Message = *p.Message
		c.Message.Path = path
		c.Message.Children = c.Children
	}
	return &c
}
