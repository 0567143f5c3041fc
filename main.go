// Command stamp is a mail server in one binary: SMTP (MX and submission),
// IMAP, POP3, a REST API with WebSocket push and a webmail, on SQLite by
// default or PostgreSQL for many identical nodes. main holds the cobra
// commands only; server wires everything.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/stamp-mail/stamp/check"
	"github.com/stamp-mail/stamp/server"
	"github.com/stamp-mail/stamp/smtp/smtpload"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRoot().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "stamp:", err)
		os.Exit(1)
	}
}

type globals struct{ configPath string }

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "stamp",
		Short:         "Stamp is a mail server: SMTP, IMAP, POP3, HTTP API and webmail in one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.configPath, "config", "", "configuration file (default ./stamp.yaml if present, else built-in defaults)")
	root.AddCommand(serveCmd(g), domainCmd(g), userCmd(g), queueCmd(g), suppressionCmd(g), loadCmd(), versionCmd())
	root.AddCommand(aliasCmd(g), sieveCmd(g))
	root.AddCommand(spamCmd(g))
	root.AddCommand(gcCmd(g))
	root.AddCommand(repairAttachmentsCmd(g))
	root.AddCommand(backupCmd(g), restoreCmd(g))
	root.AddCommand(importCmd(g), exportCmd(g), statusCmd(g))
	return root
}

func (g *globals) load() (server.Config, error) { return server.Load(g.configPath) }

// withApp opens storage and the service for an administrative command.
func (g *globals) withApp(cmd *cobra.Command, fn func(ctx context.Context, app *server.App) error) error {
	cfg, err := g.load()
	if err != nil {
		return err
	}
	cfg.Log.Level = "warn"
	log := server.NewLogger(cfg.Log, cmd.ErrOrStderr())
	app, err := server.Open(cmd.Context(), cfg, log)
	if err != nil {
		return err
	}
	defer app.Close()
	return fn(cmd.Context(), app)
}

func serveCmd(g *globals) *cobra.Command {
	var cpuProfile, traceFile string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run every listener until SIGINT/SIGTERM, then shut down gracefully",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			// Mail serving allocates short-lived buffers at a high rate; a
			// larger GC target trades some memory for about 5% more
			// throughput (BENCHMARKS.md). GOGC in the environment still wins.
			if os.Getenv("GOGC") == "" {
				debug.SetGCPercent(200)
			}
			stop, err := startCPUProfile(cpuProfile)
			if err != nil {
				return err
			}
			defer stop()
			if traceFile != "" {
				f, err := os.Create(traceFile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := trace.Start(f); err != nil {
					return err
				}
				defer trace.Stop()
			}
			log := server.NewLogger(cfg.Log, cmd.ErrOrStderr())
			out := cmd.OutOrStdout()
			return server.Run(cmd.Context(), cfg, log, func(ls []server.Listening) {
				fmt.Fprintf(out, "stamp %s serving %s (data in %s, %s storage)\n", version, cfg.Hostname, cfg.DataDir, cfg.Storage.Database)
				for _, l := range ls {
					fmt.Fprintf(out, "  %-12s %s\n", l.Name, l.Addr)
				}
				fmt.Fprintln(out, "ready")
			})
		},
	}
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile to this file until shutdown (for performance work)")
	cmd.Flags().StringVar(&traceFile, "trace", "", "write a Go execution trace to this file until shutdown (for performance work: where requests wait)")
	return cmd
}

// run is what an administrative command gets: its context, output,
// arguments and the opened application.
type run struct {
	ctx  context.Context
	out  io.Writer
	args []string
	app  *server.App
}

// appCmd builds a command that opens storage and the mail service (safe
// while `stamp serve` runs on the same data), calls fn, and closes them.
func (g *globals) appCmd(use, short string, args cobra.PositionalArgs, fn func(r run) error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  args,
		RunE: func(cmd *cobra.Command, a []string) error {
			return g.withApp(cmd, func(ctx context.Context, app *server.App) error {
				return fn(run{ctx: ctx, out: cmd.OutOrStdout(), args: a, app: app})
			})
		},
	}
}

func domainCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "domain", Short: "Manage local mail domains"}
	cmd.AddCommand(
		domainAddCmd(g), domainAdminCmd(g),
		g.appCmd("list", "List local domains", cobra.NoArgs, func(r run) error {
			ds, err := r.app.Service.ListDomains(r.ctx)
			if err != nil {
				return err
			}
			for _, d := range ds {
				fmt.Fprintln(r.out, d.Name)
			}
			return nil
		}),
		g.appCmd("records DOMAIN", "Print the DNS records a domain should publish", cobra.ExactArgs(1), func(r run) error {
			return printRecords(r.ctx, r.out, r.app, r.args[0])
		}),
		g.appCmd("check DOMAIN", "Check the DNS records a domain publishes against what it should", cobra.ExactArgs(1), checkDomain),
		g.appCmd("delete DOMAIN", "Remove a local domain (its users stay until deleted)", cobra.ExactArgs(1), func(r run) error {
			return r.app.Service.DeleteDomain(r.ctx, r.args[0])
		}),
	)
	return cmd
}

