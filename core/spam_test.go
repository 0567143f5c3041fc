package core_test

import (
	"context"
	"net"
	"sync"
	"testing"

	"github.com/stamp-mail/stamp/check"
	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
)

// heloJudge records the inputs it judges.
type heloJudge struct {
	mu   sync.Mutex
	last check.Input
}

func (j *heloJudge) Judge(_ context.Context, in check.Input) (check.Verdict, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.last = in
	return check.Verdict{}, nil
}

func (j *heloJudge) Learn(context.Context, int64, []byte, bool) error { return nil }

// TestHeloIsOurs: a remote client greeting with our host name, one of our
// domains or an address literal of ours is flagged to the judge; an
// ordinary name or a loopback client is not.
func TestHeloIsOurs(t *testing.T) {
	j := &heloJudge{}
	svc := coretest.New(t, coretest.Options{Deps: core.Deps{Judge: j}})
	coretest.User(t, svc, "alice@example.test")
	remote := net.ParseIP("192.0.2.77")
	raw := []byte("From: x@sender.example\r\nTo: alice@example.test\r\nSubject: hi\r\n\r\nhello\r\n")
	for _, c := range []struct {
		helo string
		ip   net.IP
		want bool
	}{
		{"mx.test.example", remote, true}, // coretest's host name
		{"MX.TEST.EXAMPLE.", remote, true},
		{"example.test", remote, true}, // a local domain
		{"[127.0.0.1]", remote, true},  // an address of this machine
		{"mail.sender.example", remote, false},
		{"[192.0.2.77]", remote, false}, // the client's own address
		{"mx.test.example", net.ParseIP("127.0.0.1"), false},
	} {
		env := core.Envelope{MailFrom: "x@sender.example", Recipients: []string{"alice@example.test"}, RemoteIP: c.ip, Helo: c.helo}
		if err := svc.Deliver(context.Background(), env, raw); err != nil {
			t.Fatal(err)
		}
		j.mu.Lock()
		got := j.last.HeloIsOurs
		j.mu.Unlock()
		if got != c.want {
			t.Errorf("HELO %s from %s: got HeloIsOurs=%v, want %v", c.helo, c.ip, got, c.want)
		}
	}
}
