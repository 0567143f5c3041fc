package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/stamp-mail/stamp/storage"
)

const mailboxCols = `user_id, id, name, role, uidvalidity, uidnext, highest_modseq, subscribed, total, unread, size`

func scanMailbox(sc scanner) (storage.Mailbox, error) {
	var m storage.Mailbox
	var sub int
	err := sc.Scan(&m.UserID, &m.ID, &m.Name, &m.Role, &m.UIDValidity, &m.UIDNext, &m.HighestModSeq,
		&sub, &m.Total, &m.Unread, &m.Size)
	m.Subscribed = sub != 0
	return m, err
}

// normMailboxName spells INBOX in upper case whatever the input (RFC 9051
// section 5.1: INBOX is case-insensitive); other names are kept as given.
func normMailboxName(name string) (string, error) {
	if name == "" || strings.ContainsAny(name, "\x00\r\n") {
		return "", fmt.Errorf("mailbox name %q: %w", name, storage.ErrInvalid)
	}
	if strings.EqualFold(name, "INBOX") {
		return "INBOX", nil
	}
	return name, nil
}

func validRole(role string) bool {
	switch role {
	case storage.RoleNone, storage.RoleInbox, storage.RoleSent, storage.RoleDrafts,
		storage.RoleJunk, storage.RoleTrash, storage.RoleArchive:
		return true
	}
	return false
}

// ListMailboxes returns a user's mailboxes with their counts, sorted by name.
func (s *Store) ListMailboxes(ctx context.Context, userID int64) ([]storage.Mailbox, error) {
	out, err := collect(ctx, s.r, scanMailbox, `SELECT `+mailboxCols+` FROM mailboxes WHERE user_id = ? ORDER BY name`, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list mailboxes: %w", err)
	}
	return out, nil
}

// GetMailbox returns one mailbox with counts.
func (s *Store) GetMailbox(ctx context.Context, userID, mailboxID int64) (storage.Mailbox, error) {
	m, err := scanMailbox(s.r.QueryRowContext(ctx, `SELECT `+mailboxCols+` FROM mailboxes WHERE user_id = ? AND id = ?`, userID, mailboxID))
	if err != nil {
		return m, fmt.Errorf("sqlite: get mailbox %d: %w", mailboxID, notFound(err))
	}
	return m, nil
}

// GetMailboxByName returns a mailbox by exact name, INBOX case-insensitively.
func (s *Store) GetMailboxByName(ctx context.Context, userID int64, name string) (storage.Mailbox, error) {
	n, err := normMailboxName(name)
	if err != nil {
		return storage.Mailbox{}, fmt.Errorf("sqlite: get mailbox: %w", storage.ErrNotFound)
	}
	m, err := scanMailbox(s.r.QueryRowContext(ctx, `SELECT `+mailboxCols+` FROM mailboxes WHERE user_id = ? AND name = ?`, userID, n))
	if err != nil {
		return m, fmt.Errorf("sqlite: get mailbox %q: %w", name, notFound(err))
	}
	return m, nil
}

// GetMailboxByRole returns the mailbox with a special-use role (RFC 6154).
func (s *Store) GetMailboxByRole(ctx context.Context, userID int64, role string) (storage.Mailbox, error) {
	if role == "" {
		return storage.Mailbox{}, fmt.Errorf("sqlite: get mailbox by role: %w", storage.ErrInvalid)
	}
	m, err := scanMailbox(s.r.QueryRowContext(ctx, `SELECT `+mailboxCols+` FROM mailboxes WHERE user_id = ? AND role = ?`, userID, role))
	if err != nil {
		return m, fmt.Errorf("sqlite: get mailbox by role %q: %w", role, notFound(err))
	}
	return m, nil
}

// CreateMailbox creates a mailbox with a fresh UIDVALIDITY.
func (s *Store) CreateMailbox(ctx context.Context, userID int64, name, role string) (storage.Mailbox, error) {
	var m storage.Mailbox
	err := s.write(ctx, func(w *wtx) error {
		var err error
		m, err = w.createMailbox(userID, name, role)
		return err
	})
	if err != nil {
		return m, fmt.Errorf("sqlite: create mailbox %q: %w", name, err)
	}
	return m, nil
}

// createMailbox inserts a mailbox. UIDVALIDITY is the larger of the clock
// in seconds and the user's previous value plus one, so that a mailbox
// recreated under an old name never repeats a value (RFC 9051 section
// 2.3.1.1).
func (w *wtx) createMailbox(userID int64, name, role string) (storage.Mailbox, error) {
	var m storage.Mailbox
	n, err := normMailboxName(name)
	if err != nil {
		return m, err
	}
	if !validRole(role) {
		return m, fmt.Errorf("role %q: %w", role, storage.ErrInvalid)
	}
	var last int64
	if err := w.queryRow(`SELECT last_uidvalidity FROM users WHERE id = ?`, userID).Scan(&last); err != nil {
		return m, fmt.Errorf("user %d: %w", userID, notFound(err))
	}
	uv := max(last+1, w.now.Unix())
	if uv > 1<<32-1 {
		uv = last + 1
	}
	if _, err := w.exec(`UPDATE users SET last_uidvalidity = ? WHERE id = ?`, uv, userID); err != nil {
		return m, err
	}
	id, err := w.nextID("mailbox")
	if err != nil {
		return m, err
	}
	modseq, err := w.bumpModSeq(userID)
	if err != nil {
		return m, err
	}
	_, err = w.exec(`INSERT INTO mailboxes (user_id, id, name, role, uidvalidity, highest_modseq)
		VALUES (?, ?, ?, ?, ?, ?)`, userID, id, n, role, uv, modseq)
	if isUnique(err) {
		return m, storage.ErrExists
	}
	if err != nil {
		return m, err
	}
	if err := w.change(userID, modseq, id, 0, 0, storage.ChangeMailbox); err != nil {
		return m, err
	}
	return storage.Mailbox{ID: id, UserID: userID, Name: n, Role: role, UIDValidity: uint32(uv), UIDNext: 1,
		HighestModSeq: modseq, Subscribed: true}, nil
}

