// Package bayes is the statistical core of Stamp's spam filter: a
// message-independent tokenizer, token counts with a compact binary
// encoding, and a Robinson/Fisher classifier (Gary Robinson, "A Statistical
// Approach to the Spam Problem", 2003; Paul Graham, "A Plan for Spam", 2002).
//
// It is internal to check so that the model generator (check/internal/genmodel)
// and the judge tokenize mail the same way.
package bayes

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
)

// ErrBadEncoding is returned by Decode for data that is not a model.
var ErrBadEncoding = errors.New("bayes: bad model encoding")

const magic = "SB1\n"

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
	return Params{S: 0.1, X: 0.6, MinDev: 0.3, Interesting: 50}
}

// Counts is the training state: per-token document counts for spam and
// ham, and how many spam and ham messages were trained.
type Counts struct {
	Spam, Ham uint32
	Tokens    map[string]Pair
}

// Pair is how many spam and ham messages contained one token.
type Pair struct{ Spam, Ham uint32 }

// NewCounts returns empty counts.
func NewCounts() *Counts { return &Counts{Tokens: map[string]Pair{}} }

// Add trains one message's token set as spam or ham.
func (c *Counts) Add(tokens []string, spam bool) {
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

// Encode writes the counts compactly: a magic line, then uvarints and
// length-prefixed tokens in sorted order (shared prefixes elided), gzipped.
func (c *Counts) Encode() []byte {
	keys := make([]string, 0, len(c.Tokens))
	for t := range c.Tokens {
		keys = append(keys, t)
	}
	sort.Strings(keys)
	var raw bytes.Buffer
	var tmp [binary.MaxVarintLen64]byte
	put := func(v uint64) { raw.Write(tmp[:binary.PutUvarint(tmp[:], v)]) }
	put(uint64(c.Spam))
	put(uint64(c.Ham))
	put(uint64(len(keys)))
	prev := ""
	for _, k := range keys {
		common := 0
		for common < len(prev) && common < len(k) && prev[common] == k[common] {
			common++
		}
		put(uint64(common))
		put(uint64(len(k) - common))
		raw.WriteString(k[common:])
		p := c.Tokens[k]
		put(uint64(p.Spam))
		put(uint64(p.Ham))
		prev = k
	}
	var out bytes.Buffer
	out.WriteString(magic)
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	zw.Write(raw.Bytes())
	zw.Close()
	return out.Bytes()
}

// Decode parses counts written by Encode.
func Decode(b []byte) (*Counts, error) {
	if !bytes.HasPrefix(b, []byte(magic)) {
		return nil, ErrBadEncoding
	}
	zr, err := gzip.NewReader(bytes.NewReader(b[len(magic):]))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadEncoding, err)
	}
	br := bufio.NewReader(zr)
	get := func() uint64 {
		v, e := binary.ReadUvarint(br)
		if e != nil && err == nil {
			err = e
		}
		return v
	}
	c := NewCounts()
	c.Spam = uint32(get())
	c.Ham = uint32(get())
	n := get()
	if err != nil || n > 1<<24 {
		return nil, fmt.Errorf("%w: header", ErrBadEncoding)
	}
	prev := ""
	for i := uint64(0); i < n; i++ {
		common, rest := get(), get()
		if err != nil || common > uint64(len(prev)) || rest > 1<<10 {
			return nil, fmt.Errorf("%w: token %d", ErrBadEncoding, i)
		}
		buf := make([]byte, rest)
		if _, e := io.ReadFull(br, buf); e != nil {
			return nil, fmt.Errorf("%w: token %d: %v", ErrBadEncoding, i, e)
		}
		k := prev[:common] + string(buf)
		s, h := get(), get()
		if err != nil {
			return nil, fmt.Errorf("%w: token %d: %v", ErrBadEncoding, i, err)
		}
		c.Tokens[k] = Pair{Spam: uint32(s), Ham: uint32(h)}
		prev = k
	}
	return c, nil
}

// Model is a classifier over a shared starting model and one user's own
// training, the user's counts weighted by UserWeight.
type Model struct {
	Shared, User *Counts
	UserWeight   float64
	// Params tunes the classifier; the zero value means DefaultParams.
	Params Params
}

// Clue is one token's contribution to a score.
type Clue struct {
	Token string
	Prob  float64
}

func (m *Model) totals() (spam, ham float64) {
	spam, ham = float64(m.Shared.Spam), float64(m.Shared.Ham)
	if m.User != nil {
		spam += m.UserWeight * float64(m.User.Spam)
		ham += m.UserWeight * float64(m.User.Ham)
	}
	return
}

// counts returns the (weighted) spam and ham document counts of tok.
func (m *Model) counts(tok string) (s, h float64) {
	p := m.Shared.Tokens[tok]
	s, h = float64(p.Spam), float64(p.Ham)
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
func (m *Model) Score(tokens []string) (float64, []Clue) {
	p := m.Params
	if p.Interesting == 0 {
		p = DefaultParams()
	}
	nSpam, nHam := m.totals()
	clues := make([]Clue, 0, len(tokens))
	for _, t := range tokens {
		s, h := m.counts(t)
		if f, ok := Prob(s, h, nSpam, nHam, p); ok && math.Abs(f-0.5) >= p.MinDev {
			clues = append(clues, Clue{t, f})
		}
	}
	sort.Slice(clues, func(i, j int) bool {
		di, dj := math.Abs(clues[i].Prob-0.5), math.Abs(clues[j].Prob-0.5)
		if di != dj {
			return di > dj
		}
		return clues[i].Token < clues[j].Token
	})
	if len(clues) > p.Interesting {
		clues = clues[:p.Interesting]
	}
	probs := make([]float64, len(clues))
	for i, c := range clues {
		probs[i] = c.Prob
	}
	return Combine(probs), clues
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
