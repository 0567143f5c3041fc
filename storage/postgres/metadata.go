package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/stamp-mail/stamp/storage"
)

// GetMetadata returns the owner's entries of a mailbox (0: the server).
func (s *Store) GetMetadata(ctx context.Context, owner, mailboxID int64, names []string, depth int) ([]storage.MetadataEntry, error) {
	if mailboxID != 0 {
		if err := s.mailboxExists(ctx, s.pool, owner, mailboxID); err != nil {
			return nil, mapErr("get metadata", err)
		}
	}
	rows, err := s.pool.Query(ctx, `SELECT name, value FROM metadata WHERE user_id = $1 AND mailbox_id = $2 ORDER BY name`, owner, mailboxID)
	if err != nil {
		return nil, mapErr("get metadata", err)
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (storage.MetadataEntry, error) {
		var e storage.MetadataEntry
		err := r.Scan(&e.Name, &e.Value)
		return e, err
	})
	if err != nil {
		return nil, mapErr("get metadata", err)
	}
	out := []storage.MetadataEntry{}
	for _, e := range all {
		if slices.ContainsFunc(names, func(n string) bool { return storage.MetadataWithin(e.Name, strings.ToLower(n), depth) }) {
			out = append(out, e)
		}
	}
	return out, nil
}

// SetMetadata sets and removes entries atomically, within lim. Writers of
// one owner serialize on the owner's row lock (owner 0, the server's
// shared entries, on a transaction advisory lock).
func (s *Store) SetMetadata(ctx context.Context, owner, mailboxID int64, entries []storage.MetadataEntry, lim storage.MetadataLimits) error {
	for _, e := range entries {
		if !storage.ValidMetadataName(e.Name) {
			return fmt.Errorf("postgres: set metadata: name %q: %w", e.Name, storage.ErrInvalid)
		}
		if lim.MaxValue > 0 && len(e.Value) > lim.MaxValue {
			return fmt.Errorf("postgres: set metadata %s: %d bytes: %w", e.Name, len(e.Value), storage.ErrMetadataTooLarge)
		}
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if owner == 0 {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('stamp-server-metadata'))"); err != nil {
				return err
			}
		} else if err := lockUser(ctx, tx, owner); err != nil {
			return err
		}
		if mailboxID != 0 {
			if err := s.mailboxExists(ctx, tx, owner, mailboxID); err != nil {
				return err
			}
		}
		b := &pgx.Batch{}
		for _, e := range entries {
			name := strings.ToLower(e.Name)
			if e.Value == nil {
				b.Queue("DELETE FROM metadata WHERE user_id = $1 AND mailbox_id = $2 AND name = $3", owner, mailboxID, name)
			} else {
				b.Queue(`INSERT INTO metadata (user_id, mailbox_id, name, value) VALUES ($1, $2, $3, $4)
					ON CONFLICT (user_id, mailbox_id, name) DO UPDATE SET value = excluded.value`, owner, mailboxID, name, e.Value)
			}
		}
		// Entries of deleted mailboxes go; then the owner's count is checked.
		b.Queue(`DELETE FROM metadata md WHERE md.user_id = $1 AND md.mailbox_id <> 0 AND NOT EXISTS
			(SELECT 1 FROM mailboxes mb WHERE mb.user_id = md.user_id AND mb.id = md.mailbox_id)`, owner)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM metadata WHERE user_id = $1", owner).Scan(&n); err != nil {
			return err
		}
		if lim.MaxEntries > 0 && n > lim.MaxEntries {
			return fmt.Errorf("%d entries, at most %d: %w", n, lim.MaxEntries, storage.ErrMetadataTooMany)
		}
		return nil
	})
	return mapErr("set metadata", err)
}
