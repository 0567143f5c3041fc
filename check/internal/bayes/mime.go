package bayes

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"sync"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // legacy charsets (EUC-KR, ISO-2022-JP, GB2312...) decode to UTF-8
	"github.com/emersion/go-message/textproto"
)

const (
	// MaxDepth is how deep multipart nesting is followed (RFC 2046 sets no
	// limit; 100 levels is what other servers allow). A multipart below it
	// is one opaque part.
	MaxDepth = 100
	// maxParts bounds how many parts of one message are looked at.
	maxParts = 1000
	// maxPartHeader bounds the header of one part.
	maxPartHeader = 64 << 10
)

// mimePart is one part found by walkMIME: its header, its raw (still
// transfer-encoded) body, its depth (0 for the top level) and whether it
// is a multipart container (whose body is not given).
type mimePart struct {
	header    message.Header
	body      []byte
	depth     int
	multipart bool
}

// entity returns the part's body decoded from its transfer encoding and
// charset; unknown encodings or charsets yield the bytes as they are.
func (p *mimePart) entity() io.Reader {
	e, _ := message.New(p.header, bytes.NewReader(p.body))
	if e == nil {
		return bytes.NewReader(p.body)
	}
	return e.Body
}

// frame is one open multipart of walkMIME's stack.
type frame struct {
	delim string // "--" + boundary
	depth int
}

// walkMIME calls fn for every part of raw, containers first, in one pass
// over the lines of the message: the delimiter lines of every open
// multipart (RFC 2046 section 5.1.1) are matched against a stack of at
// most MaxDepth boundaries, so the cost is linear in the size of the
// message whatever its nesting (go-message's Walk reads every byte through
// one reader per level, which is quadratic in the depth). fn returns false
// to stop. It reports false when raw has no parseable header, and the
// work done: the bytes it examined, at most twice the size of the message
// plus maxParts*maxPartHeader (a broken part header is scanned once as a
// header and once as body lines).
func walkMIME(raw []byte, fn func(p *mimePart) bool) (ok bool, work int) {
	h, body, ok := splitHeader(raw)
	work += len(raw) - len(body)
	if !ok {
		return false, work
	}
	var stack []frame
	parts := 0
	// open handles a part that starts at body with header h: it is handed
	// to fn, and a multipart becomes the innermost open frame. It returns
	// whether the part is a leaf and whether to go on.
	open := func(h message.Header, body []byte, depth int) (leaf, goOn bool) {
		parts++
		ct, params, _ := h.ContentType()
		if b := params["boundary"]; strings.HasPrefix(ct, "multipart/") && b != "" && len(b) <= 70 && depth < MaxDepth {
			stack = append(stack, frame{delim: "--" + b, depth: depth})
			return false, fn(&mimePart{header: h, depth: depth, multipart: true})
		}
		return true, true
	}
	leaf, goOn := open(h, body, 0)
	if !goOn {
		return true, work
	}
	if leaf {
		fn(&mimePart{header: h, body: body, depth: 0})
		return true, work
	}
	// The current leaf: its header, depth and where its body starts (-1: none,
	// we are in a preamble or epilogue).
	var cur message.Header
	curDepth, curStart := 0, -1
	emit := func(end int) bool {
		if curStart < 0 {
			return true
		}
		b := body[curStart:end]
		// The CRLF before a delimiter belongs to the delimiter (RFC 2046 section 5.1.1).
		b = bytes.TrimSuffix(b, []byte("\n"))
		b = bytes.TrimSuffix(b, []byte("\r"))
		curStart = -1
		return fn(&mimePart{header: cur, body: b, depth: curDepth})
	}
	pos := 0
	for pos < len(body) && len(stack) > 0 {
		end := bytes.IndexByte(body[pos:], '\n')
		next := len(body)
		if end >= 0 {
			next = pos + end + 1
		}
		line := body[pos:next]
		work += len(line)
		if len(line) < 3 || line[0] != '-' || line[1] != '-' {
			pos = next
			continue
		}
		l := string(bytes.TrimRight(line, " \t\r\n"))
		level, closing := -1, false
		for i := len(stack) - 1; i >= 0; i-- {
			d := stack[i].delim
			if l == d {
				level = i
				break
			}
			if len(l) == len(d)+2 && strings.HasPrefix(l, d) && strings.HasSuffix(l, "--") {
				level, closing = i, true
				break
			}
		}
		if level < 0 {
			pos = next
			continue
		}
		if !emit(pos) {
			return true, work
		}
		depth := stack[level].depth + 1
		stack = stack[:level+1] // inner multiparts left open end here
		pos = next
		if closing {
			stack = stack[:level]
			continue
		}
		if parts >= maxParts {
			return true, work
		}
		ph, pb, ok := splitHeader(body[pos:])
		if !ok {
			// A broken part header: its lines are read as body lines. It
			// counts as a part, so at most maxParts header scans (of at
			// most maxPartHeader bytes each) are ever made.
			parts++
			work += min(len(body)-pos, maxPartHeader)
			continue
		}
		start := len(body) - len(pb)
		work += start - pos
		leaf, goOn := open(ph, pb, depth)
		if !goOn {
			return true, work
		}
		if leaf {
			cur, curDepth, curStart = ph, depth, start
		}
		pos = start
	}
	emit(len(body))
	return true, work
}

// headerReaders are splitHeader's buffered readers (of bufio's default
// size), reused: a message has a header per part.
var headerReaders = sync.Pool{New: func() any { return bufio.NewReader(nil) }}

// splitHeader parses the header at the start of b and returns it with the
// rest of b (the body). A part with no header at all (a blank first line)
// has an empty header, as RFC 2046 section 5.1.1 allows.
func splitHeader(b []byte) (message.Header, []byte, bool) {
	end, sep := -1, 0
	for i := 0; i < len(b) && i < maxPartHeader; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			break
		}
		line := b[i : i+j+1]
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			end, sep = i, len(line)
			break
		}
		i += j + 1
	}
	if end < 0 {
		if len(b) > maxPartHeader {
			return message.Header{}, nil, false
		}
		end, sep = len(b), 0 // header only, no body
	}
	br := headerReaders.Get().(*bufio.Reader)
	br.Reset(bytes.NewReader(append(b[:end:end], "\r\n"...)))
	th, err := textproto.ReadHeader(br) // (it copies what it keeps)
	br.Reset(nil)
	headerReaders.Put(br)
	if err != nil {
		return message.Header{}, nil, false
	}
	return message.Header{Header: th}, b[end+sep:], true
}
