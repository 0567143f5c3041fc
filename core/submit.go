package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stamp-mail/stamp/check"
	"github.com/stamp-mail/stamp/message"
	"github.com/stamp-mail/stamp/storage"
)

// SubmitResult tells what Submit did with a message.
type SubmitResult struct {
	SentID  int64 // id of the copy in the sender's Sent folder
	QueueID int64 // outbound queue item, 0 when every recipient is local
	Local   int   // local recipients delivered
	Remote  int   // remote recipients queued
}

// CheckSubmitRecipient validates a recipient of an authenticated
// submission: local addresses must exist, remote ones must not be suppressed.
func (s *Service) CheckSubmitRecipient(ctx context.Context, u User, rcpt string) error {
	_, err := s.CheckRecipient(ctx, rcpt)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrRelayDenied):
		if s.isSuppressed(ctx, domainOf(u.Address), rcpt) {
			return fmt.Errorf("%s: %w", rcpt, ErrSuppressed)
		}
		return nil
	default:
		return err
	}
}

// Submit sends a message for an authenticated user: the envelope sender and
// every From address must be the user's; the message is saved to Sent
// (seen), delivered to local recipients' INBOX and queued, DKIM-signed, for
// remote recipients, all in one transaction.
func (s *Service) Submit(ctx context.Context, u User, env Envelope, raw []byte) (SubmitResult, error) {
	var res SubmitResult
	if int64(len(raw)) > s.cfg.MaxMessageBytes {
		return res, ErrTooBig
	}
	if len(env.Recipients) == 0 {
		return res, fmt.Errorf("%w: no recipients", ErrInvalid)
	}
	if len(env.Recipients) > s.cfg.MaxRecipients {
		return res, fmt.Errorf("%w: at most %d recipients per message", ErrRateLimited, s.cfg.MaxRecipients)
	}
	if ok, err := s.CanSendAs(ctx, u, env.MailFrom); err != nil {
		return res, err
	} else if !ok {
		return res, fmt.Errorf("%w: envelope sender %q", ErrSenderNotAllowed, env.MailFrom)
	}
	sender := strings.ToLower(env.MailFrom)
	// One parse serves the sender check and storage: the trace header
	// prepended here does not change the From field.
	full := append(s.traceHeaders(env, nil), raw...)
	d := s.prepare(full, s.cfg.SegmentMinSize)
	p := d.parsed
	if len(p.From) == 0 {
		return res, fmt.Errorf("%w: message has no From header", ErrInvalid)
	}
	for _, a := range p.From {
		if ok, err := s.CanSendAs(ctx, u, a.Address); err != nil {
			return res, err
		} else if !ok {
			return res, fmt.Errorf("%w: From %q", ErrSenderNotAllowed, a.Address)
		}
	}
	if !s.sends.allow(u.ID, 1, s.cfg.SendPerHour) {
		s.metrics.Rejected.Add(1)
		return res, fmt.Errorf("%w: at most %d messages per hour", ErrRateLimited, s.cfg.SendPerHour)
	}
	if !s.sendsD.allow(u.ID, 1, s.cfg.SendPerDay) {
		s.metrics.Rejected.Add(1)
		return res, fmt.Errorf("%w: at most %d messages per day", ErrRateLimited, s.cfg.SendPerDay)
	}
	if s.judge != nil {
		v, err := s.judge.Judge(ctx, check.Input{RemoteIP: env.RemoteIP, Helo: env.Helo, MailFrom: env.MailFrom, Raw: raw, Authenticated: true})
		if err != nil {
			return res, temporary("judge message", err)
		}
		if rej := rejection(v); rej != nil {
			s.metrics.Rejected.Add(1)
			return res, rej
		}
	}
	var local []User
	var remote []string
	lr := &routed{}
	for _, r := range env.Recipients {
		// Local addresses are routed (aliases, user+tag...); their
		// external targets join the remote recipients.
		rr := &routed{}
		err := s.resolve(ctx, r, "", "", 0, map[string]bool{}, rr)
		switch {
		case err == nil:
			for _, lt := range rr.locals {
				lr.addLocal(lt)
			}
			for _, f := range rr.forwards {
				remote = append(remote, f.targets...)
			}
		case errors.Is(err, ErrRelayDenied):
			if s.isSuppressed(ctx, domainOf(u.Address), r) {
				return res, fmt.Errorf("%s: %w", r, ErrSuppressed)
			}
			remote = append(remote, strings.ToLower(r))
		default:
			return res, err
		}
	}
	local = lr.users()
	now := env.receivedAt()
	var batch storage.Batch
	blobs := d.blobs
	sent, err := s.roleMailbox(ctx, u.ID, storage.RoleSent)
	if err != nil {
		return res, err
	}
	sentMsg := d.newMessage(u.ID, sent, []string{storage.FlagSeen}, now, nil)
	batch.Messages = append(batch.Messages, sentMsg)
	// Local recipients get what their Sieve scripts decide, as inbound mail does.
	plan, err := s.planDelivery(ctx, env, d, check.Verdict{}, lr)
	if err != nil {
		return res, err
	}
	batch.Messages = append(batch.Messages, plan.batch.Messages...)
	batch.Queue = append(batch.Queue, plan.batch.Queue...)
	blobs = append(slices.Clip(blobs), plan.blobs...)
	var qi *storage.QueueItem
	if len(remote) > 0 {
		segs := d.segments
		size := int64(len(full))
		if s.signer != nil {
			sig, err := s.signer.SignHeaders(ctx, domainOf(sender), full)
			if err != nil {
				s.log.Warn("DKIM signing failed; sending unsigned", "user", u.Address, "err", err)
			} else if len(sig) > 0 {
				blobs = append(blobs, sig)
				segs = append([]storage.Segment{s.segment(sig)}, segs...)
				size += int64(len(sig))
			}
		}
		qi = &storage.QueueItem{UserID: u.ID, Sender: sender, Recipients: remote, Segments: segs, Size: size,
			State: storage.QueueQueued, NextAttemptAt: now, CreatedAt: now, Results: map[string]string{}}
		if env.DSN != nil {
			qi.DSN = *env.DSN
		}
		qi.RequireTLS = env.RequireTLS
		batch.Queue = append(batch.Queue, qi)
	}
	if err := s.checkBatchRoom(ctx, batch.Messages); err != nil {
		return res, err
	}
	if err := s.store2(ctx, batch, blobs); err != nil {
		return res, err
	}
	res.SentID, res.Local, res.Remote = sentMsg.ID, len(local), len(remote)
	s.metrics.Accepted.Add(1)
	s.metrics.Delivered.Add(int64(len(batch.Messages)))
	if qi != nil {
		res.QueueID = qi.ID
		s.metrics.Queued.Add(1)
		s.WakeQueue()
	}
	s.publishNew(ctx, batch.Messages)
	s.afterDelivery(ctx, env, d, plan)
	s.recordCorrespondents(ctx, u.ID, env.Recipients, now)
	s.notifyDelivered(ctx, env, full) // NOTIFY=SUCCESS for local recipients (dsnsuccess.go)
	return res, nil
}

