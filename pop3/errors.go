package pop3

import (
	"context"
	"errors"

	"github.com/stamp-mail/stamp/core"
)

// replyErr answers a failed command with -ERR and the RFC 2449/3206
// response code that fits the core error. Unknown errors are logged and
// answered without internals.
func (s *session) replyErr(err error) {
	switch {
	case errors.Is(err, core.ErrAuthFailed):
		// RFC 3206 section 4: [AUTH] for a credentials problem.
		s.reply("-ERR [AUTH] invalid user name or password")
	case errors.Is(err, core.ErrRateLimited):
		s.reply("-ERR [SYS/TEMP] too many attempts, try again later")
	case errors.Is(err, core.ErrTemporary):
		// RFC 3206 section 5: [SYS/TEMP] for a transient system failure.
		s.log.Warn("temporary failure", "err", err)
		s.reply("-ERR [SYS/TEMP] temporary failure, try again later")
	case errors.Is(err, core.ErrNotFound):
		// A message expunged by another client since the snapshot, or a
		// user without an INBOX.
		s.reply("-ERR no such message")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		s.reply("-ERR [SYS/TEMP] operation interrupted, try again later")
	default:
		s.log.Error("internal error", "err", err)
		s.reply("-ERR internal server error")
	}
}
