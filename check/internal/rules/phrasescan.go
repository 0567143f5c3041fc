package rules

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The phrase rules look for phrases and removePhrases in a text lowered
// as strings.ToLower does and with its white space collapsed (below; the
// tests keep this as collapseSpace and search for each phrase in
// strings.ToLower's copy, the reference). phraseScan finds them all in one pass over the text
// as it is, lowering on the way, with an Aho-Corasick automaton (a trie of
// the phrases whose missing edges go where the longest suffix read so far
// leads): one table step per byte, whatever the number of phrases and
// however many begin alike.
//
// White space: a text with a line break, a tab or two spaces in a row is
// collapsed (every run of white space one space, none at the ends), one
// without is read as it is. The phrases are single-spaced and neither
// begin nor end with a space (newPhraseAutomaton checks), so a space read
// after a space can change nothing: the automaton stays where it is on it,
// and a collapsed text is read with each white space rune as a space.

// phraseAutomaton is a deterministic Aho-Corasick automaton over bytes.
type phraseAutomaton struct {
	class  [256]uint8 // byte -> column of next; 0 for bytes in no phrase
	width  int        // columns per state
	next   []uint16   // next[state*width+class] is the state after reading a byte
	out    [][]uint16 // per state, the patterns that end there (its own and its suffixes')
	hasOut []bool     // len(out[state]) > 0, looked at per byte
	// Columns of the ASCII bytes lowered, and with white space read as a
	// space (for a collapsed text).
	lowerClass, spaceClass [utf8.RuneSelf]uint8
}

// newPhraseAutomaton builds the automaton of patterns: non-empty,
// single-spaced, neither beginning nor ending with white space.
func newPhraseAutomaton(patterns []string) *phraseAutomaton {
	a := &phraseAutomaton{width: 1}
	for _, p := range patterns {
		if p == "" || strings.TrimSpace(p) != p || strings.Contains(p, "  ") || strings.ContainsAny(p, "\t\r\n") {
			panic("rules: phrase " + strconv.Quote(p) + " is not trimmed and single-spaced")
		}
		for i := 0; i < len(p); i++ {
			if a.class[p[i]] == 0 {
				if a.width == 256 {
					panic("rules: too many distinct phrase bytes")
				}
				a.class[p[i]] = uint8(a.width)
				a.width++
			}
		}
	}
	// The trie: state 0 is the root, 0 in next means no edge yet (no edge
	// leads back to the root while the trie is built).
	a.next = make([]uint16, a.width)
	a.out = [][]uint16{nil}
	spaced := []bool{false} // the state's string ends with a space
	for id, p := range patterns {
		s := 0
		for i := 0; i < len(p); i++ {
			k := s*a.width + int(a.class[p[i]])
			if a.next[k] == 0 {
				if len(a.out) == 1<<16 {
					panic("rules: too many phrase states")
				}
				a.next[k] = uint16(len(a.out))
				a.next = append(a.next, make([]uint16, a.width)...)
				a.out = append(a.out, nil)
				spaced = append(spaced, p[i] == ' ')
			}
			s = int(a.next[k])
		}
		a.out[s] = append(a.out[s], uint16(id))
	}
	// Breadth first, each state's failure (the state of its longest proper
	// suffix) is known before its children's: a missing edge of s becomes
	// its failure's edge, and a child's failure is where its failure's
	// edge leads.
	fail := make([]int, len(a.out))
	queue := []int{}
	for c := 0; c < a.width; c++ {
		if t := int(a.next[c]); t != 0 {
			queue = append(queue, t) // depth 1: failure is the root
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		a.out[s] = append(a.out[s], a.out[fail[s]]...)
		for c := 0; c < a.width; c++ {
			k := s*a.width + c
			f := int(a.next[fail[s]*a.width+c])
			if t := int(a.next[k]); t != 0 {
				fail[t] = f
				queue = append(queue, t)
			} else {
				a.next[k] = uint16(f)
			}
		}
	}
	// A second space changes nothing (the root already stays the root on
	// a space: no phrase begins with one).
	for s, sp := range spaced {
		if sp {
			a.next[s*a.width+int(a.class[' '])] = uint16(s)
		}
	}
	a.hasOut = make([]bool, len(a.out))
	for s, o := range a.out {
		a.hasOut[s] = len(o) > 0
	}
	for c := range utf8.RuneSelf {
		l := byte(c)
		if 'A' <= l && l <= 'Z' {
			l += 'a' - 'A' // as strings.ToLower
		}
		a.lowerClass[c] = a.class[l]
		a.spaceClass[c] = a.class[l]
		if unicode.IsSpace(rune(c)) {
			a.spaceClass[c] = a.class[' ']
		}
	}
	return a
}

// phraseAuto finds phrases (ids 0..len(phrases)-1) and removePhrases
// (ids from len(phrases) on).
var phraseAuto = newPhraseAutomaton(append(append([]string{}, phrases...), removePhrases...))

// phraseScan records the phrases and remove phrases found in text, lowered
// and with its white space collapsed (see phraseAutomaton): non-ASCII
// runes are read lowered by unicode.ToLower, invalid bytes as U+FFFD, as
// strings.ToLower writes them.
func (r *result) phraseScan(text string) {
	a := phraseAuto
	collapse := strings.ContainsAny(text, "\r\n\t") || strings.Contains(text, "  ")
	classes := &a.lowerClass
	if collapse {
		classes = &a.spaceClass
	}
	s, found := 0, false
	for i := 0; i < len(text); {
		if i, s, found = a.runASCII(text, i, s, classes); found {
			r.phraseFound(a.out[s])
			continue
		}
		if i == len(text) {
			break
		}
		c, n := utf8.DecodeRuneInString(text[i:])
		i += n
		if collapse && unicode.IsSpace(c) {
			c = ' '
		}
		var buf [utf8.UTFMax]byte
		for _, b := range utf8.AppendRune(buf[:0], unicode.ToLower(c)) {
			if s = int(a.next[s*a.width+int(a.class[b])]); a.hasOut[s] {
				r.phraseFound(a.out[s])
			}
		}
	}
}

// runASCII steps from state s through the ASCII bytes of text from i on
// (read through classes) until one ends a pattern (found), a byte is not
// ASCII or the text ends. It returns where it stopped (after the
// pattern's last byte, at the non-ASCII byte) and the state. (The loop
// that does most of the work, kept apart from the rare paths.)
func (a *phraseAutomaton) runASCII(text string, i, s int, classes *[utf8.RuneSelf]uint8) (int, int, bool) {
	next, width, hasOut := a.next, a.width, a.hasOut
	for ; i < len(text); i++ {
		c := text[i]
		if c >= utf8.RuneSelf {
			return i, s, false
		}
		if s = int(next[s*width+int(classes[c])]); hasOut[s] {
			return i + 1, s, true
		}
	}
	return i, s, false
}

// phraseFound records the patterns ids of phraseAuto.
func (r *result) phraseFound(ids []uint16) {
	for _, id := range ids {
		if int(id) >= len(phrases) {
			r.hit(RemovePhrase)
			continue
		}
		if r.phrases == nil {
			r.phrases = map[string]bool{}
		}
		r.phrases[phrases[id]] = true
	}
}
