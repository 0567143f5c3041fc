package rules

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stamp-mail/stamp/check/internal/corpus"
)

// The text scans of the rules as they were written first, plainly: the
// references the faster ones must agree with on every input.

func caseCountRef(s string) (upper, cased int) {
	for _, c := range s {
		switch {
		case unicode.IsUpper(c):
			upper++
			cased++
		case unicode.IsLower(c):
			cased++
		}
	}
	return
}

func visibleLenRef(s string) int {
	n := 0
	for _, c := range s {
		if !unicode.IsSpace(c) && !unicode.IsPunct(c) {
			n += utf8.RuneLen(c)
		}
	}
	return n
}

func indexFoldRef(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i]|0x20 != sub[0]|0x20 && s[i] != sub[0] {
			continue
		}
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

func looksHTMLRef(s string) bool {
	if len(s) > 4096 {
		s = s[:4096]
	}
	for _, m := range []string{"<html", "<body", "<font", "<a href", "<table", "<p>", "<br>"} {
		if indexFoldRef(s, m) >= 0 {
			return true
		}
	}
	return false
}

func spelledOutRef(w string) bool {
	w = strings.TrimRight(w, ".,!?:;")
	if len(w) < 9 {
		return false
	}
	sep := w[1]
	if sep != '.' && sep != '-' && sep != '*' && sep != '_' {
		return false
	}
	n := 0
	for i := 0; i < len(w); i++ {
		if i%2 == 0 {
			if !isWordByte(w[i]) {
				return false
			}
			n++
		} else if w[i] != sep {
			return false
		}
	}
	return n >= 5 && len(w)%2 == 1
}

func digitsForLettersRef(w string) bool {
	if len(w) < 5 || len(w) > 20 {
		return false
	}
	letters := 0
	for i := 0; i < len(w); i++ {
		c := w[i]
		switch {
		case c >= 'a' && c <= 'z':
			letters++
		case c == '0' || c == '1' || c == '3':
		default:
			return false
		}
	}
	if letters < 4 {
		return false
	}
	for i := 1; i+1 < len(w); i++ {
		if c := w[i]; (c == '0' || c == '1' || c == '3') && w[i-1] >= 'a' && w[i+1] >= 'a' {
			return true
		}
	}
	return false
}

func obfuscatedRef(s string) bool {
	if len(s) > 64<<10 {
		s = s[:64<<10]
	}
	singles := 0
	for w := range strings.FieldsSeq(s) {
		if r, size := utf8.DecodeRuneInString(w); size == len(w) && isLatinLetter(r) {
			singles++
			if singles >= 6 {
				return true
			}
			continue
		}
		singles = 0
		if spelledOutRef(w) || digitsForLettersRef(w) || mixedScripts(w) {
			return true
		}
	}
	return false
}

// sameScans fails when a scan of s differs from its reference.
func sameScans(t *testing.T, s string) {
	t.Helper()
	v, u, c := letterCounts(s)
	if wu, wc := caseCountRef(s); u != wu || c != wc {
		t.Fatalf("letterCounts(%.40q): upper and cased %d %d, want caseCount's %d %d", s, u, c, wu, wc)
	}
	if want := visibleLenRef(s); v != want {
		t.Fatalf("letterCounts(%.40q): visible %d, want visibleLen's %d", s, v, want)
	}
	if got, want := looksHTML(s), looksHTMLRef(s); got != want {
		t.Fatalf("looksHTML(%.40q): got %v, want %v", s, got, want)
	}
	for _, sub := range []string{"http", "</style", "</script", "<a href", "k", "s"} {
		if got, want := indexFold(s, sub), indexFoldRef(s, sub); got != want {
			t.Fatalf("indexFold(%.40q, %q): got %d, want %d", s, sub, got, want)
		}
	}
	if got, want := obfuscated(s), obfuscatedRef(s); got != want {
		t.Fatalf("obfuscated(%.40q): got %v, want %v", s, got, want)
	}
	var fields []string
	for rest := s; ; {
		f := nextField(rest)
		if f.start == f.end {
			break
		}
		w := rest[f.start:f.end]
		if f.ascii != isASCII(w) || f.digits != strings.ContainsAny(w, "013") {
			t.Fatalf("nextField(%.40q): %q ascii %v digits %v", rest, w, f.ascii, f.digits)
		}
		fields = append(fields, w)
		rest = rest[f.end:]
	}
	if want := strings.Fields(s); !slices.Equal(fields, want) {
		t.Fatalf("nextField(%.40q): fields %q, want %q", s, fields, want)
	}
	for _, w := range fields {
		if got, want := spelledOut(w), spelledOutRef(w); got != want {
			t.Fatalf("spelledOut(%q): got %v, want %v", w, got, want)
		}
		if got, want := digitsForLetters(w), digitsForLettersRef(w); got != want {
			t.Fatalf("digitsForLetters(%q): got %v, want %v", w, got, want)
		}
	}
}

// TestScansMatchReference: the rules' text scans agree with their plain
// references on the own set and on the cases that are easy to get wrong
// (case folding outside ASCII, invalid UTF-8, matches at the ends).
func TestScansMatchReference(t *testing.T) {
	for _, m := range corpus.Generate() {
		sameScans(t, string(m.Raw))
	}
	for _, s := range []string{
		"", "h", "HTTP", "xhttP://a", "\u212aeep \u017ftyle", "</\u017fcript>", "</scrip", "\xff<HTML>", "<\xe2\x84\xaaa",
		"f.r.e.e.e!!", "v1agra m0ney 1abcd abcd1 ab3cd", "a b c d e f", "a b c d e", " \u00a0x\u3000y\u0085 ", "v-i-a-g-r-a", "a.b.c.d.e.,", "x.y", "ÀÉÎ õü ß ǅ", "\x1chtml <\x1chtml", "<P><bR>",
		strings.Repeat("a", 4091) + "<html", strings.Repeat("a", 4092) + "<html", "a\u00a0b\u2003c\x00d",
		strings.Repeat("Ab, ", 600_000), // past letterCountsASCII's 1 MB runs
	} {
		sameScans(t, s)
	}
}

func FuzzScans(f *testing.F) {
	f.Add("See HTTP://x.example <Font size=7> \u212a f.r.e.e.e")
	f.Add("<\xe2\x84\xaa\xff http")
	f.Fuzz(func(t *testing.T, s string) { sameScans(t, s) })
}
