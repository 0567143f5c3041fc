package main

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/stamp-mail/stamp/check/internal/bayes"
	"github.com/stamp-mail/stamp/check/internal/corpus"
	"github.com/stamp-mail/stamp/check/internal/rules"
)

// example is one tokenized training message.
type example struct {
	group  string
	spam   bool
	tokens []uint64
	topic  string // see topicOf
}

// loadTraining tokenizes the training groups in a fixed order (group name,
// then file name), so that fold assignment is deterministic.
func loadTraining(dir string) ([]example, error) {
	groups := make([]string, 0, len(trainGroups))
	for g := range trainGroups {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	var out []example
	for _, g := range groups {
		files, _ := filepath.Glob(filepath.Join(dir, g, "*.txt"))
		if len(files) == 0 {
			return nil, fmt.Errorf("no messages in %s", filepath.Join(dir, g))
		}
		sort.Strings(files)
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			out = append(out, example{group: g, spam: trainGroups[g], tokens: trainTokens(raw, rules.TraceTime(raw)), topic: topicOf(raw)})
		}
	}
	for _, m := range corpus.Generate() {
		if !m.HeldOut {
			out = append(out, example{group: "own-" + m.Lang, spam: m.Spam, tokens: trainTokens(m.Raw, time.Time{}), topic: topicOf(m.Raw)})
		}
	}
	return out, nil
}

// trainTokens are the tokens a training message is learned by: its words
// (bayes.GeneralTokens only) and the tokens of the rules it fires
// (rules.Tokens), as check scores a message; arrived as for rules.Check
// (a SpamAssassin message arrives when its newest Received says, one of
// the own set is not asked the Date rules).
func trainTokens(raw []byte, arrived time.Time) []uint64 {
	return append(bayes.TokenizeFiltered(raw, bayes.GeneralTokens), rules.Tokens(rules.Check(raw, arrived, noDeadline))...)
}

// heldToken is one token of a held-out message with its counts in the
// fold's training part.
type heldToken struct{ s, h float32 }

// heldMsg is one message scored in cross-validation.
type heldMsg struct {
	group       string
	spam        bool
	nSpam, nHam float64
	tokens      []heldToken
	sortedProbs []float64 // scratch: f(w) of the kept tokens, most extreme first
}

// cvSetting is one point of the parameter grid.
type cvSetting struct {
	p        bayes.Params
	minCount int
}

// cvResult is how one setting did over all folds.
type cvResult struct {
	cvSetting
	threshold         float64 // raw score from which mail is junk
	recall, hamJunk   float64
	hardHamJunk       float64
	easyHamJunk       float64
	precision         float64
	recallAt0, hamAt0 float64 // at the raw score 0.5 (no tuning)
}

// crossValidate runs k-fold cross-validation over the training examples
// for every setting of the grid, picking for each the lowest threshold
// that sends at most maxHamJunk of the ham to Junk, and writes a report;
// it returns the setting with the best recall.
func crossValidate(w io.Writer, ex []example, k int, maxHamJunk float64) cvResult {
	// Stratified folds: the i-th message of each group goes to fold i mod k.
	fold := assignFolds(ex, k)
	held := make([]heldMsg, 0, len(ex))
	for f := 0; f < k; f++ {
		c := bayes.NewCounts()
		for i, e := range ex {
			if fold[i] != f {
				c.Add(e.tokens, e.spam)
			}
		}
		for i, e := range ex {
			if fold[i] != f {
				continue
			}
			m := heldMsg{group: e.group, spam: e.spam, nSpam: float64(c.Spam), nHam: float64(c.Ham)}
			for _, t := range e.tokens {
				if p, ok := c.Tokens[t]; ok {
					m.tokens = append(m.tokens, heldToken{float32(p.Spam), float32(p.Ham)})
				}
			}
			held = append(held, m)
		}
	}

	var results []cvResult
	scores := make([]float64, len(held))
	for _, minCount := range []int{1, 2, 3} {
		for _, s := range []float64{0.1, 0.25, 0.45} {
			for _, x := range []float64{0.5, 0.6, 0.7} {
				base := bayes.Params{S: s, X: x}
				for i := range held {
					m := &held[i]
					m.sortedProbs = m.sortedProbs[:0]
					for _, t := range m.tokens {
						if int(t.s+t.h) < minCount {
							continue
						}
						p, _ := bayes.Prob(float64(t.s), float64(t.h), m.nSpam, m.nHam, base)
						m.sortedProbs = append(m.sortedProbs, p)
					}
					sort.Slice(m.sortedProbs, func(a, b int) bool {
						return math.Abs(m.sortedProbs[a]-0.5) > math.Abs(m.sortedProbs[b]-0.5)
					})
				}
				for _, minDev := range []float64{0.1, 0.2, 0.3} {
					for _, n := range []int{50, 150, 300, 500, 1000} {
						p := bayes.Params{S: s, X: x, MinDev: minDev, Interesting: n}
						for i := range held {
							probs := held[i].sortedProbs
							cut := len(probs)
							for j, q := range probs {
								if math.Abs(q-0.5) < minDev {
									cut = j
									break
								}
							}
							probs = probs[:min(cut, n)]
							scores[i] = bayes.Combine(probs)
						}
						results = append(results, evaluate(held, scores, cvSetting{p, minCount}, maxHamJunk))
					}
				}
			}
		}
	}
	sort.SliceStable(results, func(a, b int) bool {
		if results[a].recall != results[b].recall {
			return results[a].recall > results[b].recall
		}
		return results[a].recallAt0 > results[b].recallAt0
	})
	fmt.Fprintf(w, "%d-fold cross-validation on %d training messages, ham-to-junk at most %.4f; best 15 of %d settings:\n",
		k, len(held), maxHamJunk, len(results))
	fmt.Fprintln(w, "   S    X  mindev  n  min | threshold    recall  ham-junk (easy  hard)  precision | at 0.5: recall ham-junk")
	for _, r := range results[:min(15, len(results))] {
		fmt.Fprintf(w, "%4.2f %4.2f %5.2f %4d %3d | %.8f  %.4f  %.4f  (%.4f %.4f)  %.4f  | %.4f %.4f\n",
			r.p.S, r.p.X, r.p.MinDev, r.p.Interesting, r.minCount, r.threshold, r.recall, r.hamJunk,
			r.easyHamJunk, r.hardHamJunk, r.precision, r.recallAt0, r.hamAt0)
	}
	return results[0]
}

