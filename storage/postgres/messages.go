package postgres

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/stamp-mail/stamp/storage"
)

// msgCols is the column list scanMessage reads, for a messages table aliased m.
const msgCols = `m.id, m.user_id, m.mailbox_id, m.uid, m.thread_id, m.modseq, m.flags, m.internal_date,
	m.size, m.header_size, m.segments, m.subject, m.from_addrs, m.to_addrs, m.cc_addrs, m.date,
	m.message_id_hdr, m.snippet, m.has_attachments`

func scanMessage(row pgx.Row, extra ...any) (storage.Message, error) {
	var m storage.Message
	var uid, modseq int64
	var date pgtype.Timestamptz
	dest := []any{&m.ID, &m.UserID, &m.MailboxID, &uid, &m.ThreadID, &modseq, &m.Flags, &m.InternalDate,
		&m.Size, &m.HeaderSize, &m.Segments, &m.Subject, &m.From, &m.To, &m.Cc, &date,
		&m.MessageIDHdr, &m.Snippet, &m.HasAttachments}
	err := row.Scan(append(dest, extra...)...)
	m.UID, m.ModSeq = uint32(uid), uint64(modseq)
	m.InternalDate = utc(m.InternalDate)
	if date.Valid {
		m.Date = date.Time.UTC()
	}
	if m.Flags == nil {
		m.Flags = []string{}
	}
	return m, err
}

func collectMessages(rows pgx.Rows, err error) ([]storage.Message, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (storage.Message, error) { return scanMessage(r) })
}

// mailboxExists reports ErrNotFound for a mailbox the user does not own; it
// is called only when a listing came back empty.
func (s *Store) mailboxExists(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, userID, mailboxID int64) error {
	var one int
	err := q.QueryRow(ctx, "SELECT 1 FROM mailboxes WHERE user_id = $1 AND id = $2", userID, mailboxID).Scan(&one)
	return notFound(err, "mailbox %d", mailboxID)
}

