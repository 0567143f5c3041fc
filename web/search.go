package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stamp-mail/stamp/core"
)

// maxSearchOffset bounds deep paging of search results.
const maxSearchOffset = 10000

// maxQueryLen bounds the q parameter (bytes).
const maxQueryLen = 1000

// ParseQuery turns a search box query into a core.SearchQuery. It knows the
// operators from:, to:, subject: (each taking a word or a "quoted phrase"),
// has:attachment, is:unread, is:read, before:YYYY-MM-DD and
// after:YYYY-MM-DD (dates in UTC; before is exclusive, after inclusive);
// everything else, quoted phrases included, is free text whose words must
// all match. An operator given twice keeps the last value. Only a malformed
// date is an error.
func ParseQuery(s string) (core.SearchQuery, error) {
	var q core.SearchQuery
	var text []string
	for _, t := range tokenize(s) {
		if t.quoted || t.op == "" {
			if w := strings.TrimSpace(t.val); w != "" {
				text = append(text, w)
			}
			continue
		}
		switch t.op {
		case "from":
			q.From = t.val
		case "to":
			q.To = t.val
		case "subject":
			q.Subject = t.val
		case "has":
			if strings.EqualFold(t.val, "attachment") || strings.EqualFold(t.val, "attachments") {
				q.HasAttachment = true
			} else {
				text = append(text, t.raw)
			}
		case "is":
			switch strings.ToLower(t.val) {
			case "unread":
				b := true
				q.Unread = &b
			case "read":
				b := false
				q.Unread = &b
			default:
				text = append(text, t.raw)
			}
		case "before", "after":
			d, err := time.Parse("2006-01-02", t.val)
			if err != nil {
				return core.SearchQuery{}, invalid("%s: date must be YYYY-MM-DD", t.op)
			}
			if t.op == "before" {
				q.Before = d
			} else {
				q.After = d
			}
		default:
			text = append(text, t.raw)
		}
	}
	q.Text = strings.Join(text, " ")
	return q, nil
}

// queryToken is a word of a query: op is the lower-case operator name when
// the word is "op:value"; quoted marks a free-text "phrase".
type queryToken struct {
	op, val, raw string
	quoted       bool
}

// knownOps are the operators ParseQuery understands; other "x:y" words are text.
var knownOps = setOf("from", "to", "subject", "has", "is", "before", "after")

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
		if s[i] == '"' {
			val, next := quoted(s, i)
			out = append(out, queryToken{val: val, raw: s[start:next], quoted: true})
			i = next
			continue
		}
		for i < len(s) && !isBlank(s[i]) && s[i] != ':' && s[i] != '"' {
			i++
		}
		if i < len(s) && s[i] == ':' && knownOps[strings.ToLower(s[start:i])] {
			op := strings.ToLower(s[start:i])
			i++
			var val string
			if i < len(s) && s[i] == '"' {
				val, i = quoted(s, i)
			} else {
				vs := i
				for i < len(s) && !isBlank(s[i]) {
					i++
				}
				val = s[vs:i]
			}
			out = append(out, queryToken{op: op, val: val, raw: s[start:i]})
			continue
		}
		for i < len(s) && !isBlank(s[i]) {
			i++
		}
		out = append(out, queryToken{val: s[start:i], raw: s[start:i]})
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

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	qs := r.URL.Query()
	raw := qs.Get("q")
	if len(raw) > maxQueryLen {
		s.fail(w, r, invalid("query longer than %d bytes", maxQueryLen))
		return
	}
	q, err := ParseQuery(raw)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if q.Limit, err = queryLimit(r, defaultPageSize, maxPageSize); err != nil {
		s.fail(w, r, err)
		return
	}
	if v := qs.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxSearchOffset {
			s.fail(w, r, invalid("offset must be between 0 and %d", maxSearchOffset))
			return
		}
		q.Offset = n
	}
	uid := userFrom(r).ID
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
		q.MailboxID = id
	}
	limit := q.Limit
	q.Limit++ // one more tells whether another page exists
	ms, err := s.svc.Search(r.Context(), uid, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var next *int
	if len(ms) > limit {
		ms = ms[:limit]
		n := q.Offset + limit
		next = &n
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": toSummaries(ms), "next_offset": next})
}
