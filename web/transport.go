package web

import (
	"net"
	"net/http"
	"strings"
)

// hstsValue is the Strict-Transport-Security header sent over HTTPS when a
// real certificate is configured (RFC 6797 section 6.1): one year, for this
// host only (subdomains may run other services).
const hstsValue = "max-age=31536000"

// withHSTS adds the Strict-Transport-Security header to every answer.
func withHSTS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", hstsValue)
		next.ServeHTTP(w, r)
	})
}

// plainOnly is the handler of the plain-HTTP listener when a certificate is
// configured: nothing there may carry a password, a token or a session.
// GET and HEAD requests are redirected to the same URL over HTTPS (RFC 9110
// section 15.4.2, 301); every other request, POST /v1/auth/login included,
// is refused with 403 before its body is read, so credentials sent in
// clear are never checked and never answered with a token. /healthz stays
// available to load balancers' plain health checks.
func plainOnly(httpsPort string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" && r.Method == http.MethodGet {
			next.ServeHTTP(w, r)
			return
		}
		target := "https://" + httpsHost(r.Host, httpsPort) + r.URL.RequestURI()
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Connection", "close") // do not read a body we refuse
			writeError(w, &apiError{Status: http.StatusForbidden, Code: "https_required",
				Message: "this server accepts requests with credentials over HTTPS only: use " + target})
			return
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
	})
}

// httpsHost is host (from the request's Host header, port dropped) with the
// HTTPS listener's port, left out when it is 443.
func httpsHost(host, port string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if strings.Contains(host, ":") { // an IPv6 literal
		host = "[" + strings.Trim(host, "[]") + "]"
	}
	if port == "" || port == "443" {
		return host
	}
	return host + ":" + port
}
