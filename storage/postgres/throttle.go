package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stamp-mail/stamp/storage"
)

// UpdateThrottle implements storage.Throttles. The row is created if absent
// and then locked (SELECT ... FOR UPDATE), so concurrent callers on every
// node take turns on the key.
func (s *Store) UpdateThrottle(ctx context.Context, key string, now time.Time, ttl time.Duration, fn func(storage.Throttle) storage.Throttle) (storage.Throttle, error) {
	var out storage.Throttle
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// One statement creates or locks the row. INSERT ... DO NOTHING
		// then SELECT ... FOR UPDATE found no row when a concurrent update
		// deleted it (count 0) while the SELECT waited on its lock; DO
		// UPDATE either inserts or locks, atomically.
		var cur storage.Throttle
		var next *time.Time
		var expires time.Time
		if err := tx.QueryRow(ctx, `INSERT INTO throttles AS t (key, count, next_at, expires_at) VALUES ($1, 0, NULL, $2)
			ON CONFLICT (key) DO UPDATE SET count = t.count
			RETURNING t.count, t.next_at, t.expires_at`, key, now).
			Scan(&cur.Count, &next, &expires); err != nil {
			return err
		}
		if !expires.After(now) {
			cur = storage.Throttle{}
		} else if next != nil {
			cur.Next = *next
		}
		out = fn(cur)
		if out.Count <= 0 {
			_, err := tx.Exec(ctx, `DELETE FROM throttles WHERE key = $1`, key)
			return err
		}
		var nextAt *time.Time
		if !out.Next.IsZero() {
			nextAt = &out.Next
		}
		_, err := tx.Exec(ctx, `UPDATE throttles SET count = $2, next_at = $3, expires_at = $4 WHERE key = $1`,
			key, out.Count, nextAt, now.Add(ttl))
		return err
	})
	if err != nil {
		return storage.Throttle{}, mapErr("update throttle "+key, err)
	}
	return out, nil
}

// ExpireThrottles implements storage.Throttles.
func (s *Store) ExpireThrottles(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM throttles WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, mapErr("expire throttles", err)
	}
	return int(tag.RowsAffected()), nil
}
