package server

import (
	"cmp"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/acme"

	"github.com/stamp-mail/stamp/storage"
)

// ACME (RFC 8555) with the TLS-ALPN-01 challenge (RFC 8737), on the https
// listener (port 443 in production), or HTTP-01 (RFC 8555 section 8.3) on
// the http listener (port 80). Account key, certificate and the pending
// challenge certificates and tokens live in the database's key-value table,
// so every node of a cluster serves the same certificate and answers a
// challenge that another node started.
const (
	acmeTLSALPN01    = "tls-alpn-01"
	acmeHTTP01       = "http-01"
	acmeAccountKey   = "acme/account"
	acmeCertKey      = "acme/cert"
	acmeChallengeKey = "acme/challenge/" // + name
	acmeHTTPTokenKey = "acme/http-01/"   // + token: the key authorization
	acmeLockKey      = "acme/lock"
	// acmeRenewBefore: renew when less than this is left (Let's Encrypt
	// certificates last 90 days; it advises renewing at 60).
	acmeRenewBefore = 30 * 24 * time.Hour
	// acmeCheckEvery is how often a node looks at the certificate.
	acmeCheckEvery = time.Hour
	// acmeRetryAfter is the wait after an attempt the CA answered and
	// refused (a failed validation counts against its rate limits: Let's
	// Encrypt allows 5 an hour per name).
	acmeRetryAfter = 10 * time.Minute
	// acmeUnreachableRetry is the first wait after an attempt that never
	// reached the CA (its directory refused the connection, DNS or the
	// network not up yet at boot): nothing was counted against any limit,
	// so it retries soon, doubling up to acmeRetryAfter.
	acmeUnreachableRetry = 15 * time.Second
	// acmeLockFor bounds one node's issuance before another may try.
	acmeLockFor = 10 * time.Minute
	// acmeTimeout bounds one issuance.
	acmeTimeout = 5 * time.Minute
)

// storedCert is a certificate as kept in the key-value table.
type storedCert struct {
	CertPEM string   `json:"cert"`
	KeyPEM  string   `json:"key"`
	Names   []string `json:"names"`
}

// acmeManager obtains and renews the certificate and serves it.
type acmeManager struct {
	cfg      ACMEConfig
	store    storage.Store
	log      *slog.Logger
	fallback *tls.Certificate
	names    func(ctx context.Context) ([]string, error)
	node     string

	// mu guards cert.
	mu   sync.Mutex
	cert *tls.Certificate
}

