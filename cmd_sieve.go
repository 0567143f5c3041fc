package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/stamp-mail/stamp/core"
)

// sieveCmd manages users' Sieve scripts (stamp sieve put/get/list).
func sieveCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "sieve", Short: "Manage users' Sieve filter scripts (RFC 5228)"}
	var name string
	put := g.appCmd("put ADDRESS FILE", "Validate a Sieve script, store it and make it the user's active script (FILE - reads stdin)",
		cobra.ExactArgs(2), func(r run) error {
			var text []byte
			var err error
			if r.args[1] == "-" {
				text, err = readAllLimited(os.Stdin, core.MaxSieveScriptBytes+1)
			} else {
				text, err = os.ReadFile(r.args[1])
			}
			if err != nil {
				return err
			}
			u, err := r.app.Service.LookupUser(r.ctx, r.args[0])
			if err != nil {
				return fmt.Errorf("user %s: %w", r.args[0], err)
			}
			if err := r.app.Service.PutSieveScript(r.ctx, u.ID, name, string(text)); err != nil {
				var se *core.ScriptError
				if errors.As(err, &se) {
					return fmt.Errorf("%s: %s", r.args[1], se.Err)
				}
				return err
			}
			if err := r.app.Service.SetActiveSieveScript(r.ctx, u.ID, name); err != nil {
				return err
			}
			fmt.Fprintf(r.out, "script %q of %s stored and active\n", name, u.Address)
			return nil
		})
	put.Flags().StringVar(&name, "name", "stamp", "script name")
	var getName string
	get := g.appCmd("get ADDRESS", "Print the user's active Sieve script (or the one named with --name)", cobra.ExactArgs(1),
		func(r run) error {
			u, err := r.app.Service.LookupUser(r.ctx, r.args[0])
			if err != nil {
				return fmt.Errorf("user %s: %w", r.args[0], err)
			}
			var sc core.SieveScript
			if getName != "" {
				sc, err = r.app.Service.GetSieveScript(r.ctx, u.ID, getName)
			} else {
				sc, err = r.app.Service.ActiveSieveScript(r.ctx, u.ID)
			}
			if errors.Is(err, core.ErrNotFound) {
				return fmt.Errorf("%s has no such script", u.Address)
			} else if err != nil {
				return err
			}
			_, err = fmt.Fprint(r.out, sc.Script)
			return err
		})
	get.Flags().StringVar(&getName, "name", "", "script name (default: the active script)")
	cmd.AddCommand(put, get,
		g.appCmd("list ADDRESS", "List the user's Sieve scripts", cobra.ExactArgs(1), func(r run) error {
			u, err := r.app.Service.LookupUser(r.ctx, r.args[0])
			if err != nil {
				return fmt.Errorf("user %s: %w", r.args[0], err)
			}
			list, err := r.app.Service.ListSieveScripts(r.ctx, u.ID)
			if err != nil {
				return err
			}
			for _, sc := range list {
				mark := ""
				if sc.Active {
					mark = " (active)"
				}
				fmt.Fprintf(r.out, "%s%s\n", sc.Name, mark)
			}
			return nil
		}),
	)
	return cmd
}

// readAllLimited reads at most n bytes.
func readAllLimited(r io.Reader, n int64) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, n))
}
