package core

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/stamp-mail/stamp/message"
	"github.com/stamp-mail/stamp/storage"
)

// streamThreshold is the size above which OpenMessage streams from the blob
// store instead of assembling the message in memory.
const streamThreshold = 1 << 20

// ListMessages pages a mailbox newest first.
func (s *Service) ListMessages(ctx context.Context, userID, mailboxID int64, q ListQuery) ([]Message, error) {
	return s.store.ListMessages(ctx, userID, mailboxID, q)
}

// MessagesByUID returns the messages with UID in [first, last] (last 0: no bound).
func (s *Service) MessagesByUID(ctx context.Context, userID, mailboxID int64, first, last uint32) ([]Message, error) {
	return s.store.MessagesByUID(ctx, userID, mailboxID, first, last)
}

// GetMessage returns a message by id.
func (s *Service) GetMessage(ctx context.Context, userID, id int64) (Message, error) {
	return s.store.GetMessage(ctx, userID, id)
}

// Thread returns a conversation's messages oldest first.
func (s *Service) Thread(ctx context.Context, userID, threadID int64) ([]Message, error) {
	ms, err := s.store.ListThread(ctx, userID, threadID)
	if err == nil && len(ms) == 0 {
		return nil, ErrNotFound
	}
	return ms, err
}

// Attachments lists a message's attachments.
func (s *Service) Attachments(ctx context.Context, userID, id int64) ([]Attachment, error) {
	if _, err := s.store.GetMessage(ctx, userID, id); err != nil {
		return nil, err
	}
	return s.store.ListAttachments(ctx, userID, id)
}

// AttachmentContent returns an attachment's metadata and decoded bytes.
func (s *Service) AttachmentContent(ctx context.Context, userID, id int64, part string) (Attachment, []byte, error) {
	m, err := s.store.GetMessage(ctx, userID, id)
	if err != nil {
		return Attachment{}, nil, err
	}
	atts, err := s.store.ListAttachments(ctx, userID, id)
	if err != nil {
		return Attachment{}, nil, err
	}
	for _, a := range atts {
		if a.Part != part {
			continue
		}
		raw, err := s.ReadMessage(ctx, m)
		if err != nil {
			return Attachment{}, nil, err
		}
		p := message.Parse(raw)
		mp := message.FindPart(p.Root, part)
		if mp == nil {
			return Attachment{}, nil, fmt.Errorf("attachment %s: %w", part, ErrNotFound)
		}
		data, err := message.DecodePart(raw, mp)
		if err != nil {
			return Attachment{}, nil, fmt.Errorf("decode attachment %s: %w", part, err)
		}
		return a, data, nil
	}
	return Attachment{}, nil, fmt.Errorf("attachment %s: %w", part, ErrNotFound)
}

