package message

import (
	"strings"
	"testing"
)

// fieldsSnippet is snippet as the obvious strings.Fields loop, which reads
// all of s: the reference the streaming snippet must agree with.
func fieldsSnippet(s string, n int) string {
	var out []rune
	for _, w := range strings.Fields(s) {
		if len(out) >= n {
			break
		}
		if len(out) > 0 {
			out = append(out, ' ')
		}
		for _, r := range w {
			if len(out) >= n {
				break
			}
			out = append(out, r)
		}
	}
	return string(out)
}

// TestSnippetCollapsesSpace: snippet joins words with one space and keeps n
// characters, as the Fields-based reference does.
func TestSnippetCollapsesSpace(t *testing.T) {
	for _, s := range []string{
		"", "   ", "one", "  one  two\r\n\tthree  ", "abc def", "abcd efgh", "abc  de",
		"caf\u00e9 \u00fcber\u00a0na\u00efve", "x\xffy z", strings.Repeat("word ", 100),
	} {
		for _, n := range []int{0, 1, 3, 4, 5, 7, 8, 200} {
			if got, want := snippet(s, n), fieldsSnippet(s, n); got != want {
				t.Errorf("snippet(%q, %d): got %q, want %q", s, n, got, want)
			}
		}
	}
}
