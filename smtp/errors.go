package smtp

import (
	"context"
	"errors"
	"log/slog"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/stamp-mail/stamp/core"
)

// Replies of this frontend that do not come from a core error.
var (
	// errAuthRequired: MAIL on the submission port before AUTH (RFC 4954 section 6).
	errAuthRequired = &gosmtp.SMTPError{Code: 530, EnhancedCode: gosmtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	// errEncryptionRequired: AUTH before STARTTLS (RFC 4954 section 4, RFC 3207 section 4).
	errEncryptionRequired = &gosmtp.SMTPError{Code: 538, EnhancedCode: gosmtp.EnhancedCode{5, 7, 11}, Message: "Encryption required for requested authentication mechanism"}
	// errRequireTLSNoTLS: MAIL FROM ... REQUIRETLS outside TLS (RFC 8689
	// section 4.1: the option is only valid once STARTTLS was negotiated).
	errRequireTLSNoTLS = &gosmtp.SMTPError{Code: 530, EnhancedCode: gosmtp.EnhancedCode{5, 7, 10}, Message: "REQUIRETLS needs a TLS session: say STARTTLS first"}
	// errRateLimited: the per-IP message rate was exceeded.
	errRateLimited = &gosmtp.SMTPError{Code: 450, EnhancedCode: gosmtp.EnhancedCode{4, 7, 1}, Message: "Too many messages from your address, try again later"}
	// errTempAuth: the account store failed during AUTH (RFC 4954 section 6, 454 4.7.0).
	errTempAuth = &gosmtp.SMTPError{Code: 454, EnhancedCode: gosmtp.EnhancedCode{4, 7, 0}, Message: "Temporary authentication failure"}
	// errLineTooLong: a DATA line longer than go-smtp's MaxLineLength (twice
	// the 1000 octets of RFC 5321 section 4.5.3.1.6).
	errLineTooLong = &gosmtp.SMTPError{Code: 554, EnhancedCode: gosmtp.EnhancedCode{5, 6, 0}, Message: "Message line too long"}
	// errInternal answers unknown errors without internals.
	errInternal = &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "Local error in processing, try again later"}
)

// stage names the command an error is answered to; a few core errors map
// differently at RCPT and at DATA.
type stage int

const (
	stageMail stage = iota
	stageRcpt
	stageData
	stageAuth
)

// reply maps an error from core (or from reading the message) to the SMTP
// reply sent to the client; unknown errors are logged with the session's
// attributes and answered 451 4.3.0.
func reply(log *slog.Logger, st stage, err error) *gosmtp.SMTPError {
	var se *gosmtp.SMTPError
	var rej *core.RejectedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return se
	case errors.As(err, &rej):
		return &gosmtp.SMTPError{Code: rej.Code, EnhancedCode: gosmtp.EnhancedCode(rej.Enhanced), Message: rej.Message}
	case errors.Is(err, core.ErrAuthFailed):
		return gosmtp.ErrAuthFailed // 535 5.7.8
	case errors.Is(err, core.ErrNoSuchUser):
		return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
	case errors.Is(err, core.ErrSuppressed):
		return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "Recipient suppressed after earlier hard bounces"}
	case errors.Is(err, core.ErrRelayDenied):
		// RFC 5321 section 3.6.2: no open relay.
		return &gosmtp.SMTPError{Code: 554, EnhancedCode: gosmtp.EnhancedCode{5, 7, 1}, Message: "Relay access denied"}
	case errors.Is(err, core.ErrSenderNotAllowed):
		return &gosmtp.SMTPError{Code: 553, EnhancedCode: gosmtp.EnhancedCode{5, 7, 1}, Message: "Sender address not owned by you"}
	case errors.Is(err, core.ErrOverQuota):
		// RFC 3463 X.2.2 mailbox full: temporary at RCPT (already full), permanent at DATA (this message does not fit).
		if st == stageRcpt {
			return &gosmtp.SMTPError{Code: 452, EnhancedCode: gosmtp.EnhancedCode{4, 2, 2}, Message: "Mailbox full, try again later"}
		}
		return &gosmtp.SMTPError{Code: 552, EnhancedCode: gosmtp.EnhancedCode{5, 2, 2}, Message: "Mailbox full: message exceeds the recipient's storage quota"}
	case errors.Is(err, core.ErrTooBig):
		return gosmtp.ErrDataTooLarge // 552 5.3.4
	case errors.Is(err, core.ErrRateLimited):
		if st == stageAuth {
			// RFC 4954 section 6: 454 4.7.0, temporary authentication failure.
			return &gosmtp.SMTPError{Code: 454, EnhancedCode: gosmtp.EnhancedCode{4, 7, 0}, Message: "Too many login attempts, try again later"}
		}
		if st == stageRcpt {
			return &gosmtp.SMTPError{Code: 452, EnhancedCode: gosmtp.EnhancedCode{4, 5, 3}, Message: "Too many recipients"}
		}
		return &gosmtp.SMTPError{Code: 450, EnhancedCode: gosmtp.EnhancedCode{4, 7, 1}, Message: "Sending rate limit exceeded, try again later"}
	case errors.Is(err, core.ErrInvalid):
		if st == stageData {
			return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 6, 0}, Message: "Message refused: malformed or missing headers"}
		}
		return &gosmtp.SMTPError{Code: 501, EnhancedCode: gosmtp.EnhancedCode{5, 1, 3}, Message: "Bad address syntax"}
	case errors.Is(err, core.ErrTemporary):
		log.Warn("temporary failure", "err", err)
		if st == stageAuth {
			return errTempAuth
		}
		return &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "Temporary local problem, try again later"}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return errInternal
	}
	log.Error("unexpected error", "err", err)
	if st == stageAuth {
		return errTempAuth
	}
	return errInternal
}
