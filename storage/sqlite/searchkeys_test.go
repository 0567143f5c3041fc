package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stamp-mail/stamp/storage"
)

func keysTestStore(tb testing.TB) (*Store, storage.User, storage.Mailbox) {
	tb.Helper()
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(tb.TempDir(), "stamp.db"), Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	u, err := s.CreateUser(ctx, "keys@example.com", "h")
	if err != nil {
		tb.Fatal(err)
	}
	inbox, err := s.GetMailboxByRole(ctx, u.ID, storage.RoleInbox)
	if err != nil {
		tb.Fatal(err)
	}
	return s, u, inbox
}

func keysMsg(u storage.User, mb storage.Mailbox, subject, body string) *storage.NewMessage {
	return &storage.NewMessage{UserID: u.ID, MailboxID: mb.ID, Size: 10, Subject: subject, SearchText: body,
		SearchHeader: "x-note: " + subject + "\n", Segments: []storage.Segment{{Hash: "h1", Size: 10, Inline: true}}}
}

func keysDeliver(tb testing.TB, s *Store, ms ...*storage.NewMessage) {
	tb.Helper()
	if err := s.Deliver(context.Background(), &storage.Batch{Messages: ms, Inline: map[string][]byte{"h1": []byte("0123456789")}}); err != nil {
		tb.Fatal(err)
	}
}

// count runs a count(*) query on the writer.
func count(tb testing.TB, s *Store, q string) int {
	tb.Helper()
	var n int
	if err := s.w.QueryRow(q).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	return n
}

func searchBody(tb testing.TB, s *Store, userID, mailboxID int64, needle string) []uint32 {
	tb.Helper()
	got, err := s.SearchUIDs(context.Background(), userID, storage.SearchQuery{MailboxID: mailboxID, Body: []string{needle}})
	if err != nil {
		tb.Fatalf("SearchUIDs(BODY %q): %v", needle, err)
	}
	return got
}

// TestSearchIndexFollowsMail checks that the texts and the keys of the
// search index follow the mail through COPY, EXPUNGE, a deleted mailbox
// and a deleted user: no key row outlives its message (a stale one would
// collide with nothing, but would hold index space forever).
func TestSearchIndexFollowsMail(t *testing.T) {
	ctx := context.Background()
	s, u, inbox := keysTestStore(t)
	folder, err := s.CreateMailbox(ctx, u.ID, "Folder", "")
	if err != nil {
		t.Fatal(err)
	}
	m1 := keysMsg(u, inbox, "march", "the invoice for march")
	m2 := keysMsg(u, inbox, "paket", "Größe des Pakets")
	m3 := keysMsg(u, inbox, "text", "日本語のテキスト")
	keysDeliver(t, s, m1, m2, m3)
	rows := func(want int, inv int) {
		t.Helper()
		for _, table := range []string{"messages", "search_text", "search"} {
			if n := count(t, s, "SELECT count(*) FROM "+table); n != want {
				t.Errorf("%s: %d rows, want %d", table, n, want)
			}
		}
		if n := count(t, s, `SELECT count(*) FROM search WHERE search MATCH 'body : "inv"'`); n != inv {
			t.Errorf("key rows for \"inv\": %d, want %d", n, inv)
		}
	}
	rows(3, 1)
	if _, err := s.Copy(ctx, u.ID, inbox.ID, []int64{m1.ID, m2.ID}, folder.ID); err != nil {
		t.Fatal(err)
	}
	rows(5, 2)
	for _, needle := range []string{"INVOICE", "GRÖßE", "des Pak"} {
		if got := searchBody(t, s, u.ID, folder.ID, needle); len(got) != 1 {
			t.Errorf("copy: BODY %q found %v, want one", needle, got)
		}
	}
	if got := searchBody(t, s, u.ID, inbox.ID, "のテキ"); len(got) != 1 {
		t.Errorf("BODY のテキ found %v, want one", got)
	}
	if _, _, err := s.Expunge(ctx, u.ID, inbox.ID, []int64{m1.ID}); err != nil {
		t.Fatal(err)
	}
	rows(4, 1)
	if got := searchBody(t, s, u.ID, inbox.ID, "invoice"); len(got) != 0 {
		t.Errorf("expunged: BODY invoice found %v in INBOX", got)
	}
	if got := searchBody(t, s, u.ID, folder.ID, "invoice"); len(got) != 1 {
		t.Errorf("the copy is gone with the original: %v", got)
	}
	if _, err := s.DeleteMailbox(ctx, u.ID, folder.ID); err != nil {
		t.Fatal(err)
	}
	rows(2, 0)
	if _, err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	rows(0, 0)
}

