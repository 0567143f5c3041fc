package main

import (
	"fmt"
	"io"
	"math"
	"sort"
)

// An experiment (-lr): a logistic regression over the same tokens as
// Bayes, compared with Bayes by repeated grouped cross-validation at the
// same share of ham to Junk.

// lrModel is a token weight table and a bias.
type lrModel struct {
	w    map[uint64]float64
	bias float64
}

func (m *lrModel) z(tokens []uint64) float64 {
	z := m.bias
	for _, t := range tokens {
		z += m.w[t]
	}
	return z
}

// trainLR fits weights by AdaGrad on class-balanced log-loss with an L2
// penalty applied to the tokens each step touches.
func trainLR(ex []ruleExample, use func(i int) bool, l2 float64, epochs int) *lrModel {
	m := &lrModel{w: map[uint64]float64{}}
	g2 := map[uint64]float64{}
	var bg2 float64
	var nS, nH float64
	var idx []int
	for i, e := range ex {
		if !use(i) {
			continue
		}
		idx = append(idx, i)
		if e.spam {
			nS++
		} else {
			nH++
		}
	}
	wS, wH := (nS+nH)/(2*nS), (nS+nH)/(2*nH)
	const lr = 0.1
	// A fixed interleaving of the examples (deterministic).
	order := make([]int, len(idx))
	copy(order, idx)
	for ep := range epochs {
		sort.Slice(order, func(a, b int) bool {
			return (uint64(order[a])*0x9e3779b97f4a7c15+uint64(ep))>>7 < (uint64(order[b])*0x9e3779b97f4a7c15+uint64(ep))>>7
		})
		for _, i := range order {
			e := ex[i]
			p := 1 / (1 + math.Exp(-m.z(e.tokens)))
			g := p
			cw := wH
			if e.spam {
				g, cw = p-1, wS
			}
			g *= cw
			for _, t := range e.tokens {
				gt := g + l2*m.w[t]
				g2[t] += gt * gt
				m.w[t] -= lr * gt / math.Sqrt(g2[t]+1e-8)
			}
			bg2 += g * g
			m.bias -= lr * g / math.Sqrt(bg2+1e-8)
		}
	}
	return m
}

// crossValidateLR reports, per L2 setting, the recall of the regression
// and of Bayes at the lowest threshold keeping ham to Junk within
// maxHamJunk, over repeated grouped folds.
func crossValidateLR(w io.Writer, ex []ruleExample, k, minCount int, maxHamJunk float64) {
	runs := newCVRuns(ex, k, minCount)
	at := func(scores [][]float64) (recall, ham float64) {
		var tp, nS, fp, nH int
		for r := range runs {
			var hs []float64
			for i, e := range ex {
				if !e.spam {
					hs = append(hs, scores[r][i])
				}
			}
			sort.Sort(sort.Reverse(sort.Float64Slice(hs)))
			thr := math.Nextafter(hs[int(maxHamJunk*float64(len(hs)))], math.Inf(1))
			for i, e := range ex {
				junk := scores[r][i] >= thr
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
		return float64(tp) / float64(nS), float64(fp) / float64(nH)
	}
	bs := make([][]float64, len(runs))
	for r, run := range runs {
		bs[r] = run.probs
	}
	rb, hb := at(bs)
	fmt.Fprintf(w, "bayes: recall %.4f at ham %.4f\n", rb, hb)
	for _, l2 := range []float64{0, 0.001, 0.01, 0.1} {
		for _, epochs := range []int{5, 15} {
			sc := make([][]float64, len(runs))
			for r, run := range runs {
				sc[r] = make([]float64, len(ex))
				for f := range k {
					m := trainLR(ex, func(i int) bool { return run.fold[i] != f }, l2, epochs)
					for i, e := range ex {
						if run.fold[i] == f {
							sc[r][i] = m.z(e.tokens)
						}
					}
				}
			}
			rl, hl := at(sc)
			// And the mean of both in log-odds.
			mix := make([][]float64, len(runs))
			for r := range runs {
				mix[r] = make([]float64, len(ex))
				for i := range ex {
					mix[r][i] = sc[r][i] + logit(bs[r][i])
				}
			}
			rm, hm := at(mix)
			fmt.Fprintf(w, "lr l2 %g epochs %d: recall %.4f at ham %.4f; lr+bayes %.4f at %.4f\n", l2, epochs, rl, hl, rm, hm)
		}
	}
}
