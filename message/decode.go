package message

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding/charmap"
)

// DecodePart returns the content of part with its Content-Transfer-Encoding
// (RFC 2045 section 6) undone. Decoding is lenient: on damaged base64 it
// returns what could be decoded together with an error wrapping ErrBadBase64.
// Unknown encodings are returned as is.
func DecodePart(raw []byte, part *Part) ([]byte, error) {
	if part == nil || part.BodyStart < 0 || part.BodyEnd > int64(len(raw)) || part.BodyStart > part.BodyEnd {
		return nil, fmt.Errorf("part out of range of the message")
	}
	body := raw[part.BodyStart:part.BodyEnd]
	switch part.Encoding {
	case "base64":
		return decodeBase64(body)
	case "quoted-printable":
		return decodeQP(body), nil
	default:
		return body, nil
	}
}

// isB64 reports whether c is in the base64 alphabet.
func isB64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}

// decodeBase64 decodes b ignoring line breaks and whitespace (RFC 2045
// section 6.8). Decoding stops at the first pad character.
func decodeBase64(b []byte) ([]byte, error) {
	clean := make([]byte, 0, len(b))
	var bad error
	for i, c := range b {
		switch {
		case isB64(c):
			clean = append(clean, c)
		case c == '=':
			// Padding ends the data; anything but padding and space after it is suspect.
			for _, d := range b[i:] {
				if d != '=' && d != '\r' && d != '\n' && d != ' ' && d != '\t' {
					bad = fmt.Errorf("%w: data after padding", ErrBadBase64)
					break
				}
			}
			goto done
		case c == '\r' || c == '\n' || c == ' ' || c == '\t':
		default:
			if bad == nil {
				bad = fmt.Errorf("%w: character %q at offset %d", ErrBadBase64, c, i)
			}
		}
	}
done:
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
		if bad == nil {
			bad = fmt.Errorf("%w: truncated", ErrBadBase64)
		}
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, err := base64.RawStdEncoding.Decode(out, clean)
	if err != nil && bad == nil {
		bad = fmt.Errorf("%w: %v", ErrBadBase64, err)
	}
	return out[:n], bad
}

// unhex returns the value of a hex digit, or -1.
func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return -1
}

// decodeQP decodes quoted-printable (RFC 2045 section 6.7) leniently: an "="
// not followed by two hex digits or a line break is kept literally, and
// trailing white space on lines is dropped.
func decodeQP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		line := b
		rest := []byte(nil)
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, rest = b[:i+1], b[i+1:]
		}
		hasNL := bytes.HasSuffix(line, []byte("\n"))
		content := bytes.TrimRight(trimEOL(line), " \t")
		soft := false
		if bytes.HasSuffix(content, []byte("=")) {
			soft = true
			content = content[:len(content)-1]
		}
		for i := 0; i < len(content); i++ {
			c := content[i]
			if c == '=' && i+2 < len(content) && unhex(content[i+1]) >= 0 && unhex(content[i+2]) >= 0 {
				out = append(out, byte(unhex(content[i+1])<<4|unhex(content[i+2])))
				i += 2
				continue
			}
			out = append(out, c)
		}
		if hasNL && !soft {
			if bytes.HasSuffix(line, []byte("\r\n")) {
				out = append(out, '\r', '\n')
			} else {
				out = append(out, '\n')
			}
		}
		b = rest
	}
	return out
}

// toUTF8 converts text in the named charset to UTF-8. Unknown or lying
// charsets fall back: valid UTF-8 is kept, anything else is read as
// Windows-1252 (a superset of Latin-1's printable range).
func toUTF8(b []byte, cs string) string {
	cs = strings.ToLower(strings.Trim(strings.TrimSpace(cs), `"'`))
	switch cs {
	case "", "us-ascii", "ascii", "utf-8", "utf8", "unknown-8bit", "x-unknown", "unknown", "default":
		if utf8.Valid(b) {
			return string(b)
		}
		if cs == "utf-8" || cs == "utf8" {
			return strings.ToValidUTF8(string(b), "\uFFFD")
		}
		return latin1(b)
	}
	r, err := charset.Reader(cs, bytes.NewReader(b))
	if err != nil {
		if utf8.Valid(b) {
			return string(b)
		}
		return latin1(b)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return strings.ToValidUTF8(string(out), "\uFFFD")
}

// latin1 decodes b as Windows-1252.
func latin1(b []byte) string {
	out, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(out)
}

// lenientCharsetReader never fails: unknown charsets fall back as in toUTF8.
func lenientCharsetReader(cs string, input io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(input)
	if err != nil {
		return nil, err
	}
	return strings.NewReader(toUTF8(b, cs)), nil
}

// wordDecoder decodes RFC 2047 encoded words in any charset go-message knows.
var wordDecoder = &mime.WordDecoder{CharsetReader: lenientCharsetReader}

// decodeWords decodes RFC 2047 encoded words in a header value and makes the
// result valid UTF-8 (raw 8-bit headers are read as UTF-8, else Windows-1252).
func decodeWords(s string) string {
	if s == "" {
		return ""
	}
	if !utf8.ValidString(s) {
		s = latin1([]byte(s))
	}
	if !strings.Contains(s, "=?") {
		return s
	}
	d, err := wordDecoder.DecodeHeader(s)
	if err != nil {
		return s
	}
	return strings.ToValidUTF8(d, "\uFFFD")
}
