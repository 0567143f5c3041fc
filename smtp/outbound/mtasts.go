package outbound

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MTA-STS (RFC 8461): a domain publishes a TXT record at _mta-sts.<domain>
// naming a policy id, and the policy itself at
// https://mta-sts.<domain>/.well-known/mta-sts.txt. In mode "enforce" mail
// goes only to MX hosts the policy lists, over TLS with a certificate valid
// for the MX name; "testing" delivers as usual and reports what would have
// failed; "none" withdraws the policy.

// STS modes (RFC 8461 section 5).
const (
	stsEnforce = "enforce"
	stsTesting = "testing"
	stsNone    = "none"
)

const (
	// stsFetchTimeout bounds the policy fetch over HTTPS (RFC 8461 section
	// 3.3 asks for a timeout to guard against a slow or hostile server).
	stsFetchTimeout = 30 * time.Second
	// stsMaxPolicy is the largest policy body read (section 3.3: senders
	// may limit it, "e.g., 64 kilobytes").
	stsMaxPolicy = 64 << 10
	// stsMaxAge is the largest max_age (section 3.2: 31557600, one year).
	stsMaxAge = 31557600
	// DefaultSTSPort is the port of policy hosts (HTTPS).
	DefaultSTSPort = 443
)

// stsPolicy is a fetched MTA-STS policy as cached in the database.
type stsPolicy struct {
	ID      string    `json:"id"` // from the TXT record it was fetched for
	Mode    string    `json:"mode"`
	MX      []string  `json:"mx"`
	MaxAge  int64     `json:"max_age"` // seconds
	Fetched time.Time `json:"fetched"`
}

func (p *stsPolicy) expired(now time.Time) bool {
	return now.After(p.Fetched.Add(time.Duration(p.MaxAge) * time.Second))
}

// matches reports whether the MX host is one the policy lists (RFC 8461
// section 4.1): an exact name, or "*.example.com" for exactly one label
// in front of example.com.
func (p *stsPolicy) matches(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, pat := range p.MX {
		pat = strings.ToLower(strings.TrimSuffix(pat, "."))
		if rest, ok := strings.CutPrefix(pat, "*."); ok {
			label, parent, found := strings.Cut(host, ".")
			if found && label != "" && parent == rest {
				return true
			}
			continue
		}
		if pat == host {
			return true
		}
	}
	return false
}

var errNoSTSRecord = errors.New("no MTA-STS TXT record")

// parseSTSRecord returns the id of the one MTA-STS TXT record among txts
// (RFC 8461 section 3.1): "v=STSv1; id=...;" first, other records ignored,
// more than one STSv1 record is as none.
func parseSTSRecord(txts []string) (string, error) {
	var id string
	n := 0
	for _, t := range txts {
		fields := strings.Split(t, ";")
		if strings.TrimSpace(fields[0]) != "v=STSv1" {
			continue
		}
		n++
		id = ""
		for _, f := range fields[1:] {
			k, v, ok := strings.Cut(strings.TrimSpace(f), "=")
			if ok && k == "id" {
				id = v
			}
		}
	}
	switch {
	case n == 0:
		return "", errNoSTSRecord
	case n > 1:
		return "", fmt.Errorf("%d MTA-STS TXT records, want one", n)
	case id == "" || len(id) > 32 || !isAlnum(id):
		return "", fmt.Errorf("MTA-STS TXT record: bad id %q (1 to 32 letters and digits)", id)
	}
	return id, nil
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// parseSTSPolicy parses a policy body (RFC 8461 section 3.2): "key: value"
// lines ending in CRLF or LF; version STSv1, a mode, max_age, and mx lines
// unless the mode is none. Unknown keys are ignored.
func parseSTSPolicy(b []byte) (*stsPolicy, error) {
	p := &stsPolicy{MaxAge: -1}
	version := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 1024), stsMaxPolicy)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("policy line %q has no colon", line)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "version":
			version = v
		case "mode":
			if v != stsEnforce && v != stsTesting && v != stsNone {
				return nil, fmt.Errorf("policy mode %q, want enforce, testing or none", v)
			}
			p.Mode = v
		case "max_age":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 || len(v) > 10 {
				return nil, fmt.Errorf("policy max_age %q is not a number of seconds", v)
			}
			p.MaxAge = min(n, stsMaxAge)
		case "mx":
			if v == "" {
				return nil, errors.New("policy has an empty mx line")
			}
			p.MX = append(p.MX, v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	switch {
	case version != "STSv1":
		return nil, fmt.Errorf("policy version %q, want STSv1", version)
	case p.Mode == "":
		return nil, errors.New("policy has no mode")
	case p.MaxAge < 0:
		return nil, errors.New("policy has no max_age")
	case p.Mode != stsNone && len(p.MX) == 0:
		return nil, errors.New("policy lists no mx")
	}
	return p, nil
}

