package outbound

import (
	"slices"
	"strings"
	"testing"
)

func TestParseSTSPolicy(t *testing.T) {
	cases := []struct {
		name, body string
		mode       string
		mx         []string
		maxAge     int64
		err        string
	}{
		{"enforce CRLF", "version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmx: *.example.net\r\nmax_age: 86400\r\n",
			"enforce", []string{"mx1.example.com", "*.example.net"}, 86400, ""},
		{"testing LF, unknown key", "version: STSv1\nmode: testing\nmx: mx.example.com\nmax_age: 604800\nextension: x\n",
			"testing", []string{"mx.example.com"}, 604800, ""},
		{"none without mx", "version: STSv1\nmode: none\nmax_age: 0\n", "none", nil, 0, ""},
		{"max_age capped at a year", "version: STSv1\nmode: testing\nmx: a.b\nmax_age: 9999999999\n", "testing", []string{"a.b"}, stsMaxAge, ""},
		{"wrong version", "version: STSv2\nmode: enforce\nmx: a.b\nmax_age: 1\n", "", nil, 0, "version"},
		{"bad mode", "version: STSv1\nmode: strict\nmx: a.b\nmax_age: 1\n", "", nil, 0, "mode"},
		{"no max_age", "version: STSv1\nmode: enforce\nmx: a.b\n", "", nil, 0, "max_age"},
		{"negative max_age", "version: STSv1\nmode: enforce\nmx: a.b\nmax_age: -5\n", "", nil, 0, "max_age"},
		{"enforce without mx", "version: STSv1\nmode: enforce\nmax_age: 5\n", "", nil, 0, "no mx"},
		{"no colon", "version: STSv1\nmode enforce\n", "", nil, 0, "colon"},
		{"HTML error page", "<html><body>Not found</body></html>\n", "", nil, 0, "colon"},
	}
	for _, c := range cases {
		p, err := parseSTSPolicy([]byte(c.body))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: got %+v, %v; want an error about %q", c.name, p, err, c.err)
			}
			continue
		}
		if err != nil || p.Mode != c.mode || !slices.Equal(p.MX, c.mx) || p.MaxAge != c.maxAge {
			t.Errorf("%s: got %+v, %v; want mode %s mx %v max_age %d", c.name, p, err, c.mode, c.mx, c.maxAge)
		}
	}
}

func TestSTSMatches(t *testing.T) {
	p := &stsPolicy{MX: []string{"mx1.example.com", "*.example.net"}}
	cases := []struct {
		host string
		want bool
	}{
		{"mx1.example.com", true},
		{"MX1.Example.COM.", true},
		{"mx2.example.com", false},
		{"a.example.net", true},
		{"a.b.example.net", false}, // the wildcard covers one label only (RFC 8461 section 4.1)
		{"example.net", false},
	}
	for _, c := range cases {
		if got := p.matches(c.host); got != c.want {
			t.Errorf("matches(%q): got %v, want %v", c.host, got, c.want)
		}
	}
}

func TestParseSTSRecord(t *testing.T) {
	cases := []struct {
		txts []string
		id   string
		ok   bool
	}{
		{[]string{"v=STSv1; id=20160831085700Z;"}, "20160831085700Z", true},
		{[]string{"v=spf1 -all", "v=STSv1;id=abc"}, "abc", true},
		{[]string{"v=STSv1; id=a", "v=STSv1; id=b"}, "", false}, // two records: as none
		{[]string{"v=STSv1;"}, "", false},
		{[]string{"v=STSv1; id=not-alnum"}, "", false},
		{[]string{"v=STSv10; id=x"}, "", false},
		{nil, "", false},
	}
	for _, c := range cases {
		id, err := parseSTSRecord(c.txts)
		if (err == nil) != c.ok || id != c.id {
			t.Errorf("parseSTSRecord(%q): got %q, %v; want %q ok=%v", c.txts, id, err, c.id, c.ok)
		}
	}
}

func TestTLSRequiredNo(t *testing.T) {
	cases := []struct {
		raw  string
		want bool
	}{
		{"From: a@b\r\nTLS-Required: No\r\n\r\nbody\r\n", true},
		{"tls-required:no\r\n\r\n", true},
		{"From: a@b\r\n\r\nTLS-Required: No\r\n", false}, // in the body
		{"TLS-Required: Yes\r\n\r\n", false},
		{"Subject: TLS-Required: No\r\n\r\n", false},
	}
	for _, c := range cases {
		if got := tlsRequiredNo([]byte(c.raw)); got != c.want {
			t.Errorf("tlsRequiredNo(%q): got %v, want %v", c.raw, got, c.want)
		}
	}
}

func FuzzParseSTSPolicy(f *testing.F) {
	f.Add([]byte("version: STSv1\r\nmode: enforce\r\nmx: mx1.example.com\r\nmax_age: 86400\r\n"))
	f.Add([]byte("version: STSv1\nmode: none\nmax_age: 0\n"))
	f.Add([]byte("mode: testing\nmx:\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseSTSPolicy(b)
		if err != nil {
			return
		}
		if p.MaxAge < 0 || p.MaxAge > stsMaxAge || (p.Mode != stsNone && len(p.MX) == 0) {
			t.Fatalf("accepted an invalid policy: %+v", p)
		}
		p.matches("mx.example.com")
	})
}

func FuzzParseSTSRecord(f *testing.F) {
	f.Add("v=STSv1; id=20160831085700Z;")
	f.Add("v=STSv1;id=;")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := parseSTSRecord([]string{s})
		if err == nil && (id == "" || len(id) > 32 || !isAlnum(id)) {
			t.Fatalf("accepted id %q", id)
		}
	})
}
