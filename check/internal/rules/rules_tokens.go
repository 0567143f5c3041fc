package rules

import "github.com/stamp-mail/stamp/check/internal/bayes"

// Tokens returns the Bayes tokens of the rules that fired ("rule:" and
// the name, hashed): the classifier learns from them alongside the
// words, so a rule's evidence is also weighed in the company of the
// message's other tokens. genmodel trains the shared model with them and
// check adds them to every message it scores or learns.
func Tokens(hits []string) []uint64 {
	out := make([]uint64, len(hits))
	for i, h := range hits {
		out[i] = bayes.Hash("rule:" + h)
	}
	return out
}
