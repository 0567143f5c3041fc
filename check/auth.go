package check

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/mail"
	"strings"

	"blitiri.com.ar/go/spf"
	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-msgauth/authres"
	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-msgauth/dmarc"
	"golang.org/x/net/publicsuffix"
)

// maxHeaderBytes bounds how much of a message is read as its header.
const maxHeaderBytes = 1 << 20

// authResult is the outcome of SPF, DKIM and DMARC for one message.
type authResult struct {
	spf        string // RFC 7208 section 2.6 result
	spfDomain  string // the domain SPF checked (MAIL FROM or HELO)
	dkim       []*authres.DKIMResult
	dkimPass   []string // d= of signatures that verified
	dmarc      string   // pass, fail, none, temperror, permerror
	policy     string   // the DMARC policy applied on failure
	fromDomain string
	header     string // "Authentication-Results: ...\r\n"
}

// authenticate runs SPF, DKIM and DMARC with a bounded total time.
func (j *Judge) authenticate(ctx context.Context, in Input) authResult {
	ctx, cancel := context.WithTimeout(ctx, authLookupsBudget*j.cfg.DNSTimeout)
	defer cancel()
	var r authResult

	// SPF (RFC 7208 section 2.4: the HELO identity stands in for the null sender).
	sender := in.MailFrom
	if sender == "" {
		sender = "postmaster@" + in.Helo
	}
	r.spfDomain = domainOf(sender)
	res, err := spf.CheckHostWithSender(in.RemoteIP, in.Helo, sender,
		spf.WithContext(ctx), spf.WithResolver(j.dns))
	r.spf = string(res)
	if r.spf == "" {
		r.spf = "none"
	}
	if err != nil {
		j.log.DebugContext(ctx, "spf", "result", r.spf, "err", err)
	}

	// DKIM (RFC 6376 section 6), at most MaxDKIMSignatures verified.
	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(in.Raw), &dkim.VerifyOptions{
		LookupTXT: j.dns.txtFunc(ctx), MaxVerifications: j.cfg.MaxDKIMSignatures,
	})
	for _, v := range verifs {
		dr := &authres.DKIMResult{Domain: v.Domain, Identifier: v.Identifier}
		switch {
		case v.Err == nil:
			dr.Value = authres.ResultPass
			r.dkimPass = append(r.dkimPass, strings.ToLower(v.Domain))
		case dkim.IsTempFail(v.Err):
			dr.Value, dr.Reason = authres.ResultTempError, shortReason(v.Err)
		case dkim.IsPermFail(v.Err):
			dr.Value, dr.Reason = authres.ResultPermError, shortReason(v.Err)
		default:
			dr.Value, dr.Reason = authres.ResultFail, shortReason(v.Err)
		}
		r.dkim = append(r.dkim, dr)
	}
	if errors.Is(err, dkim.ErrTooManySignatures) {
		more := countDKIMSignatures(in.Raw) - len(verifs)
		r.dkim = append(r.dkim, &authres.DKIMResult{Value: authres.ResultPolicy,
			Reason: fmt.Sprintf("%d more signatures not verified", more)})
	} else if err != nil {
		r.dkim = append(r.dkim, &authres.DKIMResult{Value: authres.ResultPermError, Reason: err.Error()})
	}

	// DMARC (RFC 7489 section 6.6).
	j.dmarc(ctx, in.Raw, &r)

	results := []authres.Result{&authres.SPFResult{Value: authres.ResultValue(r.spf), From: r.spfDomain}}
	if in.MailFrom == "" {
		results[0] = &authres.SPFResult{Value: authres.ResultValue(r.spf), Helo: in.Helo}
	}
	if len(r.dkim) == 0 {
		results = append(results, &authres.DKIMResult{Value: authres.ResultNone})
	}
	for _, d := range r.dkim {
		results = append(results, d)
	}
	results = append(results, &authres.DMARCResult{Value: authres.ResultValue(r.dmarc), From: r.fromDomain})
	h := authres.Format(j.cfg.Hostname, results)
	h = strings.ReplaceAll(strings.TrimRight(h, " "), " ;", ";")
	r.header = "Authentication-Results: " + h + "\r\n"
	return r
}

