package outbound_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/storage"
)

// TestDelayNoticeOnce: a message still deferred after DelayNotice gets one
// "delayed" notice to its sender (not one per retry), and a recipient with
// NOTIFY=FAILURE (no DELAY) gets none.
func TestDelayNoticeOnce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		notify []string
		want   int
	}{
		{"default notify", nil, 1},
		{"NOTIFY=FAILURE only", []string{core.NotifyFailure}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "")
			o := e.options()
			o.DelayNotice = time.Nanosecond // every attempt is "late"
			stop := run(t, o)
			rcpt := "always4@remote.test"
			raw := "From: <s@example.test>\r\nTo: <" + rcpt + ">\r\nSubject: delay test\r\n\r\nHello.\r\n"
			env := core.Envelope{MailFrom: "s@example.test", Recipients: []string{rcpt}}
			if tc.notify != nil {
				env.DSN = &core.DSNParams{Rcpts: map[string]core.RcptDSN{rcpt: {Notify: tc.notify}}}
			}
			res, err := e.svc.Submit(context.Background(), e.sender, env, []byte(raw))
			if err != nil {
				t.Fatal(err)
			}
			// Wait for three attempts: the notice must not repeat.
			deadline := time.Now().Add(15 * time.Second)
			for time.Now().Before(deadline) {
				it, err := e.svc.GetQueueItem(context.Background(), res.QueueID)
				if err != nil {
					t.Fatal(err)
				}
				if it.Attempts >= 3 {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			stop()
			it, _ := e.svc.GetQueueItem(context.Background(), res.QueueID)
			if it.State != storage.QueueQueued || it.Attempts < 3 {
				t.Fatalf("queue item: state %s after %d attempts, want still queued after 3", it.State, it.Attempts)
			}
			dsns := e.inboxRaw(t)
			if len(dsns) != tc.want {
				t.Fatalf("sender INBOX after %d attempts: got %d notices, want %d", it.Attempts, len(dsns), tc.want)
			}
			if tc.want == 1 && (!strings.Contains(dsns[0], "Action: delayed") || !strings.Contains(dsns[0], "Delayed Mail")) {
				t.Errorf("notice: want a delayed DSN, got:\n%.600s", dsns[0])
			}
		})
	}
}
