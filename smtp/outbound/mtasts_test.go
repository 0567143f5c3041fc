package outbound_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
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

// testCA issues certificates that only the worker under test trusts
// (through Options.RootCAs).
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Stamp MTA-STS test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

func (ca *testCA) issue(t *testing.T, names ...string) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: names,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// Names of the test world. Every MX name resolves to 127.0.0.1, where one
// go-smtp server answers, except mx.norequire.test (127.0.0.2, a server
// without REQUIRETLS). The MX certificate (signed by the test CA) is valid
// for the names in validMX; other names get a self-signed certificate.
var validMX = []string{"mx.sts.test", "mx.wrongmx.test", "mx.plain.test", "mx.norequire.test"}

// bogusPolicyDomains' policy hosts redirect (to a valid enforce policy),
// answer text/html, or send more than 64 KiB: RFC 8461 section 3.3 makes
// each a failed fetch, so the domain is as without a policy.
var bogusPolicyDomains = []string{"redirect.test", "html.test", "huge.test"}

const enforceAnyMX = "version: STSv1\nmode: enforce\nmx: mx.redirect.test\nmx: mx.html.test\nmx: mx.huge.test\nmax_age: 86400\n"

// policies are served by the HTTPS policy host, by domain.
var policies = map[string]string{
	"sts.test":     "version: STSv1\r\nmode: enforce\r\nmx: mx.sts.test\r\nmax_age: 86400\r\n",
	"badcert.test": "version: STSv1\nmode: enforce\nmx: *.badcert.test\nmax_age: 86400\n",
	"wrongmx.test": "version: STSv1\nmode: enforce\nmx: mx.elsewhere.test\nmax_age: 86400\n",
	"testing.test": "version: STSv1\nmode: testing\nmx: mx.testing.test\nmax_age: 86400\n",
}

func dnsRecords() []string {
	var a []string
	mx := func(domain, ip string) {
		a = append(a, "--mx-host="+domain+",mx."+domain+",10", "--host-record=mx."+domain+","+ip)
	}
	for _, d := range []string{"sts.test", "badcert.test", "wrongmx.test", "testing.test", "nopolicy.test", "plain.test"} {
		mx(d, "127.0.0.1")
	}
	// Policy hosts that answer wrongly; each would enforce a policy that
	// its MX (self-signed certificate) fails, were the answer taken.
	for _, d := range bogusPolicyDomains {
		mx(d, "127.0.0.1")
		a = append(a, "--txt-record=_mta-sts."+d+",v=STSv1; id=1", "--host-record=mta-sts."+d+",127.0.0.1")
	}
	mx("norequire.test", "127.0.0.2")
	for _, d := range []string{"sts.test", "badcert.test", "wrongmx.test", "testing.test", "nopolicy.test"} {
		a = append(a, "--txt-record=_mta-sts."+d+",v=STSv1; id=20261201", "--host-record=mta-sts."+d+",127.0.0.1")
	}
	return a
}

// stsWorld is a sender, DNS, the policy host and the MX servers.
type stsWorld struct {
	*env
	ca      *testCA
	mx2     *fakeMX // on 127.0.0.2, no REQUIRETLS
	stsPort int

	mu      sync.Mutex
	fetches map[string]int // policy fetches by domain
}

