package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/axonflow/axonflow-sync/store"
)

// now is the lease clock: the local clock of the host, which every process
// sharing the file reads.
var now = time.Now

// AcquireLease takes the lease name of tenant for owner until now+ttl if it
// is free or expired, or extends it if owner holds it already. acquired
// says whether owner holds it now; holder is the owner holding it (owner
// when acquired). Errors: ttl <= 0; lock or I/O failures (wrapping
// store.ErrUnavailable), after which nothing is known about the lease.
func (s *Store) AcquireLease(ctx context.Context, tenant, name, owner string, ttl time.Duration) (acquired bool, holder string, err error) {
	if ttl <= 0 {
		return false, "", fmt.Errorf("sqlitestore: acquire lease: ttl %v <= 0", ttl)
	}
	err = s.write(ctx, "acquire lease", func(tx *txn) error {
		t := now()
		var cur string
		var exp int64
		err := tx.QueryRowContext(ctx, qGetLease, tenant, name).Scan(&cur, &exp)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case cur != owner && exp > t.UnixNano():
			holder = cur
			return nil
		}
		_, err = tx.ExecContext(ctx, qPutLease,
			tenant, name, owner, t.Add(ttl).UnixNano())
		acquired, holder = err == nil, owner
		return err
	})
	if err != nil {
		return false, "", err
	}
	return acquired, holder, nil
}

// RenewLease extends owner's unexpired lease to now+ttl. Errors:
// store.ErrLeaseLost if owner does not hold it (expired, taken, released);
// ttl <= 0.
func (s *Store) RenewLease(ctx context.Context, tenant, name, owner string, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("sqlitestore: renew lease: ttl %v <= 0", ttl)
	}
	t := now()
	res, err := s.exec(ctx, qRenewLease,
		t.Add(ttl).UnixNano(), tenant, name, owner, t.UnixNano())
	if err != nil {
		return s.fail("renew lease", err)
	}
	if n, err := rowsAffected(res); err != nil {
		return s.fail("renew lease", err)
	} else if n == 0 {
		return store.ErrLeaseLost
	}
	return nil
}

// ReleaseLease frees the lease if owner holds it; otherwise it changes
// nothing and returns nil.
func (s *Store) ReleaseLease(ctx context.Context, tenant, name, owner string) error {
	if _, err := s.exec(ctx, qReleaseLease, tenant, name, owner); err != nil {
		return s.fail("release lease", err)
	}
	return nil
}

// SaveRun stores r in tenant (replacing a run with the same ID), then
// deletes the tenant's oldest runs (by StartedAt, ties by ID) beyond the
// newest keep, in one transaction. Errors: empty r.ID or keep < 1.
func (s *Store) SaveRun(ctx context.Context, tenant string, r store.RunRecord, keep int) error {
	if r.ID == "" {
		return errors.New("sqlitestore: save run: empty id")
	}
	if keep < 1 {
		return fmt.Errorf("sqlitestore: save run: keep %d < 1", keep)
	}
	data := r.Data
	if data == nil {
		data = []byte{}
	}
	return s.write(ctx, "save run", func(tx *txn) error {
		if _, err := tx.ExecContext(ctx, qPutRun,
			tenant, r.ID, nanos(r.StartedAt), data); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, qPruneRuns, tenant, keep)
		return err
	})
}

// ListRuns returns up to limit (<= 0: all) of the tenant's runs, newest
// StartedAt first (ties: greater ID first).
func (s *Store) ListRuns(ctx context.Context, tenant string, limit int) ([]store.RunRecord, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.query(ctx, qListRuns, tenant, limit)
	if err != nil {
		return nil, s.fail("list runs", err)
	}
	defer rows.Close()
	var rs []store.RunRecord
	for rows.Next() {
		var r store.RunRecord
		var st sql.NullInt64
		if err := rows.Scan(&r.ID, &st, &r.Data); err != nil {
			return nil, s.fail("list runs", err)
		}
		r.StartedAt = fromNanos(st)
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list runs", err)
	}
	return rs, nil
}

// GetRun returns the tenant's run id, or store.ErrNotFound.
func (s *Store) GetRun(ctx context.Context, tenant, id string) (store.RunRecord, error) {
	r := store.RunRecord{ID: id}
	var st sql.NullInt64
	err := s.queryRow(ctx, qGetRun, tenant, id).Scan(&st, &r.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return store.RunRecord{}, store.ErrNotFound
	}
	if err != nil {
		return store.RunRecord{}, s.fail("get run", err)
	}
	r.StartedAt = fromNanos(st)
	return r, nil
}
