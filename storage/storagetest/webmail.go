package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

var webmailCases = []testCase{
	{"UserSettings", testUserSettings},
	{"UserSessions", testUserSessions},
	{"DraftAliases", testDraftAliases},
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
