package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// msgCols are the messages columns scanned by scanMessage, in order.
const msgCols = `m.user_id, m.id, m.mailbox_id, m.uid, m.thread_id, m.modseq, m.flags, m.internal_date,
	m.size, m.header_size, m.segments, m.subject, m.from_addrs, m.to_addrs, m.cc_addrs, m.date, m.msgid,
	m.snippet, m.has_attachments`

// stmts are the statements prepared once on the writer connection: the ones
// every delivery, flag change or expunge runs.
type stmts struct {
	nextSeq, bumpModSeq, mailboxAdd, mailboxSub                      *sql.Stmt
	insertMessage, insertAttachment, deleteSearch                    *sql.Stmt
	blobInc, blobDec, insertChange                                   *sql.Stmt
	refLookup, refInsert, threadBySubject, threadInsert, insertQueue *sql.Stmt
	all                                                              []*sql.Stmt
}

func (s *Store) prepare(ctx context.Context) error {
	p := func(dst **sql.Stmt, q string) error {
		st, err := s.w.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("sqlite: prepare %q: %w", q, err)
		}
		*dst = st
		s.st.all = append(s.st.all, st)
		return nil
	}
	list := []struct {
		dst **sql.Stmt
		q   string
	}{
		// The three allocations take a count (n, then the last value
		// allocated is returned): one per message, or a batch's at once.
		{&s.st.nextSeq, `UPDATE sequences SET value = value + ?2 WHERE name = ?1 RETURNING value`},
		{&s.st.bumpModSeq, `UPDATE users SET modseq = modseq + ?2 WHERE id = ?1 RETURNING modseq`},
		// Arguments: messages added, unread among them, their size, their
		// highest MODSEQ, user, mailbox; returns the first new UID.
		{&s.st.mailboxAdd, `UPDATE mailboxes SET uidnext = uidnext + ?1, total = total + ?1,
			unread = unread + ?2, size = size + ?3, highest_modseq = max(highest_modseq, ?4)
			WHERE user_id = ?5 AND id = ?6 RETURNING uidnext - ?1`},
		{&s.st.mailboxSub, `UPDATE mailboxes SET total = total - 1, unread = unread - ?, size = size - ?,
			highest_modseq = max(highest_modseq, ?) WHERE user_id = ? AND id = ?`},
		{&s.st.insertMessage, `INSERT INTO messages (user_id, id, mailbox_id, uid, thread_id, modseq,
			flags, seen, internal_date, size, header_size, segments, subject, from_addrs, to_addrs,
			cc_addrs, date, msgid, snippet, has_attachments, subject_lc, from_lc, rcpt_lc, sent_day, structure)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&s.st.insertAttachment, `INSERT INTO attachments (user_id, message_id, part, filename,
			content_type, size, hash) VALUES (?, ?, ?, ?, ?, ?, ?)`},
		{&s.st.deleteSearch, `DELETE FROM search_text WHERE id = ?`}, // and its keys: trigger search_text_delete
		{&s.st.blobInc, `INSERT INTO blobs (hash, size, refcount, zero_since) VALUES (?, ?, 1, NULL)
			ON CONFLICT (hash) DO UPDATE SET refcount = refcount + 1, zero_since = NULL`},
		{&s.st.blobDec, `UPDATE blobs SET refcount = refcount - 1,
			zero_since = CASE WHEN refcount = 1 THEN ? ELSE zero_since END
			WHERE hash = ? AND refcount > 0 RETURNING refcount`},
		{&s.st.insertChange, `INSERT INTO changes (user_id, modseq, mailbox_id, message_id, uid, kind, at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`},
		{&s.st.refLookup, `SELECT thread_id FROM thread_refs WHERE user_id = ? AND msgid = ?`},
		{&s.st.refInsert, `INSERT OR IGNORE INTO thread_refs (user_id, msgid, thread_id) VALUES (?, ?, ?)`},
		{&s.st.threadBySubject, threadBySubjectSQL},
		{&s.st.threadInsert, `INSERT INTO threads (user_id, id, subject_norm) VALUES (?, ?, ?)`},
		{&s.st.insertQueue, `INSERT INTO queue (user_id, sender, recipients, segments, size, state,
			attempts, next_attempt_at, created_at, last_error, results,
			dsn_ret, dsn_envid, dsn_rcpts, delay_notified, require_tls)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`},
	}
	for _, l := range list {
		if err := p(l.dst, l.q); err != nil {
			return err
		}
	}
	return nil
}

func (st *stmts) close() {
	for _, s := range st.all {
		s.Close()
	}
	st.all = nil
}
