package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/stamp-mail/stamp/storage"
	"github.com/stamp-mail/stamp/storage/internal/textkeys"
)

// likePattern returns a case-insensitive substring pattern for ILIKE with
// the wildcards of s escaped.
func likePattern(s string) string {
	return "%" + likeEscape(s) + "%"
}

func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(clean(s))
}

// searchSQL builds the FROM and WHERE of a search with $1 the user id. Every
// substring criterion is an ILIKE on search_text (see storage/search.go):
// the GIN index answers needles with a word of three runes or more, four
// for the body unless CJK (the keys of bodykeys.go: body_keys, a sample,
// for the body, hdr_keys for the header
// lines, the subject and the addresses), and the others are rechecked on
// the rows the other conditions leave, which partition pruning already
// confines to one user. It returns the rank expression of the Text terms
// ("" without them).
func searchSQL(q storage.SearchQuery, arg func(any) string) (from, where, rank string) {
	var w []string
	add := func(c string) { w = append(w, c) }
	// body is the condition that the body holds needle, whose ILIKE pattern
	// is the argument p: the GIN index answers it through the body keys
	// (bodykeys.go) when the needle has any.
	body := func(needle, p string) string {
		if k := textkeys.BodyKeys(clean(needle)); len(k) > 0 {
			return "(s.body_keys @> " + arg(k) + " AND s.body ILIKE " + p + ")"
		}
		return "s.body ILIKE " + p
	}
	// head is the condition that one of cols (of the header lines, the
	// subject and the addresses) holds needle: the GIN index answers it
	// through hdr_keys (migrations 110 and 121) when the needle has keys.
	head := func(needle, p string, cols ...string) string {
		var alt []string
		for _, c := range cols {
			alt = append(alt, "s."+c+" ILIKE "+p)
		}
		or := strings.Join(alt, " OR ")
		if k := textkeys.Keys(clean(needle)); len(k) > 0 {
			return "(s.hdr_keys @> " + arg(k) + " AND (" + or + "))"
		}
		return "(" + or + ")"
	}
	hdrs := func(needle, p string) string { return head(needle, p, "hdrs") }
	var ranks []string
	for _, t := range storage.TextTerms(q.Text) {
		p := arg(likePattern(t))
		if q.BodyOnly {
			add(body(t, p))
			continue
		}
		add(fmt.Sprintf("(%s OR %s)", head(t, p, "subject", "addrs"), body(t, p)))
		ranks = append(ranks, fmt.Sprintf("3 * (s.subject ILIKE %[1]s)::int + 2 * (s.addrs ILIKE %[1]s)::int + (s.body ILIKE %[1]s)::int", p))
	}
	for _, t := range q.Body {
		if t != "" {
			add(body(t, arg(likePattern(t))))
		}
	}
	for _, t := range q.AnyText {
		if t != "" {
			// Subject and addresses too: mail stored before migration 20 has no header lines.
			p := arg(likePattern(t))
			add(fmt.Sprintf("(%s OR %s)", head(t, p, "hdrs", "subject", "addrs"), body(t, p)))
		}
	}
	for _, h := range q.Header {
		// The whole-text ILIKE lets the index narrow the rows; the line
		// test then asks for the value inside a field of that name.
		name := strings.ToLower(strings.TrimSpace(clean(h.Name))) + ": "
		pat := arg(likePattern(h.Value))
		add(fmt.Sprintf(`%[4]s AND EXISTS (SELECT 1 FROM unnest(string_to_array(s.hdrs, E'\n')) AS l(line)
			WHERE starts_with(l.line, %[1]s) AND substr(l.line, %[2]s) ILIKE %[3]s)`,
			arg(name), arg(len([]rune(name))+1), pat, hdrs(h.Value, pat)))
	}
	from = " FROM messages m"
	if len(w) > 0 {
		from = " FROM messages m JOIN search_text s ON s.user_id = m.user_id AND s.message_id = m.id"
	}
	add("m.user_id = $1")
	if q.MailboxID != 0 {
		add("m.mailbox_id = " + arg(q.MailboxID))
	}
	if q.From != "" {
		add("m.from_text ILIKE " + arg(likePattern(q.From)))
	}
	if q.To != "" {
		add("m.to_text ILIKE " + arg(likePattern(q.To)))
	}
	if q.Subject != "" {
		add("m.subject ILIKE " + arg(likePattern(q.Subject)))
	}
	if q.HasAttachment {
		add("m.has_attachments")
	}
	if q.Unread != nil {
		if *q.Unread {
			add("NOT m.seen")
		} else {
			add("m.seen")
		}
	}
	if !q.Before.IsZero() {
		add("m.internal_date < " + arg(q.Before))
	}
	if !q.After.IsZero() {
		add("m.internal_date >= " + arg(q.After))
	}
	// RFC 9051 section 6.4.4: dates compare calendar days only.
	if !q.SentBefore.IsZero() {
		add("m.sent_day < " + arg(storage.Day(q.SentBefore)))
	}
	if !q.SentOn.IsZero() {
		add("m.sent_day = " + arg(storage.Day(q.SentOn)))
	}
	if !q.SentSince.IsZero() {
		add("m.sent_day >= " + arg(storage.Day(q.SentSince)))
	}
	if !q.DateBefore.IsZero() {
		add("m.internal_date < " + arg(storage.DayStart(q.DateBefore, q.Zone)))
	}
	if !q.DateOn.IsZero() {
		start := storage.DayStart(q.DateOn, q.Zone)
		add("m.internal_date >= " + arg(start) + " AND m.internal_date < " + arg(start.AddDate(0, 0, 1)))
	}
	if !q.DateSince.IsZero() {
		add("m.internal_date >= " + arg(storage.DayStart(q.DateSince, q.Zone)))
	}
	if q.MinModSeq > 0 {
		add("m.modseq >= " + arg(int64(q.MinModSeq)))
	}
	rank = strings.Join(ranks, " + ")
	return from, " WHERE " + strings.Join(w, " AND "), rank
}

