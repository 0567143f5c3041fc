package main

import (
	"bytes"
	"fmt"
	"go/format"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/stamp-mail/stamp/check/internal/bayes"
	"github.com/stamp-mail/stamp/check/internal/corpus"
	"github.com/stamp-mail/stamp/check/internal/rules"
)

// noDeadline: training takes the time it takes.
var noDeadline time.Time

// ruleExample is one training message with its tokens and rule hits.
type ruleExample struct {
	example
	hits []string
}

// loadRuleTraining is loadTraining plus the rules each message fires; a
// SpamAssassin message arrives when its newest Received says it did, one
// of the own set when it was written (no Date rule is asked about it).
func loadRuleTraining(dir string) ([]ruleExample, error) {
	groups := make([]string, 0, len(trainGroups))
	for g := range trainGroups {
		groups = append(groups, g)
	}
	sort.Strings(groups)
	var out []ruleExample
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
			out = append(out, ruleExample{example{group: g, spam: trainGroups[g],
				tokens: bayes.TokenizeFiltered(raw, bayes.GeneralTokens), topic: topicOf(raw)},
				rules.Check(raw, rules.TraceTime(raw), noDeadline)})
		}
	}
	for _, m := range corpus.Generate() {
		if !m.HeldOut {
			out = append(out, ruleExample{example{group: "own-ham", spam: m.Spam,
				tokens: bayes.TokenizeFiltered(m.Raw, bayes.GeneralTokens), topic: topicOf(m.Raw)},
				rules.Check(m.Raw, time.Time{}, noDeadline)})
			if m.Spam {
				out[len(out)-1].group = "own-spam"
			}
		}
	}
	return out, nil
}

// ruleWeights computes every rule's points from the examples whose
// index passes use.
func ruleWeights(ex []ruleExample, use func(i int) bool, scale, maxRule float64) map[string]float64 {
	type gc struct{ hits, n int }
	counts := map[string]map[string]int{}
	sizes := map[string]int{}
	for i, e := range ex {
		if !use(i) {
			continue
		}
		g := e.group
		if e.spam {
			g = "spam"
		}
		sizes[g]++
		if counts[g] == nil {
			counts[g] = map[string]int{}
		}
		for _, h := range e.hits {
			counts[g][h]++
		}
	}
	w := map[string]float64{}
	for _, n := range rules.Names {
		var ham [][2]int
		for g, size := range sizes {
			if g != "spam" {
				ham = append(ham, [2]int{counts[g][n], size})
			}
		}
		if p := rules.Weigh(counts["spam"][n], sizes["spam"], ham, scale, maxRule); p > 0 {
			w[n] = p
		}
	}
	return w
}

// bayesPointsCV mirrors check's bayesPoints and bayesSignal (threshold
// 5 points, junk alone from bayesJunkAt, ham evidence at most -4, at least
// 5 telling words).
func bayesPointsCV(p float64, clues int, hamCap float64) float64 {
	const junkAt, threshold = 0.6083, 5.0
	if clues < 5 {
		return 0
	}
	if p < 0.5 {
		return math.Max(hamCap, hamCap*logit(p)/logit(0.01))
	}
	return math.Min(8, threshold*logit(p)/logit(junkAt))
}

