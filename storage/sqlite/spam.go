package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

// AddCorrespondents records that userID wrote to addrs.
func (s *Store) AddCorrespondents(ctx context.Context, userID int64, addrs []string, at time.Time) error {
	if len(addrs) == 0 {
		return nil
	}
	err := s.write(ctx, func(w *wtx) error {
		for _, a := range addrs {
			a = storage.NormalizeAddress(a)
			if a == "" {
				continue
			}
			_, err := w.exec(`INSERT INTO spam_correspondents (user_id, address, last_at) VALUES (?, ?, ?)
				ON CONFLICT (user_id, address) DO UPDATE SET last_at = max(last_at, excluded.last_at)`, userID, a, ts(at))
			if isForeignKey(err) {
				return fmt.Errorf("user %d: %w", userID, storage.ErrNotFound)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: add correspondents: %w", err)
	}
	return nil
}

// IsCorrespondent reports whether userID has written to addr.
func (s *Store) IsCorrespondent(ctx context.Context, userID int64, addr string) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM spam_correspondents WHERE user_id = ? AND address = ?`,
		userID, storage.NormalizeAddress(addr)).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("sqlite: is correspondent: %w", err)
	}
	return n > 0, nil
}

// SenderFacts is IsCorrespondent and SenderVerdicts in one statement (one
// read transaction, one read of the sender's row).
func (s *Store) SenderFacts(ctx context.Context, userID int64, addr string) (bool, storage.SenderCounts, error) {
	var ok bool
	var c storage.SenderCounts
	a := storage.NormalizeAddress(addr)
	err := s.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM spam_correspondents WHERE user_id = ?1 AND address = ?2),
		coalesce(v.ham, 0), coalesce(v.spam, 0)
		FROM (SELECT 1) LEFT JOIN spam_senders v ON v.user_id = ?1 AND v.address = ?2`, userID, a).Scan(&ok, &c.Ham, &c.Spam)
	if err != nil {
		return false, storage.SenderCounts{}, fmt.Errorf("sqlite: sender facts: %w", err)
	}
	return ok, c, nil
}

// AddSenderVerdict counts one message from addr moved into or out of Junk.
func (s *Store) AddSenderVerdict(ctx context.Context, userID int64, addr string, spam bool) error {
	addr = storage.NormalizeAddress(addr)
	if addr == "" {
		return nil
	}
	ham, sp := 1, 0
	if spam {
		ham, sp = 0, 1
	}
	err := s.write(ctx, func(w *wtx) error {
		_, err := w.exec(`INSERT INTO spam_senders (user_id, address, ham, spam) VALUES (?, ?, ?, ?)
			ON CONFLICT (user_id, address) DO UPDATE SET ham = ham + excluded.ham, spam = spam + excluded.spam`,
			userID, addr, ham, sp)
		if isForeignKey(err) {
			return fmt.Errorf("user %d: %w", userID, storage.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: add sender verdict: %w", err)
	}
	return nil
}

// SenderVerdicts returns how many messages from addr userID moved out of and into Junk.
func (s *Store) SenderVerdicts(ctx context.Context, userID int64, addr string) (storage.SenderCounts, error) {
	var c storage.SenderCounts
	err := s.r.QueryRowContext(ctx, `SELECT ham, spam FROM spam_senders WHERE user_id = ? AND address = ?`,
		userID, storage.NormalizeAddress(addr)).Scan(&c.Ham, &c.Spam)
	if errors.Is(err, sql.ErrNoRows) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("sqlite: sender verdicts: %w", err)
	}
	return c, nil
}

func (s *Store) readLists(ctx context.Context, q string, arg any) (storage.SpamLists, error) {
	rows, err := s.r.QueryContext(ctx, q, arg)
	if err != nil {
		return storage.SpamLists{}, err
	}
	defer rows.Close()
	return storage.ScanSpamLists(rows)
}

// GetSpamLists returns a user's allow and block lists.
func (s *Store) GetSpamLists(ctx context.Context, userID int64) (storage.SpamLists, error) {
	if _, err := s.GetUser(ctx, userID); err != nil {
		return storage.SpamLists{}, err
	}
	l, err := s.readLists(ctx, `SELECT entry, allow FROM spam_lists WHERE user_id = ? ORDER BY entry`, userID)
	if err != nil {
		return l, fmt.Errorf("sqlite: get spam lists: %w", err)
	}
	return l, nil
}

// PutSpamLists replaces a user's allow and block lists.
func (s *Store) PutSpamLists(ctx context.Context, userID int64, l storage.SpamLists) error {
	l, err := storage.NormalizeLists(l)
	if err != nil {
		return err
	}
	err = s.write(ctx, func(w *wtx) error {
		var n int
		if err := w.queryRow(`SELECT count(*) FROM users WHERE id = ?`, userID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("user %d: %w", userID, storage.ErrNotFound)
		}
		if _, err := w.exec(`DELETE FROM spam_lists WHERE user_id = ?`, userID); err != nil {
			return err
		}
		return writeLists(w, `INSERT INTO spam_lists (user_id, entry, allow) VALUES (?, ?, ?)`, userID, l)
	})
	if err != nil {
		return fmt.Errorf("sqlite: put spam lists: %w", err)
	}
	return nil
}

func writeLists(w *wtx, q string, owner any, l storage.SpamLists) error {
	for _, e := range l.Allow {
		if _, err := w.exec(q, owner, e, 1); err != nil {
			return err
		}
	}
	for _, e := range l.Block {
		if _, err := w.exec(q, owner, e, 0); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) domainExists(ctx context.Context, domain string) error {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM domains WHERE name = ?`, domain).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("domain %s: %w", domain, storage.ErrNotFound)
	}
	return nil
}

// GetDomainSpamLists returns a local domain's allow and block lists.
func (s *Store) GetDomainSpamLists(ctx context.Context, domain string) (storage.SpamLists, error) {
	if err := s.domainExists(ctx, domain); err != nil {
		return storage.SpamLists{}, fmt.Errorf("sqlite: get domain spam lists: %w", err)
	}
	l, err := s.readLists(ctx, `SELECT entry, allow FROM spam_domain_lists WHERE domain = ? ORDER BY entry`, domain)
	if err != nil {
		return l, fmt.Errorf("sqlite: get domain spam lists: %w", err)
	}
	return l, nil
}

// PutDomainSpamLists replaces a local domain's allow and block lists.
func (s *Store) PutDomainSpamLists(ctx context.Context, domain string, l storage.SpamLists) error {
	l, err := storage.NormalizeLists(l)
	if err != nil {
		return err
	}
	if err := s.domainExists(ctx, domain); err != nil {
		return fmt.Errorf("sqlite: put domain spam lists: %w", err)
	}
	err = s.write(ctx, func(w *wtx) error {
		if _, err := w.exec(`DELETE FROM spam_domain_lists WHERE domain = ?`, domain); err != nil {
			return err
		}
		return writeLists(w, `INSERT INTO spam_domain_lists (domain, entry, allow) VALUES (?, ?, ?)`, domain, l)
	})
	if err != nil {
		return fmt.Errorf("sqlite: put domain spam lists: %w", err)
	}
	return nil
}
