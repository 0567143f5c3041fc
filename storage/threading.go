package storage

import (
	"strings"
	"time"
)

// SubjectJoinWindow is how far apart in time a message without
// References/In-Reply-To may be from a message of an existing thread with
// the same base subject to join that thread.
const SubjectJoinWindow = 5 * 24 * time.Hour

// ThreadCandidate is a message of an existing thread whose base subject
// equals a new message's: the thread it is in, its internal date, and the
// text of its sender and recipient addresses (as the backends store it
// for substring search; case does not matter).
type ThreadCandidate struct {
	ThreadID int64
	Date     time.Time
	From     string
	Rcpt     string
}

// SubjectJoin reports whether a new message that names no parent may join
// the thread of candidate c by subject alone (RFC 5256's REFERENCES
// algorithm joins by subject unconditionally; mail clients learned not
// to): only when the two are close in time (SubjectJoinWindow) and between
// the same people, the new message's sender taking part in c and c's
// sender taking part in the new message. Two strangers who both write
// "Invoice" stay apart, as do a list's weekly mails with one subject.
func SubjectJoin(c ThreadCandidate, date time.Time, from, rcpt []Address) bool {
	if d := date.Sub(c.Date); d > SubjectJoinWindow || d < -SubjectJoinWindow {
		return false
	}
	cFrom, cAll := addrSet(c.From), addrSet(c.From+" "+c.Rcpt)
	if len(cFrom) == 0 || len(from) == 0 {
		return false
	}
	senderIn := false
	for _, a := range from {
		if cAll[strings.ToLower(a.Address)] {
			senderIn = true
		}
	}
	if !senderIn {
		return false
	}
	for _, a := range append(append([]Address{}, from...), rcpt...) {
		if cFrom[strings.ToLower(a.Address)] {
			return true
		}
	}
	return false
}

// addrSet returns the addresses (words with an @) of an address text, lower-cased.
func addrSet(text string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return r == ' ' || r == ',' || r == '<' || r == '>' || r == '"' || r == '\t' || r == ';'
	}) {
		if strings.Contains(w, "@") {
			out[w] = true
		}
	}
	return out
}
