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
// # The spam verdict: one explained score
//
// A mail server's worst mistake is to hide a real message, so the verdict
// is built to be explainable and to need evidence. Every recipient gets a
// score in points, the sum of the signals below; from Config.SpamThreshold
// (5 points, SpamAssassin's required_score) the message goes to Junk. Each
// signal, with its points and the reason, is written into the message's
// X-Stamp-Spam field (parsed back by ParseSpamHeader for the API), and SPF,
// DKIM and DMARC results into Authentication-Results (RFC 8601):
//
//   - auth: DMARC-aligned authentication of the From domain (RFC 7489
//     section 3.1: only an SPF or DKIM pass for the author's own domain
//     authenticates the author). dmarc=pass -1.5, dmarc=fail +3, p=quarantine
//     failing mail is junk for everyone, p=reject is refused at SMTP time;
//     SPF fail +1.5 and softfail +0.5 only when DMARC did not pass (a
//     forwarder breaks SPF, not an aligned DKIM signature), a broken DKIM
//     signature +1. Unauthenticated mail is not evidence of spam by itself:
//     most domains publish no DMARC record, and a new server may have no
//     DNS answers at all.
//   - allow / block: the user's lists and the lists of the user's domain
//     (addresses or @domains, storage.SpamLists). A block is +10, always.
//     An allow is -10, but only for the author (From) and only when DMARC
//     did not fail, as SpamAssassin's whitelist_auth rather than its
//     forgeable whitelist_from.
//   - correspondent: the user has written to the author (recorded at
//     submission and when a client files a copy in Sent): -3, and, with an
//     allow, "trusted": such mail is never junked on content alone, only
//     when the signals that are not content (block, DMARC, DNSBL, SMTP)
//     reach the threshold on their own.
//   - sender: the user's own past verdicts on the author: 0.8 points per
//     message of this sender moved into Junk, minus 0.8 per message moved
//     out of it, at most 8 either way (a per-user, per-sender reputation in
//     the spirit of SpamAssassin's TxRep). Ten moves decide the next message.
//     Ten more moved out of Junk than into it also make the author trusted,
//     like a correspondent (DMARC must not fail): otherwise Bayes and the
//     rules (up to +16) could junk again the mail the user keeps rescuing.
//   - dnsbl: +3 per listing of the connecting address (RFC 5782), at most +6.
//   - smtp: the SMTP conversation. A client that greets with our own host
//     name or domain (no honest peer names itself after its destination)
//     +3; a client that talks before the greeting (RFC 5321 section 4.3.1;
//     Postfix postscreen's pregreet test; go-smtp exposes neither, so
//     smtp/pregreet.go watches the connection) +3.
//   - rules: the shape of the message (internal/rules), for what spam
//     looks like and legitimate mail of any kind rarely does, in the
//     spirit of SpamAssassin's header, body and URI rules (the tests and
//     phrase lists are Stamp's own). Header: a Date more than 4 days
//     before its arrival or a day after it, or not parseable (RFC 5322
//     section 3.3); a Message-ID without the <left@right> shape (section
//     3.6.4); To naming "undisclosed recipients"; a From missing, with a
//     generated local part (digits and letters interleaved, six
//     consonants in a row) or a display name glued to random letters; a
//     subject in capitals, shouting ("!!", "$" amounts), padded with runs
//     of spaces or ending in a random tag; X-Priority 1; an X-Mailer
//     naming Outlook Express without the X-MimeOLE field it always adds;
//     HTML without MIME-Version (RFC 2045 section 4). Links: a numeric
//     host, user info before the host (http://bank@evil), an odd port,
//     %-escapes in the host, link text naming another domain than the
//     href, shorteners and open redirects. HTML: text hidden by a comment
//     inside a word, large fonts, invisible text, a remote picture with
//     almost no text (measured in UTF-8 bytes, so that a Han or Hangul
//     character counts as the word it nearly is), quoted-printable that
//     encodes letters or tags. Text: words spelled out (f.r.e.e), digits
//     for letters (v1agra), Latin mixed with Cyrillic or Greek in one word
//     (homoglyphs), mostly capitals, money and urgency phrases and
//     opt-out instructions written for Stamp in each of the seven languages
//     of the own set. Each rule that fires adds its points, at most 6 in
//     all. The points are computed from training data only (SpamAssassin
//     easy-ham-1, hard-ham-1, spam-1 and the development part of the own
//     set; go run ./internal/genmodel -rules writes internal/rules/table.go):
//     3 times the log of how much more often the rule fires on spam
//     than on the legitimate group where it fires most (plain personal
//     mail, commercial "hard" ham, or the own multilingual set), at most 4
//     points, and 0 when it fires as often on some legitimate group. So a
//     rule that newsletters or receipts trip (HTML only, many link
//     domains, forms) counts for nothing however rare it is in personal
//     mail; this is the per-rule likelihood ratio of a naive-Bayes
//     combination of binary features, damped and capped, where
//     SpamAssassin fits its scores with a perceptron (its "masses" tools).
//     The factor, the cap per rule and the cap in all, Bayes's ham cap and
//     its junk score are chosen by 5-fold cross-validation repeated over
//     three splits, together with the Bayes signal, each fold's rule
//     points and Bayes model made from the other folds only: the highest
//     recall that sends at most 0.3% of the ham to Junk, and at most that
//     of the own set. (A logistic fit of the rule weights jointly with
//     Bayes, as SpamAssassin's perceptron does, was measured the same way
//     and did no better: genmodel -fit.) No rule is about a language, a
//     script or a charset, and none about the transfer encoding as such
//     (base64 text, which real mailers send for UTF-8 in every language,
//     is not a rule). Rules are content: they never junk a trusted sender.
//   - bayes: the learning content filter, which votes only with evidence.
//     Robinson's f(w) per token with Fisher's chi-square combination (Gary
//     Robinson, "A Statistical Approach to the Spam Problem", 2003; Paul
//     Graham, "A Plan for Spam", 2002; the SpamBayes "chi-combining"), over
//     the shared model plus the user's own training (weighted 3, and once the
//     user has 200 of each kind the shared model counts a quarter). It gives
//     0 points unless the model has at least 200 ham and 200 spam (the site's
//     model plus the user's: SpamAssassin's bayes_min_ham_num and
//     bayes_min_spam_num) and the message has at least 5 telling words; its
//     points are linear in log-odds and reach the threshold alone only from
//     a score of 0.8 (0.5 means "no evidence") and only with 20 telling
//     words or more (below that the points shrink in proportion), so
//     unknown or weakly known mail stays in INBOX. Ham evidence weighs less than spam evidence
//     (at most -2, the cap cross-validated with the rules among caps no
//     lower than -3, so that ten moves of a sender into Junk, 8 points,
//     always reach the threshold) so that it
//     cannot hide a block or a listing.
//
// Why a sum: each signal's points stand for log-odds of spam, so adding
// them is combining independent evidence (as SpamAssassin adds rule
// scores and a naive-Bayes model adds log likelihood ratios), and one
// threshold reads the total. Evidence is not quite independent (Bayes sees
// some of what the rules see: a shouting subject's words), which is why
// each content signal is capped (rules at 6, Bayes at 8 and at -2) and
// why the rules' weights are chosen together with Bayes rather than on
// their own. What is not content (lists, correspondents, DMARC, DNSBLs,
// SMTP) can overrule content; content cannot overrule a trusted sender.
// Every part of the total is in X-Stamp-Spam, so a user or an admin can
// see why a message is where it is.
//
// No signal is about a language, a script or a charset. The tokenizer
// (internal/bayes) decodes every text part to UTF-8 from its charset and
// transfer encoding and emits no token for either; attachments contribute
// only their kind and file extension; CJK text becomes character bigrams
// (as Lucene's CJK analyzer does), so Korean, Japanese and Chinese are words
// like any other. The shared model (spammodel.bin, internal/genmodel) is
// trained on SpamAssassin's easy-ham-1, hard-ham-1 and spam-1 and on the
// development part of the project's own multilingual set
// (internal/corpus, testdata/corpus), so that no script or modern HTML
// shape is spam merely because the 2002 corpus has no ham like it; it
// keeps no token that names the corpus's own recipients, relays or
// correspondents (bayes.GeneralTokens).
// Its parameters come from 5-fold cross-validation on the training data
// only (go run ./internal/genmodel -cv); the held-out parts are only
// measured (BENCHMARKS.md). The folds keep the messages of one topic (the
// subject without reply prefixes, list tags and digits) together, so that
// a spam campaign's copies or a thread's replies are never on both sides
// of a split: cross-validation with interleaved folds rewarded memorising
// near copies (95.8% recall there, 85% on held-out mail), the grouped
// folds measure what the held-out test does. They chose Robinson's s=0.45
// and x=0.7 (a token seen in few messages leans a little to spam, and an
// unseen one counts not at all), the 500 most telling tokens and no
// pruning; the junk score (0.8) is chosen with the rules (above), as the
// operating point of the whole content score.
//
// Content checks have a time budget per message (Config.ContentBudget):
// the tokenizer's MIME walk is one linear pass bounded at 100 levels of
// nesting, and a message that still takes longer is judged with the checks
// that finished (the bayes signal then says it did not run); it is never
// refused or lost for it.
package check

import (
	"net"
	"time"
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
	// Arrived is when the message reached us (the content rules compare
	// its Date with it); zero means now.
	Arrived time.Time
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
