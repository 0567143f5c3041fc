// Package textkeys computes the search keys both storage backends index
// instead of raw text: the distinct trigrams inside the word runs of a text.
//
// A word run is a maximal run of letters, digits and marks. Every rune is
// folded (Fold) and three consecutive runes of a run are packed into one
// positive int64, 21 bits each. Trigrams across word boundaries are left
// out: they are what makes the set large, and a needle's word runs always
// lie inside word runs of any text containing it, so the keys of a needle
// are a subset of the keys of every text that contains it (in any case
// Fold ignores). Search is then "all the needle's keys" followed by an
// exact check of the candidates; a needle with no word run of three runes
// has no keys and is checked on the rows the other conditions leave.
//
// Body keys (BodyKeys) are a sample of those keys for long texts: of every
// two consecutive trigrams of a word run, the one of lower rank (a fixed
// hash of the key), plus every trigram with a CJK rune in it. A needle's
// body keys are chosen the same way, and each pair of consecutive trigrams
// of a needle's word run is a pair of the text's, so the body keys of a
// needle are still among the body keys of any text containing it (and
// those among its Keys). About 60% of an English text's keys remain, and
// a needle needs a word run of four runes (or three with a CJK rune in
// them) to have any; the others are checked on the rows the other
// conditions leave. The rank is part of what the stores have written: a
// new rank would need every body's keys made again.
package textkeys

import (
	"slices"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Keys returns the sorted distinct keys of text.
func Keys(text string) []int64 { return sorted(set(text, false, false)) }

// LowerKeys returns Keys(strings.ToLower(text)) without making the lower
// case copy.
func LowerKeys(text string) []int64 { return sorted(set(text, true, false)) }

// BodyKeys returns the sorted distinct body keys of text (the package
// comment says which those are).
func BodyKeys(text string) []int64 { return sorted(set(text, false, true)) }

// LowerBodyKeys returns BodyKeys(strings.ToLower(text)) without making the
// lower case copy.
func LowerBodyKeys(text string) []int64 { return sorted(set(text, true, true)) }

func sorted(s *keySet) []int64 {
	keys := s.keys()
	slices.Sort(keys)
	return keys
}

// set collects the keys of text, or with lower of strings.ToLower(text):
// each rune through unicode.ToLower first (U+FFFD, not a word rune, for an
// invalid byte either way); with body, its body keys only.
func set(text string, lower, body bool) *keySet {
	s := &keySet{}
	var a, b rune       // the two runes before the current one in this word run
	var ca, cb, cr bool // whether a, b and the current rune are CJK (body keys only)
	var prev int64      // the trigram before the current one in this word run, 0 at its start
	n := 0              // runes of the current word run seen, up to 2
	for i := 0; i < len(text); {
		r := rune(asciiFold[text[i]&0x7F])
		if text[i] < utf8.RuneSelf {
			i++
			if r == 0 {
				n = 0
				continue
			}
		} else {
			var size int
			r, size = utf8.DecodeRuneInString(text[i:])
			i += size
			if lower {
				r = unicode.ToLower(r)
			}
			if !IsWordRune(r) {
				n = 0
				continue
			}
			r = Fold(r)
			cr = body && isCJK(r)
		}
		if n < 2 {
			n++
			prev = 0
		} else if k := int64(a)<<42 | int64(b)<<21 | int64(r); !body {
			s.add(k)
		} else {
			if ca || cb || cr {
				s.add(k)
			}
			if prev != 0 {
				s.add(lowerRank(prev, k))
			}
			prev = k
		}
		a, b = b, r
		ca, cb, cr = cb, cr, false
	}
	return s
}

// lowerRank returns whichever of two keys has the lower rank: a bijective
// mix of the key's bits (SplitMix64's finalizer), so keys that are equal
// rank equal and no others do.
func lowerRank(x, y int64) int64 {
	if rank(x) <= rank(y) {
		return x
	}
	return y
}

func rank(k int64) uint64 {
	x := uint64(k)
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// isCJK reports whether a folded word rune is Han, kana or Hangul: scripts
// whose words are two to four runes long, so their short needles keep
// keys.
func isCJK(r rune) bool {
	return r >= 0x1100 && unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// asciiFold maps an ASCII word rune to its folding, any other byte to 0.
var asciiFold = func() (t [128]byte) {
	for r := range rune(128) {
		if IsWordRune(r) {
			t[r] = byte(Fold(r))
		}
	}
	return t
}()

// keySet is a set of positive keys, open addressing with linear probing: a
// text repeats most of its trigrams, and adding one already present costs a
// hash and a compare.
type keySet struct {
	slots []int64 // 0: empty
	n     int
}

func (s *keySet) add(k int64) {
	if 2*(s.n+1) > len(s.slots) {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := uint64(k) * 0x9E3779B97F4A7C15 >> 32 & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case k:
			return
		case 0:
			s.slots[i] = k
			s.n++
			return
		}
	}
}

func (s *keySet) grow() {
	old := s.slots
	s.slots, s.n = make([]int64, max(256, 2*len(old))), 0
	for _, k := range old {
		if k != 0 {
			s.add(k)
		}
	}
}

func (s *keySet) keys() []int64 {
	out := make([]int64, 0, s.n)
	for _, k := range s.slots {
		if k != 0 {
			out = append(out, k)
		}
	}
	return out
}

// IsWordRune reports whether r belongs to a word run.
func IsWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// Fold maps every case variant of r to one rune (the smallest of its simple
// case folding orbit: upper case for ASCII letters, whose orbits hold the
// Kelvin sign and the long s too).
func Fold(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			r -= 'a' - 'A'
		}
		return r
	}
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	if m > 0x1FFFFF {
		m = utf8.RuneError
	}
	return m
}

