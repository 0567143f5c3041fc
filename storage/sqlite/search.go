package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/stamp-mail/stamp/storage"
)

// defaultSearchLimit is used when a SearchQuery has no Limit.
const (
	defaultSearchLimit = 50
	maxSearchLimit     = 1000
)

// The columns of search_text and of the key index search (searchkeys.go;
// id and rowid = message id), in the order of the bm25 weights.
const (
	colSubject = "subject"
	colAddrs   = "addrs"
	colHdrs    = "hdrs"
	colBody    = "body"
)

// searchCols are the search table's columns in declaration order.
var searchCols = []string{colSubject, colAddrs, colHdrs, colBody}

// searchPlan is a SearchQuery turned into SQL conditions on messages m and
// the texts t (search_text), an FTS5 query of the keys of the needles that
// have any (searchkeys.go), and the header checks left to Go.
type searchPlan struct {
	where   []string
	args    []any
	match   []string // FTS5 query parts, ANDed
	headers []storage.HeaderTerm
	ranked  bool // Text terms are in match: order by bm25
	join    bool // conditions on search_text's columns
}

// addNeedle asks the key index for a needle's keys, if it has any, and
// checks the candidates exactly with stamp_contains_fold (storage.ContainsFold
// in SQL); it reports whether the index narrows the needle.
func (p *searchPlan) addNeedle(cols []string, text string) bool {
	if text == "" {
		return false
	}
	indexed := false
	if toks := needleTokens(text, slices.Contains(cols, colBody)); len(toks) > 0 {
		p.match = append(p.match, ftsKeys(cols, toks))
		indexed = true
	}
	var or []string
	for _, c := range cols {
		or = append(or, `stamp_contains_fold(t.`+c+`, ?)`)
		p.args = append(p.args, text)
	}
	p.where = append(p.where, "("+strings.Join(or, " OR ")+")")
	p.join = true
	return indexed
}

func (p *searchPlan) cond(c string, args ...any) {
	p.where = append(p.where, c)
	p.args = append(p.args, args...)
}

func planSearch(userID int64, q storage.SearchQuery) searchPlan {
	var p searchPlan
	p.cond(`m.user_id = ?`, userID)
	textCols := []string{colSubject, colAddrs, colBody}
	if q.BodyOnly {
		textCols = []string{colBody}
	}
	for _, t := range storage.TextTerms(q.Text) {
		if p.addNeedle(textCols, t) {
			p.ranked = true
		}
	}
	for _, t := range q.Body {
		p.addNeedle([]string{colBody}, t)
	}
	for _, t := range q.AnyText {
		// Subject and addresses too: mail stored before migration 20 has no header lines.
		p.addNeedle(searchCols, t)
	}
	for _, h := range q.Header {
		p.headers = append(p.headers, h)
		if toks := needleTokens(h.Value, false); len(toks) > 0 {
			p.match = append(p.match, ftsKeys([]string{colHdrs}, toks))
		}
	}
	if q.MailboxID != 0 {
		p.cond(`m.mailbox_id = ?`, q.MailboxID)
	}
	for _, f := range []struct{ col, v string }{{"m.from_lc", q.From}, {"m.rcpt_lc", q.To}, {"m.subject_lc", q.Subject}} {
		if f.v != "" {
			p.cond(`instr(`+f.col+`, ?) > 0`, strings.ToLower(f.v))
		}
	}
	if q.HasAttachment {
		p.cond(`m.has_attachments = 1`)
	}
	if q.Unread != nil {
		p.cond(`m.seen = ?`, b2i(!*q.Unread))
	}
	if !q.Before.IsZero() {
		p.cond(`m.internal_date < ?`, ts(q.Before))
	}
	if !q.After.IsZero() {
		p.cond(`m.internal_date >= ?`, ts(q.After))
	}
	// RFC 9051 section 6.4.4: dates compare calendar days only.
	if !q.SentBefore.IsZero() {
		p.cond(`m.sent_day < ?`, storage.Day(q.SentBefore))
	}
	if !q.SentOn.IsZero() {
		p.cond(`m.sent_day = ?`, storage.Day(q.SentOn))
	}
	if !q.SentSince.IsZero() {
		p.cond(`m.sent_day >= ?`, storage.Day(q.SentSince))
	}
	if !q.DateBefore.IsZero() {
		p.cond(`m.internal_date < ?`, ts(storage.DayStart(q.DateBefore, q.Zone)))
	}
	if !q.DateOn.IsZero() {
		start := storage.DayStart(q.DateOn, q.Zone)
		p.cond(`m.internal_date >= ? AND m.internal_date < ?`, ts(start), ts(start.AddDate(0, 0, 1)))
	}
	if !q.DateSince.IsZero() {
		p.cond(`m.internal_date >= ?`, ts(storage.DayStart(q.DateSince, q.Zone)))
	}
	if q.MinModSeq > 0 {
		p.cond(`m.modseq >= ?`, q.MinModSeq)
	}
	return p
}

