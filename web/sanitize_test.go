package web

import (
	"strings"
	"testing"
)

func TestSanitize(t *testing.T) {
	cid := func(c string) string {
		if c == "logo@x" {
			return "/v1/messages/7/attachments/2"
		}
		return ""
	}
	cases := []struct {
		name, in  string
		remote    bool // AllowRemote
		want      string
		hasRemote bool
	}{
		{"plain", "<p>Hello <b>world</b></p>", false, "<p>Hello <b>world</b></p>", false},
		{"script", `<p>a<script>alert(1)</script>b</p>`, false, "<p>ab</p>", false},
		{"script in caps", `<SCRIPT>alert(1)</SCRIPT>ok`, false, "ok", false},
		{"onerror", `<img src="x" onerror="alert(1)">`, false, "<img>", false},
		{"onclick on div", `<div onclick="steal()" title="t">x</div>`, false, `<div title="t">x</div>`, false},
		{"javascript href", `<a href="javascript:alert(1)">x</a>`, false, `<a target="_blank" rel="noopener noreferrer nofollow">x</a>`, false},
		{"obfuscated javascript href", "<a href=\"java\tscript:alert(1)\">x</a>", false, `<a target="_blank" rel="noopener noreferrer nofollow">x</a>`, false},
		{"entity javascript href", `<a href="&#106;avascript:alert(1)">x</a>`, false, `<a target="_blank" rel="noopener noreferrer nofollow">x</a>`, false},
		{"https href", `<a href="https://example.com/a?b=1&amp;c=2">x</a>`, false, `<a href="https://example.com/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer nofollow">x</a>`, false},
		{"link target and rel replaced", `<a href="https://example.com/" target="_self" rel="opener">x</a>`, false, `<a href="https://example.com/" target="_blank" rel="noopener noreferrer nofollow">x</a>`, false},
		{"link target named frame", `<a href="https://example.com/" target="_top">x</a>`, false, `<a href="https://example.com/" target="_blank" rel="noopener noreferrer nofollow">x</a>`, false},
		{"mailto link", `<a href="mailto:bob@example.com">bob</a>`, false, `<a href="mailto:bob@example.com" target="_blank" rel="noopener noreferrer nofollow">bob</a>`, false},
		{"anchor without href", `<a name="top">x</a>`, false, `<a target="_blank" rel="noopener noreferrer nofollow">x</a>`, false},
		{"target on other elements dropped", `<div target="_top" rel="opener">x</div>`, false, `<div>x</div>`, false},
		{"base target dropped", `<base target="_top"><a href="https://example.com/">x</a>`, false, `<a href="https://example.com/" target="_blank" rel="noopener noreferrer nofollow">x</a>`, false},
		{"remote image blocked", `<img src="https://tracker.example/p.gif" alt="p">`, false, `<img data-src="https://tracker.example/p.gif" alt="p">`, true},
		{"remote image allowed", `<img src="https://tracker.example/p.gif">`, true, `<img src="https://tracker.example/p.gif">`, true},
		{"cid image", `<img src="cid:logo@x">`, false, `<img src="/v1/messages/7/attachments/2">`, false},
		{"unknown cid", `<img src="cid:nope">`, false, `<img>`, false},
		{"data image", `<img src="data:image/png;base64,AAAA">`, false, `<img src="data:image/png;base64,AAAA">`, false},
		{"svg data image", `<img src="data:image/svg+xml;base64,AAAA">`, false, `<img>`, false},
		{"iframe", `<iframe src="https://evil"></iframe>after`, false, "after", false},
		{"form", `<form action="https://evil"><input name="p"><button>Go</button></form>x`, false, "x", false},
		{"object and embed", `<object data="x"></object><embed src="y">z`, false, "z", false},
		{"style element scoped", `<style>body{color:red} .x, p > b{font-weight:bold}</style>text`, false,
			"<div class=\"stamp-msg\"><style>.stamp-msg { color: red }\n.stamp-msg .x, .stamp-msg p > b { font-weight: bold }\n</style>text</div>", false},
		{"empty style element", `<style></style><p>x</p>`, false, "<p>x</p>", false},
		{"style import and font-face dropped", `<style>@import url(https://t.example/a.css); @font-face{font-family:x;src:url(https://t.example/f.woff)} p{color:blue}</style>x`, false,
			"<div class=\"stamp-msg\"><style>.stamp-msg p { color: blue }\n</style>x</div>", false},
		{"style remote url blocked", `<style>td{background:url(https://t.example/bg.png) #fff;color:red}</style>x`, false,
			"<div class=\"stamp-msg\"><style>.stamp-msg td { color: red }\n</style>x</div>", true},
		{"style remote url allowed", `<style>td{background-image:url('https://t.example/bg.png')}</style>x`, true,
			"<div class=\"stamp-msg\"><style>.stamp-msg td { background-image: url(\"https://t.example/bg.png\") }\n</style>x</div>", true},
		{"style javascript url", `<style>td{background:url(javascript:alert(1))}</style>x`, true, "x", false},
		{"style position fixed", `<style>.o{position:fixed;top:0;left:0;width:100%} .r{position:relative}</style>x`, false,
			"<div class=\"stamp-msg\"><style>.stamp-msg .o { top: 0; left: 0; width: 100% }\n.stamp-msg .r { position: relative }\n</style>x</div>", false},
		{"style media query kept", `<style>@media (max-width: 600px) { .col { width: 100% !important } }</style>x`, false,
			"<div class=\"stamp-msg\"><style>@media (max-width: 600px) {\n.stamp-msg .col { width: 100% !important }\n}\n</style>x</div>", false},
		{"style breakout", `<style>p{color:red}</style><style>x{}</style></style><script>alert(1)</script>`, false,
			"<div class=\"stamp-msg\"><style>.stamp-msg p { color: red }\n</style></div>", false},
		{"style escapes and expressions", `<style>p{width:expression(alert(1))} a\62 c{color:red} p{behavior:url(x.htc)}</style>x`, false, "x", false},
		{"class kept", `<p class="hero  big stamp-msg x<y">x</p>`, false, `<p class="hero big">x</p>`, false},
		{"body look kept on the wrapper", `<body bgcolor="#f0f0f0" style="margin:0; color: #333" onload="x()"><p>x</p></body>`, false,
			`<div class="stamp-msg" bgcolor="#f0f0f0" style="margin: 0; color: #333"><p>x</p></div>`, false},
		{"style attribute filtered", `<p style="color: red; position: fixed; background: url(https://t.example/x)">x</p>`, false, `<p style="color: red">x</p>`, false},
		{"style background color", `<td style="background: #eef; float: left; table-layout: fixed">x</td>`, false, `<td style="background: #eef; float: left; table-layout: fixed">x</td>`, false},
		{"style background image", `<td style="background: #eef url(https://t.example/bg.png); color: blue">x</td>`, false, `<td style="color: blue">x</td>`, false},
		{"style background image-set", `<td style="background: image-set('x.png' 1x)">x</td>`, false, `<td>x</td>`, false},
		{"style expression", `<p style="width: expression(alert(1))">x</p>`, false, `<p>x</p>`, false},
		{"background attribute", `<td background="https://t.example/bg.png">x</td>`, false, `<td>x</td>`, true},
		{"unbalanced", `<div><b>x`, false, `<div><b>x</b></div>`, false},
		{"stray end tags", `x</div></b>`, false, `x`, false},
		{"comment", `a<!-- <script>alert(1)</script> -->b`, false, "ab", false},
		{"meta refresh", `<meta http-equiv="refresh" content="0;url=https://evil">x`, false, "x", false},
		{"base", `<base href="https://evil/">x`, false, "x", false},
		{"text escaped", `a &lt;script&gt; b`, false, `a &lt;script&gt; b`, false},
		{"nested svg", `<svg><svg></svg><script>alert(1)</script></svg>ok`, false, "ok", false},
		{"html and body kept content", `<html><head><title>T</title></head><body><p>x</p></body></html>`, false, `<p>x</p>`, false},
		{"attribute quote breakout", `<p title='a" onmouseover="alert(1)'>x</p>`, false, `<p title="a&#34; onmouseover=&#34;alert(1)">x</p>`, false},
	}
	for _, c := range cases {
		got, remote := Sanitize(c.in, SanitizeOptions{AllowRemote: c.remote, CIDURL: cid})
		if got != c.want || remote != c.hasRemote {
			t.Errorf("%s: got %q (remote %v), want %q (remote %v)", c.name, got, remote, c.want, c.hasRemote)
		}
	}
}

