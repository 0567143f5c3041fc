package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/stamp-mail/stamp/storage"
)

// SortRows returns the mailbox's messages in UID order with their stored
// SORT/THREAD keys (storage/sortkeys.go).
func (s *Store) SortRows(ctx context.Context, userID, mailboxID int64) ([]storage.SortRow, error) {
	return s.SortRowsAfter(ctx, userID, mailboxID, 0)
}

// SortRowsAfter is SortRows for the messages with UID above after.
func (s *Store) SortRowsAfter(ctx context.Context, userID, mailboxID int64, after uint32) ([]storage.SortRow, error) {
	rows, err := s.pool.Query(ctx, `SELECT m.id, m.uid, m.subject, m.date, m.message_id_hdr,
			k.message_id, k.from_name, k.from_addr, k.to_name, k.to_addr, k.cc_addr, k.parents
		FROM messages m LEFT JOIN sort_keys k ON k.user_id = m.user_id AND k.message_id = m.id
		WHERE m.user_id = $1 AND m.mailbox_id = $2 AND m.uid > $3 ORDER BY m.uid`, userID, mailboxID, int64(after))
	if err != nil {
		return nil, mapErr("sort rows", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (storage.SortRow, error) {
		var sr storage.SortRow
		var uid int64
		var date pgtype.Timestamptz
		var kid pgtype.Int8
		var fn, fa, tn, ta, ca, parents pgtype.Text
		err := r.Scan(&sr.ID, &uid, &sr.Subject, &date, &sr.MessageIDHdr, &kid, &fn, &fa, &tn, &ta, &ca, &parents)
		sr.UID = uint32(uid)
		if date.Valid {
			sr.Date = date.Time.UTC()
		}
		if kid.Valid {
			sr.Keys = &storage.SortKeys{MessageID: kid.Int64, FromName: fn.String, FromAddr: fa.String,
				ToName: tn.String, ToAddr: ta.String, CcAddr: ca.String, Parents: storage.SplitParents(parents.String)}
		}
		return sr, err
	})
	if err != nil {
		return nil, mapErr("sort rows", err)
	}
	if len(out) == 0 {
		if err := s.mailboxExists(ctx, s.pool, userID, mailboxID); err != nil {
			return nil, mapErr("sort rows", err)
		}
	}
	return out, nil
}

// PutSortKeys stores keys and drops those of the user's vanished messages.
func (s *Store) PutSortKeys(ctx context.Context, userID int64, keys []storage.SortKeys) error {
	if len(keys) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, k := range keys {
			b.Queue(`INSERT INTO sort_keys (user_id, message_id, from_name, from_addr, to_name, to_addr, cc_addr, parents)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
				ON CONFLICT (user_id, message_id) DO UPDATE SET from_name = excluded.from_name, from_addr = excluded.from_addr,
					to_name = excluded.to_name, to_addr = excluded.to_addr, cc_addr = excluded.cc_addr, parents = excluded.parents`,
				userID, k.MessageID, k.FromName, k.FromAddr, k.ToName, k.ToAddr, k.CcAddr, storage.JoinParents(k.Parents))
		}
		b.Queue(`DELETE FROM sort_keys k WHERE k.user_id = $1 AND NOT EXISTS
			(SELECT 1 FROM messages m WHERE m.user_id = k.user_id AND m.id = k.message_id)`, userID)
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return mapErr("put sort keys", err)
	}
	return nil
}
