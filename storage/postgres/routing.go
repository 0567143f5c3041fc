package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stamp-mail/stamp/storage"
)

func validAlias(a storage.Alias) bool {
	at := strings.LastIndexByte(a.Address, '@')
	return at >= 0 && at < len(a.Address)-1 && a.Address == strings.ToLower(strings.TrimSpace(a.Address)) && len(a.Targets) > 0
}

// PutAlias creates or replaces an alias with its owners.
func (s *Store) PutAlias(ctx context.Context, a storage.Alias) error {
	if !validAlias(a) {
		return fmt.Errorf("postgres: put alias %q: %w", a.Address, storage.ErrInvalid)
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		domain := a.Address[strings.LastIndexByte(a.Address, '@')+1:]
		if _, err := tx.Exec(ctx, `INSERT INTO aliases (address, domain, targets) VALUES ($1, $2, $3)
			ON CONFLICT (address) DO UPDATE SET targets = excluded.targets`, a.Address, domain, a.Targets); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM alias_owners WHERE address = $1`, a.Address); err != nil {
			return err
		}
		for _, o := range a.Owners {
			if _, err := tx.Exec(ctx, `INSERT INTO alias_owners (owner, address) VALUES ($1, $2) ON CONFLICT DO NOTHING`, o, a.Address); err != nil {
				return err
			}
		}
		return nil
	})
	return mapErr(fmt.Sprintf("put alias %q", a.Address), err)
}

const aliasSelect = `SELECT a.address, a.targets, a.created_at,
	COALESCE((SELECT array_agg(owner ORDER BY owner COLLATE "C") FROM alias_owners o WHERE o.address = a.address), '{}')
	FROM aliases a`

func scanAlias(row pgx.Row) (storage.Alias, error) {
	var a storage.Alias
	err := row.Scan(&a.Address, &a.Targets, &a.CreatedAt, &a.Owners)
	a.CreatedAt = utc(a.CreatedAt)
	if a.Owners == nil {
		a.Owners = []string{}
	}
	return a, err
}

// GetAlias returns an alias by address.
func (s *Store) GetAlias(ctx context.Context, address string) (storage.Alias, error) {
	a, err := scanAlias(s.pool.QueryRow(ctx, aliasSelect+` WHERE a.address = $1`, address))
	return a, mapErr(fmt.Sprintf("get alias %q", address), err)
}

func (s *Store) aliases(ctx context.Context, op, where string, args ...any) ([]storage.Alias, error) {
	rows, err := s.pool.Query(ctx, aliasSelect+where+` ORDER BY a.address COLLATE "C"`, args...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (storage.Alias, error) { return scanAlias(r) })
	if out == nil {
		out = []storage.Alias{}
	}
	return out, mapErr(op, err)
}

// ListAliases returns the aliases of a domain, or all of them.
func (s *Store) ListAliases(ctx context.Context, domain string) ([]storage.Alias, error) {
	if domain == "" {
		return s.aliases(ctx, "list aliases", "")
	}
	return s.aliases(ctx, "list aliases", ` WHERE a.domain = $1`, strings.ToLower(domain))
}

// AliasesOwnedBy returns the aliases an owner may send as.
func (s *Store) AliasesOwnedBy(ctx context.Context, owner string) ([]storage.Alias, error) {
	return s.aliases(ctx, "aliases owned by", ` WHERE a.address IN (SELECT address FROM alias_owners WHERE owner = $1)`, owner)
}

// DeleteAlias removes an alias and its owners.
func (s *Store) DeleteAlias(ctx context.Context, address string) error {
	ct, err := s.pool.Exec(ctx, `DELETE FROM aliases WHERE address = $1`, address)
	if err != nil {
		return mapErr(fmt.Sprintf("delete alias %q", address), err)
	}
	if ct.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete alias %q: %w", address, storage.ErrNotFound)
	}
	return nil
}

// SetDomainAdmin sets a domain's admin address.
func (s *Store) SetDomainAdmin(ctx context.Context, domain, admin string) error {
	ct, err := s.pool.Exec(ctx, `UPDATE domains SET admin = $2 WHERE name = $1`, strings.ToLower(domain), admin)
	if err != nil {
		return mapErr(fmt.Sprintf("set admin of %q", domain), err)
	}
	if ct.RowsAffected() == 0 {
		return fmt.Errorf("postgres: set admin of %q: %w", domain, storage.ErrNotFound)
	}
	return nil
}

// DomainAdmin returns a domain's admin address.
func (s *Store) DomainAdmin(ctx context.Context, domain string) (string, error) {
	var admin string
	err := s.pool.QueryRow(ctx, `SELECT admin FROM domains WHERE name = $1`, strings.ToLower(domain)).Scan(&admin)
	return admin, mapErr(fmt.Sprintf("admin of %q", domain), err)
}

// PutSieveScript creates or replaces a script, keeping its active state.
func (s *Store) PutSieveScript(ctx context.Context, userID int64, name, script string) error {
	if name == "" {
		return fmt.Errorf("postgres: put sieve script: empty name: %w", storage.ErrInvalid)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO sieve_scripts (user_id, name, script) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, name) DO UPDATE SET script = excluded.script, updated_at = now()`, userID, clean(name), clean(script))
	return mapErr(fmt.Sprintf("put sieve script %q", name), err)
}

