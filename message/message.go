// Package message is the one place that parses MIME (RFC 5322, RFC 2045-2049,
// RFC 2047 encoded words, RFC 2231 parameters, non-UTF-8 charsets). It
// extracts what Stamp indexes and shows: addresses, subject, threading
// headers, text for search, a snippet, attachments, and the byte ranges of
// each MIME part (numbered as IMAP sections, RFC 3501 section 6.4.5) so that
// attachment bodies can be stored as blobs of their own (Segments).
//
// Parsing never fails: malformed input yields a Parsed with what could be
// read and Malformed set, so the message is still stored and listed. The
// part tree comes from this package's own byte-offset scanner (go-message's
// reader does not report offsets); go-message supplies charsets and the
// writer used by Compose (RFC 5322/MIME) and BuildDSN (RFC 3464 delivery
// status notifications in an RFC 6522 multipart/report). ParseAddress checks
// addresses against RFC 5321 section 4.5.3.1 limits.
package message

import "time"

// Address is a parsed mailbox address.
type Address struct {
	Name    string
	Address string
}

// Part is one MIME entity with its byte offsets in the raw message.
type Part struct {
	Path        string // "" for the root, then "1", "1.2", ... (IMAP section numbering)
	ContentType string // lower-case type/subtype, "text/plain" by default
	Params      map[string]string
	Disposition string // lower case: "inline", "attachment" or ""
	Filename    string // decoded
	Encoding    string // lower-case Content-Transfer-Encoding
	HeaderStart int64  // offset of the part's header
	BodyStart   int64  // offset of the part's body (after the blank line)
	BodyEnd     int64  // offset just past the body
	Children    []*Part
	Lines       int64  // lines in the body (IMAP BODYSTRUCTURE size in lines)
	ContentID   string // Content-ID without angle brackets
	Description string // decoded Content-Description
	// Message is set for a message/rfc822 (or message/global) part whose body
	// is not transfer-encoded: the root of the embedded message, with Path
	// equal to this part's and HeaderStart == BodyStart of this part. Its
	// Children are this part's Children.
	Message *Part

	header header // raw fields, for readers inside this package
}

// Attachment is a leaf part shown as an attachment.
type Attachment struct {
	Part        *Part
	Filename    string
	ContentType string
	Size        int64  // decoded size
	Hash        string // SHA-256 (hex) of the decoded content
}

// Parsed is what Parse extracts from a message.
type Parsed struct {
	HeaderSize  int64 // bytes of the top-level header including the blank line
	Subject     string
	From        []Address
	Sender      []Address
	ReplyTo     []Address
	To          []Address
	Cc          []Address
	Bcc         []Address
	Date        time.Time // zero if absent or unparsable
	MessageID   string    // without angle brackets
	InReplyTo   []string
	References  []string
	Text        string // plain text of the body for search (from text/plain, else stripped text/html), bounded
	HTML        string // first text/html part decoded to UTF-8, "" if none
	Snippet     string // first ~200 characters of Text, whitespace collapsed
	Root        *Part
	Attachments []Attachment
	Malformed   error // non-nil if part of the message could not be parsed
}
