package storagetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

// imapSearchCases are the cases of the imap-search work: substring search,
// SENT*/internal dates, quotas, metadata, the change log and object ids.
var imapSearchCases = []testCase{
	{"SubstringSearch", testSubstringSearch},
	{"SubstringCJK", testSubstringCJK},
	{"SubstringEverywhere", testSubstringEverywhere},
	{"SearchHeaderTerms", testSearchHeaderTerms},
	{"SearchDates", testSearchDates},
	{"QuotaUsage", testQuotaUsage},
	{"ChangeLog", testChangeLog},
	{"Metadata", testMetadata},
}

func withHeader(h string) msgOpt  { return func(m *storage.NewMessage) { m.SearchHeader = h } }
func withSent(d time.Time) msgOpt { return func(m *storage.NewMessage) { m.Date = d } }

// uids runs SearchUIDs and fails the test on error.
func uids(t *testing.T, s storage.Store, userID int64, q storage.SearchQuery) []uint32 {
	t.Helper()
	got, err := s.SearchUIDs(t.Context(), userID, q)
	if err != nil {
		t.Fatalf("SearchUIDs(%+v): %v", q, err)
	}
	return got
}

func testSubstringSearch(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "sub@example.com")
	m1 := newMsg(u.ID, inbox.ID, withSubject("Invoice 42"), withBody("Please find the INVOICE attached, qwertyuiop"), withHeader("x-extra: hello beautiful header\n"))
	m2 := newMsg(u.ID, inbox.ID, withSubject("Lunch"), withBody("asdfghjkl and a fox"))
	m3 := newMsg(u.ID, inbox.ID, withSubject("Other"), withBody("nothing here"))
	deliver(t, s, m1, m2, m3)
	for _, c := range []struct {
		name string
		q    storage.SearchQuery
		want []uint32
	}{
		{"body substring", storage.SearchQuery{Body: []string{"nvoic"}}, []uint32{m1.UID}},
		{"body case-insensitive", storage.SearchQuery{Body: []string{"WERTYUIO"}}, []uint32{m1.UID}},
		{"body inside a word", storage.SearchQuery{Body: []string{"sdfghjk"}}, []uint32{m2.UID}},
		{"body short needle (scan)", storage.SearchQuery{Body: []string{"ox"}}, []uint32{m2.UID}},
		{"body one letter", storage.SearchQuery{Body: []string{"q"}}, []uint32{m1.UID}},
		{"body needles ANDed", storage.SearchQuery{Body: []string{"fox", "asdf"}}, []uint32{m2.UID}},
		{"body needles ANDed, none", storage.SearchQuery{Body: []string{"fox", "invoice"}}, []uint32{}},
		{"body is not subject", storage.SearchQuery{Body: []string{"lunch"}}, []uint32{}},
		{"body is not header", storage.SearchQuery{Body: []string{"beautiful"}}, []uint32{}},
		{"text finds header", storage.SearchQuery{AnyText: []string{"eautiful head"}}, []uint32{m1.UID}},
		{"text finds subject", storage.SearchQuery{AnyText: []string{"unc"}}, []uint32{m2.UID}},
		{"text finds body", storage.SearchQuery{AnyText: []string{"othing"}}, []uint32{m3.UID}},
		{"text with quote and percent", storage.SearchQuery{AnyText: []string{`50% "x"`}}, []uint32{}},
		{"empty needle matches all", storage.SearchQuery{Body: []string{""}}, []uint32{m1.UID, m2.UID, m3.UID}},
		{"like wildcard is literal", storage.SearchQuery{Body: []string{"f_x"}}, []uint32{}},
	} {
		c.q.MailboxID = inbox.ID
		if got := uids(t, s, u.ID, c.q); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	// The API's Text: every term a substring, ranked.
	got, err := s.Search(ctx, u.ID, storage.SearchQuery{Text: "invoic attach"})
	if err != nil || !slices.Equal(ids(got), []int64{m1.ID}) {
		t.Errorf("Search(invoic attach): got %v, %v, want [%d]", ids(got), err, m1.ID)
	}
	// A copy is found in its mailbox; an expunged message is not.
	arch, err := s.GetMailboxByRole(ctx, u.ID, storage.RoleArchive)
	if err != nil {
		t.Fatal(err)
	}
	mv, err := s.Copy(ctx, u.ID, inbox.ID, []int64{m2.ID}, arch.ID)
	if err != nil || len(mv) != 1 {
		t.Fatalf("Copy: %v, %v", mv, err)
	}
	if got := uids(t, s, u.ID, storage.SearchQuery{MailboxID: arch.ID, Body: []string{"ghjk"}}); !slices.Equal(got, []uint32{mv[0].NewUID}) {
		t.Errorf("copy: got %v, want [%d]", got, mv[0].NewUID)
	}
	if _, _, err := s.Expunge(ctx, u.ID, inbox.ID, []int64{m2.ID}); err != nil {
		t.Fatal(err)
	}
	if got := uids(t, s, u.ID, storage.SearchQuery{MailboxID: inbox.ID, Body: []string{"ghjk"}}); len(got) != 0 {
		t.Errorf("after expunge: got %v, want none", got)
	}
	// Another user's mailbox is not found.
	other, _ := newUser(t, s, "other@example.com")
	if _, err := s.SearchUIDs(ctx, other.ID, storage.SearchQuery{MailboxID: inbox.ID, Body: []string{"invoice"}}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("SearchUIDs of another user's mailbox: got %v, want ErrNotFound", err)
	}
}