// crossValidateRules finds Scale, MaxRule and MaxTotal, and how far
// Bayes's evidence of ham may go (hamCap): 5-fold
// cross-validation in which each fold's Bayes model and rule points come
// from the other folds only.
func crossValidateRules(w io.Writer, ex []ruleExample, k, minCount int, maxHamJunk float64) (scale, maxRule, maxTotal, hamCap float64) {
	plain := make([]example, len(ex))
	for i, e := range ex {
		plain[i] = e.example
	}
	fold := assignFolds(plain, k)
	probs := make([]float64, len(ex))
	nclues := make([]int, len(ex))
	for f := 0; f < k; f++ {
		c := bayes.NewCounts()
		for i, e := range ex {
			if fold[i] != f {
				c.Add(e.tokens, e.spam)
			}
		}
		c.Prune(uint32(minCount))
		m := bayes.Model{Shared: c, SharedWeight: 1}
		for i, e := range ex {
			if fold[i] == f {
				p, clues := m.Score(e.tokens)
				probs[i], nclues[i] = p, len(clues)
			}
		}
	}
	type res struct {
		scale, maxRule, maxTotal, hamCap float64
		recall, hamJunk, own, hard       float64
		recallBayes, hamJunkBayes        float64
	}
	var all []res
	bayesPts := make([]float64, len(ex))
	for _, hc := range []float64{-4, -3, -2} {
		for i := range ex {
			bayesPts[i] = bayesPointsCV(probs[i], nclues[i], hc)
		}
		for _, sc := range []float64{0.5, 0.75, 1, 1.25, 1.5, 2, 2.5, 3} {
			for _, mr := range []float64{1, 1.5, 2, 2.5, 3, 4} {
				weights := make([]map[string]float64, k)
				for f := range k {
					weights[f] = ruleWeights(ex, func(i int) bool { return fold[i] != f }, sc, mr)
				}
				for _, mt := range []float64{3, 4, 5, 6, 8, 10, 12} {
					var tp, tpB, nS, fp, fpB, nH, fpOwn, nOwn, fpHard, nHard int
					for i, e := range ex {
						pts, _ := rules.Score(e.hits, weights[fold[i]], mt)
						junk := bayesPts[i]+pts >= 5
						if e.spam {
							nS++
							if junk {
								tp++
							}
							if bayesPts[i] >= 5 {
								tpB++
							}
							continue
						}
						nH++
						if junk {
							fp++
						}
						if bayesPts[i] >= 5 {
							fpB++
						}
						switch e.group {
						case "own-ham":
							nOwn++
							if junk {
								fpOwn++
							}
						case "hard-ham-1":
							nHard++
							if junk {
								fpHard++
							}
						}
					}
					all = append(all, res{sc, mr, mt, hc, float64(tp) / float64(nS), float64(fp) / float64(nH),
						float64(fpOwn) / float64(max(nOwn, 1)), float64(fpHard) / float64(max(nHard, 1)), float64(tpB) / float64(nS), float64(fpB) / float64(nH)})
				}
			}
		}
	}
	sort.SliceStable(all, func(a, b int) bool {
		// Within the ham budget, or adding no ham to Junk beyond Bayes alone.
		ok := func(r res) bool { return r.hamJunk <= math.Max(maxHamJunk, r.hamJunkBayes) && r.own <= maxHamJunk }
		okA, okB := ok(all[a]), ok(all[b])
		if okA != okB {
			return okA
		}
		if all[a].recall != all[b].recall {
			return all[a].recall > all[b].recall
		}
		return all[a].hamJunk < all[b].hamJunk
	})
	fmt.Fprintf(w, "%d-fold cross-validation of the rules with Bayes, %d training messages (ham to Junk at most %.4f, or no more than Bayes alone, overall; at most that on the own set):\n", k, len(ex), maxHamJunk)
	fmt.Fprintln(w, "hamcap scale maxrule maxtotal | recall (bayes alone) ham-junk (bayes alone) own-ham hard-ham")
	for _, r := range all[:min(12, len(all))] {
		fmt.Fprintf(w, "%4.1f %5.2f %7.1f %8.1f | %.4f (%.4f) %.4f (%.4f) %.4f %.4f\n", r.hamCap, r.scale, r.maxRule, r.maxTotal, r.recall, r.recallBayes, r.hamJunk, r.hamJunkBayes, r.own, r.hard)
	}
	b := all[0]
	return b.scale, b.maxRule, b.maxTotal, b.hamCap
}

// writeRuleTable writes rules' Points table from all the training data.
func writeRuleTable(path string, ex []ruleExample, scale, maxRule, maxTotal float64) error {
	w := ruleWeights(ex, func(int) bool { return true }, scale, maxRule)
	var b bytes.Buffer
	b.WriteString("// Code generated by go run ./check/internal/genmodel -rules; DO NOT EDIT.\n\npackage rules\n\n")
	fmt.Fprintf(&b, "// Chosen by cross-validation (see Points).\nconst (\n\tScale = %v\n\tMaxRule = %v\n\tMaxTotal = %v\n)\n\n", scale, maxRule, maxTotal)
	b.WriteString("// Points: see points.go.\nvar Points = map[string]float64{\n")
	for _, n := range rules.Names {
		if p, ok := w[n]; ok {
			fmt.Fprintf(&b, "\t\t%q: %.1f,\n", n, p)
		} else {
			fmt.Fprintf(&b, "\t\t// %s: 0 (as common in legitimate mail)\n", n)
		}
	}
	b.WriteString("}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		return err
	}
	return os.WriteFile(path, src, 0o644)
}
