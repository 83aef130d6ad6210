// Package sqlitestore is the embedded default store.State backend: one
// SQLite database file in the data directory, driven by modernc.org/sqlite
// (pure Go, no cgo).
//
// The file is shared safely by several processes on one host (the serve
// daemon and a CLI run such as `token create`): it is opened in WAL mode,
// every write transaction starts with BEGIN IMMEDIATE and waits up to
// BusyTimeout for another process's write lock, and every multi-row change
// (a record and its index columns, a group and its memberships) is one
// transaction. It is not meant for several hosts over a network file
// system; use store/redisstore for replicas.
//
// Layout: tables tenants, tokens, scim_users, scim_groups and memberships
// (one row per group member, so a membership delta costs O(delta) whatever
// the group's size), leases and runs (store.Leases, store.Runs),
// role_mappings, role_assignments and role_defaults (store.Roles; a user's
// assignments cascade with it), provisioning_log and
// provisioning_log_rejected (store.ProvisioningLog: one row per entry,
// accepted and rejected apart, each numbered per tenant and pruned by
// its own count and by age on every append), record_counts (each tenant's user and group counts, kept by
// triggers, so a list page's total is one row read), plus schema_version
// for migrations. Uniqueness rules
// are UNIQUE indexes over folded userName/displayName keys
// (mapping.FoldKey) and exact externalId values.
//
// Only cmd wiring and tests import this package; everything else uses the
// store.State interface.
package sqlitestore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/axonflow/axonflow-sync/store"
)

// ReadMmapSize is the most of the database file (bytes) each read-only
// connection maps into memory (PRAGMA mmap_size, https://sqlite.org/mmap.html):
// its reads then take pages straight from the OS's page cache instead of
// a pread(2) into its own 2 MB page cache, which at 100,000 users misses
// on most index and table leaves. Pages whose newest version is in the WAL
// are still read from the WAL; writes never go through the mapping. The
// mapped pages the process touches count in its RSS (they are the page
// cache, shared and reclaimable).
const ReadMmapSize = 1 << 30

// BusyTimeout is how long a write waits for another connection or process
// holding the database's write lock before it fails with an error wrapping
// store.ErrUnavailable.
const BusyTimeout = 5 * time.Second

// Store is a store.State, store.Leases and store.Runs backed by one SQLite
// file. It is safe for
// concurrent use by many goroutines, and several Stores (in one process or
// in several) may open the same file. Create it with Open; release it with
// Close.
type Store struct {
	w   *sql.DB // one connection: every write, serialised in-process
	r   *sql.DB // read-only pool (query_only), concurrent readers under WAL
	wst *stmtCache
	rst *stmtCache
	// anchor is a connection held open for the Store's life, so that the
	// -shm file wal maps stays in use (see walIndex); its pool adb has
	// only it.
	adb    *sql.DB
	anchor *sql.Conn
	// wal is the file's WAL-index header, which tells the caches below
	// whether anything was committed (nil when it could not be mapped:
	// the caches are then bypassed).
	wal *walIndex
	// tokens caches TokenByHash, checked against the WAL-index header.
	tokens *tokenCache
	// cursors: where the list pages served end (see listPage).
	cursors *pageCursors
	// snaps runs the hot reads (hotQuery); nil without wal.
	snaps *snapshots
	path  string
	log   zerolog.Logger
	// logRet is the provisioning log retention (nil: the defaults).
	logRet atomic.Pointer[store.LogRetention]
}

var (
	_ store.State  = (*Store)(nil)
	_ store.Leases = (*Store)(nil)
	_ store.Runs   = (*Store)(nil)
	// GET /Users/{id} renders the stored document (mapping.UserDoc).
	_ store.UserDocs = (*Store)(nil)
)

// Open opens (creating if missing) the database file at path, creating its
// parent directories with mode 0700, enables WAL, and creates or migrates
// the schema. path is a plain file path ("data/axonflow-sync.db"); it must
// not contain '?'. logger receives open/migration events (zerolog.Nop() to
// discard). Errors: a failure to create the directory or open or migrate
// the file, wrapping store.ErrUnavailable when the file is locked or
// unreadable; a database with a newer schema than this build knows is an
// error too.
func Open(ctx context.Context, path string, logger zerolog.Logger) (*Store, error) {
	if path == "" || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("sqlitestore: invalid database path %q", path)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("sqlitestore: create data dir: %w", err)
		}
	}
	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(BusyTimeout.Milliseconds()))
	q.Set("_foreign_keys", "1")
	q.Set("_synchronous", "NORMAL")
	rq := q.Encode() + "&_query_only=1&_pragma=" + url.QueryEscape(fmt.Sprintf("mmap_size(%d)", ReadMmapSize))
	q.Set("_journal_mode", "WAL")
	q.Set("_txlock", "immediate")

	w, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	s := &Store{w: w, wst: newStmtCache(w), path: path, log: logger.With().Str("component", "sqlitestore").Str("path", path).Logger()}
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	// The readers open after the writer has switched the file to WAL.
	r, err := sql.Open("sqlite", path+"?"+rq)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	s.r, s.rst = r, newStmtCache(r)
	if err := s.openWALIndex(ctx, path+"?"+rq); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// openWALIndex opens the anchor connection, reads the database on it
