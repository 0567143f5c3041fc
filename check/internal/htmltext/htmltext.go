// Package htmltext holds the small HTML text helpers the content checks
// share (the tokenizer in internal/bayes and the rules in internal/rules):
// reading an attribute out of a tag's attribute text and decoding the
// entities spammers use to hide words.
package htmltext

import (
	"strings"
	"unicode"
)

// Attr returns the value of attribute name in lower-cased attribute text
// (the caller lower-cases once per tag), or "" when it is absent.
func Attr(attrs, name string) string {
	for from := 0; ; {
		k := strings.Index(attrs[from:], name)
		if k < 0 {
			return ""
		}
		k += from
		from = k + len(name)
		if k > 0 && (unicode.IsLetter(rune(attrs[k-1])) || attrs[k-1] == '-') {
			continue
		}
		rest := strings.TrimLeft(attrs[from:], " \t\r\n")
		if !strings.HasPrefix(rest, "=") {
			continue
		}
		rest = strings.TrimLeft(rest[1:], " \t\r\n")
		if rest == "" {
			return ""
		}
		if q := rest[0]; q == '"' || q == '\'' {
			if e := strings.IndexByte(rest[1:], q); e >= 0 {
				return rest[1 : e+1]
			}
			return rest[1:]
		}
		if e := strings.IndexAny(rest, " \t\r\n>"); e >= 0 {
			return rest[:e]
		}
		return rest
	}
}

var entityReplacer = strings.NewReplacer("&nbsp;", " ", "&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&#36;", "$", "&#33;", "!", "&#37;", "%")

// DecodeEntities replaces the common named and numeric entities.
func DecodeEntities(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return entityReplacer.Replace(s)
}
