package sieve

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"
)

// testMsg is a message for the interpreter: header fields and a body.
type testMsg struct {
	fields [][2]string
	body   string
}

func (m testMsg) Header(name string) []string {
	var out []string
	for _, f := range m.fields {
		if strings.EqualFold(f[0], name) {
			out = append(out, f[1])
		}
	}
	return out
}

func (m testMsg) Addresses(name string) []string {
	var out []string
	for _, v := range m.Header(name) {
		list, err := mail.ParseAddressList(v)
		if err != nil {
			continue
		}
		for _, a := range list {
			out = append(out, a.Address)
		}
	}
	return out
}

func (m testMsg) Size() int64 { return int64(len(m.body) + 200) }

func (m testMsg) Body(raw bool, types []string) []string { return []string{m.body} }

var sample = testMsg{
	fields: [][2]string{
		{"From", "Bob Example <bob@example.org>"},
		{"To", "alice+lists@example.com, carol@example.com"},
		{"Subject", "[stamp-dev] Weekly report 42"},
		{"Date", "Tue, 10 Mar 2026 10:11:12 +0100"},
		{"List-Id", "<stamp-dev.lists.example.org>"},
		{"X-Spam-Score", "7"},
	},
	body: "Hello Alice,\r\nthe build is green.\r\n",
}

var env = Envelope{From: "bob@example.org", To: "alice+lists@example.com"}

// summary renders a result as "keep[flags] fileinto:Box redirect:addr reject:reason vacation:reason".
func summary(r Result) string {
	var parts []string
	for _, a := range r.Actions {
		switch a.Kind {
		case ActKeep:
			parts = append(parts, "keep"+flagStr(a.Flags))
		case ActFileInto:
			s := "fileinto:" + a.Mailbox + flagStr(a.Flags)
			if a.Create {
				s += "(create)"
			}
			parts = append(parts, s)
		case ActRedirect:
			parts = append(parts, "redirect:"+a.Address)
		case ActReject:
			parts = append(parts, "reject:"+a.Reason)
		case ActVacation:
			parts = append(parts, fmt.Sprintf("vacation:%d:%s", a.Vacation.Days, a.Reason))
		}
	}
	if r.Discarded {
		parts = append(parts, "discarded")
	}
	return strings.Join(parts, " ")
}

func flagStr(f []string) string {
	if len(f) == 0 {
		return ""
	}
	return "[" + strings.Join(f, ",") + "]"
}

