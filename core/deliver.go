package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/stamp-mail/stamp/check"
	"github.com/stamp-mail/stamp/message"
	"github.com/stamp-mail/stamp/message/structure"
	"github.com/stamp-mail/stamp/storage"
	"github.com/stamp-mail/stamp/storage/blob"
)

// Envelope describes how a message arrived (RFC 5321 section 2.3.1).
type Envelope struct {
	MailFrom   string   // reverse-path, "" for the null sender
	Recipients []string // forward-paths
	// Resolved, if set, holds what CheckRecipient returned for each of
	// Recipients (same order), so that Deliver need not look them up again
	// (an SMTP session checks each RCPT before DATA); nil: Deliver resolves.
	Resolved []User
	RemoteIP net.IP
	Helo     string
	TLS      bool
	// EarlyTalker: the client sent data before the greeting (RFC 5321
	// section 4.3.1), which the spam score counts against it.
	EarlyTalker bool
	AuthUser    string // authenticated submitter, "" for inbound MX mail
	Proto       string // RFC 3848 "with" keyword: ESMTP, ESMTPS, ESMTPSA, HTTP...
	ReceivedAt  time.Time
	DSN         *DSNParams // RFC 3461 parameters given by the client, nil if none
	// RequireTLS is RFC 8689 REQUIRETLS, given on MAIL FROM: remote
	// delivery only over TLS with a verified certificate.
	RequireTLS bool
}

// CheckRecipient says whether mail for addr is accepted from an
// unauthenticated client: nil for a routable local address (a user, an
// alias, user+tag, postmaster@, abuse@, an SRS address of ours, a
// catch-all; see routing.go), ErrNoSuchUser for an unknown local address,
// ErrRelayDenied for other domains. The User is set when addr reaches
// exactly one user directly, else it is the zero User.
func (s *Service) CheckRecipient(ctx context.Context, addr string) (User, error) {
	r := &routed{}
	if err := s.resolve(ctx, addr, "", "", 0, map[string]bool{}, r); err != nil {
		return User{}, err
	}
	if len(r.locals) == 1 && len(r.forwards) == 0 && r.locals[0].via == "" {
		if err := s.checkRoom(ctx, r.locals[0].user.ID, 0); err != nil {
			return User{}, err // already full: SMTP 452 4.2.2 at RCPT
		}
		return r.locals[0].user, nil
	}
	if len(r.locals) == 0 && len(r.forwards) == 0 {
		return User{}, ErrNoSuchUser
	}
	return User{}, nil
}

// Deliver runs the inbound pipeline for mail from outside: it resolves the
// local recipients, judges the message (SPF/DKIM/DMARC, spam, virus), stores
// the bytes once in the blob store and a copy in each recipient's INBOX (or
// Junk), and returns nil only when every copy is durably committed. A
// refusal by the checks is a *RejectedError.
func (s *Service) Deliver(ctx context.Context, env Envelope, raw []byte) error {
	if int64(len(raw)) > s.cfg.MaxMessageBytes {
		s.metrics.Rejected.Add(1)
		return ErrTooBig
	}
	routes, err := s.route(ctx, env)
	if err != nil {
		return err
	}
	if len(routes.locals) == 0 && len(routes.forwards) == 0 {
		return ErrNoSuchUser
	}
	if err := s.checkLoop(routes, raw); err != nil {
		s.metrics.Rejected.Add(1)
		return err
	}
	users := routes.users()
	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	verdict := check.Verdict{}
	if s.judge != nil {
		verdict, err = s.judge.Judge(ctx, check.Input{
			RemoteIP: env.RemoteIP, Helo: env.Helo, MailFrom: env.MailFrom, Raw: raw, Recipients: ids,
			HeloIsOurs: s.heloIsOurs(ctx, env.Helo, env.RemoteIP), EarlyTalker: env.EarlyTalker,
		})
		if err != nil {
			return temporary("judge message", err)
		}
		if rej := rejection(verdict); rej != nil {
			s.metrics.Rejected.Add(1)
			return rej
		}
	}
	prefix := s.traceHeaders(env, users)
	prefix = append(prefix, verdict.Headers...)
	full := append(prefix, raw...)

	d := s.prepare(full, s.cfg.SegmentMinSize)
	plan, err := s.planDelivery(ctx, env, d, verdict, routes)
	if err != nil {
		s.metrics.Rejected.Add(1)
		return err
	}
	if err := s.checkBatchRoom(ctx, plan.batch.Messages); err != nil {
		s.metrics.Rejected.Add(1)
		return err
	}
	hashes := make([]string, 0, len(d.segments)+len(plan.hashes))
	for _, sg := range d.segments {
		hashes = append(hashes, sg.Hash)
	}
	blobs, hashes := plan.referenced(append(d.blobs, plan.blobs...), append(hashes, plan.hashes...))
	if err := s.storeHashed(ctx, plan.batch, blobs, hashes); err != nil {
		return err
	}
	s.metrics.Accepted.Add(1)
	s.metrics.Delivered.Add(int64(len(plan.batch.Messages)))
	s.publishNew(ctx, plan.batch.Messages)
	s.afterDelivery(ctx, env, d, plan)
	s.noteFeedback(ctx, d.parsed, full, users)
	s.notifyDelivered(ctx, env, full) // NOTIFY=SUCCESS (dsnsuccess.go)
	return nil
}

