package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"

	"github.com/stamp-mail/stamp/check/internal/rules"
)

// Fitting the rules' points jointly with Bayes (-fit). Each rule's
// likelihood ratio (ruleWeights) counts a rule as if nothing else were
// known of the message; but a rule that fires on spam Bayes already
// catches adds nothing, and one that fires on the spam Bayes misses is
// worth more. SpamAssassin fits its rule scores together for this reason
// (its perceptron, "score masses"). Here a logistic regression is fitted,
// on the training folds, to
//
//	logit P(spam) = a*bayesPoints + sum_r w_r*hit_r + c
//
// with w_r >= 0 (a rule is evidence of spam or of nothing) and an L2
// penalty on w; a rule's points are then w_r/a, in the units of Bayes's
// points, times a multiplier m. Only rules that are rarer in every
// legitimate group than in spam (ruleWeights > 0) may have points, so the
// rules legitimate newsletters and receipts trip stay at 0 whatever the
// fit finds. The penalty, m, MaxRule, MaxTotal and Bayes's ham cap are
// chosen by the same grouped cross-validation as crossValidateRules, the
// logistic fit of each fold made on the other folds only.

// fitExample is one message as the fit sees it.
type fitExample struct {
	bayes float64
	hits  []int // indices into the fitted rule list
	spam  bool
}

// fitLogistic fits a, c and w >= 0 by gradient descent on the mean
// log-loss, spam and ham weighted to count equally, plus l2/2*|w|^2.
func fitLogistic(xs []fitExample, nRules int, l2, hamCost float64) (a, c float64, w []float64) {
	w = make([]float64, nRules)
	var nS, nH float64
	for _, x := range xs {
		if x.spam {
			nS++
		} else {
			nH++
		}
	}
	if nS == 0 || nH == 0 {
		return 1, 0, w
	}
	wS, wH := 1/nS, hamCost/nH
	a = 1
	gw := make([]float64, nRules)
	// Adam: the features are on different scales (bayes points up to 8,
	// hits 0/1) and a few rules fire rarely.
	const lr, b1, b2, eps = 0.05, 0.9, 0.999, 1e-8
	mw, vw := make([]float64, nRules), make([]float64, nRules)
	var ma, va, mc, vc float64
	for it := 1; it <= 1500; it++ {
		var ga, gc float64
		clear(gw)
		for _, x := range xs {
			z := a*x.bayes + c
			for _, h := range x.hits {
				z += w[h]
			}
			p := 1 / (1 + math.Exp(-z))
			var g float64
			if x.spam {
				g = (p - 1) * wS
			} else {
				g = p * wH
			}
			ga += g * x.bayes
			gc += g
			for _, h := range x.hits {
				gw[h] += g
			}
		}
		for r := range w {
			gw[r] += l2 * w[r]
		}
		t := float64(it)
		step := func(g float64, m, v *float64) float64 {
			*m = b1**m + (1-b1)*g
			*v = b2**v + (1-b2)*g*g
			mh := *m / (1 - math.Pow(b1, t))
			vh := *v / (1 - math.Pow(b2, t))
			return lr * mh / (math.Sqrt(vh) + eps)
		}
		a -= step(ga, &ma, &va)
		c -= step(gc, &mc, &vc)
		for r := range w {
			w[r] = math.Max(0, w[r]-step(gw[r], &mw[r], &vw[r]))
		}
	}
	return a, c, w
}

// fittedPoints turns a fit into rule points (by name): w_r/a times m, at
// most maxRule, rounded to a tenth, only for eligible rules.
func fittedPoints(names []string, a float64, w []float64, m, maxRule float64) map[string]float64 {
	pts := map[string]float64{}
	if a <= 0 {
		return pts
	}
	for r, n := range names {
		if p := math.Min(maxRule, math.Round(10*m*w[r]/a)/10); p > 0 {
			pts[n] = p
		}
	}
	return pts
}

// fitInputs builds the fit's examples from the rule examples, the Bayes
// points of each, and the rules that may have points (eligible).
func fitInputs(ex []ruleExample, bayesPts []float64, use func(i int) bool, eligible map[string]bool) ([]fitExample, []string) {
	var names []string
	idx := map[string]int{}
	for _, n := range rules.Names {
		if eligible[n] {
			idx[n] = len(names)
			names = append(names, n)
		}
	}
	var xs []fitExample
	for i, e := range ex {
		if !use(i) {
			continue
		}
		x := fitExample{bayes: bayesPts[i], spam: e.spam}
		for _, h := range e.hits {
			if r, ok := idx[h]; ok {
				x.hits = append(x.hits, r)
			}
		}
		xs = append(xs, x)
	}
	return xs, names
}

