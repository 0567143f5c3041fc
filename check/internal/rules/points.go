package rules

import (
	"fmt"
	"math"
	"strings"
)

// How rules become points. Points (table.go) is what each rule adds to the spam score when it fires. The
// table is written by `go run ./check/internal/genmodel -rules` from the
// training data only (SpamAssassin easy-ham-1, hard-ham-1, spam-1 and the
// development part of the project's own set): a rule's points are
// Scale times the log of how much more often it fires on spam than on
// the legitimate group where it fires most (easy ham, hard ham or the own
// multilingual ham), at most MaxRule, and 0 when it fires as often on
// legitimate mail. Judging by the worst legitimate group keeps a rule that
// newsletters or receipts trip from counting much, however rare it is in
// plain personal mail. Scale, MaxRule and MaxTotal are chosen by 5-fold
// cross-validation on the same data together with the Bayes signal.
//
// Points, Scale, MaxRule and MaxTotal are in table.go.

// Score adds up the points of the rules that fired (at most MaxTotal)
// and says which fired: "URL_IP_HOST +2.0, ...".
func Score(hits []string, points map[string]float64, maxTotal float64) (float64, string) {
	var total float64
	var why []string
	for _, h := range hits {
		p := points[h]
		if p == 0 {
			continue
		}
		total += p
		why = append(why, fmt.Sprintf("%s %+.1f", h, p))
	}
	total = math.Min(total, maxTotal)
	return total, strings.Join(why, ", ")
}

// Weigh computes rule points from hit counts: spamHits of nSpam spam,
// and for each legitimate group its hits and size (see Points).
func Weigh(spamHits, nSpam int, ham [][2]int, scale, maxRule float64) float64 {
	s := (float64(spamHits) + 0.5) / (float64(nSpam) + 1)
	worst := 0.0
	for _, g := range ham {
		worst = math.Max(worst, (float64(g[0])+0.5)/(float64(g[1])+1))
	}
	if s <= worst {
		return 0
	}
	return math.Min(maxRule, math.Round(10*scale*math.Log(s/worst))/10)
}
