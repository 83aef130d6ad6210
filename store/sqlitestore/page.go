package sqlitestore

import (
	"context"
	"database/sql"

	"github.com/axonflow/axonflow-sync/store"
)

// pageCursorsMax bounds the page cursors kept (see pageCursors).
const pageCursorsMax = 10000

// pageKey names a list page by where it starts: the tenant's users or
// groups from a 0-based offset.
type pageKey struct {
	tenant string
	groups bool
	offset int
}

// pageCursors remembers, for the offset where each page served ended, the
// seq of the page's last record, as long as nothing was committed since
// (walCache): the next page of a client reading page after page starts
// right after that seq, a search of the (tenant, seq) index, instead of
// counting offset index entries from the tenant's first record (OFFSET,
// whose cost grows with the offset: 5–8 ms for the last page of 100,000
// users). Any commit, by any process, forgets them all, so a page is
// always the one OFFSET would return.
type pageCursors = walCache[pageKey, int64]

// listPage is ListUsers and ListGroups: the total from qCount, then up to
// limit records from k.offset, read with qAfter (arguments tenant, limit,
// seq) from the cursor of the page that ended there if nothing was
// committed since, else with qList (tenant, limit, offset); both return the
// record's columns then its seq. The page's own end is remembered.
func listPage[T any](ctx context.Context, s *Store, op string, k pageKey, limit int, qCount, qList, qAfter string,
	scan func(interface{ Scan(...any) error }) (T, error)) (store.Page[T], error) {
	after, hit, ver, cacheable := s.cursors.get(k)
	var p store.Page[T]
	var last int64
	read := func(tx *txn) error {
		p = store.Page[T]{}
		if err := tx.QueryRowContext(ctx, qCount, k.tenant).Scan(&p.Total); err != nil {
			return err
		}
		if limit <= 0 || k.offset >= p.Total {
			return nil
		}
		var rows *sql.Rows
		var err error
		if hit {
			rows, err = tx.QueryContext(ctx, qAfter, k.tenant, limit, after)
		} else {
			rows, err = tx.QueryContext(ctx, qList, k.tenant, limit, max(k.offset, 0))
		}
		if err != nil {
			return err
		}
		defer rows.Close()
		p.Items = make([]T, 0, min(limit, p.Total))
		row := withSeq{rows: rows, seq: &last}
		for rows.Next() {
			v, err := scan(row)
			if err != nil {
				return err
			}
			p.Items = append(p.Items, v)
		}
		return rows.Err()
	}
	err := s.read(ctx, op, read)
	if err == nil && hit && !s.cursors.current(ver) {
		// A commit came between the header's read and the snapshot's
		// start: the cursor may not be where OFFSET is in the snapshot.
		hit, cacheable = false, false
		err = s.read(ctx, op, read)
	}
	if err == nil && cacheable && len(p.Items) > 0 {
		s.cursors.put(pageKey{tenant: k.tenant, groups: k.groups, offset: k.offset + len(p.Items)}, last, ver)
	}
	return p, err
}

// withSeq scans a row whose last column is a seq into seq, the others into
// what Scan is given.
type withSeq struct {
	rows *sql.Rows
	seq  *int64
}

// Scan implements the scanner scanUser and scanGroup take.
func (w withSeq) Scan(dest ...any) error { return w.rows.Scan(append(dest, w.seq)...) }
