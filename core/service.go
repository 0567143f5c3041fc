// Package core is Stamp's mail service: the only package the protocol
// frontends (smtp, imap, pop3, web) call. It owns login, the one delivery
// pipeline (parse -> checks -> blobs -> group commit -> events) shared by
// SMTP, submission, the API and IMAP APPEND, mailbox and message operations,
// the outbound queue's bookkeeping and the in-process event bus (bridged
// across nodes by storage.Notifier when the backend has one).
//
// core never imports a frontend. It calls storage (metadata), storage/blob
// (bytes), message (MIME) and, through the Judge interface, check.
package core

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/stamp-mail/stamp/check"
	"github.com/stamp-mail/stamp/storage"
	"github.com/stamp-mail/stamp/storage/blob"
)

// Row types re-exported so frontends only import core.
type (
	// User is a mail account.
	User = storage.User
	// Mailbox is a folder with its IMAP state and counts.
	Mailbox = storage.Mailbox
	// Message is a message in a mailbox.
	Message = storage.Message
	// Attachment describes an attachment of a message.
	Attachment = storage.Attachment
	// Address is a parsed mailbox address.
	Address = storage.Address
	// ListQuery pages a mailbox listing.
	ListQuery = storage.ListQuery
	// SearchQuery is a full-text query with filters.
	SearchQuery = storage.SearchQuery
	// FlagOp says how flags are applied.
	FlagOp = storage.FlagOp
	// Moved pairs UIDs of a moved or copied message.
	Moved = storage.Moved
	// Change is an entry of the change log.
	Change = storage.Change
	// QueueItem is an outbound message.
	QueueItem = storage.QueueItem
	// Domain is a local domain.
	Domain = storage.Domain
)

// Flag operations.
const (
	FlagsSet    = storage.FlagsSet
	FlagsAdd    = storage.FlagsAdd
	FlagsRemove = storage.FlagsRemove
)

// ApplyFlags returns the flags op makes of cur with flags, both normalized
// (canonical system flags, no duplicates, sorted).
func ApplyFlags(cur []string, op FlagOp, flags []string) []string {
	return storage.ApplyFlags(cur, op, flags)
}

// KeywordsOf returns the keywords among flags (no leading backslash),
// the first spelling of each, in order.
func KeywordsOf(flags []string) []string { return storage.KeywordsOf(flags) }

// Judge judges incoming mail and learns from users' spam decisions;
// *check.Judge implements it.
type Judge interface {
	Judge(ctx context.Context, in check.Input) (check.Verdict, error)
	Learn(ctx context.Context, userID int64, raw []byte, spam bool) error
}

// Signer DKIM-signs outbound mail whose From address is in domain; it
// returns the header fields to prepend.
type Signer interface {
	SignHeaders(ctx context.Context, domain string, raw []byte) ([]byte, error)
}

// KeyGenerator makes the DKIM keys of a new domain.
type KeyGenerator func(domain string, now time.Time) ([]storage.DKIMKey, error)

// Config is the service's plain configuration.
type Config struct {
	Hostname        string
	NodeID          string        // unique per process; events from other nodes are told apart by it
	MaxMessageBytes int64         // default 50 MiB
	SegmentMinSize  int           // attachments whose encoded body is at least this big get their own blob; default 2048
	InlineMax       int           // blobs up to this size live in the metadata store (one fsync per commit); default 64 KiB
	BcryptCost      int           // default 10
	AuthFailDelay   time.Duration // base spacing of login attempts past the free ones, doubled per attempt; default 250ms
	AuthMaxDelay    time.Duration // largest spacing of login attempts; default 8s
	AuthMaxWait     time.Duration // an attempt whose slot is further away is refused; default 30s
	AuthFree        AuthFree      // attempts let through without spacing per key (throttle.go)
	BlobGrace       time.Duration // how long an unreferenced blob is kept before collection; default 1h
	BlobGraceShort  time.Duration // the same when the disk is short (blobgc.go); default 30s
	BlobLowSpace    int64         // the disk is short below this many bytes available (or 5%); default 1 GiB
	MaxBatch        int           // deliveries per group commit; default 128
	Committers      int           // parallel group committers; default 1 (SQLite has one writer)
	CacheBytes      int64         // LRU of message bytes; default 64 MiB
	SendPerHour     int           // per-user submission limit per hour; 0 = default 500
	SendPerDay      int           // per-user submission limit per day; 0 = default 2000
	MaxRecipients   int           // per message; default 100
	Routing         RoutingConfig // aliases, subaddressing, forwarding and Sieve
	QuotaBytes      int64         // default per-user storage quota; 0 = none (core/quota.go)
	QuotaMessages   int64         // per-user limit on the number of messages; 0 = none (core/quota.go)

	// LookupTTL bounds how long settings read per message (Sieve script,
	// spam lists) are reused when no change notice arrives; default 2s
	// (lookups.go).
	LookupTTL time.Duration
}

