package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stamp-mail/stamp/storage"
)

// AddCorrespondents records that userID wrote to addrs.
func (s *Store) AddCorrespondents(ctx context.Context, userID int64, addrs []string, at time.Time) error {
	norm := make([]string, 0, len(addrs))
	for _, a := range addrs {
		if a = storage.NormalizeAddress(a); a != "" {
			norm = append(norm, a)
		}
	}
	if len(norm) == 0 {
		return nil
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO spam_correspondents (user_id, address, last_at)
		SELECT u.id, a, $3 FROM users u, unnest($2::text[]) a WHERE u.id = $1
		ON CONFLICT (user_id, address) DO UPDATE SET last_at = greatest(spam_correspondents.last_at, excluded.last_at)`,
		userID, norm, at)
	if err == nil && tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: add correspondents: user %d: %w", userID, storage.ErrNotFound)
	}
	return mapErr("add correspondents", err)
}

// IsCorrespondent reports whether userID has written to addr.
func (s *Store) IsCorrespondent(ctx context.Context, userID int64, addr string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM spam_correspondents WHERE user_id = $1 AND address = $2)`,
		userID, storage.NormalizeAddress(addr)).Scan(&ok)
	return ok, mapErr("is correspondent", err)
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
	tag, err := s.pool.Exec(ctx, `INSERT INTO spam_senders (user_id, address, ham, spam)
		SELECT id, $2, $3, $4 FROM users WHERE id = $1
		ON CONFLICT (user_id, address) DO UPDATE SET ham = spam_senders.ham + excluded.ham, spam = spam_senders.spam + excluded.spam`,
		userID, addr, ham, sp)
	if err == nil && tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: add sender verdict: user %d: %w", userID, storage.ErrNotFound)
	}
	return mapErr("add sender verdict", err)
}

// SenderVerdicts returns how many messages from addr userID moved out of and into Junk.
func (s *Store) SenderVerdicts(ctx context.Context, userID int64, addr string) (storage.SenderCounts, error) {
	var c storage.SenderCounts
	// LIMIT 1 (the key allows one row anyway) makes the cached generic plan
	// cheap in the planner's eyes, so it is kept instead of planning the
	// query afresh over every partition for each message; IsCorrespondent's
	// EXISTS gets that for free.
	err := s.pool.QueryRow(ctx, `SELECT ham, spam FROM spam_senders WHERE user_id = $1 AND address = $2 LIMIT 1`,
		userID, storage.NormalizeAddress(addr)).Scan(&c.Ham, &c.Spam)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, nil
	}
	return c, mapErr("sender verdicts", err)
}

// SenderFacts returns what IsCorrespondent and SenderVerdicts return for
// userID and addr, in one statement: the spam judge asks both for every
// recipient of every message, and each statement costs a round trip and a
// transaction of its own besides the two index probes.
func (s *Store) SenderFacts(ctx context.Context, userID int64, addr string) (bool, storage.SenderCounts, error) {
	var ok bool
	var c storage.SenderCounts
	// LIMIT 1 as in SenderVerdicts: the cached generic plan stays cheap in
	// the planner's eyes, so it is kept rather than planned afresh.
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM spam_correspondents WHERE user_id = $1 AND address = $2),
			coalesce(v.ham, 0), coalesce(v.spam, 0)
		FROM (SELECT 1) AS one
		LEFT JOIN LATERAL (SELECT ham, spam FROM spam_senders WHERE user_id = $1 AND address = $2 LIMIT 1) AS v ON true`,
		userID, storage.NormalizeAddress(addr)).Scan(&ok, &c.Ham, &c.Spam)
	return ok, c, mapErr("sender facts", err)
}

// GetSpamLists returns a user's allow and block lists.
func (s *Store) GetSpamLists(ctx context.Context, userID int64) (storage.SpamLists, error) {
	l, err := s.getLists(ctx, `SELECT l.entry, l.allow FROM users u
		LEFT JOIN spam_lists l ON l.user_id = u.id WHERE u.id = $1 ORDER BY l.entry`, userID)
	return l, mapErr("get spam lists", err)
}

// PutSpamLists replaces a user's allow and block lists.
func (s *Store) PutSpamLists(ctx context.Context, userID int64, l storage.SpamLists) error {
	err := s.putLists(ctx, func(tx pgx.Tx) error { return lockUser(ctx, tx, userID) },
		`DELETE FROM spam_lists WHERE user_id = $1`,
		`INSERT INTO spam_lists (user_id, entry, allow) SELECT $1, e, $3 FROM unnest($2::text[]) e`, userID, l)
	return mapErr("put spam lists", err)
}

// GetDomainSpamLists returns a local domain's allow and block lists.
func (s *Store) GetDomainSpamLists(ctx context.Context, domain string) (storage.SpamLists, error) {
	l, err := s.getLists(ctx, `SELECT l.entry, l.allow FROM domains d
		LEFT JOIN spam_domain_lists l ON l.domain = d.name WHERE d.name = $1 ORDER BY l.entry`, domain)
	return l, mapErr("get domain spam lists", err)
}

// PutDomainSpamLists replaces a local domain's allow and block lists.
func (s *Store) PutDomainSpamLists(ctx context.Context, domain string, l storage.SpamLists) error {
	err := s.putLists(ctx, func(tx pgx.Tx) error {
		var name string
		return tx.QueryRow(ctx, `SELECT name FROM domains WHERE name = $1 FOR UPDATE`, domain).Scan(&name)
	}, `DELETE FROM spam_domain_lists WHERE domain = $1`,
		`INSERT INTO spam_domain_lists (domain, entry, allow) SELECT $1, e, $3 FROM unnest($2::text[]) e`, domain, l)
	return mapErr("put domain spam lists", err)
}

// getLists reads the lists of owner (a user id or a domain) with one
// statement, q: the owner's row LEFT JOINed to its entries, so no row at all
// means no such owner (pgx.ErrNoRows) and a row of NULLs an owner without
// entries. (It was a transaction of two queries: four round trips per
// recipient and list, for every message the spam judge looked at.)
func (s *Store) getLists(ctx context.Context, q string, owner any) (storage.SpamLists, error) {
	l := storage.SpamLists{Allow: []string{}, Block: []string{}}
	rows, err := s.pool.Query(ctx, q, owner)
	if err != nil {
		return l, err
	}
	defer rows.Close()
	found := false
	for rows.Next() {
		found = true
		var e *string
		var allow *bool
		if err := rows.Scan(&e, &allow); err != nil {
			return l, err
		}
		switch {
		case e == nil || allow == nil:
		case *allow:
			l.Allow = append(l.Allow, *e)
		default:
			l.Block = append(l.Block, *e)
		}
	}
	if err := rows.Err(); err != nil {
		return l, err
	}
	if !found {
		return l, pgx.ErrNoRows
	}
	return l, nil
}

// putLists replaces the lists of owner: lock finds and locks the owner,
// del removes its rows and ins (owner, entries, allow) writes each list.
func (s *Store) putLists(ctx context.Context, lock func(pgx.Tx) error, del, ins string, owner any, l storage.SpamLists) error {
	l, err := storage.NormalizeLists(l)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lock(tx); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, del, owner); err != nil {
			return err
		}
		return writeLists(ctx, tx, ins, owner, l)
	})
}

func writeLists(ctx context.Context, tx pgx.Tx, q string, owner any, l storage.SpamLists) error {
	if _, err := tx.Exec(ctx, q, owner, l.Allow, true); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, q, owner, l.Block, false)
	return err
}
