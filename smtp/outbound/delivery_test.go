package outbound_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/storage"
)

func TestDeliverySucceeds(t *testing.T) {
	e := newEnv(t, "")
	run(t, e.options())
	id := e.submit(t, "ok@remote.test")
	it := waitState(t, e.svc, id, storage.QueueDelivered, 1)
	if got := it.Results["ok@remote.test"]; got != "ok" {
		t.Errorf("result: got %q, want ok", got)
	}
	if got := e.mx.count("ok@remote.test"); got != 1 {
		t.Errorf("remote received: got %d, want 1", got)
	}
	e.mx.mu.Lock()
	defer e.mx.mu.Unlock()
	if len(e.mx.tls) != 1 || !e.mx.tls[0] {
		t.Errorf("STARTTLS to a remote with an unverifiable certificate: got TLS %v, want [true]", e.mx.tls)
	}
	if !strings.Contains(e.mx.bodies[0], "Subject: outbound test") {
		t.Errorf("remote body: got %q, want the submitted message", e.mx.bodies[0])
	}
}

func TestTemporaryFailureRetried(t *testing.T) {
	e := newEnv(t, "")
	run(t, e.options())
	id := e.submit(t, "temp@remote.test")
	it := waitState(t, e.svc, id, storage.QueueDelivered, 2)
	if it.Attempts != 2 {
		t.Errorf("attempts: got %d, want 2 (451 once, then accepted)", it.Attempts)
	}
	if got := e.mx.count("temp@remote.test"); got != 1 {
		t.Errorf("remote received: got %d, want 1", got)
	}
	if n := len(e.inboxRaw(t)); n != 0 {
		t.Errorf("sender INBOX: got %d messages, want no DSN", n)
	}
}

func TestPermanentFailureBounces(t *testing.T) {
	e := newEnv(t, "")
	run(t, e.options())
	id := e.submit(t, "bad@remote.test")
	it := waitState(t, e.svc, id, storage.QueueFailed, 1)
	if got := it.Results["bad@remote.test"]; !strings.HasPrefix(got, "550 5.1.1") {
		t.Errorf("result: got %q, want 550 5.1.1...", got)
	}
	dsns := e.inboxRaw(t)
	if len(dsns) != 1 {
		t.Fatalf("sender INBOX: got %d messages, want 1 DSN", len(dsns))
	}
	for _, want := range []string{"bad@remote.test", "5.1.1", "multipart/report"} {
		if !strings.Contains(dsns[0], want) {
			t.Errorf("DSN: missing %q in:\n%s", want, dsns[0])
		}
	}
}

func TestMixedDomainsOneTransactionEach(t *testing.T) {
	e := newEnv(t, "")
	run(t, e.options())
	id := e.submit(t, "ok1@remote.test", "bad@remote.test", "ok2@remote.test", "x@aonly.test", "y@nullmx.test", "z@nosuch.test")
	it := waitState(t, e.svc, id, storage.QueueFailed, 1)
	want := map[string]string{
		"ok1@remote.test": "ok", "ok2@remote.test": "ok", "x@aonly.test": "ok",
		"bad@remote.test": "550 5.1.1", "y@nullmx.test": "556 5.1.10", "z@nosuch.test": "550 5.1.2",
	}
	for r, w := range want {
		if got := it.Results[r]; !strings.HasPrefix(got, w) {
			t.Errorf("result for %s: got %q, want %s...", r, got, w)
		}
	}
	e.mx.mu.Lock()
	txs := e.mx.txs
	e.mx.mu.Unlock()
	if txs != 2 {
		t.Errorf("transactions at the remote: got %d, want 2 (remote.test and aonly.test)", txs)
	}
	dsns := e.inboxRaw(t)
	if len(dsns) != 1 {
		t.Fatalf("sender INBOX: got %d messages, want 1 DSN for the 3 failures", len(dsns))
	}
	for _, w := range []string{"bad@remote.test", "y@nullmx.test", "z@nosuch.test"} {
		if !strings.Contains(dsns[0], w) {
			t.Errorf("DSN: missing %s", w)
		}
	}
}

func TestExpiryBounces(t *testing.T) {
	e := newEnv(t, "")
	o := e.options()
	o.MaxAge = time.Nanosecond
	run(t, o)
	id := e.submit(t, "always4@remote.test")
	it := waitState(t, e.svc, id, storage.QueueFailed, 1)
	if got := it.Results["always4@remote.test"]; !strings.HasPrefix(got, "451") {
		t.Errorf("result: got %q, want the last 451", got)
	}
	dsns := e.inboxRaw(t)
	if len(dsns) != 1 || !strings.Contains(dsns[0], "4.4.7") {
		t.Errorf("sender INBOX: got %d messages, want 1 DSN with status 4.4.7", len(dsns))
	}
}

func TestConnectionRefusedIsRetried(t *testing.T) {
	e := newEnv(t, "")
	o := e.options()
	o.Port = 1 // nothing listens there
	run(t, o)
	id := e.submit(t, "ok@remote.test")
	it := waitState(t, e.svc, id, storage.QueueQueued, 2)
	if !strings.HasPrefix(it.Results["ok@remote.test"], "451 4.4.1") || !strings.Contains(it.LastError, "connect") {
		t.Errorf("after refused connections: got result %q last error %q, want 451 4.4.1 connect...", it.Results["ok@remote.test"], it.LastError)
	}
}

func TestRestartLosesNothing(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir)
	stop := run(t, e.options())
	id := e.submit(t, "temp@remote.test")
	// The first attempt gets 451 and schedules a retry; stop everything then.
	waitState(t, e.svc, id, storage.QueueQueued, 1)
	stop()
	e.svc.Close()

	e2 := *e
	e2.svc = coretestNew(t, dir)
	run(t, e2.options())
	it := waitState(t, e2.svc, id, storage.QueueDelivered, 2)
	if got := e.mx.count("temp@remote.test"); got != 1 {
		t.Errorf("remote received after restart: got %d, want 1 (attempts %d)", got, it.Attempts)
	}
}

// TestBounceToRemoteSenderUsesNullPath: a DSN for a remote sender is queued
// by core with the null reverse-path and sent as MAIL FROM:<> (RFC 5321
// section 6.1), so it can never bounce back.
func TestBounceToRemoteSenderUsesNullPath(t *testing.T) {
	e := newEnv(t, "")
	id := e.submit(t, "someone@remote.test")
	it, err := e.svc.GetQueueItem(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	it.Sender = "origin@remote.test" // pretend the message came from a remote sender
	if err := e.svc.Bounce(context.Background(), it, []core.BounceRecipient{{Address: "someone@remote.test", Status: "5.1.1", Diagnostic: "smtp; 550 5.1.1 no"}}); err != nil {
		t.Fatalf("Bounce: %v", err)
	}
	if err := e.svc.DropQueue(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	run(t, e.options())
	deadline := time.Now().Add(10 * time.Second)
	for e.mx.count("origin@remote.test") == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("DSN not delivered to the remote sender")
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.mx.mu.Lock()
	defer e.mx.mu.Unlock()
	if len(e.mx.froms) != 1 || e.mx.froms[0] != "" {
		t.Errorf("reverse-path of the DSN: got %q, want [\"\"]", e.mx.froms)
	}
}
