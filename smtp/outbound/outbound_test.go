package outbound_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"math/big"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/smtp/outbound"
	"github.com/stamp-mail/stamp/storage"
)

// fakeMX is a remote mail server under the test's control. Recipients'
// local parts choose the behaviour: "temp..." gets 451 on the first RCPT and
// is accepted afterwards, "always4..." always gets 451, "bad..." gets 550
// 5.1.1, anything else is accepted.
type fakeMX struct {
	addr string

	mu       sync.Mutex
	tempSeen map[string]bool
	received map[string]int // recipient -> messages received
	bodies   []string
	tls      []bool   // per transaction
	froms    []string // reverse-path per transaction
	reqTLS   []bool   // REQUIRETLS on MAIL, per transaction
	mailOpts []gosmtp.MailOptions
	rcptOpts map[string]gosmtp.RcptOptions // by recipient, when given
	txs      int
}

func startFakeMX(t *testing.T) *fakeMX {
	t.Helper()
	m := &fakeMX{tempSeen: map[string]bool{}, received: map[string]int{}}
	s := gosmtp.NewServer(gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &fakeSession{m: m, tls: isTLS}, nil
	}))
	s.Domain = "mx.remote.test"
	s.TLSConfig = selfSigned(t) // a certificate no client can verify: TLS must stay opportunistic
	s.ErrorLog = nopLog{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	m.addr = ln.Addr().String()
	return m
}

func (m *fakeMX) port() int {
	_, p, _ := net.SplitHostPort(m.addr)
	n, _ := strconv.Atoi(p)
	return n
}

func (m *fakeMX) count(rcpt string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.received[rcpt]
}

type nopLog struct{}

func (nopLog) Printf(string, ...any) {}
func (nopLog) Println(...any)        {}

type fakeSession struct {
	m      *fakeMX
	tls    bool
	from   string
	reqTLS bool
	rcpts  []string
}

func (s *fakeSession) Reset()        { s.rcpts = nil }
func (s *fakeSession) Logout() error { return nil }
func (s *fakeSession) Mail(from string, o *gosmtp.MailOptions) error {
	s.from, s.reqTLS = from, o != nil && o.RequireTLS
	if o != nil {
		s.m.mu.Lock()
		s.m.mailOpts = append(s.m.mailOpts, *o)
		s.m.mu.Unlock()
	}
	return nil
}

func (s *fakeSession) Rcpt(to string, o *gosmtp.RcptOptions) error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	if o != nil {
		if s.m.rcptOpts == nil {
			s.m.rcptOpts = map[string]gosmtp.RcptOptions{}
		}
		s.m.rcptOpts[to] = *o
	}
	local := to[:strings.IndexByte(to, '@')]
	switch {
	case strings.HasPrefix(local, "bad"):
		return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	case strings.HasPrefix(local, "always4"):
		return &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "try later"}
	case strings.HasPrefix(local, "temp") && !s.m.tempSeen[to]:
		s.m.tempSeen[to] = true
		return &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "greylisted, try later"}
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

func (s *fakeSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	for _, rc := range s.rcpts {
		s.m.received[rc]++
	}
	s.m.bodies = append(s.m.bodies, string(b))
	s.m.tls = append(s.m.tls, s.tls)
	s.m.froms = append(s.m.froms, s.from)
	s.m.reqTLS = append(s.m.reqTLS, s.reqTLS)
	s.m.txs++
	return nil
}

