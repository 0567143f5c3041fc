package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pebbleBinary finds Pebble as scripts/build-pebble.sh leaves it.
func pebbleBinary(t *testing.T) string {
	p := os.Getenv("STAMP_TEST_PEBBLE")
	if p == "" {
		home, _ := os.UserHomeDir()
		p = filepath.Join(home, ".cache", "stamp-test", "pebble")
	}
	if _, err := os.Stat(p); err != nil {
		t.Skip("SKIPPED: Pebble not built (scripts/build-pebble.sh, which .ci/run calls)")
	}
	if _, err := os.Stat(p + "-certs"); err != nil {
		t.Skip("SKIPPED: Pebble's test certificates missing (scripts/build-pebble.sh)")
	}
	return p
}

// startResolver runs dnsmasq answering 127.0.0.1 for the test's names.
func startResolver(t *testing.T, domains ...string) string {
	var records []string
	for _, d := range domains {
		records = append(records, "--address=/"+d+"/127.0.0.1")
	}
	return startDNSMasq(t, records...)
}

// startDNSMasq runs dnsmasq with the given record options on a free port.
func startDNSMasq(t *testing.T, records ...string) string {
	bin, err := exec.LookPath("dnsmasq")
	if err != nil {
		if _, err := os.Stat("/usr/sbin/dnsmasq"); err != nil {
			t.Skip("SKIPPED: dnsmasq not installed")
		}
		bin = "/usr/sbin/dnsmasq"
	}
	for try := 0; try < 5; try++ {
		addr := freePort(t)
		_, port, _ := net.SplitHostPort(addr)
		args := []string{"--keep-in-foreground", "--no-resolv", "--no-hosts", "--bind-interfaces",
			"--listen-address=127.0.0.1", "--port=" + port, "--user=root", "--pid-file="}
		args = append(args, records...)
		cmd := exec.Command(bin, args...)
		var out bytes.Buffer
		cmd.Stderr = &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		if cmd.ProcessState == nil {
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
				continue
			case <-time.After(100 * time.Millisecond):
			}
			t.Cleanup(func() { cmd.Process.Kill(); <-done })
			return addr
		}
	}
	t.Fatal("dnsmasq did not start")
	return ""
}

// TestACMEWithPebble obtains a certificate from Pebble (Let's Encrypt's
// test CA, run on loopback) with TLS-ALPN-01 answered on the https
// listener (the http listener is open too, for its redirect), for the hostname and each domain's mail./autoconfig./mta-sts.
// names; then the IMAPS and SMTP STARTTLS listeners present it, and it
// verifies against Pebble's root.
func TestACMEWithPebble(t *testing.T) { testACME(t, "tls-alpn-01") }

// TestACMEHTTP01WithPebble is TestACMEWithPebble with the HTTP-01
// challenge (RFC 8555 section 8.3) answered on the plain-HTTP listener,
// which otherwise only redirects to HTTPS; there is no https listener, so
// TLS-ALPN-01 could not have been used.
func TestACMEHTTP01WithPebble(t *testing.T) { testACME(t, "http-01") }