func checkDomain(r run) error {
	domain := strings.ToLower(r.args[0])
	keys, err := r.app.Service.DKIMKeys(r.ctx, domain)
	if err != nil {
		return err
	}
	cfg := r.app.Config
	results := check.CheckDomain(r.ctx, check.Config{DNSServer: cfg.Outbound.DNSServer, Hostname: cfg.Hostname},
		domain, cfg.Hostname, server.CheckKeys(keys))
	tw := tabwriter.NewWriter(r.out, 0, 4, 2, ' ', 0)
	bad := 0
	for _, c := range results {
		detail := c.Err
		if c.Status != check.StatusFound {
			detail = fmt.Sprintf("want %q; seen %q %s", c.Value, c.Seen, c.Err)
			bad++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Status, c.Type, c.Name, detail)
	}
	tw.Flush()
	if bad > 0 {
		return fmt.Errorf("%d of %d records missing or wrong", bad, len(results))
	}
	return nil
}

func printRecords(ctx context.Context, w io.Writer, app *server.App, domain string) error {
	keys, err := app.Service.DKIMKeys(ctx, domain)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range check.DNSRecords(strings.ToLower(domain), app.Config.Hostname, server.CheckKeys(keys)) {
		fmt.Fprintf(tw, "%s.\tIN %s\t%s\n", r.Name, r.Type, r.Value)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nFor MTA-STS, also point mta-sts.%s at %s (CNAME) and serve HTTPS for it:\n"+
		"stamp serves the policy at /.well-known/mta-sts.txt on its https listener.\n", strings.ToLower(domain), app.Config.Hostname)
	return nil
}

func userCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage mail accounts"}
	// withPassword makes a command whose fn also gets a password, read from
	// --password-stdin or a no-echo prompt before storage is opened.
	withPassword := func(use, short string, fn func(r run, password string) error) *cobra.Command {
		var password string
		var fromStdin bool
		c := g.appCmd(use, short, cobra.ExactArgs(1), func(r run) error { return fn(r, password) })
		c.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
		inner := c.RunE
		c.RunE = func(cmd *cobra.Command, args []string) error {
			pw, err := readPassword(cmd, fromStdin)
			if err != nil {
				return err
			}
			password = pw
			return inner(cmd, args)
		}
		return c
	}
	cmd.AddCommand(
		withPassword("add ADDRESS", "Create a user (and its domain if new) with the folders INBOX, Sent, Drafts, Junk, Trash, Archive",
			func(r run, password string) error {
				u, err := r.app.Service.CreateUser(r.ctx, r.args[0], password)
				if err != nil {
					return err
				}
				fmt.Fprintf(r.out, "created user %s\n", u.Address)
				return nil
			}),
		withPassword("passwd ADDRESS", "Change a user's password", func(r run, password string) error {
			if err := r.app.Service.SetPassword(r.ctx, r.args[0], password); err != nil {
				return err
			}
			fmt.Fprintf(r.out, "password changed for %s\n", strings.ToLower(r.args[0]))
			return nil
		}),
		g.appCmd("list", "List users", cobra.NoArgs, func(r run) error {
			us, err := r.app.Service.ListUsers(r.ctx)
			if err != nil {
				return err
			}
			for _, u := range us {
				fmt.Fprintf(r.out, "%s\t%s\t%s\n", u.Address, u.CreatedAt.Format(time.DateOnly), usageText(r, u.ID))
			}
			return nil
		}),
		g.appCmd("delete ADDRESS", "Delete a user and all its mail", cobra.ExactArgs(1), func(r run) error {
			if err := r.app.Service.DeleteUser(r.ctx, r.args[0]); err != nil {
				return err
			}
			fmt.Fprintf(r.out, "deleted user %s\n", strings.ToLower(r.args[0]))
			return nil
		}),
	)
	cmd.AddCommand(userQuotaCmd(g))
	return cmd
}

