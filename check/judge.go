package check

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

// Defaults applied by New to zero Config fields.
const (
	// DefaultDNSTimeout bounds one DNS query (RFC 7208 section 4.6.4 asks
	// for a bounded overall SPF evaluation; 20 seconds is its floor for all
	// of it, so one query gets a fraction).
	DefaultDNSTimeout = 5 * time.Second
	// DefaultSpamThreshold is the score (points) from which mail is junk,
	// SpamAssassin's required_score.
	DefaultSpamThreshold = 5.0
	// DefaultContentBudget bounds the time content checks (the tokenizer's
	// MIME walk and Bayes) spend on one message; past it the message is
	// judged on the checks that finished.
	DefaultContentBudget = 2 * time.Second
	// DefaultMaxDKIMSignatures is how many DKIM signatures are verified.
	DefaultMaxDKIMSignatures = 10

	// authLookupsBudget is how many DNS timeouts SPF, DKIM and DMARC may
	// spend in total: SPF may need 10 lookups (RFC 7208 section 4.6.4) but
	// a sender whose DNS is that slow gets temperror instead of holding the
	// SMTP session.
	authLookupsBudget = 4
)

// Errors returned by New.
var (
	ErrBadConfig = errors.New("check: bad configuration")
)

// Config is the plain-data configuration of a Judge.
type Config struct {
	DNSServer         string        // host:port of the resolver, "" = the system's
	DNSTimeout        time.Duration // one DNS query; 0 = DefaultDNSTimeout
	Hostname          string        // authserv-id of Authentication-Results (RFC 8601 section 2.5)
	Clamd             string        // "", "unix:/path" or "host:port"
	ClamdFailMode     string        // "tempfail" (default) or "accept" when clamd is unreachable
	SpamThreshold     float64       // points, default 5
	ContentBudget     time.Duration // per message, default DefaultContentBudget
	DNSBLs            []string      // DNSBL zones, off when empty
	MaxDKIMSignatures int           // default 10
	// NoBayes turns the Bayesian classifier off (for sites that filter
	// content elsewhere): spam verdicts then come from authentication
	// failures, DMARC quarantine and DNSBLs only.
	NoBayes bool
}

// KV is the small key/value store the spam filter keeps per-user training in.
// storage.Store satisfies it; GetKV returns an error wrapping
// storage.ErrNotFound for absent keys.
type KV interface {
	GetKV(ctx context.Context, key string) ([]byte, error)
	PutKV(ctx context.Context, key string, value []byte) error
}

// Judge judges incoming mail. It is safe for concurrent use.
type Judge struct {
	cfg    Config
	kv     KV
	log    *slog.Logger
	dns    dnsClient
	shared *sharedModel

	// learnMu serializes Learn's read-modify-write of training counts.
	learnMu sync.Mutex

	// trainingMu guards training, users' decoded training by user id
	// (see cachedCounts).
	trainingMu sync.Mutex
	training   map[int64]trainingEntry
}

// New returns a Judge for cfg, keeping per-user spam training in kv.
func New(cfg Config, kv KV, logger *slog.Logger) (*Judge, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	shared, err := loadSharedModel()
	if err != nil {
		return nil, err
	}
	return &Judge{cfg: cfg, kv: kv, log: logger, dns: newDNSClient(cfg), shared: shared}, nil
}

func (c *Config) normalize() error {
	if c.DNSTimeout <= 0 {
		c.DNSTimeout = DefaultDNSTimeout
	}
	if c.SpamThreshold == 0 {
		c.SpamThreshold = DefaultSpamThreshold
	}
	if c.SpamThreshold < 0 || c.SpamThreshold > 100 {
		return fmt.Errorf("%w: SpamThreshold %v not in (0, 100]", ErrBadConfig, c.SpamThreshold)
	}
	if c.ContentBudget <= 0 {
		c.ContentBudget = DefaultContentBudget
	}
	if c.MaxDKIMSignatures <= 0 {
		c.MaxDKIMSignatures = DefaultMaxDKIMSignatures
	}
	switch c.ClamdFailMode {
	case "":
		c.ClamdFailMode = "tempfail"
	case "tempfail", "accept":
	default:
		return fmt.Errorf("%w: ClamdFailMode %q (want tempfail or accept)", ErrBadConfig, c.ClamdFailMode)
	}
	if c.Hostname == "" {
		c.Hostname = "localhost"
	}
	if c.DNSServer != "" {
		if _, _, err := net.SplitHostPort(c.DNSServer); err != nil {
			return fmt.Errorf("%w: DNSServer %q: %v", ErrBadConfig, c.DNSServer, err)
		}
	}
	for _, z := range c.DNSBLs {
		if strings.TrimSpace(z) == "" {
			return fmt.Errorf("%w: empty DNSBL zone", ErrBadConfig)
		}
	}
	return nil
}

