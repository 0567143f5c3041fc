package imap

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/coretest"
	"github.com/stamp-mail/stamp/storage"
	"github.com/stamp-mail/stamp/storage/sqlite"
)

// testTimeout bounds each raw protocol read in tests.
const testTimeout = 20 * time.Second

type env struct {
	svc   *core.Service
	store storage.Store
	srv   *Server
	addr  string
	tls   *tls.Config // client side
}

func selfSigned(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool, ServerName: "localhost"}
}

// newEnv starts a real server on 127.0.0.1:0 over a fresh core.
func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	return newEnvIn(t, t.TempDir(), opts)
}

// memDir returns a temporary directory in memory when the system has one
// (benchmarks build big stores; fsync on a disk would dominate).
func memDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("/dev/shm", "stamp-imap-bench-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func newEnvIn(t testing.TB, dir string, opts Options) *env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "stamp.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := coretest.New(t, coretest.Options{Dir: dir, Deps: core.Deps{Store: st}})
	return newEnvWith(t, svc, st, opts)
}

// newEnvWith starts a real server on 127.0.0.1:0 over svc, whose store is st.
func newEnvWith(t testing.TB, svc *core.Service, st storage.Store, opts Options) *env {
	t.Helper()
	stls, ctls := selfSigned(t)
	opts.Core = svc
	if opts.TLSConfig == nil {
		opts.TLSConfig = stls
	}
	srv := New(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve returned %v, want nil", err)
		}
	})
	return &env{svc: svc, store: st, srv: srv, addr: ln.Addr().String(), tls: ctls}
}

// deliver runs raw through core's inbound pipeline to addr.
func (e *env) deliver(t testing.TB, to, raw string) {
	t.Helper()
	err := e.svc.Deliver(context.Background(), core.Envelope{
		MailFrom: "sender@remote.example", Recipients: []string{to},
		RemoteIP: net.ParseIP("192.0.2.1"), Helo: "remote.example",
	}, []byte(raw))
	if err != nil {
		t.Fatalf("deliver to %s: %v", to, err)
	}
}

// client logs in with imapclient (plain TCP: AllowInsecureAuth on loopback).
func (e *env) client(t testing.TB, user string, h *imapclient.UnilateralDataHandler) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(e.addr, &imapclient.Options{UnilateralDataHandler: h})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(user, coretest.Password).Wait(); err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return c
}

// raw is a line-level IMAP client for exact protocol checks.
type raw struct {
	t   testing.TB
	c   net.Conn
	r   *bufio.Reader
	tag int
}

func (e *env) raw(t testing.TB) *raw {
	t.Helper()
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	rc := &raw{t: t, c: c, r: bufio.NewReader(c)}
	if l := rc.line(); !strings.HasPrefix(l, "* OK") {
		t.Fatalf("greeting %q, want * OK", l)
	}
	return rc
}

// line reads one response line, with any literals inlined.
func (rc *raw) line() string {
	rc.t.Helper()
	rc.c.SetReadDeadline(time.Now().Add(testTimeout))
	var b strings.Builder
	for {
		l, err := rc.r.ReadString('\n')
		if err != nil {
			rc.t.Fatalf("read: %v (so far %q)", err, b.String())
		}
		b.WriteString(l)
		l = strings.TrimRight(l, "\r\n")
		if i := strings.LastIndexByte(l, '{'); i >= 0 && strings.HasSuffix(l, "}") {
			n, err := strconv.Atoi(strings.TrimSuffix(l[i+1:len(l)-1], "+"))
			if err == nil {
				buf := make([]byte, n)
				if _, err := ioReadFull(rc.r, buf); err != nil {
					rc.t.Fatalf("read literal: %v", err)
				}
				b.Write(buf)
				continue
			}
		}
		return strings.TrimRight(b.String(), "\r\n")
	}
}

func (rc *raw) send(format string, args ...any) string {
	rc.tag++
	tag := fmt.Sprintf("a%d", rc.tag)
	fmt.Fprintf(rc.c, tag+" "+format+"\r\n", args...)
	return tag
}

// cmd sends a command and returns the untagged lines and the tagged status line.
func (rc *raw) cmd(format string, args ...any) ([]string, string) {
	rc.t.Helper()
	tag := rc.send(format, args...)
	return rc.until(tag)
}

func (rc *raw) until(tag string) ([]string, string) {
	rc.t.Helper()
	var lines []string
	for {
		l := rc.line()
		if strings.HasPrefix(l, tag+" ") {
			return lines, l
		}
		lines = append(lines, l)
	}
}

// ok runs a command that must succeed.
func (rc *raw) ok(format string, args ...any) []string {
	rc.t.Helper()
	lines, st := rc.cmd(format, args...)
	if !strings.Contains(st, " OK") {
		rc.t.Fatalf("%s: got %q, want OK (untagged %q)", fmt.Sprintf(format, args...), st, lines)
	}
	return lines
}

func (rc *raw) starttls(cfg *tls.Config) {
	rc.t.Helper()
	rc.ok("STARTTLS")
	tc := tls.Client(rc.c, cfg)
	if err := tc.Handshake(); err != nil {
		rc.t.Fatalf("TLS handshake: %v", err)
	}
	rc.c, rc.r = tc, bufio.NewReader(tc)
}

func grep(lines []string, sub string) []string {
	var out []string
	for _, l := range lines {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return out
}

func ioReadFull(r *bufio.Reader, b []byte) (int, error) { return io.ReadFull(r, b) }

func netDial(addr string) (net.Conn, error) { return net.Dial("tcp", addr) }

func tlsListen(cfg *tls.Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	return tls.NewListener(ln, cfg), nil
}
