package web

import (
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// SanitizeOptions tune Sanitize.
type SanitizeOptions struct {
	// AllowRemote keeps http(s) image sources; otherwise they move to data-src.
	AllowRemote bool
	// CIDURL maps a "cid:" reference (RFC 2392) to a URL of the inline part,
	// or "" to drop it. Nil drops every cid: reference.
	CIDURL func(cid string) string
}

// maxHTMLDepth bounds the elements kept open at once, as the MIME parser
// bounds nesting (message.maxDepth): deeper start tags are dropped.
const maxHTMLDepth = 100

// allowedTags are kept (with filtered attributes); other tags are removed
// but their content is kept, except for droppedTags.
var allowedTags = setOf("a", "abbr", "address", "article", "aside", "b", "bdi", "bdo", "big", "blockquote",
	"br", "caption", "center", "cite", "code", "col", "colgroup", "dd", "del", "details", "dfn", "div", "dl",
	"dt", "em", "figcaption", "figure", "font", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
	"i", "img", "ins", "kbd", "li", "main", "mark", "nav", "ol", "p", "pre", "q", "rp", "rt", "ruby", "s",
	"samp", "section", "small", "span", "strike", "strong", "sub", "summary", "sup", "table", "tbody", "td",
	"tfoot", "th", "thead", "time", "tr", "tt", "u", "ul", "var", "wbr")

// droppedTags are removed together with everything inside them. Void
// elements (embed, frame, input...) are not listed: being neither allowed
// nor dropped, their tag simply disappears.
var droppedTags = setOf("script", "style", "iframe", "frameset", "object", "applet",
	"title", "noscript", "noembed", "noframes", "template", "svg", "math", "textarea", "select",
	"button", "audio", "video", "canvas", "map", "xmp", "plaintext", "dialog")

// voidTags have no end tag.
var voidTags = setOf("br", "hr", "img", "col", "wbr")

// allowedAttrs may appear on any allowed element; href and src are checked separately.
var allowedAttrs = setOf("title", "dir", "lang", "align", "valign", "width", "height", "colspan", "rowspan",
	"border", "cellpadding", "cellspacing", "bgcolor", "color", "face", "size", "alt", "start", "type",
	"nowrap", "summary", "datetime", "abbr", "scope", "span", "open", "reversed")

// allowedCSS are the style properties kept; layout-breaking ones (position,
// z-index...) are not, and values that could load resources (url(),
// image-set()...) are refused by safeCSSValue.
var allowedCSS = setOf("color", "background-color", "font", "font-family", "font-size", "font-style",
	"font-weight", "text-align", "text-decoration", "text-indent", "text-transform", "line-height",
	"letter-spacing", "white-space", "vertical-align", "margin", "margin-top", "margin-bottom",
	"margin-left", "margin-right", "padding", "padding-top", "padding-bottom", "padding-left",
	"padding-right", "border", "border-top", "border-bottom", "border-left", "border-right",
	"border-color", "border-style", "border-width", "border-collapse", "border-spacing", "border-radius",
	"width", "max-width", "min-width", "height", "max-height", "min-height", "display", "list-style-type",
	"direction", "word-break", "word-wrap", "overflow-wrap", "background", "float", "clear", "table-layout")

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// Sanitize returns HTML safe to show inside the webmail from an untrusted
// message body, and whether it referred to remote images. It keeps an
// allow-list of elements and attributes: scripts, event handlers, forms,
// frames, objects and style sheets are removed, links may only use http,
// https, mailto and tel, style attributes keep only harmless properties
// without url() or expressions, and remote images are disabled (their src
// moved to data-src) unless o.AllowRemote. The output is well nested.
//
// Cost is linear in the input: at most maxHTMLDepth elements are kept open
// (deeper start tags are dropped, their content kept), so matching an end
// tag looks at most that far, and an end tag of an element that is not
// open is skipped at once.
func Sanitize(src string, o SanitizeOptions) (string, bool) {
	z := html.NewTokenizer(strings.NewReader(src))
	var b strings.Builder
	var open []string // allowed elements currently open
	openCount := map[string]int{}
	skip, skipDepth := "", 0
	remote := false
	var sheets strings.Builder // the message's <style> elements
	var bodyAttrs []html.Attribute
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break // io.EOF, or input too broken to go on: what was kept is closed below
		}
		tok := z.Token()
		if skip != "" {
			switch {
			case tt == html.StartTagToken && tok.Data == skip:
				skipDepth++
			case tt == html.EndTagToken && tok.Data == skip:
				skipDepth--
				if skipDepth == 0 {
					skip = ""
				}
			}
			continue
		}
		switch tt {
		case html.TextToken:
			b.WriteString(html.EscapeString(tok.Data))
		case html.StartTagToken, html.SelfClosingTagToken:
			name := tok.Data
			if name == "style" && tt == html.StartTagToken {
				// Style sheets are kept, sanitized and scoped (sanitizecss.go).
				for {
					nt := z.Next()
					if nt == html.ErrorToken || nt == html.EndTagToken {
						break // the tokenizer reads a style element's content as one raw text
					}
					if nt == html.TextToken && sheets.Len() < maxStyleBytes {
						sheets.Write(z.Text())
						sheets.WriteByte('\n')
					}
				}
				continue
			}
			if name == "body" {
				bodyAttrs = tok.Attr
			}
			if droppedTags[name] {
				if tt == html.StartTagToken {
					skip, skipDepth = name, 1
				}
				continue
			}
			if !allowedTags[name] || (!voidTags[name] && len(open) >= maxHTMLDepth) {
				continue
			}
			attrs, rem := sanitizeAttrs(name, tok.Attr, o)
			remote = remote || rem
			b.WriteByte('<')
			b.WriteString(name)
			for _, a := range attrs {
				b.WriteByte(' ')
				b.WriteString(a.Key)
				b.WriteString(`="`)
				b.WriteString(html.EscapeString(a.Val))
				b.WriteByte('"')
			}
			b.WriteByte('>')
			if !voidTags[name] {
				open = append(open, name)
				openCount[name]++
			}
		case html.EndTagToken:
			if openCount[tok.Data] == 0 {
				continue
			}
			i := -1 // innermost open element of that name
			for j := len(open) - 1; j >= 0; j-- {
				if open[j] == tok.Data {
					i = j
					break
				}
			}
			if i < 0 {
				continue
			}
			for len(open) > i {
				b.WriteString("</" + open[len(open)-1] + ">")
				openCount[open[len(open)-1]]--
				open = open[:len(open)-1]
			}
		}
		// Comments and doctypes are dropped.
	}
	for len(open) > 0 {
		b.WriteString("</" + open[len(open)-1] + ">")
		open = open[:len(open)-1]
	}
	sheet := &cssSheet{allowRemote: o.AllowRemote}
	css := ""
	if sheets.Len() > 0 {
		css = sheet.sanitize(sheets.String())
		remote = remote || sheet.remote
	}
	attrs, rem := sanitizeAttrs("div", bodyAttrs, o)
	remote = remote || rem
	var wattrs []html.Attribute
	for _, a := range attrs {
		if a.Key == "style" || a.Key == "bgcolor" || a.Key == "dir" || a.Key == "lang" {
			wattrs = append(wattrs, a)
		}
	}
	if css == "" && len(wattrs) == 0 {
		return b.String(), remote
	}
	// The wrapper carries the body's own look and scopes the style sheet.
	var w strings.Builder
	w.WriteString(`<div class="` + scopeClass + `"`)
	for _, a := range wattrs {
		w.WriteString(" " + a.Key + `="` + html.EscapeString(a.Val) + `"`)
	}
	w.WriteString(">")
	if css != "" {
		// "</" cannot occur: selectorOK and safeCSSValue refuse "<" and "/" outside url("..."),
		// where quotes and parentheses are escaped; the replacement is belt and braces.
		w.WriteString("<style>" + strings.ReplaceAll(css, "</", `<\/`) + "</style>")
	}
	w.WriteString(b.String())
	w.WriteString("</div>")
	return w.String(), remote
}

