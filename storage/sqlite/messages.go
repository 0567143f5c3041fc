package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"

	"github.com/stamp-mail/stamp/storage"
)

// defaultListLimit is used when a ListQuery has no Limit; maxListLimit caps it.
const (
	defaultListLimit = 100
	maxListLimit     = 1000
)

type scanner interface{ Scan(dest ...any) error }

func scanMessage(sc scanner) (storage.Message, error) {
	var m storage.Message
	var flags, segs, from, to, cc string
	var idate, date int64
	var hasAtt int
	err := sc.Scan(&m.UserID, &m.ID, &m.MailboxID, &m.UID, &m.ThreadID, &m.ModSeq, &flags, &idate,
		&m.Size, &m.HeaderSize, &segs, &m.Subject, &from, &to, &cc, &date, &m.MessageIDHdr,
		&m.Snippet, &hasAtt)
	if err != nil {
		return m, err
	}
	m.Flags = decodeFlags(flags)
	m.InternalDate = fromTS(idate)
	m.Date = fromTS(date)
	m.HasAttachments = hasAtt != 0
	if err := json.Unmarshal([]byte(segs), &m.Segments); err != nil {
		return m, fmt.Errorf("message %d segments: %w", m.ID, err)
	}
	for _, f := range []struct {
		s   string
		dst *[]storage.Address
	}{{from, &m.From}, {to, &m.To}, {cc, &m.Cc}} {
		if err := json.Unmarshal([]byte(f.s), f.dst); err != nil {
			return m, fmt.Errorf("message %d addresses: %w", m.ID, err)
		}
	}
	return m, nil
}

// queryMessages runs q on db (the reader pool or a write transaction).
func queryMessages(ctx context.Context, db querier, q string, args ...any) ([]storage.Message, error) {
	return collect(ctx, db, scanMessage, q, args...)
}

// checkMailbox returns ErrNotFound unless the user owns the mailbox.
func (s *Store) checkMailbox(ctx context.Context, userID, mailboxID int64) error {
	var one int
	err := s.r.QueryRowContext(ctx, `SELECT 1 FROM mailboxes WHERE user_id = ? AND id = ?`, userID, mailboxID).Scan(&one)
	if err != nil {
		return fmt.Errorf("mailbox %d: %w", mailboxID, notFound(err))
	}
	return nil
}

