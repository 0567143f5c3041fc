package server_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"blitiri.com.ar/go/spf"

	"github.com/stamp-mail/stamp/server"
)

// TestRoutingForwardPassesSPF: the whole server forwards mail for an alias
// with two local users and one remote address. The local copies are read
// over IMAP; the remote MX (fakeMX, found through DNS) receives the copy
// from an SRS reverse-path in our domain, which passes SPF at the
// destination (checked with blitiri.com.ar/go/spf against a dnsmasq serving
// the destination's view of DNS) where the original sender's domain would
// fail; the remote's bounce to the SRS address comes back to the original
// sender through the remote MX.
func TestRoutingForwardPassesSPF(t *testing.T) {
	mx := startFakeMX(t)
	alice, bob := "alice@"+localDomain, "bob@"+localDomain
	team := "team@" + localDomain
	s := startStamp(t, stampOptions{users: []string{alice, bob}, outboundPort: mx.port,
		setup: func(ctx context.Context, app *server.App) error {
			_, err := app.Service.AddAlias(ctx, team, []string{alice, bob, "carol@remote.test"}, nil)
			return err
		}})
	sender := "dave@remote.test"
	subject := "Forwarded to the team"
	if err := send(s.addr["smtp"], "mx.remote.test", nil, sender, []string{team}, simpleMessage(sender, team, subject, "Hello team.")); err != nil {
		t.Fatalf("MX to %s: got %q, want 250", team, replyOf(err))
	}
	for _, u := range []string{alice, bob} {
		m := s.findOne(t, u, subject)
		if !strings.Contains(m.header, "Subject: "+subject) {
			t.Errorf("%s: header lacks the subject:\n%s", u, m.header)
		}
	}
	var fw received
	select {
	case fw = <-mx.got:
	case <-time.After(deliveryWait):
		t.Fatalf("remote MX received no forward in %v", deliveryWait)
	}
	if !slices.Equal(fw.to, []string{"carol@remote.test"}) || !strings.HasPrefix(fw.from, "SRS0=") || !strings.HasSuffix(fw.from, "=remote.test=dave@"+localDomain) {
		t.Fatalf("forward envelope: got %s -> %v, want SRS0=...=remote.test=dave@%s -> [carol@remote.test]", fw.from, fw.to, localDomain)
	}
	if !strings.HasPrefix(string(fw.raw), "Delivered-To: "+team+"\r\n") {
		t.Errorf("forwarded message: want Delivered-To: %s first, got\n%.300s", team, fw.raw)
	}

	// The destination's DNS: our domain allows 127.0.0.1, the original sender's does not.
	dest := startDNS(t, lookDNSMasq(t), []string{
		txt(localDomain, "v=spf1 ip4:127.0.0.1 -all"),
		txt("remote.test", "v=spf1 ip4:192.0.2.1 -all"),
		txt("_dmarc.reject.test", "v=DMARC1; p=reject"), // startDNS's readiness probe
	})
	ip := net.ParseIP("127.0.0.1")
	r := resolver(dest)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := spf.CheckHostWithSender(ip, "mx."+localDomain, fw.from, spf.WithResolver(r), spf.WithContext(ctx))
	if got != spf.Pass {
		t.Errorf("SPF at the destination for %s: got %v (%v), want pass", fw.from, got, err)
	}
	if orig, _ := spf.CheckHostWithSender(ip, "mx."+localDomain, sender, spf.WithResolver(r), spf.WithContext(ctx)); orig != spf.Fail {
		t.Errorf("SPF for the unrewritten sender %s: got %v, want fail (what SRS avoids)", sender, orig)
	}

	// The destination bounces to the SRS address: it comes back to dave through the remote MX.
	dsn := "From: MAILER-DAEMON@mx.remote.test\r\nTo: <" + fw.from + ">\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
		"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\ncarol@remote.test: mailbox full\r\n"
	if err := send(s.addr["smtp"], "mx.remote.test", nil, "", []string{fw.from}, []byte(dsn)); err != nil {
		t.Fatalf("bounce to %s: got %q, want 250", fw.from, replyOf(err))
	}
	select {
	case b := <-mx.got:
		if b.from != "" || !slices.Equal(b.to, []string{sender}) || !strings.Contains(string(b.raw), "mailbox full") {
			t.Errorf("returned bounce: got %q -> %v, want <> -> [%s] with the DSN", b.from, b.to, sender)
		}
	case <-time.After(deliveryWait):
		t.Fatalf("remote MX received no returned bounce in %v", deliveryWait)
	}
}

// TestRoutingManageSieveListener: listen.managesieve is served by server.Run
// and scripts put there filter mail that arrives over SMTP, read over IMAP.
func TestRoutingManageSieveListener(t *testing.T) {
	alice := "alice@" + localDomain
	s := startStamp(t, stampOptions{users: []string{alice}})
	addr := s.addr["managesieve"]
	if addr == "" {
		t.Fatalf("no managesieve listener in %v", s.addr)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	until := func() string {
		var b strings.Builder
		for {
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("managesieve read: %v (%q)", err, b.String())
			}
			b.WriteString(line)
			if strings.HasPrefix(line, "OK") || strings.HasPrefix(line, "NO") || strings.HasPrefix(line, "BYE") {
				return b.String()
			}
		}
	}
	if g := until(); !strings.Contains(g, `"STARTTLS"`) {
		t.Errorf("greeting: got %q, want STARTTLS offered", g)
	}
	// Loopback with the generated certificate: plaintext login is allowed (as for IMAP).
	auth := base64.StdEncoding.EncodeToString([]byte("\x00" + alice + "\x00" + trustPassword))
	c.Write([]byte(`AUTHENTICATE "PLAIN" "` + auth + "\"\r\n"))
	if got := until(); !strings.HasPrefix(got, "OK") {
		t.Fatalf("AUTHENTICATE: got %q", got)
	}
	script := "require [\"fileinto\", \"mailbox\"];\r\nif header :contains \"subject\" \"[sieve]\" { fileinto :create \"Filtered\"; }\r\n"
	c.Write([]byte("PUTSCRIPT \"main\" {" + strconv.Itoa(len(script)) + "+}\r\n" + script + "\r\nSETACTIVE \"main\"\r\n"))
	if got := until(); !strings.HasPrefix(got, "OK") {
		t.Fatalf("PUTSCRIPT: got %q", got)
	}
	if got := until(); !strings.HasPrefix(got, "OK") {
		t.Fatalf("SETACTIVE: got %q", got)
	}
	subject := "[sieve] filtered over SMTP"
	if err := send(s.addr["smtp"], "mail.pass.test", nil, "friend@pass.test", []string{alice}, simpleMessage("friend@pass.test", alice, subject, "x")); err != nil {
		t.Fatalf("MX: got %q", replyOf(err))
	}
	ic := s.imapLogin(t, alice)
	defer ic.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ms := headers(t, ic, "Filtered"); len(ms) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Filtered folder: message not there after 10s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
