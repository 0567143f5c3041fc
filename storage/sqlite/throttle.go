package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

// UpdateThrottle implements storage.Throttles. The write transaction
// (BEGIN IMMEDIATE) serializes it against every other writer, other
// processes on the same file included.
func (s *Store) UpdateThrottle(ctx context.Context, key string, now time.Time, ttl time.Duration, fn func(storage.Throttle) storage.Throttle) (storage.Throttle, error) {
	var out storage.Throttle
	err := s.write(ctx, func(w *wtx) error {
		var cur storage.Throttle
		var next, expires int64
		err := w.tx.QueryRowContext(ctx, `SELECT count, next_at, expires_at FROM throttles WHERE key = ?`, key).Scan(&cur.Count, &next, &expires)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case expires > ts(now):
			cur.Next = fromTS(next)
		default:
			cur = storage.Throttle{}
		}
		out = fn(cur)
		if out.Count <= 0 {
			_, err = w.exec(`DELETE FROM throttles WHERE key = ?`, key)
			return err
		}
		_, err = w.exec(`INSERT INTO throttles (key, count, next_at, expires_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET count = excluded.count, next_at = excluded.next_at, expires_at = excluded.expires_at`,
			key, out.Count, ts(out.Next), ts(now.Add(ttl)))
		return err
	})
	if err != nil {
		return storage.Throttle{}, fmt.Errorf("sqlite: update throttle %q: %w", key, err)
	}
	return out, nil
}

// ExpireThrottles implements storage.Throttles.
func (s *Store) ExpireThrottles(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(w *wtx) error {
		res, err := w.exec(`DELETE FROM throttles WHERE expires_at <= ?`, ts(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: expire throttles: %w", err)
	}
	return int(n), nil
}
