package outbound

import "bytes"

// maxLine is the longest line, without its CRLF, that RFC 5321 section
// 4.5.3.1.6 (and RFC 5322 section 2.1.1) lets us send.
const maxLine = 998

// foldLongLines returns raw with every line longer than maxLine broken so
// that the message can be relayed over SMTP, as Postfix does when relaying
// mail it accepted with longer lines: a header line is folded (CRLF plus a
// space, RFC 5322 section 2.2.3, at the last blank before the limit when
// there is one), a body line gets a CRLF inserted. raw itself is returned
// when no line is too long, which is nearly always.
func foldLongLines(raw []byte) []byte {
	if !hasLongLine(raw) {
		return raw
	}
	out := make([]byte, 0, len(raw)+len(raw)/maxLine*3+8)
	inHeader := true
	for len(raw) > 0 {
		line := raw
		next := []byte(nil)
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, next = raw[:i+1], raw[i+1:]
		}
		body := bytes.TrimRight(line, "\r\n")
		eol := line[len(body):]
		if inHeader && len(body) == 0 {
			inHeader = false
		}
		for len(body) > maxLine {
			cut := maxLine
			if inHeader {
				// Fold at the last blank that leaves something on this line.
				if j := bytes.LastIndexAny(body[:maxLine], " \t"); j > 0 {
					cut = j
				}
				out = append(out, body[:cut]...)
				out = append(out, "\r\n"...)
				body = body[cut:]
				if body[0] != ' ' && body[0] != '\t' {
					body = append([]byte{' '}, body...)
				}
				continue
			}
			out = append(out, body[:cut]...)
			out = append(out, "\r\n"...)
			body = body[cut:]
		}
		out = append(out, body...)
		out = append(out, eol...)
		raw = next
	}
	return out
}

func hasLongLine(raw []byte) bool {
	for len(raw) > maxLine {
		i := bytes.IndexByte(raw, '\n')
		if i < 0 {
			return len(raw) > maxLine
		}
		if n := len(bytes.TrimRight(raw[:i], "\r")); n > maxLine {
			return true
		}
		raw = raw[i+1:]
	}
	return false
}
