package core

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/stamp-mail/stamp/storage"
)

// MailboxDelimiter separates hierarchy levels in mailbox names.
const MailboxDelimiter = '/'

// maxMailboxName bounds mailbox names (bytes).
const maxMailboxName = 255

// ValidateMailboxName checks a mailbox name: UTF-8, not empty, no empty
// hierarchy level, no control characters or IMAP wildcards, bounded length.
func ValidateMailboxName(name string) error {
	if name == "" || len(name) > maxMailboxName || !utf8.ValidString(name) {
		return fmt.Errorf("%w: folder name %q is empty, too long or not valid UTF-8", ErrInvalid, name)
	}
	for _, level := range strings.Split(name, string(MailboxDelimiter)) {
		if strings.TrimSpace(level) == "" {
			return fmt.Errorf("%w: folder name %q has an empty or blank part", ErrInvalid, name)
		}
		if level == "." || level == ".." || strings.TrimSpace(level) != level {
			return fmt.Errorf("%w: folder name %q has a part that is \".\", \"..\" or starts or ends with a space", ErrInvalid, name)
		}
	}
	if strings.ContainsAny(name, "*%\r\n\x00\"\\") {
		return fmt.Errorf("%w: folder name %q contains a character folders cannot have (* %% \" \\ or a control character)", ErrInvalid, name)
	}
	return nil
}

// ListMailboxes returns a user's mailboxes with counts.
func (s *Service) ListMailboxes(ctx context.Context, userID int64) ([]Mailbox, error) {
	return s.store.ListMailboxes(ctx, userID)
}

// GetMailbox returns a mailbox by id.
func (s *Service) GetMailbox(ctx context.Context, userID, id int64) (Mailbox, error) {
	return s.store.GetMailbox(ctx, userID, id)
}

// GetMailboxByName returns a mailbox by name (INBOX case-insensitively).
func (s *Service) GetMailboxByName(ctx context.Context, userID int64, name string) (Mailbox, error) {
	return s.store.GetMailboxByName(ctx, userID, name)
}

// GetMailboxByRole returns the mailbox with a special-use role.
func (s *Service) GetMailboxByRole(ctx context.Context, userID int64, role string) (Mailbox, error) {
	return s.store.GetMailboxByRole(ctx, userID, role)
}

// CreateMailbox creates a mailbox; role may be "" or a free special-use role.
func (s *Service) CreateMailbox(ctx context.Context, userID int64, name, role string) (Mailbox, error) {
	if err := ValidateMailboxName(name); err != nil {
		return Mailbox{}, err
	}
	if strings.EqualFold(name, "INBOX") {
		return Mailbox{}, fmt.Errorf("%w: INBOX", ErrExists)
	}
	mb, err := s.store.CreateMailbox(ctx, userID, name, role)
	if err != nil {
		return Mailbox{}, err
	}
	s.publish(ctx, Event{UserID: userID, MailboxID: mb.ID, Kind: EventMailbox})
	return mb, nil
}

// RenameMailbox renames a mailbox and its children.
func (s *Service) RenameMailbox(ctx context.Context, userID, id int64, newName string) error {
	if err := ValidateMailboxName(newName); err != nil {
		return err
	}
	if strings.EqualFold(newName, "INBOX") {
		return fmt.Errorf("%w: INBOX", ErrExists)
	}
	if err := s.store.RenameMailbox(ctx, userID, id, newName); err != nil {
		return err
	}
	s.publish(ctx, Event{UserID: userID, MailboxID: id, Kind: EventMailbox})
	return nil
}

// DeleteMailbox deletes a mailbox without a role and its messages.
func (s *Service) DeleteMailbox(ctx context.Context, userID, id int64) error {
	if _, err := s.store.DeleteMailbox(ctx, userID, id); err != nil {
		return err
	}
	s.publish(ctx, Event{UserID: userID, MailboxID: id, Kind: EventMailbox})
	return nil
}

// SetSubscribed subscribes or unsubscribes a mailbox.
func (s *Service) SetSubscribed(ctx context.Context, userID, id int64, on bool) error {
	return s.store.SetSubscribed(ctx, userID, id, on)
}

// IsJunk reports whether a mailbox is the user's Junk folder.
func isJunk(mb storage.Mailbox) bool { return mb.Role == storage.RoleJunk }
