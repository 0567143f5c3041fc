// Package ui is Stamp's webmail: static HTML, CSS and JavaScript embedded in
// the binary with go:embed (no external CDN), talking to the /v1 API.
package ui

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// contentSecurityPolicy allows only the webmail's own files: no inline
// scripts or styles anywhere, and no plug-ins. A message's HTML is not
// part of the page: it is shown in a sandboxed frame that loads
// GET /v1/messages/{id}/html, a document with its own, stricter policy
// (no scripts, no requests but images, its inline styles allowed).
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
	"frame-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// MailCSS returns the base style sheet of a message's HTML (static/mail.css),
// which the API inlines into the documents it serves for the message frame.
func MailCSS() string {
	b, err := static.ReadFile("static/mail.css")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return string(b)
}

// Handler serves the webmail's files; unknown paths get index.html so that
// client-side routes survive a reload.
func Handler() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if _, err := fs.Stat(sub, trim(r.URL.Path)); err != nil {
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/"
			files.ServeHTTP(w, r2)
			return
		}
		files.ServeHTTP(w, r)
	})
}

func trim(p string) string {
	for len(p) > 0 && p[0] == '/' {
		p = p[1:]
	}
	if p == "" {
		return "index.html"
	}
	return p
}