// dmarc fills r.dmarc, r.policy and r.fromDomain.
func (j *Judge) dmarc(ctx context.Context, raw []byte, r *authResult) {
	r.dmarc = "none"
	h, err := readHeader(raw)
	if err != nil {
		r.dmarc = "permerror"
		return
	}
	froms := h.Values("From")
	if len(froms) != 1 { // RFC 7489 section 6.6.1: exactly one author domain
		r.dmarc = "permerror"
		return
	}
	addrs, err := mail.ParseAddressList(froms[0])
	if err != nil || len(addrs) != 1 {
		r.dmarc = "permerror"
		return
	}
	r.fromDomain = strings.ToLower(domainOf(addrs[0].Address))
	if r.fromDomain == "" {
		r.dmarc = "permerror"
		return
	}
	org := orgDomain(r.fromDomain)
	opts := &dmarc.LookupOptions{LookupTXT: j.dns.txtFunc(ctx)}
	rec, err := dmarc.LookupWithOptions(r.fromDomain, opts)
	subdomain := false
	if errors.Is(err, dmarc.ErrNoPolicy) && org != r.fromDomain {
		rec, err = dmarc.LookupWithOptions(org, opts) // section 6.6.3 step 3
		subdomain = true
	}
	switch {
	case errors.Is(err, dmarc.ErrNoPolicy):
		return
	case dmarc.IsTempFail(err):
		r.dmarc = "temperror"
		return
	case err != nil:
		r.dmarc = "permerror"
		return
	}
	policy := rec.Policy
	if subdomain && rec.SubdomainPolicy != "" {
		policy = rec.SubdomainPolicy
	}

	aligned := func(d string, mode dmarc.AlignmentMode) bool {
		d = strings.ToLower(d)
		if mode == dmarc.AlignmentStrict {
			return d == r.fromDomain
		}
		return orgDomain(d) == org
	}
	pass := r.spf == "pass" && aligned(r.spfDomain, rec.SPFAlignment)
	for _, d := range r.dkimPass {
		pass = pass || aligned(d, rec.DKIMAlignment)
	}
	if pass {
		r.dmarc = "pass"
		return
	}
	r.dmarc = "fail"
	r.policy = string(policy)
	// Section 6.6.4: pct samples the failing mail the policy applies to;
	// the rest gets the next policy down.
	if rec.Percent != nil && *rec.Percent < 100 && rand.IntN(100) >= *rec.Percent {
		switch policy {
		case dmarc.PolicyReject:
			r.policy = string(dmarc.PolicyQuarantine)
		case dmarc.PolicyQuarantine:
			r.policy = string(dmarc.PolicyNone)
		}
	}
}

// points turns authentication results into spam points (log-odds) and
// test names for the X-Stamp-Spam header.
func (r authResult) points() (float64, []string) {
	var p float64
	var tests []string
	// When DMARC passes, the From domain has authenticated the message
	// (RFC 7489 section 4.2), typically through an aligned DKIM signature on
	// forwarded or mailing-list mail whose SPF fails at the forwarder: an
	// SPF failure then says nothing against the message.
	if r.dmarc != "pass" {
		switch r.spf {
		case "fail":
			p, tests = p+1.5, append(tests, "SPF_FAIL")
		case "softfail":
			p, tests = p+0.7, append(tests, "SPF_SOFTFAIL")
		}
	}
	for _, d := range r.dkim {
		if d.Value == authres.ResultFail {
			p, tests = p+1, append(tests, "DKIM_FAIL")
			break
		}
	}
	if r.dmarc == "fail" {
		p, tests = p+1.5, append(tests, "DMARC_FAIL")
	}
	return p, tests
}

// shortReason is err's text without resolver details (server addresses
// are nobody's business in a stored header).
func shortReason(err error) string {
	s, _, _ := strings.Cut(err.Error(), ": lookup ")
	return s
}

// readHeader parses the header of raw, reading at most maxHeaderBytes.
func readHeader(raw []byte) (textproto.Header, error) {
	if len(raw) > maxHeaderBytes {
		raw = raw[:maxHeaderBytes]
	}
	return textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw)))
}

// countDKIMSignatures counts DKIM-Signature header fields.
func countDKIMSignatures(raw []byte) int {
	h, err := readHeader(raw)
	if err != nil {
		return 0
	}
	return len(h.Values("Dkim-Signature"))
}

// domainOf returns the part of an address after the last '@' (or the
// whole string when there is none), without a trailing dot.
func domainOf(addr string) string {
	addr = strings.Trim(addr, "<> ")
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		addr = addr[i+1:]
	}
	return strings.TrimSuffix(addr, ".")
}

// orgDomain is the organizational domain (RFC 7489 section 3.2) from the
// public suffix list.
func orgDomain(d string) string {
	d = strings.ToLower(strings.TrimSuffix(d, "."))
	if o, err := publicsuffix.EffectiveTLDPlusOne(d); err == nil {
		return o
	}
	return d
}

// asDNSError is errors.As for *net.DNSError.
func asDNSError(err error, target **net.DNSError) bool { return errors.As(err, target) }
