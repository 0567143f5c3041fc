package storagetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

var webmailCases = []testCase{
	{"UserSettings", testUserSettings},
	{"UserSessions", testUserSessions},
	{"DraftAliases", testDraftAliases},
	{"SubjectJoin", testSubjectJoin},
	{"InlineNotAttachment", testInlineNotAttachment},
	{"SearchNewest", testSearchNewest},
}

// testInlineNotAttachment: parts marked Inline (cid: images of the HTML
// body) are stored but do not make HasAttachments; one real attachment does.
func testInlineNotAttachment(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "a@example.com")
	logo := storage.Attachment{Part: "2", Filename: "logo.png", ContentType: "image/png", Size: 4, Hash: "h1", Inline: true}
	only := newMsg(u.ID, inbox.ID, withSubject("inline only"))
	only.Attachments = []storage.Attachment{logo}
	both := newMsg(u.ID, inbox.ID, withSubject("inline and a file"))
	both.Attachments = []storage.Attachment{logo, {Part: "3", Filename: "report.pdf", ContentType: "application/pdf", Size: 9, Hash: "h2"}}
	deliver(t, s, only, both)
	for _, c := range []struct {
		m    *storage.NewMessage
		want bool
		n    int
	}{{only, false, 1}, {both, true, 2}} {
		got, err := s.GetMessage(ctx, u.ID, c.m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.HasAttachments != c.want {
			t.Errorf("%s: HasAttachments %v, want %v", c.m.Subject, got.HasAttachments, c.want)
		}
		if atts, err := s.ListAttachments(ctx, u.ID, c.m.ID); err != nil || len(atts) != c.n {
			t.Errorf("%s: ListAttachments got %d, %v; want %d (inline parts are stored too)", c.m.Subject, len(atts), err, c.n)
		}
	}
	// The repair of old flags clears only the user's own messages.
	v, vInbox := newUser(t, s, "v@example.com")
	theirs := newMsg(v.ID, vInbox.ID, withSubject("theirs"))
	theirs.Attachments = both.Attachments
	deliver(t, s, theirs)
	if err := s.ClearHasAttachments(ctx, u.ID, []int64{both.ID, theirs.ID, 1 << 40}); err != nil {
		t.Fatalf("ClearHasAttachments: %v", err)
	}
	if got, _ := s.GetMessage(ctx, u.ID, both.ID); got.HasAttachments {
		t.Errorf("after ClearHasAttachments: HasAttachments still true")
	}
	if got, _ := s.GetMessage(ctx, v.ID, theirs.ID); !got.HasAttachments {
		t.Errorf("another user's message was cleared")
	}
}

func testUserSettings(t *testing.T, s storage.Store) {
	ctx := t.Context()
	a, _ := newUser(t, s, "alice@example.com")
	b, _ := newUser(t, s, "bob@example.com")
	if got, err := s.GetUserSettings(ctx, a.ID); err != nil || got != nil {
		t.Fatalf("GetUserSettings(none saved): got %q, %v, want nil, nil", got, err)
	}
	for _, doc := range []string{`{"display_name":"Alice"}`, `{"display_name":"Alice Liddell","theme":"dark"}`} {
		if err := s.PutUserSettings(ctx, a.ID, []byte(doc)); err != nil {
			t.Fatalf("PutUserSettings: %v", err)
		}
		if got, err := s.GetUserSettings(ctx, a.ID); err != nil || string(got) != doc {
			t.Errorf("GetUserSettings: got %q, %v, want %q", got, err, doc)
		}
	}
	if got, err := s.GetUserSettings(ctx, b.ID); err != nil || got != nil {
		t.Errorf("GetUserSettings(other user): got %q, %v, want nil", got, err)
	}
	if err := s.PutUserSettings(ctx, 1<<40, []byte(`{}`)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("PutUserSettings(no such user): got %v, want ErrNotFound", err)
	}
	if _, err := s.DeleteUser(ctx, a.ID); err != nil {
		t.Fatalf("DeleteUser with settings: %v", err)
	}
	if got, err := s.GetUserSettings(ctx, a.ID); err != nil || got != nil {
		t.Errorf("GetUserSettings after DeleteUser: got %q, %v, want nil (the rows go with the user)", got, err)
	}
}

