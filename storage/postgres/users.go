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

// CreateDomain adds a local domain (stored lower case); ErrExists if present.
func (s *Store) CreateDomain(ctx context.Context, name string) error {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return fmt.Errorf("postgres: create domain: empty name: %w", storage.ErrInvalid)
	}
	_, err := s.pool.Exec(ctx, "INSERT INTO domains (name) VALUES ($1)", name)
	return mapErr(fmt.Sprintf("create domain %q", name), err)
}

// ListDomains returns every local domain, sorted.
func (s *Store) ListDomains(ctx context.Context) ([]storage.Domain, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, created_at FROM domains ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, mapErr("list domains", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (storage.Domain, error) {
		var d storage.Domain
		err := r.Scan(&d.Name, &d.CreatedAt)
		d.CreatedAt = utc(d.CreatedAt)
		return d, err
	})
	return out, mapErr("list domains", err)
}

// DeleteDomain removes a domain; ErrNotFound if absent.
func (s *Store) DeleteDomain(ctx context.Context, name string) error {
	name = strings.ToLower(strings.TrimSpace(name))
	ct, err := s.pool.Exec(ctx, "DELETE FROM domains WHERE name = $1", name)
	if err != nil {
		return mapErr(fmt.Sprintf("delete domain %q", name), err)
	}
	if ct.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete domain %q: %w", name, storage.ErrNotFound)
	}
	return nil
}

// PutDKIMKey stores a DKIM key, replacing one with the same domain and selector.
func (s *Store) PutDKIMKey(ctx context.Context, k storage.DKIMKey) error {
	k.Domain = strings.ToLower(strings.TrimSpace(k.Domain))
	if k.Domain == "" || k.Selector == "" {
		return fmt.Errorf("postgres: put dkim key: empty domain or selector: %w", storage.ErrInvalid)
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = time.Now()
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO dkim_keys (domain, selector, algorithm, private_pem, created_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (domain, selector) DO UPDATE
		SET algorithm = excluded.algorithm, private_pem = excluded.private_pem, created_at = excluded.created_at`,
		k.Domain, k.Selector, k.Algorithm, k.PrivatePEM, k.CreatedAt)
	return mapErr(fmt.Sprintf("put dkim key %s/%s", k.Domain, k.Selector), err)
}

// ListDKIMKeys returns the DKIM keys of a domain, by selector.
func (s *Store) ListDKIMKeys(ctx context.Context, domain string) ([]storage.DKIMKey, error) {
	domain = strings.ToLower(strings.TrimSpace(domain))
	rows, err := s.pool.Query(ctx, `SELECT domain, selector, algorithm, private_pem, created_at
		FROM dkim_keys WHERE domain = $1 ORDER BY selector COLLATE "C"`, domain)
	if err != nil {
		return nil, mapErr("list dkim keys", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (storage.DKIMKey, error) {
		var k storage.DKIMKey
		err := r.Scan(&k.Domain, &k.Selector, &k.Algorithm, &k.PrivatePEM, &k.CreatedAt)
		k.CreatedAt = utc(k.CreatedAt)
		return k, err
	})
	return out, mapErr("list dkim keys", err)
}

// CreateUser adds a user and its default mailboxes in one transaction.
func (s *Store) CreateUser(ctx context.Context, address, passwordHash string) (storage.User, error) {
	if address == "" || address != strings.ToLower(address) || strings.TrimSpace(address) != address {
		return storage.User{}, fmt.Errorf("postgres: create user %q: address must be non-empty lower case: %w", address, storage.ErrInvalid)
	}
	u := storage.User{Address: address, PasswordHash: passwordHash}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO users (address, password_hash) VALUES ($1, $2)
			RETURNING id, created_at`, address, passwordHash).Scan(&u.ID, &u.CreatedAt)
		if err != nil {
			return err
		}
		for _, mb := range storage.DefaultMailboxes {
			if _, err := createMailboxTx(ctx, tx, u.ID, mb.Name, mb.Role); err != nil {
				return err
			}
		}
		return nil
	})
	u.CreatedAt = utc(u.CreatedAt)
	return u, mapErr(fmt.Sprintf("create user %q", address), err)
}