// acmeNames are the hostname and, for each local domain, its mail.,
// autoconfig. and mta-sts. names.
func acmeNames(hostname string, domains []string) []string {
	names := []string{strings.ToLower(hostname)}
	for _, d := range domains {
		for _, p := range []string{"mail.", "autoconfig.", "mta-sts."} {
			names = append(names, p+strings.ToLower(d))
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// configForClient is tls.Config.GetConfigForClient: for the validator's
// acme-tls/1 handshake (RFC 8737 section 3), a config that presents the
// challenge certificate and negotiates that protocol; nil (the base
// config) for everyone else.
func (m *acmeManager) configForClient(hello *tls.ClientHelloInfo) (*tls.Config, error) {
	if !slices.Contains(hello.SupportedProtos, acme.ALPNProto) {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := m.store.GetKV(ctx, acmeChallengeKey+strings.ToLower(hello.ServerName))
	if err != nil {
		return nil, fmt.Errorf("acme: no challenge pending for %q", hello.ServerName)
	}
	var sc storedCert
	if err := json.Unmarshal(b, &sc); err != nil {
		return nil, err
	}
	c, err := tls.X509KeyPair([]byte(sc.CertPEM), []byte(sc.KeyPEM))
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{c}, NextProtos: []string{acme.ALPNProto}, MinVersion: tls.VersionTLS12}, nil
}

// getCertificate is tls.Config.GetCertificate: the ACME certificate, else
// the fallback (self-signed or configured) one until the first is issued.
func (m *acmeManager) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	m.mu.Lock()
	c := m.cert
	m.mu.Unlock()
	if c != nil {
		return c, nil
	}
	return m.fallback, nil
}

// load reads the stored certificate into memory; it reports its expiry
// and names (zero if none).
func (m *acmeManager) load(ctx context.Context) (time.Time, []string) {
	b, err := m.store.GetKV(ctx, acmeCertKey)
	if err != nil {
		return time.Time{}, nil
	}
	var sc storedCert
	if json.Unmarshal(b, &sc) != nil {
		return time.Time{}, nil
	}
	c, err := tls.X509KeyPair([]byte(sc.CertPEM), []byte(sc.KeyPEM))
	if err != nil || len(c.Certificate) == 0 {
		return time.Time{}, nil
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		return time.Time{}, nil
	}
	c.Leaf = leaf
	m.mu.Lock()
	m.cert = &c
	m.mu.Unlock()
	return leaf.NotAfter, sc.Names
}

// run keeps the certificate fresh until ctx ends.
func (m *acmeManager) run(ctx context.Context) {
	unreachable := 0
	for {
		wait := acmeCheckEvery
		if err := m.check(ctx); err != nil {
			wait = acmeRetryWait(err, unreachable)
			if isUnreachable(err) {
				unreachable++
			} else {
				unreachable = 0
			}
			m.log.Warn("acme: certificate not obtained; will retry", "err", err, "in", wait)
		} else {
			unreachable = 0
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// acmeRetryWait is the wait after err, the latest of a run of failures
// of which the previous ones were unreachable-CA failures.
func acmeRetryWait(err error, unreachable int) time.Duration {
	if !isUnreachable(err) {
		return acmeRetryAfter
	}
	wait := acmeUnreachableRetry
	for i := 0; i < unreachable && wait < acmeRetryAfter; i++ {
		wait *= 2
	}
	return min(wait, acmeRetryAfter)
}

// isUnreachable reports whether err is a failure to talk to the CA at all
// (a dial, DNS or TLS error from the HTTP client) rather than an ACME
// error the CA returned. A deadline is not: the attempt may have run out
// of time waiting on a validation the CA counted.
func isUnreachable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	var ue *url.Error
	return errors.As(err, &ue)
}

// check obtains a certificate when there is none, it is due for renewal,
// or the names changed (a domain was added).
func (m *acmeManager) check(ctx context.Context) error {
	names, err := m.names(ctx)
	if err != nil {
		return err
	}
	exp, have := m.load(ctx)
	if !exp.IsZero() && time.Until(exp) > acmeRenewBefore && slices.Equal(have, names) {
		return nil
	}
	if !m.lock(ctx) {
		return nil // another node is at it; its certificate arrives through the database
	}
	defer m.store.DeleteKV(context.WithoutCancel(ctx), acmeLockKey)
	ictx, cancel := context.WithTimeout(ctx, acmeTimeout)
	defer cancel()
	if err := m.obtain(ictx, names); err != nil {
		return err
	}
	m.load(ctx)
	m.log.Info("acme: certificate obtained", "names", names)
	return nil
}

// lock takes the cluster-wide issuance lease (best effort: a KV row with an
// expiry; two nodes racing at the same instant may both issue, which costs
// a certificate, not correctness).
func (m *acmeManager) lock(ctx context.Context) bool {
	if b, err := m.store.GetKV(ctx, acmeLockKey); err == nil {
		var l struct {
			Node  string    `json:"node"`
			Until time.Time `json:"until"`
		}
		if json.Unmarshal(b, &l) == nil && l.Node != m.node && time.Now().Before(l.Until) {
			return false
		}
	}
	b, _ := json.Marshal(map[string]any{"node": m.node, "until": time.Now().Add(acmeLockFor)})
	return m.store.PutKV(ctx, acmeLockKey, b) == nil
}

func (m *acmeManager) client(ctx context.Context) (*acme.Client, error) {
	hc := http.DefaultClient
	if m.cfg.CACert != "" {
		pem, err := os.ReadFile(m.cfg.CACert)
		if err != nil {
			return nil, fmt.Errorf("tls.acme.ca_cert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.acme.ca_cert: no certificate in %s", m.cfg.CACert)
		}
		hc = &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	}
	key, err := m.accountKey(ctx)
	if err != nil {
		return nil, err
	}
	c := &acme.Client{Key: key, DirectoryURL: m.cfg.Directory, HTTPClient: hc, UserAgent: "stamp"}
	acct := &acme.Account{}
	if m.cfg.Email != "" {
		acct.Contact = []string{"mailto:" + m.cfg.Email}
	}
	if _, err := c.Register(ctx, acct, acme.AcceptTOS); err != nil && !errors.Is(err, acme.ErrAccountAlreadyExists) {
		return nil, fmt.Errorf("acme: register account: %w", err)
	}
	return c, nil
}

func (m *acmeManager) accountKey(ctx context.Context) (crypto.Signer, error) {
	if b, err := m.store.GetKV(ctx, acmeAccountKey); err == nil {
		blk, _ := pem.Decode(b)
		if blk != nil {
			if k, err := x509.ParseECPrivateKey(blk.Bytes); err == nil {
				return k, nil
			}
		}
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return nil, err
	}
	if err := m.store.PutKV(ctx, acmeAccountKey, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})); err != nil {
		return nil, err
	}
	return k, nil
}

// obtain runs one RFC 8555 order for names with TLS-ALPN-01 and stores
// the certificate.
func (m *acmeManager) obtain(ctx context.Context, names []string) error {
	c, err := m.client(ctx)
	if err != nil {
		return err
	}
	order, err := c.AuthorizeOrder(ctx, acme.DomainIDs(names...))
	if err != nil {
		return fmt.Errorf("acme: new order: %w", err)
	}
	for _, u := range order.AuthzURLs {
		z, err := c.GetAuthorization(ctx, u)
		if err != nil {
			return fmt.Errorf("acme: authorization: %w", err)
		}
		if z.Status == acme.StatusValid {
			continue
		}
		want := cmp.Or(m.cfg.Challenge, acmeTLSALPN01)
		var chal *acme.Challenge
		for _, ch := range z.Challenges {
			if ch.Type == want {
				chal = ch
			}
		}
		if chal == nil {
			return fmt.Errorf("acme: %s offers no %s challenge", z.Identifier.Value, want)
		}
		key, val, err := m.challengeResponse(c, chal, z.Identifier.Value)
		if err != nil {
			return err
		}
		if err := m.store.PutKV(ctx, key, val); err != nil {
			return err
		}
		defer m.store.DeleteKV(context.WithoutCancel(ctx), key)
		if _, err := c.Accept(ctx, chal); err != nil {
			return fmt.Errorf("acme: accept challenge for %s: %w", z.Identifier.Value, err)
		}
		if _, err := c.WaitAuthorization(ctx, z.URI); err != nil {
			return fmt.Errorf("acme: authorization of %s: %w", z.Identifier.Value, err)
		}
	}
	finalize := order.FinalizeURL
	ready, err := c.WaitOrder(ctx, order.URI)
	if err != nil {
		return fmt.Errorf("acme: order: %w", err)
	}
	if ready.FinalizeURL != "" {
		finalize = ready.FinalizeURL
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: names[0]}, DNSNames: names}, key)
	if err != nil {
		return err
	}
	chain, _, err := c.CreateOrderCert(ctx, finalize, csr, true)
	if err != nil {
		// Some servers (Pebble) answer the finalize request without the
		// order's Location, which x/crypto/acme needs to follow it; the
		// order URL we already know leads to the certificate all the same.
		done, werr := c.WaitOrder(ctx, order.URI)
		if werr != nil || done.CertURL == "" {
			return fmt.Errorf("acme: finalize: %w", err)
		}
		if chain, err = c.FetchCert(ctx, done.CertURL, true); err != nil {
			return fmt.Errorf("acme: fetch certificate: %w", err)
		}
	}
	var certPEM []byte
	for _, der := range chain {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	kd, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	b, err := json.Marshal(storedCert{CertPEM: string(certPEM), KeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})), Names: names})
	if err != nil {
		return err
	}
	return m.store.PutKV(ctx, acmeCertKey, b)
}

