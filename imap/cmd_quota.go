package imap

import (
	"strings"

	"github.com/emersion/go-imap/v2"
)

// QUOTA (RFC 9208). Each user has one quota root, named quotaRoot, that
// covers all its mailboxes, with two resources: STORAGE, core's per-user
// storage limit in units of 1024 octets (core.Service.Quota), and MESSAGE,
// the server's limit on the number of messages (core.Service.MessageLimit).
// Only resources with a limit are listed (RFC 9208 section 5), so a user
// with neither has no quota root at all. Users cannot set their own
// limits: SETQUOTA answers NO [NOPERM] (no QUOTASET capability); the
// operator sets them with "stamp user quota" and limits.quota_messages.

// quotaRoot is the name of every user's single quota root.
const quotaRoot = ""

// quotaCaps are the capabilities of this file (RFC 9208 sections 3.1, 5.1).
const quotaCaps = "QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE"

// kib rounds a byte count up to the 1024-octet units of STORAGE.
func kib(n int64) uint64 {
	if n <= 0 {
		return 0
	}
	return uint64((n + 1023) / 1024)
}

// quotaUsage is a user's usage and limits (0: none).
type quotaUsage struct{ bytes, byteLimit, msgs, msgLimit int64 }

func (q quotaUsage) limited() bool { return q.byteLimit > 0 || q.msgLimit > 0 }

func (s *session) quotaUsage() (quotaUsage, error) {
	svc := s.srv.opts.Core
	used, limit, msgs, err := svc.Quota(s.ctx, s.user.ID)
	return quotaUsage{used, limit, msgs, svc.MessageLimit()}, err
}

// writeQuotaLocked writes "* QUOTA root (STORAGE used limit MESSAGE n
// limit)" with the resources that have a limit (lock held).
func (s *session) writeQuotaLocked(q quotaUsage) {
	if !q.limited() {
		return
	}
	w := s.w
	w.raw("* QUOTA ")
	w.str(quotaRoot)
	w.raw(" (")
	if q.byteLimit > 0 {
		w.raw("STORAGE ")
		w.num64(kib(q.bytes))
		w.sp()
		w.num64(kib(q.byteLimit))
	}
	if q.msgLimit > 0 {
		if q.byteLimit > 0 {
			w.sp()
		}
		w.raw("MESSAGE ")
		w.num64(uint64(max(q.msgs, 0)))
		w.sp()
		w.num64(uint64(q.msgLimit))
	}
	w.raw(")\r\n")
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
	q, err := s.quotaUsage()
	if err != nil {
		return s.fail("getquotaroot", err)
	}
	w := s.w
	w.lock()
	defer w.unlock()
	w.raw("* QUOTAROOT ")
	w.mailbox(mb.Name)
	if q.limited() {
		w.sp()
		w.str(quotaRoot)
	}
	w.crlf()
	s.writeQuotaLocked(q)
	return nil
}

// cmdGetQuota: GETQUOTA root (RFC 9208 section 4.2).
func cmdGetQuota(s *session, c *command, p *parser) error {
	root := p.astring()
	if p.end(); p.err != nil {
		return p.err
	}
	q, err := s.quotaUsage()
	if err != nil {
		return s.fail("getquota", err)
	}
	if root != quotaRoot || !q.limited() {
		return imapErr(imap.ResponseCodeNonExistent, "No such quota root")
	}
	s.w.lock()
	s.writeQuotaLocked(q)
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
	if s.user.ID == 0 {
		return
	}
	q, err := s.quotaUsage()
	if err != nil {
		return
	}
	s.w.lock()
	s.writeQuotaLocked(q)
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
