package textkeys

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// subset reports whether every key of a is in b (both sorted).
func subset(a, b []int64) bool {
	for _, k := range a {
		if _, ok := slices.BinarySearch(b, k); !ok {
			return false
		}
	}
	return true
}

func TestKeys(t *testing.T) {
	for _, c := range []struct {
		text string
		n    int
	}{
		{"", 0},
		{"ab", 0},
		{"abc", 1},
		{"abcd", 2},
		{"ab cd", 0},   // no trigram across a word boundary
		{"abc abc", 1}, // distinct keys only
		{"ABC abc Abc", 1},
		{"日本語のテキスト", 6},
		{"12:30", 0},
	} {
		if got := Keys(c.text); len(got) != c.n || !slices.IsSorted(got) {
			t.Errorf("Keys(%q) = %v, want %d sorted keys", c.text, got, c.n)
		}
	}
	// Case variants share keys, the Kelvin sign and the long s included.
	if a, b := Keys("kiss"), Keys("\u212Aiſs"); !slices.Equal(a, b) {
		t.Errorf("keys of kiss %v and of its case variant %v differ", a, b)
	}
	if a, b := Keys("ΣΊΣΥΦΟΣ"), Keys("σίσυφος"); !slices.Equal(a, b) {
		t.Errorf("Greek upper %v and lower %v differ", a, b)
	}
}

func TestTokens(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"", ""},
		{"Abc", "abc"},
		{"ab1", "ab1"},
		{"\u212Aiss", "kis iss"},
	} {
		toks := strings.Fields(LowerTokens(c.text))
		slices.Sort(toks)
		want := strings.Fields(c.want)
		slices.Sort(want)
		if !slices.Equal(toks, want) {
			t.Errorf("LowerTokens(%q) = %q, want %q", c.text, toks, want)
		}
	}
	// Non-ASCII keys are long tokens of ASCII letters and digits.
	for _, tok := range strings.Fields(LowerTokens("日本語 Größe")) {
		if len(tok) == 3 && strings.HasPrefix(tok, "gr") {
			continue
		}
		if len(tok) < 11 || tok[0] != 'x' || strings.Trim(tok, "0123456789abcdefghijklmnopqrstuvwxyz") != "" {
			t.Errorf("token %q: want x and base 36", tok)
		}
	}
	for _, bad := range []string{"", "ab", "x", "xz", "x0000000000000", "a-c", "ABCD", "x0", "x-12345678901"} {
		if k, ok := ParseToken(bad); ok {
			t.Errorf("ParseToken(%q) = %d, want an error", bad, k)
		}
	}
}

// FuzzKeysSubstring checks the property search relies on: the keys of any
// substring of a text, in any case, are among the text's keys.
func FuzzKeysSubstring(f *testing.F) {
	f.Add("The quick brown fox jumps over the lazy dog.", 4, 15)
	f.Add("Größe ÄRGER straße", 2, 12)
	f.Add("日本語のテキストを検索する", 3, 30)
	f.Add("x-mailer: hello\r\nsubject: re: 12:30", 0, 40)
	f.Fuzz(func(t *testing.T, text string, i, j int) {
		if !utf8.ValidString(text) || len(text) == 0 {
			return
		}
		i, j = abs(i)%(len(text)+1), abs(j)%(len(text)+1)
		if i > j {
			i, j = j, i
		}
		for i > 0 && i < len(text) && !utf8.RuneStart(text[i]) {
			i--
		}
		for j < len(text) && !utf8.RuneStart(text[j]) {
			j++
		}
		all, body, lowerBody := Keys(text), BodyKeys(text), LowerBodyKeys(text)
		if !subset(body, all) {
			t.Fatalf("body keys of %q are not among its keys", text)
		}
		for _, needle := range []string{text[i:j], strings.ToUpper(text[i:j]), strings.ToLower(text[i:j])} {
			if !strings.Contains(strings.ToLower(text), strings.ToLower(needle)) {
				continue // case mapping changed the length: not a substring any more
			}
			if k := Keys(needle); !subset(k, all) {
				t.Fatalf("keys of %q are not among the keys of %q", needle, text)
			}
			if k := BodyKeys(needle); !subset(k, body) {
				t.Fatalf("body keys %v of %q are not among the body keys %v of %q", k, needle, body, text)
			}
			if k := LowerBodyKeys(needle); !subset(k, lowerBody) {
				t.Fatalf("lower body keys of %q are not among those of %q", needle, text)
			}
		}
	})
}

