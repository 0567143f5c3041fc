package postgres

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/stamp-mail/stamp/storage"
)

// systemFlags maps the lower-case spelling of each storable system flag
// (RFC 9051 section 2.3.2) to its canonical form. \Recent is not stored.
var systemFlags = map[string]string{
	`\seen`:     storage.FlagSeen,
	`\answered`: storage.FlagAnswered,
	`\flagged`:  storage.FlagFlagged,
	`\deleted`:  storage.FlagDeleted,
	`\draft`:    storage.FlagDraft,
}

// normFlags canonicalizes system flags, drops \Recent and empty flags,
// removes case-insensitive duplicates (first spelling wins) and sorts.
func normFlags(in []string) []string {
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, f := range in {
		f = clean(f)
		if f == "" {
			continue
		}
		low := strings.ToLower(f)
		if low == `\recent` || seen[low] {
			continue
		}
		seen[low] = true
		if c, ok := systemFlags[low]; ok {
			f = c
		}
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// validFlag reports whether f can be an IMAP flag (RFC 9051 section 9,
// flag-keyword is an atom; flag-extension is "\\" atom): no white space,
// control characters or atom-specials, a backslash only in front.
func validFlag(f string) bool {
	if f == "" {
		return false
	}
	for i, r := range f {
		switch {
		case r <= ' ' || r == 0x7f:
			return false
		case strings.ContainsRune(`(){%*"]`, r):
			return false
		case r == '\\' && i > 0:
			return false
		}
	}
	return true
}

// checkFlags returns an ErrInvalid error naming the first invalid flag.
func checkFlags(flags []string) error {
	for _, f := range flags {
		if !validFlag(f) {
			return fmt.Errorf("flag %q: %w", f, storage.ErrInvalid)
		}
	}
	return nil
}

// hasSeen reports whether flags (normalized) contain \Seen.
func hasSeen(flags []string) bool {
	return slices.Contains(flags, storage.FlagSeen)
}

// subjectPrefix matches one leading reply/forward marker or [list] tag.
var subjectPrefix = regexp.MustCompile(`(?i)^\s*(?:(?:re|fwd?|aw|wg|sv)\s*(?:\[\d+\])?\s*:|\[[^\]]*\])\s*`)

// normSubject strips leading Re:/Fwd:/Fw:/AW:/WG:/SV: markers and [list]
// tags, case-insensitively, and lower-cases the rest with collapsed spaces
// (the base subject of RFC 5256 section 2.1, simplified).
func normSubject(s string) string {
	for {
		loc := subjectPrefix.FindStringIndex(s)
		if loc == nil || loc[1] == 0 {
			break
		}
		s = s[loc[1]:]
	}
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}
