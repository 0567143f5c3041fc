// Package mailfile reads and writes the mail files people carry between
// servers: mbox (mboxrd and mboxo quoting, RFC 4155), Maildir with Maildir++
// folders (flags from the ":2," info of file names), and folders of .eml
// files. It is pure format code: core's import and export call it.
//
// Line endings. Mail files on disk use LF; messages inside Stamp (as on the
// wire, RFC 5322 section 2.1 and RFC 9051 section 2.3.4) use CRLF. Readers
// turn bare LFs into CRLF (a CRLF already there stays as it is); writers
// turn CRLF back into LF. A file with LF line endings therefore comes back
// byte for byte.
package mailfile

import (
	"bytes"
	"time"
)

// Message is one message read from or written to a mail file.
type Message struct {
	// Folder is the Stamp mailbox name ("INBOX", "Sent", "Lists/go"); ""
	// means INBOX.
	Folder string
	// Raw is the message with CRLF line endings.
	Raw []byte
	// Flags are IMAP system flags and keywords.
	Flags []string
	// Date is the internal date (delivery time); zero if unknown.
	Date time.Time
	// Sender is the envelope sender of an mbox "From " line, if any.
	Sender string
}

// System flags, as core names them.
const (
	FlagSeen     = `\Seen`
	FlagAnswered = `\Answered`
	FlagFlagged  = `\Flagged`
	FlagDeleted  = `\Deleted`
	FlagDraft    = `\Draft`
)

// ToCRLF returns b with every bare LF made CRLF. b is returned itself when
// there is nothing to change.
func ToCRLF(b []byte) []byte {
	n := 0
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			n++
		}
	}
	if n == 0 {
		return b
	}
	out := make([]byte, 0, len(b)+n)
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

// ToLF returns b with every CRLF made LF.
func ToLF(b []byte) []byte {
	if !bytes.Contains(b, []byte("\r\n")) {
		return b
	}
	return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
}
