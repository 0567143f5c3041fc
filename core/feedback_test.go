package core_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/message"
)

func TestIncomingBouncesAndComplaintsSuppress(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice := coretest.User(t, e.svc, "alice@example.test")
	orig := simpleMessage("alice@example.test", "gone@remote.example", "hello", "x")
	dsn, err := message.BuildDSN(message.DSN{ReportingMTA: "mx.remote.example", OriginalSender: alice.Address, Original: orig, Arrival: time.Now(),
		Recipients: []message.DSNRecipient{
			{Address: "gone@remote.example", Action: "failed", Status: "5.1.1", DiagnosticCode: "smtp; 550 5.1.1 no such user"},
			{Address: "later@remote.example", Action: "delayed", Status: "4.2.2", DiagnosticCode: "smtp; 452 4.2.2 full"},
		}}, "mx.remote.example")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Deliver(ctx, core.Envelope{MailFrom: "", Recipients: []string{alice.Address}}, dsn); err != nil {
		t.Fatal(err)
	}
	arf := []byte("From: fbl@isp.example\r\nTo: alice@example.test\r\nSubject: complaint\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=feedback-report; boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nA complaint.\r\n" +
		"--b\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: isp/1\r\nVersion: 1\r\nOriginal-Rcpt-To: <angry@isp.example>\r\n\r\n" +
		"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: alice@example.test\r\n\r\n--b--\r\n")
	if err := e.svc.Deliver(ctx, core.Envelope{MailFrom: "fbl@isp.example", Recipients: []string{alice.Address}}, arf); err != nil {
		t.Fatal(err)
	}
	list, err := e.svc.ListSuppressed(ctx, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, s := range list {
		got[s.Address] = true
	}
	if !got["gone@remote.example"] || !got["angry@isp.example"] || got["later@remote.example"] || len(got) != 2 {
		t.Fatalf("suppression list: got %v, want gone@ and angry@ only", got)
	}
	send := func(to string) error {
		raw := simpleMessage("alice@example.test", to, "again", "x")
		_, err := e.svc.Submit(ctx, alice, core.Envelope{MailFrom: alice.Address, Recipients: []string{to}}, raw)
		return err
	}
	if err := send("gone@remote.example"); !errors.Is(err, core.ErrSuppressed) {
		t.Errorf("send to hard-bounced address: got %v, want ErrSuppressed", err)
	}
	if err := send("later@remote.example"); err != nil {
		t.Errorf("send to soft-bounced address: %v", err)
	}
	if err := e.svc.Unsuppress(ctx, "example.test", "gone@remote.example"); err != nil {
		t.Fatal(err)
	}
	if err := send("gone@remote.example"); err != nil {
		t.Errorf("send after unsuppress: %v", err)
	}
}

func TestSendingLimits(t *testing.T) {
	svc := coretest.New(t, coretest.Options{Config: core.Config{SendPerHour: 3, SendPerDay: 3, MaxRecipients: 2}})
	ctx := context.Background()
	u := coretest.User(t, svc, "limited@example.test")
	send := func(rcpts ...string) error {
		raw := simpleMessage(u.Address, "x", "s", "b")
		_, err := svc.Submit(ctx, u, core.Envelope{MailFrom: u.Address, Recipients: rcpts}, raw)
		return err
	}
	if err := send("a@r.example", "b@r.example", "c@r.example"); !errors.Is(err, core.ErrRateLimited) {
		t.Errorf("3 recipients with max 2: got %v, want ErrRateLimited", err)
	}
	for i := 0; i < 3; i++ {
		if err := send("a@r.example"); err != nil {
			t.Fatalf("message %d within the limit: %v", i+1, err)
		}
	}
	if err := send("a@r.example"); !errors.Is(err, core.ErrRateLimited) {
		t.Errorf("4th message in an hour with limit 3: got %v, want ErrRateLimited", err)
	}
}