// Tokens

// A key written as a token for a full-text index with an ASCII tokenizer
// (SQLite's FTS5 "ascii"): three word runes that fold to ASCII letters and
// digits are written as themselves in lower case ("abc", "x9y"); any other
// key as "x" and its base-36 value, 11 characters or more (the first rune
// of a key is at least '0', so the value is at least 48<<42). The two forms
// never collide, and both are made of ASCII letters and digits only, which
// the tokenizer keeps as one token and folds no further.

// AppendTokens appends the tokens of keys, separated by spaces.
func AppendTokens(dst []byte, keys []int64) []byte {
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = AppendToken(dst, k)
	}
	return dst
}

// AppendToken appends the token of one key.
func AppendToken(dst []byte, k int64) []byte {
	a, b, c := rune(k>>42), rune(k>>21&0x1FFFFF), rune(k&0x1FFFFF)
	if tokenRune(a) && tokenRune(b) && tokenRune(c) {
		return append(dst, lower(a), lower(b), lower(c))
	}
	return strconv.AppendInt(append(dst, 'x'), k, 36)
}

// LowerTokens returns the tokens of LowerKeys(text), space separated, in
// no particular order.
func LowerTokens(text string) string { return tokens(set(text, true, false)) }

// LowerBodyTokens returns the tokens of LowerBodyKeys(text), as LowerTokens
// does.
func LowerBodyTokens(text string) string { return tokens(set(text, true, true)) }

func tokens(s *keySet) string {
	if s.n == 0 {
		return ""
	}
	buf := make([]byte, 0, 4*s.n)
	for _, k := range s.slots {
		if k != 0 {
			if len(buf) > 0 {
				buf = append(buf, ' ')
			}
			buf = AppendToken(buf, k)
		}
	}
	return string(buf)
}

// ParseToken returns the key a token stands for.
func ParseToken(tok string) (int64, bool) {
	if len(tok) == 3 {
		var k int64
		for i := range 3 {
			r := rune(tok[i])
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			if !tokenRune(r) {
				return 0, false
			}
			k = k<<21 | int64(r)
		}
		return k, true
	}
	if len(tok) < 2 || tok[0] != 'x' {
		return 0, false
	}
	k, err := strconv.ParseInt(tok[1:], 36, 64)
	if err != nil || k>>42 < '0' || k>>21&0x1FFFFF < '0' || k&0x1FFFFF < '0' || string(AppendToken(nil, k)) != tok {
		return 0, false
	}
	return k, true
}

// tokenRune reports whether a folded rune is written as itself.
func tokenRune(r rune) bool {
	return 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}

func lower(r rune) byte {
	if 'A' <= r && r <= 'Z' {
		return byte(r + 'a' - 'A')
	}
	return byte(r)
}
