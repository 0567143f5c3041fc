package core

import (
	"bytes"
	"fmt"
	"mime"
	"net/mail"
	"strings"

	"github.com/stamp-mail/stamp/message"
)

// headerField is one unfolded header field.
type headerField struct{ name, value string }

// maxHeaderFields bounds how many fields headerFields returns.
const maxHeaderFields = 1000

// headerFields splits a header section into unfolded fields.
func headerFields(head []byte) []headerField {
	var out []headerField
	for _, line := range bytes.Split(head, []byte("\n")) {
		l := strings.TrimRight(string(line), "\r")
		if l == "" {
			break
		}
		if (l[0] == ' ' || l[0] == '\t') && len(out) > 0 {
			out[len(out)-1].value += " " + strings.TrimSpace(l)
			continue
		}
		i := strings.IndexByte(l, ':')
		if i <= 0 {
			continue
		}
		if len(out) >= maxHeaderFields {
			break
		}
		out = append(out, headerField{name: strings.TrimSpace(l[:i]), value: strings.TrimSpace(l[i+1:])})
	}
	return out
}

// sieveMessage is a message as the Sieve interpreter sees it.
type sieveMessage struct {
	raw    []byte
	parsed *message.Parsed
	fields []headerField
	// Decoded values and addresses by lower-case field name: a script
	// asks for the same fields many times. One run uses one goroutine.
	values map[string][]string
	addrs  map[string][]string
	bodies map[string][]string
}

func newSieveMessage(raw []byte, p *message.Parsed) *sieveMessage {
	hs := p.HeaderSize
	if hs <= 0 || hs > int64(len(raw)) {
		hs = int64(len(raw))
	}
	return &sieveMessage{raw: raw, parsed: p, fields: headerFields(raw[:hs])}
}

var wordDecoder = mime.WordDecoder{}

func (m *sieveMessage) Header(name string) []string {
	key := strings.ToLower(name)
	if v, ok := m.values[key]; ok {
		return v
	}
	if m.values == nil {
		m.values = map[string][]string{}
	}
	v := m.header(name)
	m.values[key] = v
	return v
}

func (m *sieveMessage) header(name string) []string {
	var out []string
	for _, f := range m.fields {
		if strings.EqualFold(f.name, name) {
			v, err := wordDecoder.DecodeHeader(f.value)
			if err != nil {
				v = f.value
			}
			out = append(out, v)
		}
	}
	return out
}

func (m *sieveMessage) Addresses(name string) []string {
	key := strings.ToLower(name)
	if v, ok := m.addrs[key]; ok {
		return v
	}
	if m.addrs == nil {
		m.addrs = map[string][]string{}
	}
	v := m.addresses(name)
	m.addrs[key] = v
	return v
}

func (m *sieveMessage) addresses(name string) []string {
	var out []string
	for _, f := range m.fields {
		if !strings.EqualFold(f.name, name) {
			continue
		}
		list, err := mail.ParseAddressList(f.value)
		if err != nil {
			// Salvage what looks like addresses.
			for _, w := range strings.FieldsFunc(f.value, func(r rune) bool { return r == ',' || r == ' ' || r == '<' || r == '>' }) {
				if strings.Contains(w, "@") {
					out = append(out, w)
				}
			}
			continue
		}
		for _, a := range list {
			out = append(out, a.Address)
		}
	}
	return out
}

func (m *sieveMessage) Size() int64 { return int64(len(m.raw)) }

// Body returns the raw body, or the decoded parts of the given types
// (RFC 5173 section 5: "text" matches every text/* part).
func (m *sieveMessage) Body(raw bool, types []string) []string {
	key := fmt.Sprint(raw, types)
	if v, ok := m.bodies[key]; ok {
		return v
	}
	if m.bodies == nil {
		m.bodies = map[string][]string{}
	}
	v := m.body(raw, types)
	m.bodies[key] = v
	return v
}

func (m *sieveMessage) body(raw bool, types []string) []string {
	if raw {
		return []string{string(m.raw[min(int64(len(m.raw)), max(0, m.parsed.HeaderSize)):])}
	}
	var out []string
	var walk func(p *message.Part)
	walk = func(p *message.Part) {
		if p == nil {
			return
		}
		if len(p.Children) > 0 {
			for _, c := range p.Children {
				walk(c)
			}
			return
		}
		ct := p.ContentType
		for _, t := range types {
			t = strings.ToLower(t)
			if t == "" || t == ct || !strings.Contains(t, "/") && strings.HasPrefix(ct, t+"/") {
				b, err := message.DecodePart(m.raw, p)
				if err == nil {
					out = append(out, string(b))
				}
				return
			}
		}
	}
	walk(m.parsed.Root)
	return out
}
