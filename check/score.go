package check

import (
	"context"
	"fmt"
	"math"
	"net/mail"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/stamp-mail/stamp/check/internal/bayes"
	"github.com/stamp-mail/stamp/storage"
)

// Points of each signal (positive: evidence of spam). A message is junk
// from Config.SpamThreshold points (DefaultSpamThreshold, 5, as in
// SpamAssassin); the package doc says why each weighs what it does.
const (
	pointsDMARCPass   = -1.5
	pointsDMARCFail   = 3.0
	pointsSPFFail     = 1.5
	pointsSPFSoftfail = 0.5
	pointsDKIMFail    = 1.0
	pointsAllow       = -10.0
	pointsBlock       = 10.0
	pointsCorrespond  = -3.0
	pointsPerVerdict  = 0.8 // per message of this sender moved into (+) or out of (-) Junk
	maxSenderPoints   = 8.0
	senderTrustMoves  = 10 // messages moved out of Junk, net of those moved in, that make a sender trusted
	pointsDNSBL       = 3.0
	maxDNSBLPoints    = 6.0
	pointsHeloOurs    = 3.0
	pointsEarlyTalker = 3.0
	maxBayesPoints    = 8.0
	minBayesPoints    = -2.0 // chosen by go run ./internal/genmodel -rules (at most -3: see there)
	bayesMinTraining  = 200  // ham and spam each, SpamAssassin's bayes_min_ham_num/bayes_min_spam_num
	bayesMinClues     = 5    // telling tokens below which a message is weakly known
	// bayesFullClues is how many telling tokens a message needs for Bayes
	// to vote with its full weight; below it the points shrink in
	// proportion, so that a short or unusual message (a few words the
	// model knows, none strongly) is never junked on Bayes alone.
	bayesFullClues     = 20
	userOutweighs      = 0.25
	maxSignalDetailLen = 120
)

// Signal is one piece of evidence in a spam verdict.
type Signal struct {
	Name   string  `json:"name"`
	Score  float64 `json:"score"`
	Detail string  `json:"detail"`
}

// content reports whether a signal judges the message's content (as
// opposed to its sender or its way here).
func (s Signal) content() bool { return s.Name == "bayes" || s.Name == "rules" }

// facts is what the judge may ask storage about a recipient and a sender;
// storage.Store satisfies it. Without it (a bare KV), lists, correspondents
// and sender verdicts are not consulted.
type facts interface {
	GetUser(ctx context.Context, id int64) (storage.User, error)
	// SenderFacts: whether the user has written to addr, and the user's
	// verdicts on addr's mail (storage.SpamStore).
	SenderFacts(ctx context.Context, userID int64, addr string) (bool, storage.SenderCounts, error)
	GetSpamLists(ctx context.Context, userID int64) (storage.SpamLists, error)
	GetDomainSpamLists(ctx context.Context, domain string) (storage.SpamLists, error)
}

// messageSignals are the signals that are the same for every recipient.
type messageSignals struct {
	signals    []Signal
	quarantine bool   // DMARC p=quarantine failed: junk for everyone
	dmarcFail  bool   // the From domain's DMARC failed: From cannot be trusted
	from       string // the author address (lower case), "" if none
	mailFrom   string
}

// authSignals turns SPF, DKIM and DMARC into one signal (RFC 7489: only a
// result aligned with the From domain authenticates the author).
func authSignals(r authResult) Signal {
	var p float64
	var why []string
	switch r.dmarc {
	case "pass":
		p += pointsDMARCPass
		why = append(why, "dmarc=pass ("+r.fromDomain+")")
	case "fail":
		p += pointsDMARCFail
		why = append(why, "dmarc=fail ("+r.fromDomain+", p="+r.policy+")")
	default:
		why = append(why, "dmarc="+r.dmarc)
	}
	// When DMARC passes, an SPF failure at a forwarder says nothing.
	if r.dmarc != "pass" {
		switch r.spf {
		case "fail":
			p += pointsSPFFail
		case "softfail":
			p += pointsSPFSoftfail
		}
	}
	why = append(why, "spf="+r.spf)
	for _, d := range r.dkim {
		if d.Value == "fail" {
			p += pointsDKIMFail
			why = append(why, "dkim=fail")
			break
		}
	}
	if len(r.dkimPass) > 0 {
		why = append(why, "dkim=pass ("+strings.Join(r.dkimPass, ",")+")")
	}
	return Signal{Name: "auth", Score: p, Detail: strings.Join(why, " ")}
}

// authorAddress returns the lower-cased address of the single From.
func authorAddress(raw []byte) string {
	h, err := readHeader(raw)
	if err != nil {
		return ""
	}
	froms := h.Values("From")
	if len(froms) != 1 {
		return ""
	}
	a, err := mail.ParseAddress(froms[0])
	if err != nil {
		if list, lerr := mail.ParseAddressList(froms[0]); lerr == nil && len(list) == 1 {
			a = list[0]
		} else {
			return ""
		}
	}
	return storage.NormalizeAddress(a.Address)
}

