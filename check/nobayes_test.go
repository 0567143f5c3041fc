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
		{"bayes off", true, ""},
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
			if uv.Junk || strings.Contains(string(uv.Header), "bayes=") {
				t.Errorf("%s: got junk %v header %q, want not junk and no bayes signal", c.name, uv.Junk, uv.Header)
			}
		} else if !strings.Contains(string(uv.Header), "bayes=+") {
			t.Errorf("%s: got header %q for an obvious spam, want a positive bayes signal (the comparison case must differ)", c.name, uv.Header)
		}
	}
}
