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

func TestFTSQuery(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"hello world", `"hello" "world"`},
		{`say "hi"`, `"say" """hi"""`},
		{"- * ( ) :", ""},
		{"NEAR(a b)", `"NEAR(a" "b)"`},
		{"ünïcode 42", `"ünïcode" "42"`},
	} {
		if got := ftsQuery(tc.in); got != tc.want {
			t.Errorf("ftsQuery(%q): got %s, want %s", tc.in, got, tc.want)
		}
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

// FuzzSearchText runs arbitrary text through Search: whatever the input, the
// FTS5 query must parse (no error) and stay a conjunction of plain terms.
func FuzzSearchText(f *testing.F) {
	for _, s := range []string{`a OR b`, `"`, `*`, `col:x`, `NEAR(a b, 2)`, `^a`, `a + b`, `{a b}:c`, "\x00", `""""`} {
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
	f.Fuzz(func(t *testing.T, text string) {
		if _, err := s.Search(t.Context(), u.ID, storage.SearchQuery{Text: text}); err != nil {
			t.Errorf("Search(%q) = %v (query %s)", text, err, ftsQuery(text))
		}
		if q := ftsQuery(text); q != "" && (!strings.HasPrefix(q, `"`) || !strings.HasSuffix(q, `"`)) {
			t.Errorf("ftsQuery(%q) = %s, want quoted terms", text, q)
		}
	})
}