func (c *Config) setDefaults() {
	if c.Hostname == "" {
		c.Hostname = "localhost"
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = 50 << 20
	}
	if c.SegmentMinSize <= 0 {
		c.SegmentMinSize = 2048
	}
	if c.InlineMax == 0 {
		c.InlineMax = 64 << 10
	}
	if c.BcryptCost == 0 {
		c.BcryptCost = 10
	}
	if c.AuthFailDelay == 0 {
		c.AuthFailDelay = 250 * time.Millisecond
	}
	if c.AuthMaxDelay <= 0 {
		c.AuthMaxDelay = 8 * time.Second
	}
	if c.AuthMaxWait <= 0 {
		c.AuthMaxWait = 30 * time.Second
	}
	c.AuthFree.setDefaults()
	if c.BlobGrace == 0 {
		c.BlobGrace = time.Hour
	}
	if c.BlobGraceShort <= 0 {
		c.BlobGraceShort = 30 * time.Second
	}
	if c.BlobLowSpace == 0 {
		c.BlobLowSpace = 1 << 30
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 128
	}
	if c.Committers <= 0 {
		c.Committers = 1
	}
	if c.CacheBytes == 0 {
		c.CacheBytes = 64 << 20
	}
	if c.SendPerHour == 0 {
		c.SendPerHour = 500
	}
	if c.SendPerDay == 0 {
		c.SendPerDay = 2000
	}
	if c.MaxRecipients == 0 {
		c.MaxRecipients = 100
	}
	c.Routing.setDefaults()
}

// Deps are the service's collaborators. Store and Blobs are required.
type Deps struct {
	Store  storage.Store
	Blobs  blob.Store
	Judge  Judge        // nil: no checks
	Signer Signer       // nil: outbound mail is not signed
	KeyGen KeyGenerator // nil: domains get no DKIM keys
	Logger *slog.Logger
	// Lookups caches settings read per message (lookups.go); nil: the
	// service makes its own. Give the judge the same one's JudgeStore.
	Lookups *Lookups
}

// Service is the mail service. Create it with New, call Start, and Close at the end.
type Service struct {
	cfg    Config
	store  storage.Store
	blobs  blob.Store
	judge  Judge
	signer Signer
	keygen KeyGenerator
	log    *slog.Logger

	bus     *Bus
	commits chan *commitJob // to the blob stage of group commit
	durable chan *commitJob // blob stage -> database stage
	cache   *blobCache
	auth    *authLimiter
	logins  *authCache  // verified logins (authcache.go)
	rates   rateBook    // shared rate limits (ratelimit.go)
	sends   *rateWindow // per hour
	sendsD  *rateWindow // per day
	metrics *Metrics

	queueWake chan struct{}

	rolesMu sync.Mutex
	roles   map[roleKey]int64 // role mailbox ids; see roleMailbox

	domainsMu sync.Mutex
	domains   map[string]bool // local domains, cached for domainCacheTTL
	domainsAt time.Time

	rcpts recipientCache    // RCPT lookups (rcptcache.go)
	corrs correspondentMemo // correspondents recorded lately (correspondents.go)

	srsMu     sync.Mutex
	srsSecret []byte // see srs
	sieves    scriptCache
	look      *Lookups // settings read per message (lookups.go)

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a service; Start must be called before delivering mail.
func New(cfg Config, d Deps) *Service {
	cfg.setDefaults()
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.NodeID == "" {
		cfg.NodeID = randomToken(8)
	}
	if d.Lookups == nil {
		d.Lookups = NewLookups(d.Store)
	}
	if cfg.LookupTTL > 0 {
		d.Lookups.ttl = cfg.LookupTTL
	}
	return &Service{
		look:      d.Lookups,
		cfg:       cfg,
		store:     d.Store,
		blobs:     d.Blobs,
		judge:     d.Judge,
		signer:    d.Signer,
		keygen:    d.KeyGen,
		log:       d.Logger,
		bus:       newBus(),
		commits:   make(chan *commitJob, 4096),
		durable:   make(chan *commitJob, 4096),
		cache:     newBlobCache(cfg.CacheBytes),
		auth:      newAuthLimiter(),
		logins:    newAuthCache(),
		sends:     newRateWindow(time.Hour),
		sendsD:    newRateWindow(24 * time.Hour),
		metrics:   newMetrics(),
		queueWake: make(chan struct{}, 1),
		roles:     map[roleKey]int64{},
	}
}

// Config returns the service's configuration (with defaults applied).
func (s *Service) Config() Config { return s.cfg }

// Metrics returns the service's counters.
func (s *Service) Metrics() *Metrics { return s.metrics }

// Start runs the group committers, the cross-node event listener and the
// blob collector until Close.
func (s *Service) Start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	blobCtx, stopBlobs := context.WithCancel(context.WithoutCancel(ctx))
	var blobWG sync.WaitGroup
	for i := 0; i < s.cfg.Committers; i++ {
		blobWG.Add(1)
		go func() { defer blobWG.Done(); s.runBlobWriter(blobCtx) }()
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.runCommitter(ctx) }()
	}
	// On shutdown the blob stage stops first; the database stage then
	// finishes every job that reached it.
	s.wg.Add(1)
	go func() { defer s.wg.Done(); <-ctx.Done(); stopBlobs(); blobWG.Wait() }()
	if n, ok := s.store.(storage.Notifier); ok {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.listenRemote(ctx, n) }()
	}
	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.runCollector(ctx) }()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.runStructureBackfill(ctx)
		s.runAttachmentRepair(ctx)
	}()
}

// Close stops the background work after in-flight commits finish.
func (s *Service) Close() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
}

// Ping checks that storage answers.
func (s *Service) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

// CollectBlobs deletes blobs whose last reference went before olderThan and
// returns how many were removed.
func (s *Service) CollectBlobs(ctx context.Context, olderThan time.Time) (int, error) {
	return s.store.CollectBlobs(ctx, olderThan, func(hash string) error {
		s.cache.remove(hash)
		return s.blobs.Delete(ctx, hash)
	})
}
