package sqlite

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

// helperEnv names the database a helper process writes to.
const helperEnv = "STAMP_SQLITE_HELPER_DB"

// TestHelperProcess is not a test: run by TestMultiProcess in a child
// process, it adds users and delivers to a shared mailbox, as the CLI does
// beside a running server.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper process only")
	}
	ctx := context.Background()
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := writeLoad(ctx, s, "child"); err != nil {
		t.Fatal(err)
	}
}

// writeLoad creates users and delivers messages into shared@example.com's INBOX.
func writeLoad(ctx context.Context, s *Store, who string) error {
	shared, err := s.GetUserByAddress(ctx, "shared@example.com")
	if err != nil {
		return err
	}
	inbox, err := s.GetMailboxByRole(ctx, shared.ID, storage.RoleInbox)
	if err != nil {
		return err
	}
	for i := 0; i < 20; i++ {
		if _, err := s.CreateUser(ctx, fmt.Sprintf("%s%d@example.com", who, i), "h"); err != nil {
			return err
		}
		m := &storage.NewMessage{UserID: shared.ID, MailboxID: inbox.ID, Size: 10, Subject: who + " message",
			Segments: []storage.Segment{{Hash: fmt.Sprintf("%s-%d", who, i), Size: 10}}, SearchText: who}
		if err := s.Deliver(ctx, &storage.Batch{Messages: []*storage.NewMessage{m}}); err != nil {
			return err
		}
	}
	return nil
}

// TestMultiProcess writes to one database from this process and a child
// process at once: BEGIN IMMEDIATE and the busy timeout must serialize
// them without SQLITE_BUSY errors or lost updates.
func TestMultiProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "shared.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	shared, err := s.CreateUser(ctx, "shared@example.com", "h")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var parentErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(20 * time.Millisecond) // let the child open the database
		parentErr = writeLoad(ctx, s, "parent")
	}()
	childErr := cmd.Wait()
	wg.Wait()
	if childErr != nil {
		t.Fatalf("child: %v\n%s", childErr, out.String())
	}
	if parentErr != nil {
		t.Fatalf("parent: %v", parentErr)
	}
	users, _ := s.ListUsers(ctx)
	if len(users) != 41 {
		t.Errorf("users: got %d, want 41", len(users))
	}
	inbox, _ := s.GetMailboxByRole(ctx, shared.ID, storage.RoleInbox)
	if inbox.Total != 40 || inbox.UIDNext != 41 {
		t.Errorf("shared inbox: got total %d uidnext %d, want 40 and 41", inbox.Total, inbox.UIDNext)
	}
	for _, who := range []string{"parent", "child"} {
		if res, _ := s.Search(ctx, shared.ID, storage.SearchQuery{Text: who}); len(res) != 20 {
			t.Errorf("search %s: got %d, want 20", who, len(res))
		}
	}
}

// TestPragmasAndPlans checks the connection settings the durability and
// concurrency story rests on, that FTS5 is compiled in, and that the hot
// queries use the intended indexes.
func TestPragmasAndPlans(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "p.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", fmt.Sprint(busyTimeout.Milliseconds())},
	} {
		for _, db := range []struct {
			name string
			q    func(string) (string, error)
		}{
			{"writer", func(q string) (v string, err error) { err = s.w.QueryRowContext(ctx, q).Scan(&v); return }},
			{"reader", func(q string) (v string, err error) { err = s.r.QueryRowContext(ctx, q).Scan(&v); return }},
		} {
			got, err := db.q("PRAGMA " + tc.pragma)
			if err != nil || got != tc.want {
				t.Errorf("%s PRAGMA %s: got %q, %v, want %q", db.name, tc.pragma, got, err, tc.want)
			}
		}
	}
	var opt int
	if err := s.r.QueryRowContext(ctx, `SELECT sqlite_compileoption_used('ENABLE_FTS5')`).Scan(&opt); err != nil || opt != 1 {
		t.Errorf("ENABLE_FTS5: got %d, %v, want 1", opt, err)
	}
	for _, tc := range []struct{ name, q, want string }{
		{"unread listing", `SELECT m.id FROM messages m WHERE m.user_id = 1 AND m.mailbox_id = 2 AND m.seen = 0
			AND (m.internal_date, m.id) < (5, 6) ORDER BY m.internal_date DESC, m.id DESC LIMIT 10`, "messages_unseen"},
		{"listing", `SELECT m.id FROM messages m WHERE m.user_id = 1 AND m.mailbox_id = 2
			ORDER BY m.internal_date DESC, m.id DESC LIMIT 10`, "messages_list"},
		{"thread", `SELECT m.id FROM messages m WHERE m.user_id = 1 AND m.thread_id = 2 ORDER BY m.internal_date, m.id`, "messages_thread"},
		{"search join", `SELECT m.id FROM search JOIN messages m ON m.user_id = 1 AND m.id = search.rowid
			WHERE search MATCH 'x' ORDER BY bm25(search)`, "VIRTUAL TABLE INDEX"},
	} {
		rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+tc.q)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		joined := strings.Join(plan, "; ")
		t.Logf("%s: %s", tc.name, joined)
		if !strings.Contains(joined, tc.want) || strings.Contains(joined, "TEMP B-TREE FOR ORDER BY") && tc.name != "search join" {
			t.Errorf("%s: plan %q, want it to use %s without sorting", tc.name, joined, tc.want)
		}
	}
}
