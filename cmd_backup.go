package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stamp-mail/stamp/server"
)

// backupCmd is `stamp backup PATH`: a consistent snapshot of a running
// server, incremental on the blob side (server.Backup says how).
func backupCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "backup PATH",
		Short: "Write a consistent backup of the server (safe while it runs); blobs already in PATH are not copied again",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			log := server.NewLogger(server.LogConfig{Level: "warn", Format: cfg.Log.Format}, cmd.ErrOrStderr())
			res, err := server.Backup(cmd.Context(), cfg, args[0], version, log)
			if err != nil {
				return err
			}
			m := res.Manifest
			fmt.Fprintf(cmd.OutOrStdout(), "backup complete: %s\n  %s metadata %s (%d bytes, schema %d)\n  %d blobs (%d bytes), %d copied now, %d already in the backup\n",
				res.Dir, m.Database, m.File, m.FileSize, m.SchemaVersion, len(m.Blobs), m.BlobBytes, m.BlobsCopied, len(m.Blobs)-m.BlobsCopied)
			return nil
		},
	}
}

// restoreCmd is `stamp restore PATH`: the newest complete snapshot in PATH
// (or PATH itself when it is one) into the configured storage.
func restoreCmd(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "restore PATH",
		Short: "Restore the newest complete backup in PATH into the configured data_dir (stop the server first)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.load()
			if err != nil {
				return err
			}
			res, err := server.Restore(cmd.Context(), cfg, args[0], force)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "restored %s (taken %s, schema %d) into %s with %d blobs\n",
				res.From, res.Manifest.CreatedAt.Format("2006-01-02 15:04:05 MST"), res.Manifest.SchemaVersion, cfg.DataDir, res.Blobs)
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "restore even if data_dir (or the PostgreSQL database) is not empty, replacing what is there")
	return cmd
}
