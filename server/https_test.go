package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stamp-mail/stamp/server"
)

// writeCert writes a self-signed certificate for 127.0.0.1 as a configured
// certificate would be (tls.cert / tls.key), and returns a pool trusting it.
func writeCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mail.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	c, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(c)
	return certFile, keyFile, pool
}

// TestPlainHTTPWithCertificate runs the whole server with a configured
// certificate: POST /v1/auth/login over plain HTTP never returns a token
// (nor with redirects followed by a client that would resend it), plain GETs
// redirect to the HTTPS listener, and HTTPS logins get Secure cookies and HSTS.
func TestPlainHTTPWithCertificate(t *testing.T) {
	dir := t.TempDir()
	cert, key, pool := writeCert(t, dir)
	cfgText := fmt.Sprintf("hostname: mail.test\ndata_dir: %q\nlisten:\n  smtp: \"\"\n  submission: \"\"\n  submissions: \"\"\n"+
		"  imap: \"\"\n  imaps: \"\"\n  pop3: \"\"\n  pop3s: \"\"\n  http: 127.0.0.1:0\n  https: 127.0.0.1:0\n  managesieve: \"\"\n"+
		"tls:\n  cert: %q\n  key: %q\n", filepath.Join(dir, "data"), cert, key)
	path := filepath.Join(dir, "stamp.yaml")
	if err := os.WriteFile(path, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := server.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	ctx := context.Background()
	app, err := server.Open(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	const pass = "a long password"
	if _, err := app.Service.CreateUser(ctx, "me@mail.test", pass); err != nil {
		t.Fatal(err)
	}
	app.Close()

	runCtx, cancel := context.WithCancel(ctx)
	ready := make(chan []server.Listening, 1)
	done := make(chan error, 1)
	go func() { done <- server.Run(runCtx, cfg, log, func(l []server.Listening) { ready <- l }) }()
	t.Cleanup(func() { cancel(); <-done })
	addr := map[string]string{}
	for _, l := range <-ready {
		addr[l.Name] = l.Addr
	}
	body := `{"username":"me@mail.test","password":"` + pass + `"}`
	tlsClient := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}

	// Plain HTTP, without and with redirects followed.
	for _, follow := range []bool{false, true} {
		c := &http.Client{Transport: tlsClient}
		if !follow {
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		}
		resp, err := c.Post("http://"+addr["http"]+"/v1/auth/login", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatalf("plain login: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 || strings.Contains(string(b), `"token"`) || len(resp.Cookies()) > 0 {
			t.Errorf("plain-HTTP login (follow redirects %v): got %d %s cookies %v, want no token", follow, resp.StatusCode, b, resp.Cookies())
		}
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get("http://" + addr["http"] + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, port, _ := net.SplitHostPort(addr["https"])
	if want := "https://127.0.0.1:" + port + "/"; resp.StatusCode != 301 || resp.Header.Get("Location") != want {
		t.Errorf("plain GET /: got %d %q, want 301 to %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}

	// HTTPS: a token, Secure cookies, HSTS.
	c := &http.Client{Transport: tlsClient}
	resp, err = c.Post("https://"+addr["https"]+"/v1/auth/login", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"token"`) {
		t.Fatalf("HTTPS login: got %d %s, want 200 with a token", resp.StatusCode, b)
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("HTTPS answer without Strict-Transport-Security")
	}
	for _, ck := range resp.Cookies() {
		if !ck.Secure {
			t.Errorf("HTTPS cookie %s: Secure=false, want true", ck.Name)
		}
	}
}
