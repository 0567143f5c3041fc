package smtp_test

import (
	"context"
	"crypto/tls"
	"testing"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/smtp"
	"github.com/stamp-mail/stamp/storage"
)

func submissionOpts(t testing.TB, svc *core.Service) smtp.Options {
	return smtp.Options{Core: svc, Hostname: "mx.test.example", Submission: true, TLSConfig: testTLS(t)}
}

func TestSubmissionOverStartTLS(t *testing.T) {
	svc, us := newService(t)
	addr, _ := start(t, submissionOpts(t, svc))
	c := dialTLS(t, addr)
	if ok, p := c.Extension("AUTH"); !ok || p != "PLAIN LOGIN" {
		t.Errorf("AUTH after STARTTLS: got %v %q, want PLAIN LOGIN", ok, p)
	}
	if err := c.Auth(sasl.NewPlainClient("", "a@example.test", coretest.Password)); err != nil {
		t.Fatalf("AUTH PLAIN: got %v, want nil", err)
	}
	body := msg("a@example.test", "b@example.test", "submitted")
	if err := send(c, "a@example.test", []string{"b@example.test", "far@remote.example"}, body); err != nil {
		t.Fatalf("submit: got %v, want nil", err)
	}
	if got := len(inbox(t, svc, us[1])); got != 1 {
		t.Errorf("INBOX of b: got %d messages, want 1", got)
	}
	if got := len(mailbox(t, svc, us[0], storage.RoleSent)); got != 1 {
		t.Errorf("Sent of a: got %d messages, want 1", got)
	}
	q, err := svc.ListQueue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 1 || len(q[0].Recipients) != 1 || q[0].Recipients[0] != "far@remote.example" {
		t.Errorf("queue: got %+v, want one item for far@remote.example", q)
	}
	raw, _ := svc.ReadMessage(context.Background(), mailbox(t, svc, us[0], storage.RoleSent)[0])
	if !contains(raw, "with ESMTPSA") {
		t.Errorf("Received field: want \"with ESMTPSA\" in\n%s", raw)
	}
}

func contains(b []byte, s string) bool { return len(s) == 0 || indexOf(string(b), s) >= 0 }

func indexOf(a, b string) int {
	for i := 0; i+len(b) <= len(a); i++ {
		if a[i:i+len(b)] == b {
			return i
		}
	}
	return -1
}

func TestSubmissionRefusals(t *testing.T) {
	svc, _ := newService(t)
	addr, _ := start(t, submissionOpts(t, svc))
	login := func(t *testing.T, c *gosmtp.Client) {
		if err := c.Auth(sasl.NewLoginClient("a@example.test", coretest.Password)); err != nil {
			t.Fatalf("AUTH LOGIN: got %v, want nil", err)
		}
	}
	tests := []struct {
		name string
		run  func(t *testing.T) error
		want string
	}{
		{"wrong password", func(t *testing.T) error {
			return dialTLS(t, addr).Auth(sasl.NewPlainClient("", "a@example.test", "wrong password"))
		}, "535 5.7.8"},
		{"unknown account", func(t *testing.T) error {
			return dialTLS(t, addr).Auth(sasl.NewPlainClient("", "zz@example.test", "wrong password"))
		}, "535 5.7.8"},
		{"mail without auth", func(t *testing.T) error {
			return dialTLS(t, addr).Mail("a@example.test", nil)
		}, "530 5.7.0"},
		{"auth before tls", func(t *testing.T) error {
			return dial(t, addr).Auth(sasl.NewPlainClient("", "a@example.test", coretest.Password))
		}, "538 5.7.11"},
		{"envelope sender mismatch", func(t *testing.T) error {
			c := dialTLS(t, addr)
			login(t, c)
			return c.Mail("b@example.test", nil)
		}, "553 5.7.1"},
		{"From header mismatch", func(t *testing.T) error {
			c := dialTLS(t, addr)
			login(t, c)
			return send(c, "a@example.test", []string{"b@example.test"}, msg("b@example.test", "b@example.test", "forged"))
		}, "553 5.7.1"},
		{"unknown local recipient", func(t *testing.T) error {
			c := dialTLS(t, addr)
			login(t, c)
			return send(c, "a@example.test", []string{"nobody@example.test"}, msg("a@example.test", "nobody@example.test", "x"))
		}, "550 5.1.1"},
		{"AUTH LOGIN then send", func(t *testing.T) error {
			c := dialTLS(t, addr)
			login(t, c)
			return send(c, "a@example.test", []string{"c@example.test"}, msg("a@example.test", "c@example.test", "login"))
		}, "ok"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := code(tc.run(t)); got != tc.want {
				t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
			}
		})
	}
}

func TestSubmissionInsecureAuthLoopback(t *testing.T) {
	svc, us := newService(t)
	opts := submissionOpts(t, svc)
	opts.TLSConfig = nil
	opts.AllowInsecureAuth = true
	addr, _ := start(t, opts)
	c := dial(t, addr)
	if err := c.Auth(sasl.NewPlainClient("", "a@example.test", coretest.Password)); err != nil {
		t.Fatalf("AUTH in clear from loopback with AllowInsecureAuth: got %v, want nil", err)
	}
	if err := send(c, "a@example.test", []string{"b@example.test"}, msg("a@example.test", "b@example.test", "clear")); err != nil {
		t.Fatalf("submit: got %v, want nil", err)
	}
	if got := len(inbox(t, svc, us[1])); got != 1 {
		t.Errorf("INBOX of b: got %d, want 1", got)
	}
}

func TestSubmissionImplicitTLS(t *testing.T) {
	svc, _ := newService(t)
	cfg := testTLS(t)
	opts := submissionOpts(t, svc)
	opts.TLSConfig, opts.ImplicitTLS = cfg, true
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.New(opts)
	go srv.Serve(ln)
	defer srv.Close()
	c, err := gosmtp.DialTLS(ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(sasl.NewPlainClient("", "a@example.test", coretest.Password)); err != nil {
		t.Fatalf("AUTH over implicit TLS: got %v, want nil", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		t.Errorf("EHLO over implicit TLS: got STARTTLS, want none")
	}
	if err := send(c, "a@example.test", []string{"b@example.test"}, msg("a@example.test", "b@example.test", "implicit")); err != nil {
		t.Errorf("submit: got %v, want nil", err)
	}
}
