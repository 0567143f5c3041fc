package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

// aliasDomain returns the domain part of an alias address ("@d" or "l@d").
func aliasDomain(addr string) string {
	return addr[strings.LastIndexByte(addr, '@')+1:]
}

func validAlias(a storage.Alias) bool {
	at := strings.LastIndexByte(a.Address, '@')
	return at >= 0 && at < len(a.Address)-1 && a.Address == strings.ToLower(strings.TrimSpace(a.Address)) && len(a.Targets) > 0
}

// PutAlias creates or replaces an alias with its owners.
func (s *Store) PutAlias(ctx context.Context, a storage.Alias) error {
	if !validAlias(a) {
		return fmt.Errorf("sqlite: put alias %q: %w", a.Address, storage.ErrInvalid)
	}
	targets, _ := json.Marshal(a.Targets)
	err := s.write(ctx, func(w *wtx) error {
		if _, err := w.exec(`INSERT INTO aliases (address, domain, targets, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (address) DO UPDATE SET targets = excluded.targets`,
			a.Address, aliasDomain(a.Address), string(targets), ts(w.now)); err != nil {
			return err
		}
		if _, err := w.exec(`DELETE FROM alias_owners WHERE address = ?`, a.Address); err != nil {
			return err
		}
		for _, o := range a.Owners {
			if _, err := w.exec(`INSERT OR IGNORE INTO alias_owners (owner, address) VALUES (?, ?)`, o, a.Address); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: put alias %q: %w", a.Address, err)
	}
	return nil
}

const aliasSelect = `SELECT a.address, a.targets, a.created_at,
	COALESCE((SELECT json_group_array(owner) FROM (SELECT owner FROM alias_owners o WHERE o.address = a.address ORDER BY owner)), '[]')
	FROM aliases a`

func scanAlias(sc scanner) (storage.Alias, error) {
	var a storage.Alias
	var targets, owners string
	var c int64
	if err := sc.Scan(&a.Address, &targets, &c, &owners); err != nil {
		return a, err
	}
	a.CreatedAt = fromTS(c)
	if err := json.Unmarshal([]byte(targets), &a.Targets); err != nil {
		return a, err
	}
	if err := json.Unmarshal([]byte(owners), &a.Owners); err != nil {
		return a, err
	}
	if a.Owners == nil {
		a.Owners = []string{}
	}
	return a, nil
}

// GetAlias returns an alias by address.
func (s *Store) GetAlias(ctx context.Context, address string) (storage.Alias, error) {
	a, err := scanAlias(s.r.QueryRowContext(ctx, aliasSelect+` WHERE a.address = ?`, address))
	if err != nil {
		return a, fmt.Errorf("sqlite: get alias %q: %w", address, notFound(err))
	}
	return a, nil
}

func (s *Store) aliases(ctx context.Context, op, where string, args ...any) ([]storage.Alias, error) {
	out, err := collect(ctx, s.r, scanAlias, aliasSelect+where+` ORDER BY a.address`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return out, nil
}

// ListAliases returns the aliases of a domain, or all of them.
func (s *Store) ListAliases(ctx context.Context, domain string) ([]storage.Alias, error) {
	if domain == "" {
		return s.aliases(ctx, "list aliases", "")
	}
	return s.aliases(ctx, "list aliases", ` WHERE a.domain = ?`, strings.ToLower(domain))
}

// AliasesOwnedBy returns the aliases an owner may send as.
func (s *Store) AliasesOwnedBy(ctx context.Context, owner string) ([]storage.Alias, error) {
	return s.aliases(ctx, "aliases owned by", ` WHERE a.address IN (SELECT address FROM alias_owners WHERE owner = ?)`, owner)
}

// DeleteAlias removes an alias and its owners.
func (s *Store) DeleteAlias(ctx context.Context, address string) error {
	err := s.write(ctx, func(w *wtx) error {
		if _, err := w.exec(`DELETE FROM alias_owners WHERE address = ?`, address); err != nil {
			return err
		}
		return w.execOne(`DELETE FROM aliases WHERE address = ?`, address)
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete alias %q: %w", address, err)
	}
	return nil
}

// SetDomainAdmin sets a domain's admin address.
func (s *Store) SetDomainAdmin(ctx context.Context, domain, admin string) error {
	err := s.write(ctx, func(w *wtx) error {
		return w.execOne(`UPDATE domains SET admin = ? WHERE name = ?`, admin, strings.ToLower(domain))
	})
	if err != nil {
		return fmt.Errorf("sqlite: set admin of %q: %w", domain, err)
	}
	return nil
}

// DomainAdmin returns a domain's admin address.
func (s *Store) DomainAdmin(ctx context.Context, domain string) (string, error) {
	var admin string
	err := s.r.QueryRowContext(ctx, `SELECT admin FROM domains WHERE name = ?`, strings.ToLower(domain)).Scan(&admin)
	if err != nil {
		return "", fmt.Errorf("sqlite: admin of %q: %w", domain, notFound(err))
	}
	return admin, nil
}

// PutSieveScript creates or replaces a script, keeping its active state.
func (s *Store) PutSieveScript(ctx context.Context, userID int64, name, script string) error {
	if name == "" {
		return fmt.Errorf("sqlite: put sieve script: empty name: %w", storage.ErrInvalid)
	}
	err := s.write(ctx, func(w *wtx) error {
		_, err := w.exec(`INSERT INTO sieve_scripts (user_id, name, script, active, updated_at) VALUES (?, ?, ?, 0, ?)
			ON CONFLICT (user_id, name) DO UPDATE SET script = excluded.script, updated_at = excluded.updated_at`,
			userID, name, script, ts(w.now))
		if isForeignKey(err) {
			return storage.ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: put sieve script %q: %w", name, err)
	}
	return nil
}

const scriptCols = `user_id, name, script, active, updated_at`

func scanScript(sc scanner) (storage.SieveScript, error) {
	var sc2 storage.SieveScript
	var active int
	var u int64
	err := sc.Scan(&sc2.UserID, &sc2.Name, &sc2.Script, &active, &u)
	sc2.Active, sc2.UpdatedAt = active != 0, fromTS(u)
	return sc2, err
}

// GetSieveScript returns one script.
func (s *Store) GetSieveScript(ctx context.Context, userID int64, name string) (storage.SieveScript, error) {
	sc, err := scanScript(s.r.QueryRowContext(ctx, `SELECT `+scriptCols+` FROM sieve_scripts WHERE user_id = ? AND name = ?`, userID, name))
	if err != nil {
		return sc, fmt.Errorf("sqlite: get sieve script %q: %w", name, notFound(err))
	}
	return sc, nil
}

// ActiveSieveScript returns the user's active script.
func (s *Store) ActiveSieveScript(ctx context.Context, userID int64) (storage.SieveScript, error) {
	sc, err := scanScript(s.r.QueryRowContext(ctx, `SELECT `+scriptCols+` FROM sieve_scripts WHERE user_id = ? AND active = 1`, userID))
	if err != nil {
		return sc, fmt.Errorf("sqlite: active sieve script: %w", notFound(err))
	}
	return sc, nil
}

// ListSieveScripts returns a user's scripts by name.
func (s *Store) ListSieveScripts(ctx context.Context, userID int64) ([]storage.SieveScript, error) {
	out, err := collect(ctx, s.r, scanScript, `SELECT `+scriptCols+` FROM sieve_scripts WHERE user_id = ? ORDER BY name`, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list sieve scripts: %w", err)
	}
	return out, nil
}

// DeleteSieveScript removes an inactive script.
func (s *Store) DeleteSieveScript(ctx context.Context, userID int64, name string) error {
	err := s.write(ctx, func(w *wtx) error {
		var active int
		if err := w.queryRow(`SELECT active FROM sieve_scripts WHERE user_id = ? AND name = ?`, userID, name).Scan(&active); err != nil {
			return notFound(err)
		}
		if active != 0 {
			return storage.ErrScriptActive
		}
		_, err := w.exec(`DELETE FROM sieve_scripts WHERE user_id = ? AND name = ?`, userID, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete sieve script %q: %w", name, err)
	}
	return nil
}

// RenameSieveScript renames a script.
func (s *Store) RenameSieveScript(ctx context.Context, userID int64, oldName, newName string) error {
	if newName == "" {
		return fmt.Errorf("sqlite: rename sieve script: empty name: %w", storage.ErrInvalid)
	}
	err := s.write(ctx, func(w *wtx) error {
		res, err := w.exec(`UPDATE sieve_scripts SET name = ?, updated_at = ? WHERE user_id = ? AND name = ?`, newName, ts(w.now), userID, oldName)
		if isUnique(err) {
			return storage.ErrExists
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return storage.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: rename sieve script %q: %w", oldName, err)
	}
	return nil
}

// SetActiveSieveScript activates one script (or none).
func (s *Store) SetActiveSieveScript(ctx context.Context, userID int64, name string) error {
	err := s.write(ctx, func(w *wtx) error {
		if name != "" {
			var one int
			if err := w.queryRow(`SELECT 1 FROM sieve_scripts WHERE user_id = ? AND name = ?`, userID, name).Scan(&one); err != nil {
				return notFound(err)
			}
		}
		_, err := w.exec(`UPDATE sieve_scripts SET active = (name = ?) WHERE user_id = ?`, name, userID)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: activate sieve script %q: %w", name, err)
	}
	return nil
}

// NoteVacationReply records a vacation reply unless one is still remembered.
func (s *Store) NoteVacationReply(ctx context.Context, userID int64, handle, sender string, now, until time.Time) (bool, error) {
	due := false
	err := s.write(ctx, func(w *wtx) error {
		var one int
		err := w.queryRow(`INSERT INTO vacation_replies (user_id, handle, sender, until) VALUES (?, ?, ?, ?)
			ON CONFLICT (user_id, handle, sender) DO UPDATE SET until = excluded.until
			WHERE vacation_replies.until <= ? RETURNING 1`, userID, handle, sender, ts(until), ts(now)).Scan(&one)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil
		case isForeignKey(err):
			return storage.ErrNotFound
		case err != nil:
			return err
		}
		due = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("sqlite: note vacation reply: %w", err)
	}
	return due, nil
}
