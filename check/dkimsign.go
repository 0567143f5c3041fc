package check

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

// Errors returned by the DKIM signer.
var (
	ErrBadDKIMKey = errors.New("check: bad DKIM key")
	ErrNoDKIMKey  = errors.New("check: no DKIM key for the From domain")
	ErrNoFrom     = errors.New("check: message has no usable From header")
)

// DKIMKey is one DKIM signing key of a domain, published at
// <Selector>._domainkey.<Domain>.
type DKIMKey struct {
	Domain     string
	Selector   string
	Algorithm  string // "ed25519" (RFC 8463) or "rsa"
	PrivatePEM string // PKCS#8 "PRIVATE KEY" PEM block
}

// signedHeaders are the header fields signed when present (RFC 6376
// section 5.4.1's recommendations, plus MIME and list fields).
var signedHeaders = []string{
	"From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID",
	"In-Reply-To", "References", "MIME-Version", "Content-Type",
	"Content-Transfer-Encoding", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post",
}

// GenerateDKIMKeys makes one ed25519 and one RSA-2048 key for domain, with
// selectors stamp-ed-YYYYMM and stamp-rsa-YYYYMM from now.
func GenerateDKIMKeys(domain string, now time.Time) ([]DKIMKey, error) {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	if domain == "" {
		return nil, fmt.Errorf("%w: empty domain", ErrBadDKIMKey)
	}
	month := now.UTC().Format("200601")
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	var keys []DKIMKey
	for _, k := range []struct {
		alg, sel string
		key      any
	}{{"ed25519", "stamp-ed-" + month, edKey}, {"rsa", "stamp-rsa-" + month, rsaKey}} {
		der, err := x509.MarshalPKCS8PrivateKey(k.key)
		if err != nil {
			return nil, err
		}
		keys = append(keys, DKIMKey{Domain: domain, Selector: k.sel, Algorithm: k.alg,
			PrivatePEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))})
	}
	return keys, nil
}

// parse returns the key's crypto.Signer.
func (k DKIMKey) parse() (crypto.Signer, error) {
	b, _ := pem.Decode([]byte(k.PrivatePEM))
	if b == nil {
		return nil, fmt.Errorf("%w: %s %s: no PEM block", ErrBadDKIMKey, k.Domain, k.Selector)
	}
	var key any
	var err error
	switch b.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s: %v", ErrBadDKIMKey, k.Domain, k.Selector, err)
	}
	switch key := key.(type) {
	case ed25519.PrivateKey:
		if k.Algorithm != "ed25519" {
			return nil, fmt.Errorf("%w: %s %s: ed25519 key but algorithm %q", ErrBadDKIMKey, k.Domain, k.Selector, k.Algorithm)
		}
		return key, nil
	case *rsa.PrivateKey:
		if k.Algorithm != "rsa" {
			return nil, fmt.Errorf("%w: %s %s: RSA key but algorithm %q", ErrBadDKIMKey, k.Domain, k.Selector, k.Algorithm)
		}
		return key, nil
	}
	return nil, fmt.Errorf("%w: %s %s: unsupported key type %T", ErrBadDKIMKey, k.Domain, k.Selector, key)
}

// TXT returns the DKIM key record value (RFC 6376 section 3.6.1) for the
// key's public half.
func (k DKIMKey) TXT() (string, error) {
	s, err := k.parse()
	if err != nil {
		return "", err
	}
	var pub []byte
	switch p := s.Public().(type) {
	case ed25519.PublicKey:
		pub = p // RFC 8463 section 4: the raw 32 bytes
	case *rsa.PublicKey:
		pub, err = x509.MarshalPKIXPublicKey(p)
		if err != nil {
			return "", err
		}
	}
	return "v=DKIM1; k=" + k.Algorithm + "; p=" + base64.StdEncoding.EncodeToString(pub), nil
}

type signerKey struct {
	DKIMKey
	signer crypto.Signer
}

// Signer DKIM-signs outgoing mail with every key of the From domain.
type Signer struct {
	keys []signerKey
}

// NewSigner parses keys (of one or several domains).
func NewSigner(keys []DKIMKey) (*Signer, error) {
	s := &Signer{}
	for _, k := range keys {
		if k.Domain == "" || k.Selector == "" {
			return nil, fmt.Errorf("%w: domain and selector are required", ErrBadDKIMKey)
		}
		cs, err := k.parse()
		if err != nil {
			return nil, err
		}
		k.Domain = strings.ToLower(strings.TrimSuffix(k.Domain, "."))
		s.keys = append(s.keys, signerKey{k, cs})
	}
	return s, nil
}

// Sign returns raw with one DKIM-Signature header prepended per key of the
// From header's domain (or its nearest parent domain that has keys),
// relaxed/relaxed, signing the common header fields present.
func (s *Signer) Sign(raw []byte) ([]byte, error) {
	h, err := readHeader(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoFrom, err)
	}
	addrs, err := mail.ParseAddressList(h.Get("From"))
	if err != nil || len(addrs) == 0 {
		return nil, ErrNoFrom
	}
	domain := strings.ToLower(domainOf(addrs[0].Address))
	var use []signerKey
	for d := domain; d != "" && len(use) == 0; {
		for _, k := range s.keys {
			if k.Domain == d {
				use = append(use, k)
			}
		}
		_, d, _ = strings.Cut(d, ".")
		if !strings.Contains(d, ".") {
			break // never sign with a key for a bare TLD
		}
	}
	if len(use) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoDKIMKey, domain)
	}
	var present []string
	for _, k := range signedHeaders {
		if h.Has(k) {
			present = append(present, k)
		}
	}
	var sigs bytes.Buffer
	for _, k := range use {
		ds, err := dkim.NewSigner(&dkim.SignOptions{
			Domain: k.Domain, Selector: k.Selector, Signer: k.signer, Hash: crypto.SHA256,
			HeaderCanonicalization: dkim.CanonicalizationRelaxed,
			BodyCanonicalization:   dkim.CanonicalizationRelaxed,
			HeaderKeys:             present,
		})
		if err != nil {
			return nil, fmt.Errorf("check: dkim sign with %s: %w", k.Selector, err)
		}
		if _, err := ds.Write(raw); err != nil {
			ds.Close()
			return nil, fmt.Errorf("check: dkim sign with %s: %w", k.Selector, err)
		}
		if err := ds.Close(); err != nil {
			return nil, fmt.Errorf("check: dkim sign with %s: %w", k.Selector, err)
		}
		sigs.WriteString(ds.Signature())
	}
	return append(sigs.Bytes(), raw...), nil
}
