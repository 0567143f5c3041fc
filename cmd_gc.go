package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

// gcCmd collects unreferenced blobs now, without waiting for the server's
// collector (which runs every 10 minutes with a one-hour grace period, or
// every few seconds with a short grace when the disk is short). It is safe
// while `stamp serve` runs: a delivery that re-uses a blob collected at
// that moment writes it again after its commit.
func gcCmd(g *globals) *cobra.Command {
	var grace time.Duration
	cmd := g.appCmd("gc", "Delete blobs no message uses any more (expunged mail) to free disk space now", cobra.NoArgs, func(r run) error {
		if grace < 0 {
			return fmt.Errorf("--grace must not be negative")
		}
		n, err := r.app.Service.CollectBlobs(r.ctx, time.Now().Add(-grace))
		if err != nil {
			return fmt.Errorf("collect blobs: %w", err)
		}
		c, err := r.app.Store.ExpireThrottles(r.ctx, time.Now())
		if err != nil {
			return fmt.Errorf("expire counters: %w", err)
		}
		fmt.Fprintf(r.out, "removed %d unreferenced blobs (unused for more than %v), %d expired login and rate counters\n", n, grace, c)
		return nil
	})
	cmd.Flags().DurationVar(&grace, "grace", time.Minute, "keep blobs that became unused less than this long ago")
	return cmd
}
