package storagetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

var accountCases = []testCase{
	{"Users", testUsers},
	{"DomainsAndDKIM", testDomains},
	{"Sessions", testSessions},
	{"KV", testKV},
	{"Training", testTraining},
}

func testUsers(t *testing.T, s storage.Store) {
	ctx := t.Context()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	b, _ := newUser(t, s, "bob@example.com")
	a, _ := newUser(t, s, "alice@example.com")
	if _, err := s.CreateUser(ctx, "bob@example.com", "h"); !errors.Is(err, storage.ErrExists) {
		t.Errorf("CreateUser(duplicate): got %v, want ErrExists", err)
	}
	if _, err := s.CreateUser(ctx, "Carol@example.com", "h"); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("CreateUser(upper case): got %v, want ErrInvalid", err)
	}
	got, err := s.GetUserByAddress(ctx, "alice@example.com")
	if err != nil || got.ID != a.ID || got.PasswordHash != "hash" {
		t.Errorf("GetUserByAddress: got %+v, %v, want id %d", got, err, a.ID)
	}
	if got, err := s.GetUser(ctx, b.ID); err != nil || got.Address != "bob@example.com" {
		t.Errorf("GetUser: got %+v, %v, want bob", got, err)
	}
	users, err := s.ListUsers(ctx)
	if err != nil || len(users) != 2 || users[0].Address != "alice@example.com" {
		t.Errorf("ListUsers: got %+v, %v, want alice then bob", users, err)
	}
	if err := s.SetPassword(ctx, a.ID, "new"); err != nil {
		t.Fatalf("SetPassword: %v", err)
	}
	if got, _ := s.GetUser(ctx, a.ID); got.PasswordHash != "new" {
		t.Errorf("after SetPassword: got hash %q, want %q", got.PasswordHash, "new")
	}
	if err := s.SetPassword(ctx, 1<<40, "x"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("SetPassword(unknown): got %v, want ErrNotFound", err)
	}

	// Default mailboxes, in the order and with the roles of DefaultMailboxes.
	mbs, err := s.ListMailboxes(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range mbs {
		names = append(names, m.Name)
	}
	var want []string
	for _, d := range storage.DefaultMailboxes {
		want = append(want, d.Name)
		m, err := s.GetMailboxByRole(ctx, a.ID, d.Role)
		if err != nil || m.Name != d.Name || m.UIDNext != 1 || m.UIDValidity == 0 || !m.Subscribed {
			t.Errorf("GetMailboxByRole(%q): got %+v, %v, want %q with UIDNEXT 1, subscribed", d.Role, m, err, d.Name)
		}
	}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("ListMailboxes: got %v, want %v (sorted)", names, want)
	}

	// DeleteUser removes everything; the id is not reused.
	inbox := mbs[0]
	deliver(t, s, newMsg(a.ID, mustRole(t, s, a.ID, storage.RoleInbox).ID))
	if _, err := s.DeleteUser(ctx, a.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if _, err := s.GetUser(ctx, a.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetUser(deleted): got %v, want ErrNotFound", err)
	}
	if _, err := s.GetMailbox(ctx, a.ID, inbox.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetMailbox(deleted user): got %v, want ErrNotFound", err)
	}
	if _, err := s.DeleteUser(ctx, a.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("DeleteUser(twice): got %v, want ErrNotFound", err)
	}
	a2, _ := newUser(t, s, "alice@example.com")
	if a2.ID == a.ID {
		t.Errorf("recreated user: got id %d again, want a new id", a2.ID)
	}
	if _, err := s.GetUserByAddress(ctx, "nobody@example.com"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetUserByAddress(unknown): got %v, want ErrNotFound", err)
	}
}

func mustRole(t *testing.T, s storage.Store, userID int64, role string) storage.Mailbox {
	t.Helper()
	m, err := s.GetMailboxByRole(t.Context(), userID, role)
	if err != nil {
		t.Fatalf("GetMailboxByRole(%q): %v", role, err)
	}
	return m
}

func testDomains(t *testing.T, s storage.Store) {
	ctx := t.Context()
	for _, d := range []string{"Example.COM", "b.example"} {
		if err := s.CreateDomain(ctx, d); err != nil {
			t.Fatalf("CreateDomain(%q): %v", d, err)
		}
	}
	if err := s.CreateDomain(ctx, "example.com"); !errors.Is(err, storage.ErrExists) {
		t.Errorf("CreateDomain(duplicate): got %v, want ErrExists", err)
	}
	ds, err := s.ListDomains(ctx)
	if err != nil || len(ds) != 2 || ds[0].Name != "b.example" || ds[1].Name != "example.com" {
		t.Errorf("ListDomains: got %+v, %v, want b.example, example.com", ds, err)
	}
	if err := s.DeleteDomain(ctx, "b.example"); err != nil {
		t.Errorf("DeleteDomain: %v", err)
	}
	if err := s.DeleteDomain(ctx, "b.example"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("DeleteDomain(absent): got %v, want ErrNotFound", err)
	}

	k := storage.DKIMKey{Domain: "example.com", Selector: "s1", Algorithm: "ed25519", PrivatePEM: "pem1"}
	if err := s.PutDKIMKey(ctx, k); err != nil {
		t.Fatalf("PutDKIMKey: %v", err)
	}
	k.PrivatePEM = "pem2"
	if err := s.PutDKIMKey(ctx, k); err != nil {
		t.Fatalf("PutDKIMKey(replace): %v", err)
	}
	if err := s.PutDKIMKey(ctx, storage.DKIMKey{Domain: "example.com", Selector: "s0", Algorithm: "rsa", PrivatePEM: "pem0"}); err != nil {
		t.Fatal(err)
	}
	keys, err := s.ListDKIMKeys(ctx, "example.com")
	if err != nil || len(keys) != 2 {
		t.Fatalf("ListDKIMKeys: got %+v, %v, want 2 keys", keys, err)
	}
	for _, k := range keys {
		if k.Selector == "s1" && k.PrivatePEM != "pem2" {
			t.Errorf("replaced key: got %q, want pem2", k.PrivatePEM)
		}
	}
	if keys, _ := s.ListDKIMKeys(ctx, "other.example"); len(keys) != 0 {
		t.Errorf("ListDKIMKeys(other): got %d keys, want 0", len(keys))
	}
}

