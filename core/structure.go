package core

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/stamp-mail/stamp/message/structure"
	"github.com/stamp-mail/stamp/storage"
)

// Structure is one message's MIME tree and envelopes, as stored at
// delivery (message/structure): what IMAP's ENVELOPE, BODY and
// BODYSTRUCTURE are rendered from without reading the message.
type Structure struct {
	ID   int64
	UID  uint32
	Root *structure.Part
}

// structureOf returns the encoded structure for a message stored as head
// followed by the bytes of d. The tree is built once per message (not per
// recipient) and shifted past the per-recipient header block, unless that
// block could change what the tree says (a field the envelope or the MIME
// header reads, or a body that starts with a folded line): then the whole
// stored bytes are parsed.
func (d *prepared) structureOf(head []byte) []byte {
	if len(head) == 0 {
		if d.bare == nil {
			d.bare = structure.Marshal(d.tree(), 0)
		}
		return d.bare // shared by the copies: storage only reads it
	}
	if headTouchesStructure(head) || len(d.raw) > 0 && (d.raw[0] == ' ' || d.raw[0] == '\t') {
		return structure.Marshal(structure.Build(append(bytes.Clone(head), d.raw...)), 0)
	}
	return structure.Marshal(d.tree(), len(head))
}

func (d *prepared) tree() *structure.Part {
	if d.root == nil {
		d.root = structure.Build(d.raw)
	}
	return d.root
}

// headTouchesStructure reports whether a prepended header block holds a
// field that ENVELOPE or BODYSTRUCTURE reads.
func headTouchesStructure(head []byte) bool {
	for _, f := range structure.Fields(head) {
		switch k := lowerASCII(f.K); k {
		case "date", "subject", "from", "sender", "reply-to", "to", "cc", "bcc", "in-reply-to", "message-id":
			return true
		default:
			if len(k) > 8 && k[:8] == "content-" {
				return true
			}
		}
	}
	return false
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// MessageStructures returns the structure of each message of a mailbox
// with UID in [first, last] (last 0: no bound), in UID order. Messages
// stored before structures were (and not backfilled yet) are read once,
// and their structure is stored for next time.
func (s *Service) MessageStructures(ctx context.Context, userID, mailboxID int64, first, last uint32) ([]Structure, error) {
	rows, err := s.store.MessageStructures(ctx, userID, mailboxID, first, last)
	if err != nil {
		return nil, err
	}
	out := make([]Structure, len(rows))
	var fill []storage.StructureRow
	for i, r := range rows {
		out[i] = Structure{ID: r.ID, UID: r.UID}
		if r.Data != nil {
			if root, err := structure.Unmarshal(r.Data); err == nil {
				out[i].Root = root
				continue
			}
		}
		m, err := s.store.GetMessage(ctx, userID, r.ID)
		if err != nil {
			return nil, err
		}
		raw, err := s.ReadMessage(ctx, m)
		if err != nil {
			return nil, err
		}
		root := structure.Build(raw)
		out[i].Root = root
		fill = append(fill, storage.StructureRow{ID: r.ID, Data: structure.Marshal(root, 0)})
	}
	if len(fill) > 0 {
		if err := s.store.SetStructures(ctx, userID, fill); err != nil {
			// The answer is right without it; the next FETCH tries again.
			s.log.Warn("store message structures", "user", userID, "err", err)
		}
	}
	return out, nil
}

// structureDoneKey marks, in the key-value table, that every message
// stored before migration 11 has its structure.
const structureDoneKey = "core/structure-backfill-done"

// structureBatch is how many messages one backfill step reads and writes:
// small transactions that never hold the database for long.
const structureBatch = 200

// BackfillStructures computes and stores the structure of every message
// that has none (mail stored before migration 11), in batches of
// structureBatch with a pause between them, so that it can run beside
// live traffic on a big database; it resumes where it stopped if ctx ends.
// It returns how many messages it filled. Once a pass finds nothing left it
// says so in the key-value table and later calls return at once.
func (s *Service) BackfillStructures(ctx context.Context, pause time.Duration) (int, error) {
	if _, err := s.store.GetKV(ctx, structureDoneKey); err == nil {
		return 0, nil
	}
	var afterUser, afterID int64
	n, failed := 0, 0
	for {
		ms, err := s.store.MissingStructures(ctx, afterUser, afterID, structureBatch)
		if err != nil {
			return n, fmt.Errorf("backfill structures: %w", err)
		}
		if len(ms) == 0 {
			break
		}
		byUser := map[int64][]storage.StructureRow{}
		for _, m := range ms {
			afterUser, afterID = m.UserID, m.ID
			raw, err := s.ReadMessage(ctx, m)
			if err != nil {
				if ctx.Err() != nil {
					return n, ctx.Err()
				}
				failed++
				s.log.Warn("backfill structure: read message", "user", m.UserID, "message", m.ID, "err", err)
				continue
			}
			byUser[m.UserID] = append(byUser[m.UserID], storage.StructureRow{ID: m.ID, Data: structure.Marshal(structure.Build(raw), 0)})
		}
		for u, rows := range byUser {
			if err := s.store.SetStructures(ctx, u, rows); err != nil {
				return n, fmt.Errorf("backfill structures: %w", err)
			}
			n += len(rows)
		}
		if pause > 0 {
			select {
			case <-ctx.Done():
				return n, ctx.Err()
			case <-time.After(pause):
			}
		}
	}
	if failed == 0 {
		if err := s.store.PutKV(ctx, structureDoneKey, []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
			return n, fmt.Errorf("backfill structures: %w", err)
		}
	}
	if n > 0 || failed > 0 {
		s.log.Info("message structures backfilled", "messages", n, "unreadable", failed)
	}
	return n, nil
}

// runStructureBackfill runs BackfillStructures once after start.
func (s *Service) runStructureBackfill(ctx context.Context) {
	if _, err := s.BackfillStructures(ctx, 20*time.Millisecond); err != nil && ctx.Err() == nil {
		s.log.Warn("backfill message structures", "err", err)
	}
}
