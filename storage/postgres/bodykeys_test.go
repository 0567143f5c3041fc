package postgres

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stamp-mail/stamp/storage"
)

// TestBodyKeysBackfill checks migration 50's backfill: rows without keys
// (as stored before it) are not found through the index, and are once the
// backfill has run.
func TestBodyKeysBackfill(t *testing.T) {
	s := openTest(t, 4)
	ctx := context.Background()
	u, inbox := mustUser(t, s, "keys@example.com")
	var ms []*storage.NewMessage
	for i := range 3 {
		m := newMsg(u.ID, inbox.ID, "note", i)
		m.SearchText = "an unusual word: zyxwvutsr, and 日本語のテキスト"
		ms = append(ms, m)
	}
	deliver(t, s, ms...)
	search := func(needle string) int {
		t.Helper()
		got, err := s.SearchUIDs(ctx, u.ID, storage.SearchQuery{MailboxID: inbox.ID, Body: []string{needle}})
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	if n := search("XWVUT"); n != 3 {
		t.Fatalf("before: %d found, want 3", n)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE search_text SET body_keys = '{}' WHERE user_id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	if n := search("xwvut"); n != 0 {
		t.Fatalf("without keys: %d found through the index, want 0 (the index is not used)", n)
	}
	if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return backfillBodyKeys(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
	for _, needle := range []string{"xwvut", "のテキ", "unusual word"} {
		if n := search(needle); n != 3 {
			t.Errorf("after backfill %q: %d found, want 3", needle, n)
		}
	}
}