// goSide reports whether rows must be checked in Go after SQL (SEARCH
// HEADER: the field name and value of one header line).
func (p *searchPlan) goSide() bool { return len(p.headers) > 0 }

// from returns the FROM clause and its leading arguments: the key index
// drives when there is an index query, else messages; search_text is
// joined when conditions or Go-side checks need the texts.
func (p *searchPlan) from(userID int64) (string, []any) {
	texts := ""
	if p.goSide() || p.join {
		texts = ` JOIN search_text t ON t.id = m.id`
	}
	if len(p.match) > 0 {
		p.cond(`search MATCH ?`, strings.Join(p.match, " AND "))
		return ` FROM search JOIN messages m ON m.user_id = ? AND m.id = search.rowid` + texts, []any{userID}
	}
	return ` FROM messages m` + texts, nil
}

// textCols are the search_text columns selected for Go-side checks.
func (p *searchPlan) textCols() string {
	if !p.goSide() {
		return ""
	}
	return `, t.hdrs`
}

// texts holds what a row's Go-side checks read.
type texts struct{ hdrs string }

func (t *texts) dest() []any { return []any{&t.hdrs} }

// check applies the Go-side criteria to a row's texts.
func (p *searchPlan) check(t *texts) bool {
	for _, h := range p.headers {
		if !storage.HeaderMatches(t.hdrs, h.Name, h.Value) {
			return false
		}
	}
	return true
}

// Search runs a query with filters over a user's messages. With Text terms
// narrowed by the key index, results are ranked by bm25 over the terms'
// keys (subject weighs most, then addresses, then body) and then by date,
// newest first; otherwise (or with q.Newest) newest first.
func (s *Store) Search(ctx context.Context, userID int64, q storage.SearchQuery) ([]storage.Message, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = defaultSearchLimit
	}
	limit = min(limit, maxSearchLimit)
	offset := max(q.Offset, 0)
	p := planSearch(userID, q)
	from, lead := p.from(userID)
	order := ` ORDER BY m.internal_date DESC, m.id DESC`
	if p.ranked && !q.Newest {
		order = ` ORDER BY bm25(search, 3.0, 2.0, 1.0, 1.0), m.internal_date DESC, m.id DESC`
	}
	sqlq := `SELECT ` + msgCols + p.textCols() + from + ` WHERE ` + strings.Join(p.where, " AND ") + order
	args := append(lead, p.args...)
	if !p.goSide() {
		sqlq += ` LIMIT ? OFFSET ?`
		args = append(args, limit, offset)
		msgs, err := queryMessages(ctx, s.rs, sqlq, args...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: search: %w", err)
		}
		return msgs, nil
	}
	rows, err := s.rs.QueryContext(ctx, sqlq, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: search: %w", err)
	}
	defer rows.Close()
	out := []storage.Message{}
	var t texts
	for rows.Next() && len(out) < limit {
		m, err := scanMessage(withExtra{rows, t.dest()})
		if err != nil {
			return nil, fmt.Errorf("sqlite: search: %w", err)
		}
		if !p.check(&t) {
			continue
		}
		if offset > 0 {
			offset--
			continue
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: search: %w", err)
	}
	return out, nil
}

// SearchUIDs returns the UIDs, ascending, of the messages of q.MailboxID
// matching q (IMAP SEARCH).
func (s *Store) SearchUIDs(ctx context.Context, userID int64, q storage.SearchQuery) ([]uint32, error) {
	if q.MailboxID == 0 {
		return nil, fmt.Errorf("sqlite: search uids: no mailbox: %w", storage.ErrInvalid)
	}
	if err := s.checkMailbox(ctx, userID, q.MailboxID); err != nil {
		return nil, fmt.Errorf("sqlite: search uids: %w", err)
	}
	p := planSearch(userID, q)
	from, lead := p.from(userID)
	sqlq := `SELECT m.uid` + p.textCols() + from + ` WHERE ` + strings.Join(p.where, " AND ") + ` ORDER BY m.uid`
	rows, err := s.rs.QueryContext(ctx, sqlq, append(lead, p.args...)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: search uids: %w", err)
	}
	defer rows.Close()
	out := []uint32{}
	var t texts
	for rows.Next() {
		var uid uint32
		dest := []any{&uid}
		if p.goSide() {
			dest = append(dest, t.dest()...)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("sqlite: search uids: %w", err)
		}
		if p.goSide() && !p.check(&t) {
			continue
		}
		out = append(out, uid)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: search uids: %w", err)
	}
	return out, nil
}

// withExtra scans the message columns and then extra destinations.
type withExtra struct {
	rows  *sql.Rows
	extra []any
}

func (w withExtra) Scan(dest ...any) error {
	return w.rows.Scan(append(dest, w.extra...)...)
}