// fitResult is one setting of the fit's grid over all folds.
type fitResult struct {
	l2, hamCost, m, maxRule, maxTotal, hamCap float64
	junkAt                                    float64
	recall, hamJunk, own, hard                float64
	recallBayes, hamJunkBayes                 float64
	recallSA                                  float64 // recall on spam-1 alone (the own spam left out)
}

// crossValidateFit chooses the fit's settings by repeated grouped k-fold
// cross-validation (see the comment at the top of this file) and returns
// them; the report goes to w.
func crossValidateFit(w io.Writer, ex []ruleExample, k, minCount int, maxHamJunk float64) fitResult {
	runs := newCVRuns(ex, k, minCount)
	var all []fitResult
	for _, hc := range []float64{-3, -2} { // not below -3: see crossValidateRules
		bayesPts := runs.bayesPoints(hc, bayesJunkAt)
		for _, l2 := range []float64{0, 0.0001, 0.001} {
			for _, hcost := range []float64{1, 4, 16, 64} {
				// Each fold's fit and eligibility from the other folds.
				type foldFit struct {
					names []string
					a     float64
					w     []float64
				}
				fits := make([][]foldFit, len(runs))
				for r, run := range runs {
					fits[r] = make([]foldFit, k)
					for f := range k {
						use := func(i int) bool { return run.fold[i] != f }
						eligible := map[string]bool{}
						for n := range ruleWeights(ex, use, 1, 100) {
							eligible[n] = true
						}
						xs, names := fitInputs(ex, bayesPts[r], use, eligible)
						a, _, wt := fitLogistic(xs, len(names), l2, hcost)
						fits[r][f] = foldFit{names, a, wt}
					}
				}
				for _, m := range []float64{0.5, 1, 1.5, 2, 3, 4} {
					for _, mr := range []float64{2, 3, 4, 6} {
						weights := make([][]map[string]float64, len(runs))
						for r := range runs {
							weights[r] = make([]map[string]float64, k)
							for f := range k {
								ff := fits[r][f]
								weights[r][f] = fittedPoints(ff.names, ff.a, ff.w, m, mr)
							}
						}
						for _, mt := range []float64{4, 6, 8, 10} {
							all = append(all, runs.score(ex, bayesPts, weights, mt,
								fitResult{l2: l2, hamCost: hcost, m: m, maxRule: mr, maxTotal: mt, hamCap: hc}))
						}
					}
				}
			}
		}
	}
	sortResults(all, maxHamJunk)
	fmt.Fprintf(w, "%d-fold cross-validation (%d repeats) of the rules fitted with Bayes (logistic), %d training messages (ham to Junk at most %.4f overall and on the own set):\n", k, len(runs), len(ex), maxHamJunk)
	fmt.Fprintln(w, "hamcap     l2 hamcost    m maxrule maxtotal | recall (bayes alone) ham-junk (bayes alone) own-ham hard-ham spam-1")
	for _, r := range all[:min(12, len(all))] {
		fmt.Fprintf(w, "%4.1f %8.5f %4.0f %4.2f %7.1f %8.1f | %.4f (%.4f) %.4f (%.4f) %.4f %.4f %.4f\n", r.hamCap, r.l2, r.hamCost, r.m, r.maxRule, r.maxTotal, r.recall, r.recallBayes, r.hamJunk, r.hamJunkBayes, r.own, r.hard, r.recallSA)
	}
	return all[0]
}

// sortResults puts the best setting first: within the ham budget
// overall and on the own set, then the highest recall, then the least ham
// to Junk.
func sortResults(all []fitResult, maxHamJunk float64) {
	sort.SliceStable(all, func(a, b int) bool {
		ok := func(r fitResult) bool {
			return r.hamJunk <= maxHamJunk && r.own <= maxHamJunk
		}
		okA, okB := ok(all[a]), ok(all[b])
		if okA != okB {
			return okA
		}
		if sortSA && all[a].recallSA != all[b].recallSA {
			return all[a].recallSA > all[b].recallSA
		}
		if all[a].recall != all[b].recall {
			return all[a].recall > all[b].recall
		}
		return all[a].hamJunk < all[b].hamJunk
	})
}