func TestRun(t *testing.T) {
	cases := []struct{ name, script, want string }{
		{"empty script keeps", ``, "keep"},
		{"discard", `discard;`, "discarded"},
		{"fileinto", `require "fileinto"; fileinto "Lists";`, "fileinto:Lists"},
		{"fileinto :copy keeps too", `require ["fileinto", "copy"]; fileinto :copy "Lists";`, "fileinto:Lists keep"},
		{"fileinto :create", `require ["fileinto", "mailbox"]; fileinto :create "New/Box";`, "fileinto:New/Box(create)"},
		{"header contains", `require "fileinto"; if header :contains "subject" "weekly" { fileinto "Reports"; }`, "fileinto:Reports"},
		{"header is, no match", `if header :is "subject" "weekly" { discard; }`, "keep"},
		{"header matches with case folding", `if header :matches "Subject" "[stamp-*] *" { discard; }`, "discarded"},
		{"octet comparator is case-sensitive", `if header :comparator "i;octet" :contains "subject" "WEEKLY" { discard; }`, "keep"},
		{"address domain", `if address :domain "from" "example.org" { discard; }`, "discarded"},
		{"address localpart over a list", `if address :localpart "to" "carol" { discard; }`, "discarded"},
		{"subaddress detail", `require ["subaddress", "fileinto", "envelope"]; if envelope :detail "to" "lists" { fileinto "Lists"; }`, "fileinto:Lists"},
		{"subaddress user", `require ["subaddress", "envelope"]; if envelope :user "to" "alice" { discard; }`, "discarded"},
		{"envelope from", `require "envelope"; if envelope :is "from" "bob@example.org" { discard; }`, "discarded"},
		{"exists", `if exists ["list-id", "from"] { discard; }`, "discarded"},
		{"exists missing", `if exists "x-missing" { discard; }`, "keep"},
		{"size over", `if size :over 100 { discard; }`, "discarded"},
		{"size under", `if size :under 1K { discard; }`, "discarded"},
		{"not, anyof, allof", `if allof (not exists "x-none", anyof (false, header :contains "from" "bob")) { discard; }`, "discarded"},
		{"elsif chain", `require "fileinto"; if false { fileinto "A"; } elsif header :contains "subject" "report" { fileinto "B"; } else { fileinto "C"; }`, "fileinto:B"},
		{"else", `require "fileinto"; if false { fileinto "A"; } else { fileinto "C"; }`, "fileinto:C"},
		{"stop", `require "fileinto"; fileinto "A"; stop; fileinto "B";`, "fileinto:A"},
		{"redirect", `redirect "elsewhere@example.net";`, "redirect:elsewhere@example.net discarded"},
		{"redirect :copy", `require "copy"; redirect :copy "elsewhere@example.net";`, "redirect:elsewhere@example.net keep"},
		{"reject", `require "reject"; reject "not here";`, "reject:not here discarded"},
		{"ereject", `require "ereject"; ereject "go away";`, "reject:go away discarded"},
		{"imap4flags", `require ["imap4flags"]; setflag "\\Seen"; addflag ["\\Flagged", "$Work"]; removeflag "\\Seen";`, "keep[\\Flagged,$Work]"},
		{"imap4flags :flags", `require ["imap4flags", "fileinto"]; fileinto :flags "\\Seen" "Read";`, "fileinto:Read[\\Seen]"},
		{"hasflag", `require "imap4flags"; addflag "$x"; if hasflag "$X" { discard; }`, "discarded"},
		{"body", `require "body"; if body :contains "green" { discard; }`, "discarded"},
		{"variables from matches", `require ["variables", "fileinto"]; if header :matches "subject" "[*] *" { fileinto "Lists/${1}"; }`, "fileinto:Lists/stamp-dev"},
		{"set with modifiers", `require ["variables", "fileinto"]; set :upper "x" "box"; set :length "n" "abc"; fileinto "${x}${n}";`, "fileinto:BOX3"},
		{"string test", `require "variables"; set "a" "hello"; if string :is "${a}" "hello" { discard; }`, "discarded"},
		{"regex with captures", `require ["regex", "variables", "fileinto"]; if header :regex "subject" "report ([0-9]+)$" { fileinto "R${1}"; }`, "fileinto:R42"},
		{"relational count", `require ["relational", "comparator-i;ascii-numeric"]; if address :count "ge" :comparator "i;ascii-numeric" "to" "2" { discard; }`, "discarded"},
		{"relational value", `require ["relational", "comparator-i;ascii-numeric"]; if header :value "gt" :comparator "i;ascii-numeric" "x-spam-score" "5" { discard; }`, "discarded"},
		{"date year", `require "date"; if date :is "date" "year" "2026" { discard; }`, "discarded"},
		{"date zone", `require "date"; if date :zone "+0000" :is "date" "hour" "09" { discard; }`, "discarded"},
		{"date originalzone", `require "date"; if date :originalzone :is "date" "zone" "+0100" { discard; }`, "discarded"},
		{"currentdate", `require ["date", "relational"]; if currentdate :value "ge" "date" "2000-01-01" { discard; }`, "discarded"},
		{"vacation", `require "vacation"; vacation :days 3 :subject "Away" "I am away.";`, "vacation:3:I am away. keep"},
		{"multi-line string", "require \"vacation\";\nvacation text:\nAway until Monday.\n..dot\n.\n;", "vacation:0:Away until Monday.\r\n.dot\r\n keep"},
		{"encoded character", `require ["encoded-character", "fileinto"]; fileinto "${hex:41 42}${unicode:263a}";`, "fileinto:AB\u263a"},
		{"comments", "# a comment\n/* block\ncomment */ discard;", "discarded"},
	}
	for _, c := range cases {
		s, err := Parse(c.script)
		if err != nil {
			t.Errorf("%s: Parse: %v", c.name, err)
			continue
		}
		r, err := Run(context.Background(), s, sample, env, Options{Now: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Errorf("%s: Run: %v", c.name, err)
			continue
		}
		if got := summary(r); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ name, script, want string }{
		{"unknown command", "keep;\nfrobnicate;", "line 2, column 1: unknown command \"frobnicate\""},
		{"missing semicolon", "require \"fileinto\";\nfileinto \"A\"\nkeep;", "line 3, column 1: expected \";\" after fileinto"},
		{"extension not required", "fileinto \"A\";", "line 1, column 1: fileinto needs require \"fileinto\""},
		{"unsupported extension", "require \"notify\";", "line 1, column 9: unsupported extension \"notify\""},
		{"unterminated string", "if header :is \"subject\" \"abc", "line 1, column 25: unterminated string"},
		{"require late", "keep;\nrequire \"fileinto\";", "line 2, column 1: require must come before"},
		{"else without if", "else { keep; }", "line 1, column 1: else without a preceding if"},
		{"bad tag", "if header :bogus \"a\" \"b\" { keep; }", "line 1, column 11: header: unknown tag :bogus"},
		{"size needs over or under", "if size 10 { keep; }", "line 1, column 4: size needs exactly one"},
		{"bad regex", "require \"regex\";\nif header :regex \"s\" \"(\" { keep; }", "line 2, column 22: header: bad regular expression"},
		{"unterminated comment", "keep; /* never closed", "line 1, column 7: unterminated comment"},
		{"wrong argument count", "require \"fileinto\"; fileinto;", "line 1, column 21: fileinto: expected 1 positional argument(s), found 0"},
		{"tag needs extension", "require \"fileinto\"; fileinto :copy \"A\";", "line 1, column 30: fileinto: tag :copy needs require \"copy\""},
		{"unclosed block", "if true {\nkeep;\n", "line 3, column 1: expected \"}\""},
	}
	for _, c := range cases {
		_, err := Parse(c.script)
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("%s: got %v, want an *Error", c.name, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: got %q, want prefix %q", c.name, err.Error(), c.want)
		}
	}
}

// TestLimits: scripts that would run away stop with ErrLimit within a bound.
func TestLimits(t *testing.T) {
	var many strings.Builder
	many.WriteString("require \"fileinto\";\n")
	for i := range 10000 {
		fmt.Fprintf(&many, "if header :contains \"subject\" \"no-match-%d\" { fileinto \"F%d\"; }\n", i, i)
	}
	var flags strings.Builder
	flags.WriteString("require [\"fileinto\", \"copy\"];\n")
	for i := range 1000 {
		fmt.Fprintf(&flags, "fileinto :copy \"Box%d\";\n", i)
	}
	var redirs strings.Builder
	for i := range 10 {
		fmt.Fprintf(&redirs, "redirect \"r%d@example.net\";\n", i)
	}
	var grow strings.Builder
	grow.WriteString("require \"variables\"; set \"a\" \"xxxxxxxxxxxxxxxx\";\n")
	for range 40 {
		grow.WriteString("set \"a\" \"${a}${a}\";\n")
	}
	grow.WriteString("if string :contains \"${a}\" \"y\" { discard; }\n")
	cases := []struct {
		name, script string
		wantErr      bool
	}{
		{"10,000 rules", many.String(), true},
		{"1,000 actions", flags.String(), true},
		{"10 redirects", redirs.String(), true},
		{"variable doubling", grow.String(), false},
	}
	for _, c := range cases {
		s, err := Parse(c.script)
		if err != nil {
			t.Fatalf("%s: Parse: %v", c.name, err)
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err = Run(ctx, s, sample, env, Options{})
		cancel()
		took := time.Since(start)
		if c.wantErr != errors.Is(err, ErrLimit) {
			t.Errorf("%s: got %v, want ErrLimit: %v", c.name, err, c.wantErr)
		}
		if !c.wantErr && err != nil {
			t.Errorf("%s: got %v, want nil", c.name, err)
		}
		if took > 2*time.Second {
			t.Errorf("%s: took %v, want well under 2s", c.name, took)
		}
	}
}

func TestSupportedSorted(t *testing.T) {
	if len(Supported) == 0 || slices.Contains(Supported, "") {
		t.Errorf("Supported: got %v", Supported)
	}
}

// BenchmarkRun measures one run of a 20-rule script over a message (parsed once).
func BenchmarkRun(b *testing.B) {
	var rules strings.Builder
	rules.WriteString("require [\"fileinto\", \"variables\", \"regex\"];\n")
	for i := range 20 {
		fmt.Fprintf(&rules, "if anyof (header :contains \"subject\" \"topic-%d\", address :domain \"from\" \"list%d.example\", header :matches \"x-id\" \"*-%d\") { fileinto \"F%d\"; }\n", i, i, i, i)
	}
	s, err := Parse(rules.String())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		if _, err := Run(ctx, s, sample, env, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse measures parsing the same 20-rule script.
func BenchmarkParse(b *testing.B) {
	var rules strings.Builder
	rules.WriteString("require [\"fileinto\"];\n")
	for i := range 20 {
		fmt.Fprintf(&rules, "if header :contains \"subject\" \"topic-%d\" { fileinto \"F%d\"; }\n", i, i)
	}
	src := rules.String()
	for range b.N {
		if _, err := Parse(src); err != nil {
			b.Fatal(err)
		}
	}
}
