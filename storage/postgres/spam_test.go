package postgres

import (
	"context"
	"testing"
	"time"
)

// TestSenderFacts checks that SenderFacts answers what IsCorrespondent and
// SenderVerdicts answer, for each combination of the two.
func TestSenderFacts(t *testing.T) {
	s := openTest(t, suiteParts)
	ctx := context.Background()
	a, _ := mustUser(t, s, "alice@example.com")
	b, _ := mustUser(t, s, "bob@example.com")
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
		user int64
		addr string
	}{
		{a.ID, "friend@example.org"}, {a.ID, "BOTH@example.org"}, {a.ID, "news@shop.example"},
		{a.ID, "nobody@example.net"}, {b.ID, "both@example.org"}, {999999, "both@example.org"},
	} {
		ok, counts, err := s.SenderFacts(ctx, c.user, c.addr)
		if err != nil {
			t.Fatalf("SenderFacts(%d, %s): %v", c.user, c.addr, err)
		}
		wantOK, err1 := s.IsCorrespondent(ctx, c.user, c.addr)
		wantCounts, err2 := s.SenderVerdicts(ctx, c.user, c.addr)
		if err1 != nil || err2 != nil {
			t.Fatalf("IsCorrespondent, SenderVerdicts(%d, %s): %v, %v", c.user, c.addr, err1, err2)
		}
		if ok != wantOK || counts != wantCounts {
			t.Errorf("SenderFacts(%d, %s): got %v %+v, want %v %+v", c.user, c.addr, ok, counts, wantOK, wantCounts)
		}
	}
}