func domainOf(addr string) string {
	return strings.ToLower(addr[strings.LastIndexByte(addr, '@')+1:])
}

// Append stores a message given by the user (IMAP APPEND, API drafts) into
// one of its mailboxes with flags and an internal date (zero: now).
// It returns ErrOverQuota when the message would take the user over quota.
func (s *Service) Append(ctx context.Context, userID, mailboxID int64, flags []string, date time.Time, raw []byte) (Message, error) {
	if err := s.checkRoom(ctx, userID, max(int64(len(raw)), 1)); err != nil {
		return Message{}, err
	}
	return s.appendMessage(ctx, userID, mailboxID, flags, date, raw)
}

// appendMessage is Append without the quota check.
func (s *Service) appendMessage(ctx context.Context, userID, mailboxID int64, flags []string, date time.Time, raw []byte) (Message, error) {
	if int64(len(raw)) > s.cfg.MaxMessageBytes {
		return Message{}, ErrTooBig
	}
	mb, err := s.store.GetMailbox(ctx, userID, mailboxID)
	if err != nil {
		return Message{}, err
	}
	if date.IsZero() {
		date = time.Now()
	}
	d := s.prepare(raw, s.cfg.SegmentMinSize)
	nm := d.newMessage(userID, mailboxID, flags, date, nil)
	if err := s.store2(ctx, storage.Batch{Messages: []*storage.NewMessage{nm}}, d.blobs); err != nil {
		return Message{}, err
	}
	s.metrics.Delivered.Add(1)
	s.publishNew(ctx, []*storage.NewMessage{nm})
	if mb.Role == storage.RoleSent { // a client that sends elsewhere files its copy here
		var to []string
		for _, l := range [][]message.Address{d.parsed.To, d.parsed.Cc, d.parsed.Bcc} {
			for _, a := range l {
				to = append(to, a.Address)
			}
		}
		s.recordCorrespondents(ctx, userID, to, date)
	}
	m, err := s.store.GetMessage(ctx, userID, nm.ID)
	if errors.Is(err, storage.ErrNotFound) {
		// Committed, then expunged or moved by another session before
		// this read: the append succeeded all the same, and failing it
		// would have the client append it again.
		return Message{ID: nm.ID, UserID: userID, MailboxID: mailboxID, UID: nm.UID, ThreadID: nm.ThreadID,
			ModSeq: nm.ModSeq, Flags: nm.Flags, InternalDate: nm.InternalDate, Size: nm.Size, HeaderSize: nm.HeaderSize,
			Subject: nm.Subject, From: nm.From, To: nm.To, Cc: nm.Cc, Date: nm.Date, MessageIDHdr: nm.MessageIDHdr,
			Snippet: nm.Snippet, HasAttachments: len(nm.Attachments) > 0}, nil
	}
	return m, err
}

// deliverTo stores raw into a user's mailbox with a role (used for bounces).
func (s *Service) deliverTo(ctx context.Context, userID int64, role string, raw []byte) error {
	mb, err := s.roleMailbox(ctx, userID, role)
	if err != nil {
		return err
	}
	_, err = s.appendMessage(ctx, userID, mb, nil, time.Now(), raw) // a notice of the server's: no quota check
	return err
}
