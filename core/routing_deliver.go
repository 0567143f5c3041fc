package core

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/stamp-mail/stamp/check"
	"github.com/stamp-mail/stamp/core/sieve"
	"github.com/stamp-mail/stamp/message"
	"github.com/stamp-mail/stamp/storage"
)

// deliveryPlan is what Deliver commits for one message after routing and
// Sieve: mailbox copies and queue items in one batch, then the replies
// that are sent after the commit (vacation, rejection notices).
type deliveryPlan struct {
	batch     storage.Batch
	blobs     [][]byte // blobs beyond the message's own segments
	hashes    []string // blob.Hash of each of blobs
	vacations []vacationReply
	rejects   []rejectNotice
}

type vacationReply struct {
	target routeTarget
	v      *sieve.Vacation
	msg    *sieveMessage
}

type rejectNotice struct {
	rcpt, reason string
}

// scriptCache keeps parsed Sieve scripts by the SHA-256 of their text,
// up to scriptCacheBytes of script text.
type scriptCache struct {
	mu    sync.Mutex
	m     map[[32]byte]*sieve.Script
	bytes int
}

const scriptCacheBytes = 16 << 20

func (c *scriptCache) get(text string) (*sieve.Script, error) {
	key := sha256.Sum256([]byte(text))
	c.mu.Lock()
	sc, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return sc, nil
	}
	sc, err := sieve.Parse(text)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || c.bytes+len(text) > scriptCacheBytes {
		c.m, c.bytes = map[[32]byte]*sieve.Script{}, 0
	}
	if len(text) <= scriptCacheBytes/4 {
		c.m[key] = sc
		c.bytes += len(text)
	}
	c.mu.Unlock()
	return sc, nil
}

// referenced keeps the blobs (and their hashes) that the plan's messages
// and queue items use: a message discarded by Sieve or only forwarded
// leaves some of its segments unused.
func (p *deliveryPlan) referenced(blobs [][]byte, hashes []string) ([][]byte, []string) {
	used := map[string]bool{}
	for _, m := range p.batch.Messages {
		for _, sg := range m.Segments {
			used[sg.Hash] = true
		}
	}
	for _, q := range p.batch.Queue {
		for _, sg := range q.Segments {
			used[sg.Hash] = true
		}
	}
	var ob [][]byte
	var oh []string
	seen := map[string]bool{}
	for i, b := range blobs {
		if used[hashes[i]] && !seen[hashes[i]] {
			seen[hashes[i]] = true
			ob = append(ob, b)
			oh = append(oh, hashes[i])
		}
	}
	return ob, oh
}

// addBlob adds an extra blob to the plan and returns its segment.
func (p *deliveryPlan) addBlob(s *Service, b []byte) storage.Segment {
	seg := s.segment(b)
	p.blobs = append(p.blobs, b)
	p.hashes = append(p.hashes, seg.Hash)
	return seg
}

