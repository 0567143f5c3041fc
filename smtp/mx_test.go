package smtp_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/smtp"
)

func TestMXLocalDelivery(t *testing.T) {
	svc, us := newService(t)
	addr, _ := start(t, mxOpts(svc))
	c := dial(t, addr)
	if err := send(c, "sender@remote.example", []string{"a@example.test"}, msg("sender@remote.example", "a@example.test", "local delivery")); err != nil {
		t.Fatalf("send: got %v, want nil", err)
	}
	ms := inbox(t, svc, us[0])
	if len(ms) != 1 {
		t.Fatalf("INBOX of a: got %d messages, want 1", len(ms))
	}
	if ms[0].Subject != "local delivery" {
		t.Errorf("subject: got %q, want %q", ms[0].Subject, "local delivery")
	}
	raw, err := svc.ReadMessage(context.Background(), ms[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Return-Path: <sender@remote.example>", "Received: from client.test", "with ESMTP", "Hello, local delivery."} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("stored message: missing %q in:\n%s", want, raw)
		}
	}
}

func TestMXThreeRecipientsStoredOnce(t *testing.T) {
	svc, us := newService(t)
	addr, _ := start(t, mxOpts(svc))
	c := dial(t, addr)
	body := msg("x@remote.example", "a@example.test", "three") + strings.Repeat("a long body line to get past the segment minimum\r\n", 100)
	if err := send(c, "x@remote.example", []string{"a@example.test", "b@example.test", "c@example.test"}, body); err != nil {
		t.Fatalf("send: got %v, want nil", err)
	}
	var segs [][]string
	for _, u := range us {
		ms := inbox(t, svc, u)
		if len(ms) != 1 {
			t.Fatalf("INBOX of %s: got %d messages, want 1", u.Address, len(ms))
		}
		var hs []string
		for _, s := range ms[0].Segments {
			hs = append(hs, s.Hash)
		}
		segs = append(segs, hs)
	}
	for i := 1; i < len(segs); i++ {
		if !slices.Equal(segs[i], segs[0]) {
			t.Errorf("segments of %s: got %v, want the same as %s: %v", us[i].Address, segs[i], us[0].Address, segs[0])
		}
	}
}

func TestMXRefusals(t *testing.T) {
	svc, _ := newService(t)
	opts := mxOpts(svc)
	opts.MaxMessageBytes = 2000
	opts.MaxRecipients = 2
	addr, _ := start(t, opts)
	tests := []struct {
		name string
		to   []string
		body string
		want string
	}{
		{"relay refused", []string{"someone@elsewhere.example"}, msg("x@r.example", "y@elsewhere.example", "relay"), "554 5.7.1"},
		{"unknown user", []string{"nobody@example.test"}, msg("x@r.example", "nobody@example.test", "unknown"), "550 5.1.1"},
		{"oversize", []string{"a@example.test"}, msg("x@r.example", "a@example.test", "big") + strings.Repeat("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n", 40), "552 5.3.4"},
		{"long line over the size limit", []string{"a@example.test"}, msg("x@r.example", "a@example.test", "long") + strings.Repeat("x", 2100) + "\r\n", "552 5.3.4"},
		{"long line within the size limit", []string{"a@example.test"}, msg("x@r.example", "a@example.test", "long ok") + strings.Repeat("y", 1500) + "\r\n", "ok"},
		{"too many recipients", []string{"a@example.test", "b@example.test", "c@example.test"}, msg("x@r.example", "a@example.test", "many"), "452 4.5.3"},
		{"plus address", []string{"a+tag@example.test"}, msg("x@r.example", "a+tag@example.test", "plus"), "ok"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, addr)
			if got := code(send(c, "x@r.example", tc.to, tc.body)); got != tc.want {
				t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
			}
		})
	}
}

func TestEHLOCapabilities(t *testing.T) {
	svc, _ := newService(t)
	opts := mxOpts(svc)
	opts.TLSConfig = testTLS(t)
	addr, _ := start(t, opts)
	c := dial(t, addr)
	for _, ext := range []string{"STARTTLS", "SIZE", "8BITMIME", "PIPELINING", "ENHANCEDSTATUSCODES", "SMTPUTF8"} {
		if ok, _ := c.Extension(ext); !ok {
			t.Errorf("EHLO: got no %s, want it advertised", ext)
		}
	}
	if ok, _ := c.Extension("AUTH"); ok {
		t.Errorf("EHLO on MX: got AUTH advertised, want none")
	}
	if _, p := c.Extension("SIZE"); p != "52428800" {
		t.Errorf("SIZE: got %q, want core's default 52428800", p)
	}
}

