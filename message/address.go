package message

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// ErrInvalidAddress is wrapped by ParseAddress and ParseAddressList errors.
var ErrInvalidAddress = errors.New("invalid address")

// addrParser decodes RFC 2047 words in display names in any known charset.
var addrParser = &mail.AddressParser{WordDecoder: wordDecoder}

// parseAddrHeader reads an address list header (RFC 5322 section 3.4)
// tolerantly: when the list as a whole does not parse, each comma-separated
// element is tried alone, then anything that looks like an address is kept.
func parseAddrHeader(v string) []Address {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	if !utf8.ValidString(v) {
		v = latin1([]byte(v))
	}
	if list, err := addrParser.ParseList(v); err == nil {
		return convertAddrs(list)
	}
	var out []Address
	for _, elem := range splitList(v) {
		if a, err := addrParser.Parse(elem); err == nil {
			out = append(out, Address{Name: a.Name, Address: a.Address})
			continue
		}
		// A stray "<" or quote can swallow commas: retry on plain commas.
		pieces := strings.Split(elem, ",")
		if len(pieces) == 1 {
			if a, ok := salvage(elem); ok {
				out = append(out, a)
			}
			continue
		}
		for _, piece := range pieces {
			if a, err := addrParser.Parse(piece); err == nil {
				out = append(out, Address{Name: a.Name, Address: a.Address})
			} else if a, ok := salvage(piece); ok {
				out = append(out, a)
			}
		}
	}
	return out
}

// convertAddrs converts net/mail addresses.
func convertAddrs(list []*mail.Address) []Address {
	out := make([]Address, 0, len(list))
	for _, a := range list {
		out = append(out, Address{Name: a.Name, Address: a.Address})
	}
	return out
}

// splitList splits an address list on commas and semicolons that are outside
// quotes, comments and angle brackets.
func splitList(v string) []string {
	var out []string
	depth, angle, quoted, esc := 0, false, false, false
	start := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case esc:
			esc = false
		case c == '\\' && (quoted || depth > 0):
			esc = true
		case quoted:
			quoted = c != '"'
		case c == '"':
			quoted = true
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		case c == '<':
			angle = true
		case c == '>':
			angle = false
		case (c == ',' || c == ';') && !angle:
			if s := strings.TrimSpace(v[start:i]); s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	if s := strings.TrimSpace(v[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

// salvage extracts an address from a broken list element: the text in angle
// brackets, or a bare word containing "@"; the rest becomes the name.
func salvage(elem string) (Address, bool) {
	if i := strings.LastIndexByte(elem, '<'); i >= 0 {
		if j := strings.IndexByte(elem[i:], '>'); j > 0 {
			addr := strings.TrimSpace(elem[i+1 : i+j])
			if strings.Contains(addr, "@") {
				name := strings.Trim(strings.TrimSpace(elem[:i]), `"' `)
				return Address{Name: decodeWords(name), Address: addr}, true
			}
		}
	}
	for _, w := range strings.Fields(elem) {
		w = strings.Trim(w, `<>"'(),;`)
		if strings.Count(w, "@") == 1 && !strings.HasPrefix(w, "@") && !strings.HasSuffix(w, "@") {
			return Address{Address: w}, true
		}
	}
	return Address{}, false
}

// RFC 5321 section 4.5.3.1 size limits.
const (
	maxLocalPart = 64
	maxDomain    = 255
	maxLabel     = 63
)

// ParseAddress validates an addr-spec "local@domain" (RFC 5321 section 4.1.2
// Mailbox: a dot-string or quoted-string local part of at most 64 octets and
// a domain of at most 255 octets made of letter-digit-hyphen labels, or an
// address literal) and returns it lower-cased. UTF-8 is accepted in both
// halves (RFC 6531); IDNA conversion is not done.
func ParseAddress(s string) (string, error) {
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("%w %q: %s", ErrInvalidAddress, s, why)
	}
	if !utf8.ValidString(s) {
		return bad("not valid UTF-8")
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return bad("missing @")
	}
	local, domain := s[:at], s[at+1:]
	if local == "" {
		return bad("empty local part")
	}
	if len(local) > maxLocalPart {
		return bad(fmt.Sprintf("local part longer than %d octets", maxLocalPart))
	}
	if err := checkLocal(local); err != "" {
		return bad(err)
	}
	if domain == "" {
		return bad("empty domain")
	}
	if len(domain) > maxDomain {
		return bad(fmt.Sprintf("domain longer than %d octets", maxDomain))
	}
	if err := checkDomain(domain); err != "" {
		return bad(err)
	}
	return strings.ToLower(s), nil
}

// isAtext reports whether r may appear in an atom (RFC 5322 section 3.2.3, RFC 6532).
func isAtext(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r >= 0x80:
		return true
	}
	return strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r)
}

