package core

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/stamp-mail/stamp/storage"
)

// Storage quotas (RFC 9208 STORAGE and MESSAGE resources).
//
// A user's limit is its own setting (SetQuota; stamp user quota) or, by
// default, Config.QuotaBytes (config limits.quota_bytes); 0 means none.
// Usage is what the user's mailboxes hold: storage keeps the per-mailbox
// counters in the transaction of every change, so it is exact after each
// delivery, append, copy, expunge or deletion. Adding mail is refused with
// ErrOverQuota when the user is already at or over the limit (SMTP RCPT,
// CheckRecipient) or when the new mail would take it over (SMTP DATA,
// IMAP APPEND and COPY, API sends): nothing already stored is touched. The
// check reads usage before the write, so concurrent deliveries may together
// pass the limit by at most their own sizes. Bounces and other notices the
// server writes itself are not refused.

// ErrOverQuota: the mailbox is full; the mail was not stored.
var ErrOverQuota = errors.New("over quota")

// Quota returns a user's storage usage and limit in bytes (limit 0: none)
// and its number of messages.
func (s *Service) Quota(ctx context.Context, userID int64) (used, limit, messages int64, err error) {
	u, err := s.store.Usage(ctx, userID)
	if err != nil {
		return 0, 0, 0, err
	}
	return u.Bytes, s.limitOf(u.Quota), u.Messages, nil
}

// QuotaSetting returns a user's own quota setting: storage.QuotaDefault
// (-1) when it follows the server default.
func (s *Service) QuotaSetting(ctx context.Context, userID int64) (int64, error) {
	u, err := s.store.Usage(ctx, userID)
	return u.Quota, err
}

// SetQuota sets the quota of the user with this address in bytes: 0 for
// none, QuotaDefault (-1) to follow the server default.
func (s *Service) SetQuota(ctx context.Context, address string, bytes int64) error {
	u, err := s.store.GetUserByAddress(ctx, strings.ToLower(strings.TrimSpace(address)))
	if err != nil {
		return err
	}
	if bytes < QuotaDefault {
		return fmt.Errorf("%w: quota must be a size, 0 (none) or the default", ErrInvalid)
	}
	defer s.settingsChanged(ctx, u.ID) // lookups.go
	return s.store.SetQuota(ctx, u.ID, bytes)
}

// QuotaDefault is the quota setting meaning "the server default".
const QuotaDefault = storage.QuotaDefault

func (s *Service) limitOf(setting int64) int64 {
	if setting < 0 {
		return max(s.cfg.QuotaBytes, 0)
	}
	return setting
}

// MessageLimit is the per-user limit on the number of messages
// (Config.QuotaMessages, config limits.quota_messages; RFC 9208's MESSAGE
// resource); 0 means none. It is the same for every user.
func (s *Service) MessageLimit() int64 { return max(s.cfg.QuotaMessages, 0) }

// checkRoom returns ErrOverQuota when adding bytes to the user's mailboxes
// would exceed its quota, or, for add == 0, when it is already full. A
// non-empty add counts as one message.
func (s *Service) checkRoom(ctx context.Context, userID, add int64) error {
	n := int64(0)
	if add > 0 {
		n = 1
	}
	return s.checkRoomN(ctx, userID, add, n)
}

// checkRoomN is checkRoom for n messages of add bytes in all: the storage
// limit and the message limit.
func (s *Service) checkRoomN(ctx context.Context, userID, add, n int64) error {
	if s.MessageLimit() == 0 && s.cfg.QuotaBytes <= 0 {
		// No server-wide limit: only the user's own setting can limit it,
		// and when it has none the usage need not be read. The setting is
		// cached (lookups.go: SetQuota forgets it); usage never is.
		setting, err := s.look.quotaSetting(ctx, userID)
		if err != nil {
			return temporary("read quota", err)
		}
		if s.limitOf(setting) == 0 {
			return nil
		}
	}
	u, err := s.store.Usage(ctx, userID)
	if err != nil {
		return temporary("read quota", err)
	}
	if ml := s.MessageLimit(); ml > 0 && ((n == 0 && u.Messages >= ml) || (n > 0 && u.Messages+n > ml)) {
		return fmt.Errorf("user %d: %d of %d messages, %d more: %w", userID, u.Messages, ml, n, ErrOverQuota)
	}
	limit := s.limitOf(u.Quota)
	if limit == 0 {
		return nil
	}
	if (add == 0 && u.Bytes >= limit) || (add > 0 && u.Bytes+add > limit) {
		return fmt.Errorf("user %d: %d of %d bytes used, %d more: %w", userID, u.Bytes, limit, add, ErrOverQuota)
	}
	return nil
}

// checkBatchRoom checks the quota of every user a batch adds mail for.
func (s *Service) checkBatchRoom(ctx context.Context, ms []*storage.NewMessage) error {
	add := map[int64]int64{}
	count := map[int64]int64{}
	var order []int64
	for _, m := range ms {
		if _, ok := add[m.UserID]; !ok {
			order = append(order, m.UserID)
		}
		add[m.UserID] += max(m.Size, 1)
		count[m.UserID]++
	}
	for _, id := range order {
		if err := s.checkRoomN(ctx, id, add[id], count[id]); err != nil {
			return err
		}
	}
	return nil
}

// checkCopyRoom checks the quota for a copy of messages of a mailbox.
func (s *Service) checkCopyRoom(ctx context.Context, userID, mailboxID int64, ids []int64) error {
	n, err := s.store.MessagesSize(ctx, userID, mailboxID, ids)
	if err != nil {
		return err
	}
	if n == 0 && len(ids) == 0 {
		return nil
	}
	return s.checkRoomN(ctx, userID, max(n, 1), int64(len(ids)))
}

// ParseSize reads a size such as "5G", "500M", "64k", "1.5G" or "1048576"
// (binary multiples: K = 1024 bytes); "0", "none" and "unlimited" are 0,
// "default" is QuotaDefault.
func ParseSize(v string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(v))
	switch t {
	case "none", "unlimited":
		return 0, nil
	case "default":
		return QuotaDefault, nil
	}
	t = strings.TrimSuffix(strings.TrimSuffix(t, "b"), "i")
	mult := 1.0
	if t != "" {
		switch t[len(t)-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		case 't':
			mult = 1 << 40
		}
		if mult != 1 {
			t = t[:len(t)-1]
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || f < 0 || f*mult > 1<<62 || f != f {
		return 0, fmt.Errorf("%w: size %q: want a number with an optional K, M, G or T suffix", ErrInvalid, v)
	}
	return int64(f * mult), nil
}

// FormatSize renders bytes with a binary suffix (as ParseSize reads them).
func FormatSize(n int64) string {
	for _, u := range []struct {
		s string
		n int64
	}{{"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}} {
		if n >= u.n {
			v := float64(n) / float64(u.n)
			if v == float64(int64(v)) {
				return fmt.Sprintf("%d%s", int64(v), u.s)
			}
			return fmt.Sprintf("%.1f%s", v, u.s)
		}
	}
	return strconv.FormatInt(n, 10)
}
