// Package sqlite is the embedded storage backend: a storage.Store on one
// SQLite database file (modernc.org/sqlite, pure Go, driver "sqlite").
//
// Layout. The database runs in WAL mode with synchronous=FULL, so a commit
// that returned is on disk (RFC 5321 section 4.1.1.4 and RFC 9051 APPEND both
// require that a message is safely stored before it is acknowledged), with
// foreign keys on and a busy timeout so several processes (the CLI beside a
// running "stamp serve") can share the file: every write transaction starts
// with BEGIN IMMEDIATE, which takes the database write lock up front and waits
// for it, instead of failing late on a lock upgrade.
//
// Inside one process, writes go through a dedicated *sql.DB with exactly one
// connection (so writers queue in Go, not in SQLite's busy loop) and reads go
// through a second, pooled *sql.DB that WAL lets run beside the writer. Hot
// statements of Deliver are prepared once on the writer connection.
//
// The per-user tables (mailboxes, messages, attachments, threads,
// thread_refs, changes, training) are WITHOUT ROWID tables whose primary key
// leads with user_id, as the PostgreSQL layout partitions them by user: a
// user's rows are clustered together and every query names user_id.
// Message, mailbox and thread ids come from a global sequences table so that
// they are unique across users (the full-text table uses the message id as
// its rowid).
//
// Substring search uses a contentless FTS5 index of trigram keys and the
// texts in search_text (searchkeys.go), written in the same transaction as
// the message rows. Flags follow RFC 9051 section 2.3.2;
// MODSEQ follows RFC 7162 (CONDSTORE/QRESYNC): one counter per user, bumped
// once per changed message or mailbox, each bump logged in the changes table.
// UIDs and UIDVALIDITY follow RFC 9051 section 2.3.1.1; MOVE follows RFC 6851.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/stamp-mail/stamp/storage"
)

// busyTimeout is how long a connection waits for another process's lock
// before failing with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// Options configures Open.
type Options struct {
	// Logger receives operational messages; nil discards them.
	Logger *slog.Logger
	// ReadConns is the size of the read connection pool; 0 means a default
	// based on the number of CPUs.
	ReadConns int
}

// Store is a storage.Store on a SQLite database file. It is safe for
// concurrent use, and several processes may open the same file.
type Store struct {
	log *slog.Logger
	w   *pool // one connection, every write transaction
	r   *pool // pooled, read only: point reads
	rs  *pool // pooled, read only, the file mapped: searches (search.go)
	cp  *checkpointer

	st stmts

	// leader is held by the Deliver call committing a group.
	leader chan struct{}
	// groupMu guards group.
	groupMu sync.Mutex
	// group holds the Deliver calls waiting for the next group commit.
	group []*pendingBatch
}

var (
	_ storage.Store          = (*Store)(nil)
	_ storage.IndexPreparer  = (*Store)(nil)
	_ storage.InlinePreparer = (*Store)(nil)
)

// Open opens (creating if needed) the database at path and applies pending
// migrations, each in its own transaction. The path must name a file: an
// in-memory database cannot be shared by the read and write pools.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" || path == ":memory:" {
		return nil, fmt.Errorf("sqlite: open: a file path is required: %w", storage.ErrInvalid)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// pragmas are a pool's connection parameters: those every connection
	// has, then the pool's own.
	pragmas := func(own ...string) url.Values {
		q := url.Values{}
		common := []string{fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()), "foreign_keys(1)", "synchronous(FULL)"}
		for _, p := range append(common, own...) {
			q.Add("_pragma", p)
		}
		return q
	}
	openPool := func(q url.Values) (*sql.DB, error) {
		db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
		return db, nil
	}

	// The background checkpointer (checkpoint.go) keeps the WAL short; the
	// writer checkpoints itself only should that one fall far behind.
	// Durability is the WAL's (synchronous=FULL).
	wq := pragmas("journal_mode(WAL)", fmt.Sprintf("wal_autocheckpoint(%d)", writerCheckpointPages))
	wq.Set("_txlock", "immediate")
	w, err := openPool(wq)
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	s := &Store{log: log, w: newPool(w), leader: make(chan struct{}, 1)}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}

	n := opts.ReadConns
	if n <= 0 {
		n = max(4, runtime.NumCPU())
	}
	// Two read pools. Point reads (the lookups of every delivery and IMAP
	// command) read a few pages with pread. Searches map the file (up to
	// 1 GiB) rather than pread each page: substring search reads the texts
	// of every candidate (search_text), and a pread per page was a third of
	// a search's CPU. A mapping is not free for point reads: a connection
	// whose read transaction finds the database changed since its last one
	// unmaps the whole file (pagerBeginReadTransaction), which under
	// delivery load is every time, and that was 60% of the judge's
	// sender lookups.
	openReaders := func(own ...string) (*pool, error) {
		db, err := openPool(pragmas(append([]string{"query_only(1)"}, own...)...))
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
		return newPool(db), nil
	}
	if s.r, err = openReaders(); err != nil {
		s.Close()
		return nil, err
	}
	if s.rs, err = openReaders("mmap_size(1073741824)"); err != nil {
		s.Close()
		return nil, err
	}
	cp, err := openPool(pragmas())
	if err != nil {
		s.Close()
		return nil, err
	}
	s.cp = startCheckpointer(cp, w, log)

	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, err
	}
	s.r.caching, s.rs.caching, s.w.caching = true, true, true
	log.Debug("sqlite store open", "path", path)
	return s, nil
}