// minThreshold is the lowest raw score cross-validation may pick as the
// junk threshold: the classifier must lean clearly to spam (0.5 is "no
// evidence either way"), so that unknown or weakly known mail stays in
// INBOX whatever the recall below it would be.
const minThreshold = 0.6

// evaluate picks the lowest threshold keeping ham-to-junk within
// maxHamJunk and measures the setting there.
func evaluate(held []heldMsg, scores []float64, set cvSetting, maxHamJunk float64) cvResult {
	var ham []float64
	for i, m := range held {
		if !m.spam {
			ham = append(ham, scores[i])
		}
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(ham)))
	allowed := int(math.Floor(maxHamJunk * float64(len(ham))))
	thr := minThreshold
	if allowed < len(ham) {
		// Just above the (allowed+1)-th highest ham score.
		thr = math.Max(minThreshold, math.Nextafter(ham[allowed], 2))
	}
	r := cvResult{cvSetting: set, threshold: thr}
	count := func(t float64) (tp, fp, spam, hamN, hard, hardN int) {
		for i, m := range held {
			junk := scores[i] >= t
			switch {
			case m.spam:
				spam++
				if junk {
					tp++
				}
			default:
				hamN++
				if junk {
					fp++
				}
				if strings.HasPrefix(m.group, "hard") {
					hardN++
					if junk {
						hard++
					}
				}
			}
		}
		return
	}
	tp, fp, spam, hamN, hard, hardN := count(r.threshold)
	r.recall = float64(tp) / float64(spam)
	r.hamJunk = float64(fp) / float64(hamN)
	r.hardHamJunk = float64(hard) / float64(max(hardN, 1))
	r.easyHamJunk = float64(fp-hard) / float64(max(hamN-hardN, 1))
	r.precision = float64(tp) / float64(max(tp+fp, 1))
	tp0, fp0, _, _, _, _ := count(0.5)
	r.recallAt0 = float64(tp0) / float64(spam)
	r.hamAt0 = float64(fp0) / float64(hamN)
	return r
}

// assignFolds puts messages of one topic (see topicOf) in one fold, the
// topics of each group dealt round-robin in order of first appearance: a
// campaign's copies or a thread's replies are then never on both sides of
// a split, so cross-validation measures how the model does on mail it
// has not seen the like of (as held-out mail is) rather than on near
// copies of its training.
func assignFolds(ex []example, k int) []int { return assignFoldsSeed(ex, k, 0) }

// assignFoldsSeed is assignFolds with the topics of each group dealt in
// another order for each seed (seed 0: order of first appearance; others:
// ordered by a hash of seed and topic), so that repeats split differently.
func assignFoldsSeed(ex []example, k int, seed uint64) []int {
	type topicKey struct {
		key   string
		order uint64
	}
	keyOf := func(i int) string {
		if ex[i].topic == "" {
			return ex[i].group + "\x00#" + strconv.Itoa(i) // a topic of its own
		}
		return ex[i].group + "\x00" + ex[i].topic
	}
	groups := map[string][]topicKey{}
	seen := map[string]bool{}
	for i, e := range ex {
		key := keyOf(i)
		if seen[key] {
			continue
		}
		seen[key] = true
		order := uint64(len(groups[e.group]))
		if seed != 0 {
			h := fnv.New64a()
			fmt.Fprintf(h, "%d\x00%s", seed, key)
			order = h.Sum64()
		}
		groups[e.group] = append(groups[e.group], topicKey{key, order})
	}
	topicFold := map[string]int{}
	for _, keys := range groups {
		sort.SliceStable(keys, func(a, b int) bool { return keys[a].order < keys[b].order })
		for j, tk := range keys {
			topicFold[tk.key] = j % k
		}
	}
	fold := make([]int, len(ex))
	for i := range ex {
		fold[i] = topicFold[keyOf(i)]
	}
	return fold
}

// topicOf is a message's subject reduced to its words: lower case, reply
// and forward prefixes, list tags, digits and punctuation removed.
func topicOf(raw []byte) string {
	h, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ""
	}
	// Decoded before lower-casing: base64 encoded-words are case-sensitive.
	s := h.Header.Get("Subject")
	if d, err := new(mime.WordDecoder).DecodeHeader(s); err == nil {
		s = d
	}
	s = strings.ToLower(s)
	var words []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }) {
		switch w {
		case "re", "fw", "fwd", "aw", "sv", "tr", "wg":
			continue
		}
		words = append(words, w)
	}
	if len(words) == 0 {
		return ""
	}
	// A [list] tag is a word too; drop the first when the subject had one.
	if strings.Contains(s, "[") && len(words) > 1 {
		if i := strings.IndexByte(s, '['); i >= 0 && i < 8 {
			words = words[1:]
		}
	}
	return strings.Join(words, " ")
}
