package sqlite

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestThreadBySubjectPlan checks that the subject-join look-up done for every
// delivery reads the threads of one subject and their messages through
// messages_thread, never a scan of all the user's messages.
func TestThreadBySubjectPlan(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "stamp.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+threadBySubjectSQL, 1, "hello")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	plan := strings.Join(steps, "\n")
	if len(steps) < 2 || !strings.Contains(steps[0], "threads_subject") || !strings.Contains(plan, "messages_thread (user_id=? AND thread_id=?)") {
		t.Fatalf("subject join plan:\n%s\nwant threads_subject first, then messages_thread by thread", plan)
	}
}

// TestThreadBySubjectLimitLiteral: the candidate limit is written into the
// statement, not bound (see maxSubjectCandidates), and is that constant.
func TestThreadBySubjectLimitLiteral(t *testing.T) {
	if !strings.HasSuffix(threadBySubjectSQL, " LIMIT "+strconv.Itoa(maxSubjectCandidates)) {
		t.Fatalf("threadBySubjectSQL does not end in LIMIT %d: %s", maxSubjectCandidates, threadBySubjectSQL)
	}
}
