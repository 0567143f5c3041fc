package imap

import (
	"encoding/base64"
	"errors"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Modified UTF-7 for mailbox names (RFC 3501 section 5.1.3): printable
// ASCII stands for itself except "&", which is "&-"; other characters are
// UTF-16 in modified base64 ("," for "/", no padding) between "&" and "-".

var mutf7Enc = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,").WithPadding(base64.NoPadding)

var errMUTF7 = errors.New("invalid modified UTF-7")

// encodeMUTF7 encodes a UTF-8 name.
func encodeMUTF7(s string) string {
	var b strings.Builder
	var run []rune
	flush := func() {
		if len(run) == 0 {
			return
		}
		u := utf16.Encode(run)
		buf := make([]byte, 2*len(u))
		for i, x := range u {
			buf[2*i], buf[2*i+1] = byte(x>>8), byte(x)
		}
		b.WriteByte('&')
		b.WriteString(mutf7Enc.EncodeToString(buf))
		b.WriteByte('-')
		run = run[:0]
	}
	for _, r := range s {
		if r >= 0x20 && r <= 0x7e {
			flush()
			if r == '&' {
				b.WriteString("&-")
			} else {
				b.WriteRune(r)
			}
			continue
		}
		run = append(run, r)
	}
	flush()
	return b.String()
}

// decodeMUTF7 decodes a modified UTF-7 name to UTF-8. It refuses 8-bit
// bytes, unterminated or empty shifts, and encodings that are not the
// shortest (a shift that encodes printable ASCII).
func decodeMUTF7(s string) (string, error) {
	if !strings.ContainsRune(s, '&') {
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				return "", errMUTF7
			}
		}
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return "", errMUTF7
		}
		if c != '&' {
			b.WriteByte(c)
			continue
		}
		j := strings.IndexByte(s[i+1:], '-')
		if j < 0 {
			return "", errMUTF7
		}
		enc := s[i+1 : i+1+j]
		i += j + 1
		if enc == "" {
			b.WriteByte('&')
			continue
		}
		raw, err := mutf7Enc.DecodeString(enc)
		if err != nil || len(raw)%2 != 0 {
			return "", errMUTF7
		}
		u := make([]uint16, len(raw)/2)
		for k := range u {
			u[k] = uint16(raw[2*k])<<8 | uint16(raw[2*k+1])
		}
		rs := utf16.Decode(u)
		for _, r := range rs {
			if r == utf8.RuneError || (r >= 0x20 && r <= 0x7e) {
				return "", errMUTF7
			}
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}
