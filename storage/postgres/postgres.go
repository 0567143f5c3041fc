// Package postgres is the PostgreSQL backend of storage.Store and
// storage.Notifier, built on pgx v5 and pgxpool.
//
// Layout. Small tables that every node reads (users, domains, dkim_keys,
// sessions, blobs, queue, kv, schema_migrations) are plain tables. Every
// per-user table (mailboxes, messages, threads, thread_refs, attachments,
// search, changes, training) is declared PARTITION BY HASH (user_id) with
// Options.Partitions partitions, and every primary key and btree index
// leads with user_id, so a user's rows live in one partition and the
// layout maps onto a store sharded by user (Citus). The one exception is
// the GIN index on search.tsv: a GIN index cannot lead with a bigint
// without the btree_gin extension, which we do not require; partition
// pruning on user_id already confines each search to one partition.
//
// Concurrency. Every write that touches a user's state first locks that
// user's row (the per-user MODSEQ counter, UPDATE users SET modseq =
// modseq + n RETURNING modseq), then mailbox rows in ascending id order,
// then message rows, then blob rows in ascending hash order. One lock order
// for every path means writers of one user serialize and writers of
// different users never deadlock. UIDs come from UPDATE mailboxes SET
// uidnext = uidnext + n RETURNING uidnext in the same transaction, so they
// strictly increase and are never reused.
//
// Deliver, the hot path, costs two round trips whatever the batch size:
// one pipelined pgx.Batch of BEGIN and the statements that lock and
// allocate (MODSEQs, UIDs, ids, thread look-ups), then one pipelined
// pgx.Batch of INSERT ... SELECT FROM unnest(...) statements (one per table)
// and COMMIT.
//
// Standards: RFC 9051 (IMAP4rev2: UIDVALIDITY, UIDNEXT, flags), RFC 7162
// (CONDSTORE/QRESYNC: MODSEQ), RFC 6851 (MOVE), RFC 6154 (special-use roles),
// RFC 5256 (threading by references, subject fallback), RFC 5322
// (Message-ID, In-Reply-To, References).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/stamp-mail/stamp/storage"
)

// DefaultPartitions is the number of hash partitions per per-user table when
// Options.Partitions is zero.
const DefaultPartitions = 16

// maxSearchText bounds the body text indexed per message, keeping each
// tsvector well below PostgreSQL's 1 MB limit.
const maxSearchText = 256 << 10

// Options configures Open.
type Options struct {
	// Partitions is the number of hash partitions of each per-user table
	// (default 16). It takes effect when the schema is first created.
	Partitions int
	// Schema, if set, is created if needed and used as search_path (tests use
	// one schema each).
	Schema string
	// MaxConns caps the connection pool (pgxpool's default if zero).
	MaxConns int32
	// Logger receives the store's logs; nil discards them.
	Logger *slog.Logger
}

// Store is a storage.Store on PostgreSQL. It is safe for concurrent use.
type Store struct {
	pool   *pgxpool.Pool
	log    *slog.Logger
	schema string
	locks  *lockHolder // cluster-wide locks (locks.go)

	testMigrations []migration // appended to the real ones by tests (upgrade_test.go)
}

var (
	_ storage.Store    = (*Store)(nil)
	_ storage.Notifier = (*Store)(nil)
)

// Open connects to the database at dsn, applies pending migrations under an
// advisory lock (so several nodes may start at once) and returns the store.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if opts.Partitions <= 0 {
		opts.Partitions = DefaultPartitions
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse dsn: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.Schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{opts.Schema}.Sanitize()
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s := &Store{pool: pool, log: log, schema: opts.Schema, locks: newLockHolder(pool)}
	if err := s.migrate(ctx, opts.Partitions); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Close releases the store's connections.
func (s *Store) Close() error {
	s.locks.close()
	s.pool.Close()
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Pool returns the underlying connection pool (for tests and maintenance).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// PostgreSQL error codes mapped to storage errors.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
)

// mapErr wraps err with the operation and, where it applies, a named
// storage error.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: %s: %w", op, storage.ErrNotFound)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case codeUniqueViolation:
			return fmt.Errorf("postgres: %s: %w", op, storage.ErrExists)
		case codeForeignKeyViolation:
			return fmt.Errorf("postgres: %s: %w", op, storage.ErrNotFound)
		}
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// inTx runs fn in a transaction, committing if fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after commit
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// clean makes s storable as PostgreSQL text: valid UTF-8 without NUL bytes.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}

// truncateUTF8 cuts s to at most n bytes on a rune boundary.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// utc returns t in UTC (pgx returns local time).
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}