// testSubstringCJK searches Chinese and Japanese text, which has no spaces
// between words: any run of characters is found.
func testSubstringCJK(t *testing.T, s storage.Store) {
	u, inbox := newUser(t, s, "cjk@example.com")
	zh := newMsg(u.ID, inbox.ID, withSubject("会议通知"), withBody("我们明天在北京开会讨论预算。"))
	ja := newMsg(u.ID, inbox.ID, withSubject("お知らせ"), withBody("東京都で来週の会議があります。よろしくお願いします。"))
	deliver(t, s, zh, ja)
	for _, c := range []struct {
		needle string
		want   []uint32
	}{
		{"北京开会", []uint32{zh.UID}},
		{"明天在", []uint32{zh.UID}},
		{"北京", []uint32{zh.UID}}, // two characters: the scan
		{"会议", []uint32{}},       // only in zh's subject; Japanese 会議 is another character
		{"会議があ", []uint32{ja.UID}},
		{"お願い", []uint32{ja.UID}},
		{"上海", []uint32{}},
		{"预算。", []uint32{zh.UID}},
	} {
		if got := uids(t, s, u.ID, storage.SearchQuery{MailboxID: inbox.ID, Body: []string{c.needle}}); !slices.Equal(got, c.want) {
			t.Errorf("BODY %q: got %v, want %v", c.needle, got, c.want)
		}
	}
	if got := uids(t, s, u.ID, storage.SearchQuery{MailboxID: inbox.ID, AnyText: []string{"会议通"}}); !slices.Equal(got, []uint32{zh.UID}) {
		t.Errorf("TEXT 会议通: got %v, want [%d]", got, zh.UID)
	}
	got, err := s.Search(t.Context(), u.ID, storage.SearchQuery{Text: "来週の会議"})
	if err != nil || !slices.Equal(ids(got), []int64{ja.ID}) {
		t.Errorf("Search(来週の会議): got %v, %v, want [%d]", ids(got), err, ja.ID)
	}
}

func testSearchHeaderTerms(t *testing.T, s storage.Store) {
	u, inbox := newUser(t, s, "hdr@example.com")
	m1 := newMsg(u.ID, inbox.ID, withHeader("subject: hello beautiful world\nfrom: RealFrom <user-from@domain.org>\n"))
	m2 := newMsg(u.ID, inbox.ID, withHeader("x-extra: hello beautiful header\nx-extra: another one\nto: groupname: g1@domain.org;\nto: g1@domain.org\n"))
	deliver(t, s, m1, m2)
	for _, c := range []struct {
		name, value string
		want        []uint32
	}{
		{"subject", "", []uint32{m1.UID}},
		{"x-extra", "", []uint32{m2.UID}},
		{"X-Extra", "eautiful head", []uint32{m2.UID}},
		{"x-extra", "another", []uint32{m2.UID}},
		{"x-extra", "world", []uint32{}}, // in another field
		{"x-extra", "extra", []uint32{}}, // the name is not the value
		{"from", "ealfro", []uint32{m1.UID}},
		{"from", "user-from@domain.org", []uint32{m1.UID}},
		{"to", "groupname", []uint32{m2.UID}},
		{"to", "ro", []uint32{m2.UID}}, // short value: the scan
		{"cc", "", []uint32{}},
	} {
		q := storage.SearchQuery{MailboxID: inbox.ID, Header: []storage.HeaderTerm{{Name: c.name, Value: c.value}}}
		if got := uids(t, s, u.ID, q); !slices.Equal(got, c.want) {
			t.Errorf("HEADER %s %q: got %v, want %v", c.name, c.value, got, c.want)
		}
	}
}

