package smtp_test

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/stamp-mail/stamp/core/coretest"
)

var nextIP atomic.Uint32

// freshIP returns a loopback address of its own for each call: the server
// sees each as a different client.
func freshIP() net.IP {
	n := nextIP.Add(1) + 512
	return net.IPv4(127, byte(n>>16), byte(n>>8), byte(n))
}

// greet connects from ip and returns the connection and its greeting line.
func greet(t *testing.T, addr string, ip net.IP) (net.Conn, string) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %v: %v", ip, err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("greeting from %v: %v", ip, err)
	}
	t.Cleanup(func() { c.Close() })
	return c, strings.TrimSpace(line)
}

// TestPerIPConnectionCap: one address at its cap is refused with 421 while
// another address is served.
func TestPerIPConnectionCap(t *testing.T) {
	svc, _ := newService(t)
	o := mxOpts(svc)
	o.MaxConnectionsPerIP = 3
	addr, _ := start(t, o)
	hog := freshIP()
	for i := 0; i < 3; i++ {
		if _, g := greet(t, addr, hog); !strings.HasPrefix(g, "220 ") {
			t.Fatalf("connection %d from %v: got %q, want 220", i+1, hog, g)
		}
	}
	if _, g := greet(t, addr, hog); !strings.HasPrefix(g, "421 4.7.0") {
		t.Errorf("4th connection from %v: got %q, want 421 4.7.0", hog, g)
	}
	// Another address is served, through a real client, to the end of a message.
	other := freshIP()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: other}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := gosmtp.NewClient(nc)
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatalf("other address EHLO: %v", err)
	}
	if err := send(c, "x@remote.example", []string{"a@example.test"}, msg("x@remote.example", "a@example.test", "served")); err != nil {
		t.Errorf("other address: %v", err)
	}
}

// TestGlobalCapExact: with 20 clients connecting at once, exactly
// MaxConnections of them are greeted.
func TestGlobalCapExact(t *testing.T) {
	svc, _ := newService(t)
	o := mxOpts(svc)
	o.MaxConnections = 5
	addr, _ := start(t, o)
	var wg sync.WaitGroup
	var greeted, refused atomic.Int32
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, g := greet(t, addr, freshIP())
			switch {
			case strings.HasPrefix(g, "220 "):
				greeted.Add(1)
			case strings.HasPrefix(g, "421 "):
				refused.Add(1)
			}
		}()
	}
	wg.Wait()
	if greeted.Load() != 5 || refused.Load() != 15 {
		t.Errorf("20 parallel clients, cap 5: got %d greeted and %d refused, want 5 and 15", greeted.Load(), refused.Load())
	}
}

// TestSharedRateAcrossNodes: two nodes on one database share the per-IP
// rate: a client alternating between them gets the limit once, not twice.
func TestSharedRateAcrossNodes(t *testing.T) {
	dir := t.TempDir()
	const limit = 10
	var addrs []string
	for i := 0; i < 2; i++ {
		svc := coretest.New(t, coretest.Options{Dir: dir})
		o := mxOpts(svc)
		o.RatePerMinute = limit
		a, _ := start(t, o)
		addrs = append(addrs, a)
	}
	ip := freshIP()
	for attempt := 0; attempt < 3; attempt++ {
		window := time.Now().Truncate(time.Minute)
		greeted := 0
		for i := 0; i < 3*limit; i++ {
			c, g := greet(t, addrs[i%2], ip)
			if strings.HasPrefix(g, "220 ") {
				greeted++
			}
			c.Close()
		}
		if !time.Now().Truncate(time.Minute).Equal(window) {
			t.Logf("a rate window ended during the run; again from a new address")
			ip = freshIP()
			continue
		}
		if greeted != limit {
			t.Errorf("%d connections from one address alternating between two nodes, limit %d per minute: got %d greeted, want %d",
				3*limit, limit, greeted, limit)
		}
		return
	}
}

// TestEnvelopeBytes: NUL, control characters and invalid UTF-8 in envelope
// addresses are refused (501 5.1.7 for the sender, 553 5.1.3 for a
// recipient) and never stored.
func TestEnvelopeBytes(t *testing.T) {
	svc, us := newService(t)
	addr, _ := start(t, mxOpts(svc))
	for _, from := range []string{"a\x00b@remote.example", "bad\xff@remote.example", "x\x01@remote.example", "del\x7f@remote.example"} {
		c := dial(t, addr)
		if err := c.Mail(from, nil); code(err) != "501 5.1.7" {
			t.Errorf("MAIL FROM %q: got %v, want 501 5.1.7", from, err)
		}
	}
	for _, to := range []string{"a\x00@example.test", "a\xc3@example.test"} {
		c := dial(t, addr)
		if err := c.Mail("ok@remote.example", nil); err != nil {
			t.Fatal(err)
		}
		if err := c.Rcpt(to, nil); code(err) != "553 5.1.3" {
			t.Errorf("RCPT TO %q: got %v, want 553 5.1.3", to, err)
		}
	}
	// UTF-8 that is well formed stays acceptable (RFC 6531).
	c := dial(t, addr)
	if err := send(c, "jos\u00e9@remote.example", []string{"a@example.test"}, msg("x@remote.example", "a@example.test", "utf8 sender")); err != nil {
		t.Errorf("UTF-8 sender: %v", err)
	}
	if n := len(inbox(t, svc, us[0])); n != 1 {
		t.Errorf("INBOX of a: got %d messages, want 1 (the UTF-8 one)", n)
	}
}
