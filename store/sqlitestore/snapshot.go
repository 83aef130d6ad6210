package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/axonflow/axonflow-sync/store"
)

// snapshotIdle is the longest a snapshot connection keeps one read
// transaction open (see snapshots.releaseIdle): whether or not the
// database changed meanwhile, for an open read transaction keeps another
// connection's wal_checkpoint(RESTART or TRUNCATE) waiting.
const snapshotIdle = time.Second

// snapshotQuiet is how long after a commit (seen or made) the snapshot
// connections run each statement in its own transaction instead of
// keeping one open: while writes go on, an open read transaction would
// keep the writer from restarting the WAL from its beginning (SQLite does
// that only when no reader uses it), and the WAL would grow.
const snapshotQuiet = 100 * time.Millisecond

// snapshots is a small set of read-only connections for the hot
// single-statement reads (GET by id, the indexed lookup). Each keeps its
// read transaction open from one read to the next for as long as nothing
// is committed to the file, and so skips what a transaction's start and
// end cost per statement: the WAL-index header's check and the
// shared-memory read lock (fcntl calls), the pager's refresh.
//
// It is safe because the WAL-index header (walIndex) is read before every
// statement and compared with the one read before the connection's
// transaction began: equal, nothing was committed since, by any
// connection of any process, so the transaction's snapshot is the current
// state; different (or unreadable), the transaction is ended and the
// statement runs in a new one.
//
// A read transaction left open while other connections commit would keep
// SQLite from checkpointing past its snapshot and from restarting the WAL
// (the WAL would grow), so transactions are kept open only once no commit
// has been seen for snapshotQuiet, the transactions of idle connections
// are ended after every commit of this Store (releaseIdle from write and
// exec) and, for another process's commits, at most snapshotIdle after
// the transaction began. No transaction is kept longer than
// snapshotIdle, so none keeps a checkpoint waiting for longer than that.
type snapshots struct {
	wal  *walIndex
	db   *sql.DB // query_only, one connection per snapConn
	free chan *snapConn
	// done is closed by close: queries waiting for a connection, and
	// every later one, fail with store.ErrUnavailable.
	done chan struct{}
	// timer is set while a release is scheduled (see scheduleRelease).
	timer  atomic.Bool
	closed atomic.Bool
	// changed is when a commit was last seen (time.Now().UnixNano()):
	// within snapshotQuiet of it, statements run in their own transaction
	// (see query).
	changed atomic.Int64
	// seen is the header at the last statement.
	seen atomic.Pointer[walHeader]
}

// snapConn is one connection of snapshots.
type snapConn struct {
	conn  *sql.Conn // nil until first use, and after an error
	stmts map[string]*sql.Stmt
	open  bool      // a read transaction is open
	hdr   walHeader // the header read before it began
	began int64     // when it began (time.Now().UnixNano())
}

func newSnapshots(wal *walIndex, db *sql.DB, n int) *snapshots {
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	sn := &snapshots{wal: wal, db: db, free: make(chan *snapConn, n), done: make(chan struct{})}
	for range n {
		sn.free <- &snapConn{}
	}
	return sn
}

// errSnapshotsClosed is what queries get after close.
var errSnapshotsClosed = fmt.Errorf("%w: sqlitestore: store closed", store.ErrUnavailable)

// query runs q on a snapshot connection and passes its rows to fn, which
// must not keep them; the rows are closed after fn. Waiting for a free
// connection ends with ctx (its error) and with close
// (store.ErrUnavailable); the statement itself runs without ctx's
// cancellation (see readCtx).
func (sn *snapshots) query(ctx context.Context, q string, args []any, fn func(*sql.Rows) error) error {
	var sc *snapConn
	select {
	case sc = <-sn.free:
	case <-ctx.Done():
		return ctx.Err()
	case <-sn.done:
		return errSnapshotsClosed
	}
	defer func() { sn.free <- sc }()
	if sn.closed.Load() {
		return errSnapshotsClosed
	}
	ctx = readCtx(ctx)
	h, ok := sn.wal.header()
	now := time.Now().UnixNano()
	if seen := sn.seen.Load(); !ok || seen == nil || h != *seen {
		sn.changed.Store(now)
		if ok {
			hh := h // only a change allocates
			sn.seen.Store(&hh)
		}
	}
	hold := ok && time.Duration(now-sn.changed.Load()) >= snapshotQuiet
	if sc.open && (!hold || h != sc.hdr || time.Duration(now-sc.began) >= snapshotIdle) {
		sc.end(ctx)
	}
	if sc.conn == nil {
		conn, err := sn.db.Conn(ctx)
		if err != nil {
			return err
		}
		sc.conn, sc.stmts = conn, map[string]*sql.Stmt{}
	}
	if !sc.open && hold {
		// The header is read before the transaction takes its snapshot:
		// the snapshot is at least as new as h.
		if _, err := sc.conn.ExecContext(ctx, "BEGIN"); err != nil {
			sc.drop()
			return err
		}
		sc.open, sc.hdr, sc.began = true, h, now
		sn.scheduleRelease()
	}
	st := sc.stmts[q]
	if st == nil {
		var err error
		if st, err = sc.conn.PrepareContext(ctx, q); err != nil {
			sc.drop()
			return err
		}
		sc.stmts[q] = st
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		sc.drop()
		return err
	}
	err = fn(rows)
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		sc.end(ctx)
	}
	return err
}

// end ends sc's read transaction, if any; on failure the connection is
// dropped.
func (sc *snapConn) end(ctx context.Context) {
	if !sc.open {
		return
	}
	sc.open = false
	if _, err := sc.conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		sc.drop()
	}
}

// drop closes sc's connection (a new one is opened at its next use).
func (sc *snapConn) drop() {
	if sc.conn == nil {
		return
	}
	for _, st := range sc.stmts {
		st.Close()
	}
	sc.conn.Close()
	sc.conn, sc.stmts, sc.open = nil, nil, false
}

// scheduleRelease makes releaseIdle run snapshotIdle/2 from now unless
// a run is already scheduled; it runs again every snapshotIdle/2 while a
// transaction is open, so none lives longer than about snapshotIdle.
func (sn *snapshots) scheduleRelease() {
	if sn.timer.CompareAndSwap(false, true) {
		time.AfterFunc(snapshotIdle/2, func() {
			sn.timer.Store(false)
			if sn.releaseIdle(false) {
				sn.scheduleRelease()
			}
		})
	}
}

// releaseIdle ends the read transactions of the connections not in use
// whose snapshot is no longer current or which began snapshotIdle/2 ago or
// more; with commit (this Store committed), it also notes the commit (see
// snapshotQuiet). busy reports whether a connection in use (or one still
// current and young) may keep one open.
func (sn *snapshots) releaseIdle(commit bool) (busy bool) {
	if sn.closed.Load() {
		return false
	}
	now := time.Now().UnixNano()
	if commit {
		sn.changed.Store(now)
	}
	h, ok := sn.wal.header()
	for range cap(sn.free) {
		select {
		case sc := <-sn.free:
			if sc.open && (!ok || h != sc.hdr || time.Duration(now-sc.began) >= snapshotIdle/2) {
				sc.end(context.Background())
			}
			busy = busy || sc.open
			sn.free <- sc
		default:
			busy = true
		}
	}
	return busy
}

// close closes every connection (once); no query may run any more.
func (sn *snapshots) close() error {
	if sn.closed.Swap(true) {
		return nil
	}
	close(sn.done)
	for range cap(sn.free) {
		sc := <-sn.free
		sc.end(context.Background())
		sc.drop()
	}
	return sn.db.Close()
}