// planDelivery decides every copy of a judged message: each local user's
// Sieve script (after the spam verdict, which sets the default mailbox)
// picks mailboxes and flags, redirects and replies; forwards become queue
// items with SRS reverse-paths.
func (s *Service) planDelivery(ctx context.Context, env Envelope, d *prepared, verdict check.Verdict, r *routed) (*deliveryPlan, error) {
	p := &deliveryPlan{}
	now := env.receivedAt()
	srsNow := s.routingNow()
	forwards := append([]forward(nil), r.forwards...)
	single := len(r.locals) == 1 && len(r.forwards) == 0 && len(env.Recipients) == 1
	for _, t := range r.locals {
		u := t.user
		role := storage.RoleInbox
		var head []byte
		if uv, ok := verdict.PerUser[u.ID]; ok {
			if uv.Junk {
				role = storage.RoleJunk
			}
			head = uv.Header
		}
		def, err := s.roleMailbox(ctx, u.ID, role)
		if err != nil {
			return nil, err
		}
		type copyTo struct {
			mailbox int64
			flags   []string
		}
		var copies []copyTo
		add := func(mb int64, flags []string) {
			for i := range copies {
				if copies[i].mailbox == mb {
					copies[i].flags = append(copies[i].flags, flags...)
					return
				}
			}
			copies = append(copies, copyTo{mb, flags})
		}
		res, ran := s.runSieve(ctx, env, d, t)
		if !ran {
			add(def, nil)
		}
		for _, a := range res.Actions {
			switch a.Kind {
			case sieve.ActKeep:
				add(def, a.Flags)
			case sieve.ActFileInto:
				add(s.fileintoMailbox(ctx, u, a, def), a.Flags)
			case sieve.ActRedirect:
				to, err := message.ParseAddress(a.Address)
				if err != nil {
					s.log.Info("sieve redirect to a bad address ignored", "user", u.Address, "to", a.Address)
					add(def, nil)
					continue
				}
				rr := &routed{}
				switch err := s.resolve(ctx, to, "", u.Address, 0, map[string]bool{u.Address: true}, rr); {
				case errors.Is(err, ErrRelayDenied):
					// A redirect out is mail sent by the user: it counts
					// against the user's sending limit, so a script cannot
					// turn the server into an amplifier.
					if !s.sends.allow(u.ID, 1, s.cfg.SendPerHour) {
						s.log.Warn("sieve redirect over the sending limit; keeping", "user", u.Address, "to", to)
						add(def, nil)
						continue
					}
					forwards = append(forwards, forward{via: u.Address, targets: []string{to}})
				case err != nil:
					s.log.Info("sieve redirect failed; keeping", "user", u.Address, "to", to, "err", err)
					add(def, nil)
				default:
					for _, lt := range rr.locals {
						mb, err := s.roleMailbox(ctx, lt.user.ID, storage.RoleInbox)
						if err != nil {
							return nil, err
						}
						p.batch.Messages = append(p.batch.Messages, d.newMessage(lt.user.ID, mb, nil, now, nil))
					}
					forwards = append(forwards, rr.forwards...)
				}
			case sieve.ActReject:
				if single {
					return nil, &RejectedError{Code: 550, Enhanced: [3]int{5, 7, 1}, Message: sanitizeHeaderValue(firstLine(a.Reason))}
				}
				p.rejects = append(p.rejects, rejectNotice{rcpt: t.rcpt, reason: a.Reason})
			case sieve.ActVacation:
				p.vacations = append(p.vacations, vacationReply{target: t, v: a.Vacation, msg: newSieveMessage(d.raw, d.parsed)})
			}
		}
		for _, c := range copies {
			nm := d.newMessage(u.ID, c.mailbox, dedupeFlags(c.flags), now, head)
			if len(head) > 0 {
				p.blobs = append(p.blobs, head)
				p.hashes = append(p.hashes, nm.Segments[0].Hash)
			}
			p.batch.Messages = append(p.batch.Messages, nm)
		}
	}
	if len(forwards) > 0 {
		codec, err := s.srs(ctx)
		if err != nil {
			return nil, err
		}
		body := stripReturnPath(d.raw)
		for _, f := range forwards {
			msg := append([]byte("Delivered-To: "+f.via+"\r\n"), body...)
			seg := p.addBlob(s, msg)
			sender := codec.forward(env.MailFrom, domainOf(f.via), srsNow)
			p.batch.Queue = append(p.batch.Queue, &storage.QueueItem{Sender: sender, Recipients: f.targets,
				Segments: []storage.Segment{seg}, Size: int64(len(msg)), State: storage.QueueQueued,
				NextAttemptAt: now, CreatedAt: now, Results: map[string]string{}, RequireTLS: env.RequireTLS})
		}
	}
	return p, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		s = "Message rejected by the recipient's filter"
	}
	return s
}

func dedupeFlags(fs []string) []string {
	var out []string
	for _, f := range fs {
		dup := false
		for _, o := range out {
			if strings.EqualFold(o, f) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, f)
		}
	}
	return out
}

// stripReturnPath drops a leading Return-Path field: it belongs to the
// final delivery (RFC 5321 section 4.4), not to mail passed on.
func stripReturnPath(raw []byte) []byte {
	if len(raw) > 12 && strings.EqualFold(string(raw[:12]), "return-path:") {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			return raw[i+1:]
		}
	}
	return raw
}

// runSieve runs the user's active script; ran is false when the user has
// none or it failed (the message is then kept, RFC 5228 section 2.10.6).
func (s *Service) runSieve(ctx context.Context, env Envelope, d *prepared, t routeTarget) (sieve.Result, bool) {
	sc, err := s.look.activeSieve(ctx, t.user.ID)
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			s.log.Warn("reading sieve script failed; keeping", "user", t.user.Address, "err", err)
		}
		return sieve.Result{}, false
	}
	script, err := s.sieves.get(sc.Script)
	if err != nil {
		s.log.Warn("active sieve script does not parse; keeping", "user", t.user.Address, "err", err)
		return sieve.Result{}, false
	}
	rctx, cancel := context.WithTimeout(ctx, s.cfg.Routing.SieveTimeout)
	defer cancel()
	res, err := sieve.Run(rctx, script, newSieveMessage(d.raw, d.parsed), sieve.Envelope{From: env.MailFrom, To: t.rcpt},
		sieve.Options{Limits: s.cfg.Routing.SieveLimits, Separator: s.cfg.Routing.Separator, Now: env.receivedAt()})
	if err != nil {
		s.log.Warn("sieve script stopped; keeping the message", "user", t.user.Address, "err", err)
		return sieve.Result{}, false
	}
	return res, true
}

