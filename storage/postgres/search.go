package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/stamp-mail/stamp/storage"
)

// likePattern returns a case-insensitive substring pattern for ILIKE with
// the wildcards of s escaped.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(clean(s)) + "%"
}

// Search runs a full-text query with filters over a user's messages. The
// text goes through plainto_tsquery, so user input is never parsed as
// tsquery syntax: every word must match, with no implied prefix match, and
// text without any word (only punctuation) adds no condition. Results are
// ranked by ts_rank (subject weighs most, then addresses, then body), then
// newest first.
func (s *Store) Search(ctx context.Context, userID int64, q storage.SearchQuery) ([]storage.Message, error) {
	args := []any{userID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	var b strings.Builder
	text := strings.TrimSpace(clean(q.Text))
	b.WriteString("SELECT " + msgCols + " FROM messages m")
	order := " ORDER BY m.internal_date DESC, m.id DESC"
	if text != "" {
		p := arg(text)
		fmt.Fprintf(&b, ` JOIN search s ON s.user_id = m.user_id AND s.message_id = m.id,
			plainto_tsquery('simple', %s) AS q`, p)
		order = " ORDER BY CASE WHEN numnode(q) = 0 THEN 0 ELSE ts_rank(s.tsv, q) END DESC, m.internal_date DESC, m.id DESC"
	}
	b.WriteString(" WHERE m.user_id = $1")
	if text != "" {
		b.WriteString(" AND (numnode(q) = 0 OR s.tsv @@ q")
		if q.BodyOnly {
			// The body's lexemes carry weight D (see Deliver); the plain
			// match above keeps the GIN index usable.
			b.WriteString(` AND ts_filter(s.tsv, '{d}') @@ q`)
		}
		b.WriteString(")")
	}
	if q.MailboxID != 0 {
		b.WriteString(" AND m.mailbox_id = " + arg(q.MailboxID))
	}
	if q.From != "" {
		b.WriteString(" AND m.from_text ILIKE " + arg(likePattern(q.From)))
	}
	if q.To != "" {
		b.WriteString(" AND m.to_text ILIKE " + arg(likePattern(q.To)))
	}
	if q.Subject != "" {
		b.WriteString(" AND m.subject ILIKE " + arg(likePattern(q.Subject)))
	}
	if q.HasAttachment {
		b.WriteString(" AND m.has_attachments")
	}
	if q.Unread != nil {
		if *q.Unread {
			b.WriteString(" AND NOT m.seen")
		} else {
			b.WriteString(" AND m.seen")
		}
	}
	if !q.Before.IsZero() {
		b.WriteString(" AND m.internal_date < " + arg(q.Before))
	}
	if !q.After.IsZero() {
		b.WriteString(" AND m.internal_date >= " + arg(q.After))
	}
	b.WriteString(order)
	if q.Limit > 0 {
		b.WriteString(" LIMIT " + arg(q.Limit))
	}
	if q.Offset > 0 {
		b.WriteString(" OFFSET " + arg(q.Offset))
	}
	rows, err := s.pool.Query(ctx, b.String(), args...)
	out, err := collectMessages(rows, err)
	return out, mapErr("search", err)
}
