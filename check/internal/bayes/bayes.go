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
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message"
)

// ErrBadEncoding is returned by Decode for data that is not a model.
var ErrBadEncoding = errors.New("bayes: bad model encoding")

const (
	magic = "SB1\n"

	// maxTextBytes bounds how much decoded text of one message is tokenized.
	maxTextBytes = 256 << 10
	// maxTokens bounds the distinct tokens taken from one message.
	maxTokens   = 3000
	minTokenLen = 3
	maxTokenLen = 24

	// minDeviation skips tokens whose probability is too close to 0.5 to matter.
	minDeviation = 0.1
	// Interesting is how many of the most extreme tokens are combined (Graham used 15).
	Interesting = 20
	// Alpha is the Laplace pseudo-count of spam messages holding any token.
	Alpha = 1.0
	// strength (s) and assumed (x) are Robinson's prior for rare tokens.
	strength = 1.0
	assumed  = 0.5
)

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

// prob is Robinson's f(w): the Graham probability that a message containing
// the token is spam, pulled toward assumed when the token is rare.
func (m *Model) prob(tok string, nSpam, nHam float64) (float64, bool) {
	p := m.Shared.Tokens[tok]
	s, h := float64(p.Spam), float64(p.Ham)
	if m.User != nil {
		u := m.User.Tokens[tok]
		s += m.UserWeight * float64(u.Spam)
		h += m.UserWeight * float64(u.Ham)
	}
	if s+h == 0 {
		return 0, false
	}
	// Laplace smoothing: a corpus of a few hundred spams cannot show that a
	// token never occurs in spam, only that it is rarer than 1 in nSpam.
	// The ham pseudo-count is scaled by the class ratio so that an unseen
	// token stays neutral however unbalanced the training is.
	r := 1.0
	if nSpam > 0 && nHam > 0 {
		r = nHam / nSpam
	}
	sr := math.Min(1, (s+Alpha)/(nSpam+2*Alpha))
	hr := math.Min(1, (h+Alpha*r)/(nHam+2*Alpha*r))
	pw := sr / (sr + hr)
	n := s + h
	f := (strength*assumed + n*pw) / (strength + n)
	return math.Min(0.9999, math.Max(0.0001, f)), true
}

