package mailfile

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// imapFetchBatch is how many messages one FETCH asks for.
const imapFetchBatch = 50

// IMAPSource is another IMAP server to migrate from: imaps://user@host[:993]
// (implicit TLS, RFC 8314) or imap://user@host[:143] (STARTTLS, RFC 3501
// section 6.2.1; never plaintext).
type IMAPSource struct {
	URL      string
	Password string
	// TLS is the client TLS configuration; nil verifies the server against
	// the system roots.
	TLS *tls.Config
}

// IMAPMessage is a message read from an IMAP server: the message and the
// special-use role of its folder ("sent", "junk"...; "" for none).
type IMAPMessage struct {
	Message
	Role string
}

// roles maps RFC 6154 attributes to Stamp's role names.
var roles = map[imap.MailboxAttr]string{
	imap.MailboxAttrSent: "sent", imap.MailboxAttrDrafts: "drafts", imap.MailboxAttrJunk: "junk",
	imap.MailboxAttrTrash: "trash", imap.MailboxAttrArchive: "archive",
}

// Read logs in and calls fn for every message of every selectable folder,
// with its flags and internal date, using only IMAP4rev1/rev2 commands
// (LIST, EXAMINE, FETCH FLAGS INTERNALDATE BODY.PEEK[]), so any server works.
func (src IMAPSource) Read(fn func(IMAPMessage) error) error {
	u, err := url.Parse(src.URL)
	if err != nil {
		return fmt.Errorf("imap source: %w", err)
	}
	if u.User == nil || u.User.Username() == "" {
		return fmt.Errorf("imap source %s: the user name is missing (imaps://user@host)", src.URL)
	}
	host := u.Host
	tc := src.TLS
	if tc == nil {
		tc = &tls.Config{}
	}
	if tc.ServerName == "" {
		tc = tc.Clone()
		tc.ServerName = u.Hostname()
	}
	var c *imapclient.Client
	switch u.Scheme {
	case "imaps":
		if u.Port() == "" {
			host = net.JoinHostPort(u.Hostname(), "993")
		}
		c, err = imapclient.DialTLS(host, &imapclient.Options{TLSConfig: tc})
	case "imap":
		if u.Port() == "" {
			host = net.JoinHostPort(u.Hostname(), "143")
		}
		c, err = imapclient.DialStartTLS(host, &imapclient.Options{TLSConfig: tc})
	default:
		return fmt.Errorf("imap source %s: the scheme must be imaps:// or imap:// (STARTTLS)", src.URL)
	}
	if err != nil {
		return fmt.Errorf("imap source: connect to %s: %w", host, err)
	}
	defer c.Close()
	if err := c.Login(u.User.Username(), src.Password).Wait(); err != nil {
		return fmt.Errorf("imap source: login as %s: %w", u.User.Username(), err)
	}
	list, err := c.List("", "*", nil).Collect()
	if err != nil {
		return fmt.Errorf("imap source: LIST: %w", err)
	}
	for _, mb := range list {
		if hasAttr(mb.Attrs, imap.MailboxAttrNoSelect) || hasAttr(mb.Attrs, imap.MailboxAttrNonExistent) {
			continue
		}
		name := mb.Mailbox
		if mb.Delim != 0 && mb.Delim != '/' {
			name = strings.ReplaceAll(name, string(mb.Delim), "/")
		}
		role := ""
		if strings.EqualFold(mb.Mailbox, "INBOX") {
			name, role = "INBOX", "inbox"
		}
		for _, a := range mb.Attrs {
			for k, r := range roles {
				if strings.EqualFold(string(k), string(a)) {
					role = r
				}
			}
		}
		sel, err := c.Select(mb.Mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
		if err != nil {
			return fmt.Errorf("imap source: EXAMINE %s: %w", mb.Mailbox, err)
		}
		for first := uint32(1); first <= sel.NumMessages; first += imapFetchBatch {
			var set imap.SeqSet
			set.AddRange(first, min(first+imapFetchBatch-1, sel.NumMessages))
			msgs, err := c.Fetch(set, &imap.FetchOptions{Flags: true, InternalDate: true,
				BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
			if err != nil {
				return fmt.Errorf("imap source: FETCH in %s: %w", mb.Mailbox, err)
			}
			for _, m := range msgs {
				var raw []byte
				for _, b := range m.BodySection {
					raw = b.Bytes
				}
				var flags []string
				for _, f := range m.Flags {
					flags = append(flags, string(f))
				}
				if err := fn(IMAPMessage{Message: Message{Folder: name, Raw: raw, Flags: flags, Date: m.InternalDate}, Role: role}); err != nil {
					return err
				}
			}
		}
	}
	return c.Logout().Wait()
}

func hasAttr(attrs []imap.MailboxAttr, a imap.MailboxAttr) bool {
	for _, x := range attrs {
		if strings.EqualFold(string(x), string(a)) {
			return true
		}
	}
	return false
}
