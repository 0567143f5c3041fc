// Package outbound delivers Stamp's outbound queue to remote mail servers:
// workers claim due queue items from core (a lease, so several nodes can
// share the queue), group recipients by domain, look up the domain's MX
// hosts, and run one SMTP transaction per domain, with opportunistic
// STARTTLS. Temporary failures are retried with exponential backoff until
// MaxAge; permanent failures and expiry produce a delivery status
// notification (via core.Bounce) and leave the item as a dead letter.
//
// RFCs:
//   - RFC 5321 SMTP: section 5.1 (MX lookup, implicit MX fallback to A/AAAA),
//     4.5.3.2 (client timeouts), 4.5.4.1 (retry strategy), 4.2.5 and 6.1
//     (reply classes, the null reverse-path of bounces), 3.6.2 (relaying).
//   - RFC 7505 null MX ("." means the domain accepts no mail).
//   - RFC 3207 STARTTLS; opportunistic as in RFC 7435: a bad certificate of a
//     remote MX does not stop delivery, unless a policy says otherwise:
//   - RFC 8461 MTA-STS (mtasts.go): policies fetched over HTTPS, cached in
//     the database for every node; mode enforce restricts delivery to the
//     listed MX hosts over TLS with a valid certificate (else the mail is
//     deferred, then bounced), testing only logs what would have failed.
//   - RFC 8689 REQUIRETLS: such mail goes only over TLS with a verified
//     certificate to MX hosts that advertise REQUIRETLS (else 5.7.30), and
//     to hosts an MTA-STS policy lists when there is one; "TLS-Required: No"
//     makes MTA-STS policies be ignored for a message.
//   - RFC 3463 enhanced status codes, RFC 3464 DSNs (built by core).
//   - RFC 4954 AUTH PLAIN towards a smarthost (Options.Relay).
//   - RFC 6531 SMTPUTF8 for internationalised addresses.
package outbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/stamp-mail/stamp/core"
)

// Defaults of Options.
const (
	DefaultPort       = 25
	DefaultMaxAge     = 5 * 24 * time.Hour
	DefaultWorkers    = 4
	DefaultMinBackoff = time.Minute
	DefaultMaxBackoff = time.Hour
)

// Timeouts of one delivery attempt. RFC 5321 section 4.5.3.2 sets the
// floors of the per-command ones.
const (
	// connectTimeout bounds the TCP connection to one address (RFC 5321
	// gives no figure; an unreachable address must not eat the attempt).
	connectTimeout = 30 * time.Second
	// greetingTimeout: initial 220 message, 5 minutes (section 4.5.3.2.1).
	greetingTimeout = 5 * time.Minute
	// commandTimeout: MAIL, RCPT and other commands, 5 minutes (4.5.3.2.2-3);
	// DATA initiation is 2 minutes (4.5.3.2.4), covered by this bound.
	commandTimeout = 5 * time.Minute
	// dataEndTimeout: reply to the final dot, 10 minutes (4.5.3.2.6).
	dataEndTimeout = 10 * time.Minute
	// attemptTimeout bounds one attempt on one queue item, all domains.
	attemptTimeout = 30 * time.Minute
	// DefaultLease is how long a claimed item stays ours: longer than an
	// attempt. A node that dies holding items leaves them to the others
	// once it runs out.
	DefaultLease = attemptTimeout + 5*time.Minute
	// leaseMargin is the part of a lease an attempt may not use, so that the
	// outcome is recorded before another node may claim the item.
	leaseMargin = 8
	// updateTimeout bounds recording an attempt's outcome.
	updateTimeout = 30 * time.Second
	// maxPoll is the longest wait between queue scans without a wake-up.
	maxPoll = 30 * time.Second
)

