package sqlite

import (
	"fmt"
	"slices"
	"strings"

	"github.com/stamp-mail/stamp/storage"
)

// systemFlags are the canonical spellings of the RFC 9051 section 2.3.2
// system flags that are stored. \Recent is session state and never stored.
var systemFlags = []string{storage.FlagSeen, storage.FlagAnswered, storage.FlagFlagged, storage.FlagDeleted, storage.FlagDraft}

// normFlags returns flags with system flags in canonical spelling, keywords
// as given, duplicates (case-insensitive) and \Recent removed, sorted.
// A flag that is empty or contains a space or control character is invalid.
func normFlags(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for _, f := range in {
		if f == "" || strings.ContainsFunc(f, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return nil, fmt.Errorf("flag %q: %w", f, storage.ErrInvalid)
		}
		if strings.EqualFold(f, `\Recent`) {
			continue
		}
		for _, s := range systemFlags {
			if strings.EqualFold(f, s) {
				f = s
				break
			}
		}
		k := strings.ToLower(f)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, f)
	}
	slices.Sort(out)
	return out, nil
}

func hasSeen(flags []string) bool {
	return slices.Contains(flags, storage.FlagSeen)
}

// Flags are stored space-separated (flags are atoms, without spaces).
func encodeFlags(f []string) string { return strings.Join(f, " ") }

func decodeFlags(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, " ")
}
