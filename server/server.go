// Package server wires Stamp together: configuration -> storage -> core ->
// protocol frontends and workers; listeners, TLS, signals and ordered
// shutdown. Only main imports it.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/stamp-mail/stamp/check"
	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/imap"
	"github.com/stamp-mail/stamp/imap/managesieve"
	"github.com/stamp-mail/stamp/pop3"
	"github.com/stamp-mail/stamp/smtp"
	"github.com/stamp-mail/stamp/smtp/outbound"
	"github.com/stamp-mail/stamp/storage"
	"github.com/stamp-mail/stamp/storage/blob"
	"github.com/stamp-mail/stamp/storage/blob/fs"
	"github.com/stamp-mail/stamp/storage/blob/s3"
	"github.com/stamp-mail/stamp/storage/postgres"
	"github.com/stamp-mail/stamp/storage/sqlite"
	"github.com/stamp-mail/stamp/web"
)

// shutdownGrace is how long open sessions get to finish after a signal.
const shutdownGrace = 10 * time.Second

// NewLogger returns the structured logger described by the log settings.
func NewLogger(c LogConfig, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// App is an opened Stamp: storage and the mail service, not yet serving.
type App struct {
	Config  Config
	Store   storage.Store
	Service *core.Service
	Judge   *check.Judge
	log     *slog.Logger
}

// Open opens storage and builds the mail service. The CLI uses it for
// administrative commands (safe while `stamp serve` runs on the same data);
// Run uses it before serving.
func Open(ctx context.Context, c Config, log *slog.Logger) (*App, error) {
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data_dir: %w", err)
	}
	var st storage.Store
	// One group committer per node: every waiting delivery shares its
	// transaction, which measured faster than 4 parallel committers on
	// PostgreSQL too (289 vs 220 msgs/s, BENCHMARKS.md).
	committers := 1
	switch c.Storage.Database {
	case "sqlite":
		s, err := sqlite.Open(ctx, c.Storage.DSN, sqlite.Options{Logger: log})
		if err != nil {
			return nil, err
		}
		st = s
	case "postgres":
		s, err := postgres.Open(ctx, c.Storage.DSN, postgres.Options{Partitions: c.Storage.Partitions, Logger: log})
		if err != nil {
			return nil, err
		}
		st = s
	}
	blobs, err := openBlobs(ctx, c.Storage)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("blob store: %w", err)
	}
	// One cache of per-message settings for the judge and the service
	// (core/lookups.go).
	look := core.NewLookups(st)
	judge, err := check.New(check.Config{
		DNSServer: c.Outbound.DNSServer, Hostname: c.Hostname, Clamd: c.Filters.Clamd,
		ClamdFailMode: c.Filters.ClamdFailMode, SpamThreshold: c.Filters.SpamThreshold, DNSBLs: c.Filters.DNSBLs,
		NoBayes: !c.Filters.Bayes, ContentBudget: c.Filters.ContentBudget,
	}, look.JudgeStore(), log)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("filters: %w", err)
	}
	svc := core.New(core.Config{
		Hostname: c.Hostname, MaxMessageBytes: c.Limits.MaxMessageBytes, Committers: committers,
		SendPerHour: c.Limits.SendPerHour, SendPerDay: c.Limits.SendPerDay, MaxRecipients: c.Limits.MaxRecipients,
		Routing:    core.RoutingConfig{Separator: c.Routing.SubaddressSeparator, VacationDays: c.Routing.VacationDays},
		QuotaBytes: c.Limits.QuotaBytes, QuotaMessages: c.Limits.QuotaMessages,
	}, core.Deps{
		Store: st, Blobs: blobs, Judge: judge, Logger: log, Lookups: look,
		Signer: &dkimSigner{store: st, log: log},
		KeyGen: generateKeys,
	})
	return &App{Config: c, Store: st, Service: svc, Judge: judge, log: log}, nil
}

// Close closes the service and storage.
func (a *App) Close() error {
	a.Service.Close()
	return a.Store.Close()
}

// frontend is the life cycle every listener shares (STYLE.md rule 1).
type frontend interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
	Close() error
}

// Listening describes one open listener.
type Listening struct {
	Name string // smtp, submission, imaps...
	Addr string // actual host:port
}

