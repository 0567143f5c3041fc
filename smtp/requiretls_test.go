package smtp_test

import (
	"context"
	"net"
	"net/textproto"
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/stamp-mail/stamp/core/coretest"
)

// TestRequireTLSSubmission (RFC 8689): after STARTTLS, EHLO offers
// REQUIRETLS; MAIL FROM ... REQUIRETLS is kept with the queue item, so that
// the relay demands verified TLS; without the option the item has none.
func TestRequireTLSSubmission(t *testing.T) {
	svc, _ := newService(t)
	addr, _ := start(t, submissionOpts(t, svc))
	c := dialTLS(t, addr)
	if ok, _ := c.Extension("REQUIRETLS"); !ok {
		t.Fatal("EHLO after STARTTLS: REQUIRETLS not offered")
	}
	if err := c.Auth(sasl.NewPlainClient("", "a@example.test", coretest.Password)); err != nil {
		t.Fatal(err)
	}
	for _, req := range []bool{true, false} {
		if err := c.Mail("a@example.test", &gosmtp.MailOptions{RequireTLS: req}); err != nil {
			t.Fatalf("MAIL REQUIRETLS=%v: %v", req, err)
		}
		if err := c.Rcpt("far@remote.example", nil); err != nil {
			t.Fatal(err)
		}
		w, err := c.Data()
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(msg("a@example.test", "far@remote.example", "requiretls")))
		if err := w.Close(); err != nil {
			t.Fatalf("DATA: %v", err)
		}
	}
	q, err := svc.ListQueue(context.Background())
	if err != nil || len(q) != 2 {
		t.Fatalf("queue: got %d items, %v, want 2", len(q), err)
	}
	if !q[0].RequireTLS || q[1].RequireTLS {
		t.Errorf("queue items: got RequireTLS %v and %v, want true then false", q[0].RequireTLS, q[1].RequireTLS)
	}
}

// TestRequireTLSNeedsTLS: REQUIRETLS is not offered in clear, and a client
// that sends it anyway is refused with 530 5.7.10 (RFC 8689 section 4.1).
func TestRequireTLSNeedsTLS(t *testing.T) {
	svc, _ := newService(t)
	opts := mxOpts(svc)
	opts.TLSConfig = testTLS(t)
	addr, _ := start(t, opts)
	c := dial(t, addr)
	if ok, _ := c.Extension("REQUIRETLS"); ok {
		t.Error("EHLO in clear: REQUIRETLS offered, want it only after STARTTLS")
	}
	c.Close()

	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	tp := textproto.NewConn(nc)
	defer tp.Close()
	if _, _, err := tp.ReadResponse(220); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"EHLO client.test", "MAIL FROM:<x@remote.example> REQUIRETLS"} {
		id, _ := tp.Cmd("%s", cmd)
		tp.StartResponse(id)
		code, text, err := tp.ReadResponse(0)
		tp.EndResponse(id)
		if strings.HasPrefix(cmd, "MAIL") {
			if code != 530 || !strings.HasPrefix(text, "5.7.10 ") {
				t.Errorf("MAIL ... REQUIRETLS in clear: got %d %q (%v), want 530 5.7.10", code, text, err)
			}
		}
	}

	// Over TLS, the MX accepts it for a local recipient.
	tc := dialTLS(t, addr)
	if err := tc.Mail("x@remote.example", &gosmtp.MailOptions{RequireTLS: true}); err != nil {
		t.Fatalf("MAIL REQUIRETLS over TLS: %v", err)
	}
	if err := tc.Rcpt("b@example.test", nil); err != nil {
		t.Fatal(err)
	}
	w, err := tc.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(msg("x@remote.example", "b@example.test", "requiretls in")))
	if err := w.Close(); err != nil {
		t.Fatalf("DATA: %v", err)
	}
}
