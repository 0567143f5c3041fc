package sqlite

import (
	"github.com/stamp-mail/stamp/storage"
)

// maxSubjectCandidates bounds the messages of same-subject threads looked
// at for a subject join (the most recent first).
const maxSubjectCandidates = 20

// threadBySubject returns the thread a message naming no parent joins by
// its base subject (storage.SubjectJoin: close in time, same people), or 0.
func (w *wtx) threadBySubject(m *storage.NewMessage, subj string) (int64, error) {
	rows, err := w.stmt(w.s.st.threadBySubject).QueryContext(w.ctx, m.UserID, subj, maxSubjectCandidates)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	date := m.InternalDate
	if date.IsZero() {
		date = w.now
	}
	rcpt := append(append([]storage.Address{}, m.To...), m.Cc...)
	for rows.Next() {
		var c storage.ThreadCandidate
		var at int64
		if err := rows.Scan(&c.ThreadID, &at, &c.From, &c.Rcpt); err != nil {
			return 0, err
		}
		c.Date = fromTS(at)
		if storage.SubjectJoin(c, date, m.From, rcpt) {
			return c.ThreadID, nil
		}
	}
	return 0, rows.Err()
}
