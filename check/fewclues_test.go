package check

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestFewTellingWordsStayInInbox: a message the shared model knows only a
// few words of (here a machine-made test message: one short line repeated)
// leans a little to spam at most, and that must not junk it on Bayes alone
// (issue 12: "an unknown or weakly known message stays in INBOX"). Before
// Bayes's points were weighted by its evidence, this scored
// "bayes=+8.0 (p=0.701 from 5 telling words)" and went to Junk.
func TestFewTellingWordsStayInInbox(t *testing.T) {
	j, err := New(Config{DNSServer: blackHoleDNS(t), DNSTimeout: 50 * time.Millisecond}, newMemKV(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i += 5 {
		body := strings.Repeat(fmt.Sprintf("big %d %s\r\n", i, strings.Repeat("q", 70)), 1000)
		raw := []byte(fmt.Sprintf("X-Backup-ID: %d\r\nFrom: s@remote.example\r\nTo: pg@example.test\r\nSubject: pg %d\r\n\r\n%s", i, i, body))
		v, err := j.Judge(context.Background(), Input{MailFrom: "s@remote.example", Raw: raw, Recipients: []int64{7}})
		if err != nil {
			t.Fatal(err)
		}
		if uv := v.PerUser[7]; uv.Junk {
			t.Errorf("message %d junked: %s", i, uv.Header)
		}
	}
}