const userCols = `id, address, password_hash, created_at`

func scanUser(row pgx.Row) (storage.User, error) {
	var u storage.User
	err := row.Scan(&u.ID, &u.Address, &u.PasswordHash, &u.CreatedAt)
	u.CreatedAt = utc(u.CreatedAt)
	return u, err
}

// GetUser returns a user by id.
func (s *Store) GetUser(ctx context.Context, id int64) (storage.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, "SELECT "+userCols+" FROM users WHERE id = $1", id))
	return u, mapErr(fmt.Sprintf("get user %d", id), err)
}

// GetUserByAddress returns a user by (lower-case) address.
func (s *Store) GetUserByAddress(ctx context.Context, address string) (storage.User, error) {
	address = strings.ToLower(strings.TrimSpace(address))
	u, err := scanUser(s.pool.QueryRow(ctx, "SELECT "+userCols+" FROM users WHERE address = $1", address))
	return u, mapErr(fmt.Sprintf("get user %q", address), err)
}

// ListUsers returns every user sorted by address.
func (s *Store) ListUsers(ctx context.Context) ([]storage.User, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+userCols+` FROM users ORDER BY address COLLATE "C"`)
	if err != nil {
		return nil, mapErr("list users", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (storage.User, error) { return scanUser(r) })
	return out, mapErr("list users", err)
}

// SetPassword replaces a user's password hash.
func (s *Store) SetPassword(ctx context.Context, userID int64, passwordHash string) error {
	ct, err := s.pool.Exec(ctx, "UPDATE users SET password_hash = $2 WHERE id = $1", userID, passwordHash)
	if err != nil {
		return mapErr("set password", err)
	}
	if ct.RowsAffected() == 0 {
		return fmt.Errorf("postgres: set password of user %d: %w", userID, storage.ErrNotFound)
	}
	return nil
}

// DeleteUser removes a user with all its per-user rows and sessions and
// returns the blobs whose reference count dropped to zero. Queue items the
// user sent stay: they are outbound mail already accepted.
func (s *Store) DeleteUser(ctx context.Context, userID int64) ([]string, error) {
	var freed []string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT seg->>'h', max((seg->>'n')::bigint), count(*)
			FROM messages m, jsonb_array_elements(m.segments) seg
			WHERE m.user_id = $1 GROUP BY 1`, userID)
		if err != nil {
			return err
		}
		refs := blobRefs{}
		for rows.Next() {
			var h string
			var size, n int64
			if err := rows.Scan(&h, &size, &n); err != nil {
				rows.Close()
				return err
			}
			refs[h] = blobRef{size: size, n: n}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		b := &pgx.Batch{}
		for _, t := range []string{"messages", "attachments", "search_text", "threads", "thread_refs", "changes", "training", "mailboxes",
			"spam_correspondents", "spam_senders", "spam_lists", "metadata", "sieve_scripts", "vacation_replies",
			"user_settings", "draft_aliases", "sort_keys", "mailbox_keywords"} {
			b.Queue("DELETE FROM "+t+" WHERE user_id = $1", userID)
		}
		b.Queue("DELETE FROM sessions WHERE user_id = $1", userID)
		b.Queue("DELETE FROM users WHERE id = $1", userID)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		freed, err = unrefBlobs(ctx, tx, refs)
		return err
	})
	if err != nil {
		return nil, mapErr(fmt.Sprintf("delete user %d", userID), err)
	}
	return freed, nil
}

// lockUser locks a user's row, the first lock of every per-user write.
func lockUser(ctx context.Context, tx pgx.Tx, userID int64) error {
	var id int64
	err := tx.QueryRow(ctx, "SELECT id FROM users WHERE id = $1 FOR NO KEY UPDATE", userID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("user %d: %w", userID, storage.ErrNotFound)
	}
	return err
}

// bumpModSeq advances a user's MODSEQ by n and returns the new (highest)
// value; the n values last-n+1..last belong to the caller.
func bumpModSeq(ctx context.Context, tx pgx.Tx, userID int64, n int) (uint64, error) {
	var last int64
	err := tx.QueryRow(ctx, "UPDATE users SET modseq = modseq + $2 WHERE id = $1 RETURNING modseq", userID, n).Scan(&last)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("user %d: %w", userID, storage.ErrNotFound)
	}
	return uint64(last), err
}

// CreateSession stores an API session.
func (s *Store) CreateSession(ctx context.Context, sess storage.Session) error {
	if sess.TokenHash == "" {
		return fmt.Errorf("postgres: create session: empty token hash: %w", storage.ErrInvalid)
	}
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = time.Now()
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at)
		VALUES ($1, $2, $3, $4)`, sess.TokenHash, sess.UserID, sess.CreatedAt, sess.ExpiresAt)
	return mapErr("create session", err)
}