// RenameMailbox renames a mailbox and every mailbox below it (name + "/").
func (s *Store) RenameMailbox(ctx context.Context, userID, mailboxID int64, newName string) error {
	nn, err := normMailboxName(newName)
	if err != nil {
		return fmt.Errorf("sqlite: rename mailbox: %w", err)
	}
	err = s.write(ctx, func(w *wtx) error {
		var old, role string
		if err := w.queryRow(`SELECT name, role FROM mailboxes WHERE user_id = ? AND id = ?`, userID, mailboxID).Scan(&old, &role); err != nil {
			return fmt.Errorf("mailbox %d: %w", mailboxID, notFound(err))
		}
		if old == "INBOX" || role == storage.RoleInbox {
			return fmt.Errorf("INBOX: %w", storage.ErrNotAllowed)
		}
		if nn == old {
			return nil
		}
		if strings.HasPrefix(nn, old+"/") {
			return fmt.Errorf("%q below itself: %w", nn, storage.ErrInvalid)
		}
		type ren struct {
			id       int64
			from, to string
		}
		list := []ren{{mailboxID, old, nn}}
		rows, err := w.query(`SELECT id, name FROM mailboxes WHERE user_id = ? AND name >= ? AND name < ?`,
			userID, old+"/", old+"0") // '0' follows '/' in byte order
		if err != nil {
			return err
		}
		for rows.Next() {
			var r ren
			if err := rows.Scan(&r.id, &r.from); err != nil {
				rows.Close()
				return err
			}
			r.to = nn + r.from[len(old):]
			list = append(list, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range list {
			var one int
			err := w.queryRow(`SELECT 1 FROM mailboxes WHERE user_id = ? AND name = ?`, userID, r.to).Scan(&one)
			if err == nil {
				return fmt.Errorf("%q: %w", r.to, storage.ErrExists)
			}
			if notFound(err) != storage.ErrNotFound {
				return err
			}
		}
		for _, r := range list {
			modseq, err := w.bumpModSeq(userID)
			if err != nil {
				return err
			}
			if _, err := w.exec(`UPDATE mailboxes SET name = ?, highest_modseq = ? WHERE user_id = ? AND id = ?`,
				r.to, modseq, userID, r.id); err != nil {
				if isUnique(err) {
					return fmt.Errorf("%q: %w", r.to, storage.ErrExists)
				}
				return err
			}
			if err := w.change(userID, modseq, r.id, 0, 0, storage.ChangeMailbox); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: rename mailbox %d to %q: %w", mailboxID, newName, err)
	}
	return nil
}

// DeleteMailbox deletes a mailbox without role and its messages; mailboxes
// below it keep their names.
func (s *Store) DeleteMailbox(ctx context.Context, userID, mailboxID int64) ([]string, error) {
	var freed []string
	err := s.write(ctx, func(w *wtx) error {
		var role string
		if err := w.queryRow(`SELECT role FROM mailboxes WHERE user_id = ? AND id = ?`, userID, mailboxID).Scan(&role); err != nil {
			return fmt.Errorf("mailbox %d: %w", mailboxID, notFound(err))
		}
		if role != storage.RoleNone {
			return fmt.Errorf("role %q: %w", role, storage.ErrNotAllowed)
		}
		if err := w.removeMessagesWhere(userID, `mailbox_id = ?`, mailboxID); err != nil {
			return err
		}
		if _, err := w.exec(`DELETE FROM mailboxes WHERE user_id = ? AND id = ?`, userID, mailboxID); err != nil {
			return err
		}
		if _, err := w.exec(`DELETE FROM mailbox_keywords WHERE user_id = ? AND mailbox_id = ?`, userID, mailboxID); err != nil {
			return err
		}
		modseq, err := w.bumpModSeq(userID)
		if err != nil {
			return err
		}
		if err := w.change(userID, modseq, mailboxID, 0, 0, storage.ChangeMailbox); err != nil {
			return err
		}
		freed = w.freed
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: delete mailbox %d: %w", mailboxID, err)
	}
	return nonNil(freed), nil
}

// SetSubscribed sets a mailbox's subscription (RFC 9051 section 6.3.7).
func (s *Store) SetSubscribed(ctx context.Context, userID, mailboxID int64, subscribed bool) error {
	err := s.write(ctx, func(w *wtx) error {
		return w.execOne(`UPDATE mailboxes SET subscribed = ? WHERE user_id = ? AND id = ?`, b2i(subscribed), userID, mailboxID)
	})
	if err != nil {
		return fmt.Errorf("sqlite: set subscribed %d: %w", mailboxID, err)
	}
	return nil
}