func testUserSessions(t *testing.T, s storage.Store) {
	ctx := t.Context()
	a, _ := newUser(t, s, "alice@example.com")
	b, _ := newUser(t, s, "bob@example.com")
	now := time.Now().Truncate(time.Second)
	for i, sess := range []storage.Session{
		{TokenHash: "a-old", UserID: a.ID, CreatedAt: now.Add(-2 * time.Hour), ExpiresAt: now.Add(time.Hour)},
		{TokenHash: "a-new", UserID: a.ID, CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour)},
		{TokenHash: "a-expired", UserID: a.ID, CreatedAt: now.Add(-3 * time.Hour), ExpiresAt: now.Add(-time.Minute)},
		{TokenHash: "b-1", UserID: b.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
	} {
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatalf("CreateSession %d: %v", i, err)
		}
	}
	got, err := s.ListUserSessions(ctx, a.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].TokenHash != "a-new" || got[1].TokenHash != "a-old" || !got[1].CreatedAt.Equal(now.Add(-2*time.Hour)) {
		t.Fatalf("ListUserSessions: got %+v, want a-new then a-old (expired and other users' left out)", got)
	}
	if got[0].UserAgent != "" || got[0].IP != "" {
		t.Errorf("a session without a recorded client: got %q %q, want empty", got[0].UserAgent, got[0].IP)
	}
	ua := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
	if err := s.SetSessionClient(ctx, a.ID, "a-new", ua, "192.0.2.7"); err != nil {
		t.Fatalf("SetSessionClient: %v", err)
	}
	if err := s.SetSessionClient(ctx, a.ID, "b-1", ua, "192.0.2.8"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("SetSessionClient(another user's): got %v, want ErrNotFound", err)
	}
	if got, _ := s.ListUserSessions(ctx, a.ID, now); len(got) != 2 || got[0].UserAgent != ua || got[0].IP != "192.0.2.7" || got[1].IP != "" {
		t.Errorf("ListUserSessions after SetSessionClient: got %+v, want a-new with its client", got)
	}
	if got, _ := s.ListUserSessions(ctx, b.ID, now); len(got) != 1 || got[0].IP != "" {
		t.Errorf("b's session after the refused SetSessionClient: %+v", got)
	}
	if err := s.DeleteUserSession(ctx, a.ID, "b-1"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("DeleteUserSession(another user's): got %v, want ErrNotFound", err)
	}
	if _, err := s.GetSession(ctx, "b-1", now); err != nil {
		t.Errorf("b's session after a's refused delete: %v", err)
	}
	if err := s.DeleteUserSession(ctx, a.ID, "a-old"); err != nil {
		t.Fatalf("DeleteUserSession: %v", err)
	}
	if _, err := s.GetSession(ctx, "a-old", now); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetSession after delete: got %v, want ErrNotFound", err)
	}
	if got, _ := s.ListUserSessions(ctx, a.ID, now); len(got) != 1 {
		t.Errorf("ListUserSessions after delete: got %d, want 1", len(got))
	}
}

func testDraftAliases(t *testing.T, s storage.Store) {
	ctx := t.Context()
	a, _ := newUser(t, s, "alice@example.com")
	b, _ := newUser(t, s, "bob@example.com")
	if _, err := s.DraftAlias(ctx, a.ID, 10); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("DraftAlias(none): got %v, want ErrNotFound", err)
	}
	for _, m := range []int64{11, 12} {
		if err := s.SetDraftAlias(ctx, a.ID, 10, m); err != nil {
			t.Fatal(err)
		}
		if got, err := s.DraftAlias(ctx, a.ID, 10); err != nil || got != m {
			t.Errorf("DraftAlias: got %d, %v, want %d", got, err, m)
		}
	}
	if _, err := s.DraftAlias(ctx, b.ID, 10); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("DraftAlias(other user): got %v, want ErrNotFound", err)
	}
}

func withTo(addrs ...string) msgOpt {
	return func(m *storage.NewMessage) {
		m.To = nil
		for _, a := range addrs {
			m.To = append(m.To, storage.Address{Address: a})
		}
	}
}

