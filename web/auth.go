package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/stamp-mail/stamp/core"
)

// Cookie and header names of browser sessions.
const (
	sessionCookie = "stamp_session"
	csrfCookie    = "stamp_csrf"
	csrfHeader    = "X-Stamp-CSRF"
	// sessionMaxAge matches core's session lifetime (30 days).
	sessionMaxAge = 30 * 24 * 60 * 60
)

type ctxKey int

const (
	userKey ctxKey = iota
	tokenKey
)

// userFrom returns the authenticated user of a request.
func userFrom(r *http.Request) core.User {
	u, _ := r.Context().Value(userKey).(core.User)
	return u
}

// reqLog is the logger of one request, tagged with remote and user.
func (s *Server) reqLog(r *http.Request) *slog.Logger {
	l := s.log.With("remote", r.RemoteAddr)
	if u, ok := r.Context().Value(userKey).(core.User); ok {
		l = l.With("user", u.Address)
	}
	return l
}

// clientIP is the peer's IP address. Proxy headers are not trusted: put
// Stamp behind a proxy that preserves addresses (PROXY protocol) or accept
// that login limits then apply to the proxy's address.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// bearer returns the token of an "Authorization: Bearer" header (RFC 6750 section 2.1).
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// safeMethod reports whether a method never changes state (RFC 9110 section 9.2.1).
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// authenticate requires a valid bearer token or session cookie; cookie
// requests that may change state must pass the double-submit CSRF check.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := bearer(r)
		viaCookie := false
		if tok == "" {
			if c, err := r.Cookie(sessionCookie); err == nil {
				tok, viaCookie = c.Value, true
			}
		}
		if tok == "" {
			writeError(w, &apiError{Status: http.StatusUnauthorized, Code: codeUnauth, Message: "authentication required"})
			return
		}
		u, err := s.svc.UserByToken(r.Context(), tok)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if viaCookie && !safeMethod(r.Method) && !csrfOK(r, tok) {
			writeError(w, &apiError{Status: http.StatusForbidden, Code: codeCSRF, Message: "missing or wrong " + csrfHeader + " header"})
			return
		}
		ctx := context.WithValue(r.Context(), userKey, u)
		ctx = context.WithValue(ctx, tokenKey, tok)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// csrfOK checks the CSRF header of a cookie-authenticated request: it must
// equal csrfToken of the session token that authenticated it. The
// stamp_csrf cookie only carries that value to the page's script; a cookie
// planted by another site (or a sibling subdomain) with a matching header
// fails, because the value is bound to the session, which the planter does
// not know.
func csrfOK(r *http.Request, sessionToken string) bool {
	h := r.Header.Get(csrfHeader)
	if h == "" || sessionToken == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(csrfToken(sessionToken)), []byte(h)) == 1
}

// csrfToken derives a session's CSRF token from its (secret, HttpOnly)
// session token: SHA-256 under a label, so it reveals nothing of the token.
func csrfToken(sessionToken string) string {
	sum := sha256.Sum256([]byte("stamp-csrf-v1\x00" + sessionToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// userJSON is the API's view of an account.
type userJSON struct {
	ID      int64  `json:"id"`
	Address string `json:"address"`
}

// handleLogin exchanges a username and password for a session. The login
// slow-down lives in core (per IP and account, per account, per IP, shared
// by every node): a refused attempt is answered 429 with Retry-After, and
// failures on one account never refuse the other accounts behind the same
// address.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeJSON(w, r, &req, maxJSONBody); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Username == "" || req.Password == "" {
		s.fail(w, r, invalid("username and password are required"))
		return
	}
	u, err := s.svc.Authenticate(r.Context(), req.Username, req.Password, clientIP(r))
	if err != nil {
		if errors.Is(err, core.ErrRateLimited) {
			writeError(w, &apiError{Status: http.StatusTooManyRequests, Code: codeRateLimited,
				Message: "too many login attempts, retry later", RetryAfter: loginRetryAfter})
			return
		}
		s.fail(w, r, err)
		return
	}
	tok, err := s.svc.CreateToken(r.Context(), u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Which device signed in, for the list of sessions; the login stands
	// even if this is not recorded.
	if err := s.svc.NoteSessionClient(r.Context(), u.ID, tok, r.UserAgent(), clientIP(r)); err != nil {
		s.reqLog(r).Warn("session client not recorded", "err", err)
	}
	csrf := csrfToken(tok)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/", MaxAge: sessionMaxAge,
		HttpOnly: true, Secure: s.opts.Secure, SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: csrf, Path: "/", MaxAge: sessionMaxAge,
		HttpOnly: false, Secure: s.opts.Secure, SameSite: http.SameSiteStrictMode})
	writeJSON(w, http.StatusOK, map[string]any{"token": tok, "csrf_token": csrf, "user": userJSON{ID: u.ID, Address: u.Address}})
}

// loginRetryAfter is the Retry-After of a refused login, in seconds: about
// the longest spacing core puts between attempts.
const loginRetryAfter = 10

func isAuthFailure(err error) bool {
	ae, _ := toAPIError(err)
	return ae.Code == codeUnauth
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	tok, _ := r.Context().Value(tokenKey).(string)
	if err := s.svc.DeleteToken(r.Context(), tok); err != nil {
		s.fail(w, r, err)
		return
	}
	s.streams.end(core.SessionID(tok)) // this session's WebSocket and long polls end now
	for _, name := range []string{sessionCookie, csrfCookie} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: name == sessionCookie, Secure: s.opts.Secure, SameSite: http.SameSiteStrictMode})
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	u := userFrom(r)
	writeJSON(w, http.StatusOK, userJSON{ID: u.ID, Address: u.Address})
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}