// FuzzSanitize checks that no output ever holds script-capable constructs.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{`<p onclick=x>a</p>`, `<a href="javascript:x">`, `<img src=http://x>`, `<scr<script>ipt>`, `<svg><script>`,
		`<style>p{color:red}</style>`, `<style>@import url(x);a{b:c}</style>`, `<style>p{x:y}</style></style><script>`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, _ := Sanitize(in, SanitizeOptions{})
		// A kept style sheet is one <style> element right inside the scoping
		// wrapper, holding no markup and loading nothing.
		if i := strings.Index(out, "<style>"); i >= 0 {
			j := strings.Index(out, "</style>")
			if !strings.HasPrefix(out, `<div class="stamp-msg"`) || strings.Count(out, "<style>") != 1 || j < i {
				t.Fatalf("Sanitize(%q) = %q: style element not where the wrapper puts it", in, out)
			}
			sheet := strings.ToLower(out[i+len("<style>") : j])
			for _, bad := range []string{"<", "url(", "@import", "expression", "position: fixed", "position: absolute", "@font-face"} {
				if strings.Contains(sheet, bad) {
					t.Fatalf("Sanitize(%q): style sheet %q contains %q", in, sheet, bad)
				}
			}
			out = out[:i] + out[j+len("</style>"):]
		}
		lower := strings.ToLower(out)
		for _, bad := range []string{"<script", "<iframe", "<object", "<embed", "<form", "<style", "javascript:", " on"} {
			if bad == " on" {
				// Only attributes may not start with "on": look inside tags.
				for _, tag := range strings.Split(lower, "<")[1:] {
					end := strings.IndexByte(tag, '>')
					if end < 0 {
						continue
					}
					for _, attr := range attrNames(tag[:end]) {
						if strings.HasPrefix(attr, "on") {
							t.Fatalf("Sanitize(%q) = %q keeps event handler %q", in, out, attr)
						}
					}
				}
				continue
			}
			if strings.Contains(lower, bad) && !strings.Contains(strings.ToLower(in), "&lt;") {
				// Text content is escaped, so "<script" can only come from a tag.
				if bad != "javascript:" {
					t.Fatalf("Sanitize(%q) = %q contains %q", in, out, bad)
				}
			}
		}
	})
}

// attrNames returns the attribute names of a serialized tag's text (our own
// output: name="value" pairs separated by spaces).
func attrNames(tag string) []string {
	var names []string
	for {
		i := strings.Index(tag, `="`)
		if i < 0 {
			return names
		}
		head := tag[:i]
		if j := strings.LastIndexByte(head, ' '); j >= 0 {
			names = append(names, head[j+1:])
		}
		rest := tag[i+2:]
		k := strings.IndexByte(rest, '"')
		if k < 0 {
			return names
		}
		tag = rest[k+1:]
	}
}
