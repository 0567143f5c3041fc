package postgres

import (
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stamp-mail/stamp/storage"
)

// maxSubjectCandidates bounds, per base subject, the messages of
// same-subject threads looked at for a subject join (the most recent first).
const maxSubjectCandidates = 20

// threadRefsSQL looks up the threads of Message-IDs ($2) of user $1: one
// index probe per id (a scalar subquery each, which no plan turns into a
// scan of the user's references), NULL for an unknown id.
const threadRefsSQL = `SELECT r.msgid, (SELECT thread_id FROM thread_refs WHERE user_id = $1 AND msgid = r.msgid)
	FROM unnest($2::text[]) AS r(msgid)`

// subjectCandidatesSQL reads, for each of the user's base subjects $2 (no
// repeats), the $3 most recent messages of the threads with that subject,
// newest first. Nested loops by construction (each LATERAL with a LIMIT
// stays a loop): for each subject its threads, for each thread its latest
// messages, so the work is bounded by the candidates, not by the user's
// mail (a join of threads to messages could be planned as a scan of all the
// user's messages).
const subjectCandidatesSQL = `SELECT s.ns, c.id, c.internal_date, c.from_text, c.to_text
	FROM unnest($2::text[]) AS s(ns)
	CROSS JOIN LATERAL (
		SELECT t.id, m.internal_date, m.mid, m.from_text, m.to_text
		FROM threads t
		CROSS JOIN LATERAL (
			SELECT internal_date, id AS mid, from_text, to_text FROM messages
			WHERE user_id = $1 AND thread_id = t.id
			ORDER BY internal_date DESC, id DESC LIMIT $3) m
		WHERE t.user_id = $1 AND t.subject_norm = s.ns
		ORDER BY m.internal_date DESC, m.mid DESC LIMIT $3) c
	ORDER BY s.ns, c.internal_date DESC, c.mid DESC`

// dedup returns l without repeats, in first-seen order.
func dedup(l []string) []string {
	seen := make(map[string]bool, len(l))
	out := make([]string, 0, len(l))
	for _, s := range l {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func (u *userPlan) readSubjectCandidates(rows pgx.Rows) error {
	var sub string
	var c storage.ThreadCandidate
	_, err := pgx.ForEachRow(rows, []any{&sub, &c.ThreadID, &c.Date, &c.From, &c.Rcpt}, func() error {
		u.subject[sub] = append(u.subject[sub], c)
		return nil
	})
	return err
}

func msgDate(m *storage.NewMessage, now time.Time) time.Time {
	if m.InternalDate.IsZero() {
		return now
	}
	return m.InternalDate
}

// subjectJoin returns the thread a message naming no parent joins by its
// base subject ns (storage.SubjectJoin: close in time, same people), or 0.
func (u *userPlan) subjectJoin(ns string, m *storage.NewMessage, now time.Time) int64 {
	rcpt := append(append([]storage.Address{}, m.To...), m.Cc...)
	for _, c := range u.subject[ns] {
		if storage.SubjectJoin(c, msgDate(m, now), m.From, rcpt) {
			return c.ThreadID
		}
	}
	return 0
}

// addSubjectCandidate makes a message of this batch a candidate for the
// later ones with the same base subject.
func (u *userPlan) addSubjectCandidate(ns string, thread int64, m *storage.NewMessage, now time.Time) {
	u.subject[ns] = append([]storage.ThreadCandidate{{ThreadID: thread, Date: msgDate(m, now),
		From: addrText(m.From), Rcpt: addrText(m.To, m.Cc)}}, u.subject[ns]...)
}
