package message

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
)

// ErrNotDSN is returned by ParseDSN for a message that is not a
// multipart/report delivery-status notification (RFC 3464).
var ErrNotDSN = errors.New("not a delivery status notification")

// DSNRecipient is the outcome for one recipient (RFC 3464 section 2.3).
type DSNRecipient struct {
	Address        string // final recipient
	Action         string // "failed", "delayed", "delivered", "relayed" or "expanded"
	Status         string // RFC 3463 status code like "5.1.1"
	DiagnosticCode string // e.g. "smtp; 550 5.1.1 no such user"
	RemoteMTA      string // host name of the server that answered, may be empty
	// OriginalRecipient is the ORCPT parameter of RFC 3461 section 4.2
	// ("rfc822;addr"), written as Original-Recipient; may be empty.
	OriginalRecipient string
}

// DSN describes a delivery status notification to build.
type DSN struct {
	ReportingMTA   string // host name of this server; the hostname argument if empty
	OriginalSender string // envelope sender of the original message, the DSN's recipient
	Recipients     []DSNRecipient
	Original       []byte    // the original message; only its header is returned
	Arrival        time.Time // when the original arrived, omitted if zero
	// EnvelopeID is the ENVID parameter of RFC 3461 section 4.4, written as
	// Original-Envelope-Id; may be empty.
	EnvelopeID string
	// ReturnFull returns the whole original (RET=FULL, RFC 3461 section
	// 4.3) as message/rfc822 instead of only its header.
	ReturnFull bool
}

// DSNReport is what ParseDSN reads back from a delivery status notification.
type DSNReport struct {
	ReportingMTA      string
	OriginalMessageID string // Message-ID of the returned header, without brackets
	Recipients        []DSNRecipient
}

// statusRe matches an RFC 3463 status code.
var statusRe = regexp.MustCompile(`^[245]\.[0-9]{1,3}\.[0-9]{1,3}$`)

