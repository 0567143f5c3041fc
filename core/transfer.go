package core

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stamp-mail/stamp/core/mailfile"
	"github.com/stamp-mail/stamp/storage"
)

// Importer brings messages from elsewhere (mbox, Maildir, .eml files,
// another IMAP server) into one user's mailboxes through Append: the path
// of IMAP APPEND, with no spam or virus checks, so imported mail is never
// junked, and with the message's own flags and internal date.
//
// An import is idempotent and resumable without any state of its own:
// for each target mailbox the importer counts the messages already there
// by content (SHA-256 of the bytes), and the n-th copy of a message in the
// source is imported only if the mailbox holds fewer than n copies. Running
// the same import again, or again after it was cut short, imports only what
// is missing, and a source holding the same message twice keeps both.
type Importer struct {
	s      *Service
	userID int64
	boxes  map[string]*importBox

	// Imported and Skipped count messages added and messages found present.
	Imported, Skipped int
}

type importBox struct {
	id   int64
	have map[[32]byte]int // copies in the mailbox
	seen map[[32]byte]int // copies met in the source so far
}

// NewImporter returns an importer into the user's mailboxes.
func (s *Service) NewImporter(userID int64) *Importer {
	return &Importer{s: s, userID: userID, boxes: map[string]*importBox{}}
}

// Add imports one message into folder (created if missing; "" is INBOX) or,
// when role is set, into the user's mailbox with that special-use role. It
// reports whether the message was added (false: already there).
func (im *Importer) Add(ctx context.Context, folder, role string, raw []byte, flags []string, date time.Time) (bool, error) {
	b, err := im.box(ctx, folder, role)
	if err != nil {
		return false, err
	}
	h := sha256.Sum256(raw)
	b.seen[h]++
	if b.seen[h] <= b.have[h] {
		im.Skipped++
		return false, nil
	}
	if date.IsZero() {
		date = time.Now()
	}
	if _, err := im.s.Append(ctx, im.userID, b.id, importFlags(flags), date, raw); err != nil {
		b.seen[h]--
		return false, err
	}
	b.have[h]++
	im.Imported++
	return true, nil
}

// importFlags keeps the flags a mailbox can store: not \Recent (RFC 9051
// section 2.3.2: only the server sets it) and no malformed keyword.
func importFlags(in []string) []string {
	out := in[:0:0]
	for _, f := range in {
		if f == "" || strings.EqualFold(f, `\Recent`) || strings.ContainsAny(f, " ()[]{}%*\"\r\n") {
			continue
		}
		out = append(out, f)
	}
	return out
}

func (im *Importer) box(ctx context.Context, folder, role string) (*importBox, error) {
	key := role + "\x00" + folder
	if role != "" {
		key = role + "\x00"
	}
	if b, ok := im.boxes[key]; ok {
		return b, nil
	}
	var mb Mailbox
	var err error
	switch {
	case role != "":
		mb, err = im.s.GetMailboxByRole(ctx, im.userID, role)
	case folder == "" || strings.EqualFold(folder, "INBOX"):
		mb, err = im.s.GetMailboxByRole(ctx, im.userID, storage.RoleInbox)
	default:
		mb, err = im.s.GetMailboxByName(ctx, im.userID, folder)
		if errors.Is(err, storage.ErrNotFound) {
			mb, err = im.s.CreateMailbox(ctx, im.userID, folder, "")
		}
	}
	if err != nil {
		return nil, fmt.Errorf("import into %q: %w", folder, err)
	}
	b := &importBox{id: mb.ID, have: map[[32]byte]int{}, seen: map[[32]byte]int{}}
	err = im.s.EachMessage(ctx, im.userID, mb.ID, func(m Message, raw []byte) error {
		b.have[sha256.Sum256(raw)]++
		return nil
	})
	if err != nil {
		return nil, err
	}
	im.boxes[key] = b
	return b, nil
}

// exportPage is how many messages EachMessage reads metadata for at once.
const exportPage = 500

// EachMessage calls fn with every message of a mailbox and its bytes, in
// UID order.
func (s *Service) EachMessage(ctx context.Context, userID, mailboxID int64, fn func(m Message, raw []byte) error) error {
	var next uint32 = 1
	for {
		ms, err := s.store.MessagesByUID(ctx, userID, mailboxID, next, next+exportPage-1)
		if err != nil {
			return err
		}
		for _, m := range ms {
			raw, err := s.ReadMessage(ctx, m)
			if err != nil {
				return fmt.Errorf("message %d: %w", m.ID, err)
			}
			if err := fn(m, raw); err != nil {
				return err
			}
		}
		mb, err := s.store.GetMailbox(ctx, userID, mailboxID)
		if err != nil {
			return err
		}
		next += exportPage
		if next >= mb.UIDNext || next < exportPage {
			return nil
		}
	}
}

// Export calls fn with every message of every mailbox of the user, mailbox
// by mailbox in name order, messages in UID order, with flags, internal
// date and the first From address as the mbox sender. It is the user's
// right to take their data (GDPR article 20) as much as a migration tool.
func (s *Service) Export(ctx context.Context, userID int64, fn func(mb Mailbox, m mailfile.Message) error) error {
	mbs, err := s.store.ListMailboxes(ctx, userID)
	if err != nil {
		return err
	}
	for _, mb := range mbs {
		err := s.EachMessage(ctx, userID, mb.ID, func(m Message, raw []byte) error {
			out := mailfile.Message{Folder: mb.Name, Raw: raw, Flags: m.Flags, Date: m.InternalDate}
			if len(m.From) > 0 {
				out.Sender = m.From[0].Address
			}
			return fn(mb, out)
		})
		if err != nil {
			return fmt.Errorf("export %s: %w", mb.Name, err)
		}
	}
	return nil
}

// MboxFileName is the file name of a mailbox in an export of one mbox per
// folder: the name with its hierarchy joined by "." and characters unsafe
// in file names replaced, plus ".mbox" ("Lists/go" is "Lists.go.mbox").
func MboxFileName(mailbox string) string {
	r := strings.NewReplacer("/", ".", "\\", "_", ":", "_", "\x00", "_")
	name := r.Replace(mailbox)
	if name == "" || name == "." || name == ".." || strings.HasPrefix(name, ".") {
		name = "_" + name
	}
	return name + ".mbox"
}