// sortSA: experiment, rank by recall on spam-1 alone.
var sortSA = os.Getenv("GENMODEL_SORT_SA") != ""

// cvRun is one grouped k-fold split with every example's out-of-fold
// Bayes score.
type cvRun struct {
	fold   []int
	probs  []float64
	nclues []int
}

// cvRuns are repeats of grouped cross-validation with different splits:
// with a few hundred spam, which topics share a fold moves a setting's
// recall by a percent, so settings are compared over several splits.
type cvRuns []cvRun

// cvRepeats is how many splits cvRuns makes (GENMODEL_REPEATS overrides
// it, for experiments).
var cvRepeats = func() int {
	if n, err := strconv.Atoi(os.Getenv("GENMODEL_REPEATS")); err == nil && n > 0 {
		return n
	}
	return 3
}()

// newCVRuns makes the splits and scores every example out of fold with
// Bayes.
func newCVRuns(ex []ruleExample, k, minCount int) cvRuns {
	plain := make([]example, len(ex))
	for i, e := range ex {
		plain[i] = e.example
	}
	runs := make(cvRuns, cvRepeats)
	for r := range runs {
		fold := assignFoldsSeed(plain, k, uint64(r))
		probs, nclues := outOfFoldBayes(ex, fold, k, minCount)
		runs[r] = cvRun{fold, probs, nclues}
	}
	return runs
}

// bayesPoints is every run's Bayes points with ham evidence capped at hc.
func (runs cvRuns) bayesPoints(hc, junkAt float64) [][]float64 {
	out := make([][]float64, len(runs))
	for r, run := range runs {
		out[r] = make([]float64, len(run.probs))
		for i := range run.probs {
			out[r][i] = bayesPointsCV(run.probs[i], run.nclues[i], hc, junkAt)
		}
	}
	return out
}

// score measures one setting over all runs: each example scored with its
// fold's rule points (weights[run][fold]) plus its out-of-fold Bayes
// points, junk from 5.
func (runs cvRuns) score(ex []ruleExample, bayesPts [][]float64, weights [][]map[string]float64, maxTotal float64, r fitResult) fitResult {
	var tp, tpB, nS, fp, fpB, nH, fpOwn, nOwn, fpHard, nHard, tpSA, nSA int
	for ri, run := range runs {
		for i, e := range ex {
			b := bayesPts[ri][i]
			pts, _ := rules.Score(e.hits, weights[ri][run.fold[i]], maxTotal)
			junk := b+pts >= 5
			if e.spam {
				nS++
				if junk {
					tp++
				}
				if e.group == "spam-1" {
					nSA++
					if junk {
						tpSA++
					}
				}
				if b >= 5 {
					tpB++
				}
				continue
			}
			nH++
			if junk {
				fp++
			}
			if b >= 5 {
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
	}
	r.recall, r.hamJunk = float64(tp)/float64(nS), float64(fp)/float64(nH)
	r.own, r.hard = float64(fpOwn)/float64(max(nOwn, 1)), float64(fpHard)/float64(max(nHard, 1))
	r.recallBayes, r.hamJunkBayes = float64(tpB)/float64(nS), float64(fpB)/float64(nH)
	r.recallSA = float64(tpSA) / float64(max(nSA, 1))
	return r
}

// fitAll fits the shipped points on all the training data: Bayes points
// out of fold (as cross-validation saw them), every rule that is rarer in
// each legitimate group than in spam eligible.
func fitAll(ex []ruleExample, k, minCount int, set fitResult) map[string]float64 {
	plain := make([]example, len(ex))
	for i, e := range ex {
		plain[i] = e.example
	}
	fold := assignFolds(plain, k)
	probs, nclues := outOfFoldBayes(ex, fold, k, minCount)
	bayesPts := make([]float64, len(ex))
	for i := range ex {
		bayesPts[i] = bayesPointsCV(probs[i], nclues[i], set.hamCap, bayesJunkAt)
	}
	use := func(int) bool { return true }
	eligible := map[string]bool{}
	for n := range ruleWeights(ex, use, 1, 100) {
		eligible[n] = true
	}
	xs, names := fitInputs(ex, bayesPts, use, eligible)
	a, _, w := fitLogistic(xs, len(names), set.l2, set.hamCost)
	return fittedPoints(names, a, w, set.m, set.maxRule)
}
