package check

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// Record is one DNS record a domain should publish.
type Record struct {
	Name  string // owner name, without a trailing dot
	Type  string // "MX" or "TXT"
	Value string // "10 mx.example.com" for MX, the text for TXT
}

// Statuses of a RecordCheck.
const (
	StatusFound    = "found"
	StatusMissing  = "missing"
	StatusMismatch = "mismatch"
	StatusError    = "error" // the lookup failed (timeout, SERVFAIL): unknown
)

// RecordCheck is what DNS holds for one expected record.
type RecordCheck struct {
	Record
	Status string   // StatusFound, StatusMissing, StatusMismatch or StatusError
	Seen   []string // the values found at Name of that type (for TXT, only the relevant kind)
	Err    string   // the lookup error for StatusError
}

// DNSRecords lists the records domain should publish for mail through
// mxHost signed with keys: MX, SPF (RFC 7208), one DKIM key record per key
// (RFC 6376 section 3.6), DMARC (RFC 7489), MTA-STS (RFC 8461 section 3.1)
// and TLS reporting (RFC 8460 section 3).
func DNSRecords(domain, mxHost string, keys []DKIMKey) []Record {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	mxHost = strings.ToLower(strings.TrimSuffix(mxHost, "."))
	recs := []Record{
		{domain, "MX", "10 " + mxHost},
		{domain, "TXT", "v=spf1 mx -all"},
	}
	for _, k := range keys {
		if !strings.EqualFold(strings.TrimSuffix(k.Domain, "."), domain) {
			continue
		}
		txt, err := k.TXT()
		if err != nil {
			continue
		}
		recs = append(recs, Record{k.Selector + "._domainkey." + domain, "TXT", txt})
	}
	// The MTA-STS id changes when the policy (the MX host) changes.
	sum := sha256.Sum256([]byte(mxHost))
	recs = append(recs,
		Record{"_dmarc." + domain, "TXT", "v=DMARC1; p=quarantine; rua=mailto:postmaster@" + domain},
		Record{"_mta-sts." + domain, "TXT", "v=STSv1; id=" + hex.EncodeToString(sum[:8])},
		Record{"_smtp._tls." + domain, "TXT", "v=TLSRPTv1; rua=mailto:postmaster@" + domain},
	)
	return recs
}

// CheckDomain looks up every record DNSRecords expects through cfg's
// resolver and says whether each is found, missing or different.
func CheckDomain(ctx context.Context, cfg Config, domain, mxHost string, keys []DKIMKey) []RecordCheck {
	dns := newDNSClient(cfg)
	var out []RecordCheck
	for _, r := range DNSRecords(domain, mxHost, keys) {
		c := RecordCheck{Record: r}
		if r.Type == "MX" {
			mxs, err := dns.LookupMX(ctx, r.Name)
			if err != nil && !isNotFound(err) {
				c.Status, c.Err = StatusError, err.Error()
				out = append(out, c)
				continue
			}
			want := strings.TrimPrefix(r.Value, "10 ")
			for _, mx := range mxs {
				host := strings.ToLower(strings.TrimSuffix(mx.Host, "."))
				c.Seen = append(c.Seen, strconv.Itoa(int(mx.Pref))+" "+host)
				if host == want {
					c.Status = StatusFound
				}
			}
			if c.Status == "" {
				c.Status = pick(len(c.Seen) == 0, StatusMissing, StatusMismatch)
			}
			out = append(out, c)
			continue
		}
		txts, err := dns.LookupTXT(ctx, r.Name)
		if err != nil && !isNotFound(err) {
			c.Status, c.Err = StatusError, err.Error()
			out = append(out, c)
			continue
		}
		kind := txtKind(r.Value)
		for _, t := range txts {
			if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(t)), strings.ToLower(kind)) {
				continue // another kind of TXT at the same name (site verification...)
			}
			c.Seen = append(c.Seen, t)
			if txtMatches(r.Value, t) {
				c.Status = StatusFound
			}
		}
		if c.Status == "" {
			c.Status = pick(len(c.Seen) == 0, StatusMissing, StatusMismatch)
		}
		out = append(out, c)
	}
	return out
}

// txtKind is the version tag that identifies a record's kind ("v=spf1").
func txtKind(v string) string {
	k, _, _ := strings.Cut(v, ";")
	k, _, _ = strings.Cut(k, " ")
	return k
}

// txtMatches compares an expected TXT value with a seen one: DKIM by
// public key, MTA-STS and TLS-RPT by kind only (their ids and report
// addresses are the owner's choice), others as tag lists ignoring spacing.
func txtMatches(want, seen string) bool {
	switch txtKind(want) {
	case "v=DKIM1":
		return tagValue(want, "p") == tagValue(seen, "p")
	case "v=STSv1", "v=TLSRPTv1":
		return true
	}
	norm := func(s string) string {
		s = strings.ToLower(strings.Join(strings.Fields(s), " "))
		return strings.TrimSuffix(strings.ReplaceAll(s, "; ", ";"), ";")
	}
	return norm(want) == norm(seen)
}

// tagValue returns the value of tag in a "k=v; k=v" list, whitespace removed.
func tagValue(s, tag string) string {
	for _, kv := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.TrimSpace(k) == tag {
			return strings.Join(strings.Fields(v), "")
		}
	}
	return ""
}

func pick(c bool, a, b string) string {
	if c {
		return a
	}
	return b
}
