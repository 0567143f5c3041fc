package imap

import (
	"context"
	"errors"

	"github.com/emersion/go-imap/v2"

	"github.com/stamp-mail/stamp/core"
)

// imapErr builds a tagged NO response with a response code (RFC 5530).
func imapErr(code imap.ResponseCode, text string) *imap.Error {
	return &imap.Error{Type: imap.StatusResponseTypeNo, Code: code, Text: text}
}

var (
	errNoSelected  = &imap.Error{Type: imap.StatusResponseTypeBad, Code: imap.ResponseCodeClientBug, Text: "No mailbox selected"}
	errReadOnly    = imapErr(imap.ResponseCodeCannot, "Mailbox is read-only")
	errSameMailbox = imapErr(imap.ResponseCodeCannot, "Source and destination mailboxes are the same")
	errUseAttr     = imapErr(imap.ResponseCode("USEATTR"), "Unsupported special-use attribute")
	errTryCreate   = imapErr(imap.ResponseCodeTryCreate, "No such mailbox")
	errNonExistent = imapErr(imap.ResponseCodeNonExistent, "No such mailbox")
	errServerBug   = imapErr(imap.ResponseCodeServerBug, "Internal server error")
	errUnavailable = imapErr(imap.ResponseCodeUnavailable, "Temporary failure, try again later")
	errTooBig      = imapErr(imap.ResponseCodeTooBig, "Message too big")
	errExists      = imapErr(imap.ResponseCodeAlreadyExists, "Mailbox already exists")
	errCannot      = imapErr(imap.ResponseCodeCannot, "Operation not allowed")
	errInvalid     = imapErr(imap.ResponseCodeCannot, "Invalid argument")
	errRateLimited = imapErr(imap.ResponseCodeLimit, "Rate limit exceeded, try again later")
	errAuthFailed  = imapErr(imap.ResponseCodeAuthenticationFailed, "Authentication failed")
)

// toIMAP maps a handler's result to its tagged response: nil is OK,
// badArgs is BAD (a malformed command, RFC 9051 section 7.1.3), an
// *imap.Error is itself, anything else goes through fail.
func (s *session) toIMAP(err error) *imap.Error {
	if err == nil {
		return nil
	}
	var ba badArgs
	if errors.As(err, &ba) {
		return &imap.Error{Type: imap.StatusResponseTypeBad, Code: imap.ResponseCodeClientBug, Text: sanitize(string(ba))}
	}
	var ie *imap.Error
	if errors.As(s.fail("command", err), &ie) {
		return ie
	}
	return errServerBug
}

// sanitize keeps response text to printable ASCII.
func sanitize(t string) string {
	b := []byte(t)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}

// fail maps a core error to the IMAP reply (RFC 5530 response codes). Unknown
// errors are logged with the connection's attributes and answered with
// NO [SERVERBUG] without internals.
func (s *session) fail(op string, err error) error {
	var ie *imap.Error
	var rej *core.RejectedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ie):
		return err
	case errors.Is(err, core.ErrAuthFailed):
		return errAuthFailed
	case errors.Is(err, core.ErrTemporary), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// Before the kinds below: a temporary failure may wrap one (a
		// storage ErrNotFound inside a login throttle) that is not the
		// client's to hear.
		s.log.Warn("temporary failure", "op", op, "err", err)
		return errUnavailable
	case errors.Is(err, core.ErrNotFound):
		return errNonExistent
	case errors.Is(err, core.ErrExists):
		return errExists
	case errors.Is(err, core.ErrNotAllowed):
		return errCannot
	case errors.Is(err, core.ErrInvalid):
		return errInvalid
	case errors.Is(err, core.ErrTooBig):
		return errTooBig
	case errors.Is(err, core.ErrRateLimited):
		return errRateLimited
	case errors.Is(err, core.ErrOverQuota):
		// RFC 9208 section 4.3: APPEND/COPY/MOVE over the limit.
		s.overQuotaNotice()
		return imapErr(imap.ResponseCodeOverQuota, "Mailbox is over its storage quota")
	case errors.As(err, &rej):
		if rej.Temporary {
			return imapErr(imap.ResponseCodeUnavailable, rej.Message)
		}
		return imapErr(imap.ResponseCodeCannot, rej.Message)
	}
	s.log.Error("command failed", "op", op, "err", err)
	return errServerBug
}

// failDest maps an error about a COPY, MOVE or APPEND destination: a missing
// mailbox is NO [TRYCREATE] (RFC 9051 section 6.3.12).
func (s *session) failDest(op string, err error) error {
	if errors.Is(err, core.ErrNotFound) {
		return errTryCreate
	}
	return s.fail(op, err)
}