// newSTSClient is the HTTP client for policy fetches: the worker's
// resolver, the configured roots, no redirects (RFC 8461 section 3.3: "HTTP
// 3xx redirects MUST NOT be followed"), no proxy from the environment, and
// stsFetchTimeout for the whole exchange.
func (w *Worker) newSTSClient() *http.Client {
	port := strconv.Itoa(w.o.STSPort)
	d := &net.Dialer{Timeout: connectTimeout, Resolver: w.res}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			return d.DialContext(ctx, network, net.JoinHostPort(host, port))
		},
		TLSClientConfig:     &tls.Config{RootCAs: w.o.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: stsFetchTimeout,
		DisableKeepAlives:   true,
	}
	return &http.Client{Transport: tr, Timeout: stsFetchTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// fetchSTSPolicy fetches and parses the policy of domain (RFC 8461 section 3.3).
func (w *Worker) fetchSTSPolicy(ctx context.Context, domain string) (*stsPolicy, error) {
	url := "https://mta-sts." + domain + "/.well-known/mta-sts.txt"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := w.sts.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP status %s, want 200", url, resp.Status)
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "text/plain" {
		return nil, fmt.Errorf("%s: content type %q, want text/plain", url, resp.Header.Get("Content-Type"))
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, stsMaxPolicy+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	if len(b) > stsMaxPolicy {
		return nil, fmt.Errorf("%s: policy larger than %d bytes", url, stsMaxPolicy)
	}
	p, err := parseSTSPolicy(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	return p, nil
}

// stsPolicy returns the MTA-STS policy that applies to mail for domain, or
// nil when none does (RFC 8461 section 5.1): the cached policy while its
// max_age lasts and the TXT record names its id (or cannot be read); a
// freshly fetched one when the id changed or nothing valid is cached. A
// failed fetch falls back to a valid cached policy, else to none.
func (w *Worker) stsPolicy(ctx context.Context, log *slog.Logger, domain string) *stsPolicy {
	if w.o.Relay != "" || w.o.DisableMTASTS {
		return nil
	}
	now := time.Now()
	var cached *stsPolicy
	if b, err := w.svc.CachedSTSPolicy(ctx, domain); err != nil {
		log.Warn("reading the cached MTA-STS policy failed", "domain", domain, "err", err)
	} else if b != nil {
		cached = &stsPolicy{}
		if json.Unmarshal(b, cached) != nil || cached.expired(now) {
			cached = nil
		}
	}
	txts, err := w.res.LookupTXT(ctx, "_mta-sts."+domain)
	var id string
	if err == nil {
		id, err = parseSTSRecord(txts)
	}
	if err != nil {
		var de *net.DNSError
		if !errors.Is(err, errNoSTSRecord) && !(errors.As(err, &de) && de.IsNotFound) {
			log.Info("MTA-STS record lookup failed", "domain", domain, "err", err)
		}
		return cached
	}
	if cached != nil && cached.ID == id {
		return cached
	}
	p, err := w.fetchSTSPolicy(ctx, domain)
	if err != nil {
		log.Warn("MTA-STS policy fetch failed", "domain", domain, "id", id, "err", err, "cached", cached != nil)
		return cached
	}
	p.ID, p.Fetched = id, now
	if b, err := json.Marshal(p); err == nil {
		if err := w.svc.CacheSTSPolicy(ctx, domain, b); err != nil {
			log.Warn("caching the MTA-STS policy failed", "domain", domain, "err", err)
		}
	}
	log.Info("MTA-STS policy fetched", "domain", domain, "id", id, "mode", p.Mode, "mx", p.MX, "max_age", p.MaxAge)
	return p
}