func testACME(t *testing.T, challenge string) {
	pebble := pebbleBinary(t)
	dns := startResolver(t, "acme.test", "example.test")
	dir := t.TempDir()
	httpsAddr, httpAddr, imapsAddr, smtpAddr := freePort(t), freePort(t), freePort(t), freePort(t)
	_, tlsPort, _ := net.SplitHostPort(httpsAddr)
	_, httpPort, _ := net.SplitHostPort(httpAddr)
	listenHTTPS := httpsAddr
	if challenge == "http-01" {
		listenHTTPS = ""
	}
	dirAddr, mgmtAddr := freePort(t), freePort(t)
	certs := pebble + "-certs"
	pcfg := filepath.Join(dir, "pebble.json")
	os.WriteFile(pcfg, []byte(fmt.Sprintf(`{"pebble": {"listenAddress": %q, "managementListenAddress": %q,
  "certificate": %q, "privateKey": %q, "httpPort": %s, "tlsPort": %s, "ocspResponderURL": "",
  "externalAccountBindingRequired": false}}`, dirAddr, mgmtAddr,
		filepath.Join(certs, "localhost", "cert.pem"), filepath.Join(certs, "localhost", "key.pem"), httpPort, tlsPort)), 0o600)
	pc := exec.Command(pebble, "-config", pcfg, "-dnsserver", dns)
	pc.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0")
	plog := &logBuffer{}
	pc.Stdout, pc.Stderr = plog, plog
	if err := pc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Process.Kill(); pc.Wait() })
	// Stamp starts once Pebble listens: a CA not up yet is retried after
	// 15 s (TestACMERetryWait), which would only slow this test down.
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", dirAddr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if i == 100 {
			t.Fatalf("Pebble not listening on %s after 10s:\n%s", dirAddr, plog)
		}
		time.Sleep(100 * time.Millisecond)
	}

	cfg := filepath.Join(dir, "stamp.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`hostname: mx.acme.test
listen: {smtp: %q, submission: "", submissions: "", imap: "", imaps: %q, pop3: "", pop3s: "", http: %q, https: %q, managesieve: ""}
tls:
  acme: {email: "admin@example.test", directory: "https://%s/dir", ca_cert: %q, challenge: %q}
`, smtpAddr, imapsAddr, httpAddr, listenHTTPS, dirAddr, filepath.Join(certs, "pebble.minica.pem"), challenge)), 0o600)
	stamp(t, dir, "", "domain", "add", "example.test", "--config", cfg)
	r := serve(t, dir, "--config", cfg)

	// Pebble's root for this run, from its management interface.
	mini, _ := os.ReadFile(filepath.Join(certs, "pebble.minica.pem"))
	minipool := x509.NewCertPool()
	minipool.AppendCertsFromPEM(mini)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: minipool}}}
	roots := x509.NewCertPool()
	for i := 0; i < 50; i++ {
		resp, err := hc.Get("https://" + mgmtAddr + "/roots/0")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if roots.AppendCertsFromPEM(b) {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}

	want := []string{"autoconfig.example.test", "mail.example.test", "mta-sts.example.test", "mx.acme.test"}
	verify := func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return fmt.Errorf("no certificate")
		}
		leaf := cs.PeerCertificates[0]
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		for _, n := range want {
			if _, err := leaf.Verify(x509.VerifyOptions{DNSName: n, Roots: roots, Intermediates: inter}); err != nil {
				return fmt.Errorf("%s: %v (issuer %q)", n, err, leaf.Issuer.CommonName)
			}
		}
		return nil
	}
	var last error
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		conn, err := tls.Dial("tcp", imapsAddr, &tls.Config{ServerName: "mail.example.test", InsecureSkipVerify: true})
		if err == nil {
			last = verify(conn.ConnectionState())
			conn.Close()
			if last == nil {
				break
			}
		} else {
			last = err
		}
		time.Sleep(500 * time.Millisecond)
	}
	if last != nil {
		t.Fatalf("IMAPS never presented a Pebble certificate for %v: %v\nstamp:\n%s\npebble:\n%s", want, last, r.stderr, plog.String())
	}

	// SMTP STARTTLS presents the same certificate (RFC 3207 by hand, to
	// read the handshake's state).
	cs, err := startTLSState(smtpAddr, "mx.acme.test")
	if err != nil {
		t.Fatalf("SMTP STARTTLS: %v", err)
	}
	if err := verify(cs); err != nil {
		t.Errorf("SMTP STARTTLS certificate: %v", err)
	}
	if !strings.Contains(cs.PeerCertificates[0].Issuer.CommonName, "Pebble") {
		t.Errorf("SMTP certificate issuer %q, want Pebble's", cs.PeerCertificates[0].Issuer.CommonName)
	}
}

// startTLSState says EHLO and STARTTLS and returns the TLS handshake state.
func startTLSState(addr, name string) (tls.ConnectionState, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	tp := textproto.NewConn(conn)
	if _, _, err := tp.ReadResponse(220); err != nil {
		return tls.ConnectionState{}, err
	}
	if _, err := tp.Cmd("EHLO client.test"); err != nil {
		return tls.ConnectionState{}, err
	}
	if _, _, err := tp.ReadResponse(250); err != nil {
		return tls.ConnectionState{}, err
	}
	if _, err := tp.Cmd("STARTTLS"); err != nil {
		return tls.ConnectionState{}, err
	}
	if _, _, err := tp.ReadResponse(220); err != nil {
		return tls.ConnectionState{}, err
	}
	tc := tls.Client(conn, &tls.Config{ServerName: name, InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		return tls.ConnectionState{}, err
	}
	return tc.ConnectionState(), nil
}
