package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/stamp-mail/stamp/storage"
)

// nilBytes stores an empty structure as NULL (none).
func nilBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// MessageStructures implements storage.Structures.
func (s *Store) MessageStructures(ctx context.Context, userID, mailboxID int64, first, last uint32) ([]storage.StructureRow, error) {
	hi := int64(last)
	if last == 0 {
		hi = 1 << 40
	}
	rows, err := s.pool.Query(ctx, `SELECT id, uid, structure FROM messages
		WHERE user_id = $1 AND mailbox_id = $2 AND uid BETWEEN $3 AND $4 ORDER BY uid`,
		userID, mailboxID, int64(first), hi)
	if err != nil {
		return nil, mapErr("message structures", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (storage.StructureRow, error) {
		var sr storage.StructureRow
		var uid int64
		err := r.Scan(&sr.ID, &uid, &sr.Data)
		sr.UID = uint32(uid)
		return sr, err
	})
	if err != nil {
		return nil, mapErr("message structures", err)
	}
	return out, nil
}

// SetStructures implements storage.Structures: one statement for all rows.
func (s *Store) SetStructures(ctx context.Context, userID int64, rows []storage.StructureRow) error {
	if len(rows) == 0 {
		return nil
	}
	ids := make([]int64, len(rows))
	data := make([][]byte, len(rows))
	for i, r := range rows {
		ids[i], data[i] = r.ID, nilBytes(r.Data)
	}
	_, err := s.pool.Exec(ctx, `UPDATE messages m SET structure = t.st
		FROM unnest($2::bigint[], $3::bytea[]) AS t(id, st)
		WHERE m.user_id = $1 AND m.id = t.id`, userID, ids, data)
	return mapErr("set structures", err)
}

// MissingStructures implements storage.Structures.
func (s *Store) MissingStructures(ctx context.Context, afterUser, afterID int64, limit int) ([]storage.Message, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+msgCols+` FROM messages m
		WHERE (m.user_id, m.id) > ($1, $2) AND m.structure IS NULL ORDER BY m.user_id, m.id LIMIT $3`,
		afterUser, afterID, limit)
	out, err := collectMessages(rows, err)
	return out, mapErr("missing structures", err)
}
