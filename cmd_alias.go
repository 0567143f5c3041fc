package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// aliasCmd manages aliases and catch-alls (stamp alias add/list/delete).
func aliasCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "alias", Short: "Manage aliases (ADDRESS to targets) and domain catch-alls (@DOMAIN)"}
	var owners []string
	add := g.appCmd("add ADDRESS TARGET [TARGET...]",
		"Create or replace an alias; @DOMAIN is the domain's catch-all. Targets may be local users, aliases or external addresses",
		cobra.MinimumNArgs(2), func(r run) error {
			var o []string
			if len(owners) > 0 {
				o = owners
			}
			a, err := r.app.Service.AddAlias(r.ctx, r.args[0], r.args[1:], o)
			if err != nil {
				return err
			}
			fmt.Fprintf(r.out, "alias %s -> %s\n", a.Address, strings.Join(a.Targets, ", "))
			if len(a.Owners) > 0 {
				fmt.Fprintf(r.out, "may send as %s: %s\n", a.Address, strings.Join(a.Owners, ", "))
			}
			return nil
		})
	add.Flags().StringSliceVar(&owners, "owner", nil, "users who may send as the alias (default: the local users among the targets)")
	cmd.AddCommand(add,
		g.appCmd("list [DOMAIN]", "List aliases, of one domain or all", cobra.MaximumNArgs(1), func(r run) error {
			domain := ""
			if len(r.args) == 1 {
				domain = r.args[0]
			}
			as, err := r.app.Service.ListAliases(r.ctx, domain)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(r.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ALIAS\tTARGETS\tOWNERS")
			for _, a := range as {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Address, strings.Join(a.Targets, ","), strings.Join(a.Owners, ","))
			}
			return tw.Flush()
		}),
		g.appCmd("delete ADDRESS", "Remove an alias or catch-all", cobra.ExactArgs(1), func(r run) error {
			if err := r.app.Service.DeleteAlias(r.ctx, r.args[0]); err != nil {
				return err
			}
			fmt.Fprintf(r.out, "deleted alias %s\n", strings.ToLower(r.args[0]))
			return nil
		}),
	)
	return cmd
}

// domainAddCmd is `stamp domain add DOMAIN [--admin ADDRESS]`.
func domainAddCmd(g *globals) *cobra.Command {
	var admin string
	cmd := g.appCmd("add DOMAIN", "Add a local domain, generate its DKIM keys and print the DNS records to publish", cobra.ExactArgs(1),
		func(r run) error {
			if err := r.app.Service.AddDomain(r.ctx, r.args[0]); err != nil {
				return err
			}
			if admin != "" {
				if err := r.app.Service.SetDomainAdmin(r.ctx, r.args[0], admin); err != nil {
					return err
				}
			}
			fmt.Fprintf(r.out, "added domain %s\n", strings.ToLower(r.args[0]))
			if admin != "" {
				fmt.Fprintf(r.out, "postmaster@ and abuse@ go to %s\n", strings.ToLower(admin))
			} else {
				fmt.Fprintln(r.out, "postmaster@ and abuse@ go to the domain's first user (set another with --admin or stamp domain admin)")
			}
			fmt.Fprintf(r.out, "\nPublish these DNS records:\n")
			return printRecords(r.ctx, r.out, r.app, r.args[0])
		})
	cmd.Flags().StringVar(&admin, "admin", "", "address that receives postmaster@ and abuse@ of the domain (default: its first user)")
	return cmd
}

// domainAdminCmd is `stamp domain admin DOMAIN [ADDRESS]`: show or set the admin.
func domainAdminCmd(g *globals) *cobra.Command {
	return g.appCmd("admin DOMAIN [ADDRESS]", "Show or set who receives postmaster@ and abuse@ of a domain", cobra.RangeArgs(1, 2),
		func(r run) error {
			if len(r.args) == 2 {
				if err := r.app.Service.SetDomainAdmin(r.ctx, r.args[0], r.args[1]); err != nil {
					return err
				}
			}
			a, err := r.app.Service.DomainAdmin(r.ctx, r.args[0])
			if err != nil {
				return err
			}
			if a == "" {
				a = "(nobody: the domain has no users)"
			}
			fmt.Fprintf(r.out, "postmaster@ and abuse@%s go to %s\n", strings.ToLower(r.args[0]), a)
			return nil
		})
}
