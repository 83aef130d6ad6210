package sqlitestore

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache holds one prepared statement per SQL text of one *sql.DB, so
// hot statements are parsed once per connection, not once per call.
//
// Inside a transaction the cache never prepares: the transaction holds a
// connection (the writer pool has only one), so preparing on the pool could
// wait for it forever. A miss there runs the statement unprepared and is
// remembered; preparePending prepares it once the transaction is over.
type stmtCache struct {
	db      *sql.DB
	mu      sync.Mutex
	m       map[string]*sql.Stmt
	pending map[string]bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// lookup returns the prepared statement for q, or nil (and notes q for
// preparePending) if it is not prepared yet.
func (c *stmtCache) lookup(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.m[q]
	if st == nil {
		c.pending[q] = true
	}
	return st
}

// preparePending prepares the statements lookup missed. Errors are
// ignored: the statement then keeps running unprepared.
func (c *stmtCache) preparePending(ctx context.Context) {
	c.mu.Lock()
	var qs []string
	for q := range c.pending {
		qs = append(qs, q)
		delete(c.pending, q)
	}
	c.mu.Unlock()
	for _, q := range qs {
		_, _ = c.get(ctx, q)
	}
}

// get returns the prepared statement for q, preparing it on first use.
func (c *stmtCache) get(ctx context.Context, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[q]; ok {
		return st, nil
	}
	c.mu.Unlock()
	st, err := c.db.PrepareContext(ctx, q)
	c.mu.Lock()
	if err != nil {
		return nil, err
	}
	if prev, ok := c.m[q]; ok { // prepared concurrently
		st.Close()
		return prev, nil
	}
	c.m[q] = st
	return st, nil
}

// close closes every cached statement.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}

// txn is a transaction whose statements come from a stmtCache. Its
// methods mirror *sql.Tx.
type txn struct {
	tx    *sql.Tx
	cache *stmtCache
}

// ExecContext runs q (one statement) in the transaction.
func (t *txn) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := t.cache.lookup(q); st != nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, q, args...)
}

// QueryContext runs query q in the transaction.
func (t *txn) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := t.cache.lookup(q); st != nil {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, q, args...)
}

// QueryRowContext runs query q in the transaction for at most one row.
func (t *txn) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := t.cache.lookup(q); st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, q, args...)
}

// readCtx is the context a read runs under: ctx without its cancellation
// (deadline and Done) unless it has already ended (then ctx itself, so the
// read fails with its error at once, as before). A cancellable context
// makes database/sql and the driver start and wake a watcher goroutine per
// statement, transaction and result set. On a server with one CPU
// (GOMAXPROCS 1), 64 concurrent GETs had a p99 near one second while every
// handler finished within 52 ms, and 74 ms without those goroutines (the
// likely cause: their hand-offs keep the one P busy while connections the
// network poller made ready wait; with GOMAXPROCS 2 it was 77 ms). Reads are
// index searches and bounded pages, so they end on their own; writes keep
// their context.
func readCtx(ctx context.Context) context.Context {
	if ctx.Err() != nil {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

// queryRow runs q on the read pool.
func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	ctx = readCtx(ctx)
	st, err := s.rst.get(ctx, q)
	if err != nil {
		return s.r.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// query runs q on the read pool.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx = readCtx(ctx)
	st, err := s.rst.get(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// exec runs one statement on the writer outside an explicit transaction.
func (s *Store) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := s.wst.get(ctx, q)
	if err != nil {
		return nil, err
	}
	res, err := st.ExecContext(ctx, args...)
	if err == nil {
		s.committed()
	}
	return res, err
}