// fileintoMailbox finds (or with :create makes) the mailbox of a fileinto;
// an unknown one falls back to the default mailbox.
func (s *Service) fileintoMailbox(ctx context.Context, u User, a sieve.Action, def int64) int64 {
	name := strings.TrimSpace(a.Mailbox)
	if strings.EqualFold(name, "INBOX") {
		mb, err := s.roleMailbox(ctx, u.ID, storage.RoleInbox)
		if err != nil {
			return def
		}
		return mb
	}
	mb, err := s.store.GetMailboxByName(ctx, u.ID, name)
	if err == nil {
		return mb.ID
	}
	if errors.Is(err, storage.ErrNotFound) && a.Create {
		if m, err := s.CreateMailbox(ctx, u.ID, name, ""); err == nil {
			return m.ID
		} else if errors.Is(err, ErrExists) {
			if mb, err := s.store.GetMailboxByName(ctx, u.ID, name); err == nil {
				return mb.ID
			}
		} else {
			s.log.Info("sieve fileinto :create failed; keeping", "user", u.Address, "mailbox", name, "err", err)
		}
	}
	return def
}

// afterDelivery sends what the scripts asked for once the message is committed.
func (s *Service) afterDelivery(ctx context.Context, env Envelope, d *prepared, p *deliveryPlan) {
	ctx = context.WithoutCancel(ctx)
	for _, v := range p.vacations {
		if err := s.sendVacation(ctx, env, v); err != nil {
			s.log.Warn("vacation reply failed", "user", v.target.user.Address, "err", err)
		}
	}
	for _, r := range p.rejects {
		if err := s.sendRejection(ctx, env, d, r); err != nil {
			s.log.Warn("rejection notice failed", "rcpt", r.rcpt, "err", err)
		}
	}
	if len(p.batch.Queue) > 0 {
		s.metrics.Queued.Add(int64(len(p.batch.Queue)))
		s.WakeQueue()
	}
}

// sendGenerated delivers a message we wrote (auto-reply, notice) with the
// null reverse-path: into a local user's INBOX, or queued, DKIM-signed for
// fromDomain.
func (s *Service) sendGenerated(ctx context.Context, to, fromDomain string, raw []byte) error {
	u, remote, err := s.bounceTarget(ctx, to)
	switch {
	case err == nil && remote == "":
		return s.deliverTo(ctx, u.ID, storage.RoleInbox, raw)
	case err == nil:
		to = remote
	case errors.Is(err, ErrRelayDenied):
	default:
		return err
	}
	blobs := [][]byte{raw}
	segs := []storage.Segment{s.segment(raw)}
	size := int64(len(raw))
	if s.signer != nil {
		if sig, err := s.signer.SignHeaders(ctx, fromDomain, raw); err != nil {
			s.log.Warn("DKIM signing failed; sending unsigned", "domain", fromDomain, "err", err)
		} else if len(sig) > 0 {
			blobs = append(blobs, sig)
			segs = append([]storage.Segment{s.segment(sig)}, segs...)
			size += int64(len(sig))
		}
	}
	now := time.Now()
	qi := &storage.QueueItem{Sender: "", Recipients: []string{strings.ToLower(to)}, Segments: segs, Size: size,
		State: storage.QueueQueued, NextAttemptAt: now, CreatedAt: now, Results: map[string]string{}}
	if err := s.store2(ctx, storage.Batch{Queue: []*storage.QueueItem{qi}}, blobs); err != nil {
		return err
	}
	s.metrics.Queued.Add(1)
	s.WakeQueue()
	return nil
}

// listHeaders mark mailing-list mail (RFC 2369, RFC 2919), never answered
// by vacation (RFC 5230 section 4.6, RFC 3834 section 2).
var listHeaders = []string{"list-id", "list-help", "list-unsubscribe", "list-subscribe", "list-post", "list-owner", "list-archive"}

