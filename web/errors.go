package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/message"
)

// apiError is an error answered to the client as it is: a status and a
// stable machine-readable code with a human-readable message.
type apiError struct {
	Status     int
	Code       string
	Message    string
	RetryAfter int // seconds; sets Retry-After when positive
}

// Error implements error.
func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

// Error codes of the API (the "code" member of every error body).
const (
	codeBadRequest  = "bad_request"
	codeInvalid     = "invalid"
	codeUnauth      = "unauthorized"
	codeCSRF        = "csrf_failed"
	codeNotFound    = "not_found"
	codeExists      = "exists"
	codeNotAllowed  = "not_allowed"
	codeTooLarge    = "too_large"
	codeRateLimited = "rate_limited"
	codeRejected    = "rejected"
	codeUnavailable = "unavailable"
	codeInternal    = "internal"
	codeOverQuota   = "over_quota"
)

func badRequest(format string, args ...any) error {
	return &apiError{Status: http.StatusBadRequest, Code: codeBadRequest, Message: fmt.Sprintf(format, args...)}
}

func invalid(format string, args ...any) error {
	return &apiError{Status: http.StatusBadRequest, Code: codeInvalid, Message: fmt.Sprintf(format, args...)}
}

var errNotFound = &apiError{Status: http.StatusNotFound, Code: codeNotFound, Message: "not found"}

// toAPIError maps an error to what the client is told; ok is false for
// errors that are not the client's doing (they are logged, not shown).
func toAPIError(err error) (e *apiError, ok bool) {
	var ae *apiError
	var rej *core.RejectedError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae, true
	case errors.As(err, &mbe), errors.Is(err, core.ErrTooBig):
		return &apiError{Status: http.StatusRequestEntityTooLarge, Code: codeTooLarge, Message: "request or message too large"}, true
	case errors.As(err, &rej):
		if rej.Temporary {
			return &apiError{Status: http.StatusServiceUnavailable, Code: codeUnavailable, Message: rej.Message, RetryAfter: 60}, true
		}
		return &apiError{Status: http.StatusUnprocessableEntity, Code: codeRejected, Message: rej.Message}, true
	case errors.Is(err, core.ErrOverQuota):
		return &apiError{Status: http.StatusInsufficientStorage, Code: codeOverQuota, Message: "mailbox full: the storage quota would be exceeded"}, true
	case errors.Is(err, core.ErrTemporary):
		// Before the kinds below, which a temporary failure may wrap.
		return &apiError{Status: http.StatusServiceUnavailable, Code: codeUnavailable, Message: "temporarily unavailable, retry later", RetryAfter: 30}, false
	case errors.Is(err, core.ErrNotFound):
		return errNotFound, true
	case errors.Is(err, core.ErrAuthFailed):
		return &apiError{Status: http.StatusUnauthorized, Code: codeUnauth, Message: "authentication required"}, true
	case errors.Is(err, core.ErrExists):
		return &apiError{Status: http.StatusConflict, Code: codeExists, Message: "already exists"}, true
	case errors.Is(err, core.ErrNotAllowed):
		return &apiError{Status: http.StatusForbidden, Code: codeNotAllowed, Message: "operation not allowed"}, true
	case errors.Is(err, core.ErrSenderNotAllowed):
		return &apiError{Status: http.StatusForbidden, Code: codeNotAllowed, Message: "sender address not allowed"}, true
	case errors.Is(err, core.ErrNoSuchUser):
		return &apiError{Status: http.StatusUnprocessableEntity, Code: codeInvalid, Message: "no such local recipient: " + errDetail(err)}, true
	case errors.Is(err, core.ErrSuppressed):
		return &apiError{Status: http.StatusUnprocessableEntity, Code: codeRejected, Message: "recipient suppressed after hard bounces: " + errDetail(err)}, true
	case errors.Is(err, core.ErrRateLimited):
		return &apiError{Status: http.StatusTooManyRequests, Code: codeRateLimited, Message: "rate limit exceeded", RetryAfter: 60}, true
	case errors.Is(err, core.ErrInvalid), errors.Is(err, message.ErrBadComposition), errors.Is(err, message.ErrInvalidAddress):
		return &apiError{Status: http.StatusBadRequest, Code: codeInvalid, Message: errDetail(err)}, true
	}
	return &apiError{Status: http.StatusInternalServerError, Code: codeInternal, Message: "internal error"}, false
}

// errDetail is the message of a client error; these errors come from
// validation (names, addresses) and hold no internals.
func errDetail(err error) string {
	s := err.Error()
	// The sentinel's own words ("invalid argument: ...") say nothing to a person.
	for _, p := range []string{"invalid argument: ", "invalid composition: ", "invalid address "} {
		s = strings.TrimPrefix(s, p)
	}
	if len(s) > 300 {
		s = s[:300]
	}
	if s != "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}

// fail answers err; errors not caused by the client are logged with the
// request's attributes and answered generically.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	ae, ok := toAPIError(err)
	if !ok {
		s.reqLog(r).Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, ae)
}

// writeError writes the JSON error body {"error": {"code", "message"}}.
func writeError(w http.ResponseWriter, e *apiError) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	writeJSON(w, e.Status, map[string]any{"error": map[string]string{"code": e.Code, "message": e.Message}})
}

// writeJSON writes v as the JSON response body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// recoverer turns a handler's panic into a logged 500 for that request
// only; the connection boundary of HTTP is the request.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.reqLog(r).Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				writeError(w, &apiError{Status: http.StatusInternalServerError, Code: codeInternal, Message: "internal error"})
			}
		}()
		next.ServeHTTP(w, r)
	})
}
