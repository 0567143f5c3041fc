package check

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestDNSRecords(t *testing.T) {
	keys, err := GenerateDKIMKeys("example.test", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	recs := DNSRecords("Example.test.", "mx.example.test", keys)
	want := []struct{ name, typ, prefix string }{
		{"example.test", "MX", "10 mx.example.test"},
		{"example.test", "TXT", "v=spf1 mx -all"},
		{"stamp-ed-202611._domainkey.example.test", "TXT", "v=DKIM1; k=ed25519; p="},
		{"stamp-rsa-202611._domainkey.example.test", "TXT", "v=DKIM1; k=rsa; p="},
		{"_dmarc.example.test", "TXT", "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.test"},
		{"_mta-sts.example.test", "TXT", "v=STSv1; id="},
		{"_smtp._tls.example.test", "TXT", "v=TLSRPTv1; rua=mailto:postmaster@example.test"},
	}
	if len(recs) != len(want) {
		t.Fatalf("records: got %d (%v), want %d", len(recs), recs, len(want))
	}
	for i, w := range want {
		r := recs[i]
		if r.Name != w.name || r.Type != w.typ || !strings.HasPrefix(r.Value, w.prefix) {
			t.Errorf("record %d: got %s %s %q, want %s %s %q...", i, r.Name, r.Type, r.Value, w.name, w.typ, w.prefix)
		}
	}
}

func TestCheckDomain(t *testing.T) {
	keys, err := GenerateDKIMKeys("good.test", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var recs []dnsRec
	for _, r := range DNSRecords("good.test", "mx.good.test", keys) {
		v := r.Value
		if r.Type == "MX" {
			v = strings.Replace(v, "10 ", "10 ", 1)
		}
		if strings.HasPrefix(r.Name, "stamp-rsa-") {
			continue // missing
		}
		if strings.HasPrefix(r.Name, "_dmarc.") {
			v = "v=DMARC1; p=none" // mismatch
		}
		recs = append(recs, dnsRec{r.Name, r.Type, v})
	}
	recs = append(recs, dnsRec{"good.test", "TXT", "google-site-verification=abc"})
	dns := startDNS(t, recs)

	got := CheckDomain(context.Background(), Config{DNSServer: dns.Addr, DNSTimeout: 2 * time.Second}, "good.test", "mx.good.test", keys)
	want := []string{StatusFound, StatusFound, StatusFound, StatusMissing, StatusMismatch, StatusFound, StatusFound}
	if len(got) != len(want) {
		t.Fatalf("checks: got %d, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Status != w {
			t.Errorf("%s %s: got %s (seen %q, err %q), want %s", got[i].Name, got[i].Type, got[i].Status, got[i].Seen, got[i].Err, w)
		}
	}
	if s := got[4].Seen; len(s) != 1 || s[0] != "v=DMARC1; p=none" {
		t.Errorf("DMARC seen: got %q, want [\"v=DMARC1; p=none\"]", s)
	}

	// A resolver that never answers: every check is an error, in bounded time.
	silent := CheckDomain(context.Background(), Config{DNSServer: blackHoleDNS(t), DNSTimeout: 100 * time.Millisecond}, "good.test", "mx.good.test", keys)
	for _, c := range silent {
		if c.Status != StatusError {
			t.Errorf("silent resolver %s %s: got %s, want %s", c.Name, c.Type, c.Status, StatusError)
		}
	}
}
