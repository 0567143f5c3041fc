package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stamp-mail/stamp/storage"
	"github.com/stamp-mail/stamp/storage/internal/textkeys"
)

// namedQuery is one search of a keys backfill test.
type namedQuery struct {
	name string
	q    storage.SearchQuery
}

// checkKeysBackfill checks one keys column's backfill on user userID's
// messages, every one of which each query finds: all found before, none by
// the first query once col is emptied (so the index is what finds them),
// all again after backfill.
func checkKeysBackfill(t *testing.T, s *Store, userID int64, want int, col string, backfill func(context.Context, pgx.Tx) error, queries []namedQuery) {
	t.Helper()
	ctx := context.Background()
	search := func(q storage.SearchQuery) int {
		t.Helper()
		got, err := s.SearchUIDs(ctx, userID, q)
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	for _, c := range queries {
		if n := search(c.q); n != want {
			t.Errorf("before, %s: %d found, want %d", c.name, n, want)
		}
	}
	if _, err := s.pool.Exec(ctx, `UPDATE search_text SET `+col+` = '{}' WHERE user_id = $1`, userID); err != nil {
		t.Fatal(err)
	}
	if n := search(queries[0].q); n != 0 {
		t.Fatalf("without keys: %d found through the index, want 0 (the index is not used)", n)
	}
	if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return backfill(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
	for _, c := range queries {
		if n := search(c.q); n != want {
			t.Errorf("after backfill, %s: %d found, want %d", c.name, n, want)
		}
	}
}

// TestBodyKeysBackfill checks migration 50's backfill: rows without keys
// (as stored before it) are not found through the index, and are once the
// backfill has run.
func TestBodyKeysBackfill(t *testing.T) {
	s := openTest(t, 4)
	u, inbox := mustUser(t, s, "keys@example.com")
	var ms []*storage.NewMessage
	for i := range 3 {
		m := newMsg(u.ID, inbox.ID, "note", i)
		m.SearchText = "an unusual word: zyxwvutsr, and 日本語のテキスト"
		ms = append(ms, m)
	}
	deliver(t, s, ms...)
	var queries []namedQuery
	for _, needle := range []string{"XWVUT", "xwvut", "のテキ", "unusual word"} {
		queries = append(queries, namedQuery{needle, storage.SearchQuery{MailboxID: inbox.ID, Body: []string{needle}}})
	}
	checkKeysBackfill(t, s, u.ID, 3, "body_keys", backfillBodyKeys, queries)
}

// TestHdrKeysBackfill checks migration 110's backfill of the header keys
// the same way: HEADER and TEXT needles found only in a header line.
func TestHdrKeysBackfill(t *testing.T) {
	s := openTest(t, 4)
	u, inbox := mustUser(t, s, "hkeys@example.com")
	var ms []*storage.NewMessage
	for i := range 3 {
		m := newMsg(u.ID, inbox.ID, "note", i)
		m.SearchHeader = "subject: note\nx-mailer: quillwright 7.2\nreceived: from relay.example by 日本語のサーバ\n"
		ms = append(ms, m)
	}
	deliver(t, s, ms...)
	checkKeysBackfill(t, s, u.ID, 3, "hdr_keys", backfillHdrKeys, []namedQuery{
		{"header", storage.SearchQuery{MailboxID: inbox.ID, Header: []storage.HeaderTerm{{Name: "X-Mailer", Value: "LLWRIGHT 7"}}}},
		{"text", storage.SearchQuery{MailboxID: inbox.ID, AnyText: []string{"illwri"}}},
		{"text cjk", storage.SearchQuery{MailboxID: inbox.ID, AnyText: []string{"語のサ"}}},
		{"header without keys", storage.SearchQuery{MailboxID: inbox.ID, Header: []storage.HeaderTerm{{Name: "x-mailer", Value: "7.2"}}}},
	})
}

// TestLz4Compression checks migrations 112 and 120: the message text of
// blob_data and every compressible column of search_text and of each of its
// partitions compress with lz4 (where the server has it), and a 10 KB body
// comes back intact.
func TestLz4Compression(t *testing.T) {
	s := openTest(t, 4)
	ctx := context.Background()
	var lz4 bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_settings
		WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals))`).Scan(&lz4); err != nil {
		t.Fatal(err)
	}
	if !lz4 {
		t.Skip("this PostgreSQL has no lz4: migration 112 keeps pglz")
	}
	rows, err := s.pool.Query(ctx, `SELECT c.oid::regclass::text, a.attcompression::text FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid
		WHERE c.relnamespace = to_regnamespace(current_schema())
			AND ((c.relname ~ '^search_text(_p[0-9]+)?$' AND a.attname IN ('subject', 'addrs', 'hdrs', 'body', 'body_keys', 'hdr_keys')) OR (c.relname = 'blob_data' AND a.attname = 'data'))`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var rel, comp string
		if err := rows.Scan(&rel, &comp); err != nil {
			t.Fatal(err)
		}
		n++
		if comp != "l" {
			t.Errorf("%s: compression %q, want \"l\" (lz4)", rel, comp)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := 1 + 6*(1+4); n != want {
		t.Errorf("got %d columns, want %d (blob_data; 6 columns of search_text and of its 4 partitions)", n, want)
	}
	u, inbox := mustUser(t, s, "lz4@example.com")
	m := newMsg(u.ID, inbox.ID, "long", 1)
	m.SearchText = strings.Repeat("a body long enough to be compressed, ", 300)
	deliver(t, s, m)
	var body, method string
	if err := s.pool.QueryRow(ctx, `SELECT body, coalesce(pg_column_compression(body), '') FROM search_text WHERE user_id = $1`,
		u.ID).Scan(&body, &method); err != nil {
		t.Fatal(err)
	}
	if body != m.SearchText || method != "lz4" {
		t.Errorf("stored body: %d bytes compressed with %q, want the %d bytes with lz4", len(body), method, len(m.SearchText))
	}
}

// TestHeadKeysBackfill checks that hdr_keys holds the subject's and the
// addresses' keys (migration 121), from Deliver and from the backfill: Text
// needles found only in the subject or an address name, for mail without
// header lines.
func TestHeadKeysBackfill(t *testing.T) {
	s := openTest(t, 4)
	u, inbox := mustUser(t, s, "headkeys@example.com")
	var ms []*storage.NewMessage
	for i := range 3 {
		m := newMsg(u.ID, inbox.ID, "Quarterly zyxwvu figures", i)
		m.From = []storage.Address{{Name: "Wilhelmina Quorn", Address: "wq@example.com"}}
		m.SearchText = "nothing here"
		ms = append(ms, m)
	}
	deliver(t, s, ms...)
	var queries []namedQuery
	for _, needle := range []string{"XWVU", "helmina quo", "terly"} {
		queries = append(queries, namedQuery{needle, storage.SearchQuery{MailboxID: inbox.ID, Text: needle}})
	}
	checkKeysBackfill(t, s, u.ID, 3, "hdr_keys", func(ctx context.Context, tx pgx.Tx) error {
		return backfillKeys(ctx, tx, headKeysSrc, "hdr_keys", textkeys.Keys)
	}, queries)
}
