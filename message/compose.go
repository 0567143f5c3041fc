package message

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-message/mail"
)

// ErrBadComposition is wrapped by Compose and BuildDSN errors about their input.
var ErrBadComposition = errors.New("invalid composition")

// ComposeAttachment is a file attached by Compose.
type ComposeAttachment struct {
	Filename    string
	ContentType string // "application/octet-stream" if empty
	Data        []byte
}

// Composition is a message to be built by Compose.
type Composition struct {
	From        Address
	To, Cc, Bcc []Address // Bcc is never written to the message
	Subject     string
	Text, HTML  string
	InReplyTo   string   // message id without angle brackets
	References  []string // message ids without angle brackets
	Attachments []ComposeAttachment
	Date        time.Time         // now if zero
	MessageID   string            // without angle brackets; generated if empty
	Headers     map[string]string // extra header fields
}

// reservedHeaders may not be set through Composition.Headers.
var reservedHeaders = map[string]bool{
	"from": true, "to": true, "cc": true, "bcc": true, "subject": true, "date": true,
	"message-id": true, "in-reply-to": true, "references": true, "mime-version": true,
	"content-type": true, "content-transfer-encoding": true, "content-disposition": true,
}

// newMessageID returns "random@hostname" (RFC 5322 section 3.6.4).
func newMessageID(hostname string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	if hostname == "" {
		hostname = "localhost"
	}
	return hex.EncodeToString(b[:]) + "@" + hostname
}

// hasCRLF reports whether s would break out of a header field.
func hasCRLF(s string) bool { return strings.ContainsAny(s, "\r\n") }

// mailAddrs converts and validates addresses for the writer.
func mailAddrs(field string, as []Address) ([]*mail.Address, error) {
	out := make([]*mail.Address, 0, len(as))
	for _, a := range as {
		if _, err := ParseAddress(a.Address); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrBadComposition, field, err)
		}
		if hasCRLF(a.Name) {
			return nil, fmt.Errorf("%w: %s: line break in name", ErrBadComposition, field)
		}
		out = append(out, &mail.Address{Name: a.Name, Address: a.Address})
	}
	return out, nil
}

// Compose builds an RFC 5322 message with MIME (RFC 2045-2049) using CRLF
// line endings: text and HTML become multipart/alternative, attachments make
// it multipart/mixed (base64), non-ASCII subjects and names are RFC 2047
// encoded, text is quoted-printable UTF-8. A Message-ID is generated on
// hostname when empty and Date defaults to now. Bcc is not written. The
// message ends with CRLF (a single-part body gains a final line break).
func Compose(c Composition, hostname string) ([]byte, error) {
	// go-message writes fields in the reverse order of addition: add the
	// extra fields first and From last so that From, To, ... come on top.
	var h mail.Header
	keys := make([]string, 0, len(c.Headers))
	for k := range c.Headers {
		keys = append(keys, k)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(keys)))
	for _, k := range keys {
		v := c.Headers[k]
		if reservedHeaders[strings.ToLower(k)] {
			return nil, fmt.Errorf("%w: header %q is set by Compose", ErrBadComposition, k)
		}
		if k == "" || hasCRLF(k) || strings.ContainsAny(k, ": \t") || hasCRLF(v) {
			return nil, fmt.Errorf("%w: bad extra header %q", ErrBadComposition, k)
		}
		h.SetText(k, v)
	}
	var refs []string
	for _, r := range c.References {
		if hasCRLF(r) {
			return nil, fmt.Errorf("%w: line break in References", ErrBadComposition)
		}
		if r = strings.Trim(strings.TrimSpace(r), "<>"); r != "" {
			refs = append(refs, r)
		}
	}
	h.SetMsgIDList("References", refs)
	if hasCRLF(c.Subject) || hasCRLF(c.InReplyTo) || hasCRLF(c.MessageID) {
		return nil, fmt.Errorf("%w: line break in a header value", ErrBadComposition)
	}
	if c.InReplyTo != "" {
		h.SetMsgIDList("In-Reply-To", []string{strings.Trim(c.InReplyTo, "<>")})
	}
	id := strings.Trim(c.MessageID, "<>")
	if id == "" {
		id = newMessageID(hostname)
	}
	h.SetMessageID(id)
	date := c.Date
	if date.IsZero() {
		date = time.Now()
	}
	h.SetDate(date)
	h.SetSubject(c.Subject)
	for _, f := range []struct {
		name  string
		addrs []Address
	}{{"Bcc", c.Bcc}, {"Cc", c.Cc}, {"To", c.To}} {
		as, err := mailAddrs(f.name, f.addrs)
		if err != nil {
			return nil, err
		}
		if f.name != "Bcc" {
			h.SetAddressList(f.name, as)
		}
	}
	from, err := mailAddrs("From", []Address{c.From})
	if err != nil {
		return nil, err
	}
	h.SetAddressList("From", from)

	var buf bytes.Buffer
	text, html := c.Text, c.HTML
	if len(c.Attachments) == 0 {
		if html == "" || text == "" {
			ct, body := "text/plain", text
			if text == "" && html != "" {
				ct, body = "text/html", html
			}
			h.SetContentType(ct, map[string]string{"charset": "utf-8"})
			h.Set("Content-Transfer-Encoding", "quoted-printable")
			w, err := mail.CreateSingleInlineWriter(&buf, h)
			if err != nil {
				return nil, err
			}
			if err := writeClose(w, body); err != nil {
				return nil, err
			}
			// End with CRLF, as SMTP DATA needs (RFC 5321 section 4.1.1.4).
			if !bytes.HasSuffix(buf.Bytes(), []byte("\r\n")) {
				buf.WriteString("\r\n")
			}
			return buf.Bytes(), nil
		}
		iw, err := mail.CreateInlineWriter(&buf, h)
		if err != nil {
			return nil, err
		}
		if err := writeAlternative(iw, text, html); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	mw, err := mail.CreateWriter(&buf, h)
	if err != nil {
		return nil, err
	}
	if text != "" || html != "" {
		iw, err := mw.CreateInline()
		if err != nil {
			return nil, err
		}
		if err := writeAlternative(iw, text, html); err != nil {
			return nil, err
		}
	}
	for _, a := range c.Attachments {
		var ah mail.AttachmentHeader
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		if hasCRLF(ct) || hasCRLF(a.Filename) {
			return nil, fmt.Errorf("%w: line break in attachment header", ErrBadComposition)
		}
		ah.Set("Content-Type", ct)
		if a.Filename != "" {
			ah.SetFilename(a.Filename)
		}
		w, err := mw.CreateAttachment(ah)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(a.Data); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeAlternative writes the text and HTML parts present into iw and closes it.
func writeAlternative(iw *mail.InlineWriter, text, html string) error {
	for _, p := range []struct{ ct, body string }{{"text/plain", text}, {"text/html", html}} {
		if p.body == "" {
			continue
		}
		var ih mail.InlineHeader
		ih.SetContentType(p.ct, map[string]string{"charset": "utf-8"})
		w, err := iw.CreatePart(ih)
		if err != nil {
			return err
		}
		if err := writeClose(w, p.body); err != nil {
			return err
		}
	}
	return iw.Close()
}

// writeClose writes s to w and closes it.
func writeClose(w io.WriteCloser, s string) error {
	if _, err := io.WriteString(w, s); err != nil {
		return err
	}
	return w.Close()
}
