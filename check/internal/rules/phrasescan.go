package rules

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The phrase rules look for phrases and removePhrases in a text lowered
// as strings.ToLower does and with its white space collapsed as
// collapseSpace does. phraseScan finds them all in one pass over the text
// as it is, lowering and collapsing on the way, with an Aho-Corasick
// automaton (a trie of the phrases whose missing edges go where the
// longest suffix read so far leads): one table step per byte, whatever
// the number of phrases and however many begin alike.

// phraseAutomaton is a deterministic Aho-Corasick automaton over bytes.
type phraseAutomaton struct {
	class  [256]uint8 // byte -> column of next; 0 for bytes in no phrase
	width  int        // columns per state
	next   []uint16   // next[state*width+class] is the state after reading a byte
	out    [][]uint16 // per state, the patterns that end there (its own and its suffixes')
	hasOut []bool     // len(out[state]) > 0, looked at per byte
}

// newPhraseAutomaton builds the automaton of patterns (non-empty).
func newPhraseAutomaton(patterns []string) *phraseAutomaton {
	a := &phraseAutomaton{width: 1}
	for _, p := range patterns {
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
	a.hasOut = make([]bool, len(a.out))
	for s, o := range a.out {
		a.hasOut[s] = len(o) > 0
	}
	return a
}

// phraseAuto finds phrases (ids 0..len(phrases)-1) and removePhrases
// (ids from len(phrases) on).
var phraseAuto = newPhraseAutomaton(append(append([]string{}, phrases...), removePhrases...))

// lowerASCII lowers an ASCII byte as strings.ToLower does.
var lowerASCII = func() (t [utf8.RuneSelf]byte) {
	for c := range t {
		t[c] = byte(c)
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = byte(c + 'a' - 'A')
	}
	return t
}()

// asciiSpace marks the ASCII bytes unicode.IsSpace accepts.
var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// phraseScan records the phrases and remove phrases found in
// collapseSpace(strings.ToLower(text)). It reads the text once, as is: the
// automaton is fed each byte lowered (non-ASCII runes through
// unicode.ToLower, invalid bytes as U+FFFD, as strings.ToLower writes
// them) and, when collapseSpace would collapse, each run of white space
// as one ' ' (the phrases neither begin nor end with a space, so the
// spaces collapseSpace trims at the ends match nothing).
func (r *result) phraseScan(text string) {
	a := phraseAuto
	collapse := strings.ContainsAny(text, "\r\n\t") || strings.Contains(text, "  ")
	s, inSpace := 0, false
	step := func(c byte) {
		s = int(a.next[s*a.width+int(a.class[c])])
		if a.hasOut[s] {
			r.phraseFound(a.out[s])
		}
	}
	for i := 0; i < len(text); {
		if c := text[i]; c < utf8.RuneSelf {
			i++
			if collapse && asciiSpace[c] {
				if !inSpace {
					inSpace = true
					step(' ')
				}
				continue
			}
			inSpace = false
			step(lowerASCII[c])
			continue
		}
		c, n := utf8.DecodeRuneInString(text[i:])
		i += n
		if collapse && unicode.IsSpace(c) {
			if !inSpace {
				inSpace = true
				step(' ')
			}
			continue
		}
		inSpace = false
		var buf [utf8.UTFMax]byte
		for _, b := range utf8.AppendRune(buf[:0], unicode.ToLower(c)) {
			step(b)
		}
	}
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
