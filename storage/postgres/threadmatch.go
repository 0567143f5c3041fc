package postgres

import (
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stamp-mail/stamp/storage"
)

// maxSubjectCandidates bounds, per base subject, the messages of
// same-subject threads looked at for a subject join (the most recent first).
const maxSubjectCandidates = 20

// subjectCandidatesSQL reads the most recent messages of the user's
// threads with the given base subjects.
const subjectCandidatesSQL = `SELECT subject_norm, id, internal_date, from_text, to_text FROM (
	SELECT t.subject_norm, t.id, m.internal_date, m.from_text, m.to_text,
		row_number() OVER (PARTITION BY t.subject_norm ORDER BY m.internal_date DESC, m.id DESC) AS rn
	FROM threads t JOIN messages m ON m.user_id = t.user_id AND m.thread_id = t.id
	WHERE t.user_id = $1 AND t.subject_norm = ANY($2)) c
	WHERE rn <= $3 ORDER BY subject_norm, internal_date DESC`

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
