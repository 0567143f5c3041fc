package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/message"
	"github.com/stamp-mail/stamp/storage"
)

// Bounds of a search.
const (
	// maxSearchOffset bounds deep paging of search results.
	maxSearchOffset = 10000
	// maxQueryLen bounds the q parameter (bytes).
	maxQueryLen = 1000
	// searchBatch is how many index candidates are read at a time.
	searchBatch = 200
	// maxSearchScan bounds the index candidates one request filters
	// (phrases, negations, dates, cc:, is:flagged, filename:).
	maxSearchScan = 5000
	// maxSearchBodies bounds the message bodies one request reads to check phrases.
	maxSearchBodies = 1000
)

// Query is a parsed search box query. Core is what the index narrows by
// (core.SearchQuery: words, from:, to:, subject:, has:attachment,
// is:unread/read, the folder of in:); the other fields are checked on the
// candidates the index returns.
type Query struct {
	Core     core.SearchQuery
	Phrases  []string  // "quoted phrases": each must appear as written (case and spacing aside)
	Not      []notTerm // -word, -"phrase", -from:x ...: none may match
	Cc       string    // cc: substring of a Cc address or name
	Flagged  *bool     // is:flagged / is:unflagged
	In       string    // in:FOLDER, a folder name or a role (inbox, sent, drafts, junk, spam, trash, archive)
	Before   time.Time // before: on the Date header, exclusive (UTC day)
	After    time.Time // after: on the Date header, inclusive (UTC day)
	Filename string    // filename: substring of an attachment's name
	Terms    []string  // what the results should highlight
	filtered bool      // some condition is checked outside the index
	negWords []string  // negated plain words, excluded through the index
}

// notTerm is one negated condition: op "" is a word or phrase anywhere.
type notTerm struct {
	op, val string
	phrase  bool
}

// knownOps are the operators ParseQuery understands; other "x:y" words are text.
var knownOps = setOf("from", "to", "cc", "subject", "has", "is", "in", "before", "after", "filename")

// ParseQuery turns a search box query into a Query. Operators: from:, to:,
// cc:, subject:, filename: (a word or a "quoted phrase", matched as a
// substring), has:attachment, is:unread, is:read, is:flagged, is:unflagged,
// in:FOLDER, before:YYYY-MM-DD and after:YYYY-MM-DD (on the Date header, in
// UTC; before is exclusive, after inclusive). Other words must all match;
// a "quoted phrase" must appear as written; a leading - negates a word, a
// phrase or an operator. An operator given twice keeps the last value.
// Errors: an operator without a value, a malformed date, an unknown is: or
// has: value, and a query with nothing to search for.
func ParseQuery(s string) (Query, error) {
	var q Query
	var text []string
	for _, t := range tokenize(s) {
		if t.neg {
			if strings.TrimFunc(t.val, notWordRune) == "" {
				continue
			}
			if t.op != "" && t.op != "from" && t.op != "to" && t.op != "cc" && t.op != "subject" && t.op != "filename" {
				return Query{}, invalid("%s: cannot be negated; write is:read instead of -is:unread, for example.", t.op)
			}
			q.Not = append(q.Not, notTerm{op: t.op, val: t.val, phrase: t.quoted})
			if t.op == "" && !t.quoted && !strings.ContainsFunc(t.val, unicode.IsSpace) {
				q.negWords = append(q.negWords, t.val)
			} else {
				q.filtered = true
			}
			continue
		}
		if t.op == "" {
			if strings.TrimFunc(t.val, notWordRune) == "" {
				continue // "*", "-", "...": nothing to look for
			}
			text = append(text, t.val)
			q.Terms = append(q.Terms, t.val)
			if t.quoted && len(strings.Fields(t.val)) > 1 {
				q.Phrases = append(q.Phrases, t.val)
				q.filtered = true
			}
			continue
		}
		if strings.TrimSpace(t.val) == "" {
			return Query{}, invalid("%s: needs a value, as in %s", t.op, example(t.op))
		}
		switch t.op {
		case "from":
			q.Core.From = t.val
			q.Terms = append(q.Terms, t.val)
		case "to":
			q.Core.To = t.val
		case "cc":
			q.Cc = t.val
			q.filtered = true
		case "subject":
			q.Core.Subject = t.val
			q.Terms = append(q.Terms, t.val)
		case "filename":
			q.Filename = t.val
			q.Core.HasAttachment = true
			q.filtered = true
		case "in":
			q.In = t.val
		case "has":
			if !strings.EqualFold(t.val, "attachment") && !strings.EqualFold(t.val, "attachments") {
				return Query{}, invalid("has: knows only has:attachment.")
			}
			q.Core.HasAttachment = true
		case "is":
			b := true
			switch strings.ToLower(t.val) {
			case "unread":
				q.Core.Unread = &b
			case "read":
				b = false
				q.Core.Unread = &b
			case "flagged", "starred":
				q.Flagged = &b
				q.filtered = true
			case "unflagged", "unstarred":
				b = false
				q.Flagged = &b
				q.filtered = true
			default:
				return Query{}, invalid("is: takes unread, read, flagged or unflagged, not %q.", truncate(t.val, 40))
			}
		case "before", "after":
			d, err := time.Parse("2006-01-02", t.val)
			if err != nil {
				return Query{}, invalid("%s: the date must be written YYYY-MM-DD, as in %s", t.op, example(t.op))
			}
			if t.op == "before" {
				q.Before = d
			} else {
				q.After = d
			}
			q.filtered = true
		}
	}
	q.Core.Text = strings.Join(text, " ")
	if q.empty() {
		return Query{}, invalid("Type something to search for: words, a \"phrase\" or an operator such as from:ann.")
	}
	return q, nil
}

