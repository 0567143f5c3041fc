// Package bayes is the statistical core of Stamp's spam filter: a
// message-independent tokenizer, token counts with a compact binary
// encoding, and a Robinson/Fisher classifier (Gary Robinson, "A Statistical
// Approach to the Spam Problem", 2003; Paul Graham, "A Plan for Spam", 2002).
//
// It is internal to check so that the model generator (check/internal/genmodel)
// and the judge tokenize mail the same way.
//
// A token is a 64-bit hash of its text (Hash): the tokenizer builds each
// token in a reused buffer and keeps only its hash, and models store the
// hashes. Encodings of the older string-keyed format ("SB1") still decode:
// their tokens are hashed on the way in.
package bayes

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
)

// ErrBadEncoding is returned by Decode for data that is not a model.
var ErrBadEncoding = errors.New("bayes: bad model encoding")

const (
	// magic starts the current encoding: sorted token hashes.
	magic = "SB2\n"
	// magicStrings starts the older encoding with token strings.
	magicStrings = "SB1\n"
)

// Constants of the token hash (odd 64-bit values with well-mixed bits).
const (
	hashSeed = 0xa0761d6478bd642f
	hashK1   = 0xe7037ed1a0b428db
	hashK2   = 0x8ebc6af09c88c6e3
)

// Hash returns the token of text s: a 64-bit hash of its bytes, the one
// the tokenizer computes for the tokens it builds.
func Hash(s string) uint64 { return hashOf(s) }

// mix is the 128-bit product of a and b folded to 64 bits.
func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// hashOf hashes s eight bytes at a time (a multiply-fold hash in the style
// of wyhash: fast on short strings, deterministic across runs and machines).
func hashOf[T string | []byte](s T) uint64 {
	h := uint64(hashSeed) ^ uint64(len(s))*hashK2
	for len(s) >= 8 {
		v := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		h = mix(h^hashK1, v^hashK2)
		s = s[8:]
	}
	var v uint64
	for i := len(s) - 1; i >= 0; i-- {
		v = v<<8 | uint64(s[i])
	}
	h = mix(h^hashK1, v^hashK2)
	return mix(h^hashSeed, hashK1)
}

// Params are the classifier's tuning knobs. The defaults (DefaultParams)
// were chosen by 5-fold cross-validation on the training groups only (see
// check/internal/genmodel -cv).
type Params struct {
	// S and X are Robinson's strength and assumed probability: a token seen
	// n times has f(w) = (S*X + n*p(w)) / (S + n).
	S, X float64
	// MinDev skips tokens whose f(w) is closer than this to 0.5.
	MinDev float64
	// Interesting is how many of the most extreme tokens are combined.
	Interesting int
}

// DefaultParams returns the cross-validated parameters.
func DefaultParams() Params {
	return Params{S: 0.45, X: 0.7, MinDev: 0.1, Interesting: 500}
}

// Counts is the training state: per-token document counts for spam and
// ham, and how many spam and ham messages were trained.
type Counts struct {
	Spam, Ham uint32
	Tokens    map[uint64]Pair // by token hash
}

// Pair is how many spam and ham messages contained one token.
type Pair struct{ Spam, Ham uint32 }

// NewCounts returns empty counts.
func NewCounts() *Counts { return &Counts{Tokens: map[uint64]Pair{}} }

// Add trains one message's token set as spam or ham.
func (c *Counts) Add(tokens []uint64, spam bool) {
	if spam {
		c.Spam++
	} else {
		c.Ham++
	}
	for _, t := range tokens {
		p := c.Tokens[t]
		if spam {
			p.Spam++
		} else {
			p.Ham++
		}
		c.Tokens[t] = p
	}
}

// Prune drops tokens seen in fewer than min messages in total.
func (c *Counts) Prune(min uint32) {
	for t, p := range c.Tokens {
		if p.Spam+p.Ham < min {
			delete(c.Tokens, t)
		}
	}
}

// Encode writes the counts compactly: a magic line, then uvarints (the
// totals, the token count, and per token in ascending order the difference
// from the previous hash and the two counts), gzipped. The output depends on
// the counts only.
func (c *Counts) Encode() []byte {
	keys := make([]uint64, 0, len(c.Tokens))
	for t := range c.Tokens {
		keys = append(keys, t)
	}
	slices.Sort(keys)
	raw := make([]byte, 0, 16+len(keys)*8)
	raw = binary.AppendUvarint(raw, uint64(c.Spam))
	raw = binary.AppendUvarint(raw, uint64(c.Ham))
	raw = binary.AppendUvarint(raw, uint64(len(keys)))
	prev := uint64(0)
	for _, k := range keys {
		p := c.Tokens[k]
		raw = binary.AppendUvarint(raw, k-prev)
		raw = binary.AppendUvarint(raw, uint64(p.Spam))
		raw = binary.AppendUvarint(raw, uint64(p.Ham))
		prev = k
	}
	var out bytes.Buffer
	out.WriteString(magic)
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	zw.Write(raw)
	zw.Close()
	return out.Bytes()
}