// checkLocal validates a local part; it returns a reason or "".
func checkLocal(l string) string {
	if strings.HasPrefix(l, `"`) {
		if len(l) < 2 || !strings.HasSuffix(l, `"`) {
			return "unterminated quoted local part"
		}
		inner := l[1 : len(l)-1]
		for i := 0; i < len(inner); i++ {
			c := inner[i]
			if c == '\\' {
				i++
				if i >= len(inner) {
					return "bad escape in quoted local part"
				}
				continue
			}
			if c == '"' || c < ' ' || c == 0x7f {
				return fmt.Sprintf("character %q not allowed in quoted local part", c)
			}
		}
		return ""
	}
	for _, atom := range strings.Split(l, ".") {
		if atom == "" {
			return "empty atom in local part (leading, trailing or double dot)"
		}
		for _, r := range atom {
			if !isAtext(r) {
				return fmt.Sprintf("character %q not allowed in local part", r)
			}
		}
	}
	return ""
}

// checkDomain validates a domain or address literal; it returns a reason or "".
func checkDomain(d string) string {
	if strings.HasPrefix(d, "[") {
		if !strings.HasSuffix(d, "]") || len(d) < 3 {
			return "unterminated address literal"
		}
		for _, c := range d[1 : len(d)-1] {
			if c <= ' ' || c == '[' || c == ']' || c == '\\' || c >= 0x7f {
				return fmt.Sprintf("character %q not allowed in address literal", c)
			}
		}
		return ""
	}
	for _, label := range strings.Split(strings.TrimSuffix(d, "."), ".") {
		if label == "" {
			return "empty domain label"
		}
		if len(label) > maxLabel {
			return fmt.Sprintf("domain label longer than %d octets", maxLabel)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Sprintf("domain label %q starts or ends with a hyphen", label)
		}
		for _, r := range label {
			ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r >= 0x80
			if !ok {
				return fmt.Sprintf("character %q not allowed in domain", r)
			}
		}
	}
	if strings.HasSuffix(d, ".") {
		return "domain ends with a dot"
	}
	return ""
}

// ParseAddressList parses a header value typed by a user, such as
// `A <a@x>, "B, Jr." <b@y>; c@z`: elements are separated by commas or
// semicolons, names may use RFC 2047 words, and every address must pass
// ParseAddress (addresses are returned lower-cased). An empty value gives nil.
func ParseAddressList(s string) ([]Address, error) {
	var out []Address
	for _, elem := range splitList(s) {
		a, err := addrParser.Parse(elem)
		if err != nil {
			// Accept a bare address net/mail refuses only for its domain rules.
			if _, err2 := ParseAddress(elem); err2 != nil {
				return nil, fmt.Errorf("%w %q: %v", ErrInvalidAddress, elem, err)
			}
			a = &mail.Address{Address: elem}
		}
		addr, err := ParseAddress(a.Address)
		if err != nil {
			return nil, err
		}
		out = append(out, Address{Name: a.Name, Address: addr})
	}
	return out, nil
}
