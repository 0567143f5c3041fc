package storagetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

var routingCases = []testCase{
	{"Aliases", testAliases},
	{"DomainAdmin", testDomainAdmin},
	{"SieveScripts", testSieveScripts},
	{"VacationReplies", testVacationReplies},
}

func testAliases(t *testing.T, s storage.Store) {
	ctx := t.Context()
	if err := s.PutAlias(ctx, storage.Alias{Address: "sales@example.com"}); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("PutAlias(no targets): got %v, want ErrInvalid", err)
	}
	if err := s.PutAlias(ctx, storage.Alias{Address: "Sales@example.com", Targets: []string{"a@example.com"}}); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("PutAlias(upper case): got %v, want ErrInvalid", err)
	}
	sales := storage.Alias{Address: "sales@example.com", Targets: []string{"alice@example.com", "bob@example.com", "carol@other.test"},
		Owners: []string{"bob@example.com", "alice@example.com"}}
	for _, a := range []storage.Alias{sales,
		{Address: "@example.com", Targets: []string{"alice@example.com"}},
		{Address: "info@example.org", Targets: []string{"bob@example.com"}, Owners: []string{"bob@example.com"}},
	} {
		if err := s.PutAlias(ctx, a); err != nil {
			t.Fatalf("PutAlias(%s): %v", a.Address, err)
		}
	}
	got, err := s.GetAlias(ctx, "sales@example.com")
	if err != nil || !slices.Equal(got.Targets, sales.Targets) || !slices.Equal(got.Owners, []string{"alice@example.com", "bob@example.com"}) {
		t.Errorf("GetAlias(sales): got %+v, %v, want targets %v and sorted owners", got, err, sales.Targets)
	}
	if _, err := s.GetAlias(ctx, "nobody@example.com"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetAlias(unknown): got %v, want ErrNotFound", err)
	}
	list, err := s.ListAliases(ctx, "example.com")
	if err != nil || len(list) != 2 || list[0].Address != "@example.com" || list[1].Address != "sales@example.com" {
		t.Errorf("ListAliases(example.com): got %+v, %v, want @example.com, sales@", list, err)
	}
	if all, err := s.ListAliases(ctx, ""); err != nil || len(all) != 3 {
		t.Errorf("ListAliases(all): got %d, %v, want 3", len(all), err)
	}
	owned, err := s.AliasesOwnedBy(ctx, "bob@example.com")
	if err != nil || len(owned) != 2 || owned[0].Address != "info@example.org" || owned[1].Address != "sales@example.com" {
		t.Errorf("AliasesOwnedBy(bob): got %+v, %v, want info@example.org, sales@example.com", owned, err)
	}
	// Replacing keeps one row and replaces targets and owners.
	sales.Targets, sales.Owners = []string{"alice@example.com"}, []string{"alice@example.com"}
	if err := s.PutAlias(ctx, sales); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetAlias(ctx, "sales@example.com"); !slices.Equal(got.Targets, sales.Targets) || !slices.Equal(got.Owners, sales.Owners) {
		t.Errorf("after replace: got %+v, want %+v", got, sales)
	}
	if owned, _ := s.AliasesOwnedBy(ctx, "bob@example.com"); len(owned) != 1 {
		t.Errorf("AliasesOwnedBy(bob) after replace: got %+v, want only info@example.org", owned)
	}
	if err := s.DeleteAlias(ctx, "sales@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAlias(ctx, "sales@example.com"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("DeleteAlias twice: got %v, want ErrNotFound", err)
	}
	if owned, _ := s.AliasesOwnedBy(ctx, "alice@example.com"); len(owned) != 0 {
		t.Errorf("AliasesOwnedBy(alice) after delete: got %+v, want none", owned)
	}
}

func testDomainAdmin(t *testing.T, s storage.Store) {
	ctx := t.Context()
	if err := s.CreateDomain(ctx, "example.com"); err != nil {
		t.Fatal(err)
	}
	if a, err := s.DomainAdmin(ctx, "example.com"); err != nil || a != "" {
		t.Errorf("DomainAdmin(new): got %q, %v, want empty", a, err)
	}
	if err := s.SetDomainAdmin(ctx, "example.com", "boss@example.com"); err != nil {
		t.Fatal(err)
	}
	if a, err := s.DomainAdmin(ctx, "EXAMPLE.com"); err != nil || a != "boss@example.com" {
		t.Errorf("DomainAdmin: got %q, %v, want boss@example.com", a, err)
	}
	if err := s.SetDomainAdmin(ctx, "unknown.test", "x@y"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("SetDomainAdmin(unknown): got %v, want ErrNotFound", err)
	}
	if _, err := s.DomainAdmin(ctx, "unknown.test"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("DomainAdmin(unknown): got %v, want ErrNotFound", err)
	}
}