// maxDecoded bounds the uncompressed size of an encoding Decode accepts
// (the shared model is under 4 MB; a user's training is capped far below).
const maxDecoded = 64 << 20

// Decode parses counts written by Encode, or by the older string-keyed
// encoding (whose tokens it hashes).
func Decode(b []byte) (*Counts, error) {
	var strs bool
	switch {
	case bytes.HasPrefix(b, []byte(magic)):
	case bytes.HasPrefix(b, []byte(magicStrings)):
		strs = true
	default:
		return nil, ErrBadEncoding
	}
	zr, err := gzip.NewReader(bytes.NewReader(b[len(magic):]))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadEncoding, err)
	}
	raw, err := io.ReadAll(io.LimitReader(zr, maxDecoded+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadEncoding, err)
	}
	if len(raw) > maxDecoded {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrBadEncoding, maxDecoded)
	}
	if strs {
		return decodeStrings(raw)
	}
	d := uvarints{b: raw}
	c := &Counts{Spam: uint32(d.next()), Ham: uint32(d.next())}
	n := d.next()
	if d.bad || n > 1<<24 || n > uint64(len(raw)) {
		return nil, fmt.Errorf("%w: header", ErrBadEncoding)
	}
	c.Tokens = make(map[uint64]Pair, n)
	prev := uint64(0)
	for i := uint64(0); i < n; i++ {
		k := prev + d.next()
		s, h := d.next(), d.next()
		if d.bad || (i > 0 && k <= prev) {
			return nil, fmt.Errorf("%w: token %d", ErrBadEncoding, i)
		}
		c.Tokens[k] = Pair{Spam: uint32(s), Ham: uint32(h)}
		prev = k
	}
	return c, nil
}

// uvarints reads uvarints from b, remembering the first failure.
type uvarints struct {
	b   []byte
	bad bool
}

func (d *uvarints) next() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad = true
		d.b = nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

// decodeStrings parses the body of the older encoding: tokens as
// length-prefixed strings in sorted order, shared prefixes elided.
func decodeStrings(raw []byte) (*Counts, error) {
	d := uvarints{b: raw}
	c := NewCounts()
	c.Spam = uint32(d.next())
	c.Ham = uint32(d.next())
	n := d.next()
	if d.bad || n > 1<<24 {
		return nil, fmt.Errorf("%w: header", ErrBadEncoding)
	}
	var prev []byte
	for i := uint64(0); i < n; i++ {
		common, rest := d.next(), d.next()
		if d.bad || common > uint64(len(prev)) || rest > 1<<10 || rest > uint64(len(d.b)) {
			return nil, fmt.Errorf("%w: token %d", ErrBadEncoding, i)
		}
		prev = append(prev[:common], d.b[:rest]...)
		d.b = d.b[rest:]
		s, h := d.next(), d.next()
		if d.bad {
			return nil, fmt.Errorf("%w: token %d", ErrBadEncoding, i)
		}
		k := hashOf(prev)
		p := c.Tokens[k]
		c.Tokens[k] = Pair{Spam: p.Spam + uint32(s), Ham: p.Ham + uint32(h)}
	}
	return c, nil
}

// Model is a classifier over a shared starting model and one user's own
// training, the shared counts weighted by SharedWeight (0 means 1) and the
// user's by UserWeight.
type Model struct {
	Shared, User *Counts
	// SharedTable, when set, is NewTable(Shared), used for its look-ups.
	SharedTable  *Table
	UserWeight   float64
	SharedWeight float64
	// Params tunes the classifier; the zero value means DefaultParams.
	Params Params
}

// Clue is one token's contribution to a score.
type Clue struct {
	Token uint64 // the token's hash
	Prob  float64
}

func (m *Model) sharedWeight() float64 {
	if m.SharedWeight == 0 {
		return 1
	}
	return m.SharedWeight
}

// Totals returns the weighted numbers of spam and ham messages trained.
func (m *Model) Totals() (spam, ham float64) {
	w := m.sharedWeight()
	if m.Shared != nil {
		spam, ham = w*float64(m.Shared.Spam), w*float64(m.Shared.Ham)
	}
	if m.User != nil {
		spam += m.UserWeight * float64(m.User.Spam)
		ham += m.UserWeight * float64(m.User.Ham)
	}
	return
}

// counts returns the (weighted) spam and ham document counts of tok.
func (m *Model) counts(tok uint64) (s, h float64) {
	if m.Shared != nil {
		var p Pair
		if m.SharedTable != nil {
			p = m.SharedTable.Get(tok)
		} else {
			p = m.Shared.Tokens[tok]
		}
		w := m.sharedWeight()
		s, h = w*float64(p.Spam), w*float64(p.Ham)
	}
	if m.User != nil {
		u := m.User.Tokens[tok]
		s += m.UserWeight * float64(u.Spam)
		h += m.UserWeight * float64(u.Ham)
	}
	return s, h
}

