package check

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/check/internal/bayes"
	"github.com/stamp-mail/stamp/check/internal/corpus"
	"github.com/stamp-mail/stamp/check/internal/rules"
)

// sameAsSeparateWalks reports how the one-walk content checks differ from
// the tokenizer and the rules each walking raw on its own ("" if not).
func sameAsSeparateWalks(raw []byte) string {
	arrived := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	tokens, hits, complete := contentChecks(raw, arrived, time.Time{})
	if !complete {
		return "incomplete without a deadline"
	}
	wantHits := rules.Check(raw, arrived, time.Time{})
	if !slices.Equal(hits, wantHits) {
		return "rules " + join(hits) + " differ from Check's " + join(wantHits)
	}
	if want := append(bayes.Tokenize(raw), rules.Tokens(wantHits)...); !slices.Equal(tokens, want) {
		return "tokens differ from Tokenize's and the rules'"
	}
	return ""
}

func join(s []string) string {
	out := "["
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out + "]"
}

// TestContentChecksOneWalk: the judge's one MIME walk for Bayes and the
// rules gives exactly the tokens of Tokenize and the hits of rules.Check,
// on the own set (every language, charset and shape) and odd messages.
func TestContentChecksOneWalk(t *testing.T) {
	for _, m := range corpus.Generate() {
		if why := sameAsSeparateWalks(m.Raw); why != "" {
			t.Errorf("%s: %s", m.Name, why)
		}
	}
	for _, raw := range [][]byte{
		[]byte("not a header at all"),
		[]byte("Subject: x\r\n\r\n"),
		deepMessage(50),
		flatMessage(600 << 10), // past the decoded-text budget
	} {
		if why := sameAsSeparateWalks(raw); why != "" {
			t.Errorf("%.40q: %s", raw, why)
		}
	}
}

// TestContentChecksOneWalkSpamAssassin is the same on a fifth of the
// SpamAssassin training groups (2002 mail: every odd MIME shape).
func TestContentChecksOneWalkSpamAssassin(t *testing.T) {
	dir := corpusDir(t)
	n := 0
	for _, g := range []string{"easy-ham-1", "hard-ham-1", "spam-1"} {
		files, _ := filepath.Glob(filepath.Join(dir, g, "*.txt"))
		for i, f := range files {
			if i%5 != 0 {
				continue
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if why := sameAsSeparateWalks(raw); why != "" {
				t.Errorf("%s: %s", f, why)
			}
			n++
		}
	}
	if n < 500 {
		t.Fatalf("compared %d messages, want the corpus's (>= 500)", n)
	}
}

// FuzzContentChecksOneWalk: for any input the one walk equals the two.
func FuzzContentChecksOneWalk(f *testing.F) {
	f.Add([]byte("Subject: hi\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<a href=http://1.2.3.4/>x</a>\r\n--b\r\nContent-Disposition: attachment; filename=a.ics\r\nContent-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\n--b--\r\n"))
	f.Add([]byte("From: a@b\r\n\r\nplain"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if why := sameAsSeparateWalks(raw); why != "" {
			t.Fatal(why)
		}
	})
}

// BenchmarkContentChecks: the judge's content checks over the own set,
// one MIME walk for Bayes and the rules against one walk each.
func BenchmarkContentChecks(b *testing.B) {
	var msgs [][]byte
	for _, m := range corpus.Generate() {
		msgs = append(msgs, m.Raw)
	}
	arrived := time.Now()
	b.Run("one-walk", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			contentChecks(msgs[i%len(msgs)], arrived, time.Time{})
		}
	})
	b.Run("two-walks", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			raw := msgs[i%len(msgs)]
			bayes.TokenizeUntil(raw, time.Time{})
			rules.Check(raw, arrived, time.Time{})
		}
	})
}
