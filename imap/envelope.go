package imap

import (
	"strings"
)

// envAddr is one ENVELOPE address (RFC 9051 section 7.5.2): a mailbox, or
// the start (host empty, mailbox the group name) and end (all empty, group
// true) of a group (RFC 5322 section 3.4).
type envAddr struct {
	name, adl, mailbox, host string
	groupStart, groupEnd     bool
}

// writeEnvelope writes the ENVELOPE of the header h (lock held). Values
// are the raw header text, as RFC 9051 requires (no RFC 2047 decoding).
func (w *respWriter) writeEnvelope(h []kv) {
	get := func(k string) string { v, _ := fieldValue(h, k); return v }
	w.byte1('(')
	w.nstr(get("Date"))
	w.sp()
	w.nstr(get("Subject"))
	from := parseAddressList(get("From"))
	w.sp()
	w.addrList(from)
	for _, k := range []string{"Sender", "Reply-To"} {
		w.sp()
		if v, ok := fieldValue(h, k); ok && len(parseAddressList(v)) > 0 {
			w.addrList(parseAddressList(v))
		} else {
			w.addrList(from)
		}
	}
	for _, k := range []string{"To", "Cc", "Bcc"} {
		w.sp()
		w.addrList(parseAddressList(get(k)))
	}
	w.sp()
	w.nstr(get("In-Reply-To"))
	w.sp()
	w.nstr(get("Message-Id"))
	w.byte1(')')
}

func (w *respWriter) addrList(as []envAddr) {
	if len(as) == 0 {
		w.raw("NIL")
		return
	}
	w.byte1('(')
	for _, a := range as {
		w.byte1('(')
		switch {
		case a.groupEnd:
			w.raw("NIL NIL NIL NIL")
		case a.groupStart:
			w.raw("NIL NIL ")
			w.nstr(a.mailbox)
			w.raw(" NIL")
		default:
			w.nstr(a.name)
			w.sp()
			w.nstr(a.adl)
			w.sp()
			w.nstr(a.mailbox)
			w.sp()
			w.nstr(a.host)
		}
		w.byte1(')')
	}
	w.byte1(')')
}

// addrParser is a forgiving RFC 5322 section 3.4 address-list parser:
// mailboxes, name-addr with routes, groups, quoted strings and comments.
type addrParser struct {
	s       string
	pos     int
	comment string // the last comment skipped
}

// parseAddressList parses a header value into envelope addresses. It is
// linear in the input and never fails; junk is skipped.
func parseAddressList(s string) []envAddr {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	p := &addrParser{s: s}
	var out []envAddr
	inGroup := false
	for p.pos < len(p.s) && len(out) < 1000 {
		p.skipCFWS()
		if p.pos >= len(p.s) {
			break
		}
		switch p.s[p.pos] {
		case ',':
			p.pos++
			continue
		case ';':
			p.pos++
			if inGroup {
				out = append(out, envAddr{groupEnd: true})
				inGroup = false
			}
			continue
		}
		start := p.pos
		phrase := p.phrase()
		p.skipCFWS()
		if p.pos < len(p.s) && p.s[p.pos] == ':' && !inGroup {
			// group: display-name ":" [mailbox-list] ";"
			p.pos++
			out = append(out, envAddr{groupStart: true, mailbox: phrase})
			inGroup = true
			continue
		}
		if p.pos < len(p.s) && p.s[p.pos] == '<' {
			p.pos++
			adl, local, domain := p.angleAddr()
			out = append(out, envAddr{name: phrase, adl: adl, mailbox: local, host: domain})
			continue
		}
		// addr-spec: re-read from start as local@domain.
		p.pos = start
		p.comment = ""
		local, domain := p.addrSpec()
		p.skipCFWS()
		if local == "" && domain == "" {
			// Skip one character of junk to make progress.
			if p.pos == start {
				p.pos++
			}
			continue
		}
		// "user@domain (Real Name)": the comment stands for the name.
		out = append(out, envAddr{name: p.comment, mailbox: local, host: domain})
	}
	if inGroup {
		out = append(out, envAddr{groupEnd: true})
	}
	return out
}