// Prob is Robinson's f(w) for a token found in s of nSpam spam and h of
// nHam ham messages: Graham's per-token probability computed from the
// two classes' frequencies (so unbalanced training stays neutral), pulled
// toward p.X when the token is rare. ok is false for an unseen token.
func Prob(s, h, nSpam, nHam float64, p Params) (f float64, ok bool) {
	if s+h == 0 || nSpam == 0 || nHam == 0 {
		return 0.5, false
	}
	sr := math.Min(1, s/nSpam)
	hr := math.Min(1, h/nHam)
	pw := sr / (sr + hr)
	n := s + h
	return (p.S*p.X + n*pw) / (p.S + n), true
}

// Score returns the probability (0..1) that a message with these tokens is
// spam and the clues used.
func (m *Model) Score(tokens []uint64) (float64, []Clue) {
	p := m.Params
	if p.Interesting == 0 {
		p = DefaultParams()
	}
	nSpam, nHam := m.Totals()
	ranked := make([]rankedClue, 0, len(tokens))
	for _, t := range tokens {
		s, h := m.counts(t)
		if f, ok := Prob(s, h, nSpam, nHam, p); ok {
			if d := math.Abs(f - 0.5); d >= p.MinDev {
				ranked = append(ranked, rankedClue{key: ^math.Float64bits(d), tok: t, prob: f})
			}
		}
	}
	ranked = mostTelling(ranked, p.Interesting)
	clues := make([]Clue, len(ranked))
	probs := make([]float64, len(ranked))
	for i, r := range ranked {
		clues[i], probs[i] = Clue{r.tok, r.prob}, r.prob
	}
	return Combine(probs), clues
}

// rankedClue is a clue with its rank: key is the bitwise complement of
// |f - 0.5| (IEEE bits of a non-negative float order as the float does),
// so that ordering by (key, tok) ascending puts the most telling clue
// first and breaks ties by token, the order Score has always used.
type rankedClue struct {
	key, tok uint64
	prob     float64
}

func (a rankedClue) less(b rankedClue) bool {
	return a.key < b.key || a.key == b.key && a.tok < b.tok
}

// mostTelling returns the n first of rs in rank order (all of them, if
// fewer), sorted: a selection (quickselect by the same total order; tokens
// are distinct) puts them first, then only they are sorted, instead of
// sorting every clue of a long message.
func mostTelling(rs []rankedClue, n int) []rankedClue {
	if len(rs) > n {
		lo, hi := 0, len(rs)-1
		for lo < hi {
			// Median of three as the pivot, moved to hi.
			mid := lo + (hi-lo)/2
			if rs[mid].less(rs[lo]) {
				rs[mid], rs[lo] = rs[lo], rs[mid]
			}
			if rs[hi].less(rs[lo]) {
				rs[hi], rs[lo] = rs[lo], rs[hi]
			}
			if rs[mid].less(rs[hi]) {
				rs[mid], rs[hi] = rs[hi], rs[mid]
			}
			pivot := rs[hi]
			i := lo
			for j := lo; j < hi; j++ {
				if rs[j].less(pivot) {
					rs[i], rs[j] = rs[j], rs[i]
					i++
				}
			}
			rs[i], rs[hi] = rs[hi], rs[i]
			switch {
			case i == n:
				lo = hi // rs[:n] are the n first
			case i < n:
				lo = i + 1
			default:
				hi = i - 1
			}
		}
		rs = rs[:n]
	}
	slices.SortFunc(rs, func(a, b rankedClue) int {
		switch {
		case a.less(b):
			return -1
		case b.less(a):
			return 1
		}
		return 0
	})
	return rs
}

// Combine is Fisher's chi-square combination (Robinson's "chi" method as
// SpamBayes uses it) of token probabilities: the mean of the evidence for
// spam and against ham, 0.5 for none or for strong evidence both ways.
func Combine(probs []float64) float64 {
	if len(probs) == 0 {
		return 0.5
	}
	// Probabilities are kept inside [1e-6, 1-1e-6] so that no single
	// token decides alone.
	var lnHam, lnSpam float64
	for _, f := range probs {
		f = math.Min(1-1e-6, math.Max(1e-6, f))
		lnHam += math.Log(1 - f)
		lnSpam += math.Log(f)
	}
	n := 2 * len(probs)
	s := 1 - chi2Q(-2*lnHam, n) // evidence for spam
	h := 1 - chi2Q(-2*lnSpam, n)
	return (1 + s - h) / 2
}

// chi2Q is the probability that a chi-square variable with v (even)
// degrees of freedom exceeds x2: the Poisson tail sum exp(-m) * m^i / i!
// for i < v/2, with m = x2/2, summed in log space so that strong evidence
// over many tokens does not underflow.
func chi2Q(x2 float64, v int) float64 {
	m := x2 / 2
	if m <= 0 {
		return 1
	}
	logM := math.Log(m)
	// The largest term is at i = floor(m) (or the last one).
	k := math.Min(math.Floor(m), float64(v/2-1))
	lg, _ := math.Lgamma(k + 1)
	maxLog := -m + k*logM - lg
	var sum float64
	logTerm := -m
	for i := 0; i < v/2; i++ {
		if i > 0 {
			logTerm += logM - math.Log(float64(i))
		}
		sum += math.Exp(logTerm - maxLog)
	}
	return math.Min(1, math.Exp(maxLog)*sum)
}