// senderSignals are the per-recipient signals about who sent the message:
// allow and block lists, correspondents, and the user's own verdicts on
// this sender. trusted reports that content alone must not junk it.
func (j *Judge) senderSignals(ctx context.Context, uid int64, ms *messageSignals) (out []Signal, trusted bool) {
	f, ok := j.kv.(facts)
	if !ok || ms.from == "" {
		return nil, false
	}
	addrs := []string{ms.from}
	if ms.mailFrom != "" && ms.mailFrom != ms.from {
		addrs = append(addrs, ms.mailFrom)
	}
	warn := func(what string, err error) {
		j.log.WarnContext(ctx, "spam facts unavailable", "what", what, "user", uid, "err", err)
	}
	var lists []struct {
		l     storage.SpamLists
		scope string
	}
	if l, err := f.GetSpamLists(ctx, uid); err == nil {
		lists = append(lists, struct {
			l     storage.SpamLists
			scope string
		}{l, "your list"})
	} else {
		warn("lists", err)
	}
	if u, err := f.GetUser(ctx, uid); err == nil {
		if d := domainOf(u.Address); d != "" {
			if l, err := f.GetDomainSpamLists(ctx, d); err == nil {
				lists = append(lists, struct {
					l     storage.SpamLists
					scope string
				}{l, "list of " + d})
			}
		}
	}
	// Block first: a block on either the author or the envelope sender wins.
	blocked := false
	for _, l := range lists {
		for _, a := range addrs {
			if e := storage.MatchList(l.l.Block, a); e != "" && !blocked {
				out = append(out, Signal{Name: "block", Score: pointsBlock, Detail: e + " on the block " + l.scope})
				blocked = true
			}
		}
	}
	// Allow and correspondents vouch for the author only, and only when
	// the author's domain did not fail DMARC (a forged From must not ride on them).
	if !blocked {
		for _, l := range lists {
			if e := storage.MatchList(l.l.Allow, ms.from); e != "" {
				if ms.dmarcFail {
					out = append(out, Signal{Name: "allow", Detail: e + " on the allow " + l.scope + ", not applied: DMARC failed"})
				} else {
					out = append(out, Signal{Name: "allow", Score: pointsAllow, Detail: e + " on the allow " + l.scope})
					trusted = true
				}
				break
			}
		}
	}
	corr, c, err := f.SenderFacts(ctx, uid, ms.from)
	if err != nil {
		warn("correspondents and sender verdicts", err)
		return out, trusted
	}
	if corr && !ms.dmarcFail {
		out = append(out, Signal{Name: "correspondent", Score: pointsCorrespond, Detail: "you have written to " + ms.from})
		trusted = true
	}
	if c.Ham+c.Spam > 0 {
		p := math.Max(-maxSenderPoints, math.Min(maxSenderPoints, pointsPerVerdict*float64(c.Spam-c.Ham)))
		detail := fmt.Sprintf("you moved %d of this sender's messages out of Junk and %d into it", c.Ham, c.Spam)
		// A sender the user has rescued from Junk this often is vouched
		// for like a correspondent: its points alone (at most -8) could be
		// outweighed by Bayes and the rules (up to 8 + 8), junking again
		// the mail the user keeps taking out.
		if c.Ham-c.Spam >= senderTrustMoves && !ms.dmarcFail {
			trusted = true
			detail += ", so its mail is not junked on content alone"
		}
		out = append(out, Signal{Name: "sender", Score: p, Detail: detail})
	}
	return out, trusted
}

// bayesSignal scores tokens for one user. The classifier votes only with
// evidence: enough training of both kinds (the site's model plus the
// user's, bayesMinTraining each) and at least bayesMinClues telling tokens
// in the message; otherwise it is 0 points.
func (j *Judge) bayesSignal(ctx context.Context, uid int64, tokens []uint64) Signal {
	user, err := j.cachedCounts(ctx, uid)
	if err != nil {
		j.log.WarnContext(ctx, "spam training unreadable, using shared model", "user", uid, "err", err)
	}
	m := j.model(user)
	nSpam, nHam := m.Totals()
	if nSpam < bayesMinTraining || nHam < bayesMinTraining {
		return Signal{Name: "bayes", Detail: fmt.Sprintf("not enough training (%.0f ham, %.0f spam; %d of each needed)", nHam, nSpam, bayesMinTraining)}
	}
	p, clues := m.Score(tokens)
	if len(clues) < bayesMinClues {
		return Signal{Name: "bayes", Detail: fmt.Sprintf("too little known: %d telling words", len(clues))}
	}
	pts := j.bayesPoints(p) * math.Min(1, float64(len(clues))/bayesFullClues)
	return Signal{Name: "bayes", Score: pts, Detail: fmt.Sprintf("p=%.3f from %d telling words", p, len(clues))}
}

