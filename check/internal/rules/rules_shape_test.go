package rules

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestShapeRulesFire: each rule of rules_shape.go fires on a message
// made to show its shape.
func TestShapeRulesFire(t *testing.T) {
	many := "To: " + strings.Repeat("a@x.example, ", 9) + "b@x.example"
	for _, c := range []struct {
		rule, header, body string
	}{
		{SubjToName, "To: robert@example.org\nSubject: robert, a gift for you", "hi"},
		{EncodedASCII, "Subject: =?utf-8?B?RnJlZSBvZmZlcg==?=", "hi"},
		{EncodedASCII, "Subject: =?windows-1252?Q?Free_offer?=", "hi"},
		{ManyRcpts, many, "hi"},
		{SubjPercentOff, "Subject: 80% off watches", "hi"},
	} {
		got := Check(msg(c.header, c.body), arrived, time.Time{})
		if !slices.Contains(got, c.rule) {
			t.Errorf("%s: header %q body %.40q: got %v, want it to fire", c.rule, c.header, c.body, got)
		}
	}
}

// TestShapeRulesQuiet: real replies, mailing lists, a plain note with a
// link, a list's subject with the list's name in it, encoded words that
// needed encoding (Korean, Japanese) and a percentage outside the
// subject fire none of rules_shape.go's rules.
func TestShapeRulesQuiet(t *testing.T) {
	for _, c := range []struct{ name, header, body string }{
		{"reply with quote", "Subject: Re: lunch", "> Shall we meet?\r\nYes.\r\n"},
		{"HTML reply with blockquote", "Subject: Re: lunch\nContent-Type: text/html", "<html><blockquote>Shall we?</blockquote>Yes.</html>"},
		{"reply with In-Reply-To", "Subject: Re: lunch\nIn-Reply-To: <0@example.org>", "Yes."},
		{"short reply without In-Reply-To", "Subject: Re: dinner", "Yes, 8 is fine."},
		{"list with unsubscribe", "List-Id: <dev.lists.example>\nList-Unsubscribe: <mailto:u@lists.example>", "Build green.\r\nUnsubscribe: https://lists.example/u"},
		{"own link", "", "Our menu: https://www.example.com/menu"},
		{"subject to name through a list", "To: dev@lists.example\nList-Id: <dev.lists.example>\nSubject: [dev] release", "hi"},
		{"Korean encoded subject", "Subject: =?utf-8?B?7JWI64WV7ZWY7IS47JqU?=", "안녕하세요"},
		{"Japanese encoded subject", "Subject: =?iso-2022-jp?B?GyRCJDMkcyRLJEEkTxsoQg==?=", "hi"},
		{"percent in body only", "", "Rates rose 2% this year."},
	} {
		got := Check(msg(c.header, c.body), arrived, time.Time{})
		for _, h := range got {
			switch h {
			case SubjToName, EncodedASCII, ManyRcpts, SubjPercentOff:
				t.Errorf("%s: got %s, want none of the shape rules", c.name, h)
			}
		}
	}
}

// TestEncodedASCIISplitWords: a subject an encoder split into several
// encoded-words, only the last with a character outside ASCII, needed
// its encoding.
func TestEncodedASCIISplitWords(t *testing.T) {
	v := "=?UTF-8?B?VGhpcyBtb250aCBhdCB0aGUgbGlicmFyeSwgd2l0aCBhIGxvbmcgc3ViamVjdCBsaW5l?= =?UTF-8?B?IPCfmIo=?="
	if encodedASCII(v) {
		t.Errorf("%q: got ASCII, want not (the second word is an emoji)", v)
	}
	if v := "=?UTF-8?B?VGhpcyBtb250aA==?= =?UTF-8?B?IGF0IHRoZQ==?="; !encodedASCII(v) {
		t.Errorf("%q: got not ASCII, want ASCII", v)
	}
}
