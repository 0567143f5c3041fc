package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// Statement caching. modernc's driver compiles a statement's SQL on every
// DB.QueryContext or Tx.ExecContext that is not given a prepared *sql.Stmt;
// that parse was 7% of the server's CPU under SMTP load (the quota, user,
// Sieve and spam look-ups of every message). A pool keeps the statements it
// sees again prepared, keyed by their text: a query whose text repeats is
// prepared on its second use, so one-off texts (search queries built per
// request, IN lists of a given length) are not kept. database/sql prepares a
// cached statement once on each pooled connection it runs on and re-prepares
// it on a new connection after a broken one was dropped.

// maxCachedStmts bounds the texts a pool remembers; it starts over when full.
const maxCachedStmts = 1024

// pool is a *sql.DB whose QueryContext and QueryRowContext go through the
// statement cache.
type pool struct {
	*sql.DB
	mu sync.Mutex
	m  map[string]*cachedStmt
	// caching is off until Open has migrated the schema, so the migration
	// scripts are not kept.
	caching bool
}

type cachedStmt struct {
	st   *sql.Stmt // nil until the text was seen twice
	seen bool
}

func newPool(db *sql.DB) *pool { return &pool{DB: db} }

// lookup returns the prepared statement for q, or nil when q is to run
// unprepared this time; prepareNow is true on the use that should prepare it.
func (p *pool) lookup(q string) (st *sql.Stmt, prepareNow bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.caching {
		return nil, false
	}
	e, ok := p.m[q]
	if !ok {
		if p.m == nil || len(p.m) >= maxCachedStmts {
			p.resetLocked()
		}
		p.m[q] = &cachedStmt{seen: true}
		return nil, false
	}
	return e.st, e.st == nil
}

// resetLocked forgets every statement. Closing one that a query still uses
// is safe: database/sql closes it when that query is done.
func (p *pool) resetLocked() {
	for _, e := range p.m {
		if e.st != nil {
			e.st.Close()
		}
	}
	p.m = make(map[string]*cachedStmt)
}

// prepare prepares q and keeps it; nil when that fails (the caller runs q
// unprepared and gets the error, if any, from there).
func (p *pool) prepare(ctx context.Context, q string) *sql.Stmt {
	st, err := p.DB.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.m[q]; ok && e.st == nil {
		e.st = st
		return st
	}
	// Forgotten or prepared meanwhile: do not keep this one.
	st.Close()
	return nil
}

// stmt returns a prepared statement for q when the cache has or makes one.
func (p *pool) stmt(ctx context.Context, q string) *sql.Stmt {
	st, now := p.lookup(q)
	if st == nil && now {
		st = p.prepare(ctx, q)
	}
	return st
}

// QueryContext is sql.DB.QueryContext through the statement cache.
func (p *pool) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := p.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return p.DB.QueryContext(ctx, q, args...)
}

// QueryRowContext is sql.DB.QueryRowContext through the statement cache.
func (p *pool) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := p.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.DB.QueryRowContext(ctx, q, args...)
}

// ExecContext is sql.DB.ExecContext through the statement cache.
func (p *pool) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := p.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return p.DB.ExecContext(ctx, q, args...)
}

// txStmt is the writer's side: a write transaction holds the writer's only
// connection, so a statement cannot be prepared on the pool while it runs.
// It returns the cached statement for q, if any, and otherwise notes q in
// *later for prepareLater, after the transaction.
func (p *pool) txStmt(q string, later *[]string) *sql.Stmt {
	st, now := p.lookup(q)
	if st == nil && now {
		*later = append(*later, q)
	}
	return st
}

// prepareLater prepares the texts a finished transaction noted.
func (p *pool) prepareLater(ctx context.Context, qs []string) {
	for _, q := range qs {
		p.prepare(ctx, q)
	}
}

// close closes every cached statement.
func (p *pool) closeStmts() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resetLocked()
	p.caching = false
}
