package check

import (
	"time"

	"github.com/stamp-mail/stamp/check/internal/bayes"
	"github.com/stamp-mail/stamp/check/internal/rules"
)

// rulesSignal is the content rules (internal/rules) that raw fires, as one
// signal: the points of each rule that fired, at most rules.MaxTotal in
// all, with the rules named in the detail. arrived is when the message
// reached us (zero: now).
func rulesSignal(raw []byte, arrived, deadline time.Time) Signal {
	if arrived.IsZero() {
		arrived = time.Now()
	}
	return rulesSignalOf(rules.Check(raw, arrived, deadline))
}

// contentChecks tokenizes raw for Bayes and runs the content rules on the
// same MIME walk (one decoding of the message for both); the tokens end
// with the rules' own (rules.Tokens), as the shared model was trained.
// complete is false when the deadline cut the walk short (the rules are
// then not to be used).
func contentChecks(raw []byte, arrived, deadline time.Time) (tokens []uint64, rulesHits []string, complete bool) {
	if arrived.IsZero() {
		arrived = time.Now()
	}
	c := rules.NewChecker(arrived)
	tokens, complete = bayes.TokenizeParts(raw, deadline, c.Header, c.Part)
	hits := c.Hits()
	return append(tokens, rules.Tokens(hits)...), hits, complete
}

// rulesSignalOf is the rules signal for the rules that fired.
func rulesSignalOf(hits []string) Signal {
	pts, why := rules.Score(hits, rules.Points, rules.MaxTotal)
	if why == "" {
		why = "none fired"
	}
	return Signal{Name: "rules", Score: pts, Detail: why}
}
