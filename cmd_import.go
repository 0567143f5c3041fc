package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stamp-mail/stamp/core"
	"github.com/stamp-mail/stamp/core/mailfile"
	"github.com/stamp-mail/stamp/server"
)

// importCmd is `stamp import ADDRESS PATH|imaps://user@host`.
func importCmd(g *globals) *cobra.Command {
	var (
		folder   string
		quoting  string
		insecure bool
	)
	cmd := &cobra.Command{
		Use: "import ADDRESS PATH|imaps://user@host[:port]",
		Short: "Import mail into a user from an mbox file, a Maildir, a folder of .eml files, or another IMAP server " +
			"(password on stdin); re-running imports nothing twice",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := mailfile.MboxRD
			switch quoting {
			case "mboxrd":
			case "mboxo":
				q = mailfile.MboxO
			default:
				return fmt.Errorf("--mbox-quoting must be mboxrd or mboxo, not %q", quoting)
			}
			src := args[1]
			var password string
			isIMAP := strings.HasPrefix(src, "imaps://") || strings.HasPrefix(src, "imap://")
			if isIMAP {
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if err != nil && !(errors.Is(err, io.EOF) && line != "") {
					return fmt.Errorf("read the IMAP password from stdin: %w", err)
				}
				password = strings.TrimRight(line, "\r\n")
			}
			return g.withApp(cmd, func(ctx context.Context, app *server.App) error {
				u, err := app.Service.LookupUser(ctx, args[0])
				if err != nil {
					return fmt.Errorf("user %s: %w", args[0], err)
				}
				// Append commits through the group committer: run it.
				app.Service.Start(ctx)
				im := app.Service.NewImporter(u.ID)
				failed := 0
				add := func(m mailfile.Message, role string) error {
					f := m.Folder
					if folder != "" {
						f = folder
					}
					_, err := im.Add(ctx, f, role, m.Raw, m.Flags, m.Date)
					if errors.Is(err, core.ErrTooBig) || errors.Is(err, core.ErrInvalid) {
						failed++
						fmt.Fprintf(cmd.ErrOrStderr(), "skipped a message of %d bytes in %s: %v\n", len(m.Raw), f, err)
						return nil
					}
					return err
				}
				switch {
				case isIMAP:
					var tc *tls.Config
					if insecure {
						tc = &tls.Config{InsecureSkipVerify: true}
					}
					err = mailfile.IMAPSource{URL: src, Password: password, TLS: tc}.Read(func(m mailfile.IMAPMessage) error {
						role := m.Role
						if folder != "" {
							role = ""
						}
						return add(m.Message, role)
					})
				default:
					err = importPath(src, q, func(m mailfile.Message) error { return add(m, "") })
				}
				fmt.Fprintf(cmd.OutOrStdout(), "imported %d messages into %s, %d already there, %d skipped\n", im.Imported, u.Address, im.Skipped, failed)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&folder, "folder", "", "put everything into this folder (default: INBOX for mbox and .eml files, the source's folders for Maildir and IMAP)")
	cmd.Flags().StringVar(&quoting, "mbox-quoting", "mboxrd", "how the mbox escapes \"From \" lines: mboxrd or mboxo")
	cmd.Flags().BoolVar(&insecure, "insecure-skip-verify", false, "IMAP: do not verify the server's TLS certificate (a test server with a self-signed one)")
	return cmd
}

// importPath reads a Maildir (a folder with cur/ or new/), a folder of .eml
// files, or an mbox file.
func importPath(path string, q mailfile.Quoting, fn func(mailfile.Message) error) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		return mailfile.ReadMbox(f, "INBOX", q, fn)
	}
	for _, sub := range []string{"cur", "new"} {
		if st, err := os.Stat(filepath.Join(path, sub)); err == nil && st.IsDir() {
			return mailfile.ReadMaildir(path, fn)
		}
	}
	return mailfile.ReadEMLDir(path, "INBOX", fn)
}

// exportCmd is `stamp export ADDRESS PATH [--format maildir|mbox]`.
func exportCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "export ADDRESS PATH",
		Short: "Export all of a user's mail into PATH as a Maildir (Maildir++ folders) or one mbox file per folder",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "maildir" && format != "mbox" {
				return fmt.Errorf("--format must be maildir or mbox, not %q", format)
			}
			return g.withApp(cmd, func(ctx context.Context, app *server.App) error {
				u, err := app.Service.LookupUser(ctx, args[0])
				if err != nil {
					return fmt.Errorf("user %s: %w", args[0], err)
				}
				n := 0
				switch format {
				case "maildir":
					w, err := mailfile.NewMaildirWriter(args[1])
					if err != nil {
						return err
					}
					err = app.Service.Export(ctx, u.ID, func(mb core.Mailbox, m mailfile.Message) error {
						n++
						_, err := w.Write(m)
						return err
					})
					if err != nil {
						return err
					}
				case "mbox":
					if err := os.MkdirAll(args[1], 0o700); err != nil {
						return err
					}
					var f *os.File
					var cur int64
					err = app.Service.Export(ctx, u.ID, func(mb core.Mailbox, m mailfile.Message) error {
						if f == nil || cur != mb.ID {
							if f != nil {
								if err := closeSync(f); err != nil {
									return err
								}
							}
							var err error
							f, err = os.OpenFile(filepath.Join(args[1], core.MboxFileName(mb.Name)), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
							if err != nil {
								return err
							}
							cur = mb.ID
						}
						n++
						return mailfile.WriteMbox(f, m)
					})
					if f != nil {
						if cerr := closeSync(f); err == nil {
							err = cerr
						}
					}
					if err != nil {
						return err
					}
				}
				fmt.Fprintf(cmd.OutOrStdout(), "exported %d messages of %s to %s (%s)\n", n, u.Address, args[1], format)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&format, "format", "maildir", "maildir or mbox")
	return cmd
}

func closeSync(f *os.File) error {
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
