package postgres

import (
	"context"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/stamp-mail/stamp/storage"
)

// subset reports whether every key of a is in b (both sorted).
func subset(a, b []int64) bool {
	for _, k := range a {
		if _, ok := slices.BinarySearch(b, k); !ok {
			return false
		}
	}
	return true
}

func TestBodyKeys(t *testing.T) {
	for _, c := range []struct {
		text string
		n    int
	}{
		{"", 0},
		{"ab", 0},
		{"abc", 1},
		{"abcd", 2},
		{"ab cd", 0},   // no trigram across a word boundary
		{"abc abc", 1}, // distinct keys only
		{"ABC abc Abc", 1},
		{"日本語のテキスト", 6},
		{"12:30", 0},
	} {
		if got := bodyKeys(c.text); len(got) != c.n || !slices.IsSorted(got) {
			t.Errorf("bodyKeys(%q) = %v, want %d sorted keys", c.text, got, c.n)
		}
	}
	// Case variants share keys, the Kelvin sign and the long s included.
	if a, b := bodyKeys("kiss"), bodyKeys("\u212Aiſs"); !slices.Equal(a, b) {
		t.Errorf("keys of kiss %v and of its case variant %v differ", a, b)
	}
	if a, b := bodyKeys("ΣΊΣΥΦΟΣ"), bodyKeys("σίσυφος"); !slices.Equal(a, b) {
		t.Errorf("Greek upper %v and lower %v differ", a, b)
	}
}

// FuzzBodyKeysSubstring checks the property search relies on: the keys of
// any substring of a text, in any case, are among the text's keys.
func FuzzBodyKeysSubstring(f *testing.F) {
	f.Add("The quick brown fox jumps over the lazy dog.", 4, 15)
	f.Add("Größe ÄRGER straße", 2, 12)
	f.Add("日本語のテキストを検索する", 3, 30)
	f.Add("x-mailer: hello\r\nsubject: re: 12:30", 0, 40)
	f.Fuzz(func(t *testing.T, text string, i, j int) {
		if !utf8.ValidString(text) || len(text) == 0 {
			return
		}
		i, j = abs(i)%(len(text)+1), abs(j)%(len(text)+1)
		if i > j {
			i, j = j, i
		}
		for i > 0 && i < len(text) && !utf8.RuneStart(text[i]) {
			i--
		}
		for j < len(text) && !utf8.RuneStart(text[j]) {
			j++
		}
		all := bodyKeys(text)
		for _, needle := range []string{text[i:j], strings.ToUpper(text[i:j]), strings.ToLower(text[i:j])} {
			if !strings.Contains(strings.ToLower(text), strings.ToLower(needle)) {
				continue // case mapping changed the length: not a substring any more
			}
			if k := bodyKeys(needle); !subset(k, all) {
				t.Fatalf("keys of %q are not among the keys of %q", needle, text)
			}
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

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