// TestSearchKeysMigration turns a database back into the schema before
// migration 90 (the trigram table holding the texts, no search_text) and
// opens it again: the migration must move every message, across several
// backfill batches, into the key index, where it is found.
func TestSearchKeysMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "stamp.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(ctx, "old@example.com", "h")
	if err != nil {
		t.Fatal(err)
	}
	inbox, err := s.GetMailboxByRole(ctx, u.ID, storage.RoleInbox)
	if err != nil {
		t.Fatal(err)
	}
	n := backfillBatch + 44
	var bodies []string
	var ms []*storage.NewMessage
	for i := range n {
		body := fmt.Sprintf("note number %d, zyxwv and Größe %d", i, i%7)
		bodies = append(bodies, body)
		ms = append(ms, keysMsg(u, inbox, fmt.Sprintf("subject %d", i), body))
	}
	keysDeliver(t, s, ms...)
	if _, err := s.w.ExecContext(ctx, `
DROP TRIGGER search_text_delete;
DROP TABLE search;
CREATE VIRTUAL TABLE search USING fts5(subject, addrs, hdrs, body, tokenize = 'trigram');
INSERT INTO search(rowid, subject, addrs, hdrs, body) SELECT id, subject, addrs, hdrs, body FROM search_text;
DROP TABLE search_text;
DELETE FROM schema_migrations WHERE version = 90;`); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	defer s.Close()
	if got := count(t, s, "SELECT count(*) FROM search_text"); got != n {
		t.Errorf("search_text: %d rows after the migration, want %d", got, n)
	}
	if got := count(t, s, "SELECT count(*) FROM sqlite_master WHERE name = 'search_trigram'"); got != 0 {
		t.Errorf("the trigram table is still there")
	}
	for _, needle := range []string{"ZYXWV", "number 7", "größe 3", "subject 1"} {
		want := 0
		for i, b := range bodies {
			if storage.ContainsFold(b, needle) || needle == "subject 1" && strings.HasPrefix(fmt.Sprint(i), "1") {
				want++
			}
		}
		q := storage.SearchQuery{MailboxID: inbox.ID, Body: []string{needle}}
		if strings.HasPrefix(needle, "subject") {
			q = storage.SearchQuery{MailboxID: inbox.ID, AnyText: []string{needle}}
		}
		got, err := s.SearchUIDs(ctx, u.ID, q)
		if err != nil || len(got) != want || want == 0 {
			t.Errorf("after the migration, %q: %d found, %v, want %d", needle, len(got), err, want)
		}
	}
	keysDeliver(t, s, keysMsg(u, inbox, "new", "zyxwv once more"))
	if got := searchBody(t, s, u.ID, inbox.ID, "zyxwv"); len(got) != n+1 {
		t.Errorf("delivery after the migration: %d found, want %d", len(got), n+1)
	}
}

// FuzzSearchExact delivers arbitrary text and searches it for a piece of
// itself (in any case) and for another string: a message containing the
// needle (storage.ContainsFold, the folding search promises) is always
// found, and one not containing it never is.
func FuzzSearchExact(f *testing.F) {
	f.Add("The Quick brown fox jumps over the lazy dog", 4, 15, "LAZY dog")
	f.Add("Größe ÄRGER straße \u212Aelvin", 0, 9, "kelvin")
	f.Add("日本語のテキストを検索する", 3, 21, "テキスト")
	f.Add("İstanbul ſtraße 12:30", 0, 5, "istanbul")
	f.Add("nul\x00byte inside", 2, 8, "\x00byte")
	s, u, inbox := keysTestStore(f)
	f.Fuzz(func(t *testing.T, body string, i, j int, other string) {
		i, j = min(max(i, 0), len(body)), min(max(j, 0), len(body))
		if i > j {
			i, j = j, i
		}
		for i > 0 && i < len(body) && !utf8.RuneStart(body[i]) {
			i--
		}
		for j < len(body) && !utf8.RuneStart(body[j]) {
			j++
		}
		m := keysMsg(u, inbox, "fuzz", body)
		keysDeliver(t, s, m)
		piece := body[i:j]
		for _, needle := range []string{piece, strings.ToUpper(piece), strings.ToLower(piece), other} {
			if needle == "" {
				continue
			}
			got := slices.Contains(searchBody(t, s, u.ID, inbox.ID, needle), m.UID)
			if want := storage.ContainsFold(body, needle); got != want {
				t.Fatalf("BODY %q in %q: found %v, want %v", needle, body, got, want)
			}
		}
	})
}

// TestPrepareIndexUsed checks that Deliver writes the search row
// PrepareIndex made (core computes it in the delivering goroutine), not a
// new one: the prepared row is altered before delivery and the alteration
// is what is found.
func TestPrepareIndexUsed(t *testing.T) {
	s, u, inbox := keysTestStore(t)
	m := keysMsg(u, inbox, "prepared", "alpha text")
	s.PrepareIndex([]*storage.NewMessage{m})
	r, ok := m.SearchIndex.(*searchRow)
	if !ok {
		t.Fatalf("PrepareIndex set %T, want *searchRow", m.SearchIndex)
	}
	r.body = "omega text"
	r.setKeys()
	keysDeliver(t, s, m)
	if got := searchBody(t, s, u.ID, inbox.ID, "omega"); len(got) != 1 {
		t.Errorf("the prepared row is not the one stored: omega found %v", got)
	}
	if got := searchBody(t, s, u.ID, inbox.ID, "alpha"); len(got) != 0 {
		t.Errorf("Deliver made its own row: alpha found %v", got)
	}
}

// TestReusedMessageReindexed delivers one NewMessage twice with another
// body the second time: the second copy is indexed with its own text, not
// with the row prepared for the first delivery.
func TestReusedMessageReindexed(t *testing.T) {
	s, u, inbox := keysTestStore(t)
	m := keysMsg(u, inbox, "reused", "first body alpha")
	keysDeliver(t, s, m)
	m.SearchText = "second body omega"
	keysDeliver(t, s, m)
	if got := searchBody(t, s, u.ID, inbox.ID, "omega"); len(got) != 1 || got[0] != m.UID {
		t.Errorf("omega found %v, want the second delivery's UID %d", got, m.UID)
	}
	if got := searchBody(t, s, u.ID, inbox.ID, "alpha"); len(got) != 1 {
		t.Errorf("alpha found %v, want the first delivery only", got)
	}
}