func newSTSWorld(t *testing.T) *stsWorld {
	t.Helper()
	w := &stsWorld{env: &env{dns: startDNS(t, dnsRecords()...)}, ca: newTestCA(t), fetches: map[string]int{}}
	valid := w.ca.issue(t, validMX...)
	self := selfSigned(t).Certificates[0]
	cfg := &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
		for _, n := range validMX {
			if strings.EqualFold(h.ServerName, n) {
				return &valid, nil
			}
		}
		return &self, nil
	}}
	for try := 0; ; try++ {
		mx, err := listenMX(t, "127.0.0.1:0", cfg, true)
		if err != nil {
			t.Fatal(err)
		}
		mx2, err := listenMX(t, net.JoinHostPort("127.0.0.2", strconv.Itoa(mx.port())), cfg, false)
		if err == nil {
			w.mx, w.mx2 = mx, mx2
			break
		}
		if try == 5 {
			t.Fatalf("no port free on both 127.0.0.1 and 127.0.0.2: %v", err)
		}
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		domain := strings.TrimPrefix(r.Host, "mta-sts.")
		domain, _, _ = strings.Cut(domain, ":")
		w.mu.Lock()
		w.fetches[domain]++
		w.mu.Unlock()
		switch domain {
		case "redirect.test":
			if r.URL.Path == "/.well-known/mta-sts.txt" {
				http.Redirect(rw, r, "/policy.txt", http.StatusMovedPermanently)
				return
			}
			rw.Header().Set("Content-Type", "text/plain")
			rw.Write([]byte(enforceAnyMX))
			return
		case "html.test":
			rw.Header().Set("Content-Type", "text/html")
			rw.Write([]byte(enforceAnyMX))
			return
		case "huge.test":
			rw.Header().Set("Content-Type", "text/plain")
			rw.Write([]byte(enforceAnyMX + strings.Repeat("x: y\n", 70<<10/5)))
			return
		}
		p, ok := policies[domain]
		if !ok || r.URL.Path != "/.well-known/mta-sts.txt" {
			http.NotFound(rw, r)
			return
		}
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		rw.Write([]byte(p))
	}))
	var names []string
	for d := range policies {
		names = append(names, "mta-sts."+d)
	}
	names = append(names, "mta-sts.nopolicy.test")
	for _, d := range bogusPolicyDomains {
		names = append(names, "mta-sts."+d)
	}
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{w.ca.issue(t, names...)}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, p, _ := net.SplitHostPort(srv.Listener.Addr().String())
	w.stsPort, _ = strconv.Atoi(p)
	w.svc = coretestNew(t, "")
	w.sender = coretest.User(t, w.svc, "s@example.test")
	return w
}

// listenMX starts a receiving go-smtp server on addr with STARTTLS from cfg.
func listenMX(t *testing.T, addr string, cfg *tls.Config, requireTLS bool) (*fakeMX, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	m := &fakeMX{tempSeen: map[string]bool{}, received: map[string]int{}, addr: ln.Addr().String()}
	s := gosmtp.NewServer(gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &fakeSession{m: m, tls: isTLS}, nil
	}))
	s.Domain, s.TLSConfig, s.ErrorLog, s.EnableREQUIRETLS = "mx.test", cfg, nopLog{}, requireTLS
	s.EnableDSN = true
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return m, nil
}

func (w *stsWorld) options() outbound.Options {
	o := w.env.options()
	o.RootCAs, o.STSPort = w.ca.pool, w.stsPort
	return o
}

func (w *stsWorld) fetched(domain string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fetches[domain]
}

// send submits a message with the given extra header lines and REQUIRETLS.
func (w *stsWorld) send(t *testing.T, rcpt, header string, requireTLS bool) int64 {
	t.Helper()
	raw := "From: <s@example.test>\r\nTo: <" + rcpt + ">\r\nSubject: mta-sts test\r\n" + header +
		"Message-ID: <" + strconv.FormatInt(time.Now().UnixNano(), 36) + "@example.test>\r\n\r\nHello.\r\n"
	env := core.Envelope{MailFrom: "s@example.test", Recipients: []string{rcpt}, RequireTLS: requireTLS}
	if requireTLS {
		env.DSN = &core.DSNParams{Ret: "FULL"} // asked for, but RFC 8689 section 5 keeps the body out of bounces
	}
	res, err := w.svc.Submit(context.Background(), w.sender, env, []byte(raw))
	if err != nil || res.QueueID == 0 {
		t.Fatalf("Submit: %+v, %v", res, err)
	}
	return res.QueueID
}

