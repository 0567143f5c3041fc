package imap

import (
	"strings"

	"github.com/emersion/go-imap/v2"
)

// QUOTA (RFC 9208). Each user has one quota root, named quotaRoot, that
// covers all its mailboxes: the STORAGE resource is core's per-user
// storage limit (core.Service.Quota) in units of 1024 octets. Stamp has no
// limit on the number of messages, so the MESSAGE resource is not offered
// (RFC 9208 section 5: only resources with a limit are listed), and a
// user without a storage limit has no quota root at all. Users cannot set
// their own limits: SETQUOTA answers NO (no QUOTASET capability); the
// operator sets them with "stamp user quota".

// quotaRoot is the name of every user's single quota root.
const quotaRoot = ""

// quotaCaps are the capabilities of this file (RFC 9208 sections 3.1, 5.1).
const quotaCaps = "QUOTA QUOTA=RES-STORAGE"

// kib rounds a byte count up to the 1024-octet units of STORAGE.
func kib(n int64) uint64 {
	if n <= 0 {
		return 0
	}
	return uint64((n + 1023) / 1024)
}

// writeQuotaLocked writes "* QUOTA root (STORAGE used limit)" when the
// user has a storage limit (lock held). It reports whether it wrote one.
func (s *session) writeQuotaLocked(used, limit int64) bool {
	if limit <= 0 {
		return false
	}
	w := s.w
	w.raw("* QUOTA ")
	w.str(quotaRoot)
	w.raw(" (STORAGE ")
	w.num64(kib(used))
	w.sp()
	w.num64(kib(limit))
	w.raw(")\r\n")
	return true
}

// cmdGetQuotaRoot: GETQUOTAROOT mailbox (RFC 9208 section 4.3).
func cmdGetQuotaRoot(s *session, c *command, p *parser) error {
	name := p.mailbox()
	if p.end(); p.err != nil {
		return p.err
	}
	svc := s.srv.opts.Core
	mb, err := svc.GetMailboxByName(s.ctx, s.user.ID, name)
	if err != nil {
		return s.fail("getquotaroot", err)
	}
	used, limit, _, err := svc.Quota(s.ctx, s.user.ID)
	if err != nil {
		return s.fail("getquotaroot", err)
	}
	w := s.w
	w.lock()
	defer w.unlock()
	w.raw("* QUOTAROOT ")
	w.mailbox(mb.Name)
	if limit > 0 {
		w.sp()
		w.str(quotaRoot)
	}
	w.crlf()
	s.writeQuotaLocked(used, limit)
	return nil
}

// cmdGetQuota: GETQUOTA root (RFC 9208 section 4.2).
func cmdGetQuota(s *session, c *command, p *parser) error {
	root := p.astring()
	if p.end(); p.err != nil {
		return p.err
	}
	used, limit, _, err := s.srv.opts.Core.Quota(s.ctx, s.user.ID)
	if err != nil {
		return s.fail("getquota", err)
	}
	if root != quotaRoot || limit <= 0 {
		return imapErr(imap.ResponseCodeNonExistent, "No such quota root")
	}
	s.w.lock()
	s.writeQuotaLocked(used, limit)
	s.w.unlock()
	return nil
}

// cmdSetQuota: SETQUOTA (RFC 9208 section 4.1) is the operator's: the
// arguments are checked, then refused.
func cmdSetQuota(s *session, c *command, p *parser) error {
	p.setQuotaArgs()
	if p.end(); p.err != nil {
		return p.err
	}
	return imapErr(imap.ResponseCodeNoPerm, "Quotas are set by the server's operator")
}

// overQuotaNotice sends the untagged QUOTA response before a NO [OVERQUOTA]
// (RFC 9208 section 4.3: the server may tell the client its usage).
func (s *session) overQuotaNotice() {
	used, limit, _, err := s.srv.opts.Core.Quota(s.ctx, s.user.ID)
	if err != nil || s.user.ID == 0 {
		return
	}
	s.w.lock()
	s.writeQuotaLocked(used, limit)
	s.w.unlock()
}

// setQuotaArgs reads SETQUOTA's quota root and "(" resource limit ... ")".
func (p *parser) setQuotaArgs() (root string, limits map[string]uint64) {
	root = p.astring()
	p.sp()
	limits = map[string]uint64{}
	p.list(true, func() {
		name := strings.ToUpper(p.atom())
		p.sp()
		limits[name] = p.number64()
	})
	return root, limits
}
