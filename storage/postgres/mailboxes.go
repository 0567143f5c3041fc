package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/stamp-mail/stamp/storage"
)

const mailboxCols = `id, user_id, name, role, uidvalidity, uidnext, highest_modseq, subscribed, total, unread, size`

func scanMailbox(row pgx.Row) (storage.Mailbox, error) {
	var m storage.Mailbox
	var uidvalidity, uidnext, hms int64
	err := row.Scan(&m.ID, &m.UserID, &m.Name, &m.Role, &uidvalidity, &uidnext, &hms,
		&m.Subscribed, &m.Total, &m.Unread, &m.Size)
	m.UIDValidity, m.UIDNext, m.HighestModSeq = uint32(uidvalidity), uint32(uidnext), uint64(hms)
	return m, err
}

// normName returns the stored form of a mailbox name: INBOX is
// case-insensitive (RFC 9051 section 5.1), other names are kept as given.
func normName(name string) string {
	if strings.EqualFold(name, "INBOX") {
		return "INBOX"
	}
	return name
}

// validRole reports whether role is one of the storage roles.
func validRole(role string) bool {
	switch role {
	case storage.RoleNone, storage.RoleInbox, storage.RoleSent, storage.RoleDrafts,
		storage.RoleJunk, storage.RoleTrash, storage.RoleArchive:
		return true
	}
	return false
}

// ListMailboxes returns a user's mailboxes with counts, sorted by name.
func (s *Store) ListMailboxes(ctx context.Context, userID int64) ([]storage.Mailbox, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+mailboxCols+" FROM mailboxes WHERE user_id = $1 ORDER BY name", userID)
	if err != nil {
		return nil, mapErr("list mailboxes", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (storage.Mailbox, error) { return scanMailbox(r) })
	return out, mapErr("list mailboxes", err)
}

// GetMailbox returns one mailbox by id.
func (s *Store) GetMailbox(ctx context.Context, userID, mailboxID int64) (storage.Mailbox, error) {
	m, err := scanMailbox(s.pool.QueryRow(ctx, "SELECT "+mailboxCols+" FROM mailboxes WHERE user_id = $1 AND id = $2", userID, mailboxID))
	return m, mapErr(fmt.Sprintf("get mailbox %d", mailboxID), err)
}

// GetMailboxByName returns one mailbox by exact name (INBOX case-insensitively).
func (s *Store) GetMailboxByName(ctx context.Context, userID int64, name string) (storage.Mailbox, error) {
	m, err := scanMailbox(s.pool.QueryRow(ctx, "SELECT "+mailboxCols+" FROM mailboxes WHERE user_id = $1 AND name = $2", userID, normName(name)))
	return m, mapErr(fmt.Sprintf("get mailbox %q", name), err)
}

// GetMailboxByRole returns the mailbox with a special-use role.
func (s *Store) GetMailboxByRole(ctx context.Context, userID int64, role string) (storage.Mailbox, error) {
	if role == "" {
		return storage.Mailbox{}, fmt.Errorf("postgres: get mailbox by role: empty role: %w", storage.ErrInvalid)
	}
	m, err := scanMailbox(s.pool.QueryRow(ctx, "SELECT "+mailboxCols+" FROM mailboxes WHERE user_id = $1 AND role = $2", userID, strings.ToLower(role)))
	return m, mapErr(fmt.Sprintf("get mailbox by role %q", role), err)
}

// CreateMailbox creates a mailbox with a fresh UIDVALIDITY.
func (s *Store) CreateMailbox(ctx context.Context, userID int64, name, role string) (storage.Mailbox, error) {
	var m storage.Mailbox
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		var err error
		m, err = createMailboxTx(ctx, tx, userID, name, role)
		return err
	})
	return m, mapErr(fmt.Sprintf("create mailbox %q", name), err)
}

// createMailboxTx inserts a mailbox and its change-log entry.
func createMailboxTx(ctx context.Context, tx pgx.Tx, userID int64, name, role string) (storage.Mailbox, error) {
	name = normName(clean(name))
	role = strings.ToLower(role)
	if name == "" {
		return storage.Mailbox{}, fmt.Errorf("empty name: %w", storage.ErrInvalid)
	}
	if !validRole(role) {
		return storage.Mailbox{}, fmt.Errorf("role %q: %w", role, storage.ErrInvalid)
	}
	ms, err := bumpModSeq(ctx, tx, userID, 1)
	if err != nil {
		return storage.Mailbox{}, err
	}
	m, err := scanMailbox(tx.QueryRow(ctx, `INSERT INTO mailboxes (user_id, name, role, uidvalidity, highest_modseq)
		VALUES ($1, $2, $3, nextval('uidvalidity_seq'), $4) RETURNING `+mailboxCols, userID, name, role, int64(ms)))
	if err != nil {
		return m, err
	}
	_, err = tx.Exec(ctx, "INSERT INTO changes (user_id, modseq, mailbox_id, kind) VALUES ($1, $2, $3, $4)",
		userID, int64(ms), m.ID, string(storage.ChangeMailbox))
	return m, err
}

