package postgres

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stamp-mail/stamp/storage"
)

var _ storage.Locker = (*Store)(nil)

// lockHolder holds this node's cluster-wide locks as session advisory locks
// on one dedicated connection (not from the pool, so the pool never waits
// for it and a thousand POP3 sessions cost one connection). PostgreSQL's
// session locks are re-entrant for their session, so the holder also keeps
// the set it holds and refuses a second taker on this node itself.
type lockHolder struct {
	cfg *pgx.ConnConfig

	mu   sync.Mutex
	conn *pgx.Conn // nil until first use or after a failure
	held map[int64]bool
}

// lockKey maps a lock name to an advisory lock key: FNV-1a over a prefix of
// its own (so it does not meet the migration lock's hashtext() keys) and the
// schema (advisory locks are per database, and installations or tests may
// share a database in separate schemas).
func lockKey(schema, name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("stamp-lock:"))
	h.Write([]byte(schema))
	h.Write([]byte{0})
	h.Write([]byte(name))
	return int64(h.Sum64())
}

func newLockHolder(pool *pgxpool.Pool) *lockHolder {
	return &lockHolder{cfg: pool.Config().ConnConfig.Copy(), held: map[int64]bool{}}
}

// TryLock takes a session advisory lock named name (pg_try_advisory_lock).
func (s *Store) TryLock(ctx context.Context, name string) (func(), error) {
	h := s.locks
	key := lockKey(s.schema, name)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held[key] {
		return nil, fmt.Errorf("postgres: lock %q: %w", name, storage.ErrLocked)
	}
	if h.conn == nil || h.conn.IsClosed() {
		// A new session: whatever the old one held went with it.
		clear(h.held)
		c, err := pgx.ConnectConfig(ctx, h.cfg)
		if err != nil {
			return nil, fmt.Errorf("postgres: lock connection: %w", err)
		}
		h.conn = c
	}
	conn := h.conn
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil {
		h.conn.Close(context.WithoutCancel(ctx))
		h.conn = nil
		return nil, fmt.Errorf("postgres: lock %q: %w", name, err)
	}
	if !ok {
		return nil, fmt.Errorf("postgres: lock %q: %w", name, storage.ErrLocked)
	}
	h.held[key] = true
	var once sync.Once
	return func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.conn != conn || !h.held[key] {
				return // that session is gone, and its locks with it
			}
			delete(h.held, key)
			if _, err := conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", key); err != nil {
				s.log.Warn("advisory unlock failed; dropping the lock connection", "lock", name, "err", err)
				conn.Close(context.Background())
				h.conn = nil
			}
		})
	}, nil
}

// close ends the lock session, releasing every lock it holds.
func (h *lockHolder) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conn != nil {
		h.conn.Close(context.Background())
		h.conn = nil
	}
}
