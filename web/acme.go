package web

import (
	"net/http"
	"strings"
)

// acmeChallengePath is where an ACME server fetches HTTP-01 tokens (RFC
// 8555 section 8.3), over plain HTTP on port 80.
const acmeChallengePath = "/.well-known/acme-challenge/"

// withACMEChallenge sends ACME HTTP-01 validation requests to acme and
// everything else to next.
func withACMEChallenge(acme, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, acmeChallengePath) {
			acme.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
