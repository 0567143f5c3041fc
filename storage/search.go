package storage

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Substring search (RFC 9051 section 6.4.4).
//
// Both backends keep, per message, four texts: the subject, the addresses,
// the header lines (message.HeaderText) and the body text, indexed in the
// same transaction as the message. The indexes hold trigram keys: SQLite
// (storage/sqlite/searchkeys.go) a contentless FTS5 table of the keys of
// all four texts, PostgreSQL one GIN index of the body's keys and of the
// keys of the header lines, subject and addresses; the keys are made in Go
// (storage/internal/textkeys: distinct case-folded trigrams inside word
// runs; of a body only a sample of them, textkeys.BodyKeys). A needle with
// a word run of three or more characters (four or more for the body, three
// with CJK) is narrowed by the index, and every candidate is checked
// exactly. A needle without one ("12:30", "ox ju", 2 characters) scans the texts of
// the rows the rest of the query leaves (the user, the mailbox in IMAP, the
// other criteria), within the size of each indexed text (256 KiB of body).
//
// Matching folds case with CaseFold on both sides. SearchQuery.Text keeps its
// API meaning (every blank-separated term must occur, ranked), but each term
// is now a substring too: "invoic" finds "invoice".

// HeaderTerm is one SEARCH HEADER key: messages with a header field Name
// (case-insensitive) whose value contains Value (case-insensitive); an empty
// Value matches every message that has the field at all.
type HeaderTerm struct {
	Name  string
	Value string
}

// Searcher is implemented by every backend: IMAP SEARCH over one mailbox.
type Searcher interface {
	// SearchUIDs returns the UIDs (ascending) of the messages of
	// q.MailboxID (required) matching every criterion of q; Offset, Limit
	// and Text ranking do not apply.
	SearchUIDs(ctx context.Context, userID int64, q SearchQuery) ([]uint32, error)
}

// CaseFold is the case folding of substring search.
func CaseFold(s string) string { return strings.ToLower(s) }

// ContainsFold reports whether needle occurs in text, folding case: whether
// CaseFold(text) contains CaseFold(needle). It compares rune by rune
// without folding the whole text (each row's body, in SQLite's search).
// Both folded strings are valid UTF-8 (strings.ToLower writes U+FFFD for an
// invalid byte), so a match starts and ends on rune boundaries of the
// folded text, which are those of text.
func ContainsFold(text, needle string) bool {
	n := CaseFold(needle)
	if n == "" {
		return true
	}
	first, _ := utf8.DecodeRuneInString(n)
	if first == utf8.RuneError {
		// Every invalid byte of text folds to U+FFFD too: try each rune.
		for i := 0; i < len(text); {
			r, size := lowerAt(text, i)
			if r == first && foldedPrefixAt(text, i, n) {
				return true
			}
			i += size
		}
		return false
	}
	// A match starts with a rune that folds to first: the members of
	// first's case orbit that do, and U+0130 for 'i' (the one rune that
	// folds outside its orbit). strings.Index finds each of them fast.
	var startBuf [8]string
	starts := startBuf[:0]
	for r := first; ; {
		if unicode.ToLower(r) == first {
			starts = append(starts, string(r))
		}
		if r = unicode.SimpleFold(r); r == first || len(starts) == len(startBuf)-1 {
			break
		}
	}
	if first == 'i' {
		starts = append(starts, "\u0130")
	}
	if len(starts) == 0 {
		return false // no rune folds to first
	}
	var nextBuf [8]int
	next := nextBuf[:len(starts)]
	find := func(k, from int) {
		if j := strings.Index(text[from:], starts[k]); j >= 0 {
			next[k] = from + j
		} else {
			next[k] = len(text)
		}
	}
	for k := range starts {
		find(k, 0)
	}
	for {
		k := 0
		for c := range next {
			if next[c] < next[k] {
				k = c
			}
		}
		j := next[k]
		if j >= len(text) {
			return false
		}
		if foldedPrefixAt(text, j, n) {
			return true
		}
		find(k, j+1)
	}
}

// lowerAt decodes the rune at text[i:] (U+FFFD for an invalid byte) and
// folds it as CaseFold does.
func lowerAt(text string, i int) (rune, int) {
	if c := text[i]; c < utf8.RuneSelf {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		return rune(c), 1
	}
	r, size := utf8.DecodeRuneInString(text[i:])
	return unicode.ToLower(r), size
}

// foldedPrefixAt reports whether the folded runes of text from i start with
// the folded needle n.
func foldedPrefixAt(text string, i int, n string) bool {
	for j := 0; j < len(n); {
		if i >= len(text) {
			return false
		}
		r, size := lowerAt(text, i)
		nr, nsize := utf8.DecodeRuneInString(n[j:])
		if r != nr {
			return false
		}
		i, j = i+size, j+nsize
	}
	return true
}

// HeaderMatches reports whether the header lines hdrs (as message.HeaderText
// renders them) have a field name whose value contains value.
func HeaderMatches(hdrs, name, value string) bool {
	name = strings.ToLower(strings.TrimSpace(name))
	value = CaseFold(value)
	for len(hdrs) > 0 {
		line := hdrs
		if i := strings.IndexByte(hdrs, '\n'); i >= 0 {
			line, hdrs = hdrs[:i], hdrs[i+1:]
		} else {
			hdrs = ""
		}
		k, v, ok := strings.Cut(line, ": ")
		if !ok || k != name {
			continue
		}
		if value == "" || strings.Contains(CaseFold(v), value) {
			return true
		}
	}
	return false
}

// Day is the calendar date of t as written (its own zone), in days since
// 1970-01-01: the unit of SENTBEFORE, SENTON and SENTSINCE.
func Day(t time.Time) int64 {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// SentDay is the day a message was sent for SENTBEFORE/SENTON/SENTSINCE:
// the calendar date of its Date header in the header's own zone, or, when
// the header is absent or unparsable, that of its internal date in UTC.
func SentDay(date, internal time.Time) int64 {
	if date.IsZero() {
		return Day(internal.UTC())
	}
	return Day(date)
}

// DayStart is midnight, in zone (UTC if nil), of the calendar date of t.
func DayStart(t time.Time, zone *time.Location) time.Time {
	if zone == nil {
		zone = time.UTC
	}
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, zone)
}

// TextTerms splits SearchQuery.Text into its terms: control characters and
// invalid UTF-8 separate terms; punctuation around a term (quotes, a
// trailing star) is trimmed and terms without a letter or digit are dropped.
func TextTerms(text string) []string {
	text = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, text)
	var out []string
	for _, t := range strings.Fields(text) {
		if t = strings.TrimFunc(t, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }); t != "" {
			out = append(out, t)
		}
	}
	return out
}
