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
// scripts or styles anywhere, and no plug-ins. A message's HTML is shown in
// a sandboxed srcdoc frame, which inherits this policy; its images may come
// from other hosts only because the API's sanitizer has already moved
// remote image sources aside (data-src) unless the reader asked to see
// them (?remote=1). Inline style attributes of mail are therefore not
// applied: the frame gets mail.css instead.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data: https: http:; style-src 'self'; script-src 'self'; " +
	"frame-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

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