// BuildDSN builds an RFC 3464 bounce, delay or success notice from MAILER-DAEMON@hostname
// to d.OriginalSender: a multipart/report (RFC 6522) with a human readable
// text part, a message/delivery-status part with the per-message and
// per-recipient fields, and the original header as text/rfc822-headers. It
// is auto-submitted (RFC 3834). An empty OriginalSender is refused: a
// message with a null reverse-path must not be bounced (RFC 5321 section 4.5.5).
func BuildDSN(d DSN, hostname string) ([]byte, error) {
	bad := func(format string, args ...any) ([]byte, error) {
		return nil, fmt.Errorf("%w: dsn: %s", ErrBadComposition, fmt.Sprintf(format, args...))
	}
	if d.OriginalSender == "" {
		return bad("empty original sender: null reverse-path is never bounced")
	}
	if _, err := ParseAddress(d.OriginalSender); err != nil {
		return bad("original sender: %v", err)
	}
	if len(d.Recipients) == 0 {
		return bad("no recipients")
	}
	mta := d.ReportingMTA
	if mta == "" {
		mta = hostname
	}
	if hasCRLF(mta) || hasCRLF(hostname) {
		return bad("line break in host name")
	}
	allDelayed, allSuccess := true, true
	for _, r := range d.Recipients {
		switch r.Action {
		case "delivered", "relayed", "expanded":
			allDelayed = false
		case "failed":
			allDelayed, allSuccess = false, false
		case "delayed":
			allSuccess = false
		default:
			return bad("recipient %q: unknown action %q", r.Address, r.Action)
		}
		if !statusRe.MatchString(r.Status) {
			return bad("recipient %q: bad status %q", r.Address, r.Status)
		}
		if hasCRLF(r.Address) || hasCRLF(r.DiagnosticCode) || hasCRLF(r.RemoteMTA) || hasCRLF(r.OriginalRecipient) || r.Address == "" {
			return bad("recipient %q: bad field", r.Address)
		}
	}

	// Fields are written in reverse order of addition (see Compose).
	var h mail.Header
	h.SetContentType("multipart/report", map[string]string{"report-type": "delivery-status"})
	h.Set("Auto-Submitted", "auto-replied")
	h.SetMessageID(newMessageID(hostname))
	h.SetDate(time.Now())
	subject := "Undelivered Mail Returned to Sender"
	switch {
	case allDelayed:
		subject = "Delayed Mail (still being retried)"
	case allSuccess:
		subject = "Successful Mail Delivery Report"
	}
	h.SetSubject(subject)
	h.SetAddressList("To", []*mail.Address{{Address: d.OriginalSender}})
	h.SetAddressList("From", []*mail.Address{{Name: "Mail Delivery System", Address: "MAILER-DAEMON@" + hostname}})

	var buf bytes.Buffer
	w, err := gomessage.CreateWriter(&buf, h.Header)
	if err != nil {
		return nil, err
	}

	// Human readable part.
	var human strings.Builder
	fmt.Fprintf(&human, "This is the mail system at %s.\r\n\r\n", hostname)
	switch {
	case allDelayed:
		human.WriteString("Your message has not been delivered yet to the recipients below.\r\nDelivery will be retried; no action is needed.\r\n\r\n")
	case allSuccess:
		human.WriteString("Your message was successfully delivered to the recipients below\r\n" +
			"(\"relayed\": handed to a server that sends no further notices;\r\n" +
			"\"expanded\": delivered to an alias or forwarding address).\r\n\r\n")
	default:
		human.WriteString("Your message could not be delivered to one or more recipients.\r\n\r\n")
	}
	for _, r := range d.Recipients {
		fmt.Fprintf(&human, "<%s>: %s (%s)", r.Address, r.Action, r.Status)
		if r.DiagnosticCode != "" {
			fmt.Fprintf(&human, ": %s", r.DiagnosticCode)
		}
		human.WriteString("\r\n")
	}
	var th gomessage.Header
	th.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	th.Set("Content-Description", "Notification")
	th.Set("Content-Transfer-Encoding", "quoted-printable")
	if err := writePart(w, th, human.String()); err != nil {
		return nil, err
	}

	// message/delivery-status (RFC 3464 sections 2.2 and 2.3).
	var ds strings.Builder
	if d.EnvelopeID != "" && !hasCRLF(d.EnvelopeID) {
		fmt.Fprintf(&ds, "Original-Envelope-Id: %s\r\n", d.EnvelopeID)
	}
	fmt.Fprintf(&ds, "Reporting-MTA: dns; %s\r\n", mta)
	if !d.Arrival.IsZero() {
		fmt.Fprintf(&ds, "Arrival-Date: %s\r\n", d.Arrival.Format(time.RFC1123Z))
	}
	for _, r := range d.Recipients {
		ds.WriteString("\r\n")
		typ := "rfc822"
		if !isASCII(r.Address) {
			typ = "utf-8"
		}
		if r.OriginalRecipient != "" {
			fmt.Fprintf(&ds, "Original-Recipient: %s\r\n", r.OriginalRecipient)
		}
		fmt.Fprintf(&ds, "Final-Recipient: %s; %s\r\n", typ, r.Address)
		fmt.Fprintf(&ds, "Action: %s\r\n", r.Action)
		fmt.Fprintf(&ds, "Status: %s\r\n", r.Status)
		if r.RemoteMTA != "" {
			fmt.Fprintf(&ds, "Remote-MTA: dns; %s\r\n", r.RemoteMTA)
		}
		if r.DiagnosticCode != "" {
			fmt.Fprintf(&ds, "Diagnostic-Code: %s\r\n", r.DiagnosticCode)
		}
	}
	var dh gomessage.Header
	dh.SetContentType("message/delivery-status", nil)
	dh.Set("Content-Description", "Delivery report")
	if err := writePart(w, dh, ds.String()); err != nil {
		return nil, err
	}

	if len(d.Original) > 0 && d.ReturnFull {
		// The whole original (RET=FULL): message/rfc822.
		var oh gomessage.Header
		oh.SetContentType("message/rfc822", nil)
		oh.Set("Content-Description", "Undelivered message")
		if !isASCII(string(d.Original)) {
			oh.Set("Content-Transfer-Encoding", "8bit")
		}
		if err := writePart(w, oh, string(d.Original)); err != nil {
			return nil, err
		}
	} else if len(d.Original) > 0 {
		// The returned header (RFC 6522 text/rfc822-headers).
		orig := Parse(d.Original)
		hdr := d.Original[:orig.HeaderSize]
		hdr = bytes.ReplaceAll(bytes.ReplaceAll(hdr, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
		hdr = bytes.TrimRight(hdr, "\r\n")
		var oh gomessage.Header
		oh.SetContentType("text/rfc822-headers", nil)
		oh.Set("Content-Description", "Undelivered message header")
		if !isASCII(string(hdr)) {
			oh.Set("Content-Transfer-Encoding", "8bit")
		}
		if err := writePart(w, oh, string(hdr)+"\r\n"); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writePart adds one part with body s to the multipart writer w.
func writePart(w *gomessage.Writer, h gomessage.Header, s string) error {
	pw, err := w.CreatePart(h)
	if err != nil {
		return err
	}
	return writeClose(pw, s)
}

// isASCII reports whether s is 7-bit.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// ParseDSN reads a multipart/report; report-type=delivery-status message
// (RFC 3464, found at the top or nested one level in a multipart) and returns
// its recipients with their actions and status codes. It returns ErrNotDSN
// if raw holds no message/delivery-status part.
func ParseDSN(raw []byte) (*DSNReport, error) {
	p := Parse(raw)
	var report *Part
	var find func(part *Part, depth int)
	find = func(part *Part, depth int) {
		if report != nil || depth > 3 {
			return
		}
		if part.ContentType == "multipart/report" {
			for _, c := range part.Children {
				if c.ContentType == "message/delivery-status" || c.ContentType == "message/global-delivery-status" {
					report = c
					return
				}
			}
		}
		if strings.HasPrefix(part.ContentType, "multipart/") {
			for _, c := range part.Children {
				find(c, depth+1)
			}
		}
	}
	find(p.Root, 0)
	if report == nil {
		return nil, ErrNotDSN
	}
	body, err := DecodePart(raw, report)
	if err != nil {
		return nil, fmt.Errorf("delivery-status part: %w", err)
	}
	out := &DSNReport{}
	// Groups of fields separated by blank lines: per-message first.
	body = bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n"))
	blocks := strings.Split(string(body), "\n\n")
	for i, b := range blocks {
		b = strings.TrimSpace(b)
		if b == "" {
			continue
		}
		h, _ := scanHeader([]byte(b+"\n"), 0, len(b)+1)
		if i == 0 && !h.has("Final-Recipient") && !h.has("Original-Recipient") {
			out.ReportingMTA = afterType(h.get("Reporting-MTA"))
			continue
		}
		addr := afterType(h.get("Final-Recipient"))
		if addr == "" {
			addr = afterType(h.get("Original-Recipient"))
		}
		if addr == "" {
			continue
		}
		status := strings.TrimSpace(h.get("Status"))
		if f := strings.Fields(status); len(f) > 0 {
			status = f[0]
		}
		out.Recipients = append(out.Recipients, DSNRecipient{
			Address:        strings.Trim(addr, "<>"),
			Action:         strings.ToLower(strings.TrimSpace(h.get("Action"))),
			Status:         status,
			DiagnosticCode: h.get("Diagnostic-Code"),
			RemoteMTA:      afterType(h.get("Remote-MTA")),
		})
	}
	for _, c := range p.Root.Children {
		if c.ContentType == "text/rfc822-headers" || c.ContentType == "message/rfc822" {
			data, _ := DecodePart(raw, c)
			hh, _ := scanHeader(data, 0, len(data))
			if ids := msgIDs(hh.get("Message-Id")); len(ids) > 0 {
				out.OriginalMessageID = ids[0]
			}
		}
	}
	if len(out.Recipients) == 0 {
		return out, fmt.Errorf("%w: no recipient fields", ErrNotDSN)
	}
	return out, nil
}

// afterType strips the "type;" prefix of a DSN field like "rfc822; a@b".
func afterType(v string) string {
	if _, after, ok := strings.Cut(v, ";"); ok {
		return strings.TrimSpace(after)
	}
	return strings.TrimSpace(v)
}