// Judge judges one message. Authenticated input only gets the virus scan;
// other mail gets SPF, DKIM and DMARC, an Authentication-Results header and
// a spam score per recipient. The error is non-nil only when ctx ends.
func (j *Judge) Judge(ctx context.Context, in Input) (Verdict, error) {
	var v Verdict
	if j.cfg.Clamd != "" {
		virus, err := j.scan(ctx, in.Raw)
		switch {
		case err != nil && ctx.Err() != nil:
			return Verdict{}, ctx.Err()
		case err != nil && j.cfg.ClamdFailMode == "accept":
			j.log.WarnContext(ctx, "clamd unavailable, accepting unchecked", "err", err)
			v.Headers = append(v.Headers, "X-Stamp-Virus: unchecked (clamd unavailable)\r\n"...)
		case err != nil:
			j.log.WarnContext(ctx, "clamd unavailable, tempfailing", "err", err)
			return Verdict{TempFail: true, Code: 451, Enhanced: [3]int{4, 7, 1},
				Message: "Virus scanner unavailable, try again later"}, nil
		case virus != "":
			j.log.InfoContext(ctx, "virus found", "signature", virus)
			return Verdict{Reject: true, Code: 554, Enhanced: [3]int{5, 7, 0},
				Message: "Message contains a virus (" + virus + ")"}, nil
		}
	}
	if in.Authenticated {
		return v, nil
	}

	auth := j.authenticate(ctx, in)
	if ctx.Err() != nil {
		return Verdict{}, ctx.Err()
	}
	v.Headers = append([]byte(auth.header), v.Headers...)
	if auth.dmarc == "fail" && auth.policy == "reject" {
		return Verdict{Reject: true, Code: 550, Enhanced: [3]int{5, 7, 1},
			Message: "Message rejected by DMARC policy of " + auth.fromDomain}, nil
	}
	ms := messageSignals{
		quarantine: auth.dmarc == "fail" && auth.policy == "quarantine",
		dmarcFail:  auth.dmarc == "fail",
		from:       authorAddress(in.Raw),
		mailFrom:   storage.NormalizeAddress(in.MailFrom),
	}
	ms.signals = append(ms.signals, authSignals(auth))
	if ms.quarantine {
		ms.signals = append(ms.signals, Signal{Name: "dmarc-quarantine", Score: j.cfg.SpamThreshold,
			Detail: auth.fromDomain + " asks that failing mail be quarantined"})
	}
	if hits := j.dnsblHits(ctx, in.RemoteIP); len(hits) > 0 {
		ms.signals = append(ms.signals, Signal{Name: "dnsbl",
			Score:  math.Min(maxDNSBLPoints, pointsDNSBL*float64(len(hits))),
			Detail: in.RemoteIP.String() + " listed on " + strings.Join(hits, ", ")})
	}
	if in.HeloIsOurs {
		ms.signals = append(ms.signals, Signal{Name: "smtp", Score: pointsHeloOurs, Detail: "HELO " + in.Helo + " claims to be this server"})
	}
	if in.EarlyTalker {
		ms.signals = append(ms.signals, Signal{Name: "smtp", Score: pointsEarlyTalker, Detail: "client talked before the greeting"})
	}
	var tokens []uint64
	complete := true
	if !j.cfg.NoBayes {
		deadline := time.Now().Add(j.cfg.ContentBudget)
		var hits []string
		tokens, hits, complete = contentChecks(in.Raw, in.Arrived, deadline)
		if complete {
			ms.signals = append(ms.signals, rulesSignalOf(hits))
		}
		if !complete {
			j.log.WarnContext(ctx, "content checks over budget, judged without them", "budget", j.cfg.ContentBudget, "size", len(in.Raw))
		}
	}
	v.PerUser = make(map[int64]UserVerdict, len(in.Recipients))
	for _, uid := range in.Recipients {
		if _, done := v.PerUser[uid]; done {
			continue
		}
		signals := slices.Clone(ms.signals)
		sender, trusted := j.senderSignals(ctx, uid, &ms)
		signals = append(signals, sender...)
		switch {
		case j.cfg.NoBayes:
		case !complete:
			signals = append(signals, Signal{Name: "bayes", Detail: "not run: content checks took longer than " + j.cfg.ContentBudget.String()})
		default:
			signals = append(signals, j.bayesSignal(ctx, uid, tokens))
		}
		v.PerUser[uid] = j.verdict(signals, trusted, ms.quarantine)
	}
	return v, nil
}