// sanitizeAttrs filters an element's attributes and says whether a remote
// image was found.
func sanitizeAttrs(tag string, in []html.Attribute, o SanitizeOptions) ([]html.Attribute, bool) {
	var out []html.Attribute
	remote := false
	for _, a := range in {
		key := strings.ToLower(a.Key)
		if a.Namespace != "" {
			continue
		}
		switch {
		case key == "href" && tag == "a":
			if u, ok := safeLink(a.Val); ok {
				out = append(out, html.Attribute{Key: "href", Val: u})
			}
		case key == "src" && tag == "img":
			u, kind := imageSource(a.Val, o)
			switch kind {
			case "remote":
				remote = true
				if o.AllowRemote {
					out = append(out, html.Attribute{Key: "src", Val: u})
				} else {
					out = append(out, html.Attribute{Key: "data-src", Val: u})
				}
			case "local":
				out = append(out, html.Attribute{Key: "src", Val: u})
			}
		case key == "style":
			if css := sanitizeCSS(a.Val); css != "" {
				out = append(out, html.Attribute{Key: "style", Val: css})
			}
		case key == "background", key == "srcset", strings.HasPrefix(key, "on"):
			if key == "background" || key == "srcset" {
				remote = true
			}
		case key == "class":
			var cls []string
			for _, c := range strings.Fields(a.Val) {
				if c != scopeClass && strings.Trim(c, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == "" && len(c) <= 64 {
					cls = append(cls, c)
				}
			}
			if len(cls) > 0 {
				out = append(out, html.Attribute{Key: "class", Val: strings.Join(cls, " ")})
			}
		case allowedAttrs[key]:
			out = append(out, html.Attribute{Key: key, Val: a.Val})
		}
	}
	if tag == "a" {
		out = append(out, html.Attribute{Key: "target", Val: "_blank"}, html.Attribute{Key: "rel", Val: "noopener noreferrer nofollow"})
	}
	return out, remote
}

// cleanURL removes what browsers ignore inside URLs (ASCII whitespace and
// control characters), which attackers use to hide "java\tscript:".
func cleanURL(v string) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f {
			return -1
		}
		return r
	}, v)
}