func TestBodyKeys(t *testing.T) {
	for _, c := range []struct {
		text string
		n    int
	}{
		{"", 0},
		{"abc", 0},  // one trigram: no pair to choose from
		{"abcd", 1}, // one pair, one key
		{"abcd ABCD abcd", 1},
		{"ab cd", 0},
		{"日本語", 1}, // CJK trigrams are all kept
		{"日本語のテキスト", 6},
		{"東京abc", 3},
	} {
		if got := BodyKeys(c.text); len(got) != c.n || !slices.IsSorted(got) {
			t.Errorf("BodyKeys(%q) = %v, want %d sorted keys", c.text, got, c.n)
		}
	}
	// The rank is stored with every body's keys: it must never change.
	if got, want := LowerBodyTokens("Searching"), "ear arc rch hin"; !sameFields(got, want) {
		t.Errorf("LowerBodyTokens(Searching) = %q, want %q", got, want)
	}
	// The sample is smaller than the keys on prose, and never larger.
	text := strings.Repeat("The committee will reconvene on Thursday to discuss the quarterly figures, ", 3) +
		"and the invoices from Göteborg still have not arrived; please forward them to accounting."
	all, body := Keys(text), BodyKeys(text)
	if !subset(body, all) || 4*len(body) > 3*len(all) {
		t.Errorf("%d body keys of %d keys: want a subset, at most three quarters", len(body), len(all))
	}
	// A needle with a word run of four runes has body keys; three ASCII do not.
	for needle, want := range map[string]bool{"vene": true, "ven": false, "ember 2026": true, "東京都": true} {
		if got := len(BodyKeys(needle)) > 0; got != want {
			t.Errorf("BodyKeys(%q) has keys: %v, want %v", needle, got, want)
		}
	}
}

func sameFields(a, b string) bool {
	x, y := strings.Fields(a), strings.Fields(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

// FuzzTokens checks that LowerKeys are the keys of the lower-cased text,
// that tokens round-trip to their keys and that the tokens of a text are
// its keys, one each.
func FuzzTokens(f *testing.F) {
	f.Add("The quick brown fox")
	f.Add("Größe ÄRGER straße \u212Aelvin")
	f.Add("日本語のテキスト")
	f.Add("\xff\xfeabc\x00def")
	f.Add("İSTANBUL \u212AELVIN")
	f.Fuzz(func(t *testing.T, text string) {
		keys := LowerKeys(text)
		if want := Keys(strings.ToLower(text)); !slices.Equal(keys, want) {
			t.Fatalf("LowerKeys(%q) = %v, want the keys of its lower case %v", text, keys, want)
		}
		if bk, want := LowerBodyKeys(text), BodyKeys(strings.ToLower(text)); !slices.Equal(bk, want) {
			t.Fatalf("LowerBodyKeys(%q) = %v, want the body keys of its lower case %v", text, bk, want)
		}
		if got, want := LowerBodyTokens(text), string(AppendTokens(nil, LowerBodyKeys(text))); !sameFields(got, want) {
			t.Fatalf("LowerBodyTokens(%q) = %q, want %q", text, got, want)
		}
		toks := strings.Fields(LowerTokens(text))
		if len(toks) != len(keys) {
			t.Fatalf("%d tokens for %d keys", len(toks), len(keys))
		}
		var back []int64
		for _, tok := range toks {
			k, ok := ParseToken(tok)
			if !ok {
				t.Fatalf("token %q does not parse", tok)
			}
			if strings.Trim(tok, "0123456789abcdefghijklmnopqrstuvwxyz") != "" {
				t.Fatalf("token %q is not lower-case ASCII letters and digits", tok)
			}
			back = append(back, k)
		}
		slices.Sort(back)
		if !slices.Equal(back, keys) {
			t.Fatalf("tokens %q parse to %v, want %v", toks, back, keys)
		}
		if got := string(AppendTokens(nil, keys)); got != strings.Join(tokenList(keys), " ") {
			t.Fatalf("AppendTokens = %q", got)
		}
	})
}

func tokenList(keys []int64) []string {
	var out []string
	for _, k := range keys {
		out = append(out, string(AppendToken(nil, k)))
	}
	return out
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func BenchmarkLowerTokens(b *testing.B) {
	text := strings.Repeat("The quick brown fox jumps over the lazy dog, 12:30 naïve café. ", 160)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		LowerTokens(text)
	}
}

func BenchmarkLowerBodyTokens(b *testing.B) {
	text := strings.Repeat("The quick brown fox jumps over the lazy dog, 12:30 naïve café. ", 160)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		LowerBodyTokens(text)
	}
}