// GetSession returns an unexpired session by token hash.
func (s *Store) GetSession(ctx context.Context, tokenHash string, now time.Time) (storage.Session, error) {
	var sess storage.Session
	err := s.pool.QueryRow(ctx, `SELECT token_hash, user_id, created_at, expires_at FROM sessions
		WHERE token_hash = $1 AND expires_at > $2`, tokenHash, now).
		Scan(&sess.TokenHash, &sess.UserID, &sess.CreatedAt, &sess.ExpiresAt)
	sess.CreatedAt, sess.ExpiresAt = utc(sess.CreatedAt), utc(sess.ExpiresAt)
	return sess, mapErr("get session", err)
}

// DeleteSession removes a session; an absent session is not an error.
func (s *Store) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := s.pool.Exec(ctx, "DELETE FROM sessions WHERE token_hash = $1", tokenHash)
	return mapErr("delete session", err)
}

// RecordTraining stores a spam-training event.
func (s *Store) RecordTraining(ctx context.Context, t storage.Training) error {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now()
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO training (user_id, message_id, spam, created_at)
		SELECT id, $2, $3, $4 FROM users WHERE id = $1`, t.UserID, t.MessageID, t.Spam, t.CreatedAt)
	return mapErr("record training", err)
}

// TrainingSince returns a user's training events with id above afterID, by id.
func (s *Store) TrainingSince(ctx context.Context, userID int64, afterID int64) ([]storage.Training, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, user_id, message_id, spam, created_at FROM training
		WHERE user_id = $1 AND id > $2 ORDER BY id`, userID, afterID)
	if err != nil {
		return nil, mapErr("training since", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (storage.Training, error) {
		var t storage.Training
		err := r.Scan(&t.ID, &t.UserID, &t.MessageID, &t.Spam, &t.CreatedAt)
		t.CreatedAt = utc(t.CreatedAt)
		return t, err
	})
	return out, mapErr("training since", err)
}

// GetKV returns the value stored under key; ErrNotFound if absent.
func (s *Store) GetKV(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.pool.QueryRow(ctx, "SELECT value FROM kv WHERE key = $1", key).Scan(&v)
	if v == nil && err == nil {
		v = []byte{}
	}
	return v, mapErr(fmt.Sprintf("get kv %q", key), err)
}

// PutKV stores value under key, replacing any previous value.
func (s *Store) PutKV(ctx context.Context, key string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO kv (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return mapErr(fmt.Sprintf("put kv %q", key), err)
}

// DeleteKV removes a key; absent keys are not an error.
func (s *Store) DeleteKV(ctx context.Context, key string) error {
	_, err := s.pool.Exec(ctx, "DELETE FROM kv WHERE key = $1", key)
	return mapErr(fmt.Sprintf("delete kv %q", key), err)
}

// ListKV returns the keys starting with prefix, sorted bytewise.
func (s *Store) ListKV(ctx context.Context, prefix string) ([]string, error) {
	rows, err := s.pool.Query(ctx, "SELECT key FROM kv WHERE starts_with(key, $1) ORDER BY key", prefix)
	if err != nil {
		return nil, mapErr("list kv", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, mapErr("list kv", err)
}
