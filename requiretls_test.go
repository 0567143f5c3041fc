package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// writeTestPKI writes a CA and a certificate for names signed by it, as
// PEM files in dir; it returns the CA, certificate and key paths.
func writeTestPKI(t *testing.T, dir string, names ...string) (caPath, certPath, keyPath string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Stamp REQUIRETLS test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(key)
	caPath, certPath, keyPath = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for p, b := range map[string][]byte{
		caPath:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		certPath: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPath:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}),
	} {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return caPath, certPath, keyPath
}

// TestRequireTLSBetweenServers: python's smtplib submits with REQUIRETLS
// (RFC 8689) to one stamp serve, which relays to another over STARTTLS,
// verifying its certificate against outbound.ca_cert and passing
// REQUIRETLS on; the message arrives. The same through a sender without
// the CA stays queued (451 4.7.5): the certificate could not be verified.
func TestRequireTLSBetweenServers(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("SKIPPED: python3 not installed")
	}
	dns := startDNSMasq(t, "--mx-host=b.test,b.test,10", "--host-record=b.test,127.0.0.1", "--local=/test/")
	pki := t.TempDir()
	caPath, certPath, keyPath := writeTestPKI(t, pki, "b.test")

	dirB := t.TempDir()
	cfgB := filepath.Join(dirB, "stamp.yaml")
	os.WriteFile(cfgB, []byte(fmt.Sprintf(`hostname: b.test
listen: {smtp: "127.0.0.1:0", submission: "", submissions: "", imap: "127.0.0.1:0", imaps: "", pop3: "", pop3s: "", http: "", https: "", managesieve: ""}
tls: {cert: %q, key: %q}
`, certPath, keyPath)), 0o600)
	stamp(t, dirB, "", "domain", "add", "b.test", "--config", cfgB)
	stamp(t, dirB, "the b password\n", "user", "add", "u@b.test", "--password-stdin", "--config", cfgB)
	b := serve(t, dirB, "--config", cfgB)
	caPEM, _ := os.ReadFile(caPath)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	inboxB := func() [][]byte {
		c, err := imapclient.DialStartTLS(b.addrs["imap"], &imapclient.Options{TLSConfig: &tls.Config{RootCAs: roots, ServerName: "b.test"}})
		if err != nil {
			t.Fatal(err)
		}
		return readFolder(t, c, "u@b.test", "the b password", "INBOX")
	}
	_, bPort, _ := strings.Cut(b.addrs["smtp"], ":")

	sender := func(caCert string) (string, string, *running) {
		dir := t.TempDir()
		cfg := opsConfig(t, dir, fmt.Sprintf("outbound: {dns_server: %q, port: %s, ca_cert: %q, max_age: 1h}\n", dns, bPort, caCert))
		stamp(t, dir, "a long password\n", "user", "add", "s@example.test", "--password-stdin", "--config", cfg)
		return dir, cfg, serve(t, dir, "--config", cfg)
	}
	script := `import smtplib, ssl, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]))
s.ehlo("python.test")
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
s.starttls(context=ctx)
s.ehlo("python.test")
assert s.has_extn("requiretls"), "no REQUIRETLS after STARTTLS"
s.login("s@example.test", "a long password")
s.sendmail("s@example.test", ["u@b.test"], "From: s@example.test\r\nTo: u@b.test\r\nSubject: %s\r\n\r\nsecret\r\n" % sys.argv[2], mail_options=["REQUIRETLS"])
s.quit()
print("sent")
`
	submit := func(a *running, subject string) {
		_, port, _ := strings.Cut(a.addrs["submission"], ":")
		out, err := exec.Command("python3", "-c", script, port, subject).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "sent") {
			t.Fatalf("python smtplib: %v\n%s", err, out)
		}
	}

	dirA, cfgA, a := sender(caPath)
	submit(a, "verified")
	var got [][]byte
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && len(got) == 0; time.Sleep(200 * time.Millisecond) {
		got = inboxB()
	}
	if len(got) != 1 || !bytes.Contains(got[0], []byte("Subject: verified")) || !bytes.Contains(got[0], []byte("with ESMTPS")) {
		t.Fatalf("B's INBOX: got %d messages, want the REQUIRETLS one received over TLS; A's queue:\n%s\nA:\n%s",
			len(got), stamp(t, dirA, "", "queue", "list", "--config", cfgA), a.stderr)
	}

	dirC, cfgC, c := sender("")
	submit(c, "unverifiable")
	var q string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if q = stamp(t, dirC, "", "queue", "list", "--config", cfgC); strings.Contains(q, "4.7.5") {
			break
		}
	}
	if !strings.Contains(q, "4.7.5") || !strings.Contains(q, "REQUIRETLS requires a valid certificate for b.test") {
		t.Errorf("sender without the CA: queue\n%s\nwant the item deferred with 4.7.5 REQUIRETLS requires a valid certificate", q)
	}
	if n := len(inboxB()); n != 1 {
		t.Errorf("B's INBOX: got %d messages, want only the verified one", n)
	}
}
