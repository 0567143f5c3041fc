package outbound_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/storage"
)

func submitDSN(t *testing.T, svc *core.Service, sender core.User, dsn *core.DSNParams, rcpts ...string) int64 {
	t.Helper()
	raw := "From: <s@example.test>\r\nTo: <" + strings.Join(rcpts, ">, <") + ">\r\nSubject: dsn success\r\n\r\nHello.\r\n"
	res, err := svc.Submit(context.Background(), sender, core.Envelope{MailFrom: "s@example.test", Recipients: rcpts, DSN: dsn}, []byte(raw))
	if err != nil || res.QueueID == 0 {
		t.Fatalf("Submit: %+v, %v", res, err)
	}
	return res.QueueID
}

// TestSuccessNoticeRelayed (RFC 3461 section 6.2.1): a next hop without
// DSN accepted the message, so the sender gets a "relayed" notice for the
// recipient with NOTIFY=SUCCESS, and none for the one without.
func TestSuccessNoticeRelayed(t *testing.T) {
	e := newEnv(t, "")
	run(t, e.options())
	dsn := &core.DSNParams{EnvID: "env-9", Rcpts: map[string]core.RcptDSN{
		"ok@remote.test":  {Notify: []string{"SUCCESS"}},
		"ok2@remote.test": {Notify: []string{"FAILURE"}},
	}}
	id := submitDSN(t, e.svc, e.sender, dsn, "ok@remote.test", "ok2@remote.test")
	waitState(t, e.svc, id, storage.QueueDelivered, 1)
	notices := e.inboxRaw(t)
	if len(notices) != 1 {
		t.Fatalf("sender INBOX: got %d messages, want 1 success notice", len(notices))
	}
	n := notices[0]
	for _, want := range []string{"Subject: Successful Mail Delivery Report", "Final-Recipient: rfc822; ok@remote.test",
		"Action: relayed", "Status: 2.0.0", "Remote-MTA: dns; mx.remote.test\r\n", "Original-Envelope-Id: env-9"} {
		if !strings.Contains(n, want) {
			t.Errorf("notice lacks %q:\n%s", want, n)
		}
	}
	if strings.Contains(n, "ok2@remote.test;") || strings.Contains(n, "rfc822; ok2@") {
		t.Errorf("notice reports ok2@remote.test, whose NOTIFY has no SUCCESS:\n%s", n)
	}
}

// TestDSNPassedOn: a next hop that supports DSN gets RET, ENVID, NOTIFY and
// ORCPT and reports success itself: no notice from us.
func TestDSNPassedOn(t *testing.T) {
	w := newSTSWorld(t)
	run(t, w.options())
	dsn := &core.DSNParams{Ret: "FULL", EnvID: "env-10", Rcpts: map[string]core.RcptDSN{
		"p@plain.test": {Notify: []string{"SUCCESS", "DELAY"}, ORcpt: "rfc822;P@plain.test"},
	}}
	id := submitDSN(t, w.svc, w.sender, dsn, "p@plain.test")
	waitState(t, w.svc, id, storage.QueueDelivered, 1)
	w.mx.mu.Lock()
	mo, ro := w.mx.mailOpts, w.mx.rcptOpts["p@plain.test"]
	w.mx.mu.Unlock()
	if len(mo) != 1 || mo[0].Return != gosmtp.DSNReturnFull || mo[0].EnvelopeID != "env-10" {
		t.Errorf("MAIL options at the next hop: got %+v, want RET=FULL ENVID=env-10", mo)
	}
	if !slices.Equal(ro.Notify, []gosmtp.DSNNotify{"SUCCESS", "DELAY"}) || ro.OriginalRecipient != "P@plain.test" ||
		!strings.EqualFold(string(ro.OriginalRecipientType), "rfc822") {
		t.Errorf("RCPT options at the next hop: got %+v, want NOTIFY=SUCCESS,DELAY ORCPT=rfc822;P@plain.test", ro)
	}
	if n := len(w.inboxRaw(t)); n != 0 {
		t.Errorf("sender INBOX: got %d messages, want none (the next hop reports)", n)
	}
}