func (q *Query) empty() bool {
	c := q.Core
	return c.Text == "" && c.From == "" && c.To == "" && c.Subject == "" && !c.HasAttachment && c.Unread == nil &&
		len(q.Not) == 0 && q.Cc == "" && q.Flagged == nil && q.In == "" && q.Before.IsZero() && q.After.IsZero() && q.Filename == ""
}

func notWordRune(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

func example(op string) string {
	switch op {
	case "before", "after":
		return op + ":2024-01-31"
	case "in":
		return "in:Archive"
	case "is":
		return "is:unread"
	case "has":
		return "has:attachment"
	case "filename":
		return "filename:invoice.pdf"
	case "subject":
		return `subject:"weekly report"`
	}
	return op + ":ann@example.com"
}

// queryToken is a word of a query: op is the lower-case operator name when
// the word is "op:value"; quoted marks a "phrase" (or a quoted value); neg
// a leading "-".
type queryToken struct {
	op, val, raw string
	quoted, neg  bool
}

// tokenize splits a query on blanks outside double quotes. An operator's
// value may be quoted (from:"Ann Lee"); an unterminated quote runs to the end.
func tokenize(s string) []queryToken {
	var out []queryToken
	i := 0
	for i < len(s) {
		for i < len(s) && isBlank(s[i]) {
			i++
		}
		if i >= len(s) {
			break
		}
		start := i
		neg := false
		if s[i] == '-' && i+1 < len(s) && !isBlank(s[i+1]) {
			neg = true
			i++
		}
		if s[i] == '"' {
			val, next := quoted(s, i)
			out = append(out, queryToken{val: val, raw: s[start:next], quoted: true, neg: neg})
			i = next
			continue
		}
		ws := i
		for i < len(s) && !isBlank(s[i]) && s[i] != ':' && s[i] != '"' {
			i++
		}
		if i < len(s) && s[i] == ':' && knownOps[strings.ToLower(s[ws:i])] {
			op := strings.ToLower(s[ws:i])
			i++
			var val string
			q := false
			if i < len(s) && s[i] == '"' {
				val, i = quoted(s, i)
				q = true
			} else {
				vs := i
				for i < len(s) && !isBlank(s[i]) {
					i++
				}
				val = s[vs:i]
			}
			out = append(out, queryToken{op: op, val: val, raw: s[start:i], quoted: q, neg: neg})
			continue
		}
		for i < len(s) && !isBlank(s[i]) {
			i++
		}
		out = append(out, queryToken{val: s[ws:i], raw: s[start:i], neg: neg})
	}
	return out
}

// quoted reads a double-quoted string starting at s[i] == '"' and returns its
// content and the index after the closing quote (or the end).
func quoted(s string, i int) (string, int) {
	end := strings.IndexByte(s[i+1:], '"')
	if end < 0 {
		return s[i+1:], len(s)
	}
	return s[i+1 : i+1+end], i + 2 + end
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// fold lower-cases s and collapses its blanks, for phrase comparison.
func fold(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// folderRoles maps in: values to special-use roles.
var folderRoles = map[string]string{"inbox": storage.RoleInbox, "sent": storage.RoleSent, "drafts": storage.RoleDrafts,
	"junk": storage.RoleJunk, "spam": storage.RoleJunk, "trash": storage.RoleTrash, "archive": storage.RoleArchive}

// resolveFolder finds the folder of in:NAME (a role word or a name, case-insensitively).
func (s *Server) resolveFolder(ctx context.Context, uid int64, name string) (int64, error) {
	mbs, err := s.svc.ListMailboxes(ctx, uid)
	if err != nil {
		return 0, err
	}
	for _, mb := range mbs {
		if strings.EqualFold(mb.Name, name) {
			return mb.ID, nil
		}
	}
	if role, ok := folderRoles[strings.ToLower(name)]; ok {
		for _, mb := range mbs {
			if mb.Role == role {
				return mb.ID, nil
			}
		}
	}
	return 0, invalid("There is no folder named %q.", truncate(name, 60))
}

// searcher checks the conditions the index does not on one request's candidates.
type searcher struct {
	s       *Server
	ctx     context.Context
	uid     int64
	q       Query
	bodies  int
	exclude map[int64]bool
}

func addrsContain(as []core.Address, v string) bool {
	v = strings.ToLower(v)
	for _, a := range as {
		if strings.Contains(strings.ToLower(a.Address), v) || strings.Contains(strings.ToLower(a.Name), v) {
			return true
		}
	}
	return false
}

func addrText(as []core.Address) string {
	var b strings.Builder
	for _, a := range as {
		b.WriteString(a.Name + " " + a.Address + " ")
	}
	return b.String()
}

// text returns what phrases are looked for in: subject, addresses and body.
func (sr *searcher) text(m core.Message) (string, bool) {
	if sr.bodies >= maxSearchBodies {
		return "", false
	}
	sr.bodies++
	raw, err := sr.s.svc.ReadMessage(sr.ctx, m)
	if err != nil {
		return "", false
	}
	p := message.Parse(raw)
	return fold(m.Subject + " " + addrText(m.From) + addrText(m.To) + addrText(m.Cc) + " " + p.Text), true
}

func (sr *searcher) filenames(m core.Message) string {
	atts, err := sr.s.svc.Attachments(sr.ctx, sr.uid, m.ID)
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, a := range atts {
		b.WriteString(strings.ToLower(a.Filename) + "\n")
	}
	return b.String()
}

// match reports whether candidate m meets every condition of the query.
func (sr *searcher) match(m core.Message) bool {
	q := sr.q
	if sr.exclude[m.ID] {
		return false
	}
	if q.Flagged != nil && slices.Contains(m.Flags, storage.FlagFlagged) != *q.Flagged {
		return false
	}
	if q.Cc != "" && !addrsContain(m.Cc, q.Cc) {
		return false
	}
	date := m.Date
	if date.IsZero() {
		date = m.InternalDate
	}
	if !q.Before.IsZero() && !date.Before(q.Before) {
		return false
	}
	if !q.After.IsZero() && date.Before(q.After) {
		return false
	}
	if q.Filename != "" && !strings.Contains(sr.filenames(m), strings.ToLower(q.Filename)) {
		return false
	}
	var body string
	haveBody := false
	need := func() bool {
		if !haveBody {
			var ok bool
			body, ok = sr.text(m)
			haveBody = true
			return ok
		}
		return true
	}
	for _, ph := range q.Phrases {
		if !need() || !strings.Contains(body, fold(ph)) {
			return false
		}
	}
	for _, n := range q.Not {
		switch n.op {
		case "from":
			if addrsContain(m.From, n.val) {
				return false
			}
		case "to":
			if addrsContain(m.To, n.val) || addrsContain(m.Cc, n.val) {
				return false
			}
		case "cc":
			if addrsContain(m.Cc, n.val) {
				return false
			}
		case "subject":
			if strings.Contains(strings.ToLower(m.Subject), strings.ToLower(n.val)) {
				return false
			}
		case "filename":
			if m.HasAttachments && strings.Contains(sr.filenames(m), strings.ToLower(n.val)) {
				return false
			}
		default:
			if n.phrase || strings.ContainsFunc(n.val, unicode.IsSpace) {
				if need() && strings.Contains(body, fold(n.val)) {
					return false
				}
			}
		}
	}
	return true
}

// excludeWords collects the ids of messages holding a negated word, through the index.
func (sr *searcher) excludeWords(base core.SearchQuery) error {
	sr.exclude = map[int64]bool{}
	for _, w := range sr.q.negWords {
		for off := 0; off < maxSearchScan; off += searchBatch {
			ms, err := sr.s.svc.Search(sr.ctx, sr.uid, core.SearchQuery{Text: w, MailboxID: base.MailboxID, Limit: searchBatch, Offset: off})
			if err != nil {
				return err
			}
			for _, m := range ms {
				sr.exclude[m.ID] = true
			}
			if len(ms) < searchBatch {
				break
			}
		}
	}
	return nil
}

// run returns up to limit+1 matches after skipping offset matches.
func (sr *searcher) run(base core.SearchQuery, offset, limit int) ([]core.Message, error) {
	if !sr.q.filtered && len(sr.q.negWords) == 0 {
		base.Offset, base.Limit = offset, limit+1
		return sr.s.svc.Search(sr.ctx, sr.uid, base)
	}
	if err := sr.excludeWords(base); err != nil {
		return nil, err
	}
	var out []core.Message
	skipped := 0
	for off := 0; off < maxSearchScan; off += searchBatch {
		base.Offset, base.Limit = off, searchBatch
		ms, err := sr.s.svc.Search(sr.ctx, sr.uid, base)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if !sr.match(m) {
				continue
			}
			if skipped < offset {
				skipped++
				continue
			}
			out = append(out, m)
			if len(out) > limit {
				return out, nil
			}
		}
		if len(ms) < searchBatch {
			break
		}
	}
	return out, nil
}

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	qs := r.URL.Query()
	raw := qs.Get("q")
	if len(raw) > maxQueryLen {
		s.fail(w, r, invalid("The search is longer than %d characters.", maxQueryLen))
		return
	}
	q, err := ParseQuery(raw)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	limit, err := queryLimit(r, defaultPageSize, maxPageSize)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	offset := 0
	if v := qs.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxSearchOffset {
			s.fail(w, r, invalid("offset must be between 0 and %d", maxSearchOffset))
			return
		}
		offset = n
	}
	uid := userFrom(r).ID
	base := q.Core
	switch qs.Get("sort") {
	case "", "date":
		base.Newest = true // a mail client lists results newest first
	case "relevance":
	default:
		s.fail(w, r, invalid("sort must be date or relevance"))
		return
	}
	if v := qs.Get("folder_id"); v != "" {
		id, err := parseID(v, "folder_id")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if _, err := s.svc.GetMailbox(r.Context(), uid, id); err != nil {
			s.fail(w, r, err)
			return
		}
		base.MailboxID = id
	}
	if q.In != "" {
		if base.MailboxID, err = s.resolveFolder(r.Context(), uid, q.In); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	sr := &searcher{s: s, ctx: r.Context(), uid: uid, q: q}
	ms, err := sr.run(base, offset, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var next *int
	if len(ms) > limit {
		ms = ms[:limit]
		n := offset + limit
		next = &n
	}
	terms := q.Terms
	if terms == nil {
		terms = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": toSummaries(ms), "next_offset": next, "terms": terms})
}
