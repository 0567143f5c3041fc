package sqlite

import (
	"github.com/stamp-mail/stamp/storage"
)

// maxSubjectCandidates bounds the messages of same-subject threads looked
// at for a subject join (the most recent first). threadBySubjectSQL
// spells it out: a LIMIT given as a parameter makes SQLite (3.46 and later,
// built with STAT4 as modernc's is) expire the prepared statement at every
// bind and compile it again, 1.5% of the server's CPU under SMTP load.
const maxSubjectCandidates = 20

// threadBySubjectSQL lists the most recent messages of a user's threads
// with a base subject. The join order is fixed (CROSS JOIN, INDEXED BY):
// left to itself SQLite walks all of the user's messages newest first
// (messages_date) to skip the sort, probing threads for each, which costs
// every delivery time in proportion to the mailbox (45% of the server's CPU
// after a few thousand messages). Here it reads the threads of that subject
// and their messages only (TestThreadBySubjectPlan).
const threadBySubjectSQL = `SELECT t.id, m.internal_date, m.from_lc, m.rcpt_lc
	FROM threads t CROSS JOIN messages m INDEXED BY messages_thread ON m.user_id = t.user_id AND m.thread_id = t.id
	WHERE t.user_id = ? AND t.subject_norm = ? ORDER BY m.internal_date DESC, m.id DESC LIMIT 20`

// threadBySubject returns the thread a message naming no parent joins by
// its base subject (storage.SubjectJoin: close in time, same people), or 0.
func (w *wtx) threadBySubject(m *storage.NewMessage, subj string) (int64, error) {
	rows, err := w.stmt(w.s.st.threadBySubject).QueryContext(w.ctx, m.UserID, subj)
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
