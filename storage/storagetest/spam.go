package storagetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

var spamCases = []testCase{
	{"SpamCorrespondents", testSpamCorrespondents},
	{"SpamSenderVerdicts", testSpamSenderVerdicts},
	{"SpamLists", testSpamLists},
	{"SpamSenderFacts", testSpamSenderFacts},
}

// testSpamSenderFacts: SenderFacts (the judge's look-up in one statement)
// answers what IsCorrespondent and SenderVerdicts answer, for each
// combination of the two.
func testSpamSenderFacts(t *testing.T, s storage.Store) {
	ctx := t.Context()
	a, _ := newUser(t, s, "alice@example.com")
	b, _ := newUser(t, s, "bob@example.com")
	if err := s.AddCorrespondents(ctx, a.ID, []string{"Friend@Example.org", "both@example.org"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, v := range []struct {
		addr string
		spam bool
	}{{"both@example.org", false}, {"both@example.org", true}, {"both@example.org", false}, {"news@shop.example", true}} {
		if err := s.AddSenderVerdict(ctx, a.ID, v.addr, v.spam); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		user      int64
		addr      string
		corr      bool
		ham, spam int
	}{
		{a.ID, "friend@example.org", true, 0, 0}, {a.ID, "BOTH@example.org", true, 2, 1}, {a.ID, "news@shop.example", false, 0, 1},
		{a.ID, "nobody@example.net", false, 0, 0}, {b.ID, "both@example.org", false, 0, 0}, {1 << 40, "both@example.org", false, 0, 0},
	} {
		corr, counts, err := s.SenderFacts(ctx, c.user, c.addr)
		if err != nil {
			t.Fatalf("SenderFacts(%d, %s): %v", c.user, c.addr, err)
		}
		wantCorr, err1 := s.IsCorrespondent(ctx, c.user, c.addr)
		wantCounts, err2 := s.SenderVerdicts(ctx, c.user, c.addr)
		if err1 != nil || err2 != nil {
			t.Fatalf("IsCorrespondent, SenderVerdicts(%d, %s): %v, %v", c.user, c.addr, err1, err2)
		}
		if corr != wantCorr || counts != wantCounts || corr != c.corr || counts.Ham != c.ham || counts.Spam != c.spam {
			t.Errorf("SenderFacts(%d, %s): got %v %+v; the two look-ups say %v %+v; want %v ham %d spam %d",
				c.user, c.addr, corr, counts, wantCorr, wantCounts, c.corr, c.ham, c.spam)
		}
	}
}

func testSpamCorrespondents(t *testing.T, s storage.Store) {
	ctx := t.Context()
	a, _ := newUser(t, s, "alice@example.com")
	b, _ := newUser(t, s, "bob@example.com")
	now := time.Now()
	if err := s.AddCorrespondents(ctx, a.ID, []string{"Carol@Example.ORG", "<dave@example.net>"}, now); err != nil {
		t.Fatalf("AddCorrespondents: %v", err)
	}
	if err := s.AddCorrespondents(ctx, a.ID, []string{"carol@example.org"}, now.Add(time.Hour)); err != nil {
		t.Fatalf("AddCorrespondents again: %v", err)
	}
	for _, c := range []struct {
		user int64
		addr string
		want bool
	}{
		{a.ID, "carol@example.org", true},
		{a.ID, "CAROL@example.org", true},
		{a.ID, "dave@example.net", true},
		{a.ID, "eve@example.org", false},
		{b.ID, "carol@example.org", false}, // another user's correspondents are not bob's
	} {
		got, err := s.IsCorrespondent(ctx, c.user, c.addr)
		if err != nil || got != c.want {
			t.Errorf("IsCorrespondent(%d, %s): got %v, %v, want %v", c.user, c.addr, got, err, c.want)
		}
	}
	if err := s.AddCorrespondents(ctx, 999999, []string{"x@example.org"}, now); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("AddCorrespondents(unknown user): got %v, want ErrNotFound", err)
	}
}

func testSpamSenderVerdicts(t *testing.T, s storage.Store) {
	ctx := t.Context()
	a, _ := newUser(t, s, "alice@example.com")
	b, _ := newUser(t, s, "bob@example.com")
	for i := 0; i < 3; i++ {
		if err := s.AddSenderVerdict(ctx, a.ID, "News@Shop.example", false); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddSenderVerdict(ctx, a.ID, "news@shop.example", true); err != nil {
		t.Fatal(err)
	}
	if got, err := s.SenderVerdicts(ctx, a.ID, "news@shop.example"); err != nil || got != (storage.SenderCounts{Ham: 3, Spam: 1}) {
		t.Errorf("SenderVerdicts(alice): got %+v, %v, want ham 3 spam 1", got, err)
	}
	if got, err := s.SenderVerdicts(ctx, b.ID, "news@shop.example"); err != nil || got != (storage.SenderCounts{}) {
		t.Errorf("SenderVerdicts(bob): got %+v, %v, want zero", got, err)
	}
	if err := s.AddSenderVerdict(ctx, 999999, "x@example.org", true); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("AddSenderVerdict(unknown user): got %v, want ErrNotFound", err)
	}
}

func testSpamLists(t *testing.T, s storage.Store) {
	ctx := t.Context()
	a, _ := newUser(t, s, "alice@example.com")
	b, _ := newUser(t, s, "bob@example.com")
	if got, err := s.GetSpamLists(ctx, a.ID); err != nil || len(got.Allow)+len(got.Block) != 0 || got.Allow == nil {
		t.Errorf("GetSpamLists(new user): got %+v, %v, want two empty lists", got, err)
	}
	in := storage.SpamLists{Allow: []string{"Bob@Example.org", "@example.net", "bob@example.org"}, Block: []string{"@spam.example"}}
	if err := s.PutSpamLists(ctx, a.ID, in); err != nil {
		t.Fatalf("PutSpamLists: %v", err)
	}
	got, err := s.GetSpamLists(ctx, a.ID)
	want := storage.SpamLists{Allow: []string{"@example.net", "bob@example.org"}, Block: []string{"@spam.example"}}
	if err != nil || !slices.Equal(got.Allow, want.Allow) || !slices.Equal(got.Block, want.Block) {
		t.Errorf("GetSpamLists: got %+v, %v, want %+v", got, err, want)
	}
	if got, _ := s.GetSpamLists(ctx, b.ID); len(got.Allow)+len(got.Block) != 0 {
		t.Errorf("GetSpamLists(bob): got %+v, want alice's lists not shown", got)
	}
	if err := s.PutSpamLists(ctx, a.ID, storage.SpamLists{Allow: []string{"x@example.org"}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetSpamLists(ctx, a.ID); !slices.Equal(got.Allow, []string{"x@example.org"}) || len(got.Block) != 0 {
		t.Errorf("PutSpamLists replaces: got %+v, want only x@example.org", got)
	}
	for _, bad := range []storage.SpamLists{
		{Allow: []string{"not an address"}},
		{Block: []string{"@"}},
		{Allow: []string{"a@example.org"}, Block: []string{"A@example.org"}},
	} {
		if err := s.PutSpamLists(ctx, a.ID, bad); err == nil {
			t.Errorf("PutSpamLists(%+v): got nil, want an error", bad)
		}
	}
	if _, err := s.GetSpamLists(ctx, 999999); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetSpamLists(unknown user): got %v, want ErrNotFound", err)
	}
	if err := s.PutDomainSpamLists(ctx, "nowhere.example", storage.SpamLists{}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("PutDomainSpamLists(unknown domain): got %v, want ErrNotFound", err)
	}
	if err := s.CreateDomain(ctx, "example.com"); err != nil && !errors.Is(err, storage.ErrExists) {
		t.Fatal(err)
	}
	if err := s.PutDomainSpamLists(ctx, "example.com", storage.SpamLists{Block: []string{"@bad.example"}}); err != nil {
		t.Fatalf("PutDomainSpamLists: %v", err)
	}
	if got, err := s.GetDomainSpamLists(ctx, "example.com"); err != nil || !slices.Equal(got.Block, []string{"@bad.example"}) || len(got.Allow) != 0 {
		t.Errorf("GetDomainSpamLists: got %+v, %v, want block @bad.example", got, err)
	}
	if m := storage.MatchList([]string{"@example.net", "bob@example.org"}, "Eve@Mail.Example.NET"); m != "@example.net" {
		t.Errorf("MatchList(subdomain): got %q, want @example.net", m)
	}
	if m := storage.MatchList([]string{"@example.net"}, "eve@badexample.net"); m != "" {
		t.Errorf("MatchList(suffix that is not a subdomain): got %q, want none", m)
	}
}