func testSieveScripts(t *testing.T, s storage.Store) {
	ctx := t.Context()
	a, _ := newUser(t, s, "alice@example.com")
	b, _ := newUser(t, s, "bob@example.com")
	if _, err := s.ActiveSieveScript(ctx, a.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("ActiveSieveScript(none): got %v, want ErrNotFound", err)
	}
	for _, n := range []string{"main", "other"} {
		if err := s.PutSieveScript(ctx, a.ID, n, "keep; # "+n); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetActiveSieveScript(ctx, a.ID, "missing"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("SetActive(missing): got %v, want ErrNotFound", err)
	}
	if err := s.SetActiveSieveScript(ctx, a.ID, "main"); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSieveScript(ctx, a.ID, "main", "discard;"); err != nil {
		t.Fatal(err)
	}
	act, err := s.ActiveSieveScript(ctx, a.ID)
	if err != nil || act.Name != "main" || act.Script != "discard;" || !act.Active {
		t.Errorf("ActiveSieveScript after replace: got %+v, %v, want main (discard;) still active", act, err)
	}
	if _, err := s.ActiveSieveScript(ctx, b.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("bob's active script: got %v, want ErrNotFound", err)
	}
	if _, err := s.GetSieveScript(ctx, b.ID, "main"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("bob reads alice's script: got %v, want ErrNotFound", err)
	}
	if err := s.DeleteSieveScript(ctx, a.ID, "main"); !errors.Is(err, storage.ErrScriptActive) {
		t.Errorf("delete active: got %v, want ErrScriptActive", err)
	}
	if err := s.RenameSieveScript(ctx, a.ID, "other", "main"); !errors.Is(err, storage.ErrExists) {
		t.Errorf("rename onto existing: got %v, want ErrExists", err)
	}
	if err := s.RenameSieveScript(ctx, a.ID, "main", "renamed"); err != nil {
		t.Fatal(err)
	}
	if act, _ := s.ActiveSieveScript(ctx, a.ID); act.Name != "renamed" {
		t.Errorf("active after rename: got %q, want renamed", act.Name)
	}
	if err := s.SetActiveSieveScript(ctx, a.ID, "other"); err != nil {
		t.Fatal(err)
	}
	list, err := s.ListSieveScripts(ctx, a.ID)
	if err != nil || len(list) != 2 || list[0].Name != "other" || !list[0].Active || list[1].Active {
		t.Errorf("ListSieveScripts: got %+v, %v, want other (active), renamed", list, err)
	}
	if err := s.DeleteSieveScript(ctx, a.ID, "renamed"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetActiveSieveScript(ctx, a.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ActiveSieveScript(ctx, a.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("after deactivating: got %v, want ErrNotFound", err)
	}
	if _, err := s.DeleteUser(ctx, a.ID); err != nil {
		t.Fatalf("DeleteUser with scripts: %v", err)
	}
}

func testVacationReplies(t *testing.T, s storage.Store) {
	ctx := t.Context()
	a, _ := newUser(t, s, "alice@example.com")
	now := time.Now()
	week := now.Add(7 * 24 * time.Hour)
	steps := []struct {
		name           string
		handle, sender string
		now            time.Time
		want           bool
	}{
		{"first reply", "h", "bob@example.org", now, true},
		{"same sender within the period", "h", "bob@example.org", now.Add(time.Hour), false},
		{"other sender", "h", "carol@example.org", now, true},
		{"other handle", "h2", "bob@example.org", now, true},
		{"after the period", "h", "bob@example.org", week.Add(time.Second), true},
		{"within the new period", "h", "bob@example.org", week.Add(time.Hour), false},
	}
	for _, st := range steps {
		got, err := s.NoteVacationReply(ctx, a.ID, st.handle, st.sender, st.now, st.now.Add(7*24*time.Hour))
		if err != nil || got != st.want {
			t.Errorf("%s: got %v, %v, want %v", st.name, got, err, st.want)
		}
	}
	if _, err := s.DeleteUser(ctx, a.ID); err != nil {
		t.Fatalf("DeleteUser with vacation rows: %v", err)
	}
}
