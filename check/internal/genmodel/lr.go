package main

import (
	"fmt"
	"io"
	"math"
	"sort"
)

// linear is a logistic regression over the same tokens: a weight per
// token and a bias, the log-odds of spam being their sum over the
// message's distinct tokens. Where Bayes treats each token as independent
// evidence (and counts a campaign's twenty near-synonyms twenty times),
// the regression's weights are fitted together, each token weighing what
// it adds to the others; on the few hundred spam of the training corpus
// it might separate better at a low ham rate. An experiment (-lr): in
// repeated grouped cross-validation it did not (see crossValidateLR), so
// check ships Bayes alone.
type linear struct {
	Bias    float64
	Weights map[uint64]float32
}

// Z is the model's log-odds of spam for a message's tokens.
func (l *linear) Z(tokens []uint64) float64 {
	z := l.Bias
	for _, t := range tokens {
		z += float64(l.Weights[t])
	}
	return z
}

// trainLinear fits a linear to messages (tokens, spam): full-batch
// gradient descent (Adam steps) on the log-loss with the two classes
// weighted to count equally, plus l2/2 times the squared weights, for
// passes passes over all messages. Each step uses every message, so the
// result depends on the data only, not on an order of presentation.
func trainLinear(tokens [][]uint64, spam []bool, passes int, l2 float64) *linear {
	var nS, nH float64
	for _, s := range spam {
		if s {
			nS++
		} else {
			nH++
		}
	}
	if nS == 0 || nH == 0 {
		return &linear{Weights: map[uint64]float32{}}
	}
	// Tokens to dense indices.
	idx := map[uint64]int32{}
	docs := make([][]int32, len(tokens))
	var keys []uint64
	for i, ts := range tokens {
		docs[i] = make([]int32, len(ts))
		for j, t := range ts {
			k, ok := idx[t]
			if !ok {
				k = int32(len(keys))
				idx[t] = k
				keys = append(keys, t)
			}
			docs[i][j] = k
		}
	}
	n := len(keys)
	w, g, m, v := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	var bias, bm, bv float64
	wS, wH := 1/(2*nS), 1/(2*nH)
	const rate, b1, b2, eps = 0.05, 0.9, 0.999, 1e-8
	for it := 1; it <= passes; it++ {
		clear(g)
		var bg float64
		for i, d := range docs {
			z := bias
			for _, k := range d {
				z += w[k]
			}
			p := 1 / (1 + math.Exp(-z))
			gi := p * wH
			if spam[i] {
				gi = (p - 1) * wS
			}
			for _, k := range d {
				g[k] += gi
			}
			bg += gi
		}
		c1, c2 := 1-math.Pow(b1, float64(it)), 1-math.Pow(b2, float64(it))
		for k := range w {
			gk := g[k] + l2*w[k]
			m[k] = b1*m[k] + (1-b1)*gk
			v[k] = b2*v[k] + (1-b2)*gk*gk
			w[k] -= rate * (m[k] / c1) / (math.Sqrt(v[k]/c2) + eps)
		}
		bm = b1*bm + (1-b1)*bg
		bv = b2*bv + (1-b2)*bg*bg
		bias -= rate * (bm / c1) / (math.Sqrt(bv/c2) + eps)
	}
	l := &linear{Bias: bias, Weights: make(map[uint64]float32, n)}
	for k, t := range keys {
		l.Weights[t] = float32(w[k])
	}
	return l
}

// -lr: a logistic regression over the tokens (linear) compared
// with Bayes by repeated grouped cross-validation at the same share of ham
// to Junk, for a few numbers of training passes.

// trainLinearOn fits the regression on the examples use accepts.
func trainLinearOn(ex []ruleExample, use func(i int) bool, epochs int, l2 float64) *linear {
	var toks [][]uint64
	var spam []bool
	for i, e := range ex {
		if use(i) {
			toks = append(toks, e.tokens)
			spam = append(spam, e.spam)
		}
	}
	return trainLinear(toks, spam, epochs, l2)
}

// outOfFoldLinear is every example's regression log-odds from a model
// trained on the other folds.
func outOfFoldLinear(ex []ruleExample, fold []int, k, epochs int, l2 float64) []float64 {
	z := make([]float64, len(ex))
	for f := range k {
		m := trainLinearOn(ex, func(i int) bool { return fold[i] != f }, epochs, l2)
		for i, e := range ex {
			if fold[i] == f {
				z[i] = m.Z(e.tokens)
			}
		}
	}
	return z
}

// atHamRate is the recall at the lowest threshold keeping each run's ham
// to Junk within maxHamJunk, the ham share there, and the mean threshold.
func atHamRate(ex []ruleExample, scores [][]float64, maxHamJunk float64) (recall, ham, thr float64) {
	var tp, nS, fp, nH int
	for r := range scores {
		var hs []float64
		for i, e := range ex {
			if !e.spam {
				hs = append(hs, scores[r][i])
			}
		}
		sort.Sort(sort.Reverse(sort.Float64Slice(hs)))
		t := math.Nextafter(hs[int(maxHamJunk*float64(len(hs)))], math.Inf(1))
		thr += t / float64(len(scores))
		for i, e := range ex {
			junk := scores[r][i] >= t
			if e.spam {
				nS++
				if junk {
					tp++
				}
			} else {
				nH++
				if junk {
					fp++
				}
			}
		}
	}
	return float64(tp) / float64(nS), float64(fp) / float64(nH), thr
}

func crossValidateLR(w io.Writer, ex []ruleExample, k, minCount int, maxHamJunk float64) {
	runs := newCVRuns(ex, k, minCount)
	bs := make([][]float64, len(runs))
	for r, run := range runs {
		bs[r] = make([]float64, len(ex))
		for i, p := range run.probs {
			bs[r][i] = logit(p)
		}
	}
	rb, hb, tb := atHamRate(ex, bs, maxHamJunk)
	fmt.Fprintf(w, "%d-fold cross-validation (%d repeats), %d training messages, ham to Junk at most %.4f\n", k, len(runs), len(ex), maxHamJunk)
	fmt.Fprintf(w, "bayes: recall %.4f at ham %.4f (threshold p=%.4f)\n", rb, hb, 1/(1+math.Exp(-tb)))
	for _, l2 := range []float64{0, 1e-4, 1e-3} {
		for _, epochs := range []int{30, 100, 300} {
			sc := make([][]float64, len(runs))
			for r, run := range runs {
				sc[r] = outOfFoldLinear(ex, run.fold, k, epochs, l2)
			}
			rl, hl, tl := atHamRate(ex, sc, maxHamJunk)
			fmt.Fprintf(w, "linear, l2 %g, %d passes: recall %.4f at ham %.4f (threshold p=%.4f)\n", l2, epochs, rl, hl, 1/(1+math.Exp(-tl)))
		}
	}
}
