package imap

import (
	"bytes"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
)

// maxDecoded bounds the decoded text of one part that SEARCH looks at.
const maxDecoded = 16 << 20

// wordDecoder decodes RFC 2047 encoded words in any charset go-message knows.
var wordDecoder = &mime.WordDecoder{CharsetReader: charset.Reader}

// decodeWords decodes RFC 2047 encoded words; undecodable text stays as is.
func decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		return d
	}
	return s
}

// toUTF8 converts text in the named charset to UTF-8 (best effort).
func toUTF8(b []byte, cs string) string {
	if len(b) > maxDecoded {
		b = b[:maxDecoded]
	}
	cs = strings.ToLower(strings.TrimSpace(cs))
	if cs == "" || cs == "utf-8" || cs == "us-ascii" || utf8.Valid(b) && cs != "utf-16" {
		return string(b)
	}
	r, err := charset.Reader(cs, bytes.NewReader(b))
	if err != nil {
		return string(b)
	}
	out, err := io.ReadAll(io.LimitReader(r, maxDecoded))
	if err != nil && len(out) == 0 {
		return string(b)
	}
	return string(out)
}
