package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stamp-mail/stamp/core"
)

// spamCmd is `stamp spam`: the allow and block lists of a user (OWNER is
// the user's address) or of a local domain (OWNER is the domain name; its
// lists apply to every user of the domain). Entries are addresses
// (bob@example.org) or domains (@example.org, subdomains included).
func spamCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "spam", Short: "Show and edit the spam filter's allow and block lists of users and domains"}
	// lists reads OWNER's lists, lets edit change them and stores them.
	lists := func(r run, edit func(l *core.SpamLists)) error {
		owner := strings.ToLower(r.args[0])
		var l core.SpamLists
		var uid int64
		var err error
		if strings.Contains(owner, "@") {
			u, uerr := r.app.Service.LookupUser(r.ctx, owner)
			if uerr != nil {
				return fmt.Errorf("user %s: %w", owner, uerr)
			}
			uid = u.ID
			l, err = r.app.Service.SpamLists(r.ctx, uid)
		} else {
			l, err = r.app.Service.DomainSpamLists(r.ctx, owner)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", owner, err)
		}
		if edit == nil {
			for _, e := range l.Allow {
				fmt.Fprintf(r.out, "allow\t%s\n", e)
			}
			for _, e := range l.Block {
				fmt.Fprintf(r.out, "block\t%s\n", e)
			}
			return nil
		}
		edit(&l)
		if uid != 0 {
			return r.app.Service.SetSpamLists(r.ctx, uid, l)
		}
		return r.app.Service.SetDomainSpamLists(r.ctx, owner, l)
	}
	without := func(list []string, entries []string) []string {
		return slices.DeleteFunc(list, func(e string) bool {
			return slices.ContainsFunc(entries, func(x string) bool { return strings.EqualFold(strings.TrimSpace(x), e) })
		})
	}
	cmd.AddCommand(
		g.appCmd("list OWNER", "List a user's or a domain's allow and block lists", cobra.ExactArgs(1), func(r run) error {
			return lists(r, nil)
		}),
		g.appCmd("allow OWNER ENTRY...", "Never junk mail from these senders for OWNER (taken off the block list)", cobra.MinimumNArgs(2), func(r run) error {
			return lists(r, func(l *core.SpamLists) {
				l.Block = without(l.Block, r.args[1:])
				l.Allow = append(l.Allow, r.args[1:]...)
			})
		}),
		g.appCmd("block OWNER ENTRY...", "Always junk mail from these senders for OWNER (taken off the allow list)", cobra.MinimumNArgs(2), func(r run) error {
			return lists(r, func(l *core.SpamLists) {
				l.Allow = without(l.Allow, r.args[1:])
				l.Block = append(l.Block, r.args[1:]...)
			})
		}),
		g.appCmd("remove OWNER ENTRY...", "Take senders off OWNER's allow and block lists", cobra.MinimumNArgs(2), func(r run) error {
			return lists(r, func(l *core.SpamLists) {
				l.Allow = without(l.Allow, r.args[1:])
				l.Block = without(l.Block, r.args[1:])
			})
		}),
	)
	return cmd
}
