package storage

import (
	"strings"
	"testing"
	"unicode"
)

// TestContainsFoldEveryRune checks, for every rune, that a text of that
// rune contains its case variants exactly when strings.ToLower says so:
// the candidate starts ContainsFold looks for must include every rune that
// folds to the needle's first rune.
func TestContainsFoldEveryRune(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if caseless := unicode.SimpleFold(r) == r && unicode.ToLower(r) == r && unicode.ToUpper(r) == r; caseless && r%61 != 0 {
			continue // a sample of the runes without case is enough
		}
		text := "x" + string(r) + "y"
		for _, v := range []rune{r, unicode.ToLower(r), unicode.ToUpper(r), unicode.SimpleFold(r)} {
			needle := string(v) + "y"
			want := strings.Contains(strings.ToLower(text), strings.ToLower(needle))
			if got := ContainsFold(text, needle); got != want {
				t.Fatalf("ContainsFold(%q, %q) = %v, want %v", text, needle, got, want)
			}
		}
	}
}

// FuzzContainsFold checks ContainsFold against its definition: CaseFold of
// the text contains CaseFold of the needle.
func FuzzContainsFold(f *testing.F) {
	for _, c := range [][2]string{
		{"The Quick brown fox", "QUICK B"},
		{"Größe ÄRGER straße", "ärger"},
		{"\u212Aelvin", "kelvin"},
		{"İstanbul", "istanbul"},
		{"日本語のテキスト", "テキスト"},
		{"bad \xff byte", "\xfe byte"},
		{"a\x00b", "\x00"},
		{"", "x"},
		{"x", ""},
	} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, text, needle string) {
		want := strings.Contains(strings.ToLower(text), strings.ToLower(needle))
		if got := ContainsFold(text, needle); got != want {
			t.Fatalf("ContainsFold(%q, %q) = %v, want %v", text, needle, got, want)
		}
	})
}

func BenchmarkContainsFold(b *testing.B) {
	text := strings.Repeat("Die Größe des Pakets war über dem Grenzwert, la qualité était très bonne. ", 20)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		ContainsFold(text, "quarterly")
	}
}