func (p *addrParser) skipCFWS() {
outer:
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			p.pos++
		case c == '(':
			depth := 0
			start := p.pos
			for p.pos < len(p.s) {
				switch p.s[p.pos] {
				case '\\':
					p.pos++
				case '(':
					depth++
				case ')':
					depth--
				}
				p.pos++
				if depth == 0 {
					p.comment = strings.TrimSpace(p.s[start+1 : p.pos-1])
					continue outer
				}
			}
		default:
			return
		}
	}
}

// quotedString reads a quoted string at pos (after skipCFWS).
func (p *addrParser) quotedString() string {
	var b strings.Builder
	p.pos++ // opening quote
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		p.pos++
		switch c {
		case '"':
			return b.String()
		case '\\':
			if p.pos < len(p.s) {
				b.WriteByte(p.s[p.pos])
				p.pos++
			}
		case '\r', '\n':
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isAtext(c byte) bool {
	if c >= 0x80 {
		return true
	}
	if c <= ' ' || c == 0x7f {
		return false
	}
	return !strings.ContainsRune(`()<>[]:;@\,."`, rune(c))
}

// phrase reads words (atoms, quoted strings, dots) as a display name.
func (p *addrParser) phrase() string {
	var words []string
	for {
		p.skipCFWS()
		if p.pos >= len(p.s) {
			break
		}
		c := p.s[p.pos]
		if c == '"' {
			words = append(words, p.quotedString())
			continue
		}
		if isAtext(c) || c == '.' {
			start := p.pos
			for p.pos < len(p.s) && (isAtext(p.s[p.pos]) || p.s[p.pos] == '.') {
				p.pos++
			}
			words = append(words, p.s[start:p.pos])
			continue
		}
		break
	}
	return strings.Join(words, " ")
}

// angleAddr reads [route ":"] addr-spec ">" after "<".
func (p *addrParser) angleAddr() (adl, local, domain string) {
	p.skipCFWS()
	if p.pos < len(p.s) && p.s[p.pos] == '@' {
		start := p.pos
		for p.pos < len(p.s) && p.s[p.pos] != ':' && p.s[p.pos] != '>' {
			p.pos++
		}
		if p.pos < len(p.s) && p.s[p.pos] == ':' {
			adl = strings.TrimSpace(p.s[start:p.pos])
			p.pos++
		} else {
			p.pos = start
		}
	}
	local, domain = p.addrSpec()
	for p.pos < len(p.s) && p.s[p.pos] != '>' {
		p.pos++
	}
	if p.pos < len(p.s) {
		p.pos++
	}
	return adl, local, domain
}

// addrSpec reads local-part ["@" domain].
func (p *addrParser) addrSpec() (local, domain string) {
	p.skipCFWS()
	var lb strings.Builder
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		if c == '"' {
			q := p.quotedString()
			lb.WriteString(q)
			continue
		}
		if isAtext(c) || c == '.' {
			lb.WriteByte(c)
			p.pos++
			continue
		}
		if c == '(' {
			p.skipCFWS()
			continue
		}
		break
	}
	local = lb.String()
	p.skipCFWS()
	if p.pos < len(p.s) && p.s[p.pos] == '@' {
		p.pos++
		p.skipCFWS()
		start := p.pos
		if p.pos < len(p.s) && p.s[p.pos] == '[' {
			for p.pos < len(p.s) && p.s[p.pos] != ']' {
				p.pos++
			}
			if p.pos < len(p.s) {
				p.pos++
			}
		} else {
			for p.pos < len(p.s) && (isAtext(p.s[p.pos]) || p.s[p.pos] == '.') {
				p.pos++
			}
		}
		domain = p.s[start:p.pos]
	}
	return local, domain
}
