package web

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stamp-mail/stamp/core"
)

func TestParseQuery(t *testing.T) {
	yes, no := true, false
	day := func(s string) time.Time { d, _ := time.Parse("2006-01-02", s); return d }
	cases := []struct {
		in   string
		want core.SearchQuery
	}{
		{"", core.SearchQuery{}},
		{"hello world", core.SearchQuery{Text: "hello world"}},
		{"from:ann to:bob subject:report", core.SearchQuery{From: "ann", To: "bob", Subject: "report"}},
		{`from:"Ann Lee" budget`, core.SearchQuery{From: "Ann Lee", Text: "budget"}},
		{`"quarterly report" draft`, core.SearchQuery{Text: "quarterly report draft"}},
		{"has:attachment is:unread", core.SearchQuery{HasAttachment: true, Unread: &yes}},
		{"is:read", core.SearchQuery{Unread: &no}},
		{"before:2024-02-01 after:2024-01-01", core.SearchQuery{Before: day("2024-02-01"), After: day("2024-01-01")}},
		{"FROM:Ann", core.SearchQuery{From: "Ann"}},
		{"http://example.com x:y", core.SearchQuery{Text: "http://example.com x:y"}},
		{"is:starred has:pdf", core.SearchQuery{Text: "is:starred has:pdf"}},
		{`subject:"unterminated phrase`, core.SearchQuery{Subject: "unterminated phrase"}},
		{"from:a from:b", core.SearchQuery{From: "b"}},
	}
	for _, c := range cases {
		got, err := ParseQuery(c.in)
		if err != nil {
			t.Errorf("ParseQuery(%q): %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseQuery(%q): got %+v, want %+v", c.in, got, c.want)
		}
	}
	for _, bad := range []string{"before:2024-13-01", "after:yesterday", "before:"} {
		if _, err := ParseQuery(bad); err == nil {
			t.Errorf("ParseQuery(%q): got no error, want one for the date", bad)
		}
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"from:ann hello", `subject:"a b" "c d"`, "is:unread has:attachment before:2024-01-01", `"`, "from:", ":::", "a\tb\nc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		q, err := ParseQuery(in)
		if err != nil {
			if !strings.Contains(in, "before:") && !strings.Contains(strings.ToLower(in), "after:") && !strings.Contains(strings.ToLower(in), "before:") {
				t.Fatalf("ParseQuery(%q): unexpected error %v", in, err)
			}
			return
		}
		if utf8.ValidString(in) && !utf8.ValidString(q.Text) {
			t.Fatalf("ParseQuery(%q): invalid UTF-8 text %q", in, q.Text)
		}
		for _, w := range append(strings.Fields(q.Text), q.From, q.To, q.Subject) {
			if !strings.Contains(in, w) {
				t.Fatalf("ParseQuery(%q): %q is not from the input (%+v)", in, w, q)
			}
		}
		// Parsing the free text again yields the same text (no operator hides in it
		// unless it came from a quoted phrase).
		if !strings.Contains(in, `"`) {
			q2, err := ParseQuery(q.Text)
			if err == nil && q2.Text != q.Text {
				t.Fatalf("ParseQuery(%q).Text = %q reparses to %q", in, q.Text, q2.Text)
			}
		}
	})
}