// Close releases the store's connections.
func (s *Store) Close() error {
	var errs []error
	if s.cp != nil {
		errs = append(errs, s.cp.close())
	}
	s.st.close()
	s.w.closeStmts()
	for _, p := range []*pool{s.r, s.rs} {
		if p != nil {
			p.closeStmts()
			errs = append(errs, p.Close())
		}
	}
	errs = append(errs, s.w.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// Ping checks that the database answers on both pools.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if err := s.w.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// wtx is one write transaction. Statements prepared on the writer pool are
// rebound to the transaction once and cached.
type wtx struct {
	s     *Store
	ctx   context.Context
	tx    *sql.Tx
	now   time.Time
	bound map[*sql.Stmt]*sql.Stmt
	freed []string
	seen  map[string]bool
	// later are statement texts to prepare after the transaction (stmtcache.go).
	later []string
	// search holds the search rows of the messages delivered in this
	// transaction, written by insertSearchRows (deliver.go).
	search []searchRow
}

// write runs fn in a write transaction (BEGIN IMMEDIATE) and commits it when
// fn returns nil.
func (s *Store) write(ctx context.Context, fn func(w *wtx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	w := &wtx{s: s, ctx: ctx, tx: tx, now: time.Now()}
	// Statements seen again in this transaction are prepared once it is over.
	defer func() {
		if len(w.later) > 0 {
			s.w.prepareLater(context.WithoutCancel(ctx), w.later)
		}
	}()
	if err := fn(w); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if s.cp != nil {
		s.cp.committed()
	}
	return nil
}

func (w *wtx) stmt(st *sql.Stmt) *sql.Stmt {
	if b, ok := w.bound[st]; ok {
		return b
	}
	if w.bound == nil {
		w.bound = map[*sql.Stmt]*sql.Stmt{}
	}
	b := w.tx.StmtContext(w.ctx, st)
	w.bound[st] = b
	return b
}

func (w *wtx) exec(q string, args ...any) (sql.Result, error) {
	if st := w.s.w.txStmt(q, &w.later); st != nil {
		return w.stmt(st).ExecContext(w.ctx, args...)
	}
	return w.tx.ExecContext(w.ctx, q, args...)
}

// execOne runs a statement that must change a row: none changed is
// storage.ErrNotFound.
func (w *wtx) execOne(q string, args ...any) error {
	res, err := w.exec(q, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

func (w *wtx) query(q string, args ...any) (*sql.Rows, error) {
	if st := w.s.w.txStmt(q, &w.later); st != nil {
		return w.stmt(st).QueryContext(w.ctx, args...)
	}
	return w.tx.QueryContext(w.ctx, q, args...)
}

func (w *wtx) queryRow(q string, args ...any) *sql.Row {
	if st := w.s.w.txStmt(q, &w.later); st != nil {
		return w.stmt(st).QueryRowContext(w.ctx, args...)
	}
	return w.tx.QueryRowContext(w.ctx, q, args...)
}

// addFreed records a blob whose reference count reached zero.
func (w *wtx) addFreed(hash string) {
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	if !w.seen[hash] {
		w.seen[hash] = true
		w.freed = append(w.freed, hash)
	}
}

// sqliteCode returns the extended result code of a SQLite error, or 0.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

func isUnique(err error) bool {
	c := sqliteCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

func isForeignKey(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// notFound maps sql.ErrNoRows to storage.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return storage.ErrNotFound
	}
	return err
}

// Times are stored as Unix nanoseconds; 0 is the zero time.
func ts(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromTS(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