// vacationSkip says why no vacation reply goes to this message, "" if one may.
func (s *Service) vacationSkip(ctx context.Context, env Envelope, vr vacationReply) string {
	sender := strings.ToLower(env.MailFrom)
	if sender == "" {
		return "null sender"
	}
	local, _, _ := splitAddr(sender)
	switch {
	case local == "mailer-daemon", local == "listserv", local == "majordomo", strings.HasPrefix(local, "owner-"),
		strings.HasSuffix(local, "-request"):
		return "sender is a mail system or list address"
	}
	m := vr.msg
	for _, v := range m.Header("auto-submitted") {
		if !strings.EqualFold(strings.TrimSpace(strings.SplitN(v, ";", 2)[0]), "no") {
			return "auto-submitted"
		}
	}
	for _, v := range m.Header("precedence") {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "bulk", "list", "junk":
			return "precedence " + v
		}
	}
	for _, h := range listHeaders {
		if len(m.Header(h)) > 0 {
			return "mailing list (" + h + ")"
		}
	}
	mine := []string{vr.target.user.Address, vr.target.rcpt, vr.target.via}
	for _, a := range vr.v.Addresses {
		mine = append(mine, strings.ToLower(a))
	}
	if ids, err := s.Identities(ctx, vr.target.user); err == nil {
		for _, id := range ids {
			mine = append(mine, id.Address)
		}
	}
	for _, a := range mine {
		if a != "" && strings.EqualFold(a, sender) {
			return "sender is the user"
		}
	}
	// RFC 5230 section 4.5: only when one of the user's addresses is a recipient in the header.
	for _, h := range []string{"to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc"} {
		for _, a := range m.Addresses(h) {
			for _, me := range mine {
				if me != "" && strings.EqualFold(a, me) {
					return ""
				}
			}
		}
	}
	return "none of the user's addresses is in To or Cc"
}

// sendVacation sends one RFC 5230 vacation reply, at most once per sender
// per :days (remembered in the database).
func (s *Service) sendVacation(ctx context.Context, env Envelope, vr vacationReply) error {
	if why := s.vacationSkip(ctx, env, vr); why != "" {
		s.log.Debug("no vacation reply", "user", vr.target.user.Address, "why", why)
		return nil
	}
	days := vr.v.Days
	if days <= 0 {
		days = s.cfg.Routing.VacationDays
	}
	now := s.routingNow()
	sender := strings.ToLower(env.MailFrom)
	due, err := s.store.NoteVacationReply(ctx, vr.target.user.ID, vr.v.Handle, sender, now, now.Add(time.Duration(days)*24*time.Hour))
	if err != nil {
		return err
	}
	if !due {
		return nil
	}
	from := vr.v.From
	if from == "" {
		from = vr.target.rcpt
	}
	if a, err := message.ParseAddressList(from); err == nil && len(a) > 0 {
		from = a[0].Address
	} else {
		from = vr.target.user.Address
	}
	orig := vr.msg.parsed
	subject := vr.v.Subject
	if subject == "" {
		subject = "Auto: " + orig.Subject
	}
	var refs []string
	if orig.MessageID != "" {
		refs = append(append(refs, orig.References...), orig.MessageID)
	}
	var raw []byte
	if vr.v.Mime {
		var b bytes.Buffer
		fmt.Fprintf(&b, "From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@%s>\r\nAuto-Submitted: auto-replied (vacation)\r\nMIME-Version: 1.0\r\n",
			from, sender, sanitizeHeaderValue(subject), now.Format(time.RFC1123Z), randomToken(12), s.cfg.Hostname)
		if orig.MessageID != "" {
			fmt.Fprintf(&b, "In-Reply-To: <%s>\r\n", orig.MessageID)
		}
		b.WriteString(strings.ReplaceAll(strings.ReplaceAll(vr.v.Reason, "\r\n", "\n"), "\n", "\r\n"))
		raw = b.Bytes()
	} else {
		raw, err = message.Compose(message.Composition{
			From: message.Address{Address: from}, To: []message.Address{{Address: sender}}, Subject: subject,
			Text: vr.v.Reason, InReplyTo: orig.MessageID, References: refs, Date: now,
			Headers: map[string]string{"Auto-Submitted": "auto-replied (vacation)"},
		}, s.cfg.Hostname)
		if err != nil {
			return err
		}
	}
	s.log.Info("vacation reply sent", "user", vr.target.user.Address, "to", sender)
	return s.sendGenerated(ctx, sender, domainOf(from), raw)
}

// sendRejection tells the sender that a recipient's script refused the
// message (RFC 5429 section 2.1), as a delivery status notification.
func (s *Service) sendRejection(ctx context.Context, env Envelope, d *prepared, r rejectNotice) error {
	if env.MailFrom == "" {
		return nil // never to the null sender
	}
	raw, err := message.BuildDSN(message.DSN{ReportingMTA: s.cfg.Hostname, OriginalSender: env.MailFrom, Original: d.raw,
		Arrival: env.receivedAt(), Recipients: []message.DSNRecipient{{Address: r.rcpt, Action: "failed", Status: "5.7.1",
			DiagnosticCode: "smtp; 550 5.7.1 " + firstLine(r.reason)}}}, s.cfg.Hostname)
	if err != nil {
		return err
	}
	return s.sendGenerated(ctx, env.MailFrom, domainOf(r.rcpt), raw)
}
