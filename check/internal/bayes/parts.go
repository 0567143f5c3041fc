package bayes

import (
	"bytes"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-message"
)

// Part is one leaf part of a message as Parts hands it out.
type Part struct {
	Header      *message.Header // the part's own header
	Top         bool            // the part is the message itself (not multipart)
	ContentType string          // lower case, "text/plain" when absent
	Encoding    string          // Content-Transfer-Encoding, lower case
	Attachment  bool            // Content-Disposition attachment or a file name
	Depth       int
	// Text is the decoded (transfer encoding and charset) body of a text/*
	// part, at most maxTextBytes over the whole message; "" for others.
	Text string
	// Size is the part's raw body size.
	Size int
	// Raw is the part's body as it is in the message (still
	// transfer-encoded); it aliases the message.
	Raw []byte
}

// Parts calls top with the message's top-level header and fn with every
// leaf part, through the same linear MIME walk as Tokenize (at most
// MaxDepth levels, 1000 parts, maxTextBytes of decoded text), until fn
// returns false or the deadline (zero: none) passes. It reports whether
// the message had a parseable header.
func Parts(raw []byte, deadline time.Time, top func(h *message.Header), fn func(p Part) bool) bool {
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		}
	}
	budget := maxTextBytes
	first := true
	ok, _ := walkMIME(raw, func(mp *mimePart) bool {
		if !deadline.IsZero() && time.Now().After(deadline) {
			return false
		}
		if first {
			top(&mp.header)
			first = false
		}
		if mp.multipart {
			return true
		}
		ct, _, _ := mp.header.ContentType()
		if ct == "" {
			ct = "text/plain"
		}
		p := Part{Header: &mp.header, Top: mp.depth == 0, ContentType: ct, Depth: mp.depth, Size: len(mp.body), Raw: mp.body,
			Encoding: strings.ToLower(strings.TrimSpace(mp.header.Get("Content-Transfer-Encoding")))}
		if disp, dp, err := mp.header.ContentDisposition(); err == nil && (disp == "attachment" || dp["filename"] != "") {
			p.Attachment = true
		}
		if strings.HasPrefix(ct, "text/") && budget > 0 {
			b, _ := io.ReadAll(io.LimitReader(mp.entity(), int64(budget)))
			budget -= len(b)
			p.Text = string(b)
		}
		return fn(p)
	})
	return ok
}