// (which maps the -shm file in SQLite) and maps the WAL-index header
// (s.wal) for the caches. A header that cannot be mapped is logged and
// leaves the caches bypassed; only a failure to open the anchor is an
// error.
func (s *Store) openWALIndex(ctx context.Context, dsn string) error {
	adb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("sqlitestore: open %s: %w", s.path, err)
	}
	adb.SetMaxOpenConns(1)
	adb.SetMaxIdleConns(1)
	s.adb = adb
	if s.anchor, err = adb.Conn(ctx); err != nil {
		return s.fail("open", err)
	}
	var n int
	if err := s.anchor.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
		return s.fail("open", err)
	}
	s.wal, err = openWALIndex(s.path)
	if err != nil {
		s.log.Warn().Err(err).Msg("WAL-index not mapped: the token cache is off, every request reads its token")
	}
	s.tokens = newTokenCache(s.wal)
	s.cursors = newWALCache[pageKey, int64](s.wal, pageCursorsMax)
	if _, ok := s.wal.header(); ok {
		sdb, err := sql.Open("sqlite", dsn)
		if err != nil {
			return fmt.Errorf("sqlitestore: open %s: %w", s.path, err)
		}
		s.snaps = newSnapshots(s.wal, sdb, max(2, runtime.GOMAXPROCS(0)))
	}
	return nil
}

// hotQuery runs q on a snapshot connection (see snapshots), or on the
// read pool when there are none, and passes its rows to fn, which must
// not keep them. For the single-statement reads of every request.
func (s *Store) hotQuery(ctx context.Context, q string, args []any, fn func(*sql.Rows) error) error {
	if s.snaps != nil {
		return s.snaps.query(ctx, q, args, fn)
	}
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	return fn(rows)
}

// committed tells the snapshot connections that this Store committed
// (see snapshots.releaseIdle).
func (s *Store) committed() {
	if s.snaps != nil {
		s.snaps.releaseIdle(true)
	}
}

// Path returns the database file path given to Open.
func (s *Store) Path() string { return s.path }

// Ping checks that the file can be read. Errors wrap store.ErrUnavailable.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.queryRow(ctx, "SELECT 1").Scan(&one); err != nil {
		return s.fail("ping", err)
	}
	return nil
}

// Close closes every connection. Calls after Close fail with an error
// wrapping store.ErrUnavailable.
func (s *Store) Close() error {
	var errs []error
	if s.snaps != nil {
		errs = append(errs, s.snaps.close())
	}
	if s.anchor != nil {
		errs = append(errs, s.anchor.Close())
	}
	if s.adb != nil {
		errs = append(errs, s.adb.Close())
	}
	if s.r != nil {
		s.rst.close()
		errs = append(errs, s.r.Close())
	}
	s.wst.close()
	errs = append(errs, s.w.Close())
	if s.wal != nil {
		// After every connection of this Store: see walIndex.
		s.wal.release()
		s.wal = nil
	}
	return errors.Join(errs...)
}

// write runs fn in one BEGIN IMMEDIATE transaction on the writer
// connection and commits it; any error rolls everything back.
func (s *Store) write(ctx context.Context, op string, fn func(tx *txn) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.fail(op, err)
	}
	defer s.wst.preparePending(context.WithoutCancel(ctx))
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if err := fn(&txn{tx: tx, cache: s.wst}); err != nil {
		return s.fail(op, err)
	}
	if err := tx.Commit(); err != nil {
		return s.fail(op, err)
	}
	s.committed()
	return nil
}

// read runs fn in one read transaction (a consistent snapshot).
func (s *Store) read(ctx context.Context, op string, fn func(tx *txn) error) error {
	ctx = readCtx(ctx)
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return s.fail(op, err)
	}
	defer s.rst.preparePending(context.WithoutCancel(ctx))
	defer tx.Rollback() //nolint:errcheck // read-only
	if err := fn(&txn{tx: tx, cache: s.rst}); err != nil {
		return s.fail(op, err)
	}
	return nil
}

// fail returns err unchanged if it is one of the store's typed errors, and
// otherwise wraps it with the operation name and, for lock, I/O, closed
// database and context errors, store.ErrUnavailable.
func (s *Store) fail(op string, err error) error {
	var ce *store.ConflictError
	var ue *store.UnknownMembersError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrVersionMismatch), errors.Is(err, store.ErrLeaseLost),
		errors.Is(err, store.ErrUnavailable), errors.As(err, &ce), errors.As(err, &ue):
		return err
	case unavailable(err):
		if ctxErr := errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded); !ctxErr {
			s.log.Warn().Err(err).Str("op", op).Msg("store unavailable")
		}
		return fmt.Errorf("sqlitestore: %s: %w: %w", op, store.ErrUnavailable, err)
	}
	return fmt.Errorf("sqlitestore: %s: %w", op, err)
}

// unavailable reports whether err is a transient or environmental failure
// (lock timeout, I/O, disk full, closed database, cancelled context) rather
// than a bug or a data error.
func unavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) ||
		(err != nil && strings.Contains(err.Error(), "sql: database is closed")) {
		return true
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN,
		sqlite3.SQLITE_FULL, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_READONLY,
		sqlite3.SQLITE_INTERRUPT:
		return true
	}
	return false
}

// nanos is the stored form of a time: Unix nanoseconds (UTC), NULL for the
// zero time.
func nanos(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// fromNanos is the inverse of nanos.
func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

// nullString is the stored form of an optional string: NULL for "".
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// jsonList encodes ids as a JSON array for json_each(?).
func jsonList(ids []string) string {
	if ids == nil {
		ids = []string{}
	}
	b, _ := json.Marshal(ids) // []string cannot fail
	return string(b)
}

// rowsAffected returns the number of rows a statement changed.
func rowsAffected(res sql.Result) (int64, error) {
	return res.RowsAffected()
}
