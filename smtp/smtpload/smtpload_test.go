package smtpload_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/smtp"
	"github.com/stamp-mail/stamp/smtp/smtpload"
)

func selfSigned(t *testing.T) *tls.Config {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

func serve(t *testing.T, o smtp.Options) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.New(o)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func TestRunAgainstRealServer(t *testing.T) {
	svc := coretest.New(t, coretest.Options{})
	u := coretest.User(t, svc, "a@example.test")
	tests := []struct {
		name string
		srv  smtp.Options
		o    smtpload.Options
	}{
		{"mx", smtp.Options{Core: svc}, smtpload.Options{Connections: 3, Messages: 20, Size: 2000, From: "x@remote.example", To: "a@example.test"}},
		{"submission starttls auth", smtp.Options{Core: svc, Submission: true, TLSConfig: selfSigned(t)},
			smtpload.Options{Connections: 2, Messages: 6, Size: 500, From: "a@example.test", To: "a@example.test",
				Username: "a@example.test", Password: coretest.Password, StartTLS: true}},
	}
	total := 0
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Addr = serve(t, tc.srv)
			var mu sync.Mutex
			var seen []string
			tc.o.OnAccepted = func(id string) { mu.Lock(); seen = append(seen, id); mu.Unlock() }
			res, err := smtpload.Run(context.Background(), tc.o)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if res.Sent != tc.o.Messages || res.Failed != 0 {
				t.Fatalf("got sent %d failed %d (%s), want %d and 0", res.Sent, res.Failed, res.FirstErr, tc.o.Messages)
			}
			slices.Sort(seen)
			acc := slices.Clone(res.Accepted)
			slices.Sort(acc)
			if !slices.Equal(seen, acc) {
				t.Errorf("OnAccepted ids: got %v, want %v", seen, acc)
			}
			if res.P50 <= 0 || res.P99 < res.P50 || res.PerSecond <= 0 {
				t.Errorf("figures: got p50 %v p99 %v rate %v, want positive and ordered", res.P50, res.P99, res.PerSecond)
			}
			t.Logf("%s: %d msgs in %v, %.0f msgs/s, p50 %v, p99 %v", tc.name, res.Sent, res.Duration, res.PerSecond, res.P50, res.P99)
			total += tc.o.Messages
			// Every accepted Message-ID is stored.
			mb, _ := svc.GetMailboxByRole(context.Background(), u.ID, "inbox")
			ms, _ := svc.ListMessages(context.Background(), u.ID, mb.ID, core.ListQuery{Limit: 1000})
			stored := map[string]bool{}
			for _, m := range ms {
				stored[m.MessageIDHdr] = true
			}
			for _, id := range res.Accepted {
				if !stored[id] {
					t.Errorf("accepted %s: not in INBOX", id)
				}
			}
		})
	}
}

func TestRunNoServer(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	res, err := smtpload.Run(context.Background(), smtpload.Options{Addr: addr, Connections: 2, Messages: 4, From: "a@x.test", To: "b@x.test"})
	if err == nil || res.Failed != 4 || res.Sent != 0 {
		t.Errorf("no server: got sent %d failed %d err %v, want 0, 4 and an error", res.Sent, res.Failed, err)
	}
}

// TestRunText: with Text the body is that text (UTF-8, declared so),
// repeated to the size; text that is not UTF-8 or has a line over 998
// bytes is refused before anything is sent.
func TestRunText(t *testing.T) {
	svc := coretest.New(t, coretest.Options{})
	u := coretest.User(t, svc, "a@example.test")
	addr := serve(t, smtp.Options{Core: svc})
	text := []byte("Grüße aus Köln, bis morgen.\nDer Zug fährt um neun.\n")
	res, err := smtpload.Run(context.Background(), smtpload.Options{Addr: addr, Messages: 2, Size: 3000,
		From: "x@remote.example", To: "a@example.test", Text: text})
	if err != nil || res.Sent != 2 {
		t.Fatalf("Run: sent %d, %v (%s)", res.Sent, err, res.FirstErr)
	}
	mb, _ := svc.GetMailboxByRole(context.Background(), u.ID, "inbox")
	ms, _ := svc.ListMessages(context.Background(), u.ID, mb.ID, core.ListQuery{Limit: 10})
	if len(ms) != 2 {
		t.Fatalf("%d messages stored, want 2", len(ms))
	}
	for _, m := range ms {
		if !strings.HasPrefix(m.Snippet, "Grüße aus Köln, bis morgen. Der Zug fährt um neun. Grüße") {
			t.Errorf("snippet %q, want the text repeated", m.Snippet)
		}
		if m.Size < 3000 || m.Size > 3600 {
			t.Errorf("size %d, want about 3000 and the header", m.Size)
		}
	}
	for _, bad := range [][]byte{[]byte("caf\xe9\n"), append(bytes.Repeat([]byte("x"), 999), '\n')} {
		if _, err := smtpload.Run(context.Background(), smtpload.Options{Addr: addr, Messages: 1, From: "x@remote.example", To: "a@example.test", Text: bad}); err == nil {
			t.Errorf("text %.20q...: no error", bad)
		}
	}
}