func TestMaxConnections(t *testing.T) {
	svc, _ := newService(t)
	opts := mxOpts(svc)
	opts.MaxConnections = 1
	addr, _ := start(t, opts)
	first := dial(t, addr) // holds the only slot
	_ = first
	got := greeting(t, addr)
	if !strings.HasPrefix(got, "421 4.7.0") {
		t.Errorf("second connection: got %q, want 421 4.7.0", got)
	}
}

func TestRatePerIP(t *testing.T) {
	svc, _ := newService(t)
	opts := mxOpts(svc)
	opts.RatePerMinute = 3 // one connection and two messages
	addr, _ := start(t, opts)
	c := dial(t, addr)
	for i, want := range []string{"ok", "ok", "450 4.7.1"} {
		err := send(c, "x@r.example", []string{"a@example.test"}, msg("x@r.example", "a@example.test", "rate"))
		if got := code(err); got != want {
			t.Errorf("message %d: got %s, want %s", i+1, got, want)
		}
		if err != nil {
			c.Reset()
		}
	}
	if got := greeting(t, addr); !strings.HasPrefix(got, "421 4.7.0") {
		t.Errorf("new connection over the rate: got %q, want 421 4.7.0", got)
	}
}

// greeting connects and returns the first reply line.
func greeting(t *testing.T, addr string) string {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(nc).ReadString('\n')
	if err != nil {
		t.Fatalf("read greeting: %v", err)
	}
	return strings.TrimSpace(line)
}

func TestShutdownTells421(t *testing.T) {
	svc, _ := newService(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.New(mxOpts(svc))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(nc)
	if l, _ := r.ReadString('\n'); !strings.HasPrefix(l, "220 ") {
		t.Fatalf("greeting: got %q, want 220", l)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: got %v, want nil", err)
	}
	if l, _ := r.ReadString('\n'); !strings.HasPrefix(l, "421 ") {
		t.Errorf("idle session after Shutdown: got %q, want 421", l)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve: got %v, want nil", err)
	}
}

func TestShutdownLetsDataFinish(t *testing.T) {
	svc, us := newService(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.New(mxOpts(svc))
	go srv.Serve(ln)
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(nc)
	expect := func(prefix string) {
		t.Helper()
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("waiting for %q: %v", prefix, err)
			}
			if len(l) > 3 && l[3] == '-' {
				continue // continuation line
			}
			if !strings.HasPrefix(l, prefix) {
				t.Fatalf("got %q, want %s", strings.TrimSpace(l), prefix)
			}
			return
		}
	}
	expect("220")
	for _, step := range []struct{ cmd, want string }{
		{"EHLO client.test", "250"}, {"MAIL FROM:<x@r.example>", "250"}, {"RCPT TO:<a@example.test>", "250"}, {"DATA", "354"},
	} {
		nc.Write([]byte(step.cmd + "\r\n"))
		expect(step.want)
	}
	nc.Write([]byte("Subject: during shutdown\r\n\r\nfirst half\r\n"))
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shut <- srv.Shutdown(ctx)
	}()
	time.Sleep(100 * time.Millisecond) // let Shutdown start draining
	nc.Write([]byte("second half\r\n.\r\n"))
	expect("250")
	expect("421")
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: got %v, want nil", err)
	}
	if n := len(inbox(t, svc, us[0])); n != 1 {
		t.Errorf("INBOX: got %d messages, want the one sent during shutdown", n)
	}
}

func TestBDAT(t *testing.T) {
	svc, us := newService(t)
	addr, _ := start(t, mxOpts(svc))
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	body := "Subject: chunked\r\n\r\nsent with BDAT\r\n"
	nc.Write([]byte("EHLO client.test\r\nMAIL FROM:<x@r.example>\r\nRCPT TO:<a@example.test>\r\nBDAT " + itoa(len(body)) + " LAST\r\n" + body + "QUIT\r\n"))
	all, _ := io.ReadAll(nc)
	if !strings.Contains(string(all), "250 2.0.0 OK") {
		t.Errorf("BDAT transcript: got\n%s\nwant a 250 2.0.0 OK", all)
	}
	ms := inbox(t, svc, us[0])
	if len(ms) != 1 || ms[0].Subject != "chunked" {
		t.Errorf("INBOX: got %d messages, want the chunked one", len(ms))
	}
}
