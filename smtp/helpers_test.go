package smtp_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/smtp"
	"github.com/stamp-mail/stamp/storage"
)

// testTLS returns a server config with a fresh self-signed certificate for
// 127.0.0.1 and localhost.
func testTLS(t testing.TB) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// start runs a server with opts on 127.0.0.1:0 and returns its address; it
// is shut down at cleanup.
func start(t testing.TB, opts smtp.Options) (string, *smtp.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.New(opts)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	})
	return ln.Addr().String(), srv
}

// dial connects a go-smtp client and says EHLO.
func dial(t testing.TB, addr string) *gosmtp.Client {
	t.Helper()
	c, err := gosmtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// dialTLS connects with STARTTLS, trusting any certificate.
func dialTLS(t testing.TB, addr string) *gosmtp.Client {
	t.Helper()
	c, err := gosmtp.DialStartTLS(addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// msg builds a small message.
func msg(from, to, subject string) string {
	return "From: <" + from + ">\r\nTo: <" + to + ">\r\nSubject: " + subject +
		"\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", "-") + "@client.test>\r\n\r\nHello, " + subject + ".\r\n"
}

// send runs one transaction and returns the first error.
func send(c *gosmtp.Client, from string, to []string, body string) error {
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, r := range to {
		if err := c.Rcpt(r, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(body)); err != nil {
		return err
	}
	return w.Close()
}

// code returns "550 5.1.1" for an SMTP error, "ok" for nil and the text otherwise.
func code(err error) string {
	if err == nil {
		return "ok"
	}
	var se *gosmtp.SMTPError
	if errors.As(err, &se) {
		return strings.TrimSpace(strings.Join([]string{itoa(se.Code), enh(se.EnhancedCode)}, " "))
	}
	return err.Error()
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

func enh(e gosmtp.EnhancedCode) string {
	if e == gosmtp.NoEnhancedCode || e == gosmtp.EnhancedCodeNotSet {
		return ""
	}
	return itoa(e[0]) + "." + itoa(e[1]) + "." + itoa(e[2])
}

// inbox returns the messages in a user's mailbox with a role.
func mailbox(t testing.TB, svc *core.Service, u core.User, role string) []core.Message {
	t.Helper()
	ctx := context.Background()
	mb, err := svc.GetMailboxByRole(ctx, u.ID, role)
	if err != nil {
		t.Fatalf("mailbox %s of %s: %v", role, u.Address, err)
	}
	ms, err := svc.ListMessages(ctx, u.ID, mb.ID, core.ListQuery{Limit: 1000})
	if err != nil {
		t.Fatalf("list %s of %s: %v", role, u.Address, err)
	}
	return ms
}

func inbox(t testing.TB, svc *core.Service, u core.User) []core.Message {
	return mailbox(t, svc, u, storage.RoleInbox)
}

// mxOpts are the options of an MX server on svc.
func mxOpts(svc *core.Service) smtp.Options {
	return smtp.Options{Core: svc, Hostname: "mx.test.example"}
}

// newService returns a service with users a, b and c @example.test.
func newService(t testing.TB) (*core.Service, []core.User) {
	svc := coretest.New(t, coretest.Options{})
	var us []core.User
	for _, a := range []string{"a@example.test", "b@example.test", "c@example.test"} {
		us = append(us, coretest.User(t, svc, a))
	}
	return svc, us
}
