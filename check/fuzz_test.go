package check

import (
	"testing"

	"github.com/stamp-mail/stamp/check/internal/bayes"
)

// FuzzTokenize: any bytes tokenize without panicking, within the token cap.
func FuzzTokenize(f *testing.F) {
	f.Add(testMessage("a@b.test", "hello", "world"))
	f.Add(withAttachment("data"))
	f.Add([]byte("From x\nSubject: =?utf-8?q?caf=C3=A9?=\n\n<html><a href=\"http://x.test/y\">z</a></html>"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=\"\"\n\n--\n"))
	f.Add(deepMessage(150))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if n := len(tokenize(raw)); n > 3000 {
			t.Errorf("tokens: got %d, want <= 3000", n)
		}
	})
}

// FuzzDecodeCounts: corrupt stored training is an error, never a panic.
func FuzzDecodeCounts(f *testing.F) {
	c := bayes.NewCounts()
	c.Add([]uint64{bayes.Hash("alpha"), bayes.Hash("alphabet"), 0, 1 << 63}, true)
	f.Add(c.Encode())
	f.Add(encodeStringCounts(1, 2, []string{"alpha", "alphabet", "beta"}, []bayes.Pair{{Spam: 1, Ham: 0}, {Spam: 0, Ham: 2}, {Spam: 1, Ham: 1}}))
	f.Add([]byte("SB1\n"))
	f.Add([]byte("SB2\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, err := bayes.Decode(b); err == nil {
			bayes.Decode(d.Encode())
		}
	})
}