// Score returns the probability (0..1) that a message with these tokens is
// spam, combining the Interesting most extreme token probabilities with
// Fisher's chi-square method, and the clues used.
func (m *Model) Score(tokens []string) (float64, []Clue) {
	nSpam, nHam := m.totals()
	var clues []Clue
	for _, t := range tokens {
		if f, ok := m.prob(t, nSpam, nHam); ok && math.Abs(f-0.5) >= minDeviation {
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
	if len(clues) > Interesting {
		clues = clues[:Interesting]
	}
	if len(clues) == 0 {
		return 0.5, nil
	}
	var lnHam, lnSpam float64
	for _, c := range clues {
		lnHam += math.Log(1 - c.Prob)
		lnSpam += math.Log(c.Prob)
	}
	n := 2 * len(clues)
	s := 1 - chi2Q(-2*lnHam, n) // evidence for spam
	h := 1 - chi2Q(-2*lnSpam, n)
	return (1 + s - h) / 2, clues
}

// chi2Q is the probability that a chi-square variable with v (even)
// degrees of freedom exceeds x2.
func chi2Q(x2 float64, v int) float64 {
	m := x2 / 2
	sum := math.Exp(-m)
	term := sum
	for i := 1; i < v/2; i++ {
		term *= m / float64(i)
		sum += term
	}
	return math.Min(sum, 1)
}

// Tokenize returns the distinct tokens of a raw RFC 5322 message: Subject,
// From and To header words with a prefix ("subject:", "from:", "to:"),
// the content types of non-text parts ("ct:"), and words of the decoded text
// parts (HTML markup included: tag names are telling).
func Tokenize(raw []byte) []string {
	seen := map[string]struct{}{}
	var out []string
	add := func(t string) {
		if len(out) >= maxTokens {
			return
		}
		if _, ok := seen[t]; !ok {
			seen[t] = struct{}{}
			out = append(out, t)
		}
	}
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	if bytes.HasPrefix(raw, []byte("From ")) { // mbox separator line
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		}
	}
	e, err := message.Read(bytes.NewReader(raw))
	if e == nil {
		// Unparseable header: treat everything as text.
		words(string(limit(raw)), "", add)
		return out
	}
	_ = err // unknown charsets still yield a readable entity
	for _, h := range []struct{ key, prefix string }{{"Subject", "subject:"}, {"From", "from:"}, {"To", "to:"}, {"Reply-To", "reply-to:"}, {"X-Mailer", "mailer:"}} {
		v, derr := e.Header.Text(h.key)
		if derr != nil {
			v = e.Header.Get(h.key)
		}
		words(v, h.prefix, add)
	}
	budget := maxTextBytes
	walkErr := e.Walk(func(path []int, part *message.Entity, err error) error {
		if part == nil {
			return nil
		}
		ct, params, _ := part.Header.ContentType()
		if ct == "" {
			ct = "text/plain"
		}
		if cs := params["charset"]; cs != "" {
			add("charset:" + strings.ToLower(cs))
		}
		if cte := part.Header.Get("Content-Transfer-Encoding"); cte != "" {
			add("cte:" + strings.ToLower(strings.TrimSpace(cte)))
		}
		if strings.HasPrefix(ct, "multipart/") {
			add("ct:" + ct)
			return nil
		}
		if !strings.HasPrefix(ct, "text/") {
			add("ct:" + ct)
			return nil
		}
		if budget <= 0 {
			return nil
		}
		b, _ := io.ReadAll(io.LimitReader(part.Body, int64(budget)))
		budget -= len(b)
		if ct == "text/html" {
			add("x:html")
			htmlWords(string(b), add)
		} else {
			words(string(b), "", add)
		}
		return nil
	})
	if walkErr != nil {
		add("x:badmime")
	}
	return out
}

// htmlWords tokenizes the text of an HTML part: markup is dropped (its
// boilerplate says nothing about the sender) except link targets, whose
// words are prefixed "url:".
func htmlWords(s string, add func(string)) {
	var text strings.Builder
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			text.WriteString(s)
			break
		}
		text.WriteString(s[:i])
		text.WriteByte(' ')
		s = s[i:]
		end := ">"
		if strings.HasPrefix(s, "<!--") {
			end = "-->"
		}
		j := strings.Index(s, end)
		if j < 0 {
			break
		}
		tag := s[:j]
		s = s[j+len(end):]
		lower := strings.ToLower(tag)
		for _, attr := range []string{"href=", "src="} {
			if k := strings.Index(lower, attr); k >= 0 {
				v := strings.TrimLeft(tag[k+len(attr):], "\"' ")
				if e := strings.IndexAny(v, "\"' >"); e >= 0 {
					v = v[:e]
				}
				if u, ok := strings.CutPrefix(strings.ToLower(v), "http://"); ok {
					v = u
				} else if u, ok := strings.CutPrefix(strings.ToLower(v), "https://"); ok {
					v = u
				}
				if e := strings.IndexAny(v, "/?#"); e >= 0 {
					v = v[:e]
				}
				words(v, "url:", add)
			}
		}
	}
	t := text.String()
	for _, ent := range []string{"&nbsp;", "&amp;", "&lt;", "&gt;", "&quot;"} {
		t = strings.ReplaceAll(t, ent, " ")
	}
	words(t, "", add)
}

func limit(b []byte) []byte {
	if len(b) > maxTextBytes {
		return b[:maxTextBytes]
	}
	return b
}

// words splits s into lower-cased tokens of letters, digits and a few
// joiners ('-', '$', '\”, '!'), as Graham's tokenizer does.
func words(s, prefix string, add func(string)) {
	isTok := func(r rune) bool {
		return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '$' || r == '\'' || r == '!'
	}
	start := -1
	emit := func(end int) {
		t := strings.Trim(s[start:end], "-'")
		if n := utf8.RuneCountInString(t); n >= minTokenLen && n <= maxTokenLen && !allDigits(t) {
			add(prefix + strings.ToLower(t))
		}
	}
	for i, r := range s {
		if isTok(r) {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			emit(i)
			start = -1
		}
	}
	if start >= 0 {
		emit(len(s))
	}
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