// Options configure a Worker.
type Options struct {
	// Core is the mail service holding the queue. Required.
	Core *core.Service
	// Logger receives delivery logs; nil discards them.
	Logger *slog.Logger
	// Hostname is said in EHLO; default core's hostname.
	Hostname string
	// DNSServer is the resolver's host:port; "" uses the system's.
	DNSServer string
	// Port is the remote SMTP port; default 25.
	Port int
	// Relay is a smarthost host:port receiving all mail; "" delivers to MX hosts.
	Relay string
	// RelayUsername and RelayPassword authenticate to Relay (AUTH PLAIN, over TLS unless the relay is on loopback).
	RelayUsername, RelayPassword string
	// MaxAge is how long temporary failures are retried; default 5 days.
	MaxAge time.Duration
	// DelayNotice is how long a message waits before its sender gets one
	// delay notice (RFC 3464 action "delayed"); default core.DelayNoticeAfter.
	DelayNotice time.Duration
	// Workers is the number of items delivered in parallel; default 4.
	Workers int
	// TLS is the client TLS configuration for STARTTLS (cloned per host).
	// Towards MX hosts certificates are not verified (opportunistic TLS);
	// towards Relay they are, unless TLS.InsecureSkipVerify.
	TLS *tls.Config
	// RootCAs verifies remote certificates where verification is required
	// (MX hosts under an MTA-STS policy in mode enforce or for REQUIRETLS
	// mail, MTA-STS policy hosts, Relay); nil uses the system roots.
	RootCAs *x509.CertPool
	// DisableMTASTS ignores MTA-STS policies (RFC 8461) of recipient domains.
	DisableMTASTS bool
	// STSPort is the HTTPS port of MTA-STS policy hosts; default 443
	// (other ports are for tests).
	STSPort int
	// MinBackoff and MaxBackoff bound the retry delay (1m, 2m, 4m... capped); default 1m and 1h.
	MinBackoff, MaxBackoff time.Duration
	// Lease is how long a claimed item is reserved for this worker; default
	// DefaultLease. An attempt is cut off at 7/8 of it, and the queue is
	// scanned at least twice per lease, so the items of a node that died are
	// taken over within about 1.5 leases. Short leases are for tests.
	Lease time.Duration
}

// Worker delivers the outbound queue. Create it with New and call Run.
type Worker struct {
	o    Options
	svc  *core.Service
	log  *slog.Logger
	res  *net.Resolver
	sts  *http.Client // MTA-STS policy fetches
	poll time.Duration
}

// New returns a worker with defaults applied.
func New(o Options) *Worker {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Hostname == "" {
		o.Hostname = o.Core.Config().Hostname
	}
	if o.Port <= 0 {
		o.Port = DefaultPort
	}
	if o.DelayNotice <= 0 {
		o.DelayNotice = core.DelayNoticeAfter
	}
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = o.MinBackoff
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.STSPort <= 0 {
		o.STSPort = DefaultSTSPort
	}
	w := &Worker{o: o, svc: o.Core, log: o.Logger.With("proto", "smtp-out"), res: net.DefaultResolver, poll: min(o.MinBackoff, maxPoll, o.Lease/2)}
	if o.DNSServer != "" {
		server := o.DNSServer
		w.res = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, server)
		}}
	}
	w.sts = w.newSTSClient()
	return w
}

// Run delivers queue items until ctx ends, then waits for attempts in
// flight (their connections are closed) and returns nil. It claims items
// when core signals new mail (QueueWake), when an attempt finishes, and
// every poll interval for retries that fell due.
func (w *Worker) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, w.o.Workers)
	finished := make(chan struct{}, w.o.Workers)
	tick := time.NewTicker(w.poll)
	defer tick.Stop()
	for {
		if free := w.o.Workers - len(slots); free > 0 {
			items, err := w.svc.ClaimQueue(ctx, free, w.o.Lease)
			if err != nil && ctx.Err() == nil {
				w.log.Warn("claiming queue items failed", "err", err)
			}
			for _, it := range items {
				slots <- struct{}{}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() {
						<-slots
						select {
						case finished <- struct{}{}:
						default:
						}
					}()
					w.process(ctx, it)
				}()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-w.svc.QueueWake():
		case <-tick.C:
		case <-finished:
		}
	}
}

// process runs one attempt on a claimed item; a panic is logged and the
// item left to its lease, so it is retried later.
func (w *Worker) process(ctx context.Context, it core.QueueItem) {
	log := w.log.With("queue", it.ID, "sender", it.Sender)
	defer func() {
		if p := recover(); p != nil {
			log.Error("panic delivering queue item", "panic", p, "stack", string(debug.Stack()))
		}
	}()
	actx, cancel := context.WithTimeout(ctx, min(attemptTimeout, w.o.Lease-w.o.Lease/leaseMargin))
	defer cancel()
	w.attempt(actx, log, it)
}
