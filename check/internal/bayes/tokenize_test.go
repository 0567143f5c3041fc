package bayes

import (
	"bytes"
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// loadMessage is a message like the ones `stamp load smtp` sends: about
// size bytes of plain text.
func loadMessage(size int) []byte {
	var b bytes.Buffer
	b.WriteString("From: <load@sender.example>\r\nTo: <bench@bench.test>\r\nSubject: load 1\r\n" +
		"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <1@sender.example>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=us-ascii\r\n\r\n")
	for b.Len() < size {
		b.WriteString("The quick brown fox jumps over the lazy dog. Stamp load generator text line.\r\n")
	}
	return b.Bytes()
}

// BenchmarkTokenizeLoad measures tokenizing the load generator's 10 KB
// plain-text message, the SMTP benchmark's per-message Bayes cost.
func BenchmarkTokenizeLoad(b *testing.B) {
	raw := loadMessage(10 << 10)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		Tokenize(raw)
	}
}

// TestHashMatchesTokenizer: Hash of a token's text is the value Tokenize
// yields for it, with and without a prefix.
func TestHashMatchesTokenizer(t *testing.T) {
	got := Tokenize(loadMessage(400))
	for _, want := range []string{"quick", "The", "the", "bi:quick brown", "subject:load", "from:dom:example", "hdr:subject"} {
		found := false
		for _, g := range got {
			found = found || g == Hash(want)
		}
		if !found {
			t.Errorf("token %q: got none, want Hash(%q) among %d tokens", want, want, len(got))
		}
	}
}

// TestLooksHTML: plain text is HTML when its first 4 KB hold a telltale
// tag in any case.
func TestLooksHTML(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"hello <b>world</b>", false},
		{"x <HTML><BODY>", true},
		{"<Font color=red>", true},
		{"click <A HREF=\"x\">", true},
		{"<a  href>", false},
		{"<htm", false},
		{string(bytes.Repeat([]byte("a"), 4093)) + "<html", false},
		{string(bytes.Repeat([]byte("a"), 4091)) + "<html", true},
		{"\u212a <body>", true},
	} {
		if got := looksHTML([]byte(c.in)); got != c.want {
			t.Errorf("looksHTML(%.20q...): got %v, want %v", c.in, got, c.want)
		}
	}
}

func TestShape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Mon, 1 Jul 2002 12:00:00 -0700", "a, 9 a 9 9:9:9 -9"},
		{"20020701120000.GA1234@example.com", "9.A9@a.a"},
		{"Sáb, 01 Jul 2002", "a, 9 a 9"}, // non-ASCII letters are letters: no script is told apart
		{"ABC  def", "A a"},
	} {
		if got := shape(c.in, 40); got != c.want {
			t.Errorf("shape(%q): got %q, want %q", c.in, got, c.want)
		}
	}
	for _, c := range []struct{ name, addr, want string }{
		{"JOHN SMITH", "js@example.com", "caps:2"},
		{"john", "john@example.com", "islocal"},
		{"Anna Meyer 2", "a@example.com", "mixed+digits:3"},
		{"김민수", "k@example.com", ""}, // no case: no shape token
	} {
		if got := nameShape(c.name, c.addr); got != c.want {
			t.Errorf("nameShape(%q, %q): got %q, want %q", c.name, c.addr, got, c.want)
		}
	}
}

// textRef is textTokenizer.text as first written (one rune loop per
// chunk for its marks, a search for '@' in each, words split by
// forEachWord): the reference the faster one must agree with.
func textRef(t *textTokenizer, s string) {
	for {
		for len(s) > 0 {
			sp, n := spaceAt(s)
			if !sp {
				break
			}
			s = s[n:]
		}
		if len(s) == 0 {
			break
		}
		if len(t.ts.out) >= maxTokens {
			return
		}
		end, _ := spaceEndRef(s)
		chunkRef(t, s[:end])
		s = s[end:]
	}
	t.endCaps()
}

func spaceEndRef(s string) (int, bool) {
	i, ascii := 0, true
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if asciiSpace[c] {
				return i, ascii
			}
			i++
			continue
		}
		ascii = false
		sp, n := spaceAt(s[i:])
		if sp {
			return i, ascii
		}
		i += n
	}
	return i, ascii
}

func chunkRef(t *textTokenizer, c string) {
	if hasPrefixFold(c, "http://") || hasPrefixFold(c, "https://") || hasPrefixFold(c, "www.") {
		urlTokens(t.ts, strings.TrimRight(c, ".,;:!?)>\"'"))
		t.prevEnd = 0
		return
	}
	if at := strings.IndexByte(c, '@'); at > 0 && strings.Contains(c[at:], ".") {
		d := strings.Trim(strings.ToLower(c[at+1:]), ".,;:!?<>()[]\"'")
		domainTokens(t.ts, t.prefix+"email:", d)
		t.prevEnd = 0
		return
	}
	run, last := 0, rune(0)
	for i, r := range c {
		if r == last && (r == '!' || r == '?' || r == '$' || r == '*') {
			run++
			if run == 2 {
				t.addTok(append(append(t.start(), "punct:"...), punctRuns[r]...))
			}
		} else {
			run = 0
		}
		last = r
		if r == '$' && i+1 < len(c) && c[i+1] >= '0' && c[i+1] <= '9' {
			t.addTok(append(append(t.start(), "money:"...), bucket(digitRun(c[i+1:]))...))
		}
		if r == '%' && i > 0 && c[i-1] >= '0' && c[i-1] <= '9' {
			t.addTok(append(t.start(), "pct"...))
		}
	}
	forEachWord(c, t.word) // what asciiWords does for ASCII
}

