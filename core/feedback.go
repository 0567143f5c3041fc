package core

import (
	"bufio"
	"bytes"
	"context"
	"net/textproto"
	"strings"

	"github.com/stamp-mail/stamp/message"
)

// noteFeedback reads delivery reports that come back to local users and
// keeps the suppression lists of their domains: a DSN (RFC 3464) with a
// permanent failure (5.x.x) or an ARF complaint (RFC 5965) puts the
// recipient on the suppression list of the local user's domain, so Submit
// refuses to send there again until an operator removes it.
func (s *Service) noteFeedback(ctx context.Context, p *message.Parsed, raw []byte, users []User) {
	if p.Root == nil || len(users) == 0 {
		return
	}
	root := p.Root
	if len(root.Children) == 1 && root.ContentType != "multipart/report" {
		root = root.Children[0]
	}
	if root.ContentType != "multipart/report" {
		return
	}
	var bad []string
	why := ""
	switch strings.ToLower(root.Params["report-type"]) {
	case "delivery-status":
		rep, err := message.ParseDSN(raw)
		if err != nil {
			s.log.Info("unreadable delivery status notification", "err", err)
			return
		}
		for _, r := range rep.Recipients {
			if strings.HasPrefix(r.Status, "5.") {
				bad = append(bad, r.Address)
				why = "bounce " + r.Status + " " + r.DiagnosticCode
			}
		}
	case "feedback-report":
		for _, c := range root.Children {
			if c.ContentType != "message/feedback-report" {
				continue
			}
			body, err := message.DecodePart(raw, c)
			if err != nil {
				return
			}
			h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(bytes.TrimLeft(body, "\r\n"), "\r\n\r\n"...)))).ReadMIMEHeader()
			if err != nil && len(h) == 0 {
				return
			}
			for _, v := range h.Values("Original-Rcpt-To") {
				bad = append(bad, strings.Trim(strings.TrimSpace(v), "<>"))
			}
			why = "complaint " + h.Get("Feedback-Type")
		}
	}
	for _, u := range users {
		for _, addr := range bad {
			addr = strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(addr, "rfc822;"), "RFC822;"))
			addr = strings.TrimSpace(addr)
			if addr == "" || !strings.Contains(addr, "@") {
				continue
			}
			s.suppress(ctx, domainOf(u.Address), addr, why)
			s.log.Info("recipient suppressed", "domain", domainOf(u.Address), "rcpt", addr, "reason", why)
		}
	}
}
