package message

import (
	"html"
	"strings"
)

// blockTags end a line when converting HTML to text.
var blockTags = map[string]bool{
	"br": true, "p": true, "div": true, "tr": true, "li": true, "h1": true, "h2": true,
	"h3": true, "h4": true, "h5": true, "h6": true, "table": true, "blockquote": true,
	"pre": true, "hr": true, "ul": true, "ol": true, "title": true,
}

// htmlToText extracts readable text from HTML for search and snippets: tags
// are dropped (block elements end a line), script, style and head content is
// skipped, comments are removed and character references are decoded.
func htmlToText(s string) string {
	var b strings.Builder
	skip := "" // closing tag name we are skipping to
	for len(s) > 0 && b.Len() < maxText {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			if skip == "" {
				b.WriteString(html.UnescapeString(s))
			}
			break
		}
		if skip == "" {
			b.WriteString(html.UnescapeString(s[:i]))
		}
		s = s[i:]
		if strings.HasPrefix(s, "<!--") {
			j := strings.Index(s, "-->")
			if j < 0 {
				break
			}
			s = s[j+3:]
			continue
		}
		j := strings.IndexByte(s, '>')
		if j < 0 {
			break
		}
		tag := s[1:j]
		s = s[j+1:]
		closing := strings.HasPrefix(tag, "/")
		tag = strings.TrimPrefix(tag, "/")
		name := tagName(tag)
		if skip != "" {
			if closing && name == skip {
				skip = ""
			}
			continue
		}
		switch {
		case !closing && (name == "script" || name == "style" || name == "head"):
			skip = name
		case blockTags[name]:
			b.WriteByte('\n')
		default:
			b.WriteByte(' ')
		}
	}
	// Collapse runs of blank space on each line, keep line structure.
	lines := strings.Split(b.String(), "\n")
	out := lines[:0]
	for _, l := range lines {
		l = strings.Join(strings.Fields(l), " ")
		if l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// tagName returns the lower-case element name at the start of a tag's text.
func tagName(tag string) string {
	end := strings.IndexAny(tag, " \t\r\n/")
	if end < 0 {
		end = len(tag)
	}
	return strings.ToLower(tag[:end])
}
