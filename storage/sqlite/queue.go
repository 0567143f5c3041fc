package sqlite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stamp-mail/stamp/storage"
)

// BlobRefs returns the reference count of a blob (0 if unknown).
func (s *Store) BlobRefs(ctx context.Context, hash string) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT refcount FROM blobs WHERE hash = ?`, hash).Scan(&n)
	if err := notFound(err); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return 0, fmt.Errorf("sqlite: blob refs: %w", err)
	}
	return n, nil
}

// ReadBlob returns the bytes of an inline blob.
func (s *Store) ReadBlob(ctx context.Context, hash string) ([]byte, error) {
	var b []byte
	var codec int
	if err := s.r.QueryRowContext(ctx, `SELECT data, codec FROM blob_data WHERE hash = ?`, hash).Scan(&b, &codec); err != nil {
		return nil, fmt.Errorf("sqlite: read blob %s: %w", hash, notFound(err))
	}
	switch codec {
	case codecRaw:
		return b, nil
	case codecS2:
		data, err := unpack(b)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read blob %s: %w", hash, err)
		}
		return data, nil
	}
	return nil, fmt.Errorf("sqlite: read blob %s: unknown codec %d (written by a newer stamp?)", hash, codec)
}

// CollectBlobs removes blobs unreferenced since before olderThan. It runs in
// one write transaction, so no delivery can add a reference to a blob while
// remove deletes it: a delivery of the same bytes waits, finds no row, and
// re-creates it (after its PutAll has rewritten the file). Rows whose remove
// failed stay for the next run; the count is of blobs removed, and the error
// (returned after the commit) reports the failures.
func (s *Store) CollectBlobs(ctx context.Context, olderThan time.Time, remove func(hash string) error) (int, error) {
	n := 0
	var failed []error
	err := s.write(ctx, func(w *wtx) error {
		rows, err := w.query(`SELECT hash FROM blobs WHERE refcount = 0 AND zero_since < ?`, ts(olderThan))
		if err != nil {
			return err
		}
		var hashes []string
		for rows.Next() {
			var h string
			if err := rows.Scan(&h); err != nil {
				rows.Close()
				return err
			}
			hashes = append(hashes, h)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, h := range hashes {
			if err := remove(h); err != nil {
				failed = append(failed, fmt.Errorf("%s: %w", h, err))
				continue
			}
			if _, err := w.exec(`DELETE FROM blobs WHERE hash = ? AND refcount = 0`, h); err != nil {
				return err
			}
			if _, err := w.exec(`DELETE FROM blob_data WHERE hash = ?`, h); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: collect blobs: %w", err)
	}
	if len(failed) > 0 {
		return n, fmt.Errorf("sqlite: collect blobs: %d removals failed: %w", len(failed), errors.Join(failed...))
	}
	return n, nil
}

const queueCols = `id, user_id, sender, recipients, segments, size, state, attempts, next_attempt_at, created_at, last_error, results,
	dsn_ret, dsn_envid, dsn_rcpts, delay_notified, require_tls`

func scanQueue(sc scanner) (storage.QueueItem, error) {
	var q storage.QueueItem
	var rcpts, segs, res, dsnRcpts string
	var next, created int64
	err := sc.Scan(&q.ID, &q.UserID, &q.Sender, &rcpts, &segs, &q.Size, &q.State, &q.Attempts, &next, &created, &q.LastError, &res,
		&q.DSN.Ret, &q.DSN.EnvID, &dsnRcpts, &q.DSN.DelayNotified, &q.RequireTLS)
	if err != nil {
		return q, err
	}
	q.NextAttemptAt, q.CreatedAt = fromTS(next), fromTS(created)
	if err := errors.Join(json.Unmarshal([]byte(rcpts), &q.Recipients), json.Unmarshal([]byte(segs), &q.Segments),
		json.Unmarshal([]byte(res), &q.Results), json.Unmarshal([]byte(dsnRcpts), &q.DSN.Rcpts)); err != nil {
		return q, fmt.Errorf("queue item %d: %w", q.ID, err)
	}
	return q, nil
}

// ClaimQueue leases up to limit due items (state queued, next_attempt_at <=
// now), oldest due first, by moving their next_attempt_at to now+lease in
// the claiming write transaction: a second claimer, in this or another
// process, waits for that transaction and then no longer sees them as due.
func (s *Store) ClaimQueue(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]storage.QueueItem, error) {
	if limit <= 0 || lease <= 0 {
		return nil, fmt.Errorf("sqlite: claim queue: limit %d lease %v: %w", limit, lease, storage.ErrInvalid)
	}
	var out []storage.QueueItem
	err := s.write(ctx, func(w *wtx) error {
		out = []storage.QueueItem{}
		rows, err := w.query(`SELECT `+queueCols+` FROM queue WHERE state = ? AND next_attempt_at <= ?
			ORDER BY next_attempt_at, id LIMIT ?`, storage.QueueQueued, ts(now), limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			q, err := scanQueue(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out = append(out, q)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		until := now.Add(lease)
		for i := range out {
			if _, err := w.exec(`UPDATE queue SET next_attempt_at = ? WHERE id = ?`, ts(until), out[i].ID); err != nil {
				return err
			}
			out[i].NextAttemptAt = fromTS(ts(until))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim queue: %w", err)
	}
	return out, nil
}

// UpdateQueue records the outcome of an attempt: state, attempts,
// next_attempt_at, last_error, results and DSN.DelayNotified (the other
// DSN parameters and RequireTLS are fixed at submission).
func (s *Store) UpdateQueue(ctx context.Context, item storage.QueueItem) error {
	switch item.State {
	case storage.QueueQueued, storage.QueueDelivered, storage.QueueFailed:
	default:
		return fmt.Errorf("sqlite: update queue %d: state %q: %w", item.ID, item.State, storage.ErrInvalid)
	}
	res, _ := json.Marshal(nonNilMap(item.Results))
	err := s.write(ctx, func(w *wtx) error {
		r, err := w.exec(`UPDATE queue SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ?, results = ?,
			delay_notified = ? WHERE id = ?`, item.State, item.Attempts, ts(item.NextAttemptAt), item.LastError, string(res),
			item.DSN.DelayNotified, item.ID)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return storage.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: update queue %d: %w", item.ID, err)
	}
	return nil
}

// ListQueue lists every queue item by id.
func (s *Store) ListQueue(ctx context.Context) ([]storage.QueueItem, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+queueCols+` FROM queue ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list queue: %w", err)
	}
	defer rows.Close()
	out := []storage.QueueItem{}
	for rows.Next() {
		q, err := scanQueue(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list queue: %w", err)
		}
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list queue: %w", err)
	}
	return out, nil
}

// GetQueueItem returns a queue item.
func (s *Store) GetQueueItem(ctx context.Context, id int64) (storage.QueueItem, error) {
	q, err := scanQueue(s.r.QueryRowContext(ctx, `SELECT `+queueCols+` FROM queue WHERE id = ?`, id))
	if err != nil {
		return q, fmt.Errorf("sqlite: get queue item %d: %w", id, notFound(err))
	}
	return q, nil
}

// DeleteQueueItem removes a queue item and its blob references.
func (s *Store) DeleteQueueItem(ctx context.Context, id int64) ([]string, error) {
	var freed []string
	err := s.write(ctx, func(w *wtx) error {
		var segs string
		if err := w.queryRow(`SELECT segments FROM queue WHERE id = ?`, id).Scan(&segs); err != nil {
			return notFound(err)
		}
		var ss []storage.Segment
		if err := json.Unmarshal([]byte(segs), &ss); err != nil {
			return err
		}
		if _, err := w.exec(`DELETE FROM queue WHERE id = ?`, id); err != nil {
			return err
		}
		if err := w.decSegments(ss); err != nil {
			return err
		}
		freed = w.freed
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: delete queue item %d: %w", id, err)
	}
	return nonNil(freed), nil
}
