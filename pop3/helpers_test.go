package pop3

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/storage"
)

// testEnv is a running POP3 server on 127.0.0.1:0 over a real core service.
type testEnv struct {
	svc     *core.Service
	srv     *Server
	addr    string
	certPEM []byte // the server certificate, for clients that verify
	served  chan error
}

type envOptions struct {
	tls            bool // offer STLS
	allowInsecure  bool
	maxConnections int
	maxPerIP       int
	fakeRemote     string // accepted connections report this remote address
	implicitTLS    bool   // the listener speaks TLS (port 995)
	idle           time.Duration
}

func newEnv(t testing.TB, o envOptions) *testEnv {
	t.Helper()
	svc := coretest.New(t, coretest.Options{})
	return newEnvWith(t, svc, o)
}

func newEnvWith(t testing.TB, svc *core.Service, o envOptions) *testEnv {
	t.Helper()
	e := &testEnv{svc: svc, served: make(chan error, 1)}
	opts := Options{Core: svc, Hostname: "pop.test.example", AllowInsecureAuth: o.allowInsecure, MaxConnections: o.maxConnections, MaxConnectionsPerIP: o.maxPerIP}
	if os.Getenv("STAMP_TEST_LOG") != "" {
		opts.Logger = testLogger()
	}
	if o.tls || o.implicitTLS {
		var cert tls.Certificate
		cert, e.certPEM = selfSigned(t)
		opts.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	var implicitConfig *tls.Config
	if o.implicitTLS {
		implicitConfig, opts.TLSConfig, opts.ImplicitTLS = opts.TLSConfig, nil, true
	}
	e.srv = New(opts)
	if o.idle > 0 {
		e.srv.idle = o.idle
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = ln.Addr().String()
	var l net.Listener = ln
	if o.fakeRemote != "" {
		l = fakeRemoteListener{Listener: ln, remote: o.fakeRemote}
	}
	if implicitConfig != nil {
		l = tls.NewListener(l, implicitConfig)
	}
	go func() { e.served <- e.srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: got %v, want nil", err)
		}
		if err := <-e.served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return e
}

// selfSigned makes a certificate for 127.0.0.1 and localhost.
func selfSigned(t testing.TB) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "localhost"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return cert, certPEM
}

// fakeRemoteListener makes accepted connections claim another remote address.
type fakeRemoteListener struct {
	net.Listener
	remote string
}

func (l fakeRemoteListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	addr, err := net.ResolveTCPAddr("tcp", l.remote)
	if err != nil {
		c.Close()
		return nil, err
	}
	return fakeRemoteConn{Conn: c, remote: addr}, nil
}

type fakeRemoteConn struct {
	net.Conn
	remote net.Addr
}

func (c fakeRemoteConn) RemoteAddr() net.Addr { return c.remote }

// user creates a user and returns it with its INBOX id.
func (e *testEnv) user(t testing.TB, addr string) (core.User, int64) {
	t.Helper()
	u := coretest.User(t, e.svc, addr)
	mb, err := e.svc.GetMailboxByRole(context.Background(), u.ID, storage.RoleInbox)
	if err != nil {
		t.Fatalf("inbox of %s: %v", addr, err)
	}
	return u, mb.ID
}

// add appends raw to a user's INBOX as stored bytes (no conversion).
func (e *testEnv) add(t testing.TB, u core.User, inbox int64, raw string) core.Message {
	t.Helper()
	m, err := e.svc.Append(context.Background(), u.ID, inbox, nil, time.Time{}, []byte(raw))
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return m
}

// inbox returns the messages now in a user's INBOX.
func (e *testEnv) inbox(t testing.TB, u core.User, inbox int64) []core.Message {
	t.Helper()
	ms, err := e.svc.MessagesByUID(context.Background(), u.ID, inbox, 1, 0)
	if err != nil {
		t.Fatalf("list inbox: %v", err)
	}
	return ms
}

// client is a raw POP3 client over net/textproto, for byte-exact checks.
type client struct {
	t    testing.TB
	nc   net.Conn
	text *textproto.Conn
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return newClient(t, nc)
}

// dialTLS connects to an implicit-TLS port, verifying the server certificate.
func dialTLS(t testing.TB, addr string, certPEM []byte) *client {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	d := &net.Dialer{Timeout: 5 * time.Second}
	nc, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{RootCAs: roots, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	return newClient(t, nc)
}

func newClient(t testing.TB, nc net.Conn) *client {
	t.Helper()
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	c := &client{t: t, nc: nc, text: textproto.NewConn(nc)}
	t.Cleanup(func() { c.nc.Close() })
	if g := c.line(); !strings.HasPrefix(g, "+OK ") {
		t.Fatalf("greeting: got %q, want +OK", g)
	}
	return c
}

// startTLS upgrades the connection after a successful STLS.
func (c *client) startTLS() {
	c.t.Helper()
	if r := c.cmd("STLS"); !strings.HasPrefix(r, "+OK") {
		c.t.Fatalf("STLS: got %q, want +OK", r)
	}
	tc := tls.Client(c.nc, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // self-signed test certificate
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake: %v", err)
	}
	c.nc = tc
	c.text = textproto.NewConn(tc)
}

// line reads one response line without CRLF.
func (c *client) line() string {
	c.t.Helper()
	l, err := c.text.ReadLine()
	if err != nil {
		c.t.Fatalf("read response: %v", err)
	}
	return l
}

// cmd sends a command line and returns the status line.
func (c *client) cmd(format string, args ...any) string {
	c.t.Helper()
	if err := c.text.PrintfLine(format, args...); err != nil {
		c.t.Fatalf("send: %v", err)
	}
	return c.line()
}

// expectOK sends a command and fails unless the reply is +OK.
func (c *client) expectOK(format string, args ...any) string {
	c.t.Helper()
	r := c.cmd(format, args...)
	if !strings.HasPrefix(r, "+OK") {
		c.t.Fatalf("%s: got %q, want +OK", fmt.Sprintf(format, args...), r)
	}
	return r
}

// multi reads a multi-line body and returns it byte-exact after removing
// the dot-stuffing; every line must end in CRLF.
func (c *client) multi() []byte {
	c.t.Helper()
	var out []byte
	for {
		l, err := c.text.R.ReadString('\n')
		if err != nil {
			c.t.Fatalf("read multi-line: %v (so far %q)", err, out)
		}
		if !strings.HasSuffix(l, "\r\n") || strings.ContainsAny(l[:len(l)-2], "\n") {
			c.t.Fatalf("line %q does not end in CRLF", l)
		}
		if l == ".\r\n" {
			return out
		}
		if strings.HasPrefix(l, ".") {
			if !strings.HasPrefix(l, "..") {
				c.t.Fatalf("line %q starts with an unstuffed dot", l)
			}
			l = l[1:]
		}
		out = append(out, l...)
	}
}

// lines reads a multi-line response as lines.
func (c *client) lines() []string {
	c.t.Helper()
	s := strings.TrimSuffix(string(c.multi()), "\r\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\r\n")
}

func (c *client) login(user string) {
	c.t.Helper()
	c.expectOK("USER %s", user)
	c.expectOK("PASS %s", coretest.Password)
}

// expectClosed fails unless the server closes the connection.
func (c *client) expectClosed() {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, err := c.text.R.ReadString('\n')
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.t.Fatalf("connection still open, want closed")
		}
		if err != nil {
			return
		}
	}
}

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// writeScript writes a file in a temp dir.
func writeScript(t testing.TB, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
