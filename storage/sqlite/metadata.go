package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/stamp-mail/stamp/storage"
)

// GetMetadata returns the owner's entries of a mailbox (0: the server).
func (s *Store) GetMetadata(ctx context.Context, owner, mailboxID int64, names []string, depth int) ([]storage.MetadataEntry, error) {
	if mailboxID != 0 {
		if err := s.checkMailbox(ctx, owner, mailboxID); err != nil {
			return nil, fmt.Errorf("sqlite: get metadata: %w", err)
		}
	}
	rows, err := s.r.QueryContext(ctx, `SELECT name, value FROM metadata WHERE user_id = ? AND mailbox_id = ? ORDER BY name`, owner, mailboxID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: get metadata: %w", err)
	}
	defer rows.Close()
	out := []storage.MetadataEntry{}
	for rows.Next() {
		var e storage.MetadataEntry
		if err := rows.Scan(&e.Name, &e.Value); err != nil {
			return nil, fmt.Errorf("sqlite: get metadata: %w", err)
		}
		if slices.ContainsFunc(names, func(n string) bool { return storage.MetadataWithin(e.Name, strings.ToLower(n), depth) }) {
			out = append(out, e)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: get metadata: %w", err)
	}
	return out, nil
}

// SetMetadata sets and removes entries atomically, within lim.
func (s *Store) SetMetadata(ctx context.Context, owner, mailboxID int64, entries []storage.MetadataEntry, lim storage.MetadataLimits) error {
	for _, e := range entries {
		if !storage.ValidMetadataName(e.Name) {
			return fmt.Errorf("sqlite: set metadata: name %q: %w", e.Name, storage.ErrInvalid)
		}
		if lim.MaxValue > 0 && len(e.Value) > lim.MaxValue {
			return fmt.Errorf("sqlite: set metadata %s: %d bytes: %w", e.Name, len(e.Value), storage.ErrMetadataTooLarge)
		}
	}
	err := s.write(ctx, func(w *wtx) error {
		if mailboxID != 0 {
			if err := w.wMailbox(owner, mailboxID); err != nil {
				return err
			}
		}
		for _, e := range entries {
			name := strings.ToLower(e.Name)
			var err error
			if e.Value == nil {
				_, err = w.exec(`DELETE FROM metadata WHERE user_id = ? AND mailbox_id = ? AND name = ?`, owner, mailboxID, name)
			} else {
				_, err = w.exec(`INSERT INTO metadata (user_id, mailbox_id, name, value) VALUES (?, ?, ?, ?)
					ON CONFLICT (user_id, mailbox_id, name) DO UPDATE SET value = excluded.value`, owner, mailboxID, name, e.Value)
			}
			if err != nil {
				return err
			}
		}
		// Entries of deleted mailboxes go; then the owner's count is checked.
		if _, err := w.exec(`DELETE FROM metadata WHERE user_id = ? AND mailbox_id <> 0 AND NOT EXISTS
			(SELECT 1 FROM mailboxes mb WHERE mb.user_id = metadata.user_id AND mb.id = metadata.mailbox_id)`, owner); err != nil {
			return err
		}
		var n int
		if err := w.queryRow(`SELECT count(*) FROM metadata WHERE user_id = ?`, owner).Scan(&n); err != nil {
			return err
		}
		if lim.MaxEntries > 0 && n > lim.MaxEntries {
			return fmt.Errorf("%d entries, at most %d: %w", n, lim.MaxEntries, storage.ErrMetadataTooMany)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: set metadata: %w", err)
	}
	return nil
}
