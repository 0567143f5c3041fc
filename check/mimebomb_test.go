package check

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// deepMessage is a message nested depth multiparts deep with a text part
// at the bottom (the MIME bomb of issue 16).
func deepMessage(depth int) []byte {
	var b bytes.Buffer
	b.WriteString("From: a@example.org\r\nTo: b@stamp.test\r\nSubject: deep\r\nMIME-Version: 1.0\r\n")
	for i := 0; i < depth; i++ {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"level%d\"\r\n\r\n--level%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nhello from the bottom\r\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--level%d--\r\n", i)
	}
	return b.Bytes()
}

func flatMessage(size int) []byte {
	var b bytes.Buffer
	b.WriteString("From: a@example.org\r\nTo: b@stamp.test\r\nSubject: flat\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n")
	for b.Len() < size {
		b.WriteString("an ordinary line of an ordinary long message, nothing nested at all\r\n")
	}
	return b.Bytes()
}

// TestJudgeDeepMessage: a 10,000-deep message is judged in at most 20 times
// the time of a flat message of the same size (the best of several runs of
// each, relative, so a loaded machine does not decide), and gets a verdict.
func TestJudgeDeepMessage(t *testing.T) {
	dns := startDNS(t, nil)
	j, err := New(Config{DNSServer: dns.Addr, DNSTimeout: time.Second}, newMemKV(), nil)
	if err != nil {
		t.Fatal(err)
	}
	deep := deepMessage(10000)
	plain := flatMessage(len(deep))
	judge := func(raw []byte) (time.Duration, UserVerdict) {
		best := time.Duration(1<<63 - 1)
		var uv UserVerdict
		for range 5 {
			start := time.Now()
			v, err := j.Judge(context.Background(), Input{RemoteIP: []byte{192, 0, 2, 1}, Helo: "mx.example.org",
				MailFrom: "a@example.org", Raw: raw, Recipients: []int64{1}})
			if err != nil {
				t.Fatal(err)
			}
			best = min(best, time.Since(start))
			uv = v.PerUser[1]
		}
		return best, uv
	}
	d, dv := judge(deep)
	f, _ := judge(plain)
	t.Logf("%d bytes: 10,000 levels deep judged in %v, flat in %v (%.1fx); deep verdict: %s", len(deep), d, f,
		float64(d)/float64(f), strings.ReplaceAll(string(dv.Header), "\r\n\t", " "))
	if d > 20*f {
		t.Errorf("deep message: got %v, want at most 20x the flat message's %v", d, f)
	}
	if dv.Threshold == 0 || len(dv.Header) == 0 {
		t.Errorf("deep message: got no verdict, want one")
	}
}

// TestContentBudget: content checks that run out of time leave the
// message judged by the checks that finished, never lost or failed.
func TestContentBudget(t *testing.T) {
	dns := startDNS(t, nil)
	j, err := New(Config{DNSServer: dns.Addr, DNSTimeout: time.Second, ContentBudget: time.Nanosecond}, newMemKV(), nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := j.Judge(context.Background(), Input{RemoteIP: []byte{192, 0, 2, 1}, Helo: "mx.example.org",
		MailFrom: "a@example.org", Raw: deepMessage(50), Recipients: []int64{1}})
	if err != nil {
		t.Fatalf("Judge over budget: got %v, want a verdict", err)
	}
	uv := v.PerUser[1]
	var bayes *Signal
	for i := range uv.Signals {
		if uv.Signals[i].Name == "bayes" {
			bayes = &uv.Signals[i]
		}
	}
	if bayes == nil || bayes.Score != 0 || !strings.Contains(bayes.Detail, "not run") {
		t.Errorf("over budget: got signals %+v, want bayes with 0 points saying it did not run", uv.Signals)
	}
	if uv.Junk {
		t.Errorf("over budget: got junk, want INBOX (no content verdict)")
	}
}