// textTokens returns the tokens text (or textRef when ref) gives s.
func textTokens(s, prefix string, ref bool) []uint64 {
	ts := setPool.Get().(*tokenSet)
	defer setPool.Put(ts)
	ts.reset()
	t := newTextTokenizer(ts, prefix)
	if ref {
		textRef(t, s)
	} else {
		t.text(s)
	}
	return slices.Clone(ts.out)
}

func sameTextTokens(t *testing.T, s string) {
	t.Helper()
	for _, prefix := range []string{"", "subject:"} {
		if got, want := textTokens(s, prefix, false), textTokens(s, prefix, true); !slices.Equal(got, want) {
			t.Fatalf("text(%.60q) with prefix %q: %d tokens differ from the reference's %d", s, prefix, len(got), len(want))
		}
	}
}

// TestTextMatchesReference: the tokenizer's text scan gives the tokens of
// its plain reference, token for token in order.
func TestTextMatchesReference(t *testing.T) {
	for _, s := range []string{
		"", " ", "The quick brown fox!!! costs $100, 50% off?? ***NOW***",
		"mail me at bo@example.org or bo@x, see http://x.example/a?b and WWW.Y.EXAMPLE.",
		"Hé ! ¿Qué? 価格は$5です 100%\u00a0無料 \u212attp://x hTTps://y ſtamp",
		"a@b.c@d. @x.y z@ !!!?? $$$1 1% %1 \xff$\xfe9",
		string(loadMessage(4000)),
	} {
		sameTextTokens(t, s)
	}
}

func FuzzTextTokens(f *testing.F) {
	f.Add("Buy NOW!!! only $99.99 (50% off) at http://shop.example or a@b.example")
	f.Add("今すぐ購入 \u00a0 hé!! www.x")
	f.Fuzz(func(t *testing.T, s string) { sameTextTokens(t, s) })
}

// TestRuneSets: the table lookups of isCJK and isWordRune answer as the
// Unicode tables do, for every rune (and a few that are not).
func TestRuneSets(t *testing.T) {
	for r := rune(-2); r <= unicode.MaxRune+2; r++ {
		cjk := r >= 0x1100 && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
			unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r))
		if got := isCJK(r); got != cjk {
			t.Fatalf("isCJK(%U): got %v, want %v", r, got, cjk)
		}
		if r >= utf8.RuneSelf {
			if got, want := isWordRune(r), unicode.IsLetter(r) || unicode.IsDigit(r); got != want {
				t.Fatalf("isWordRune(%U): got %v, want %v", r, got, want)
			}
		}
	}
}

// TestMostTellingMatchesSort: the selection returns exactly the first n
// clues of a full sort by rank, in that order, also with many ties of
// deviation (tokens break them) and for every n around the length.
func TestMostTellingMatchesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		size := r.IntN(1200)
		rs := make([]rankedClue, size)
		for i := range rs {
			d := float64(r.IntN(8)) / 20 // few distinct deviations: ties
			if trial%2 == 0 {
				d = r.Float64() / 2
			}
			f := 0.5 + d
			if r.IntN(2) == 0 {
				f = 0.5 - d
			}
			rs[i] = rankedClue{key: ^math.Float64bits(math.Abs(f - 0.5)), tok: r.Uint64(), prob: f}
		}
		want := slices.Clone(rs)
		slices.SortFunc(want, func(a, b rankedClue) int {
			da, db := math.Abs(a.prob-0.5), math.Abs(b.prob-0.5)
			switch {
			case da > db:
				return -1
			case da < db:
				return 1
			}
			return cmp.Compare(a.tok, b.tok)
		})
		for _, n := range []int{0, 1, size / 3, size - 1, size, size + 5, 500} {
			if n < 0 {
				continue
			}
			got := mostTelling(slices.Clone(rs), n)
			if w := want[:min(n, size)]; !slices.Equal(got, w) {
				t.Fatalf("trial %d, %d clues, n %d: selection differs from the sort", trial, size, n)
			}
		}
	}
}

// TestTableMatchesMap: a Table answers every token of its counts, the
// token 0 included, and zero for tokens it does not have.
func TestTableMatchesMap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	c := NewCounts()
	for i := 0; i < 5000; i++ {
		c.Tokens[r.Uint64()] = Pair{uint32(r.IntN(50)), uint32(r.IntN(50))}
	}
	c.Tokens[0] = Pair{7, 9}
	tab := NewTable(c)
	for tok, p := range c.Tokens {
		if got := tab.Get(tok); got != p {
			t.Fatalf("token %x: %v, want %v", tok, got, p)
		}
	}
	for i := 0; i < 5000; i++ {
		tok := r.Uint64()
		if got := tab.Get(tok); got != c.Tokens[tok] {
			t.Fatalf("absent token %x: %v", tok, got)
		}
	}
	if got := NewTable(NewCounts()).Get(12345); got != (Pair{}) {
		t.Errorf("empty table: %v", got)
	}
}
