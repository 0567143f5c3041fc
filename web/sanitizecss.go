package web

import (
	"regexp"
	"strings"
)

// scopeClass is the class of the element that wraps a message whose style
// sheets are kept: every selector is rewritten to apply inside it only.
const scopeClass = "stamp-msg"

// Bounds of a message's style sheets.
const (
	maxStyleBytes = 256 << 10 // of all <style> elements of one message
	maxCSSDepth   = 4         // nested @media / @supports blocks
)

// sheetCSS are the properties a message's style sheet may set: those of
// style attributes, plus what newsletters need for layout. position is
// checked separately (static or relative only: nothing may escape the
// message's box), and no property may load a resource unless remote
// images are allowed (url() values).
var sheetCSS = func() map[string]bool {
	m := setOf("background-image", "background-repeat", "background-position", "background-size",
		"overflow", "overflow-x", "overflow-y", "opacity", "text-overflow", "box-sizing", "visibility",
		"list-style", "list-style-position", "font-variant", "border-top-left-radius", "border-top-right-radius",
		"border-bottom-left-radius", "border-bottom-right-radius", "border-top-color", "border-bottom-color",
		"border-left-color", "border-right-color", "border-top-width", "border-bottom-width", "border-left-width",
		"border-right-width", "border-top-style", "border-bottom-style", "border-left-style", "border-right-style",
		"top", "left", "right", "bottom", "position", "text-shadow", "box-shadow", "outline", "cursor",
		"flex", "flex-direction", "flex-wrap", "justify-content", "align-items", "gap", "-webkit-text-size-adjust",
		"text-size-adjust")
	for k := range allowedCSS {
		m[k] = true
	}
	return m
}()

// selectorOK accepts the selector syntax of ordinary style sheets: no
// escapes, no namespaces, no characters that could end the rule.
var selectorOK = regexp.MustCompile(`^[a-zA-Z0-9 \t\n.#:>+~*\[\]="'^$|(),_-]+$`)

// mediaOK accepts media query preludes.
var mediaOK = regexp.MustCompile(`^[a-zA-Z0-9 \t\n:(),.\-]+$`)

// urlRe finds url() references in a declaration value.
var urlRe = regexp.MustCompile(`(?i)url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)`)

// cssSheet sanitizes a message's style sheets.
type cssSheet struct {
	allowRemote bool
	remote      bool // a remote resource was referred to
}

// sanitize returns the rules of css that are safe, every selector scoped
// to the wrapper: @import, @font-face and other at-rules are dropped,
// @media and @supports are kept with their rules sanitized.
func (c *cssSheet) sanitize(css string) string {
	css = stripCSSComments(css)
	var b strings.Builder
	c.rules(&b, css, 0)
	return b.String()
}

func stripCSSComments(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "/*")
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		j := strings.Index(s[i+2:], "*/")
		if j < 0 {
			break
		}
		s = s[i+2+j+2:]
	}
	out := b.String()
	out = strings.ReplaceAll(out, "<!--", "")
	return strings.ReplaceAll(out, "-->", "")
}

// block returns the content of the {...} block opening at s[i] == '{' and
// the index after its closing brace, honouring nesting and quotes.
func block(s string, i int) (string, int) {
	depth := 0
	var quote byte
	for j := i; j < len(s); j++ {
		ch := s[j]
		switch {
		case quote != 0:
			if ch == '\\' {
				j++
			} else if ch == quote {
				quote = 0
			}
		case ch == '"' || ch == '\'':
			quote = ch
		case ch == '{':
			depth++
		case ch == '}':
			depth--
			if depth == 0 {
				return s[i+1 : j], j + 1
			}
		}
	}
	return s[i+1:], len(s)
}

