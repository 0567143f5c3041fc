package sqlite

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/stamp-mail/stamp/storage"
)

// defaultSearchLimit is used when a SearchQuery has no Limit.
const (
	defaultSearchLimit = 50
	maxSearchLimit     = 1000
)

// ftsQuery turns free text into an FTS5 query in which every term must
// match: each whitespace-separated term becomes a quoted string (double
// quotes doubled), so no input can use FTS5 operators, column filters or
// prefix stars. Control characters (FTS5 reads the query as a C string, so
// a NUL would end it inside a quoted term) and invalid UTF-8 separate terms.
// Terms without a letter or digit are dropped.
func ftsQuery(text string) string {
	text = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, text)
	var parts []string
	for _, t := range strings.Fields(text) {
		if !strings.ContainsFunc(t, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			continue
		}
		parts = append(parts, `"`+strings.ReplaceAll(t, `"`, `""`)+`"`)
	}
	return strings.Join(parts, " ")
}

// Search runs a full-text query with filters over a user's messages. With
// text, results are ranked by bm25 (subject weighs most, then addresses,
// then body) and then by date, newest first; without text, newest first.
func (s *Store) Search(ctx context.Context, userID int64, q storage.SearchQuery) ([]storage.Message, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = defaultSearchLimit
	}
	limit = min(limit, maxSearchLimit)
	offset := max(q.Offset, 0)

	var where []string
	var args []any
	match := ftsQuery(q.Text)
	if match != "" && q.BodyOnly {
		match = "body : (" + match + ")" // FTS5 column filter
	}
	if match != "" {
		where = append(where, `search MATCH ?`)
		args = append(args, match)
	}
	where = append(where, `m.user_id = ?`)
	args = append(args, userID)
	if q.MailboxID != 0 {
		where = append(where, `m.mailbox_id = ?`)
		args = append(args, q.MailboxID)
	}
	for _, f := range []struct{ col, v string }{{"m.from_lc", q.From}, {"m.rcpt_lc", q.To}, {"m.subject_lc", q.Subject}} {
		if f.v != "" {
			where = append(where, `instr(`+f.col+`, ?) > 0`)
			args = append(args, strings.ToLower(f.v))
		}
	}
	if q.HasAttachment {
		where = append(where, `m.has_attachments = 1`)
	}
	if q.Unread != nil {
		if *q.Unread {
			where = append(where, `m.seen = 0`)
		} else {
			where = append(where, `m.seen = 1`)
		}
	}
	if !q.Before.IsZero() {
		where = append(where, `m.internal_date < ?`)
		args = append(args, ts(q.Before))
	}
	if !q.After.IsZero() {
		where = append(where, `m.internal_date >= ?`)
		args = append(args, ts(q.After))
	}
	args = append(args, limit, offset)
	var sqlq string
	if match != "" {
		sqlq = `SELECT ` + msgCols + ` FROM search JOIN messages m ON m.user_id = ? AND m.id = search.rowid
			WHERE ` + strings.Join(where, " AND ") + `
			ORDER BY bm25(search, 3.0, 2.0, 1.0), m.internal_date DESC, m.id DESC LIMIT ? OFFSET ?`
		args = append([]any{userID}, args...)
	} else {
		sqlq = `SELECT ` + msgCols + ` FROM messages m WHERE ` + strings.Join(where, " AND ") + `
			ORDER BY m.internal_date DESC, m.id DESC LIMIT ? OFFSET ?`
	}
	msgs, err := queryMessages(ctx, s.r, sqlq, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: search: %w", err)
	}
	return msgs, nil
}

// HighestModSeq returns the user's current MODSEQ.
func (s *Store) HighestModSeq(ctx context.Context, userID int64) (uint64, error) {
	var m uint64
	if err := s.r.QueryRowContext(ctx, `SELECT modseq FROM users WHERE id = ?`, userID).Scan(&m); err != nil {
		return 0, fmt.Errorf("sqlite: highest modseq of %d: %w", userID, notFound(err))
	}
	return m, nil
}

// ChangesSince returns up to limit (default 1000) change log entries with
// MODSEQ above modseq, oldest first.
func (s *Store) ChangesSince(ctx context.Context, userID int64, modseq uint64, limit int) ([]storage.Change, error) {
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.r.QueryContext(ctx, `SELECT modseq, mailbox_id, message_id, uid, kind FROM changes
		WHERE user_id = ? AND modseq > ? ORDER BY modseq LIMIT ?`, userID, modseq, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: changes since: %w", err)
	}
	defer rows.Close()
	out := []storage.Change{}
	for rows.Next() {
		var c storage.Change
		var kind string
		if err := rows.Scan(&c.ModSeq, &c.MailboxID, &c.MessageID, &c.UID, &kind); err != nil {
			return nil, fmt.Errorf("sqlite: changes since: %w", err)
		}
		c.Kind = storage.ChangeKind(kind)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: changes since: %w", err)
	}
	return out, nil
}
