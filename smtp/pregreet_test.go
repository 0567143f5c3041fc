package smtp_test

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/check"
	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
)

// inputJudge records what the judge is told of each message.
type inputJudge struct {
	mu sync.Mutex
	in []check.Input
}

func (j *inputJudge) Judge(_ context.Context, in check.Input) (check.Verdict, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.in = append(j.in, in)
	return check.Verdict{}, nil
}

func (j *inputJudge) Learn(context.Context, int64, []byte, bool) error { return nil }

func (j *inputJudge) inputs() []check.Input {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]check.Input(nil), j.in...)
}

// TestPregreet: a client that sends its commands before the greeting (RFC
// 5321 section 4.3.1) is still served, and the judge is told it talked
// early; a client that waits is not reported.
func TestPregreet(t *testing.T) {
	j := &inputJudge{}
	svc := coretest.New(t, coretest.Options{Deps: core.Deps{Judge: j}})
	coretest.User(t, svc, "a@example.test")
	opts := mxOpts(svc)
	opts.PregreetWait = 300 * time.Millisecond
	addr, _ := start(t, opts)
	transaction := "EHLO client.example\r\nMAIL FROM:<x@sender.example>\r\nRCPT TO:<a@example.test>\r\nDATA\r\n"
	body := "From: x@sender.example\r\nTo: a@example.test\r\nSubject: hi\r\n\r\nhello\r\n.\r\nQUIT\r\n"
	run := func(early bool) string {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		r := bufio.NewReader(c)
		if early {
			c.Write([]byte(transaction)) // before reading the greeting
		}
		greeting, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(greeting, "220") {
			t.Fatalf("greeting: got %q, %v, want 220", greeting, err)
		}
		if !early {
			c.Write([]byte(transaction))
		}
		var out strings.Builder
		for {
			l, err := r.ReadString('\n')
			out.WriteString(l)
			if err != nil || strings.HasPrefix(l, "354") {
				break
			}
		}
		c.Write([]byte(body))
		for {
			l, err := r.ReadString('\n')
			out.WriteString(l)
			if err != nil || strings.HasPrefix(l, "221") {
				break
			}
		}
		return out.String()
	}
	for _, early := range []bool{true, false} {
		before := len(j.inputs())
		out := run(early)
		if !strings.Contains(out, "250 2.0.0") {
			t.Fatalf("early=%v: got %q, want the message accepted", early, out)
		}
		in := j.inputs()
		if len(in) != before+1 {
			t.Fatalf("early=%v: judge saw %d messages, want %d", early, len(in), before+1)
		}
		if got := in[len(in)-1].EarlyTalker; got != early {
			t.Errorf("talking before the greeting=%v: judge told EarlyTalker=%v", early, got)
		}
	}
}
