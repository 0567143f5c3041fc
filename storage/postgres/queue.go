package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stamp-mail/stamp/storage"
)

const queueCols = `id, user_id, sender, recipients, segments, size, state, attempts, next_attempt_at, created_at, last_error, results,
	dsn_ret, dsn_envid, dsn_rcpts, delay_notified, require_tls`

func scanQueue(row pgx.Row) (storage.QueueItem, error) {
	var q storage.QueueItem
	err := row.Scan(&q.ID, &q.UserID, &q.Sender, &q.Recipients, &q.Segments, &q.Size, &q.State,
		&q.Attempts, &q.NextAttemptAt, &q.CreatedAt, &q.LastError, &q.Results,
		&q.DSN.Ret, &q.DSN.EnvID, &q.DSN.Rcpts, &q.DSN.DelayNotified, &q.RequireTLS)
	q.NextAttemptAt, q.CreatedAt = utc(q.NextAttemptAt), utc(q.CreatedAt)
	return q, err
}

func collectQueue(rows pgx.Rows) ([]storage.QueueItem, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (storage.QueueItem, error) { return scanQueue(r) })
}

// ClaimQueue leases up to limit due items until now+lease. FOR UPDATE SKIP
// LOCKED lets workers on every node claim concurrently without waiting on
// or double-taking each other's rows.
func (s *Store) ClaimQueue(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]storage.QueueItem, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `UPDATE queue SET next_attempt_at = $3
		WHERE id IN (SELECT id FROM queue WHERE state = 'queued' AND next_attempt_at <= $1
			ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING `+queueCols, now, limit, now.Add(lease))
	if err != nil {
		return nil, mapErr("claim queue", err)
	}
	out, err := collectQueue(rows)
	slices.SortFunc(out, func(a, b storage.QueueItem) int { return cmp.Compare(a.ID, b.ID) })
	return out, mapErr("claim queue", err)
}

// UpdateQueue records the outcome of an attempt on a claimed item.
func (s *Store) UpdateQueue(ctx context.Context, item storage.QueueItem) error {
	var results []byte
	if item.Results != nil {
		var err error
		if results, err = json.Marshal(item.Results); err != nil {
			return fmt.Errorf("postgres: update queue: %w", err)
		}
	}
	ct, err := s.pool.Exec(ctx, `UPDATE queue SET state = $2, attempts = $3, next_attempt_at = $4,
		last_error = $5, results = $6::jsonb, delay_notified = $7 WHERE id = $1`,
		item.ID, item.State, item.Attempts, item.NextAttemptAt, clean(item.LastError), nullJSON(results), item.DSN.DelayNotified)
	if err != nil {
		return mapErr("update queue", err)
	}
	if ct.RowsAffected() == 0 {
		return fmt.Errorf("postgres: update queue item %d: %w", item.ID, storage.ErrNotFound)
	}
	return nil
}

// nullJSON returns b as a string, or nil (SQL NULL) if empty.
func nullJSON(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// ListQueue lists queue items, all states, by id.
func (s *Store) ListQueue(ctx context.Context) ([]storage.QueueItem, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+queueCols+" FROM queue ORDER BY id")
	if err != nil {
		return nil, mapErr("list queue", err)
	}
	out, err := collectQueue(rows)
	return out, mapErr("list queue", err)
}

// GetQueueItem returns a queue item.
func (s *Store) GetQueueItem(ctx context.Context, id int64) (storage.QueueItem, error) {
	q, err := scanQueue(s.pool.QueryRow(ctx, "SELECT "+queueCols+" FROM queue WHERE id = $1", id))
	return q, mapErr(fmt.Sprintf("get queue item %d", id), err)
}

// DeleteQueueItem removes a queue item and returns freed blobs.
func (s *Store) DeleteQueueItem(ctx context.Context, id int64) ([]string, error) {
	var freed []string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var segs []storage.Segment
		if err := tx.QueryRow(ctx, "DELETE FROM queue WHERE id = $1 RETURNING segments", id).Scan(&segs); err != nil {
			return err
		}
		refs := blobRefs{}
		refs.add(segs)
		var err error
		freed, err = unrefBlobs(ctx, tx, refs)
		return err
	})
	if err != nil {
		return nil, mapErr(fmt.Sprintf("delete queue item %d", id), err)
	}
	return freed, nil
}
