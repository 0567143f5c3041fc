package storagetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

var searchCases = []testCase{
	{"SearchRanking", testSearchRanking},
	{"SearchFilters", testSearchFilters},
	{"SearchHostileInput", testSearchHostile},
	{"SearchBodyOnly", testSearchBodyOnly},
}

// testSearchBodyOnly checks BodyOnly: words of the subject and addresses do
// not match, words of the body do (IMAP SEARCH BODY versus TEXT).
func testSearchBodyOnly(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "b@example.com")
	m := newMsg(u.ID, inbox.ID, withSubject("Zebra crossing"), withFrom("Okapi Sender", "okapi@example.net"), withBody("a lion in the body"))
	deliver(t, s, m)
	for _, c := range []struct {
		text     string
		bodyOnly bool
		want     int
	}{
		{"zebra", false, 1}, {"zebra", true, 0},
		{"okapi", false, 1}, {"okapi", true, 0},
		{"lion", false, 1}, {"lion", true, 1},
		{"lion zebra", true, 0}, {"lion zebra", false, 1},
	} {
		got, err := s.Search(ctx, u.ID, storage.SearchQuery{Text: c.text, BodyOnly: c.bodyOnly})
		if err != nil || len(got) != c.want {
			t.Errorf("Search(%q, BodyOnly=%v): got %d results, %v, want %d", c.text, c.bodyOnly, len(got), err, c.want)
		}
	}
}

func testSearchRanking(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "a@example.com")
	t0 := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	filler := strings.Repeat("lorem ipsum dolor sit amet consectetur ", 40)
	weak := newMsg(u.ID, inbox.ID, withSubject("Lunch"), withBody(filler+" invoice "+filler), withDate(t0.Add(3*time.Hour)))
	strong := newMsg(u.ID, inbox.ID, withSubject("Invoice 42 attached"), withBody("the invoice for march, invoice number 42"), withDate(t0))
	older := newMsg(u.ID, inbox.ID, withSubject("Twin"), withBody("walrus"), withDate(t0.Add(time.Hour)))
	newer := newMsg(u.ID, inbox.ID, withSubject("Twin"), withBody("walrus"), withDate(t0.Add(2*time.Hour)))
	none := newMsg(u.ID, inbox.ID, withSubject("Other"), withBody("nothing to see"))
	deliver(t, s, weak, strong, older, newer, none)

	got, err := s.Search(ctx, u.ID, storage.SearchQuery{Text: "invoice"})
	if want := []int64{strong.ID, weak.ID}; err != nil || !slices.Equal(ids(got), want) {
		t.Errorf("Search(invoice): got %v, %v, want %v (subject and body beat one body mention)", ids(got), err, want)
	}
	got, _ = s.Search(ctx, u.ID, storage.SearchQuery{Text: "walrus"})
	if want := []int64{newer.ID, older.ID}; !slices.Equal(ids(got), want) {
		t.Errorf("Search(walrus): got %v, want %v (equal rank: newest first)", ids(got), want)
	}
	got, _ = s.Search(ctx, u.ID, storage.SearchQuery{Text: "invoice march"})
	if want := []int64{strong.ID}; !slices.Equal(ids(got), want) {
		t.Errorf("Search(invoice march): got %v, want %v (every term must match)", ids(got), want)
	}
	got, _ = s.Search(ctx, u.ID, storage.SearchQuery{Text: "INVOICE"})
	if len(got) != 2 {
		t.Errorf("Search(INVOICE): got %d, want 2 (case-insensitive)", len(got))
	}
	got, _ = s.Search(ctx, u.ID, storage.SearchQuery{Text: "invoice", Offset: 1, Limit: 1})
	if want := []int64{weak.ID}; !slices.Equal(ids(got), want) {
		t.Errorf("Search(invoice, offset 1 limit 1): got %v, want %v", ids(got), want)
	}
	// Expunged messages disappear from search.
	if _, _, err := s.Expunge(ctx, u.ID, inbox.ID, []int64{strong.ID}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Search(ctx, u.ID, storage.SearchQuery{Text: "invoice"})
	if want := []int64{weak.ID}; !slices.Equal(ids(got), want) {
		t.Errorf("Search(invoice) after expunge: got %v, want %v", ids(got), want)
	}
}

