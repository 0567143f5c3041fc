package check

import (
	"context"
	"strings"
	"testing"

	"github.com/stamp-mail/stamp/storage"
)

// factsKV is a memKV that also answers the judge's questions about senders.
type factsKV struct {
	*memKV
	lists, domain storage.SpamLists
	corr          map[string]bool
	verdicts      map[string]storage.SenderCounts
}

func (f *factsKV) GetUser(_ context.Context, id int64) (storage.User, error) {
	return storage.User{ID: id, Address: "me@stamp.test"}, nil
}
func (f *factsKV) SenderFacts(_ context.Context, _ int64, a string) (bool, storage.SenderCounts, error) {
	return f.corr[a], f.verdicts[a], nil
}
func (f *factsKV) GetSpamLists(context.Context, int64) (storage.SpamLists, error) {
	return f.lists, nil
}
func (f *factsKV) GetDomainSpamLists(context.Context, string) (storage.SpamLists, error) {
	return f.domain, nil
}

// TestSenderSignals: lists, correspondents and verdicts give their points;
// an allow, a correspondent or a sender moved out of Junk ten times (net)
// does not vouch for mail whose DMARC failed;
// a block wins; trusted mail is junk only on signals that are not content.
func TestSenderSignals(t *testing.T) {
	kv := &factsKV{memKV: newMemKV(),
		lists:  storage.SpamLists{Allow: []string{"@friends.example"}, Block: []string{"bad@friends.example"}},
		domain: storage.SpamLists{Block: []string{"@bulk.example"}},
		corr:   map[string]bool{"pal@far.example": true},
		verdicts: map[string]storage.SenderCounts{"news@shop.example": {Ham: 0, Spam: 12}, "promo@shop.example": {Ham: 10},
			"club@shop.example": {Ham: 9}, "mixed@shop.example": {Ham: 12, Spam: 3}},
	}
	j, err := New(Config{}, kv, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sum := func(ss []Signal) (p float64, names []string) {
		for _, s := range ss {
			p += s.Score
			names = append(names, s.Name)
		}
		return p, names
	}
	for _, c := range []struct {
		from        string
		dmarcFail   bool
		wantPoints  float64
		wantTrusted bool
	}{
		{"amy@friends.example", false, pointsAllow, true},
		{"amy@friends.example", true, 0, false}, // forged From: the allow is not applied
		{"bad@friends.example", false, pointsBlock, false},
		{"x@mail.bulk.example", false, pointsBlock, false}, // the domain's list, a subdomain
		{"pal@far.example", false, pointsCorrespond, true},
		{"pal@far.example", true, 0, false},
		{"news@shop.example", false, maxSenderPoints, false},
		{"promo@shop.example", false, -8, true}, // moved out of Junk ten times: trusted
		{"promo@shop.example", true, -8, false}, // unless its DMARC failed
		{"club@shop.example", false, -7.2, false},
		{"mixed@shop.example", false, -7.2, false}, // net 9 out of Junk
		{"nobody@else.example", false, 0, false},
	} {
		ms := messageSignals{from: c.from, dmarcFail: c.dmarcFail}
		ss, trusted := j.senderSignals(ctx, 1, &ms)
		p, names := sum(ss)
		if p != c.wantPoints || trusted != c.wantTrusted {
			t.Errorf("%s (dmarc fail %v): got %.1f points from %v, trusted %v; want %.1f, trusted %v",
				c.from, c.dmarcFail, p, names, trusted, c.wantPoints, c.wantTrusted)
		}
	}
	// Trusted mail with strong content evidence stays in INBOX; with a
	// non-content signal over the threshold it does not.
	content := Signal{Name: "bayes", Score: maxBayesPoints}
	if uv := j.verdict([]Signal{{Name: "correspondent", Score: pointsCorrespond}, content, {Name: "auth", Score: 1}}, true, false); uv.Junk {
		t.Errorf("trusted sender, spammy content: got junk (%s), want INBOX", strings.TrimSpace(string(uv.Header)))
	}
	if uv := j.verdict([]Signal{{Name: "dnsbl", Score: 6}, {Name: "auth", Score: 3}, content}, true, false); !uv.Junk {
		t.Errorf("trusted sender listed and failing DMARC: got INBOX, want junk")
	}
	if uv := j.verdict([]Signal{content}, false, false); !uv.Junk {
		t.Errorf("untrusted sender, spammy content: got INBOX, want junk (the comparison case must differ)")
	}
	// The header round-trips through ParseSpamHeader (the API reads it back).
	uv := j.verdict([]Signal{{Name: "auth", Score: -1.5, Detail: "dmarc=pass (example.org)"}, {Name: "bayes", Score: 0.3, Detail: "p=0.51; from 9 words"}}, false, false)
	hv := strings.TrimPrefix(strings.TrimSpace(string(uv.Header)), "X-Stamp-Spam: ")
	back, ok := ParseSpamHeader(hv)
	if !ok || back.Score != -1.2 || back.Threshold != 5 || len(back.Signals) != 2 ||
		back.Signals[0].Detail != "dmarc=pass [example.org]" || back.Signals[1].Detail != "p=0.51, from 9 words" {
		t.Errorf("ParseSpamHeader(%q): got %+v, %v", hv, back, ok)
	}
}

// FuzzParseSpamHeader: any field value parses without panicking.
func FuzzParseSpamHeader(f *testing.F) {
	f.Add("yes; score=7.2; threshold=5.0;\r\n\tbayes=+6.0 (p=0.998 from 50 telling words)")
	f.Add("no; score=-1.0")
	f.Add(";;=;(")
	f.Fuzz(func(t *testing.T, v string) {
		ParseSpamHeader(v)
	})
}
