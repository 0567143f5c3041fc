package message

import (
	"strings"
)

// replyPrefixes are the reply and forward markers NormalizeSubject strips
// (English, German, Scandinavian), compared lower-case.
var replyPrefixes = []string{"re", "fwd", "fw", "aw", "wg", "sv"}

// NormalizeSubject reduces a subject to the form threads are grouped by
// (in the spirit of RFC 5256 section 2.1 base subject): leading "Re:",
// "Fwd:", "Fw:", "AW:", "WG:", "SV:" (also "Re[2]:") and "[list]" tags are
// stripped repeatedly, a trailing "(fwd)" is dropped, white space is collapsed
// and the result is lower-cased.
func NormalizeSubject(s string) string {
	s = strings.ToLower(strings.Join(strings.Fields(s), " "))
	for {
		before := s
		s = strings.TrimSpace(strings.TrimSuffix(s, "(fwd)"))
		if strings.HasPrefix(s, "[") {
			if i := strings.IndexByte(s, ']'); i > 0 {
				s = strings.TrimSpace(s[i+1:])
			}
		}
		for _, p := range replyPrefixes {
			if !strings.HasPrefix(s, p) {
				continue
			}
			rest := s[len(p):]
			// Optional counter: "re[2]:" or "re(2):".
			if len(rest) > 0 && (rest[0] == '[' || rest[0] == '(') {
				closer := byte(']')
				if rest[0] == '(' {
					closer = ')'
				}
				if i := strings.IndexByte(rest, closer); i > 1 && isDigits(rest[1:i]) {
					rest = rest[i+1:]
				}
			}
			rest = strings.TrimLeft(rest, " ")
			if strings.HasPrefix(rest, ":") {
				s = strings.TrimSpace(rest[1:])
				break
			}
		}
		if s == before {
			return s
		}
	}
}

// isDigits reports whether s is a non-empty run of ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