// testSubjectJoin: a message naming no parent joins a thread by subject
// only when close in time and between the same people, in one batch or
// across deliveries.
func testSubjectJoin(t *testing.T, s storage.Store) {
	u, inbox := newUser(t, s, "a@example.com")
	t0 := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	at := func(h int) msgOpt { return withDate(t0.Add(time.Duration(h) * time.Hour)) }
	msg := func(subject, from string, to []string, h int) *storage.NewMessage {
		return newMsg(u.ID, inbox.ID, withSubject(subject), withFrom("", from), withTo(to...), at(h))
	}
	a1 := msg("Invoice", "shop@one.example", []string{"a@example.com"}, 0)
	a2 := msg("Invoice", "billing@two.example", []string{"a@example.com"}, 1) // a stranger, same subject
	b1 := msg("Lunch?", "a@example.com", []string{"dan@x.example"}, 0)
	b2 := msg("Re: Lunch?", "dan@x.example", []string{"a@example.com"}, 3) // the answer, without References
	c1 := msg("Weekly report", "list@x.example", []string{"a@example.com"}, 0)
	c2 := msg("Weekly report", "list@x.example", []string{"a@example.com"}, 24*7) // a week later
	d1 := msg("Quick question", "eve@x.example", []string{"a@example.com"}, 0)
	deliver(t, s, a1, b1, c1, d1)
	deliver(t, s, a2, b2, c2)
	d2 := msg("Re: quick question", "eve@x.example", []string{"a@example.com", "f@x.example"}, 2)
	d3 := msg("Re: quick question", "a@example.com", []string{"eve@x.example"}, 3)
	deliver(t, s, d2, d3) // one batch: d3 may join d2's (and d1's) thread
	// References decide before the subject: a reply in b's thread titled
	// like a's, from a's sender, stays in b's thread; a message whose
	// References name no known message does not fall back to the subject.
	e1 := newMsg(u.ID, inbox.ID, withSubject("Lunch?"), withFrom("", "dan@x.example"), withTo("a@example.com"), at(1), withMsgID("e1@x.example"))
	deliver(t, s, e1)
	e2 := newMsg(u.ID, inbox.ID, withSubject("Invoice"), withFrom("", "shop@one.example"), withTo("a@example.com"), at(2), withInReplyTo("e1@x.example"))
	e3 := newMsg(u.ID, inbox.ID, withSubject("Invoice"), withFrom("", "shop@one.example"), withTo("a@example.com"), at(2), withRefs("unknown@x.example"))
	deliver(t, s, e2, e3)
	for _, tc := range []struct {
		name string
		a, b *storage.NewMessage
		same bool
	}{
		{"strangers with the same subject", a1, a2, false},
		{"an answer without References", b1, b2, true},
		{"the same subject a week apart", c1, c2, false},
		{"same people within hours", d1, d2, true},
		{"in one batch", d2, d3, true},
		{"In-Reply-To before the subject", e1, e2, true},
		{"not joined by subject despite it", a1, e2, false},
		{"unknown References, no subject fallback", a1, e3, false},
	} {
		if got := tc.a.ThreadID == tc.b.ThreadID; got != tc.same {
			t.Errorf("%s: got same thread %v (%d, %d), want %v", tc.name, got, tc.a.ThreadID, tc.b.ThreadID, tc.same)
		}
	}
}

// testSearchNewest: with Newest, results with words are newest first rather
// than ranked (the webmail's default order).
func testSearchNewest(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, inbox := newUser(t, s, "a@example.com")
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	old := newMsg(u.ID, inbox.ID, withSubject("Trip in May"), withBody("a trip in May, the trip"), withDate(t0))
	reply := newMsg(u.ID, inbox.ID, withSubject("Dates"), withBody("the trip could start on the 3rd"), withDate(t0.Add(time.Hour)))
	deliver(t, s, old, reply)
	got, err := s.Search(ctx, u.ID, storage.SearchQuery{Text: "trip"})
	if want := []int64{old.ID, reply.ID}; err != nil || !slices.Equal(ids(got), want) {
		t.Fatalf("Search(trip): got %v, %v, want %v (ranked: the subject match first)", ids(got), err, want)
	}
	got, err = s.Search(ctx, u.ID, storage.SearchQuery{Text: "trip", Newest: true})
	if want := []int64{reply.ID, old.ID}; err != nil || !slices.Equal(ids(got), want) {
		t.Errorf("Search(trip, Newest): got %v, %v, want %v (newest first)", ids(got), err, want)
	}
	got, _ = s.Search(ctx, u.ID, storage.SearchQuery{Text: "trip", Newest: true, Offset: 1, Limit: 1})
	if want := []int64{old.ID}; !slices.Equal(ids(got), want) {
		t.Errorf("Search(trip, Newest, offset 1 limit 1): got %v, want %v", ids(got), want)
	}
}
