package check

import (
	"time"

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
	hits := rules.Check(raw, arrived, deadline)
	pts, why := rules.Score(hits, rules.Points, rules.MaxTotal)
	if why == "" {
		why = "none fired"
	}
	return Signal{Name: "rules", Score: pts, Detail: why}
}
