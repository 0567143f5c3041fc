package sqlite

import (
	"database/sql"
	"errors"
	"strings"

	"github.com/stamp-mail/stamp/storage"
)

// replyPrefixes are the subject prefixes stripped before comparing subjects
// (English, German, Scandinavian reply and forward markers).
var replyPrefixes = []string{"re", "fwd", "fw", "aw", "wg", "sv"}

// normSubject returns the thread subject of s: leading reply/forward markers
// ("Re:", "Fwd:", "AW[2]:"...) and list tags ("[list]") removed, whitespace
// collapsed, lower case (RFC 5256 section 2.1 describes the same idea).
func normSubject(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for {
		before := s
		s = strings.TrimSpace(s)
		if strings.HasPrefix(s, "[") {
			if i := strings.IndexByte(s, ']'); i > 0 {
				s = s[i+1:]
				continue
			}
		}
		for _, p := range replyPrefixes {
			if len(s) < len(p) || !strings.EqualFold(s[:len(p)], p) {
				continue
			}
			rest := s[len(p):]
			// Optional counter, as in "Re[2]:".
			if strings.HasPrefix(rest, "[") {
				if i := strings.IndexByte(rest, ']'); i > 0 && strings.Trim(rest[1:i], "0123456789") == "" {
					rest = rest[i+1:]
				}
			}
			rest = strings.TrimLeft(rest, " ")
			if strings.HasPrefix(rest, ":") {
				s = rest[1:]
				break
			}
		}
		if s == before {
			break
		}
	}
	return strings.ToLower(strings.TrimSpace(s))
}

// assignThread finds or creates the thread of m and records its references.
func (w *wtx) assignThread(m *storage.NewMessage) (int64, error) {
	refs := make([]string, 0, 1+len(m.InReplyTo)+len(m.References))
	refs = append(refs, m.InReplyTo...)
	for i := len(m.References) - 1; i >= 0; i-- {
		refs = append(refs, m.References[i])
	}
	hasRefs := len(refs) > 0
	if m.MessageIDHdr != "" {
		refs = append(refs, m.MessageIDHdr)
	}
	var thread int64
	for _, r := range refs {
		if r == "" {
			continue
		}
		err := w.stmt(w.s.st.refLookup).QueryRowContext(w.ctx, m.UserID, r).Scan(&thread)
		if err == nil {
			break
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, err
		}
	}
	subj := normSubject(m.Subject)
	if thread == 0 && !hasRefs && subj != "" {
		var err error
		if thread, err = w.threadBySubject(m, subj); err != nil { // threadmatch.go
			return 0, err
		}
	}
	if thread == 0 {
		id, err := w.nextID("thread")
		if err != nil {
			return 0, err
		}
		if _, err := w.stmt(w.s.st.threadInsert).ExecContext(w.ctx, m.UserID, id, subj); err != nil {
			return 0, err
		}
		thread = id
	}
	for _, r := range refs {
		if r == "" {
			continue
		}
		if _, err := w.stmt(w.s.st.refInsert).ExecContext(w.ctx, m.UserID, r, thread); err != nil {
			return 0, err
		}
	}
	return thread, nil
}