func (e Envelope) receivedAt() time.Time {
	if e.ReceivedAt.IsZero() {
		return time.Now()
	}
	return e.ReceivedAt
}

func rejection(v check.Verdict) error {
	if !v.Reject && !v.TempFail {
		return nil
	}
	r := &RejectedError{Code: v.Code, Enhanced: v.Enhanced, Message: v.Message, Temporary: v.TempFail}
	if r.Code == 0 {
		if v.TempFail {
			r.Code, r.Enhanced = 451, [3]int{4, 7, 1}
		} else {
			r.Code, r.Enhanced = 550, [3]int{5, 7, 1}
		}
	}
	if r.Message == "" {
		r.Message = "message refused by policy"
	}
	return r
}

// traceHeaders returns the Return-Path and Received fields (RFC 5321 section 4.4).
func (s *Service) traceHeaders(env Envelope, users []User) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Return-Path: <%s>\r\n", env.MailFrom)
	proto := env.Proto
	if proto == "" {
		proto = "ESMTP"
	}
	from := env.Helo
	if from == "" {
		from = "unknown"
	}
	ip := ""
	if env.RemoteIP != nil {
		ip = " ([" + env.RemoteIP.String() + "])"
	}
	forClause := ""
	if len(users) == 1 {
		forClause = "\r\n\tfor <" + users[0].Address + ">"
	}
	fmt.Fprintf(&b, "Received: from %s%s\r\n\tby %s (Stamp) with %s id %s%s;\r\n\t%s\r\n",
		sanitizeHeaderValue(from), ip, s.cfg.Hostname, proto, randomToken(9), forClause,
		env.receivedAt().Format(time.RFC1123Z))
	return b.Bytes()
}

func sanitizeHeaderValue(v string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, v)
}

// prepared is a parsed message split into content-addressed segments.
type prepared struct {
	s        *Service
	raw      []byte
	parsed   *message.Parsed
	segments []storage.Segment
	blobs    [][]byte
	attach   []storage.Attachment
	root     *structure.Part // built on first use (structure.go)
	// Made once for every copy without a per-recipient header (a
	// submission's Sent and local INBOX copies, the recipients of one MX
	// message): the encoded structure, the sort keys and the header text.
	bare       []byte
	bareKeys   *SortKeys
	headerText *string
}

func (s *Service) prepare(raw []byte, minSize int) *prepared {
	p := message.Parse(raw)
	d := &prepared{raw: raw, parsed: p, s: s}
	for _, r := range message.Segments(raw, p, minSize) {
		b := raw[r.Start:r.End]
		d.blobs = append(d.blobs, b)
		d.segments = append(d.segments, s.segment(b))
	}
	inline := message.InlineParts(p) // cid: images shown in the body do not count as attachments
	for _, a := range p.Attachments {
		path := ""
		if a.Part != nil {
			path = a.Part.Path
		}
		d.attach = append(d.attach, storage.Attachment{Part: path, Filename: a.Filename, ContentType: a.ContentType, Size: a.Size, Hash: a.Hash,
			Inline: a.Part != nil && inline[path]})
	}
	return d
}

