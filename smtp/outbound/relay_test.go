package outbound_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/smtp"
	"github.com/stamp-mail/stamp/smtp/outbound"
	"github.com/stamp-mail/stamp/storage"
)

// TestRelayWithAuth sends through a smarthost: a second Stamp's submission
// listener on loopback, which requires AUTH.
func TestRelayWithAuth(t *testing.T) {
	svc := coretest.New(t, coretest.Options{})
	sender := coretest.User(t, svc, "s@example.test")
	relaySvc := coretest.New(t, coretest.Options{})
	coretest.User(t, relaySvc, "s@example.test")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	relay := smtp.New(smtp.Options{Core: relaySvc, Submission: true, AllowInsecureAuth: true})
	go relay.Serve(ln)
	defer relay.Close()

	e := &env{svc: svc, sender: sender}
	tests := []struct {
		name, password, wantState, wantResult string
	}{
		{"good credentials", coretest.Password, storage.QueueDelivered, "ok"},
		{"wrong credentials stay queued", "wrong password", storage.QueueQueued, "451 4.7.0 relay"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- outbound.New(outbound.Options{Core: svc, Relay: ln.Addr().String(), RelayUsername: "s@example.test",
					RelayPassword: tc.password, MinBackoff: time.Hour}).Run(ctx)
			}()
			defer func() { cancel(); <-done }()
			id := e.submit(t, "far@remote.test")
			it := waitState(t, svc, id, tc.wantState, 1)
			if got := it.Results["far@remote.test"]; !strings.HasPrefix(got, tc.wantResult) {
				t.Errorf("%s: result got %q, want %s...", tc.name, got, tc.wantResult)
			}
		})
	}
	q, err := relaySvc.ListQueue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 1 || q[0].Recipients[0] != "far@remote.test" {
		t.Errorf("relay's queue: got %+v, want one item for far@remote.test", q)
	}
}