// TestMTASTSEnforce: a policy in mode enforce with the listed MX and a
// valid certificate delivers over verified TLS; the policy is cached in the
// database and not fetched again while its id and max_age hold, and is
// fetched again when the TXT id differs from the cached one or max_age ran out.
func TestMTASTSEnforce(t *testing.T) {
	w := newSTSWorld(t)
	run(t, w.options())
	id := w.send(t, "ok@sts.test", "", false)
	waitState(t, w.svc, id, storage.QueueDelivered, 1)
	if got := w.mx.count("ok@sts.test"); got != 1 {
		t.Fatalf("remote received: got %d, want 1", got)
	}
	w.mx.mu.Lock()
	if !w.mx.tls[0] {
		t.Errorf("delivery under MTA-STS enforce: got TLS %v, want TLS", w.mx.tls)
	}
	w.mx.mu.Unlock()
	ctx := context.Background()
	b, err := w.svc.CachedSTSPolicy(ctx, "sts.test")
	var cached struct {
		ID, Mode string
		MX       []string
		MaxAge   int64 `json:"max_age"`
		Fetched  time.Time
	}
	if err != nil || json.Unmarshal(b, &cached) != nil || cached.ID != "20261201" || cached.Mode != "enforce" || cached.MaxAge != 86400 {
		t.Fatalf("cached policy: got %s, %v; want id 20261201, mode enforce, max_age 86400", b, err)
	}
	// Same id, within max_age: the cache answers.
	id = w.send(t, "ok2@sts.test", "", false)
	waitState(t, w.svc, id, storage.QueueDelivered, 1)
	if n := w.fetched("sts.test"); n != 1 {
		t.Errorf("policy fetches after two messages: got %d, want 1 (cached)", n)
	}
	// A cached policy of another id (the domain changed its policy): fetched again.
	stale := cached
	stale.ID, stale.Mode = "old", "testing"
	sb, _ := json.Marshal(map[string]any{"id": stale.ID, "mode": stale.Mode, "mx": []string{"other.test"}, "max_age": 86400, "fetched": time.Now()})
	if err := w.svc.CacheSTSPolicy(ctx, "sts.test", sb); err != nil {
		t.Fatal(err)
	}
	id = w.send(t, "ok3@sts.test", "", false)
	waitState(t, w.svc, id, storage.QueueDelivered, 1)
	if n := w.fetched("sts.test"); n != 2 {
		t.Errorf("policy fetches after the id changed: got %d, want 2", n)
	}
	// Same id but max_age ran out: fetched again.
	sb, _ = json.Marshal(map[string]any{"id": "20261201", "mode": "enforce", "mx": []string{"mx.sts.test"}, "max_age": 60,
		"fetched": time.Now().Add(-time.Hour)})
	if err := w.svc.CacheSTSPolicy(ctx, "sts.test", sb); err != nil {
		t.Fatal(err)
	}
	id = w.send(t, "ok4@sts.test", "", false)
	waitState(t, w.svc, id, storage.QueueDelivered, 1)
	if n := w.fetched("sts.test"); n != 3 {
		t.Errorf("policy fetches after max_age ran out: got %d, want 3", n)
	}
}

// TestMTASTSEnforceDefers: under mode enforce, an MX whose certificate is
// not valid for its name, or an MX the policy does not list, gets no mail:
// the message stays queued with a 4.7.5 reason.
func TestMTASTSEnforceDefers(t *testing.T) {
	w := newSTSWorld(t)
	run(t, w.options())
	for _, c := range []struct{ rcpt, want string }{
		{"a@badcert.test", "requires a valid certificate for mx.badcert.test"},
		{"b@wrongmx.test", "does not list MX host mx.wrongmx.test"},
	} {
		id := w.send(t, c.rcpt, "", false)
		it := waitState(t, w.svc, id, storage.QueueQueued, 2)
		if got := it.Results[c.rcpt]; !strings.HasPrefix(got, "451 4.7.5 ") || !strings.Contains(got, c.want) || !strings.Contains(got, "MTA-STS") {
			t.Errorf("%s: result %q, want 451 4.7.5 ... MTA-STS ... %s", c.rcpt, got, c.want)
		}
		if n := w.mx.count(c.rcpt); n != 0 {
			t.Errorf("%s: remote received %d messages, want none", c.rcpt, n)
		}
	}
	if n := len(w.inboxRaw(t)); n != 0 {
		t.Errorf("sender INBOX: got %d messages, want no DSN while retrying", n)
	}
}

// TestMTASTSEnforceBounces: when the retry period ends, the sender gets a
// DSN that says why.
func TestMTASTSEnforceBounces(t *testing.T) {
	w := newSTSWorld(t)
	o := w.options()
	o.MaxAge = time.Millisecond // give up on the first temporary failure
	run(t, o)
	id := w.send(t, "a@badcert.test", "", false)
	waitState(t, w.svc, id, storage.QueueFailed, 1)
	dsns := w.inboxRaw(t)
	if len(dsns) != 1 {
		t.Fatalf("sender INBOX: got %d messages, want 1 DSN", len(dsns))
	}
	for _, want := range []string{"Action: failed", "Remote-MTA: dns; mx.badcert.test\r\n", "Diagnostic-Code: smtp; 451 4.7.5 the MTA-STS policy of badcert.test (mode enforce) requires a valid certificate for mx.badcert.test"} {
		if !strings.Contains(dsns[0], want) {
			t.Errorf("DSN lacks %q:\n%s", want, dsns[0])
		}
	}
	if n := w.mx.count("a@badcert.test"); n != 0 {
		t.Errorf("remote received %d messages, want none", n)
	}
}