// ListMessages pages a mailbox newest first by (internal_date, id) with a
// keyset cursor; the unread filter is served by the partial index on unseen
// messages. Limit <= 0 means no limit.
func (s *Store) ListMessages(ctx context.Context, userID, mailboxID int64, q storage.ListQuery) ([]storage.Message, error) {
	sql := "SELECT " + msgCols + " FROM messages m WHERE m.user_id = $1 AND m.mailbox_id = $2"
	args := []any{userID, mailboxID}
	if !q.BeforeDate.IsZero() {
		args = append(args, q.BeforeDate, q.BeforeID)
		sql += " AND (m.internal_date, m.id) < ($3, $4)"
	}
	if q.Unread != nil {
		if *q.Unread {
			sql += " AND NOT m.seen"
		} else {
			sql += " AND m.seen"
		}
	}
	sql += " ORDER BY m.internal_date DESC, m.id DESC"
	if q.Limit > 0 {
		args = append(args, q.Limit)
		sql += fmt.Sprintf(" LIMIT $%d", len(args))
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	out, err := collectMessages(rows, err)
	if err == nil && len(out) == 0 {
		err = s.mailboxExists(ctx, s.pool, userID, mailboxID)
	}
	return out, mapErr("list messages", err)
}

// MessagesByUID returns the messages of a mailbox with UID in [first, last]
// (last 0: no bound), in UID order.
func (s *Store) MessagesByUID(ctx context.Context, userID, mailboxID int64, first, last uint32) ([]storage.Message, error) {
	hi := int64(last)
	if last == 0 {
		hi = 1 << 40
	}
	rows, err := s.pool.Query(ctx, "SELECT "+msgCols+` FROM messages m
		WHERE m.user_id = $1 AND m.mailbox_id = $2 AND m.uid BETWEEN $3 AND $4 ORDER BY m.uid`,
		userID, mailboxID, int64(first), hi)
	out, err := collectMessages(rows, err)
	if err == nil && len(out) == 0 {
		err = s.mailboxExists(ctx, s.pool, userID, mailboxID)
	}
	return out, mapErr("messages by uid", err)
}

// GetMessage returns one message by id.
func (s *Store) GetMessage(ctx context.Context, userID, messageID int64) (storage.Message, error) {
	m, err := scanMessage(s.pool.QueryRow(ctx, "SELECT "+msgCols+" FROM messages m WHERE m.user_id = $1 AND m.id = $2", userID, messageID))
	return m, mapErr(fmt.Sprintf("get message %d", messageID), err)
}

// ListAttachments returns a message's attachments in part order.
func (s *Store) ListAttachments(ctx context.Context, userID, messageID int64) ([]storage.Attachment, error) {
	rows, err := s.pool.Query(ctx, `SELECT message_id, part, filename, content_type, size, hash FROM attachments
		WHERE user_id = $1 AND message_id = $2 ORDER BY part`, userID, messageID)
	if err != nil {
		return nil, mapErr("list attachments", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (storage.Attachment, error) {
		var a storage.Attachment
		err := r.Scan(&a.MessageID, &a.Part, &a.Filename, &a.ContentType, &a.Size, &a.Hash)
		return a, err
	})
	if err == nil && len(out) == 0 {
		var one int
		err = notFound(s.pool.QueryRow(ctx, "SELECT 1 FROM messages WHERE user_id = $1 AND id = $2", userID, messageID).Scan(&one),
			"message %d", messageID)
	}
	return out, mapErr("list attachments", err)
}

// ListThread returns a thread's messages oldest first.
func (s *Store) ListThread(ctx context.Context, userID, threadID int64) ([]storage.Message, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+msgCols+` FROM messages m WHERE m.user_id = $1 AND m.thread_id = $2
		ORDER BY m.internal_date, m.id`, userID, threadID)
	out, err := collectMessages(rows, err)
	if err == nil && len(out) == 0 {
		var one int
		err = notFound(s.pool.QueryRow(ctx, "SELECT 1 FROM threads WHERE user_id = $1 AND id = $2", userID, threadID).Scan(&one),
			"thread %d", threadID)
	}
	return out, mapErr("list thread", err)
}

// lockMailboxes locks the given mailboxes of a user in ascending id order
// and reports ErrNotFound if one is missing.
func lockMailboxes(ctx context.Context, tx pgx.Tx, userID int64, ids ...int64) error {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	rows, err := tx.Query(ctx, "SELECT id FROM mailboxes WHERE user_id = $1 AND id = ANY($2) ORDER BY id FOR UPDATE", userID, ids)
	if err != nil {
		return err
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	for _, id := range ids {
		if !slices.Contains(got, id) {
			return fmt.Errorf("mailbox %d: %w", id, storage.ErrNotFound)
		}
	}
	return nil
}

// UpdateFlags changes the flags of messages in a mailbox. Only messages
// whose flags change get a new MODSEQ (RFC 7162 section 3.1.3) and are
// returned, in input order.
func (s *Store) UpdateFlags(ctx context.Context, userID, mailboxID int64, ids []int64, op storage.FlagOp, flags []string) ([]storage.Message, error) {
	out, _, err := s.updateFlags(ctx, userID, mailboxID, ids, op, flags, 0)
	return out, err
}

// updateFlags is UpdateFlags; with unchangedSince > 0 it leaves alone, and
// returns in failed, the messages whose MODSEQ is above it (RFC 7162
// section 3.1.3).
func (s *Store) updateFlags(ctx context.Context, userID, mailboxID int64, ids []int64, op storage.FlagOp, flags []string,
	unchangedSince uint64) (out []storage.Message, failed []int64, err error) {
	if err := checkFlags(flags); err != nil {
		return nil, nil, fmt.Errorf("postgres: update flags: %w", err)
	}
	flags = normFlags(flags)
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		failed = nil
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		if err := lockMailboxes(ctx, tx, userID, mailboxID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT "+msgCols+`, m.seen FROM messages m
			WHERE m.user_id = $1 AND m.mailbox_id = $2 AND m.id = ANY($3) FOR UPDATE`, userID, mailboxID, ids)
		if err != nil {
			return err
		}
		byID := map[int64]storage.Message{}
		for rows.Next() {
			var seen bool
			m, err := scanMessage(rows, &seen)
			if err != nil {
				rows.Close()
				return err
			}
			byID[m.ID] = m
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var changed []storage.Message
		done := map[int64]bool{}
		unreadDelta := 0
		for _, id := range ids {
			m, ok := byID[id]
			if !ok || done[id] {
				continue
			}
			done[id] = true
			if unchangedSince > 0 && m.ModSeq > unchangedSince {
				failed = append(failed, id)
				continue
			}
			nf := storage.ApplyFlags(m.Flags, op, flags)
			if slices.Equal(nf, m.Flags) {
				continue
			}
			was, is := hasSeen(m.Flags), hasSeen(nf)
			if was && !is {
				unreadDelta++
			} else if !was && is {
				unreadDelta--
			}
			m.Flags = nf
			changed = append(changed, m)
		}
		if len(changed) == 0 {
			return nil
		}
		last, err := bumpModSeq(ctx, tx, userID, len(changed))
		if err != nil {
			return err
		}
		var mids, mods []int64
		var fl []string
		for i := range changed {
			changed[i].ModSeq = last - uint64(len(changed)) + uint64(i) + 1
			j, _ := jsonText(changed[i].Flags)
			mids, mods, fl = append(mids, changed[i].ID), append(mods, int64(changed[i].ModSeq)), append(fl, j)
		}
		b := &pgx.Batch{}
		b.Queue(`UPDATE messages m SET flags = ARRAY(SELECT jsonb_array_elements_text(t.fl::jsonb)),
				seen = ARRAY[$4::text] <@ ARRAY(SELECT jsonb_array_elements_text(t.fl::jsonb)), modseq = t.ms
			FROM unnest($2::bigint[], $3::bigint[], $5::text[]) AS t(id, ms, fl)
			WHERE m.user_id = $1 AND m.id = t.id`, userID, mids, mods, storage.FlagSeen, fl)
		b.Queue(`INSERT INTO changes (user_id, modseq, mailbox_id, message_id, uid, kind)
			SELECT $1, ms, $2, id, uid, 'flags' FROM unnest($3::bigint[], $4::bigint[], $5::bigint[]) AS t(id, ms, uid)`,
			userID, mailboxID, mids, mods, uidsOf(changed))
		b.Queue(`UPDATE mailboxes SET unread = unread + $3, highest_modseq = greatest(highest_modseq, $4)
			WHERE user_id = $1 AND id = $2`, userID, mailboxID, unreadDelta, int64(last))
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		out = changed
		return nil
	})
	if err != nil {
		return nil, nil, mapErr("update flags", err)
	}
	return out, failed, nil
}

func uidsOf(ms []storage.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = int64(m.UID)
	}
	return out
}

// gone describes messages removed from a mailbox.
type gone struct {
	ids    []int64
	uids   []int64
	unread int
	size   int64
	refs   blobRefs
}

// deleteMessages deletes messages of a mailbox (ids nil: all of them) with
// their attachments and search rows, returning what went, in UID order.
func deleteMessages(ctx context.Context, tx pgx.Tx, userID, mailboxID int64, ids []int64) (gone, error) {
	g := gone{refs: blobRefs{}}
	sql := `DELETE FROM messages WHERE user_id = $1 AND mailbox_id = $2`
	args := []any{userID, mailboxID}
	if ids != nil {
		sql += " AND id = ANY($3)"
		args = append(args, ids)
	}
	rows, err := tx.Query(ctx, sql+" RETURNING id, uid, seen, size, segments", args...)
	if err != nil {
		return g, err
	}
	type row struct {
		id, uid int64
	}
	var rs []row
	for rows.Next() {
		var r row
		var seen bool
		var size int64
		var segs []storage.Segment
		if err := rows.Scan(&r.id, &r.uid, &seen, &size, &segs); err != nil {
			rows.Close()
			return g, err
		}
		rs = append(rs, r)
		if !seen {
			g.unread++
		}
		g.size += size
		g.refs.add(segs)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return g, err
	}
	slices.SortFunc(rs, func(a, b row) int { return int(a.uid - b.uid) })
	for _, r := range rs {
		g.ids, g.uids = append(g.ids, r.id), append(g.uids, r.uid)
	}
	if len(g.ids) == 0 {
		return g, nil
	}
	b := &pgx.Batch{}
	b.Queue("DELETE FROM attachments WHERE user_id = $1 AND message_id = ANY($2)", userID, g.ids)
	b.Queue("DELETE FROM search_text WHERE user_id = $1 AND message_id = ANY($2)", userID, g.ids)
	return g, tx.SendBatch(ctx, b).Close()
}

// Expunge removes messages from a mailbox for good. Each removed message
// gets an expunge change with its own MODSEQ.
func (s *Store) Expunge(ctx context.Context, userID, mailboxID int64, ids []int64) ([]uint32, []string, error) {
	var uids []uint32
	var freed []string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		if err := lockMailboxes(ctx, tx, userID, mailboxID); err != nil {
			return err
		}
		g, err := deleteMessages(ctx, tx, userID, mailboxID, nonNil(ids))
		if err != nil || len(g.ids) == 0 {
			return err
		}
		last, err := bumpModSeq(ctx, tx, userID, len(g.ids))
		if err != nil {
			return err
		}
		if err := logRemoval(ctx, tx, userID, mailboxID, g, last); err != nil {
			return err
		}
		for _, u := range g.uids {
			uids = append(uids, uint32(u))
		}
		freed, err = unrefBlobs(ctx, tx, g.refs)
		return err
	})
	if err != nil {
		return nil, nil, mapErr("expunge", err)
	}
	return uids, freed, nil
}

// logRemoval writes expunge changes with MODSEQs ending at last and updates
// the mailbox counters.
func logRemoval(ctx context.Context, tx pgx.Tx, userID, mailboxID int64, g gone, last uint64) error {
	first := int64(last) - int64(len(g.ids)) + 1
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO changes (user_id, modseq, mailbox_id, message_id, uid, kind)
		SELECT $1, $2 + o - 1, $3, id, uid, 'expunge' FROM unnest($4::bigint[], $5::bigint[]) WITH ORDINALITY AS t(id, uid, o)`,
		userID, first, mailboxID, g.ids, g.uids)
	b.Queue(`UPDATE mailboxes SET total = total - $3, unread = unread - $4, size = size - $5,
		highest_modseq = greatest(highest_modseq, $6) WHERE user_id = $1 AND id = $2`,
		userID, mailboxID, len(g.ids), g.unread, g.size, int64(last))
	return tx.SendBatch(ctx, b).Close()
}

// Move moves messages into another mailbox with new UIDs (RFC 6851): an
// expunge in the source and a new message in the target, each with its own
// MODSEQ. The message keeps its id.
func (s *Store) Move(ctx context.Context, userID, fromMailboxID int64, ids []int64, toMailboxID int64) ([]storage.Moved, error) {
	return s.transfer(ctx, userID, fromMailboxID, ids, toMailboxID, true)
}

// Copy copies messages into another mailbox, sharing their blobs: new ids,
// new UIDs, same flags, thread, attachments and search text.
func (s *Store) Copy(ctx context.Context, userID, fromMailboxID int64, ids []int64, toMailboxID int64) ([]storage.Moved, error) {
	return s.transfer(ctx, userID, fromMailboxID, ids, toMailboxID, false)
}

func (s *Store) transfer(ctx context.Context, userID, from int64, ids []int64, to int64, move bool) ([]storage.Moved, error) {
	op := "copy"
	if move {
		op = "move"
	}
	var out []storage.Moved
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		if err := lockMailboxes(ctx, tx, userID, from, to); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id, uid, seen, size, segments FROM messages
			WHERE user_id = $1 AND mailbox_id = $2 AND id = ANY($3) FOR UPDATE`, userID, from, nonNil(ids))
		if err != nil {
			return err
		}
		type src struct {
			uid  int64
			seen bool
			size int64
			segs []storage.Segment
		}
		found := map[int64]src{}
		for rows.Next() {
			var id int64
			var r src
			if err := rows.Scan(&id, &r.uid, &r.seen, &r.size, &r.segs); err != nil {
				rows.Close()
				return err
			}
			found[id] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var srcIDs, srcUIDs []int64
		g := gone{refs: blobRefs{}}
		for _, id := range ids {
			r, ok := found[id]
			if !ok {
				continue
			}
			delete(found, id) // input duplicates count once
			srcIDs, srcUIDs = append(srcIDs, id), append(srcUIDs, r.uid)
			if !r.seen {
				g.unread++
			}
			g.size += r.size
			g.refs.add(r.segs)
		}
		n := len(srcIDs)
		if n == 0 {
			return nil
		}
		var next int64
		if err := tx.QueryRow(ctx, `UPDATE mailboxes SET uidnext = uidnext + $3, total = total + $3,
			unread = unread + $4, size = size + $5 WHERE user_id = $1 AND id = $2 RETURNING uidnext`,
			userID, to, n, g.unread, g.size).Scan(&next); err != nil {
			return err
		}
		firstUID := next - int64(n)
		nChanges := n
		if move {
			nChanges = 2 * n
		}
		last, err := bumpModSeq(ctx, tx, userID, nChanges)
		if err != nil {
			return err
		}
		// MODSEQs: a copy takes one per message; a move two per message,
		// the expunge in the source then the new message in the target.
		step := int64(nChanges / n)
		firstNew := int64(last) - int64(nChanges) + step
		newIDs := srcIDs
		if !move {
			if err := tx.QueryRow(ctx, "SELECT ARRAY(SELECT nextval('message_ids') FROM generate_series(1, $1))", n).Scan(&newIDs); err != nil {
				return err
			}
		}
		b := &pgx.Batch{}
		if move {
			b.Queue(`INSERT INTO changes (user_id, modseq, mailbox_id, message_id, uid, kind)
				SELECT $1, $2 + 2 * (o - 1), $3, id, uid, 'expunge' FROM unnest($4::bigint[], $5::bigint[]) WITH ORDINALITY AS t(id, uid, o)`,
				userID, firstNew-1, from, srcIDs, srcUIDs)
			b.Queue(`UPDATE mailboxes SET total = total - $3, unread = unread - $4, size = size - $5,
				highest_modseq = greatest(highest_modseq, $6) WHERE user_id = $1 AND id = $2`,
				userID, from, n, g.unread, g.size, int64(last)-1)
			b.Queue(`UPDATE messages m SET mailbox_id = $2, uid = $3 + t.o - 1, modseq = $4 + 2 * (t.o - 1)
				FROM unnest($5::bigint[]) WITH ORDINALITY AS t(id, o)
				WHERE m.user_id = $1 AND m.id = t.id`, userID, to, firstUID, firstNew, srcIDs)
		} else {
			b.Queue(`INSERT INTO messages (user_id, id, mailbox_id, uid, thread_id, modseq, flags, seen,
					internal_date, size, header_size, segments, subject, from_addrs, to_addrs, cc_addrs,
					from_text, to_text, date, message_id_hdr, snippet, has_attachments, sent_day, structure)
				SELECT m.user_id, t.nid, $2, $3 + t.o - 1, m.thread_id, $4 + t.o - 1, m.flags, m.seen,
					m.internal_date, m.size, m.header_size, m.segments, m.subject, m.from_addrs, m.to_addrs, m.cc_addrs,
					m.from_text, m.to_text, m.date, m.message_id_hdr, m.snippet, m.has_attachments, m.sent_day, m.structure
				FROM unnest($5::bigint[], $6::bigint[]) WITH ORDINALITY AS t(id, nid, o)
				JOIN messages m ON m.user_id = $1 AND m.id = t.id`, userID, to, firstUID, firstNew, srcIDs, newIDs)
			b.Queue(`INSERT INTO attachments (user_id, message_id, part, filename, content_type, size, hash)
				SELECT a.user_id, t.nid, a.part, a.filename, a.content_type, a.size, a.hash
				FROM unnest($2::bigint[], $3::bigint[]) AS t(id, nid)
				JOIN attachments a ON a.user_id = $1 AND a.message_id = t.id`, userID, srcIDs, newIDs)
			b.Queue(`INSERT INTO search_text (user_id, message_id, subject, addrs, hdrs, body, body_keys, hdr_keys)
				SELECT s.user_id, t.nid, s.subject, s.addrs, s.hdrs, s.body, s.body_keys, s.hdr_keys FROM unnest($2::bigint[], $3::bigint[]) AS t(id, nid)
				JOIN search_text s ON s.user_id = $1 AND s.message_id = t.id`, userID, srcIDs, newIDs)
			h, sz, cnt := g.refs.arrays()
			b.Queue(refBlobsSQL, h, sz, cnt)
		}
		b.Queue(`INSERT INTO changes (user_id, modseq, mailbox_id, message_id, uid, kind)
			SELECT $1, $2 + $6 * (o - 1), $3, id, $4 + o - 1, 'new' FROM unnest($5::bigint[]) WITH ORDINALITY AS t(id, o)`,
			userID, firstNew, to, firstUID, newIDs, step)
		b.Queue("UPDATE mailboxes SET highest_modseq = greatest(highest_modseq, $3) WHERE user_id = $1 AND id = $2",
			userID, to, int64(last))
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		for i := range srcIDs {
			out = append(out, storage.Moved{ID: newIDs[i], OldID: srcIDs[i], OldUID: uint32(srcUIDs[i]), NewUID: uint32(firstUID) + uint32(i)})
		}
		return nil
	})
	if err != nil {
		return nil, mapErr(op, err)
	}
	return out, nil
}
