package message

import (
	"strings"

	"github.com/stamp-mail/stamp/message/structure"
)

// maxHeaderText bounds HeaderText's result (bytes).
const maxHeaderText = 64 << 10

// HeaderText renders the top-level header for substring search (IMAP SEARCH
// HEADER, TEXT, FROM, TO, CC, BCC; RFC 9051 section 6.4.4): one line per
// field, "name: value", the name lower case, the value unfolded with RFC
// 2047 encoded words decoded. Address fields get a second line with the
// parsed addresses ("Name <local@domain>", comments and routes dropped), so
// a search for a whole address also finds one written with comments inside
// it, while the first line keeps what only the raw form has (group names).
// The result is bounded by maxHeaderText, cut at a line end.
func HeaderText(p *Parsed) string {
	if p == nil || p.Root == nil {
		return ""
	}
	var b strings.Builder
	line := func(name, v string) bool {
		if b.Len()+len(name)+len(v)+3 > maxHeaderText {
			return false
		}
		b.WriteString(name)
		b.WriteString(": ")
		b.WriteString(strings.Map(func(r rune) rune {
			if r == '\n' || r == '\r' || r == 0 {
				return ' '
			}
			return r
		}, v))
		b.WriteByte('\n')
		return true
	}
	for _, f := range p.Root.header {
		name := strings.ToLower(f.key)
		if !line(name, decodeWords(f.value)) {
			break
		}
		switch name {
		case "from", "sender", "reply-to", "to", "cc", "bcc":
			// The forgiving envelope parser: comments inside an address
			// ("<user (c)@ (c) domain>"), routes and groups (RFC 5322
			// section 3.4) still give mailbox@host.
			var parts []string
			for _, a := range structure.ParseAddressList(f.value) {
				addr := a.Mailbox
				if a.Host != "" {
					addr += "@" + a.Host
				}
				switch {
				case a.GroupEnd:
				case a.GroupStart:
					parts = append(parts, decodeWords(a.Mailbox)+":")
				case a.Name != "":
					parts = append(parts, decodeWords(a.Name)+" <"+addr+">")
				default:
					parts = append(parts, addr)
				}
			}
			if len(parts) == 0 {
				continue
			}
			if !line(name, strings.Join(parts, ", ")) {
				return b.String()
			}
		}
	}
	return b.String()
}
