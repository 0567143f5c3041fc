package check

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestNoBayesSkipsContentScoring(t *testing.T) {
	spammy := testMessage("winner@lottery.test", "YOU HAVE WON $1,000,000 !!!",
		"CLICK HERE NOW to claim your FREE PRIZE!!! Limited time offer, act now, 100% guaranteed, no risk!!! "+
			"Viagra cheap pills, casino bonus, make money fast from home $$$")
	in := Input{MailFrom: "winner@lottery.test", Raw: spammy, Recipients: []int64{7}}
	for _, c := range []struct {
		name      string
		noBayes   bool
		wantBayes string
	}{
		{"bayes on", false, ""},
		{"bayes off", true, "bayes=0.500"},
	} {
		j, err := New(Config{NoBayes: c.noBayes, DNSServer: blackHoleDNS(t), DNSTimeout: 50 * time.Millisecond}, newMemKV(), nil)
		if err != nil {
			t.Fatal(err)
		}
		v, err := j.Judge(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		uv := v.PerUser[7]
		if c.noBayes {
			if uv.Junk || !strings.Contains(string(uv.Header), c.wantBayes) {
				t.Errorf("%s: got junk %v header %q, want not junk with %s", c.name, uv.Junk, uv.Header, c.wantBayes)
			}
		} else if uv.Score < 0.9 {
			t.Errorf("%s: got score %.3f for an obvious spam, want >= 0.9 (the comparison case must differ)", c.name, uv.Score)
		}
	}
}
