package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

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
		if viaCookie && !safeMethod(r.Method) && !csrfOK(r) {
			writeError(w, &apiError{Status: http.StatusForbidden, Code: codeCSRF, Message: "missing or wrong " + csrfHeader + " header"})
			return
		}
		ctx := context.WithValue(r.Context(), userKey, u)
		ctx = context.WithValue(ctx, tokenKey, tok)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// csrfOK checks the double submit: the header must equal the stamp_csrf cookie.
func csrfOK(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	h := r.Header.Get(csrfHeader)
	if err != nil || c.Value == "" || h == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c.Value), []byte(h)) == 1
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

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	ip := clientIP(r)
	if wait := s.logins.blocked(ip, s.opts.LoginFailuresPerMinute); wait > 0 {
		writeError(w, &apiError{Status: http.StatusTooManyRequests, Code: codeRateLimited,
			Message: "too many failed logins, retry later", RetryAfter: int(wait/time.Second) + 1})
		return
	}
	var req loginRequest
	if err := decodeJSON(w, r, &req, maxJSONBody); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Username == "" || req.Password == "" {
		s.fail(w, r, invalid("username and password are required"))
		return
	}
	u, err := s.svc.Authenticate(r.Context(), req.Username, req.Password, ip)
	if err != nil {
		if isAuthFailure(err) {
			s.logins.add(ip)
		}
		s.fail(w, r, err)
		return
	}
	tok, err := s.svc.CreateToken(r.Context(), u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	csrf := randomString(24)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/", MaxAge: sessionMaxAge,
		HttpOnly: true, Secure: s.opts.Secure, SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: csrf, Path: "/", MaxAge: sessionMaxAge,
		HttpOnly: false, Secure: s.opts.Secure, SameSite: http.SameSiteStrictMode})
	writeJSON(w, http.StatusOK, map[string]any{"token": tok, "csrf_token": csrf, "user": userJSON{ID: u.ID, Address: u.Address}})
}

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

// ipWindow counts login failures per IP in a sliding window.
type ipWindow struct {
	window time.Duration

	mu     sync.Mutex
	events map[string][]time.Time
}

func newIPWindow(d time.Duration) *ipWindow {
	return &ipWindow{window: d, events: map[string][]time.Time{}}
}

// blocked returns how long ip must wait when it has limit or more failures in the window.
func (w *ipWindow) blocked(ip string, limit int) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	ev := w.pruneLocked(ip, time.Now())
	if len(ev) < limit {
		return 0
	}
	return w.window - time.Since(ev[len(ev)-limit])
}

// add records a failure of ip.
func (w *ipWindow) add(ip string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	w.events[ip] = append(w.pruneLocked(ip, now), now)
	if len(w.events) > 100000 { // bound memory under a flood from many addresses
		for k := range w.events {
			w.pruneLocked(k, now)
		}
	}
}

func (w *ipWindow) pruneLocked(ip string, now time.Time) []time.Time {
	ev := w.events[ip]
	i := 0
	for i < len(ev) && now.Sub(ev[i]) > w.window {
		i++
	}
	ev = ev[i:]
	if len(ev) == 0 {
		delete(w.events, ip)
		return nil
	}
	w.events[ip] = ev
	return ev
}
