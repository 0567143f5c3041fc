// Package check judges mail: SPF (RFC 7208), DKIM verification (RFC 6376,
// RFC 8463 for ed25519), DMARC (RFC 7489), an Authentication-Results header
// (RFC 8601), a per-user learning spam filter, DNSBL lookups (RFC 5782),
// virus scanning through clamd, DKIM signing of outbound mail and the DNS
// records a domain should publish (MX, SPF, DKIM, DMARC, MTA-STS RFC 8461,
// TLS-RPT RFC 8460).
//
// core calls it; it knows nothing of protocols or storage backends.
//
// Shape: New(Config, KV, logger) returns a Judge; Judge.Judge gives a
// Verdict for one message, Judge.Learn trains one user's spam model. Every
// DNS query has its own timeout (Config.DNSTimeout) and SPF+DKIM+DMARC
// together get at most authLookupsBudget of them, so a silent resolver
// costs temperror results, never a stuck session. SPF is
// blitiri.com.ar/go/spf; DKIM, DMARC and Authentication-Results are
// go-msgauth. At most Config.MaxDKIMSignatures signatures are verified;
// the rest are reported as one dkim=policy result.
//
// The spam filter (internal/bayes) is Robinson's per-token probability f(w)
// with Fisher's chi-square combination of the 50 most telling tokens; its
// parameters were chosen by 5-fold cross-validation on the training groups
// only (go run ./check/internal/genmodel -cv). Every
// user's model is the shared starting model (spammodel.bin, generated from
// the SpamAssassin public corpus by internal/genmodel, embedded) plus that
// user's own training, kept in the KV under "spam:user:<id>". The
// Bayesian score is shifted in log-odds by failed authentication and
// DNSBL listings; DMARC p=quarantine failures are junk for everyone.
package check

import (
	"net"
)

// Input is what the judge sees of one incoming message.
type Input struct {
	RemoteIP      net.IP
	Helo          string
	MailFrom      string  // envelope sender, "" for the null sender
	Raw           []byte  // the message as received
	Recipients    []int64 // local recipients' user ids
	Authenticated bool    // submitted by an authenticated local user: skip SPF/DKIM/DMARC and spam
	// HeloIsOurs: an unauthenticated client greeted with our own host name
	// or one of our domains (or address literals of ours), which no honest
	// peer does.
	HeloIsOurs bool
	// EarlyTalker: the client sent commands before our greeting (RFC 5321
	// section 4.3.1: the client waits for it; spam software often does not).
	EarlyTalker bool
}

// Verdict is the judgement of one message.
type Verdict struct {
	// Reject refuses the message at SMTP time with Code, Enhanced and Message
	// (for example 550 5.7.1 for DMARC p=reject, 554 5.7.0 for a virus).
	Reject   bool
	TempFail bool // refuse for now (451 4.x.x), e.g. clamd is down and configured to tempfail
	Code     int
	Enhanced [3]int
	Message  string

	// Headers are complete header fields ("Name: value\r\n") to prepend to the
	// stored message for every recipient (Authentication-Results, X-Stamp-Virus...).
	Headers []byte
	// PerUser holds the spam verdict for each recipient user id.
	PerUser map[int64]UserVerdict
}

// UserVerdict is the spam judgement for one recipient.
type UserVerdict struct {
	Junk      bool
	Score     float64  // points, the sum of the signals' scores
	Threshold float64  // the score from which mail is junk
	Signals   []Signal // every signal considered, with its points and why
	Header    []byte   // "X-Stamp-Spam: ...\r\n" to prepend for this user
}
