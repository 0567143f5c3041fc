package structure

import "strings"

// Envelope is what IMAP's ENVELOPE says of a message header (RFC 9051
// section 7.5.2): the raw field values (no RFC 2047 decoding) and the
// parsed address lists. Sender and ReplyTo are as written (empty if absent
// or unparsable); a renderer defaults them to From.
type Envelope struct {
	Date, Subject                      string
	From, Sender, ReplyTo, To, Cc, Bcc []Addr
	InReplyTo, MessageID               string
}

// Addr is one envelope address: a mailbox, or the start (Host empty,
// Mailbox the group name) and end (all empty, GroupEnd) of a group (RFC
// 5322 section 3.4).
type Addr struct {
	Name, ADL, Mailbox, Host string
	GroupStart, GroupEnd     bool
}

// EnvelopeOf reads the envelope of a header's fields (the first of each).
func EnvelopeOf(h []KV) *Envelope {
	get := func(k string) string { v, _ := FieldValue(h, k); return v }
	return &Envelope{
		Date: get("Date"), Subject: get("Subject"),
		From: ParseAddressList(get("From")), Sender: ParseAddressList(get("Sender")),
		ReplyTo: ParseAddressList(get("Reply-To")), To: ParseAddressList(get("To")),
		Cc: ParseAddressList(get("Cc")), Bcc: ParseAddressList(get("Bcc")),
		InReplyTo: get("In-Reply-To"), MessageID: get("Message-Id"),
	}
}

// Build parses raw into its part tree with the envelope of the message and
// of every encapsulated message (message/rfc822) filled in: what is stored
// at delivery.
func Build(raw []byte) *Part {
	root := Parse(raw)
	var walk func(p *Part, isMsg bool)
	walk = func(p *Part, isMsg bool) {
		if isMsg {
			p.Env = EnvelopeOf(Fields(raw[p.Hdr:p.Body]))
		}
		for _, c := range p.Children {
			walk(c, false)
		}
		if p.Msg != nil {
			walk(p.Msg, true)
		}
	}
	walk(root, true)
	return root
}

// addrParser is a forgiving RFC 5322 section 3.4 address-list parser:
// mailboxes, name-addr with routes, groups, quoted strings and comments.
type addrParser struct {
	s       string
	pos     int
	comment string // the last comment skipped
}

// ParseAddressList parses a header value into envelope addresses. It is
// linear in the input and never fails; junk is skipped.
func ParseAddressList(s string) []Addr {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	p := &addrParser{s: s}
	var out []Addr
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
				out = append(out, Addr{GroupEnd: true})
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
			out = append(out, Addr{GroupStart: true, Mailbox: phrase})
			inGroup = true
			continue
		}
		if p.pos < len(p.s) && p.s[p.pos] == '<' {
			p.pos++
			adl, local, domain := p.angleAddr()
			out = append(out, Addr{Name: phrase, ADL: adl, Mailbox: local, Host: domain})
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
		out = append(out, Addr{Name: p.comment, Mailbox: local, Host: domain})
	}
	if inGroup {
		out = append(out, Addr{GroupEnd: true})
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