// Run serves every configured listener and the outbound workers until ctx
// ends, then shuts down in order: stop accepting and let sessions finish
// (up to shutdownGrace), stop the workers, finish in-flight commits, close
// storage. ready, if not nil, is called with the open listeners.
func Run(ctx context.Context, c Config, log *slog.Logger, ready func([]Listening)) error {
	app, err := Open(ctx, c, log)
	if err != nil {
		return err
	}
	svcCtx, stopSvc := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSvc()
	app.Service.Start(svcCtx)

	tlsCfg, devTLS, err := loadTLS(c)
	if err != nil {
		app.Close()
		return err
	}
	insecureLoopback := devTLS
	svc := app.Service
	var acmeMgr *acmeManager
	if c.TLS.ACME.Directory != "" {
		acmeMgr = useACME(c, app.Store, func(ctx context.Context) ([]string, error) {
			ds, err := svc.ListDomains(ctx)
			if err != nil {
				return nil, err
			}
			names := make([]string, len(ds))
			for i, d := range ds {
				names[i] = d.Name
			}
			return acmeNames(c.Hostname, names), nil
		}, tlsCfg, log.With("proto", "acme"))
	}

	type spec struct {
		name     string
		addr     string
		implicit bool
		make     func(implicit bool) frontend
	}
	smtpFor := func(submission bool) func(bool) frontend {
		return func(implicit bool) frontend {
			return smtp.New(smtp.Options{Core: svc, Logger: log.With("proto", "smtp"), Hostname: c.Hostname,
				TLSConfig: tlsCfg, ImplicitTLS: implicit, AllowInsecureAuth: insecureLoopback, Submission: submission,
				MaxMessageBytes: c.Limits.MaxMessageBytes, MaxConnections: c.Limits.MaxConnections,
				MaxConnectionsPerIP: c.Limits.MaxConnectionsPerIP,
				MaxRecipients:       c.Limits.MaxRecipients, RatePerMinute: c.Limits.SMTPRatePerMinute})
		}
	}
	imapF := func(implicit bool) frontend {
		return imap.New(imap.Options{Core: svc, Logger: log.With("proto", "imap"), Hostname: c.Hostname,
			TLSConfig: tlsCfg, ImplicitTLS: implicit, AllowInsecureAuth: insecureLoopback,
			MaxConnections: c.Limits.MaxConnections, MaxConnectionsPerIP: c.Limits.MaxConnectionsPerIP,
			AppendLimit: c.Limits.MaxMessageBytes})
	}
	pop3F := func(implicit bool) frontend {
		return pop3.New(pop3.Options{Core: svc, Logger: log.With("proto", "pop3"), Hostname: c.Hostname,
			TLSConfig: tlsCfg, ImplicitTLS: implicit, AllowInsecureAuth: insecureLoopback,
			MaxConnections: c.Limits.MaxConnections, MaxConnectionsPerIP: c.Limits.MaxConnectionsPerIP})
	}
	ac := web.AutoconfigInfo{IMAPHost: c.Hostname, IMAPPort: portOf(c.Listen.IMAP), IMAPSPort: portOf(c.Listen.IMAPS),
		POP3Port: portOf(c.Listen.POP3), POP3SPort: portOf(c.Listen.POP3S),
		SubmissionPort: portOf(c.Listen.Submission), SubmissionsPort: portOf(c.Listen.Submissions)}
	// With a configured certificate the plain HTTP listener only redirects
	// to HTTPS and never takes credentials; HTTPS answers carry HSTS. (With
	// the generated development certificate both serve, as before.)
	httpsPort := "443"
	webF := func(implicit bool) frontend {
		o := web.Options{Core: svc, Logger: log.With("proto", "http"), Hostname: c.Hostname,
			Secure: implicit, MaxUploadBytes: c.Limits.MaxMessageBytes, Autoconfig: ac, MetricsToken: c.Webmail.MetricsToken}
		if acmeMgr != nil {
			o.ACMEChallenge = acmeMgr // HTTP-01 tokens
		}
		if !devTLS {
			o.HSTS = implicit
			if !implicit {
				o.HTTPSPort = httpsPort
			}
		}
		return web.New(o)
	}
	specs := []spec{
		{"smtp", c.Listen.SMTP, false, smtpFor(false)},
		{"submission", c.Listen.Submission, false, smtpFor(true)},
		{"submissions", c.Listen.Submissions, true, smtpFor(true)},
		{"imap", c.Listen.IMAP, false, imapF},
		{"imaps", c.Listen.IMAPS, true, imapF},
		{"pop3", c.Listen.POP3, false, pop3F},
		{"pop3s", c.Listen.POP3S, true, pop3F},
		{"http", c.Listen.HTTP, false, webF},
		{"https", c.Listen.HTTPS, true, webF},
		{"managesieve", c.Listen.ManageSieve, false, func(bool) frontend {
			return managesieve.New(managesieve.Options{Core: svc, Logger: log.With("proto", "managesieve"), Hostname: c.Hostname,
				TLSConfig: tlsCfg, AllowInsecureAuth: insecureLoopback, MaxConnections: c.Limits.MaxConnections})
		}},
	}

	var (
		fronts  []frontend
		opened  []Listening
		serveWG sync.WaitGroup
		errc    = make(chan error, len(specs))
	)
	// Every listener is opened before any frontend is made, so the plain
	// HTTP one knows the HTTPS port it redirects to.
	lns := make([]net.Listener, len(specs))
	for i, sp := range specs {
		if sp.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", sp.addr)
		if err != nil {
			for _, l := range lns {
				if l != nil {
					l.Close()
				}
			}
			app.Close()
			return fmt.Errorf("listen.%s: %w", sp.name, err)
		}
		lns[i] = ln
		if sp.name == "https" {
			httpsPort = strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		}
	}
	for i, sp := range specs {
		ln := lns[i]
		if ln == nil {
			continue
		}
		if sp.name == "http" || sp.name == "https" {
			ln = limitHTTP(ln, c.Limits, sp.implicit)
		}
		if sp.implicit {
			ln = tls.NewListener(ln, tlsCfg)
		}
		f := sp.make(sp.implicit)
		fronts = append(fronts, f)
		opened = append(opened, Listening{Name: sp.name, Addr: ln.Addr().String()})
		serveWG.Add(1)
		go func(name string) {
			defer serveWG.Done()
			if err := f.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) && ctx.Err() == nil {
				errc <- fmt.Errorf("%s: %w", name, err)
			}
		}(sp.name)
		log.Info("listening", "listener", sp.name, "addr", ln.Addr().String(), "tls", tlsMode(sp.implicit))
	}

	roots, err := outboundRoots(c.Outbound.CACert) // checked by Validate
	if err != nil {
		log.Warn("outbound.ca_cert unreadable; using the system roots", "err", err)
	}
	workerCtx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	worker := outbound.New(outbound.Options{Core: svc, Logger: log.With("proto", "outbound"), Hostname: c.Hostname,
		DNSServer: c.Outbound.DNSServer, Port: c.Outbound.Port, Relay: c.Outbound.Relay,
		RelayUsername: c.Outbound.RelayUsername, RelayPassword: c.Outbound.RelayPassword,
		MaxAge: c.Outbound.MaxAge, Workers: c.Outbound.Workers, Lease: c.Outbound.Lease,
		RootCAs: roots, DisableMTASTS: !c.Outbound.MTASTS})
	var workerWG sync.WaitGroup
	workerWG.Add(1)
	go func() {
		defer workerWG.Done()
		if err := worker.Run(workerCtx); err != nil && workerCtx.Err() == nil {
			errc <- fmt.Errorf("outbound: %w", err)
		}
	}()
	if acmeMgr != nil {
		workerWG.Add(1)
		go func() { defer workerWG.Done(); acmeMgr.run(workerCtx) }()
	}
	if ready != nil {
		ready(opened)
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case runErr = <-errc:
		log.Error("listener failed; shutting down", "err", runErr)
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	var wg sync.WaitGroup
	for _, f := range fronts {
		wg.Add(1)
		go func(f frontend) {
			defer wg.Done()
			if err := f.Shutdown(sctx); err != nil {
				f.Close()
			}
		}(f)
	}
	wg.Wait()
	cancel()
	serveWG.Wait()
	stopWorkers()
	workerWG.Wait()
	if err := app.Close(); err != nil && runErr == nil {
		runErr = err
	}
	log.Info("stopped")
	return runErr
}

func tlsMode(implicit bool) string {
	if implicit {
		return "implicit"
	}
	return "starttls"
}

func portOf(addr string) int {
	if addr == "" {
		return 0
	}
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	var n int
	fmt.Sscanf(p, "%d", &n)
	return n
}

// openBlobs opens the configured blob store.
func openBlobs(ctx context.Context, c StorageConfig) (blob.Store, error) {
	if c.Blobs == "s3" {
		return s3.Open(ctx, s3.Config{
			Endpoint: c.S3.Endpoint, Bucket: c.S3.Bucket, Region: c.S3.Region,
			AccessKey: c.S3.AccessKey, SecretKey: c.S3.SecretKey, PathStyle: c.S3.PathStyle,
			Prefix: c.S3.Prefix, PartSize: int64(c.S3.PartSizeMB) << 20,
		})
	}
	return fs.Open(c.BlobDir)
}
