package check

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestRulesSignal: a message shaped like spam gets a "rules" signal that
// names the rules it fired, in X-Stamp-Spam; a plain note gets 0 points
// from it; a correspondent's mail is not junked on the rules alone.
func TestRulesSignal(t *testing.T) {
	j, err := New(Config{}, newMemKV(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	spammy := []byte("From: Deals <63rlfp4x@deals.example>\r\nTo: undisclosed-recipients:;\r\n" +
		"Subject: Your order          a8Fk29xQ\r\nDate: " + time.Now().Format(time.RFC1123Z) + "\r\n" +
		"Message-ID: <1@deals.example>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n" +
		"Claim it at http://192.0.2.7/claim now.\r\n")
	v, err := j.Judge(ctx, Input{MailFrom: "63rlfp4x@deals.example", Raw: spammy, Recipients: []int64{1}})
	if err != nil {
		t.Fatal(err)
	}
	uv := v.PerUser[1]
	var rs *Signal
	for i := range uv.Signals {
		if uv.Signals[i].Name == "rules" {
			rs = &uv.Signals[i]
		}
	}
	if rs == nil || rs.Score < 5 {
		t.Fatalf("rules signal: got %+v, want one of at least 5 points", rs)
	}
	for _, want := range []string{"URL_IP_HOST", "SUBJECT_PADDED", "TO_UNDISCLOSED", "FROM_RANDOM_LOCAL"} {
		if !strings.Contains(rs.Detail, want) || !strings.Contains(string(uv.Header), want) {
			t.Errorf("rules detail %q / header %q: want %s named", rs.Detail, uv.Header, want)
		}
	}
	plain := testMessage("ana@example.com", "lunch", "Shall we meet at noon on Friday?")
	v, err = j.Judge(ctx, Input{MailFrom: "ana@example.com", Raw: plain, Recipients: []int64{1}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range v.PerUser[1].Signals {
		if s.Name == "rules" && s.Score != 0 {
			t.Errorf("plain note: rules signal %+v, want 0 points", s)
		}
	}
	// Content alone (bayes and rules) never junks a trusted sender.
	uvTrusted := j.verdict([]Signal{*rs, {Name: "bayes", Score: 3}, {Name: "correspondent", Score: pointsCorrespond}}, true, false)
	if uvTrusted.Junk {
		t.Errorf("correspondent with rules %+v: got junk, want INBOX", *rs)
	}
}