// testSearchDates follows RFC 9051 section 6.4.4: SENT* compare the Date
// header's calendar date as written (its own zone), the others the
// internal date's in the query's zone. The Date values are imaptest's
// search-date messages around a daylight-saving change.
func testSearchDates(t *testing.T, s storage.Store) {
	u, inbox := newUser(t, s, "dates@example.com")
	parse := func(v string) time.Time {
		d, err := time.Parse(time.RFC1123Z, v)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	internal := time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC)
	var ms []*storage.NewMessage
	for _, d := range []string{
		"Sat, 24 Mar 2007 23:00:00 +0200", "Sun, 25 Mar 2007 00:00:00 +0200", "Sun, 25 Mar 2007 04:00:00 +0300",
		"Sun, 25 Mar 2007 23:00:00 +0300", "Mon, 26 Mar 2007 00:00:00 +0300",
	} {
		ms = append(ms, newMsg(u.ID, inbox.ID, withSent(parse(d)), withDate(internal)))
	}
	nodate := newMsg(u.ID, inbox.ID, withDate(time.Date(2007, 3, 25, 12, 0, 0, 0, time.UTC)))
	ms = append(ms, nodate)
	deliver(t, s, ms...)
	day := func(m, d int) time.Time { return time.Date(2007, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	uidsOf := func(idx ...int) []uint32 {
		out := []uint32{}
		for _, i := range idx {
			out = append(out, ms[i].UID)
		}
		return out
	}
	plus2 := time.FixedZone("+0200", 2*3600)
	for _, c := range []struct {
		name string
		q    storage.SearchQuery
		want []uint32
	}{
		{"sentbefore 25", storage.SearchQuery{SentBefore: day(3, 25)}, uidsOf(0)},
		{"sentbefore 26", storage.SearchQuery{SentBefore: day(3, 26)}, uidsOf(0, 1, 2, 3, 5)},
		{"senton 24", storage.SearchQuery{SentOn: day(3, 24)}, uidsOf(0)},
		{"senton 25", storage.SearchQuery{SentOn: day(3, 25)}, uidsOf(1, 2, 3, 5)},
		{"senton 26", storage.SearchQuery{SentOn: day(3, 26)}, uidsOf(4)},
		{"sentsince 25", storage.SearchQuery{SentSince: day(3, 25)}, uidsOf(1, 2, 3, 4, 5)},
		{"sentsince 26", storage.SearchQuery{SentSince: day(3, 26)}, uidsOf(4)},
		{"senton, time ignored", storage.SearchQuery{SentOn: time.Date(2007, 3, 26, 23, 59, 0, 0, plus2)}, uidsOf(4)},
		{"on 1 mar UTC", storage.SearchQuery{DateOn: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}, uidsOf(0, 1, 2, 3, 4)},
		{"on 2 mar +0200", storage.SearchQuery{DateOn: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), Zone: plus2}, uidsOf(0, 1, 2, 3, 4)},
		{"on 1 mar +0200", storage.SearchQuery{DateOn: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Zone: plus2}, uidsOf()},
		{"since 2 mar UTC", storage.SearchQuery{DateSince: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}, uidsOf()},
		{"before 2 mar UTC", storage.SearchQuery{DateBefore: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}, uidsOf(0, 1, 2, 3, 4, 5)},
		{"before 1 mar UTC", storage.SearchQuery{DateBefore: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}, uidsOf(5)},
	} {
		c.q.MailboxID = inbox.ID
		if got := uids(t, s, u.ID, c.q); !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	// MODSEQ: only the later messages.
	if got := uids(t, s, u.ID, storage.SearchQuery{MailboxID: inbox.ID, MinModSeq: ms[4].ModSeq}); !slices.Equal(got, uidsOf(4, 5)) {
		t.Errorf("modseq >= %d: got %v, want %v", ms[4].ModSeq, got, uidsOf(4, 5))
	}
}

// testSubstringEverywhere searches a body of prose in several scripts for
// pieces of 1 to 12 runes cut at every third rune, every other one in upper
// case: each is found, and in the body of the other message, which holds
// none of them, it is not. Bodies are indexed by a sample of their keys
// (textkeys.BodyKeys), so this is what says the sample still finds every
// substring, on each store's own index.
func testSubstringEverywhere(t *testing.T, s storage.Store) {
	u, inbox := newUser(t, s, "everywhere@example.com")
	body := "The committee reconvenes on Thursday, 12 November, to discuss the quarterly figures. " +
		"Die Straße nach Göteborg ist gesperrt; ΣΊΣΥΦΟΣ wartet. Счёт-фактура №2026 приложена. " +
		"我们明天在北京开会讨论预算。東京都で来週の会議があります。내일 서울에서 회의가 있습니다. " +
		"Invoice INV-2026-0042 from accounts-payable@example.org is attached."
	m := newMsg(u.ID, inbox.ID, withSubject("Minutes"), withBody(body))
	other := newMsg(u.ID, inbox.ID, withSubject("Other"), withBody("~~~ ~~~"))
	deliver(t, s, m, other)
	runes := []rune(body)
	checked := 0
	for i := 0; i < len(runes); i += 3 {
		for _, n := range []int{1, 3, 4, 5, 7, 12} {
			if i+n > len(runes) {
				continue
			}
			needle := string(runes[i : i+n])
			if strings.TrimSpace(needle) != needle {
				continue
			}
			if i%2 == 1 {
				needle = strings.ToUpper(needle)
				if !storage.ContainsFold(body, needle) {
					continue // upper case changed the length (ß)
				}
			}
			if got := uids(t, s, u.ID, storage.SearchQuery{MailboxID: inbox.ID, Body: []string{needle}}); !slices.Equal(got, []uint32{m.UID}) {
				t.Errorf("BODY %q: got %v, want [%d]", needle, got, m.UID)
			}
			// TEXT looks in the other's subject and addresses too.
			if got := uids(t, s, u.ID, storage.SearchQuery{MailboxID: inbox.ID, AnyText: []string{needle}}); !slices.Contains(got, m.UID) {
				t.Errorf("TEXT %q: got %v, want %d among them", needle, got, m.UID)
			}
			checked++
		}
	}
	if checked < 300 {
		t.Fatalf("only %d needles checked", checked)
	}
}
