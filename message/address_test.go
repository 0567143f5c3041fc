package message

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseAddress(t *testing.T) {
	long := strings.Repeat("a", 64)
	label := strings.Repeat("b", 63)
	cases := []struct {
		in, want string
		errPart  string // substring of the error, "" if valid
	}{
		{"User@Example.ORG", "user@example.org", ""},
		{"first.last+tag@sub.example.co.uk", "first.last+tag@sub.example.co.uk", ""},
		{"o'brien@x.ie", "o'brien@x.ie", ""},
		{`"john doe"@example.org`, `"john doe"@example.org`, ""},
		{"user@[192.0.2.1]", "user@[192.0.2.1]", ""},
		{"jörg@bücher.de", "jörg@bücher.de", ""},
		{long + "@x.org", long + "@x.org", ""},
		{"a@" + label + ".org", "a@" + label + ".org", ""},
		{"", "", "missing @"},
		{"plain", "", "missing @"},
		{"@x.org", "", "empty local part"},
		{"a@", "", "empty domain"},
		{long + "a@x.org", "", "local part longer than 64"},
		{"a@" + strings.Repeat("abcdefghi.", 26) + "org", "", "domain longer than 255"},
		{"a@" + label + "b.org", "", "domain label longer than 63"},
		{".a@x.org", "", "empty atom"},
		{"a..b@x.org", "", "empty atom"},
		{"a.@x.org", "", "empty atom"},
		{"a b@x.org", "", "not allowed in local part"},
		{"a<b@x.org", "", "not allowed in local part"},
		{"a@x..org", "", "empty domain label"},
		{"a@-x.org", "", "hyphen"},
		{"a@x-.org", "", "hyphen"},
		{"a@x_y.org", "", "not allowed in domain"},
		{"a@x.org.", "", "ends with a dot"},
		{"a@x/../y", "", "not allowed in domain"},
		{`"unterminated@x.org`, "", "unterminated"},
		{"a@[1.2.3.4", "", "unterminated address literal"},
		{"a\xff@x.org", "", "UTF-8"},
	}
	for _, c := range cases {
		got, err := ParseAddress(c.in)
		switch {
		case c.errPart == "" && err != nil:
			t.Errorf("ParseAddress(%q): got error %v, want %q", c.in, err, c.want)
		case c.errPart == "" && got != c.want:
			t.Errorf("ParseAddress(%q): got %q, want %q", c.in, got, c.want)
		case c.errPart != "" && err == nil:
			t.Errorf("ParseAddress(%q): got %q, want error containing %q", c.in, got, c.errPart)
		case c.errPart != "" && (!strings.Contains(err.Error(), c.errPart) || !errors.Is(err, ErrInvalidAddress)):
			t.Errorf("ParseAddress(%q): got error %q, want one containing %q wrapping ErrInvalidAddress", c.in, err, c.errPart)
		}
	}
}

func TestParseAddressList(t *testing.T) {
	cases := []struct {
		in   string
		want []Address
		bad  bool
	}{
		{"", nil, false},
		{"A <A@X.org>, b@y.org", []Address{{"A", "a@x.org"}, {"", "b@y.org"}}, false},
		{`"Doe, John" <j@x.org>; c@z.org`, []Address{{"Doe, John", "j@x.org"}, {"", "c@z.org"}}, false},
		{"=?utf-8?q?J=C3=B6rg?= <j@x.org>", []Address{{"Jörg", "j@x.org"}}, false},
		{"Jörg <j@x.org>", []Address{{"Jörg", "j@x.org"}}, false},
		{"a@x.org,, ,b@y.org", []Address{{"", "a@x.org"}, {"", "b@y.org"}}, false},
		{"a@x.org, not an address", nil, true},
		{"A <a@-x.org>", nil, true},
		{"a@x.org, <b@y.org", nil, true},
	}
	for _, c := range cases {
		got, err := ParseAddressList(c.in)
		if (err != nil) != c.bad {
			t.Errorf("ParseAddressList(%q): got error %v, want error %v", c.in, err, c.bad)
			continue
		}
		if !c.bad && !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseAddressList(%q): got %#v, want %#v", c.in, got, c.want)
		}
	}
}
