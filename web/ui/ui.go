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

// notFoundPage is the answer to paths that are neither a file of the
// webmail nor its page: the app's own routes live in the URL fragment
// (#/folder/3, #/message/12), so every client route is "/".
const notFoundPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not found</title>` +
	`<link rel="stylesheet" href="/app.css"></head><body class="not-found"><main><h1>Page not found</h1>` +
	`<p>There is nothing at this address. <a href="/">Open your mail</a>.</p></main></body></html>`

// Handler serves the webmail's files and its page at "/"; any other path
// is 404.
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
		if st, err := fs.Stat(sub, trim(r.URL.Path)); err != nil || st.IsDir() {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(notFoundPage))
			return
		}
		if r.URL.Path == "/sw.js" {
			// The service worker may control the whole site.
			w.Header().Set("Service-Worker-Allowed", "/")
			w.Header().Set("Cache-Control", "no-cache")
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
