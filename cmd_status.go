package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stamp-mail/stamp/check"
	"github.com/stamp-mail/stamp/server"
	"github.com/stamp-mail/stamp/storage"
)

// statusDialTimeout bounds the check that a listener answers.
const statusDialTimeout = 2 * time.Second

// statusDNSTimeout bounds the DNS checks of one domain.
const statusDNSTimeout = 10 * time.Second

// statusCmd is `stamp status`: the health of the server at a glance.
func statusCmd(g *globals) *cobra.Command {
	var noDNS bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show listeners, queue depth and oldest item, storage use, certificate expiry, DNS record checks and recent errors",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.withApp(cmd, func(ctx context.Context, app *server.App) error {
				return printStatus(ctx, cmd.OutOrStdout(), app, !noDNS)
			})
		},
	}
	cmd.Flags().BoolVar(&noDNS, "no-dns", false, "skip the DNS record checks (no network)")
	return cmd
}

func printStatus(ctx context.Context, out io.Writer, app *server.App, dns bool) error {
	c := app.Config
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintf(tw, "stamp %s on %s (%s storage, data in %s)\n\n", version, c.Hostname, c.Storage.Database, c.DataDir)

	fmt.Fprintln(tw, "LISTENER\tADDRESS\tSTATE")
	for _, l := range []struct{ name, addr string }{
		{"smtp", c.Listen.SMTP}, {"submission", c.Listen.Submission}, {"submissions", c.Listen.Submissions},
		{"imap", c.Listen.IMAP}, {"imaps", c.Listen.IMAPS}, {"pop3", c.Listen.POP3}, {"pop3s", c.Listen.POP3S},
		{"http", c.Listen.HTTP}, {"https", c.Listen.HTTPS},
	} {
		state := "off"
		if l.addr != "" {
			state = "up"
			if _, port, _ := net.SplitHostPort(l.addr); port == "0" {
				state = "configured on a random port (not checked)"
			} else if conn, err := net.DialTimeout("tcp", l.addr, statusDialTimeout); err != nil {
				state = "DOWN: " + err.Error()
			} else {
				conn.Close()
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", l.name, orDash(l.addr), state)
	}

	items, err := app.Service.ListQueue(ctx)
	if err != nil {
		return err
	}
	var queued, failed int
	var oldest *storage.QueueItem
	var recent []storage.QueueItem
	for i, it := range items {
		switch it.State {
		case storage.QueueQueued:
			queued++
			if oldest == nil || it.CreatedAt.Before(oldest.CreatedAt) {
				oldest = &items[i]
			}
		case storage.QueueFailed:
			failed++
		}
		if it.LastError != "" {
			recent = append(recent, it)
		}
	}
	fmt.Fprintf(tw, "\nQUEUE\t%d waiting, %d failed (dead letter)\n", queued, failed)
	if oldest != nil {
		fmt.Fprintf(tw, "oldest\t#%d, %s in the queue, %d attempts\n", oldest.ID, time.Since(oldest.CreatedAt).Round(time.Second), oldest.Attempts)
	}

	fmt.Fprintln(tw, "\nSTORAGE")
	if c.Storage.Database == "sqlite" {
		var db int64
		for _, suffix := range []string{"", "-wal"} {
			if st, err := os.Stat(c.Storage.DSN + suffix); err == nil {
				db += st.Size()
			}
		}
		fmt.Fprintf(tw, "database\t%s\t%s\n", c.Storage.DSN, bytesText(db))
	} else {
		fmt.Fprintf(tw, "database\tPostgreSQL\t(see pg_database_size)\n")
	}
	files, size := dirUse(c.Storage.BlobDir)
	fmt.Fprintf(tw, "blobs\t%s\t%s in %d files\n", c.Storage.BlobDir, bytesText(size), files)

	fmt.Fprintln(tw, "\nCERTIFICATE")
	certFile := c.TLS.Cert
	if certFile == "" {
		certFile = filepath.Join(c.DataDir, "tls", "cert.pem")
	}
	if exp, names, err := certExpiry(certFile); err != nil {
		fmt.Fprintf(tw, "%s\t%v\n", certFile, err)
	} else {
		left := time.Until(exp).Round(time.Hour)
		warn := ""
		if left < 14*24*time.Hour {
			warn = "  RENEW SOON"
		}
		fmt.Fprintf(tw, "%s\t%s expires %s (in %s)%s\n", certFile, strings.Join(names, ","), exp.Format(time.DateOnly), left, warn)
	}

	if dns {
		fmt.Fprintln(tw, "\nDNS")
		ds, err := app.Service.ListDomains(ctx)
		if err != nil {
			return err
		}
		for _, d := range ds {
			keys, err := app.Service.DKIMKeys(ctx, d.Name)
			if err != nil {
				return err
			}
			dctx, cancel := context.WithTimeout(ctx, statusDNSTimeout)
			res := check.CheckDomain(dctx, check.Config{DNSServer: c.Outbound.DNSServer, Hostname: c.Hostname}, d.Name, c.Hostname, server.CheckKeys(keys))
			cancel()
			bad := 0
			for _, r := range res {
				if r.Status != check.StatusFound {
					bad++
					fmt.Fprintf(tw, "%s\t%s %s\t%s %s\n", d.Name, r.Type, r.Name, r.Status, r.Err)
				}
			}
			if bad == 0 {
				fmt.Fprintf(tw, "%s\tall %d records found\n", d.Name, len(res))
			}
		}
	}

	fmt.Fprintln(tw, "\nRECENT ERRORS (outbound queue)")
	sort.Slice(recent, func(i, j int) bool { return recent[i].NextAttemptAt.After(recent[j].NextAttemptAt) })
	if len(recent) == 0 {
		fmt.Fprintln(tw, "none")
	}
	for i, it := range recent {
		if i == 5 {
			break
		}
		fmt.Fprintf(tw, "#%d\t%s\t%s\n", it.ID, it.State, it.LastError)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func certExpiry(path string) (time.Time, []string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return time.Time{}, nil, fmt.Errorf("no PEM certificate")
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return time.Time{}, nil, err
	}
	return cert.NotAfter, cert.DNSNames, nil
}

func dirUse(dir string) (files int, size int64) {
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				files++
				size += fi.Size()
			}
		}
		return nil
	})
	return files, size
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
