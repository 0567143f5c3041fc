package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stamp-mail/stamp/core"
)

// userQuotaCmd is "stamp user quota ADDRESS SIZE": a user's storage quota
// (RFC 9208 STORAGE), e.g. 5G, 500M, "none" (no limit) or "default"
// (limits.quota_bytes).
func userQuotaCmd(g *globals) *cobra.Command {
	return g.appCmd("quota ADDRESS SIZE", `Set a user's storage quota: a size such as 5G or 500M, "none", or "default" (limits.quota_bytes)`,
		cobra.ExactArgs(2), func(r run) error {
			n, err := core.ParseSize(r.args[1])
			if err != nil {
				return err
			}
			if err := r.app.Service.SetQuota(r.ctx, r.args[0], n); err != nil {
				return err
			}
			addr := strings.ToLower(r.args[0])
			switch n {
			case core.QuotaDefault:
				fmt.Fprintf(r.out, "quota of %s: the default\n", addr)
			case 0:
				fmt.Fprintf(r.out, "quota of %s: none\n", addr)
			default:
				fmt.Fprintf(r.out, "quota of %s: %s (%d bytes)\n", addr, core.FormatSize(n), n)
			}
			return nil
		})
}

// usageText is the usage column of "stamp user list": bytes used of the
// limit and the number of messages, e.g. "12.5M/5G 1042 msgs".
func usageText(r run, userID int64) string {
	used, limit, msgs, err := r.app.Service.Quota(r.ctx, userID)
	if err != nil {
		return "usage unknown"
	}
	l := "unlimited"
	if limit > 0 {
		l = core.FormatSize(limit)
	}
	return fmt.Sprintf("%s/%s\t%d msgs", core.FormatSize(used), l, msgs)
}