func selfSigned(t *testing.T) *tls.Config {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"mx.remote.test"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// startDNS runs dnsmasq on a free loopback port, answering for the test
// domains: remote.test (MX mx.remote.test), aonly.test (A only, implicit
// MX) and nullmx.test (RFC 7505 null MX); other .test names do not exist.
func startDNS(t *testing.T, extra ...string) string {
	t.Helper()
	bin, err := exec.LookPath("dnsmasq")
	if err != nil {
		t.Skip("SKIPPING: dnsmasq not installed (apt-get install -y dnsmasq-base)")
	}
	for try := 0; try < 5; try++ {
		if addr, ok := tryDNS(t, bin, extra); ok {
			return addr
		}
	}
	t.Fatal("dnsmasq did not start")
	return ""
}

// tryDNS starts dnsmasq on a port that was free a moment ago; it reports
// false if dnsmasq exits (the port was taken meanwhile, for TCP or UDP).
func tryDNS(t *testing.T, bin string, extra []string) (string, bool) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	_, port, _ := net.SplitHostPort(addr)
	pc.Close()
	var out bytes.Buffer
	args := append([]string{"--no-daemon", "--port=" + port, "--listen-address=127.0.0.1", "--bind-interfaces",
		"--no-resolv", "--no-hosts", "--local=/test/", "--pid-file=",
		"--mx-host=remote.test,mx.remote.test,10", "--host-record=mx.remote.test,127.0.0.1",
		"--host-record=aonly.test,127.0.0.1", "--mx-host=nullmx.test,.,0"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dnsmasq: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	for i := 0; i < 100; i++ {
		select {
		case <-exited:
			t.Logf("dnsmasq exited, retrying on another port: %s", out.String())
			return "", false
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := r.LookupMX(ctx, "remote.test")
		cancel()
		if err == nil {
			t.Cleanup(func() { cmd.Process.Kill(); <-exited })
			return addr, true
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Kill()
	<-exited
	t.Logf("dnsmasq does not answer: %s", out.String())
	return "", false
}

// env is a service with a local sender, a fake remote MX, DNS and a worker.
type env struct {
	svc    *core.Service
	sender core.User
	mx     *fakeMX
	dns    string
}

func newEnv(t *testing.T, dir string) *env {
	e := &env{dns: startDNS(t), mx: startFakeMX(t)}
	e.svc = coretest.New(t, coretest.Options{Dir: dir})
	e.sender = coretest.User(t, e.svc, "s@example.test")
	return e
}

func (e *env) options() outbound.Options {
	return outbound.Options{Core: e.svc, Hostname: "out.example.test", DNSServer: e.dns, Port: e.mx.port(),
		MinBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond, Workers: 2}
}

// run starts a worker until the test ends (or the returned stop is called).
func run(t *testing.T, o outbound.Options) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- outbound.New(o).Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: got %v, want nil", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// submit queues a message from the sender to rcpts and returns the queue id.
func (e *env) submit(t *testing.T, rcpts ...string) int64 {
	t.Helper()
	raw := "From: <s@example.test>\r\nTo: <" + strings.Join(rcpts, ">, <") + ">\r\nSubject: outbound test\r\nMessage-ID: <" +
		strconv.FormatInt(time.Now().UnixNano(), 36) + "@example.test>\r\n\r\nHello remote.\r\n"
	res, err := e.svc.Submit(context.Background(), e.sender, core.Envelope{MailFrom: "s@example.test", Recipients: rcpts}, []byte(raw))
	if err != nil {
		t.Fatalf("Submit: %v", err)
	}
	if res.QueueID == 0 {
		t.Fatalf("Submit: got no queue item")
	}
	return res.QueueID
}

// waitState polls the queue item until its state is want.
func waitState(t *testing.T, svc *core.Service, id int64, want string, minAttempts int) core.QueueItem {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		it, err := svc.GetQueueItem(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if it.State == want && it.Attempts >= minAttempts {
			return it
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue item %d: got state %q after %d attempts (results %v, last error %q), want %q", id, it.State, it.Attempts, it.Results, it.LastError, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// inboxRaw returns the raw messages of the sender's INBOX.
func (e *env) inboxRaw(t *testing.T) []string {
	ctx := context.Background()
	mb, err := e.svc.GetMailboxByRole(ctx, e.sender.ID, storage.RoleInbox)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := e.svc.ListMessages(ctx, e.sender.ID, mb.ID, core.ListQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		raw, err := e.svc.ReadMessage(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(raw))
	}
	return out
}

func coretestNew(t *testing.T, dir string) *core.Service {
	return coretest.New(t, coretest.Options{Dir: dir})
}