// challengeResponse returns what answers chal for name and the key it is
// kept under: the TLS-ALPN-01 certificate by name, or the HTTP-01 key
// authorization by token.
func (m *acmeManager) challengeResponse(c *acme.Client, chal *acme.Challenge, name string) (string, []byte, error) {
	if chal.Type == acmeHTTP01 {
		ka, err := c.HTTP01ChallengeResponse(chal.Token)
		return acmeHTTPTokenKey + chal.Token, []byte(ka), err
	}
	cert, err := c.TLSALPN01ChallengeCert(chal.Token, name)
	if err != nil {
		return "", nil, err
	}
	sc, err := encodeCert(cert)
	return acmeChallengeKey + strings.ToLower(name), sc, err
}

// ServeHTTP answers HTTP-01 validation requests (RFC 8555 section 8.3),
// GET /.well-known/acme-challenge/{token}, with the key authorization as
// text (whichever node started the challenge).
func (m *acmeManager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token := strings.TrimPrefix(r.URL.Path, acmeHTTPPath)
	if r.Method != http.MethodGet && r.Method != http.MethodHead || token == "" || strings.Contains(token, "/") {
		http.NotFound(w, r)
		return
	}
	ka, err := m.store.GetKV(r.Context(), acmeHTTPTokenKey+token)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Write(ka)
}

// acmeHTTPPath is where HTTP-01 tokens are asked for (RFC 8555 section 8.3).
const acmeHTTPPath = "/.well-known/acme-challenge/"

func encodeCert(c tls.Certificate) ([]byte, error) {
	var certPEM []byte
	for _, der := range c.Certificate {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		return nil, err
	}
	return json.Marshal(storedCert{CertPEM: string(certPEM), KeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}))})
}

// useACME makes cfg serve the ACME certificate (and answer TLS-ALPN-01
// challenges) and returns the manager, whose run must be started once the
// https listener is open.
func useACME(c Config, st storage.Store, names func(ctx context.Context) ([]string, error), cfg *tls.Config, log *slog.Logger) *acmeManager {
	m := &acmeManager{cfg: c.TLS.ACME, store: st, log: log, names: names, node: randomNode()}
	if len(cfg.Certificates) > 0 {
		fb := cfg.Certificates[0]
		m.fallback = &fb
	}
	cfg.Certificates = nil
	cfg.GetCertificate = m.getCertificate
	cfg.GetConfigForClient = m.configForClient
	return m
}

func randomNode() string {
	var b [8]byte
	rand.Read(b[:])
	return fmt.Sprintf("%x", b)
}