// model is the classifier for a user: the shared model plus the user's
// training weighted by userWeight; once the user has trained enough of
// both kinds, the shared model counts only userOutweighs as much.
func (j *Judge) model(user *bayes.Counts) bayes.Model {
	m := bayes.Model{Shared: j.shared.counts, SharedTable: j.shared.table, User: user, UserWeight: userWeight, SharedWeight: 1}
	if user != nil && user.Ham >= bayesMinTraining && user.Spam >= bayesMinTraining {
		m.SharedWeight = userOutweighs
	}
	return m
}

// bayesPoints maps the classifier's score to points: linear in log-odds,
// reaching the junk threshold at bayesJunkAt (chosen by cross-validation
// on the training corpus, see internal/genmodel), clamped.
func (j *Judge) bayesPoints(p float64) float64 {
	if p < 0.5 {
		// Evidence of ham counts less: minBayesPoints only at p=0.01, so
		// that a mildly hammy text cannot hide a DNSBL listing or a block.
		return math.Max(minBayesPoints, minBayesPoints*logit(p)/logit(0.01))
	}
	pts := j.cfg.SpamThreshold * logit(p) / logit(bayesJunkAt)
	return math.Min(maxBayesPoints, pts)
}

func logit(p float64) float64 {
	p = math.Min(1-1e-9, math.Max(1e-9, p))
	return math.Log(p / (1 - p))
}

// verdict adds up signals. Mail from a trusted sender (allow list,
// correspondent) is junk only when the signals other than content reach
// the threshold on their own.
func (j *Judge) verdict(signals []Signal, trusted, quarantine bool) UserVerdict {
	var total, nonContent float64
	for _, s := range signals {
		total += s.Score
		if !s.content() || s.Score < 0 {
			nonContent += s.Score
		}
	}
	total = math.Round(total*10) / 10
	t := j.cfg.SpamThreshold
	junk := total >= t
	if trusted && nonContent < t {
		junk = false
	}
	if quarantine {
		junk = true
	}
	uv := UserVerdict{Junk: junk, Score: total, Threshold: t, Signals: signals}
	uv.Header = spamHeader(uv)
	return uv
}

// spamHeader formats the verdict as an X-Stamp-Spam field, one signal per
// folded line:
//
//	X-Stamp-Spam: yes; score=7.2; threshold=5.0;
//		bayes=+6.0 (p=0.998 from 50 telling words);
//		auth=+1.2 (dmarc=none spf=fail)
func spamHeader(uv UserVerdict) []byte {
	var b strings.Builder
	b.WriteString("X-Stamp-Spam: ")
	if uv.Junk {
		b.WriteString("yes")
	} else {
		b.WriteString("no")
	}
	fmt.Fprintf(&b, "; score=%.1f; threshold=%.1f", uv.Score, uv.Threshold)
	for _, s := range uv.Signals {
		fmt.Fprintf(&b, ";\r\n\t%s=%+.1f (%s)", s.Name, s.Score, headerSafe(s.Detail))
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

// headerSafe keeps a detail to printable ASCII without the header's own
// separators (';' becomes ',', parentheses brackets), at most
// maxSignalDetailLen bytes.
func headerSafe(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ';':
			b.WriteByte(',')
		case r == '(':
			b.WriteByte('[')
		case r == ')':
			b.WriteByte(']')
		case r < 0x20 || r == 0x7f:
		case r >= utf8.RuneSelf:
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
		if b.Len() >= maxSignalDetailLen {
			break
		}
	}
	return b.String()
}

// ParseSpamHeader reads an X-Stamp-Spam field value (unfolded or not) back
// into a verdict; ok is false when it is not one this package wrote.
func ParseSpamHeader(v string) (uv UserVerdict, ok bool) {
	v = strings.NewReplacer("\r\n", "", "\n", "", "\t", " ").Replace(v)
	parts := strings.Split(v, ";")
	switch strings.TrimSpace(parts[0]) {
	case "yes":
		uv.Junk = true
	case "no":
	default:
		return UserVerdict{}, false
	}
	uv.Signals = []Signal{}
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		name, rest, found := strings.Cut(p, "=")
		if !found {
			continue
		}
		num, detail, _ := strings.Cut(rest, " ")
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			continue
		}
		switch name {
		case "score":
			uv.Score = f
		case "threshold":
			uv.Threshold = f
		default:
			detail = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(detail), "("), ")"))
			uv.Signals = append(uv.Signals, Signal{Name: name, Score: f, Detail: detail})
		}
	}
	return uv, uv.Threshold > 0
}
