package sqlite

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stamp-mail/stamp/storage"
)

func TestNormSubject(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Hello", "hello"},
		{"Re: Hello", "hello"},
		{"RE:Hello", "hello"},
		{"Re: Re: Fwd: hello", "hello"},
		{"AW: WG: SV: Fw: hello", "hello"},
		{"Re[2]: hello", "hello"},
		{"[list] Re: [other]  hello   world ", "hello world"},
		{"Reply: hello", "reply: hello"},
		{"Re hello", "re hello"},
		{"Ré: hello", "ré: hello"},
		{"", ""},
		{"Re:", ""},
		{"[unclosed Re: x", "[unclosed re: x"},
	} {
		if got := normSubject(tc.in); got != tc.want {
			t.Errorf("normSubject(%q): got %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNormFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string
		want []string
		err  bool
	}{
		{"canonical", []string{`\SEEN`, `\answered`, `\Draft`}, []string{`\Answered`, `\Draft`, `\Seen`}, false},
		{"recent dropped", []string{`\Recent`, `\RECENT`}, []string{}, false},
		{"keywords kept, dedup", []string{"Work", "WORK", "$Junk", "work"}, []string{"$Junk", "Work"}, false},
		{"empty", []string{""}, nil, true},
		{"space", []string{"a b"}, nil, true},
		{"nil", nil, []string{}, false},
	} {
		got, err := normFlags(tc.in)
		if (err != nil) != tc.err || !tc.err && !slices.Equal(got, tc.want) {
			t.Errorf("%s: normFlags(%q): got %q, %v, want %q (error %v)", tc.name, tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestFTSKeys(t *testing.T) {
	for _, tc := range []struct {
		cols     []string
		in, want string
	}{
		// A body's keys are its body keys, of which a needle asks for its own.
		{[]string{"body"}, "hello", `body : ("ell")`},
		{[]string{"subject"}, `say "HI" now`, `subject : ("now" AND "say")`},
		{[]string{"subject", "body"}, `say "HI" now`, ``}, // no word of four runes
		{[]string{"subject", "body"}, `says "HI" now`, `{subject body} : ("ays")`},
		{[]string{"body"}, "NEAR(a b)", `body : ("ear")`},
		{[]string{"body"}, "ab cd", ``},
	} {
		got := ""
		if toks := needleTokens(tc.in, slices.Contains(tc.cols, colBody)); len(toks) > 0 {
			got = ftsKeys(tc.cols, toks)
		}
		if got != tc.want {
			t.Errorf("keys query of %q: got %s, want %s", tc.in, got, tc.want)
		}
	}
	if n := len(needleTokens(strings.Repeat("abcdefghijklmnopqrstuvwxyz", 4), false)); n != maxNeedleKeys {
		t.Errorf("a long needle asks for %d keys, want %d", n, maxNeedleKeys)
	}
}

func FuzzNormSubject(f *testing.F) {
	for _, s := range []string{"Re: [x] Fwd: a", "AW[3]:b", "[", "re:re:re:", "Ré: ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := normSubject(s)
		if again := normSubject(n); again != n {
			t.Errorf("normSubject not idempotent: %q -> %q -> %q", s, n, again)
		}
	})
}

// FuzzSearchText runs arbitrary text through Search and SearchUIDs as
// free text, BODY, TEXT and HEADER needles: whatever the input, the FTS5
// query must parse (no error), and the BODY result must agree with
// storage.ContainsFold on the body (the oracle), for any needle.
func FuzzSearchText(f *testing.F) {
	for _, s := range []string{`a OR b`, `"`, `*`, `col:x`, `NEAR(a b, 2)`, `^a`, `a + b`, `{a b}:c`, "\x00", `""""`, "ick bro", "ox", "Quick"} {
		f.Add(s)
	}
	s, err := Open(f.Context(), filepath.Join(f.TempDir(), "fuzz.db"), Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	u, err := s.CreateUser(f.Context(), "f@example.com", "h")
	if err != nil {
		f.Fatal(err)
	}
	inbox, err := s.GetMailboxByRole(f.Context(), u.ID, storage.RoleInbox)
	if err != nil {
		f.Fatal(err)
	}
	const body = "The Quick brown fox {a b}:c NEAR(x) \"quoted\" 50% of_all"
	if err := s.Deliver(f.Context(), &storage.Batch{Messages: []*storage.NewMessage{{UserID: u.ID, MailboxID: inbox.ID,
		Size: 10, Segments: []storage.Segment{{Hash: "h1", Size: 10, Inline: true}}, Subject: "s", SearchText: body,
		SearchHeader: "x-test: " + body + "\n"}}, Inline: map[string][]byte{"h1": []byte("0123456789")}}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if _, err := s.Search(t.Context(), u.ID, storage.SearchQuery{Text: text}); err != nil {
			t.Errorf("Search(%q) = %v", text, err)
		}
		got, err := s.SearchUIDs(t.Context(), u.ID, storage.SearchQuery{MailboxID: inbox.ID, Body: []string{text}})
		if err != nil {
			t.Fatalf("SearchUIDs(BODY %q) = %v", text, err)
		}
		if want := storage.ContainsFold(body, text); text != "" && (len(got) == 1) != want {
			t.Errorf("SearchUIDs(BODY %q): got %v, want match %v", text, got, want)
		}
		for _, q := range []storage.SearchQuery{{AnyText: []string{text}}, {Header: []storage.HeaderTerm{{Name: text, Value: text}}}} {
			q.MailboxID = inbox.ID
			if _, err := s.SearchUIDs(t.Context(), u.ID, q); err != nil {
				t.Errorf("SearchUIDs(%+v) = %v", q, err)
			}
		}
	})
}
