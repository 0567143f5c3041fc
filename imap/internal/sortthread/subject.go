package sortthread

import "strings"

// BaseSubject extracts the base subject of RFC 5256 section 2.1 from a
// decoded subject (RFC 2047 words already decoded), and reports whether
// the extraction removed a reply or forward marker (step 2's "(fwd)", step
// 3's subj-refwd, step 6's "[fwd: ...]"), which THREAD=REFERENCES step 5
// calls "a reply or forward". The result keeps its letter case; compare it
// with Compare (i;ascii-casemap).
//
// message.NormalizeSubject is not used: it also strips the non-English
// markers (AW:, SV:, WG:) and lower-cases, which suits Stamp's own thread
// ids but is not what RFC 5256's SORT SUBJECT and THREAD answers must be.
func BaseSubject(s string) (base string, reply bool) {
	// (1) Tabs and continuations are white space; runs collapse to one space.
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' }), " ")
	for {
		// (2) Remove trailing subj-trailer: "(fwd)" / WSP, repeatedly.
		for {
			t := strings.TrimRight(s, " ")
			if len(t) >= 5 && strings.EqualFold(t[len(t)-5:], "(fwd)") {
				t = t[:len(t)-5]
				reply = true
			}
			if t == s {
				break
			}
			s = t
		}
		// (3)-(5) Remove subj-leader and, when something remains, subj-blob.
		for {
			before := s
			for {
				t, ok, refwd := cutLeader(s)
				if !ok {
					break
				}
				reply = reply || refwd
				s = t
			}
			if rest, ok := cutBlob(s); ok && rest != "" {
				s = rest
			}
			if s == before {
				break
			}
		}
		// (6) "[fwd:" ... "]": remove and go back to (2).
		if len(s) >= 6 && strings.EqualFold(s[:5], "[fwd:") && s[len(s)-1] == ']' {
			s = s[5 : len(s)-1]
			reply = true
			continue
		}
		return s, reply
	}
}

// cutBlob removes a leading subj-blob: "[" *BLOBCHAR "]" *WSP, BLOBCHAR
// being any character but "[" and "]".
func cutBlob(s string) (string, bool) {
	if !strings.HasPrefix(s, "[") {
		return s, false
	}
	i := strings.IndexAny(s[1:], "[]")
	if i < 0 || s[1+i] != ']' {
		return s, false
	}
	return strings.TrimLeft(s[i+2:], " "), true
}

// cutLeader removes one subj-leader: (*subj-blob subj-refwd) / WSP, with
// subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":". refwd reports a
// subj-refwd (not just white space).
func cutLeader(s string) (rest string, ok, refwd bool) {
	if strings.HasPrefix(s, " ") {
		return strings.TrimLeft(s, " "), true, false
	}
	t := s
	for {
		u, ok := cutBlob(t)
		if !ok {
			break
		}
		t = u
	}
	var n int
	switch {
	case hasPrefixFold(t, "re"):
		n = 2
	case hasPrefixFold(t, "fwd"):
		n = 3
	case hasPrefixFold(t, "fw"):
		n = 2
	default:
		return s, false, false
	}
	t = strings.TrimLeft(t[n:], " ")
	if u, ok := cutBlob(t); ok {
		t = u
	}
	if !strings.HasPrefix(t, ":") {
		return s, false, false
	}
	return t[1:], true, true
}

func hasPrefixFold(s, p string) bool {
	return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p)
}

// Compare compares two strings with the i;ascii-casemap collation (RFC
// 4790 section 9.2), the default of RFC 5256: ASCII letters compare
// without case, every other byte by value.
func Compare(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		x, y := upper(a[i]), upper(b[i])
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}
