package managesieve

import (
	"context"
	"errors"

	"github.com/stamp-mail/stamp/core"
)

// fail answers a core error with NO and the RFC 5804 response code that
// fits (section 1.3); unknown errors are logged and answered generically.
func (sess *session) fail(err error) error {
	var se *core.ScriptError
	switch {
	case errors.As(err, &se):
		return sess.no("", se.Err.Error())
	case errors.Is(err, core.ErrNotFound):
		return sess.no("NONEXISTENT", "No such script")
	case errors.Is(err, core.ErrExists):
		return sess.no("ALREADYEXISTS", "A script with that name exists")
	case errors.Is(err, core.ErrScriptActive):
		return sess.no("ACTIVE", "The active script cannot be deleted")
	case errors.Is(err, core.ErrQuota):
		return sess.no("QUOTA", unwrapText(err))
	case errors.Is(err, core.ErrInvalid):
		return sess.no("", unwrapText(err))
	case errors.Is(err, core.ErrTemporary), errors.Is(err, context.DeadlineExceeded):
		sess.log.Warn("temporary failure", "err", err)
		return sess.no("TRYLATER", "Temporary server problem, try again later")
	}
	sess.log.Error("unexpected error", "err", err)
	return sess.no("", "Internal server error")
}

// unwrapText is the message of a validation error without Go wrapping noise.
func unwrapText(err error) string {
	s := err.Error()
	for _, p := range []string{core.ErrInvalid.Error() + ": ", core.ErrQuota.Error() + ": "} {
		if len(s) > len(p) && s[:len(p)] == p {
			return s[len(p):]
		}
	}
	return s
}
