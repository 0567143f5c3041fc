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
		want Query
	}{
		{"hello world", Query{Core: core.SearchQuery{Text: "hello world"}, Terms: []string{"hello", "world"}}},
		{"from:ann to:bob subject:report", Query{Core: core.SearchQuery{From: "ann", To: "bob", Subject: "report"}, Terms: []string{"ann", "report"}}},
		{`from:"Ann Lee" budget`, Query{Core: core.SearchQuery{From: "Ann Lee", Text: "budget"}, Terms: []string{"Ann Lee", "budget"}}},
		{`"quarterly report" draft`, Query{Core: core.SearchQuery{Text: "quarterly report draft"}, Phrases: []string{"quarterly report"},
			Terms: []string{"quarterly report", "draft"}, filtered: true}},
		{"has:attachment is:unread", Query{Core: core.SearchQuery{HasAttachment: true, Unread: &yes}}},
		{"is:read", Query{Core: core.SearchQuery{Unread: &no}}},
		{"is:flagged", Query{Flagged: &yes, filtered: true}},
		{"cc:carol", Query{Cc: "carol", filtered: true}},
		{"in:Archive", Query{In: "Archive"}},
		{"filename:report.csv", Query{Core: core.SearchQuery{HasAttachment: true}, Filename: "report.csv", filtered: true}},
		{"before:2024-02-01 after:2024-01-01", Query{Before: day("2024-02-01"), After: day("2024-01-01"), filtered: true}},
		{"budget -draft", Query{Core: core.SearchQuery{Text: "budget"}, Terms: []string{"budget"},
			Not: []notTerm{{val: "draft"}}, negWords: []string{"draft"}}},
		{`-"out of office" -from:bob`, Query{Not: []notTerm{{val: "out of office", phrase: true}, {op: "from", val: "bob"}}, filtered: true}},
		{"FROM:Ann", Query{Core: core.SearchQuery{From: "Ann"}, Terms: []string{"Ann"}}},
		{"http://example.com x:y", Query{Core: core.SearchQuery{Text: "http://example.com x:y"}, Terms: []string{"http://example.com", "x:y"}}},
		{`subject:"unterminated phrase`, Query{Core: core.SearchQuery{Subject: "unterminated phrase"}, Terms: []string{"unterminated phrase"}}},
		{"from:a from:b", Query{Core: core.SearchQuery{From: "b"}, Terms: []string{"a", "b"}}},
		{"well-known e-mail", Query{Core: core.SearchQuery{Text: "well-known e-mail"}, Terms: []string{"well-known", "e-mail"}}},
	}
	for _, c := range cases {
		got, err := ParseQuery(c.in)
		if err != nil {
			t.Errorf("ParseQuery(%q): %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseQuery(%q):\n got %+v\nwant %+v", c.in, got, c.want)
		}
	}
	for _, bad := range []string{"", "   ", "*", "- *", "from:", "subject:\"\"", "before:2024-13-01", "after:yesterday", "before:",
		"is:bogus", "has:pdf", "-is:unread"} {
		_, err := ParseQuery(bad)
		if err == nil {
			t.Errorf("ParseQuery(%q): got no error, want one", bad)
			continue
		}
		ae, _ := toAPIError(err)
		if ae.Status != 400 || strings.Contains(ae.Message, "invalid argument") {
			t.Errorf("ParseQuery(%q): got %d %q, want 400 with a human message", bad, ae.Status, ae.Message)
		}
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"from:ann hello", `subject:"a b" "c d"`, "is:unread has:attachment before:2024-01-01", `"`, "from:", ":::", "a\tb\nc",
		`-"x y" -z in:inbox cc:q filename:a.pdf is:flagged`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		q, err := ParseQuery(in)
		if err != nil {
			if _, ok := toAPIError(err); !ok {
				t.Fatalf("ParseQuery(%q): error %v is not a client error", in, err)
			}
			return
		}
		if q.empty() {
			t.Fatalf("ParseQuery(%q): an empty query was accepted", in)
		}
		if utf8.ValidString(in) && !utf8.ValidString(q.Core.Text) {
			t.Fatalf("ParseQuery(%q): invalid UTF-8 text %q", in, q.Core.Text)
		}
		for _, w := range append(strings.Fields(q.Core.Text), q.Core.From, q.Core.To, q.Core.Subject, q.Cc, q.Filename, q.In) {
			if !strings.Contains(in, w) {
				t.Fatalf("ParseQuery(%q): %q is not from the input (%+v)", in, w, q)
			}
		}
		for _, p := range q.Phrases {
			if !strings.Contains(in, p) {
				t.Fatalf("ParseQuery(%q): phrase %q is not from the input", in, p)
			}
		}
	})
}
