package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stamp-mail/stamp/storage"
)

// blobRef counts the references a transaction adds to or removes from a blob.
type blobRef struct {
	size int64
	n    int64
}

// blobRefs maps blob hash to a reference delta.
type blobRefs map[string]blobRef

// add counts one reference per segment.
func (r blobRefs) add(segs []storage.Segment) {
	for _, sg := range segs {
		br := r[sg.Hash]
		br.size = sg.Size
		br.n++
		r[sg.Hash] = br
	}
}

// arrays returns the refs sorted by hash as parallel arrays: sorting is the
// lock order on blob rows, which keeps concurrent writers deadlock-free.
func (r blobRefs) arrays() (hashes []string, sizes, ns []int64) {
	hashes = make([]string, 0, len(r))
	for h := range r {
		hashes = append(hashes, h)
	}
	slices.Sort(hashes)
	for _, h := range hashes {
		sizes = append(sizes, r[h].size)
		ns = append(ns, r[h].n)
	}
	return hashes, sizes, ns
}

// refBlobsSQL adds references ($1 hashes, $2 sizes, $3 counts) in hash
// order, re-creating rows a collection removed.
const refBlobsSQL = `INSERT INTO blobs (hash, size, refcount)
	SELECT h, sz, n FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS t(h, sz, n) ORDER BY h
	ON CONFLICT (hash) DO UPDATE SET refcount = blobs.refcount + excluded.refcount, zero_since = NULL`

// unrefBlobs removes references and returns the hashes that reached zero.
func unrefBlobs(ctx context.Context, tx pgx.Tx, r blobRefs) ([]string, error) {
	if len(r) == 0 {
		return nil, nil
	}
	hashes, _, ns := r.arrays()
	// Lock in hash order first (the global blob lock order), then update.
	b := &pgx.Batch{}
	b.Queue("SELECT hash FROM blobs WHERE hash = ANY($1) ORDER BY hash FOR UPDATE", hashes)
	b.Queue(`UPDATE blobs b SET refcount = greatest(b.refcount - t.n, 0),
			zero_since = CASE WHEN b.refcount - t.n <= 0 THEN now() ELSE NULL END
		FROM unnest($1::text[], $2::bigint[]) AS t(h, n)
		WHERE b.hash = t.h
		RETURNING b.hash, b.refcount`, hashes, ns)
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, err
	}
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	var freed []string
	for rows.Next() {
		var h string
		var rc int64
		if err := rows.Scan(&h, &rc); err != nil {
			rows.Close()
			return nil, err
		}
		if rc == 0 {
			freed = append(freed, h)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Sort(freed)
	return freed, br.Close()
}

// BlobRefs returns the reference count of a blob (0 if unknown).
func (s *Store) BlobRefs(ctx context.Context, hash string) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, "SELECT refcount FROM blobs WHERE hash = $1", hash).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return n, mapErr("blob refs", err)
}

// ReadBlob returns the bytes of an inline blob.
func (s *Store) ReadBlob(ctx context.Context, hash string) ([]byte, error) {
	var b []byte
	if err := s.pool.QueryRow(ctx, "SELECT data FROM blob_data WHERE hash = $1", hash).Scan(&b); err != nil {
		return nil, mapErr("read blob "+hash, err)
	}
	return b, nil
}

// CollectBlobs removes blobs unreferenced since before olderThan. The rows
// stay locked while remove runs, so a delivery of the same content waits and
// then re-creates the row (and, through blob.Store.PutAll, the file). Rows
// whose remove fails are kept for the next run and the errors returned.
func (s *Store) CollectBlobs(ctx context.Context, olderThan time.Time, remove func(hash string) error) (int, error) {
	n := 0
	var errs []error
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT hash FROM blobs WHERE refcount = 0 AND zero_since < $1
			ORDER BY hash FOR UPDATE`, olderThan)
		if err != nil {
			return err
		}
		hashes, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		var done []string
		for _, h := range hashes {
			if err := remove(h); err != nil {
				errs = append(errs, fmt.Errorf("remove blob %s: %w", h, err))
				continue
			}
			done = append(done, h)
		}
		if len(done) == 0 {
			return nil
		}
		if _, err = tx.Exec(ctx, "DELETE FROM blobs WHERE hash = ANY($1)", done); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "DELETE FROM blob_data WHERE hash = ANY($1)", done)
		n = len(done)
		return err
	})
	if err != nil {
		return 0, mapErr("collect blobs", err)
	}
	if len(errs) > 0 {
		return n, fmt.Errorf("postgres: collect blobs: %w", errors.Join(errs...))
	}
	return n, nil
}

// HighestModSeq returns the user's current MODSEQ.
func (s *Store) HighestModSeq(ctx context.Context, userID int64) (uint64, error) {
	var m int64
	err := s.pool.QueryRow(ctx, "SELECT modseq FROM users WHERE id = $1", userID).Scan(&m)
	return uint64(m), mapErr(fmt.Sprintf("highest modseq of user %d", userID), err)
}

// ChangesSince returns the user's change log after modseq, oldest first;
// limit <= 0 means no limit.
func (s *Store) ChangesSince(ctx context.Context, userID int64, modseq uint64, limit int) ([]storage.Change, error) {
	lim := any(nil)
	if limit > 0 {
		lim = limit
	}
	rows, err := s.pool.Query(ctx, `SELECT modseq, mailbox_id, message_id, uid, kind FROM changes
		WHERE user_id = $1 AND modseq > $2 ORDER BY modseq LIMIT $3`, userID, int64(modseq), lim)
	if err != nil {
		return nil, mapErr("changes since", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (storage.Change, error) {
		var c storage.Change
		var ms, uid int64
		var kind string
		err := r.Scan(&ms, &c.MailboxID, &c.MessageID, &uid, &kind)
		c.ModSeq, c.UID, c.Kind = uint64(ms), uint32(uid), storage.ChangeKind(kind)
		return c, err
	})
	return out, mapErr("changes since", err)
}