// ReadMessage returns a message's raw bytes (from the in-process cache when
// recently read: blobs are immutable, so the cache needs no invalidation).
func (s *Service) ReadMessage(ctx context.Context, m Message) ([]byte, error) {
	out := make([]byte, 0, m.Size)
	for _, seg := range m.Segments {
		b, err := s.readBlob(ctx, seg)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}

// ReadHeader returns the message's header section (including the blank line).
func (s *Service) ReadHeader(ctx context.Context, m Message) ([]byte, error) {
	out := make([]byte, 0, m.HeaderSize)
	for _, seg := range m.Segments {
		if int64(len(out)) >= m.HeaderSize {
			break
		}
		b, err := s.readBlob(ctx, seg)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	if int64(len(out)) > m.HeaderSize {
		out = out[:m.HeaderSize]
	}
	return out, nil
}

// OpenMessage returns a reader of a message's raw bytes. Large messages
// stream from the blob store segment by segment instead of being held in memory.
func (s *Service) OpenMessage(ctx context.Context, m Message) (io.ReadCloser, error) {
	if m.Size <= streamThreshold {
		b, err := s.ReadMessage(ctx, m)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(bytes.NewReader(b)), nil
	}
	return &segmentReader{ctx: ctx, s: s, segs: m.Segments}, nil
}

type segmentReader struct {
	ctx  context.Context
	s    *Service
	segs []storage.Segment
	cur  io.ReadCloser
}

func (r *segmentReader) Read(p []byte) (int, error) {
	for {
		if r.cur == nil {
			if len(r.segs) == 0 {
				return 0, io.EOF
			}
			seg := r.segs[0]
			if seg.Inline {
				b, err := r.s.readBlob(r.ctx, seg)
				if err != nil {
					return 0, err
				}
				r.cur, r.segs = io.NopCloser(bytes.NewReader(b)), r.segs[1:]
				continue
			}
			rc, err := r.s.blobs.Open(r.ctx, seg.Hash)
			if err != nil {
				return 0, fmt.Errorf("open blob %s: %w", seg.Hash, err)
			}
			r.cur, r.segs = rc, r.segs[1:]
		}
		n, err := r.cur.Read(p)
		if err == io.EOF {
			r.cur.Close()
			r.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (r *segmentReader) Close() error {
	if r.cur != nil {
		return r.cur.Close()
	}
	return nil
}

func (s *Service) readBlob(ctx context.Context, seg storage.Segment) ([]byte, error) {
	hash := seg.Hash
	if b, ok := s.cache.get(hash); ok {
		return b, nil
	}
	if seg.Inline {
		b, err := s.store.ReadBlob(ctx, hash)
		if err != nil {
			return nil, fmt.Errorf("read inline blob %s: %w", hash, err)
		}
		s.cache.put(hash, b)
		return b, nil
	}
	rc, err := s.blobs.Open(ctx, hash)
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", hash, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", hash, err)
	}
	s.cache.put(hash, b)
	return b, nil
}

// UpdateFlags changes flags of messages in a mailbox and publishes the changes.
func (s *Service) UpdateFlags(ctx context.Context, userID, mailboxID int64, ids []int64, op FlagOp, flags []string) ([]Message, error) {
	ms, err := s.store.UpdateFlags(ctx, userID, mailboxID, ids, op, flags)
	if err != nil {
		return nil, err
	}
	evs := make([]Event, 0, len(ms))
	for _, m := range ms {
		evs = append(evs, Event{UserID: userID, MailboxID: mailboxID, Kind: EventFlags, MessageID: m.ID, UID: m.UID, ModSeq: m.ModSeq, Flags: m.Flags})
	}
	s.publish(ctx, evs...)
	return ms, nil
}

// Move moves messages to another mailbox (RFC 6851 semantics). Moving into
// Junk trains the user's spam filter with spam; moving out of Junk, with ham.
func (s *Service) Move(ctx context.Context, userID, fromID int64, ids []int64, toID int64) ([]Moved, error) {
	return s.transfer(ctx, userID, fromID, ids, toID, true)
}

// Copy copies messages into another mailbox, sharing their blobs; copying
// into or out of Junk trains the spam filter as Move does.
func (s *Service) Copy(ctx context.Context, userID, fromID int64, ids []int64, toID int64) ([]Moved, error) {
	return s.transfer(ctx, userID, fromID, ids, toID, false)
}

// transfer moves (or copies) messages, publishes the events and trains.
func (s *Service) transfer(ctx context.Context, userID, fromID int64, ids []int64, toID int64, move bool) ([]Moved, error) {
	from, err := s.store.GetMailbox(ctx, userID, fromID)
	if err != nil {
		return nil, err
	}
	to, err := s.store.GetMailbox(ctx, userID, toID)
	if err != nil {
		return nil, err
	}
	op := s.store.Copy
	if move {
		op = s.store.Move
	} else if err := s.checkCopyRoom(ctx, userID, fromID, ids); err != nil {
		return nil, err
	}
	done, err := op(ctx, userID, fromID, ids, toID)
	if err != nil {
		return nil, err
	}
	s.publishMoved(ctx, userID, fromID, toID, done, move)
	s.train(ctx, userID, from, to, done)
	return done, nil
}

func (s *Service) publishMoved(ctx context.Context, userID, fromID, toID int64, ms []Moved, expunged bool) {
	var evs []Event
	for _, m := range ms {
		if expunged {
			evs = append(evs, Event{UserID: userID, MailboxID: fromID, Kind: EventExpunge, MessageID: m.OldID, UID: m.OldUID})
		}
		evs = append(evs, Event{UserID: userID, MailboxID: toID, Kind: EventNew, MessageID: m.ID, UID: m.NewUID})
	}
	s.publish(ctx, evs...)
}

// train records spam-training events for messages that entered or left Junk
// and teaches the judge in the background (the move is already committed).
func (s *Service) train(ctx context.Context, userID int64, from, to Mailbox, ms []Moved) {
	var spam bool
	switch {
	case isJunk(to) && !isJunk(from):
		spam = true
	case isJunk(from) && !isJunk(to) && to.Role != storage.RoleTrash:
		spam = false
	default:
		return
	}
	for _, m := range ms {
		if err := s.store.RecordTraining(ctx, storage.Training{UserID: userID, MessageID: m.ID, Spam: spam, CreatedAt: time.Now()}); err != nil {
			s.log.Warn("recording spam training failed", "user_id", userID, "err", err)
		}
	}
	s.recordSenderVerdicts(ctx, userID, ms, spam)
	if s.judge == nil {
		return
	}
	bctx := context.WithoutCancel(ctx)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for _, m := range ms {
			msg, err := s.store.GetMessage(bctx, userID, m.ID)
			if err != nil {
				continue
			}
			raw, err := s.ReadMessage(bctx, msg)
			if err != nil {
				continue
			}
			if err := s.judge.Learn(bctx, userID, raw, spam); err != nil {
				s.log.Warn("spam training failed", "user_id", userID, "err", err)
			}
		}
	}()
}

// LearnNow trains synchronously (used by tests and the API's explicit "report spam").
func (s *Service) LearnNow(ctx context.Context, userID int64, m Message, spam bool) error {
	if s.judge == nil {
		return nil
	}
	raw, err := s.ReadMessage(ctx, m)
	if err != nil {
		return err
	}
	return s.judge.Learn(ctx, userID, raw, spam)
}

// Expunge removes messages from a mailbox for good and returns their UIDs.
func (s *Service) Expunge(ctx context.Context, userID, mailboxID int64, ids []int64) ([]uint32, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	uids, _, err := s.store.Expunge(ctx, userID, mailboxID, ids)
	if err != nil {
		return nil, err
	}
	evs := make([]Event, 0, len(uids))
	for _, u := range uids {
		evs = append(evs, Event{UserID: userID, MailboxID: mailboxID, Kind: EventExpunge, UID: u})
	}
	s.publish(ctx, evs...)
	return uids, nil
}

// Search runs a full-text query with filters over a user's messages.
func (s *Service) Search(ctx context.Context, userID int64, q SearchQuery) ([]Message, error) {
	return s.store.Search(ctx, userID, q)
}