// readPassword reads a password from stdin's first line or, interactively,
// twice from the terminal without echo.
func readPassword(cmd *cobra.Command, fromStdin bool) (string, error) {
	in := cmd.InOrStdin()
	if fromStdin {
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			return "", fmt.Errorf("read password from stdin: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	f, ok := in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", errors.New("no terminal to prompt for a password: use --password-stdin")
	}
	fmt.Fprint(cmd.ErrOrStderr(), "Password: ")
	a, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(cmd.ErrOrStderr())
	if err != nil {
		return "", err
	}
	fmt.Fprint(cmd.ErrOrStderr(), "Again: ")
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(cmd.ErrOrStderr())
	if err != nil {
		return "", err
	}
	if string(a) != string(b) {
		return "", errors.New("passwords do not match")
	}
	return string(a), nil
}

func queueCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "queue", Short: "Show and steer the outbound queue"}
	byID := func(use, short string, fn func(r run, id int64) error) *cobra.Command {
		return g.appCmd(use, short, cobra.ExactArgs(1), func(r run) error {
			id, err := strconv.ParseInt(r.args[0], 10, 64)
			if err != nil {
				return fmt.Errorf("queue id %q is not a number", r.args[0])
			}
			return fn(r, id)
		})
	}
	cmd.AddCommand(
		g.appCmd("list", "List queued, delivered and failed (dead-letter) messages", cobra.NoArgs, func(r run) error {
			items, err := r.app.Service.ListQueue(r.ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(r.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATE\tATTEMPTS\tNEXT\tFROM\tTO\tLAST ERROR")
			for _, it := range items {
				fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t%s\n", it.ID, it.State, it.Attempts,
					it.NextAttemptAt.Format(time.DateTime), orNull(it.Sender), strings.Join(it.Recipients, ","), it.LastError)
			}
			return tw.Flush()
		}),
		byID("retry ID", "Make a queued or failed message due now", func(r run, id int64) error {
			return r.app.Service.RetryQueue(r.ctx, id)
		}),
		byID("drop ID", "Remove a message from the queue without sending or bouncing it", func(r run, id int64) error {
			return r.app.Service.DropQueue(r.ctx, id)
		}),
	)
	return cmd
}

func orNull(s string) string {
	if s == "" {
		return "<>"
	}
	return s
}

func suppressionCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "suppression", Short: "Show and edit the per-domain hard-bounce suppression lists"}
	cmd.AddCommand(
		g.appCmd("list [DOMAIN]", "List suppressed recipients", cobra.MaximumNArgs(1), func(r run) error {
			domain := ""
			if len(r.args) == 1 {
				domain = r.args[0]
			}
			ss, err := r.app.Service.ListSuppressed(r.ctx, domain)
			if err != nil {
				return err
			}
			for _, s := range ss {
				fmt.Fprintf(r.out, "%s\t%s\t%s\n", s.Domain, s.Address, s.Reason)
			}
			return nil
		}),
		g.appCmd("remove DOMAIN ADDRESS", "Allow sending to a suppressed address again", cobra.ExactArgs(2), func(r run) error {
			return r.app.Service.Unsuppress(r.ctx, r.args[0], r.args[1])
		}),
	)
	return cmd
}

// startCPUProfile writes a CPU profile to path (none when path is empty)
// until the returned stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func loadCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "load", Short: "Load generators for measuring a running server"}
	var o smtpload.Options
	var cpuProfile, textFile string
	smtpCmd := &cobra.Command{
		Use:   "smtp",
		Short: "Send messages over SMTP with N concurrent connections and report rate and latency",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			stop, err := startCPUProfile(cpuProfile)
			if err != nil {
				return err
			}
			defer stop()
			if textFile != "" {
				if o.Text, err = os.ReadFile(textFile); err != nil {
					return err
				}
			}
			res, err := smtpload.Run(cmd.Context(), o)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "sent %d failed %d in %s: %.0f msgs/s, p50 %s, p99 %s\n",
				res.Sent, res.Failed, res.Duration.Round(time.Millisecond), res.PerSecond, res.P50, res.P99)
			if res.FirstErr != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "first error: %s\n", res.FirstErr)
			}
			return nil
		},
	}
	f := smtpCmd.Flags()
	f.StringVar(&o.Addr, "addr", "127.0.0.1:2525", "server host:port")
	f.IntVar(&o.Connections, "connections", 8, "concurrent connections")
	f.IntVar(&o.Messages, "messages", 10000, "messages to send in all")
	f.IntVar(&o.Size, "size", 10*1024, "message size in bytes")
	f.StringVar(&o.From, "from", "load@sender.example", "envelope sender")
	f.StringVar(&o.To, "to", "", "recipient (a local user)")
	f.StringVar(&o.Username, "username", "", "AUTH username (submission)")
	f.StringVar(&o.Password, "password", "", "AUTH password")
	f.BoolVar(&o.StartTLS, "starttls", false, "use STARTTLS")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the load generator to this file (for performance work)")
	f.StringVar(&textFile, "text", "", "body text from this file (UTF-8), repeated or cut to --size; default one generated line repeated, which compresses and tokenizes unlike real mail")
	f.IntVar(&o.PerConnection, "per-connection", 0, "messages per connection before QUIT and a new connection (0: no limit, RSET between messages)")
	cmd.AddCommand(smtpCmd)
	return cmd
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "stamp %s\n", version)
		},
	}
}