// Search runs a query with filters over a user's messages. Results with
// Text terms are ranked (a term in the subject weighs 3, in the addresses 2,
// in the body 1), then newest first; with q.Newest only newest first.
func (s *Store) Search(ctx context.Context, userID int64, q storage.SearchQuery) ([]storage.Message, error) {
	args := []any{userID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	from, where, rank := searchSQL(q, arg)
	var b strings.Builder
	b.WriteString("SELECT " + msgCols + from + where)
	b.WriteString(" ORDER BY ")
	if rank != "" && !q.Newest {
		b.WriteString(rank + " DESC, ")
	}
	b.WriteString("m.internal_date DESC, m.id DESC")
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

// SearchUIDs returns the UIDs, ascending, of the messages of q.MailboxID
// matching q (IMAP SEARCH).
func (s *Store) SearchUIDs(ctx context.Context, userID int64, q storage.SearchQuery) ([]uint32, error) {
	if q.MailboxID == 0 {
		return nil, fmt.Errorf("postgres: search uids: no mailbox: %w", storage.ErrInvalid)
	}
	if err := s.mailboxExists(ctx, s.pool, userID, q.MailboxID); err != nil {
		return nil, mapErr("search uids", err)
	}
	args := []any{userID}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	from, where, _ := searchSQL(q, arg)
	rows, err := s.pool.Query(ctx, "SELECT m.uid"+from+where+" ORDER BY m.uid", args...)
	if err != nil {
		return nil, mapErr("search uids", err)
	}
	uids, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (uint32, error) {
		var u int64
		err := r.Scan(&u)
		return uint32(u), err
	})
	if err != nil {
		return nil, mapErr("search uids", err)
	}
	return append([]uint32{}, uids...), nil
}
