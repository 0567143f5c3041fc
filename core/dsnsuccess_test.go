package core_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
)

// TestDeliveredNoticeFromMX: mail from a remote sender with NOTIFY=SUCCESS
// for a local user gets a "delivered" notice, queued to the sender with
// the null reverse-path (RFC 3461 section 6.2.1); REQUIRETLS mail's notice
// carries REQUIRETLS too. Without SUCCESS nothing is queued.
func TestDeliveredNoticeFromMX(t *testing.T) {
	ctx := context.Background()
	svc := coretest.New(t, coretest.Options{})
	coretest.User(t, svc, "u@example.test")
	raw := []byte("From: <far@remote.example>\r\nTo: <u@example.test>\r\nSubject: hello\r\n\r\nbody\r\n")
	plain := core.Envelope{MailFrom: "far@remote.example", Recipients: []string{"u@example.test"},
		DSN: &core.DSNParams{Rcpts: map[string]core.RcptDSN{"u@example.test": {Notify: []string{"FAILURE"}}}}}
	if err := svc.Deliver(ctx, plain, raw); err != nil {
		t.Fatal(err)
	}
	if q, _ := svc.ListQueue(ctx); len(q) != 0 {
		t.Fatalf("queue after NOTIFY=FAILURE: got %d items, want none", len(q))
	}
	env := core.Envelope{MailFrom: "far@remote.example", Recipients: []string{"U@example.test"}, RequireTLS: true, TLS: true,
		DSN: &core.DSNParams{EnvID: "e1", Rcpts: map[string]core.RcptDSN{"U@example.test": {Notify: []string{"SUCCESS"}}}}}
	if err := svc.Deliver(ctx, env, raw); err != nil {
		t.Fatal(err)
	}
	q, err := svc.ListQueue(ctx)
	if err != nil || len(q) != 1 {
		t.Fatalf("queue: got %d items, %v, want the success notice", len(q), err)
	}
	it := q[0]
	if it.Sender != "" || len(it.Recipients) != 1 || it.Recipients[0] != "far@remote.example" || !it.RequireTLS {
		t.Errorf("notice item: got sender %q, rcpts %v, REQUIRETLS %v; want <>, far@remote.example, true", it.Sender, it.Recipients, it.RequireTLS)
	}
	b, err := svc.ReadQueueMessage(ctx, it)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Action: delivered", "Status: 2.0.0", "Final-Recipient: rfc822; U@example.test", "Original-Envelope-Id: e1"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("notice lacks %q:\n%s", want, b)
		}
	}
}
