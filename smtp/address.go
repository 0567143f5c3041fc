package smtp

import (
	"unicode/utf8"

	gosmtp "github.com/emersion/go-smtp"
)

// Replies to envelope addresses with bytes no address may hold.
var (
	// errBadSender: RFC 3463 5.1.7, bad sender's mailbox address syntax.
	errBadSender = &gosmtp.SMTPError{Code: 501, EnhancedCode: gosmtp.EnhancedCode{5, 1, 7}, Message: "Bad sender address syntax"}
	// errBadRecipient: RFC 5321 section 4.2.3, 553 mailbox name not allowed;
	// RFC 3463 5.1.3, bad destination mailbox address syntax.
	errBadRecipient = &gosmtp.SMTPError{Code: 553, EnhancedCode: gosmtp.EnhancedCode{5, 1, 3}, Message: "Bad recipient address syntax"}
)

// cleanAddress reports whether an envelope address holds only what RFC 5321
// section 4.1.2 (and RFC 6531 for UTF-8) allows in some form: no NUL or
// other control characters, no DEL, and well-formed UTF-8. Such bytes would
// otherwise end up in the Return-Path field and in logs.
func cleanAddress(a string) bool {
	for i := 0; i < len(a); i++ {
		if c := a[i]; c < 0x20 || c == 0x7f {
			return false
		}
	}
	return utf8.ValidString(a)
}