const scriptCols = `user_id, name, script, active, updated_at`

func scanScript(row pgx.Row) (storage.SieveScript, error) {
	var sc storage.SieveScript
	err := row.Scan(&sc.UserID, &sc.Name, &sc.Script, &sc.Active, &sc.UpdatedAt)
	sc.UpdatedAt = utc(sc.UpdatedAt)
	return sc, err
}

// GetSieveScript returns one script.
func (s *Store) GetSieveScript(ctx context.Context, userID int64, name string) (storage.SieveScript, error) {
	sc, err := scanScript(s.pool.QueryRow(ctx, `SELECT `+scriptCols+` FROM sieve_scripts WHERE user_id = $1 AND name = $2`, userID, name))
	return sc, mapErr(fmt.Sprintf("get sieve script %q", name), err)
}

// ActiveSieveScript returns the user's active script.
func (s *Store) ActiveSieveScript(ctx context.Context, userID int64) (storage.SieveScript, error) {
	sc, err := scanScript(s.pool.QueryRow(ctx, `SELECT `+scriptCols+` FROM sieve_scripts WHERE user_id = $1 AND active`, userID))
	return sc, mapErr("active sieve script", err)
}

// ListSieveScripts returns a user's scripts by name.
func (s *Store) ListSieveScripts(ctx context.Context, userID int64) ([]storage.SieveScript, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+scriptCols+` FROM sieve_scripts WHERE user_id = $1 ORDER BY name COLLATE "C"`, userID)
	if err != nil {
		return nil, mapErr("list sieve scripts", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (storage.SieveScript, error) { return scanScript(r) })
	if out == nil {
		out = []storage.SieveScript{}
	}
	return out, mapErr("list sieve scripts", err)
}

// DeleteSieveScript removes an inactive script.
func (s *Store) DeleteSieveScript(ctx context.Context, userID int64, name string) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var active bool
		if err := tx.QueryRow(ctx, `SELECT active FROM sieve_scripts WHERE user_id = $1 AND name = $2 FOR UPDATE`, userID, name).Scan(&active); err != nil {
			return err
		}
		if active {
			return storage.ErrScriptActive
		}
		_, err := tx.Exec(ctx, `DELETE FROM sieve_scripts WHERE user_id = $1 AND name = $2`, userID, name)
		return err
	})
	return mapErr(fmt.Sprintf("delete sieve script %q", name), err)
}

// RenameSieveScript renames a script.
func (s *Store) RenameSieveScript(ctx context.Context, userID int64, oldName, newName string) error {
	if newName == "" {
		return fmt.Errorf("postgres: rename sieve script: empty name: %w", storage.ErrInvalid)
	}
	ct, err := s.pool.Exec(ctx, `UPDATE sieve_scripts SET name = $3, updated_at = now() WHERE user_id = $1 AND name = $2`, userID, oldName, clean(newName))
	if err != nil {
		return mapErr(fmt.Sprintf("rename sieve script %q", oldName), err)
	}
	if ct.RowsAffected() == 0 {
		return fmt.Errorf("postgres: rename sieve script %q: %w", oldName, storage.ErrNotFound)
	}
	return nil
}

// SetActiveSieveScript activates one script (or none).
func (s *Store) SetActiveSieveScript(ctx context.Context, userID int64, name string) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		if name != "" {
			var one int
			if err := tx.QueryRow(ctx, `SELECT 1 FROM sieve_scripts WHERE user_id = $1 AND name = $2`, userID, name).Scan(&one); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `UPDATE sieve_scripts SET active = (name = $2) WHERE user_id = $1 AND (active OR name = $2)`, userID, name)
		return err
	})
	return mapErr(fmt.Sprintf("activate sieve script %q", name), err)
}

// NoteVacationReply records a vacation reply unless one is still remembered.
func (s *Store) NoteVacationReply(ctx context.Context, userID int64, handle, sender string, now, until time.Time) (bool, error) {
	var one int
	err := s.pool.QueryRow(ctx, `INSERT INTO vacation_replies (user_id, handle, sender, until) VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id, handle, sender) DO UPDATE SET until = excluded.until
		WHERE vacation_replies.until <= $5 RETURNING 1`, userID, clean(handle), clean(sender), until, now).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, mapErr("note vacation reply", err)
	}
	return true, nil
}