// ListMessages pages a mailbox newest first by (internal date, id), after
// the cursor in q, optionally only unseen or only seen messages. The unseen
// listing is served by the partial index messages_unseen.
func (s *Store) ListMessages(ctx context.Context, userID, mailboxID int64, q storage.ListQuery) ([]storage.Message, error) {
	if err := s.checkMailbox(ctx, userID, mailboxID); err != nil {
		return nil, fmt.Errorf("sqlite: list messages: %w", err)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	limit = min(limit, maxListLimit)
	// The seen condition is a literal so that SQLite can use the partial index.
	where := `m.user_id = ? AND m.mailbox_id = ?`
	args := []any{userID, mailboxID}
	if q.Unread != nil {
		if *q.Unread {
			where += ` AND m.seen = 0`
		} else {
			where += ` AND m.seen = 1`
		}
	}
	if !q.BeforeDate.IsZero() || q.BeforeID != 0 {
		id := q.BeforeID
		if id == 0 {
			id = math.MaxInt64
		}
		where += ` AND (m.internal_date, m.id) < (?, ?)`
		args = append(args, ts(q.BeforeDate), id)
	}
	args = append(args, limit)
	msgs, err := queryMessages(ctx, s.r, `SELECT `+msgCols+` FROM messages m WHERE `+where+`
		ORDER BY m.internal_date DESC, m.id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list messages: %w", err)
	}
	return msgs, nil
}

// MessagesByUID returns the messages of a mailbox with UID in [first, last]
// (last 0: no upper bound), in UID order.
func (s *Store) MessagesByUID(ctx context.Context, userID, mailboxID int64, first, last uint32) ([]storage.Message, error) {
	if err := s.checkMailbox(ctx, userID, mailboxID); err != nil {
		return nil, fmt.Errorf("sqlite: messages by uid: %w", err)
	}
	hi := int64(last)
	if last == 0 {
		hi = math.MaxUint32
	}
	msgs, err := queryMessages(ctx, s.r, `SELECT `+msgCols+` FROM messages m
		WHERE m.user_id = ? AND m.mailbox_id = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid`,
		userID, mailboxID, first, hi)
	if err != nil {
		return nil, fmt.Errorf("sqlite: messages by uid: %w", err)
	}
	return msgs, nil
}

// GetMessage returns one message by id.
func (s *Store) GetMessage(ctx context.Context, userID, messageID int64) (storage.Message, error) {
	m, err := scanMessage(s.r.QueryRowContext(ctx, `SELECT `+msgCols+` FROM messages m
		WHERE m.user_id = ? AND m.id = ?`, userID, messageID))
	if err != nil {
		return m, fmt.Errorf("sqlite: get message %d: %w", messageID, notFound(err))
	}
	return m, nil
}

// ListAttachments returns a message's attachments in part order.
func (s *Store) ListAttachments(ctx context.Context, userID, messageID int64) ([]storage.Attachment, error) {
	var one int
	if err := s.r.QueryRowContext(ctx, `SELECT 1 FROM messages WHERE user_id = ? AND id = ?`, userID, messageID).Scan(&one); err != nil {
		return nil, fmt.Errorf("sqlite: list attachments of %d: %w", messageID, notFound(err))
	}
	rows, err := s.r.QueryContext(ctx, `SELECT message_id, part, filename, content_type, size, hash
		FROM attachments WHERE user_id = ? AND message_id = ? ORDER BY part`, userID, messageID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list attachments: %w", err)
	}
	defer rows.Close()
	out := []storage.Attachment{}
	for rows.Next() {
		var a storage.Attachment
		if err := rows.Scan(&a.MessageID, &a.Part, &a.Filename, &a.ContentType, &a.Size, &a.Hash); err != nil {
			return nil, fmt.Errorf("sqlite: list attachments: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list attachments: %w", err)
	}
	return out, nil
}

// ListThread returns a thread's messages oldest first; ErrNotFound if the
// thread has no message of the user.
func (s *Store) ListThread(ctx context.Context, userID, threadID int64) ([]storage.Message, error) {
	msgs, err := queryMessages(ctx, s.r, `SELECT `+msgCols+` FROM messages m
		WHERE m.user_id = ? AND m.thread_id = ? ORDER BY m.internal_date, m.id`, userID, threadID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list thread: %w", err)
	}
	if len(msgs) == 0 {
		return nil, fmt.Errorf("sqlite: list thread %d: %w", threadID, storage.ErrNotFound)
	}
	return msgs, nil
}

// wMailbox checks inside a write transaction that the user owns a mailbox.
func (w *wtx) wMailbox(userID, mailboxID int64) error {
	var one int
	if err := w.queryRow(`SELECT 1 FROM mailboxes WHERE user_id = ? AND id = ?`, userID, mailboxID).Scan(&one); err != nil {
		return fmt.Errorf("mailbox %d: %w", mailboxID, notFound(err))
	}
	return nil
}

// msgState is what the mutations need to know of a message.
type msgState struct {
	uid    uint32
	flags  []string
	size   int64
	segs   []storage.Segment
	modseq uint64
}

// loadState reads a message of a mailbox; ok is false if it is not there.
func (w *wtx) loadState(userID, mailboxID, id int64) (st msgState, ok bool, err error) {
	var flags, segs string
	err = w.queryRow(`SELECT uid, flags, size, segments, modseq FROM messages
		WHERE user_id = ? AND mailbox_id = ? AND id = ?`, userID, mailboxID, id).Scan(&st.uid, &flags, &st.size, &segs, &st.modseq)
	if err == sql.ErrNoRows {
		return st, false, nil
	}
	if err != nil {
		return st, false, err
	}
	st.flags = decodeFlags(flags)
	if err := json.Unmarshal([]byte(segs), &st.segs); err != nil {
		return st, false, fmt.Errorf("message %d segments: %w", id, err)
	}
	return st, true, nil
}

// UpdateFlags changes the flags of messages of one mailbox. Each message
// whose flags change gets a new MODSEQ (RFC 7162 section 3.2) and a change
// log entry; ids not in the mailbox and messages left unchanged are skipped
// and not returned.
func (s *Store) UpdateFlags(ctx context.Context, userID, mailboxID int64, ids []int64, op storage.FlagOp, flags []string) ([]storage.Message, error) {
	out, _, err := s.updateFlags(ctx, userID, mailboxID, ids, op, flags, 0)
	return out, err
}

// updateFlags is UpdateFlags; with unchangedSince > 0 it leaves alone, and
// returns in failed, the messages whose MODSEQ is above it (RFC 7162
// section 3.1.3).
func (s *Store) updateFlags(ctx context.Context, userID, mailboxID int64, ids []int64, op storage.FlagOp, flags []string,
	unchangedSince uint64) (out []storage.Message, failed []int64, err error) {
	nf, err := normFlags(flags)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: update flags: %w", err)
	}
	if op != storage.FlagsSet && op != storage.FlagsAdd && op != storage.FlagsRemove {
		return nil, nil, fmt.Errorf("sqlite: update flags: op %d: %w", op, storage.ErrInvalid)
	}
	err = s.write(ctx, func(w *wtx) error {
		failed = nil
		if err := w.wMailbox(userID, mailboxID); err != nil {
			return err
		}
		var changed []int64
		for _, id := range ids {
			st, ok, err := w.loadState(userID, mailboxID, id)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if unchangedSince > 0 && st.modseq > unchangedSince {
				failed = append(failed, id)
				continue
			}
			nw := storage.ApplyFlags(st.flags, op, nf)
			if encodeFlags(nw) == encodeFlags(st.flags) {
				continue
			}
			modseq, err := w.bumpModSeq(userID)
			if err != nil {
				return err
			}
			wasSeen, isSeen := hasSeen(st.flags), hasSeen(nw)
			if _, err := w.exec(`UPDATE messages SET flags = ?, seen = ?, modseq = ? WHERE user_id = ? AND id = ?`,
				encodeFlags(nw), b2i(isSeen), modseq, userID, id); err != nil {
				return err
			}
			if _, err := w.exec(`UPDATE mailboxes SET unread = unread + ?, highest_modseq = max(highest_modseq, ?)
				WHERE user_id = ? AND id = ?`, b2i(wasSeen)-b2i(isSeen), modseq, userID, mailboxID); err != nil {
				return err
			}
			if err := w.change(userID, modseq, mailboxID, id, st.uid, storage.ChangeFlags); err != nil {
				return err
			}
			changed = append(changed, id)
		}
		out = make([]storage.Message, 0, len(changed))
		for _, id := range changed {
			m, err := scanMessage(w.queryRow(`SELECT `+msgCols+` FROM messages m WHERE m.user_id = ? AND m.id = ?`, userID, id))
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: update flags: %w", err)
	}
	return out, failed, nil
}

// Move moves messages into another mailbox keeping their ids (RFC 6851):
// the source logs an expunge, the target a new message with a new UID, and
// both mailboxes' counters change. Ids not in the source are skipped.
func (s *Store) Move(ctx context.Context, userID, fromMailboxID int64, ids []int64, toMailboxID int64) ([]storage.Moved, error) {
	return s.transfer(ctx, "move", userID, fromMailboxID, ids, toMailboxID, func(w *wtx, id int64, st msgState) (storage.Moved, error) {
		unread := b2i(!hasSeen(st.flags))
		expSeq, err := w.bumpModSeq(userID)
		if err != nil {
			return storage.Moved{}, err
		}
		if _, err := w.stmt(w.s.st.mailboxSub).ExecContext(w.ctx, unread, st.size, expSeq, userID, fromMailboxID); err != nil {
			return storage.Moved{}, err
		}
		if err := w.change(userID, expSeq, fromMailboxID, id, st.uid, storage.ChangeExpunge); err != nil {
			return storage.Moved{}, err
		}
		newSeq, err := w.bumpModSeq(userID)
		if err != nil {
			return storage.Moved{}, err
		}
		var uid uint32
		if err := w.stmt(w.s.st.mailboxAdd).QueryRowContext(w.ctx, 1, unread, st.size, newSeq, userID, toMailboxID).Scan(&uid); err != nil {
			return storage.Moved{}, err
		}
		if _, err := w.exec(`UPDATE messages SET mailbox_id = ?, uid = ?, modseq = ? WHERE user_id = ? AND id = ?`,
			toMailboxID, uid, newSeq, userID, id); err != nil {
			return storage.Moved{}, err
		}
		if err := w.change(userID, newSeq, toMailboxID, id, uid, storage.ChangeNew); err != nil {
			return storage.Moved{}, err
		}
		return storage.Moved{ID: id, OldID: id, OldUID: st.uid, NewUID: uid}, nil
	})
}

// Copy copies messages into another mailbox (RFC 9051 section 6.4.7): new
// ids and UIDs, the same thread, flags, attachments and search text, one
// more reference to each blob. Ids not in the source are skipped.
func (s *Store) Copy(ctx context.Context, userID, fromMailboxID int64, ids []int64, toMailboxID int64) ([]storage.Moved, error) {
	return s.transfer(ctx, "copy", userID, fromMailboxID, ids, toMailboxID, func(w *wtx, id int64, st msgState) (storage.Moved, error) {
		modseq, err := w.bumpModSeq(userID)
		if err != nil {
			return storage.Moved{}, err
		}
		var uid uint32
		if err := w.stmt(w.s.st.mailboxAdd).QueryRowContext(w.ctx, 1, b2i(!hasSeen(st.flags)), st.size, modseq, userID, toMailboxID).Scan(&uid); err != nil {
			return storage.Moved{}, err
		}
		nid, err := w.nextID("message")
		if err != nil {
			return storage.Moved{}, err
		}
		if _, err := w.exec(`INSERT INTO messages (user_id, id, mailbox_id, uid, thread_id, modseq,
			flags, seen, internal_date, size, header_size, segments, subject, from_addrs, to_addrs,
			cc_addrs, date, msgid, snippet, has_attachments, subject_lc, from_lc, rcpt_lc, sent_day, structure)
			SELECT user_id, ?, ?, ?, thread_id, ?, flags, seen, internal_date, size, header_size,
			segments, subject, from_addrs, to_addrs, cc_addrs, date, msgid, snippet, has_attachments,
			subject_lc, from_lc, rcpt_lc, sent_day, structure FROM messages WHERE user_id = ? AND id = ?`,
			nid, toMailboxID, uid, modseq, userID, id); err != nil {
			return storage.Moved{}, err
		}
		if _, err := w.exec(`INSERT INTO attachments (user_id, message_id, part, filename, content_type, size, hash)
			SELECT user_id, ?, part, filename, content_type, size, hash FROM attachments
			WHERE user_id = ? AND message_id = ?`, nid, userID, id); err != nil {
			return storage.Moved{}, err
		}
		if err := w.copySearch(nid, id); err != nil {
			return storage.Moved{}, err
		}
		if err := w.incSegments(st.segs); err != nil {
			return storage.Moved{}, err
		}
		if err := w.change(userID, modseq, toMailboxID, nid, uid, storage.ChangeNew); err != nil {
			return storage.Moved{}, err
		}
		return storage.Moved{ID: nid, OldID: id, OldUID: st.uid, NewUID: uid}, nil
	})
}

// transfer runs one per-message step of Move or Copy in a write
// transaction, after checking both mailboxes are the user's; ids not in
// the source mailbox are skipped.
func (s *Store) transfer(ctx context.Context, op string, userID, fromMailboxID int64, ids []int64, toMailboxID int64,
	step func(w *wtx, id int64, st msgState) (storage.Moved, error)) ([]storage.Moved, error) {
	var out []storage.Moved
	err := s.write(ctx, func(w *wtx) error {
		if err := w.wMailbox(userID, fromMailboxID); err != nil {
			return err
		}
		if err := w.wMailbox(userID, toMailboxID); err != nil {
			return err
		}
		out = make([]storage.Moved, 0, len(ids))
		for _, id := range ids {
			st, ok, err := w.loadState(userID, fromMailboxID, id)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			m, err := step(w, id, st)
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return out, nil
}

// Expunge removes messages of a mailbox for good. It returns the UIDs
// removed, in input order, and the blobs whose reference count reached
// zero. Ids not in the mailbox are skipped.
func (s *Store) Expunge(ctx context.Context, userID, mailboxID int64, ids []int64) ([]uint32, []string, error) {
	var uids []uint32
	var freed []string
	err := s.write(ctx, func(w *wtx) error {
		if err := w.wMailbox(userID, mailboxID); err != nil {
			return err
		}
		uids = make([]uint32, 0, len(ids))
		for _, id := range ids {
			st, ok, err := w.loadState(userID, mailboxID, id)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			modseq, err := w.bumpModSeq(userID)
			if err != nil {
				return err
			}
			if _, err := w.stmt(w.s.st.mailboxSub).ExecContext(w.ctx, b2i(!hasSeen(st.flags)), st.size, modseq, userID, mailboxID); err != nil {
				return err
			}
			if err := w.change(userID, modseq, mailboxID, id, st.uid, storage.ChangeExpunge); err != nil {
				return err
			}
			if err := w.removeMessage(userID, id, st.segs); err != nil {
				return err
			}
			uids = append(uids, st.uid)
		}
		freed = w.freed
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: expunge: %w", err)
	}
	return uids, nonNil(freed), nil
}

// removeMessage deletes a message's rows, search entry and blob references
// (counters and change log are the caller's).
func (w *wtx) removeMessage(userID, id int64, segs []storage.Segment) error {
	if _, err := w.exec(`DELETE FROM attachments WHERE user_id = ? AND message_id = ?`, userID, id); err != nil {
		return err
	}
	if _, err := w.stmt(w.s.st.deleteSearch).ExecContext(w.ctx, id); err != nil {
		return err
	}
	if _, err := w.exec(`DELETE FROM messages WHERE user_id = ? AND id = ?`, userID, id); err != nil {
		return err
	}
	return w.decSegments(segs)
}

// removeMessagesWhere deletes every message of the user matching cond
// (a condition on messages with one argument), returning nothing but
// recording freed blobs.
func (w *wtx) removeMessagesWhere(userID int64, cond string, arg any) error {
	rows, err := w.query(`SELECT id, segments FROM messages WHERE user_id = ? AND `+cond, userID, arg)
	if err != nil {
		return err
	}
	type victim struct {
		id   int64
		segs []storage.Segment
	}
	var vs []victim
	for rows.Next() {
		var v victim
		var segs string
		if err := rows.Scan(&v.id, &segs); err != nil {
			rows.Close()
			return err
		}
		if err := json.Unmarshal([]byte(segs), &v.segs); err != nil {
			rows.Close()
			return fmt.Errorf("message %d segments: %w", v.id, err)
		}
		vs = append(vs, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, v := range vs {
		if err := w.removeMessage(userID, v.id, v.segs); err != nil {
			return err
		}
	}
	return nil
}
