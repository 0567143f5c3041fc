package core

import (
	"errors"
	"fmt"

	"github.com/stamp-mail/stamp/storage"
)

// Named errors of the mail service. Frontends map them to protocol replies
// in one errors.go each; anything else is an internal error.
var (
	// ErrNotFound: no such user, mailbox, message or attachment for this user.
	ErrNotFound = storage.ErrNotFound
	// ErrExists: the name or address is already taken.
	ErrExists = storage.ErrExists
	// ErrNotAllowed: the operation is forbidden (deleting INBOX, renaming a special folder...).
	ErrNotAllowed = storage.ErrNotAllowed
	// ErrInvalid: malformed input (bad address, empty name...).
	ErrInvalid = storage.ErrInvalid
	// ErrAuthFailed: wrong username or password.
	ErrAuthFailed = errors.New("authentication failed")
	// ErrNoSuchUser: the recipient is in a local domain but has no mailbox.
	ErrNoSuchUser = errors.New("no such user")
	// ErrRelayDenied: the recipient is not in a local domain and the client is not authenticated.
	ErrRelayDenied = errors.New("relay access denied")
	// ErrTooBig: the message exceeds limits.max_message_bytes.
	ErrTooBig = errors.New("message too big")
	// ErrSenderNotAllowed: an authenticated user tried to send as another address.
	ErrSenderNotAllowed = errors.New("sender address not owned by authenticated user")
	// ErrRateLimited: a sending or login rate limit was hit.
	ErrRateLimited = errors.New("rate limit exceeded")
	// ErrTemporary: storage or a dependency failed; the client should retry later.
	ErrTemporary = errors.New("temporary failure")
	// ErrSuppressed: the recipient is on the suppression list after hard bounces.
	ErrSuppressed = errors.New("recipient suppressed after hard bounces")
)

// RejectedError is a message refused by the checks (virus, DMARC reject,
// clamd unavailable). Code and Enhanced are SMTP terms; other frontends show Message.
type RejectedError struct {
	Code      int
	Enhanced  [3]int
	Message   string
	Temporary bool
}

// Error implements error.
func (e *RejectedError) Error() string {
	return fmt.Sprintf("%d %d.%d.%d %s", e.Code, e.Enhanced[0], e.Enhanced[1], e.Enhanced[2], e.Message)
}

// temporary wraps err so that errors.Is(err, ErrTemporary) holds while the cause stays visible to logs.
func temporary(op string, err error) error {
	return fmt.Errorf("%s: %w: %w", op, ErrTemporary, err)
}
