package check

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

func testMessage(from, subject, body string) []byte {
	return []byte("From: Sender <" + from + ">\r\n" +
		"To: rcpt@stamp.test\r\n" +
		"Subject: " + subject + "\r\n" +
		"Date: " + time.Now().Format(time.RFC1123Z) + "\r\n" +
		"Message-ID: <" + subject + "@" + domainOf(from) + ">\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"\r\n" + body + "\r\n")
}

// authZone is the test DNS for the authentication tests, with DKIM keys
// for signed.test.
func authZone(t *testing.T) (*testDNS, *Signer, []DKIMKey) {
	t.Helper()
	keys, err := GenerateDKIMKeys("signed.test", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := NewSigner(keys)
	if err != nil {
		t.Fatal(err)
	}
	recs := []dnsRec{
		{"pass.test", "TXT", "v=spf1 ip4:127.0.0.1 -all"},
		{"_dmarc.pass.test", "TXT", "v=DMARC1; p=reject"},
		{"fail.test", "TXT", "v=spf1 ip4:192.0.2.1 -all"},
		{"soft.test", "TXT", "v=spf1 ~all"},
		{"bad.test", "TXT", "v=spf1 ip4:300.1.2.3/99 frob:: -all"},
		{"rej.test", "TXT", "v=spf1 -all"},
		{"_dmarc.rej.test", "TXT", "v=DMARC1; p=reject"},
		{"quar.test", "TXT", "v=spf1 -all"},
		{"_dmarc.quar.test", "TXT", "v=DMARC1; p=quarantine"},
		{"none.test", "TXT", "v=spf1 -all"},
		{"_dmarc.none.test", "TXT", "v=DMARC1; p=none"},
		{"signed.test", "TXT", "v=spf1 -all"},
		{"_dmarc.signed.test", "TXT", "v=DMARC1; p=reject"},
		{"helo.test", "TXT", "v=spf1 ip4:127.0.0.1 -all"},
	}
	for _, k := range keys {
		txt, err := k.TXT()
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, dnsRec{k.Selector + "._domainkey.signed.test", "TXT", txt})
	}
	return startDNS(t, recs), signer, keys
}

func TestAuthentication(t *testing.T) {
	dns, signer, _ := authZone(t)
	j, err := New(Config{DNSServer: dns.Addr, DNSTimeout: 2 * time.Second, Hostname: "mx.stamp.test"}, newMemKV(), nil)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := signer.Sign(testMessage("a@signed.test", "hello", "Lunch at noon?"))
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Replace(signed, []byte("Lunch at noon?"), []byte("Lunch at one?"), 1)

	const ar = "Authentication-Results: mx.stamp.test; "
	cases := []struct {
		name, from, helo string
		raw              []byte
		wantAR           string // without "Authentication-Results: mx.stamp.test; " and CRLF
		wantReject       bool
		wantJunkAll      bool
	}{
		{"spf pass, dmarc pass", "a@pass.test", "client.test", testMessage("a@pass.test", "s1", "hi"),
			"spf=pass smtp.mailfrom=pass.test; dkim=none; dmarc=pass header.from=pass.test", false, false},
		{"spf fail, no dmarc", "a@fail.test", "client.test", testMessage("a@fail.test", "s2", "hi"),
			"spf=fail smtp.mailfrom=fail.test; dkim=none; dmarc=none header.from=fail.test", false, false},
		{"spf softfail", "a@soft.test", "client.test", testMessage("a@soft.test", "s3", "hi"),
			"spf=softfail smtp.mailfrom=soft.test; dkim=none; dmarc=none header.from=soft.test", false, false},
		{"malformed spf", "a@bad.test", "client.test", testMessage("a@bad.test", "s4", "hi"),
			"spf=permerror smtp.mailfrom=bad.test; dkim=none; dmarc=none header.from=bad.test", false, false},
		{"null sender uses helo", "", "helo.test", testMessage("a@helo.test", "s5", "hi"),
			"spf=pass smtp.helo=helo.test; dkim=none; dmarc=none header.from=helo.test", false, false},
		{"dmarc reject", "a@rej.test", "client.test", testMessage("a@rej.test", "s6", "hi"),
			"spf=fail smtp.mailfrom=rej.test; dkim=none; dmarc=fail header.from=rej.test", true, false},
		{"dmarc quarantine", "a@quar.test", "client.test", testMessage("a@quar.test", "s7", "hi"),
			"spf=fail smtp.mailfrom=quar.test; dkim=none; dmarc=fail header.from=quar.test", false, true},
		{"dmarc none", "a@none.test", "client.test", testMessage("a@none.test", "s8", "hi"),
			"spf=fail smtp.mailfrom=none.test; dkim=none; dmarc=fail header.from=none.test", false, false},
		{"dkim valid, aligned", "bounce@signed.test", "client.test", signed,
			"spf=fail smtp.mailfrom=signed.test; dkim=pass header.d=signed.test header.i=@signed.test; dkim=pass header.d=signed.test header.i=@signed.test; dmarc=pass header.from=signed.test", false, false},
		{"dkim broken", "bounce@signed.test", "client.test", tampered,
			"spf=fail smtp.mailfrom=signed.test; dkim=fail reason=\"dkim: body hash did not verify\" header.d=signed.test header.i=@signed.test; dkim=fail reason=\"dkim: body hash did not verify\" header.d=signed.test header.i=@signed.test; dmarc=fail header.from=signed.test", true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := Input{RemoteIP: net.ParseIP("127.0.0.1"), Helo: c.helo, MailFrom: c.from, Raw: c.raw, Recipients: []int64{1, 2}}
			auth := j.authenticate(context.Background(), in)
			if got, want := auth.header, ar+c.wantAR+"\r\n"; got != want {
				t.Errorf("%s: Authentication-Results:\n got %q\nwant %q", c.name, got, want)
			}
			v, err := j.Judge(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if v.Reject != c.wantReject {
				t.Errorf("%s: Reject: got %v, want %v", c.name, v.Reject, c.wantReject)
			}
			if c.wantReject && (v.Code != 550 || v.Enhanced != [3]int{5, 7, 1}) {
				t.Errorf("%s: reject code: got %d %v, want 550 5.7.1", c.name, v.Code, v.Enhanced)
			}
			if !c.wantReject {
				if !bytes.HasPrefix(v.Headers, []byte(ar)) {
					t.Errorf("%s: Verdict.Headers: got %q, want the Authentication-Results header", c.name, v.Headers)
				}
				for _, uid := range []int64{1, 2} {
					if got := v.PerUser[uid].Junk; got != c.wantJunkAll && c.wantJunkAll {
						t.Errorf("%s: user %d Junk: got %v, want %v", c.name, uid, got, c.wantJunkAll)
					}
					if h := string(v.PerUser[uid].Header); !strings.HasPrefix(h, "X-Stamp-Spam: ") {
						t.Errorf("%s: user %d spam header: got %q", c.name, uid, h)
					}
				}
			}
		})
	}
}

// TestManyDKIMSignatures: 1,000 signatures cost MaxDKIMSignatures lookups,
// the rest are reported as policy.
func TestManyDKIMSignatures(t *testing.T) {
	dns, _, _ := authZone(t)
	j, err := New(Config{DNSServer: dns.Addr, DNSTimeout: 2 * time.Second, Hostname: "mx.stamp.test"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&b, "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=signed.test; s=junk%d; h=from; bh=AAAA; b=AAAA\r\n", i)
	}
	b.Write(testMessage("a@signed.test", "many", "hi"))
	start := time.Now()
	auth := j.authenticate(context.Background(), Input{RemoteIP: net.ParseIP("127.0.0.1"), Helo: "client.test", MailFrom: "a@signed.test", Raw: b.Bytes()})
	t.Logf("1000 signatures judged in %v", time.Since(start))
	if got, want := strings.Count(auth.header, "dkim=permerror"), 10; got != want {
		t.Errorf("verified signatures: got %d, want %d in %q", got, want, auth.header)
	}
	if want := `dkim=policy reason="990 more signatures not verified"`; !strings.Contains(auth.header, want) {
		t.Errorf("header: got %q, want it to contain %q", auth.header, want)
	}
	if want := "dmarc=fail"; !strings.Contains(auth.header, want) {
		t.Errorf("header: got %q, want it to contain %q", auth.header, want)
	}
}

// TestDNSTimeout: a resolver that never answers gives temperror for all
// three checks within the lookup budget, not a hung session.
func TestDNSTimeout(t *testing.T) {
	addr := blackHoleDNS(t)
	j, err := New(Config{DNSServer: addr, DNSTimeout: 300 * time.Millisecond, Hostname: "mx.stamp.test"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := GenerateDKIMKeys("signed.test", time.Now())
	signer, _ := NewSigner(keys)
	raw, err := signer.Sign(testMessage("a@signed.test", "slow", "hi"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	start := time.Now()
	v, err := j.Judge(ctx, Input{RemoteIP: net.ParseIP("127.0.0.1"), Helo: "client.test", MailFrom: "a@signed.test", Raw: raw, Recipients: []int64{1}})
	if err != nil {
		t.Fatalf("Judge: got error %v, want a verdict", err)
	}
	t.Logf("judged against a silent resolver in %v: %q", time.Since(start), v.Headers)
	for _, want := range []string{"spf=temperror", "dkim=temperror", "dmarc=temperror"} {
		if !bytes.Contains(v.Headers, []byte(want)) {
			t.Errorf("headers: got %q, want %s", v.Headers, want)
		}
	}
	if v.Reject || v.TempFail {
		t.Errorf("verdict: got reject=%v tempfail=%v, want neither", v.Reject, v.TempFail)
	}
}

// TestDNSBL: a listed sender gets spam points and the zone named in the
// X-Stamp-Spam header; an unlisted one does not.
func TestDNSBL(t *testing.T) {
	dns := startDNS(t, []dnsRec{{"1.0.0.127.bl.test", "A", "127.0.0.2"}, {"pass.test", "TXT", "v=spf1 ip4:127.0.0.0/8 -all"}})
	j, err := New(Config{DNSServer: dns.Addr, DNSTimeout: 2 * time.Second, DNSBLs: []string{"bl.test"}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	msg := testMessage("a@pass.test", "status", "The build is green again.")
	for _, c := range []struct {
		ip     string
		listed bool
	}{{"127.0.0.1", true}, {"127.0.0.9", false}} {
		v, err := j.Judge(context.Background(), Input{RemoteIP: net.ParseIP(c.ip), Helo: "h.test", MailFrom: "a@pass.test", Raw: msg, Recipients: []int64{7}})
		if err != nil {
			t.Fatal(err)
		}
		h := string(v.PerUser[7].Header)
		if got := strings.Contains(h, "dnsbl=+3.0 (127.0.0.1 listed on bl.test)"); got != c.listed {
			t.Errorf("%s: DNSBL in header: got %v (%q), want %v", c.ip, got, h, c.listed)
		}
	}
}