// safeLink returns an href with an allowed absolute scheme.
func safeLink(v string) (string, bool) {
	v = cleanURL(v)
	u, err := url.Parse(v)
	if err != nil {
		return "", false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "mailto", "tel":
		return u.String(), true
	}
	return "", false
}

// imageSource classifies an img src: "remote" (http/https), "local" (an
// inline part or a data: image) or "" to drop it.
func imageSource(v string, o SanitizeOptions) (string, string) {
	v = cleanURL(v)
	lower := strings.ToLower(v)
	switch {
	case strings.HasPrefix(lower, "cid:"):
		if o.CIDURL != nil {
			if u := o.CIDURL(v[4:]); u != "" {
				return u, "local"
			}
		}
		return "", ""
	case strings.HasPrefix(lower, "data:image/png;"), strings.HasPrefix(lower, "data:image/gif;"),
		strings.HasPrefix(lower, "data:image/jpeg;"), strings.HasPrefix(lower, "data:image/webp;"):
		return v, "local"
	}
	u, err := url.Parse(v)
	if err != nil {
		return "", ""
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u.String(), "remote"
	}
	return "", ""
}

// sanitizeCSS keeps the allowed declarations of a style attribute whose
// values cannot load anything or run code.
func sanitizeCSS(v string) string {
	var keep []string
	for _, decl := range strings.Split(v, ";") {
		prop, val, ok := strings.Cut(decl, ":")
		if !ok {
			continue
		}
		prop = strings.ToLower(strings.TrimSpace(prop))
		val = strings.TrimSpace(val)
		if !allowedCSS[prop] || val == "" || !safeCSSValue(val) {
			continue
		}
		keep = append(keep, prop+": "+val)
	}
	return strings.Join(keep, "; ")
}

func safeCSSValue(v string) bool {
	lower := strings.ToLower(v)
	for _, bad := range []string{"url", "expression", "image", "var(", "attr(", "/*", "@", "javascript", "behavior", "binding"} {
		if strings.Contains(lower, bad) {
			return false
		}
	}
	for _, r := range v {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(" #%.,-_'\"!()+", r)
		if !ok {
			return false
		}
	}
	return true
}