func (c *cssSheet) rules(b *strings.Builder, s string, depth int) {
	for len(s) > 0 {
		s = strings.TrimLeft(s, " \t\r\n;")
		if s == "" {
			return
		}
		open := strings.IndexByte(s, '{')
		if s[0] == '@' {
			semi := strings.IndexByte(s, ';')
			if open < 0 || (semi >= 0 && semi < open) { // @import url(...); @charset "x";
				if semi < 0 {
					return
				}
				s = s[semi+1:]
				continue
			}
			prelude := strings.TrimSpace(s[:open])
			inner, next := block(s, open)
			s = s[next:]
			name := strings.ToLower(strings.Fields(prelude)[0])
			if (name == "@media" || name == "@supports") && depth < maxCSSDepth {
				cond := strings.TrimSpace(prelude[len(name):])
				if name == "@supports" && strings.ContainsAny(cond, "{}\\;") || name == "@media" && !mediaOK.MatchString(cond) {
					continue
				}
				if strings.Contains(strings.ToLower(cond), "url") {
					continue
				}
				var nb strings.Builder
				c.rules(&nb, inner, depth+1)
				if nb.Len() > 0 {
					b.WriteString(name + " " + cond + " {\n" + nb.String() + "}\n")
				}
			}
			continue // @font-face, @keyframes, @page, @namespace...
		}
		if open < 0 {
			return
		}
		sel := s[:open]
		decls, next := block(s, open)
		s = s[next:]
		scoped := scopeSelectors(sel)
		if scoped == "" {
			continue
		}
		if d := c.declarations(decls); d != "" {
			b.WriteString(scoped + " { " + d + " }\n")
		}
	}
}

// scopeSelectors rewrites a selector list to apply inside the wrapper
// only ("body" and "html" become the wrapper); "" drops the rule.
func scopeSelectors(list string) string {
	var out []string
	for _, sel := range strings.Split(list, ",") {
		sel = strings.Join(strings.Fields(sel), " ")
		if sel == "" || !selectorOK.MatchString(sel) || strings.Contains(sel, "::") && strings.Contains(sel, "content") {
			continue
		}
		lower := strings.ToLower(sel)
		root := ""
		for _, r := range []string{"html body", "html", "body", ":root"} {
			if lower == r || strings.HasPrefix(lower, r+" ") || strings.HasPrefix(lower, r+".") || strings.HasPrefix(lower, r+"[") ||
				strings.HasPrefix(lower, r+":") || strings.HasPrefix(lower, r+">") || strings.HasPrefix(lower, r+" >") {
				root = r
				break
			}
		}
		if root != "" {
			sel = "." + scopeClass + sel[len(root):]
		} else {
			sel = "." + scopeClass + " " + sel
		}
		out = append(out, sel)
	}
	return strings.Join(out, ", ")
}

// declarations keeps the safe declarations of one rule.
func (c *cssSheet) declarations(s string) string {
	var keep []string
	for _, decl := range strings.Split(s, ";") {
		prop, val, ok := strings.Cut(decl, ":")
		if !ok {
			continue
		}
		prop = strings.ToLower(strings.TrimSpace(prop))
		val = strings.TrimSpace(val)
		if !sheetCSS[prop] || val == "" {
			continue
		}
		if prop == "position" {
			v := strings.ToLower(strings.TrimSpace(strings.TrimSuffix(val, "!important")))
			if v != "static" && v != "relative" {
				continue // fixed, sticky, absolute: could cover the reader's page or fake its UI
			}
		}
		if urlRe.MatchString(val) {
			v, ok := c.urls(val)
			if !ok {
				continue
			}
			keep = append(keep, prop+": "+v)
			continue
		}
		if !safeCSSValue(val) {
			continue
		}
		keep = append(keep, prop+": "+val)
	}
	return strings.Join(keep, "; ")
}

// urls checks a value with url() references: only http(s) images, and only
// when remote content is allowed; the rest of the value must be safe.
func (c *cssSheet) urls(val string) (string, bool) {
	ok := true
	var links []string
	rest := urlRe.ReplaceAllStringFunc(val, func(m string) string {
		g := urlRe.FindStringSubmatch(m)
		link, kind := imageSource(g[1]+g[2]+g[3], SanitizeOptions{AllowRemote: true})
		if kind == "remote" {
			c.remote = true
		}
		if kind != "remote" || !c.allowRemote {
			ok = false
		}
		links = append(links, link)
		return " "
	})
	if !ok || strings.TrimSpace(rest) != "" && !safeCSSValue(rest) {
		return "", false
	}
	i := 0
	esc := strings.NewReplacer(`"`, "%22", `\`, "%5C", "\n", "", ")", "%29", "(", "%28")
	return urlRe.ReplaceAllStringFunc(val, func(string) string {
		u := `url("` + esc.Replace(links[i]) + `")`
		i++
		return u
	}), true
}