// RenameMailbox renames a mailbox and every mailbox below it. Each renamed
// mailbox gets a change-log entry.
func (s *Store) RenameMailbox(ctx context.Context, userID, mailboxID int64, newName string) error {
	newName = normName(clean(newName))
	if newName == "" {
		return fmt.Errorf("postgres: rename mailbox: empty name: %w", storage.ErrInvalid)
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		var old, role string
		err := tx.QueryRow(ctx, "SELECT name, role FROM mailboxes WHERE user_id = $1 AND id = $2 FOR UPDATE",
			userID, mailboxID).Scan(&old, &role)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("mailbox %d: %w", mailboxID, storage.ErrNotFound)
		} else if err != nil {
			return err
		}
		if old == "INBOX" || role == storage.RoleInbox {
			return fmt.Errorf("INBOX: %w", storage.ErrNotAllowed)
		}
		if old == newName {
			return nil
		}
		if strings.HasPrefix(newName, old+"/") {
			return fmt.Errorf("%q into itself: %w", old, storage.ErrInvalid)
		}
		rows, err := tx.Query(ctx, `UPDATE mailboxes SET name = $3 || substr(name, length($4) + 1)
			WHERE user_id = $1 AND (id = $2 OR starts_with(name, $4 || '/'))
			RETURNING id`, userID, mailboxID, newName, old)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		return logMailboxChanges(ctx, tx, userID, ids)
	})
	return mapErr(fmt.Sprintf("rename mailbox %d to %q", mailboxID, newName), err)
}

// logMailboxChanges gives each mailbox a new MODSEQ and a "mailbox" change.
func logMailboxChanges(ctx context.Context, tx pgx.Tx, userID int64, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	last, err := bumpModSeq(ctx, tx, userID, len(ids))
	if err != nil {
		return err
	}
	first := int64(last) - int64(len(ids)) + 1
	_, err = tx.Exec(ctx, `WITH c AS (
			INSERT INTO changes (user_id, modseq, mailbox_id, kind)
			SELECT $1, $2 + o - 1, id, 'mailbox' FROM unnest($3::bigint[]) WITH ORDINALITY AS t(id, o)
			RETURNING modseq, mailbox_id)
		UPDATE mailboxes m SET highest_modseq = c.modseq FROM c WHERE m.user_id = $1 AND m.id = c.mailbox_id`,
		userID, first, ids)
	return err
}

// DeleteMailbox deletes a mailbox without role and its messages.
func (s *Store) DeleteMailbox(ctx context.Context, userID, mailboxID int64) ([]string, error) {
	var freed []string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		var role, name string
		err := tx.QueryRow(ctx, "SELECT name, role FROM mailboxes WHERE user_id = $1 AND id = $2 FOR UPDATE",
			userID, mailboxID).Scan(&name, &role)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("mailbox %d: %w", mailboxID, storage.ErrNotFound)
		} else if err != nil {
			return err
		}
		if role != "" || name == "INBOX" {
			return fmt.Errorf("mailbox %q has role %q: %w", name, role, storage.ErrNotAllowed)
		}
		gone, err := deleteMessages(ctx, tx, userID, mailboxID, nil)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM mailboxes WHERE user_id = $1 AND id = $2", userID, mailboxID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM mailbox_keywords WHERE user_id = $1 AND mailbox_id = $2", userID, mailboxID); err != nil {
			return err
		}
		last, err := bumpModSeq(ctx, tx, userID, 1)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO changes (user_id, modseq, mailbox_id, kind) VALUES ($1, $2, $3, 'mailbox')",
			userID, int64(last), mailboxID); err != nil {
			return err
		}
		freed, err = unrefBlobs(ctx, tx, gone.refs)
		return err
	})
	if err != nil {
		return nil, mapErr(fmt.Sprintf("delete mailbox %d", mailboxID), err)
	}
	return freed, nil
}

// SetSubscribed sets a mailbox's subscription.
func (s *Store) SetSubscribed(ctx context.Context, userID, mailboxID int64, subscribed bool) error {
	ct, err := s.pool.Exec(ctx, "UPDATE mailboxes SET subscribed = $3 WHERE user_id = $1 AND id = $2", userID, mailboxID, subscribed)
	if err != nil {
		return mapErr("set subscribed", err)
	}
	if ct.RowsAffected() == 0 {
		return fmt.Errorf("postgres: set subscribed on mailbox %d: %w", mailboxID, storage.ErrNotFound)
	}
	return nil
}