func testSearchFilters(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "a@example.com")
	other, _ := newUser(t, s, "other@example.com")
	arch := mustRole(t, s, u.ID, storage.RoleArchive)
	t0 := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	m1 := newMsg(u.ID, inbox.ID, withSubject("Ärger mit dem Server"), withFrom("Zoë Müller", "zoe@muller.example"),
		withBody("kangaroo report"), withDate(t0), withFlags(`\Seen`))
	m2 := newMsg(u.ID, inbox.ID, withSubject("Weekly report"), withFrom("Bob", "bob@corp.example"),
		withBody("kangaroo numbers"), withDate(t0.Add(24*time.Hour)), withAttachment("r.pdf", segment("report pdf")))
	m3 := newMsg(u.ID, arch.ID, withSubject("Old report"), withFrom("Bob", "bob@corp.example"),
		withBody("archived kangaroo"), withDate(t0.Add(48*time.Hour)),
		func(m *storage.NewMessage) { m.Cc = []storage.Address{{Name: "Carol", Address: "carol@cc.example"}} })
	deliver(t, s, m1, m2, m3)
	om := newMsg(other.ID, mustRole(t, s, other.ID, storage.RoleInbox).ID, withBody("kangaroo"), withFrom("Bob", "bob@corp.example"))
	deliver(t, s, om)

	for _, tc := range []struct {
		name string
		q    storage.SearchQuery
		want []int64
	}{
		{"text only", storage.SearchQuery{Text: "kangaroo"}, nil}, // any order: checked as a set below
		{"no text, newest first", storage.SearchQuery{}, []int64{m3.ID, m2.ID, m1.ID}},
		{"mailbox", storage.SearchQuery{Text: "kangaroo", MailboxID: arch.ID}, []int64{m3.ID}},
		{"from address substring", storage.SearchQuery{From: "CORP.EX"}, []int64{m3.ID, m2.ID}},
		{"from name non-ASCII", storage.SearchQuery{From: "zoË"}, []int64{m1.ID}},
		{"to via cc", storage.SearchQuery{To: "carol"}, []int64{m3.ID}},
		{"to address", storage.SearchQuery{To: "bob@example.com"}, []int64{m3.ID, m2.ID, m1.ID}},
		{"subject substring non-ASCII", storage.SearchQuery{Subject: "ärger"}, []int64{m1.ID}},
		{"subject with text", storage.SearchQuery{Text: "kangaroo", Subject: "REPORT"}, nil},
		{"has attachment", storage.SearchQuery{HasAttachment: true}, []int64{m2.ID}},
		{"unread", storage.SearchQuery{Unread: ptr(true)}, []int64{m3.ID, m2.ID}},
		{"seen", storage.SearchQuery{Unread: ptr(false)}, []int64{m1.ID}},
		{"before", storage.SearchQuery{Before: t0.Add(24 * time.Hour)}, []int64{m1.ID}},
		{"after (inclusive)", storage.SearchQuery{After: t0.Add(24 * time.Hour)}, []int64{m3.ID, m2.ID}},
		{"between", storage.SearchQuery{After: t0.Add(time.Hour), Before: t0.Add(47 * time.Hour)}, []int64{m2.ID}},
		{"text by address", storage.SearchQuery{Text: "zoe@muller.example"}, []int64{m1.ID}},
		{"text by name", storage.SearchQuery{Text: "müller"}, []int64{m1.ID}},
		{"limit", storage.SearchQuery{Limit: 2}, []int64{m3.ID, m2.ID}},
		{"offset", storage.SearchQuery{Offset: 2}, []int64{m1.ID}},
		{"no match", storage.SearchQuery{Text: "platypus"}, []int64{}},
	} {
		got, err := s.Search(ctx, u.ID, tc.q)
		if err != nil {
			t.Errorf("%s: Search: %v", tc.name, err)
			continue
		}
		want := tc.want
		gotIDs := ids(got)
		if want == nil {
			switch tc.name {
			case "text only":
				want = []int64{m1.ID, m2.ID, m3.ID}
			default:
				want = []int64{m2.ID, m3.ID}
			}
			slices.Sort(gotIDs)
			slices.Sort(want)
		}
		if !slices.Equal(gotIDs, want) {
			t.Errorf("%s: got %v, want %v", tc.name, gotIDs, want)
		}
	}
}

func testSearchHostile(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "a@example.com")
	m := newMsg(u.ID, inbox.ID, withSubject(`Quote "this" and that`), withBody("alpha OR beta NEAR gamma - delta*"))
	deliver(t, s, m)
	for _, tc := range []struct {
		text string
		want int // -1: any count, no error
	}{
		{`"`, 1},         // only punctuation: ignored, matches everything
		{`*`, 1},         // idem
		{`- ( ) : ^`, 1}, // idem
		{`alpha OR zzz`, 0},
		{`alpha NOT beta`, -1}, // "not" may be a stop word
		{`"quote"`, 1},
		{`quote"`, 1},
		{`subject:alpha`, -1},
		{`"this"`, -1},
		{`delta*`, 1},
		{`NEAR(alpha gamma)`, -1},
		{`alpha AND`, -1},
		{`{subject body}: alpha`, -1},
		{`'; DROP TABLE messages; --`, 0},
		{"nul\x00byte \xff\xfe", -1}, // control bytes and invalid UTF-8
		{`alph`, 1},                  // terms are substrings (RFC 9051 section 6.4.4 semantics)
		{`lpha`, 1},
		{`alphaz`, 0},
	} {
		got, err := s.Search(ctx, u.ID, storage.SearchQuery{Text: tc.text})
		if err != nil {
			t.Errorf("Search(%q): got error %v, want none", tc.text, err)
			continue
		}
		if tc.want >= 0 && len(got) != tc.want {
			t.Errorf("Search(%q): got %d results, want %d", tc.text, len(got), tc.want)
		}
	}
	if _, err := s.GetMessage(ctx, u.ID, m.ID); err != nil {
		t.Errorf("message after hostile searches: %v", err)
	}
}
