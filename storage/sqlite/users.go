package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

// CreateDomain adds a local domain (stored lower case).
func (s *Store) CreateDomain(ctx context.Context, name string) error {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return fmt.Errorf("sqlite: create domain: %w", storage.ErrInvalid)
	}
	err := s.write(ctx, func(w *wtx) error {
		_, err := w.exec(`INSERT INTO domains (name, created_at) VALUES (?, ?)`, name, ts(w.now))
		if isUnique(err) {
			return storage.ErrExists
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: create domain %q: %w", name, err)
	}
	return nil
}

// ListDomains returns every local domain sorted by name.
func (s *Store) ListDomains(ctx context.Context) ([]storage.Domain, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, created_at FROM domains ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list domains: %w", err)
	}
	defer rows.Close()
	out := []storage.Domain{}
	for rows.Next() {
		var d storage.Domain
		var c int64
		if err := rows.Scan(&d.Name, &c); err != nil {
			return nil, fmt.Errorf("sqlite: list domains: %w", err)
		}
		d.CreatedAt = fromTS(c)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list domains: %w", err)
	}
	return out, nil
}

// DeleteDomain removes a domain and its DKIM keys.
func (s *Store) DeleteDomain(ctx context.Context, name string) error {
	name = strings.ToLower(strings.TrimSpace(name))
	err := s.write(ctx, func(w *wtx) error {
		res, err := w.exec(`DELETE FROM domains WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return storage.ErrNotFound
		}
		_, err = w.exec(`DELETE FROM dkim_keys WHERE domain = ?`, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete domain %q: %w", name, err)
	}
	return nil
}

// PutDKIMKey stores a DKIM key, replacing one with the same domain and selector.
func (s *Store) PutDKIMKey(ctx context.Context, k storage.DKIMKey) error {
	k.Domain = strings.ToLower(strings.TrimSpace(k.Domain))
	if k.Domain == "" || k.Selector == "" || k.PrivatePEM == "" {
		return fmt.Errorf("sqlite: put dkim key: %w", storage.ErrInvalid)
	}
	err := s.write(ctx, func(w *wtx) error {
		c := k.CreatedAt
		if c.IsZero() {
			c = w.now
		}
		_, err := w.exec(`INSERT INTO dkim_keys (domain, selector, algorithm, private_pem, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (domain, selector) DO UPDATE SET
			algorithm = excluded.algorithm, private_pem = excluded.private_pem, created_at = excluded.created_at`,
			k.Domain, k.Selector, k.Algorithm, k.PrivatePEM, ts(c))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: put dkim key %s/%s: %w", k.Domain, k.Selector, err)
	}
	return nil
}

// ListDKIMKeys returns a domain's DKIM keys sorted by selector.
func (s *Store) ListDKIMKeys(ctx context.Context, domain string) ([]storage.DKIMKey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT domain, selector, algorithm, private_pem, created_at
		FROM dkim_keys WHERE domain = ? ORDER BY selector`, strings.ToLower(strings.TrimSpace(domain)))
	if err != nil {
		return nil, fmt.Errorf("sqlite: list dkim keys: %w", err)
	}
	defer rows.Close()
	out := []storage.DKIMKey{}
	for rows.Next() {
		var k storage.DKIMKey
		var c int64
		if err := rows.Scan(&k.Domain, &k.Selector, &k.Algorithm, &k.PrivatePEM, &c); err != nil {
			return nil, fmt.Errorf("sqlite: list dkim keys: %w", err)
		}
		k.CreatedAt = fromTS(c)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list dkim keys: %w", err)
	}
	return out, nil
}

// CreateUser adds a user and its storage.DefaultMailboxes in one transaction.
func (s *Store) CreateUser(ctx context.Context, address, passwordHash string) (storage.User, error) {
	if address == "" || address != strings.ToLower(address) || strings.ContainsAny(address, " \t\r\n") {
		return storage.User{}, fmt.Errorf("sqlite: create user %q: %w", address, storage.ErrInvalid)
	}
	var u storage.User
	err := s.write(ctx, func(w *wtx) error {
		err := w.queryRow(`INSERT INTO users (address, password_hash, created_at) VALUES (?, ?, ?) RETURNING id`,
			address, passwordHash, ts(w.now)).Scan(&u.ID)
		if isUnique(err) {
			return storage.ErrExists
		}
		if err != nil {
			return err
		}
		for _, d := range storage.DefaultMailboxes {
			if _, err := w.createMailbox(u.ID, d.Name, d.Role); err != nil {
				return fmt.Errorf("mailbox %s: %w", d.Name, err)
			}
		}
		u.Address, u.PasswordHash, u.CreatedAt = address, passwordHash, fromTS(ts(w.now))
		return nil
	})
	if err != nil {
		return storage.User{}, fmt.Errorf("sqlite: create user %q: %w", address, err)
	}
	return u, nil
}

func (s *Store) getUser(ctx context.Context, where string, arg any) (storage.User, error) {
	var u storage.User
	var c int64
	err := s.r.QueryRowContext(ctx, `SELECT id, address, password_hash, created_at FROM users WHERE `+where, arg).
		Scan(&u.ID, &u.Address, &u.PasswordHash, &c)
	u.CreatedAt = fromTS(c)
	return u, notFound(err)
}

// GetUser returns a user by id.
func (s *Store) GetUser(ctx context.Context, id int64) (storage.User, error) {
	u, err := s.getUser(ctx, `id = ?`, id)
	if err != nil {
		return u, fmt.Errorf("sqlite: get user %d: %w", id, err)
	}
	return u, nil
}

// GetUserByAddress returns a user by address (compared lower case).
func (s *Store) GetUserByAddress(ctx context.Context, address string) (storage.User, error) {
	u, err := s.getUser(ctx, `address = ?`, strings.ToLower(address))
	if err != nil {
		return u, fmt.Errorf("sqlite: get user %q: %w", address, err)
	}
	return u, nil
}

// ListUsers returns every user sorted by address.
func (s *Store) ListUsers(ctx context.Context) ([]storage.User, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, address, password_hash, created_at FROM users ORDER BY address`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", err)
	}
	defer rows.Close()
	out := []storage.User{}
	for rows.Next() {
		var u storage.User
		var c int64
		if err := rows.Scan(&u.ID, &u.Address, &u.PasswordHash, &c); err != nil {
			return nil, fmt.Errorf("sqlite: list users: %w", err)
		}
		u.CreatedAt = fromTS(c)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", err)
	}
	return out, nil
}

// SetPassword replaces a user's password hash.
func (s *Store) SetPassword(ctx context.Context, userID int64, passwordHash string) error {
	err := s.write(ctx, func(w *wtx) error {
		return w.execOne(`UPDATE users SET password_hash = ? WHERE id = ?`, passwordHash, userID)
	})
	if err != nil {
		return fmt.Errorf("sqlite: set password %d: %w", userID, err)
	}
	return nil
}

// DeleteUser removes a user and every per-user row (mailboxes, messages,
// threads, change log, sessions, training events), dropping its blob
// references. Queue items the user sent stay: accepted mail is delivered.
func (s *Store) DeleteUser(ctx context.Context, userID int64) ([]string, error) {
	var freed []string
	err := s.write(ctx, func(w *wtx) error {
		var one int
		if err := w.queryRow(`SELECT 1 FROM users WHERE id = ?`, userID).Scan(&one); err != nil {
			return notFound(err)
		}
		if err := w.removeMessagesWhere(userID, `1 = ?`, 1); err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM mailboxes WHERE user_id = ?`,
			`DELETE FROM thread_refs WHERE user_id = ?`,
			`DELETE FROM threads WHERE user_id = ?`,
			`DELETE FROM changes WHERE user_id = ?`,
			`DELETE FROM sessions WHERE user_id = ?`,
			`DELETE FROM training WHERE user_id = ?`,
			`DELETE FROM metadata WHERE user_id = ?`,
			`DELETE FROM sort_keys WHERE user_id = ?`,
			`DELETE FROM mailbox_keywords WHERE user_id = ?`,
			`DELETE FROM spam_correspondents WHERE user_id = ?`,
			`DELETE FROM spam_senders WHERE user_id = ?`,
			`DELETE FROM spam_lists WHERE user_id = ?`,
			`DELETE FROM users WHERE id = ?`,
		} {
			if _, err := w.exec(q, userID); err != nil {
				return err
			}
		}
		freed = w.freed
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: delete user %d: %w", userID, err)
	}
	return nonNil(freed), nil
}

// CreateSession stores an API session; ErrNotFound if the user does not
// exist, ErrExists if the token hash is taken.
func (s *Store) CreateSession(ctx context.Context, sess storage.Session) error {
	if sess.TokenHash == "" || sess.ExpiresAt.IsZero() {
		return fmt.Errorf("sqlite: create session: %w", storage.ErrInvalid)
	}
	err := s.write(ctx, func(w *wtx) error {
		c := sess.CreatedAt
		if c.IsZero() {
			c = w.now
		}
		_, err := w.exec(`INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			sess.TokenHash, sess.UserID, ts(c), ts(sess.ExpiresAt))
		switch {
		case isUnique(err):
			return storage.ErrExists
		case isForeignKey(err):
			return fmt.Errorf("user %d: %w", sess.UserID, storage.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: create session: %w", err)
	}
	return nil
}

// GetSession returns a session by token hash unless it has expired at now.
func (s *Store) GetSession(ctx context.Context, tokenHash string, now time.Time) (storage.Session, error) {
	var sess storage.Session
	var c, e int64
	err := s.r.QueryRowContext(ctx, `SELECT token_hash, user_id, created_at, expires_at FROM sessions
		WHERE token_hash = ? AND expires_at > ?`, tokenHash, ts(now)).Scan(&sess.TokenHash, &sess.UserID, &c, &e)
	if err != nil {
		return storage.Session{}, fmt.Errorf("sqlite: get session: %w", notFound(err))
	}
	sess.CreatedAt, sess.ExpiresAt = fromTS(c), fromTS(e)
	return sess, nil
}

// DeleteSession removes a session; an absent session is not an error.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	err := s.write(ctx, func(w *wtx) error {
		_, err := w.exec(`DELETE FROM sessions WHERE token_hash = ?`, tokenHash)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete session: %w", err)
	}
	return nil
}

// RecordTraining stores a spam-training event.
func (s *Store) RecordTraining(ctx context.Context, t storage.Training) error {
	err := s.write(ctx, func(w *wtx) error {
		c := t.CreatedAt
		if c.IsZero() {
			c = w.now
		}
		_, err := w.exec(`INSERT INTO training (user_id, message_id, spam, created_at) VALUES (?, ?, ?, ?)`,
			t.UserID, t.MessageID, b2i(t.Spam), ts(c))
		if isForeignKey(err) {
			return fmt.Errorf("user %d: %w", t.UserID, storage.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: record training: %w", err)
	}
	return nil
}

// TrainingSince returns a user's training events with id > afterID, by id.
func (s *Store) TrainingSince(ctx context.Context, userID int64, afterID int64) ([]storage.Training, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, user_id, message_id, spam, created_at FROM training
		WHERE user_id = ? AND id > ? ORDER BY id`, userID, afterID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: training since: %w", err)
	}
	defer rows.Close()
	out := []storage.Training{}
	for rows.Next() {
		var t storage.Training
		var spam int
		var c int64
		if err := rows.Scan(&t.ID, &t.UserID, &t.MessageID, &spam, &c); err != nil {
			return nil, fmt.Errorf("sqlite: training since: %w", err)
		}
		t.Spam, t.CreatedAt = spam != 0, fromTS(c)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: training since: %w", err)
	}
	return out, nil
}

// GetKV returns the value under key; ErrNotFound if absent.
func (s *Store) GetKV(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	if err := s.r.QueryRowContext(ctx, `SELECT value FROM kv WHERE key = ?`, key).Scan(&v); err != nil {
		return nil, fmt.Errorf("sqlite: get kv %q: %w", key, notFound(err))
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// PutKV stores value under key, replacing any previous value.
func (s *Store) PutKV(ctx context.Context, key string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	err := s.write(ctx, func(w *wtx) error {
		_, err := w.exec(`INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: put kv %q: %w", key, err)
	}
	return nil
}

// DeleteKV removes a key; absent keys are not an error.
func (s *Store) DeleteKV(ctx context.Context, key string) error {
	err := s.write(ctx, func(w *wtx) error {
		_, err := w.exec(`DELETE FROM kv WHERE key = ?`, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete kv %q: %w", key, err)
	}
	return nil
}

// ListKV returns the keys starting with prefix, sorted (bytewise).
func (s *Store) ListKV(ctx context.Context, prefix string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT key FROM kv WHERE key >= ? ORDER BY key`, prefix)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list kv: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("sqlite: list kv: %w", err)
		}
		if !strings.HasPrefix(k, prefix) {
			break
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list kv: %w", err)
	}
	return out, nil
}