// newMessage builds the row for one mailbox copy; head, if any, is a
// per-recipient header block stored as a leading segment of its own.
func (d *prepared) newMessage(userID int64, mailboxID int64, flags []string, date time.Time, head []byte) *storage.NewMessage {
	p := d.parsed
	segs := slices.Clone(d.segments)
	size := int64(len(d.raw))
	hsize := p.HeaderSize
	if len(head) > 0 {
		segs = append([]storage.Segment{d.s.segment(head)}, segs...)
		size += int64(len(head))
		hsize += int64(len(head))
	}
	return &storage.NewMessage{
		UserID: userID, MailboxID: mailboxID, Flags: flags, InternalDate: date,
		Size: size, HeaderSize: hsize, Segments: segs, Subject: p.Subject,
		From: addrs(p.From), To: addrs(p.To), Cc: addrs(p.Cc), Date: p.Date,
		MessageIDHdr: p.MessageID, InReplyTo: p.InReplyTo, References: p.References,
		Snippet: p.Snippet, Attachments: slices.Clone(d.attach), SearchText: p.Text,
		SearchHeader: d.searchHeader(), Structure: d.structureOf(head),
		SortKeys: d.sortKeysOf(head),
	}
}

// searchHeader is message.HeaderText of the message, made once.
func (d *prepared) searchHeader() string {
	if d.headerText == nil {
		t := message.HeaderText(d.parsed)
		d.headerText = &t
	}
	return *d.headerText
}

func addrs(in []message.Address) []storage.Address {
	out := make([]storage.Address, len(in))
	for i, a := range in {
		out[i] = storage.Address{Name: a.Name, Address: a.Address}
	}
	return out
}

// segment describes a blob of a message: small ones are inline (kept in the
// metadata store, committed with the message), the rest go to the blob store.
func (s *Service) segment(b []byte) storage.Segment {
	return storage.Segment{Hash: blob.Hash(b), Size: int64(len(b)), Inline: len(b) <= s.cfg.InlineMax}
}

// store2 durably writes the blobs (inline ones with the batch, the others to
// the blob store first) and commits the batch, through the group-commit
// pipeline.
func (s *Service) store2(ctx context.Context, b storage.Batch, blobs [][]byte) error {
	return s.storeHashed(ctx, b, blobs, nil)
}

// storeHashed is store2 for blobs whose hashes the caller already has:
// hashes[i], when present, is blob.Hash(blobs[i]).
func (s *Service) storeHashed(ctx context.Context, b storage.Batch, blobs [][]byte, hashes []string) error {
	var files [][]byte
	for i, bl := range blobs {
		if len(bl) <= s.cfg.InlineMax {
			if b.Inline == nil {
				b.Inline = map[string][]byte{}
			}
			h := ""
			if i < len(hashes) {
				h = hashes[i]
			}
			if h == "" {
				h = blob.Hash(bl)
			}
			b.Inline[h] = bl
		} else {
			files = append(files, bl)
		}
	}
	return s.commit(ctx, b, files)
}

// roleMailbox returns the id of a user's mailbox with a special-use role.
// Role mailboxes cannot be deleted and keep their id when renamed, so the
// answer is cached for the life of the process (user ids are never reused).
func (s *Service) roleMailbox(ctx context.Context, userID int64, role string) (int64, error) {
	key := roleKey{userID, role}
	s.rolesMu.Lock()
	id, ok := s.roles[key]
	s.rolesMu.Unlock()
	if ok {
		return id, nil
	}
	mb, err := s.store.GetMailboxByRole(ctx, userID, role)
	if errors.Is(err, storage.ErrNotFound) && role != storage.RoleInbox {
		// No such folder (yet): fall back to INBOX, uncached, so a folder
		// created later with this role is used at once.
		mb, err = s.store.GetMailboxByRole(ctx, userID, storage.RoleInbox)
		if err != nil {
			return 0, temporary("find "+role+" mailbox", err)
		}
		return mb.ID, nil
	}
	if err != nil {
		return 0, temporary("find "+role+" mailbox", err)
	}
	s.rolesMu.Lock()
	if len(s.roles) > 100000 {
		clear(s.roles)
	}
	s.roles[key] = mb.ID
	s.rolesMu.Unlock()
	return mb.ID, nil
}

type roleKey struct {
	userID int64
	role   string
}

// publishNew publishes a "new" event per stored message to this node's
// subscribers. Other nodes were told by the commit itself (commitJobs), in
// the delivery transaction where the store allows it, so every delivery
// must go through commit.
func (s *Service) publishNew(ctx context.Context, ms []*storage.NewMessage) {
	s.publishLocal(newEvents(ms))
}

// newEvents are the "new" events of stored messages.
func newEvents(ms []*storage.NewMessage) []Event {
	evs := make([]Event, 0, len(ms))
	for _, m := range ms {
		evs = append(evs, Event{UserID: m.UserID, MailboxID: m.MailboxID, Kind: EventNew, MessageID: m.ID, UID: m.UID, ModSeq: m.ModSeq, Flags: m.Flags})
	}
	return evs
}