// TestMTASTSTestingAndNone: mode testing delivers despite an invalid
// certificate; a domain whose policy cannot be fetched (404, a redirect,
// text/html, over 64 KiB) is treated as without policy; "TLS-Required: No"
// (RFC 8689 section 3) makes an enforce policy be ignored.
func TestMTASTSTestingAndNone(t *testing.T) {
	w := newSTSWorld(t)
	run(t, w.options())
	for _, c := range []struct{ rcpt, header string }{
		{"t@testing.test", ""},
		{"n@nopolicy.test", ""},
		{"x@badcert.test", "TLS-Required: No\r\n"},
		{"r@redirect.test", ""},
		{"h@html.test", ""},
		{"b@huge.test", ""},
	} {
		id := w.send(t, c.rcpt, c.header, false)
		waitState(t, w.svc, id, storage.QueueDelivered, 1)
		if n := w.mx.count(c.rcpt); n != 1 {
			t.Errorf("%s: remote received %d, want 1", c.rcpt, n)
		}
	}
	if n := w.fetched("nopolicy.test"); n != 1 {
		t.Errorf("nopolicy.test fetches: got %d, want 1", n)
	}
	for _, d := range append([]string{"nopolicy.test"}, bogusPolicyDomains...) {
		if b, err := w.svc.CachedSTSPolicy(context.Background(), d); b != nil || err != nil {
			t.Errorf("%s: cached policy %s, %v; want none", d, b, err)
		}
	}
}

// TestRequireTLS (RFC 8689 section 4.2.1): REQUIRETLS mail goes over TLS
// with a valid certificate and carries REQUIRETLS to a server that offers
// it; a server with an invalid certificate gets nothing (retried); one
// without REQUIRETLS makes the message bounce with 5.7.30.
func TestRequireTLS(t *testing.T) {
	w := newSTSWorld(t)
	run(t, w.options())
	for _, rcpt := range []string{"r@sts.test", "r@plain.test"} {
		id := w.send(t, rcpt, "", true)
		waitState(t, w.svc, id, storage.QueueDelivered, 1)
	}
	w.mx.mu.Lock()
	if len(w.mx.reqTLS) != 2 || !w.mx.reqTLS[0] || !w.mx.reqTLS[1] || !w.mx.tls[0] || !w.mx.tls[1] {
		t.Errorf("REQUIRETLS deliveries: got REQUIRETLS %v, TLS %v; want both true twice", w.mx.reqTLS, w.mx.tls)
	}
	w.mx.mu.Unlock()

	id := w.send(t, "r@nopolicy.test", "", true) // self-signed certificate
	it := waitState(t, w.svc, id, storage.QueueQueued, 2)
	if got := it.Results["r@nopolicy.test"]; !strings.HasPrefix(got, "451 4.7.5 REQUIRETLS requires a valid certificate for mx.nopolicy.test") {
		t.Errorf("REQUIRETLS to an invalid certificate: result %q, want 451 4.7.5 REQUIRETLS requires a valid certificate...", got)
	}

	id = w.send(t, "r@norequire.test", "", true)
	it = waitState(t, w.svc, id, storage.QueueFailed, 1)
	if got := it.Results["r@norequire.test"]; !strings.HasPrefix(got, "550 5.7.30 mx.norequire.test does not support REQUIRETLS") {
		t.Errorf("REQUIRETLS to a server without it: result %q, want 550 5.7.30 ...", got)
	}
	if n := w.mx.count("r@nopolicy.test") + w.mx2.count("r@norequire.test"); n != 0 {
		t.Errorf("REQUIRETLS mail delivered %d times where it must not be", n)
	}
	var dsn string
	for _, m := range w.inboxRaw(t) {
		if strings.Contains(m, "r@norequire.test") {
			dsn = m
		}
	}
	if !strings.Contains(dsn, "Status: 5.7.30") || strings.Contains(dsn, "Hello.") {
		t.Errorf("bounce of REQUIRETLS mail: want Status 5.7.30 and headers only, got:\n%s", dsn)
	}
}