func testSessions(t *testing.T, s storage.Store) {
	ctx := t.Context()
	u, _ := newUser(t, s, "a@example.com")
	now := time.Now()
	if err := s.CreateSession(ctx, storage.Session{TokenHash: "live", UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	if err := s.CreateSession(ctx, storage.Session{TokenHash: "old", UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(-time.Second)}); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	if err := s.CreateSession(ctx, storage.Session{TokenHash: "x", UserID: 1 << 40, ExpiresAt: now.Add(time.Hour)}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("CreateSession(unknown user): got %v, want ErrNotFound", err)
	}
	got, err := s.GetSession(ctx, "live", now)
	if err != nil || got.UserID != u.ID || got.ExpiresAt.Sub(now.Add(time.Hour)).Abs() > time.Millisecond {
		t.Errorf("GetSession: got %+v, %v, want user %d", got, err, u.ID)
	}
	for _, tc := range []struct {
		name, hash string
		at         time.Time
	}{
		{"expired", "old", now},
		{"expires later but asked after", "live", now.Add(2 * time.Hour)},
		{"unknown", "nope", now},
	} {
		if _, err := s.GetSession(ctx, tc.hash, tc.at); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("GetSession(%s): got %v, want ErrNotFound", tc.name, err)
		}
	}
	if err := s.DeleteSession(ctx, "live"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSession(ctx, "live", now); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetSession(deleted): got %v, want ErrNotFound", err)
	}
}

func testKV(t *testing.T, s storage.Store) {
	ctx := t.Context()
	steps := []struct {
		name    string
		op      string // put, del
		key     string
		val     string
		prefix  string
		want    []string // ListKV(prefix) after the step
		getKey  string
		getWant string // "" with getErr
		getErr  error
	}{
		{name: "put a", op: "put", key: "spam/a", val: "1", prefix: "spam/", want: []string{"spam/a"}, getKey: "spam/a", getWant: "1"},
		{name: "put b", op: "put", key: "spam/b", val: "2", prefix: "spam/", want: []string{"spam/a", "spam/b"}, getKey: "spam/b", getWant: "2"},
		{name: "other prefix", op: "put", key: "supp/x", val: "3", prefix: "spam/", want: []string{"spam/a", "spam/b"}, getKey: "supp/x", getWant: "3"},
		{name: "replace", op: "put", key: "spam/a", val: "9", prefix: "", want: []string{"spam/a", "spam/b", "supp/x"}, getKey: "spam/a", getWant: "9"},
		{name: "delete", op: "del", key: "spam/a", prefix: "spam", want: []string{"spam/b"}, getKey: "spam/a", getErr: storage.ErrNotFound},
		{name: "delete absent", op: "del", key: "spam/zz", prefix: "s", want: []string{"spam/b", "supp/x"}, getKey: "zz", getErr: storage.ErrNotFound},
	}
	for _, st := range steps {
		var err error
		if st.op == "put" {
			err = s.PutKV(ctx, st.key, []byte(st.val))
		} else {
			err = s.DeleteKV(ctx, st.key)
		}
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		keys, err := s.ListKV(ctx, st.prefix)
		if err != nil || !slices.Equal(keys, st.want) {
			t.Errorf("%s: ListKV(%q): got %v, %v, want %v", st.name, st.prefix, keys, err, st.want)
		}
		v, err := s.GetKV(ctx, st.getKey)
		if st.getErr != nil {
			if !errors.Is(err, st.getErr) {
				t.Errorf("%s: GetKV(%q): got %v, want %v", st.name, st.getKey, err, st.getErr)
			}
		} else if err != nil || string(v) != st.getWant {
			t.Errorf("%s: GetKV(%q): got %q, %v, want %q", st.name, st.getKey, v, err, st.getWant)
		}
	}
}

func testTraining(t *testing.T, s storage.Store) {
	ctx := t.Context()
	a, _ := newUser(t, s, "a@example.com")
	b, _ := newUser(t, s, "b@example.com")
	for i, ev := range []storage.Training{{UserID: a.ID, MessageID: 1, Spam: true}, {UserID: b.ID, MessageID: 2}, {UserID: a.ID, MessageID: 3}} {
		if err := s.RecordTraining(ctx, ev); err != nil {
			t.Fatalf("RecordTraining %d: %v", i, err)
		}
	}
	got, err := s.TrainingSince(ctx, a.ID, 0)
	if err != nil || len(got) != 2 || got[0].MessageID != 1 || !got[0].Spam || got[1].MessageID != 3 || got[1].Spam {
		t.Fatalf("TrainingSince(a, 0): got %+v, %v, want messages 1 (spam) and 3", got, err)
	}
	if more, _ := s.TrainingSince(ctx, a.ID, got[0].ID); len(more) != 1 || more[0].MessageID != 3 {
		t.Errorf("TrainingSince(a, first): got %+v, want message 3 only", more)
	}
}
