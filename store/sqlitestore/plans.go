package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/axonflow/axonflow-sync/store"
)

// CreatePlan stores p with version 1 and prunes the tenant's plans beyond
// the newest keep, in one transaction (see store.Plans).
func (s *Store) CreatePlan(ctx context.Context, tenant string, p store.PlanRecord, keep int) error {
	if p.ID == "" {
		return errors.New("sqlitestore: create plan: empty id")
	}
	if keep < 1 {
		return fmt.Errorf("sqlitestore: create plan: keep %d < 1", keep)
	}
	data := p.Data
	if data == nil {
		data = []byte{}
	}
	return s.write(ctx, "create plan", func(tx *txn) error {
		var one int
		err := tx.tx.QueryRowContext(ctx, qPlanExists, tenant, p.ID).Scan(&one)
		if err == nil {
			return &store.ConflictError{Attr: "id", Value: p.ID}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.ExecContext(ctx, qInsertPlan, tenant, p.ID, nanos(p.CreatedAt), data); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, qPrunePlans, tenant, keep)
		return err
	})
}

// UpdatePlan replaces a plan's data if its version is expectVersion (see
// store.Plans).
func (s *Store) UpdatePlan(ctx context.Context, tenant string, p store.PlanRecord, expectVersion int64) (int64, error) {
	var next int64
	err := s.write(ctx, "update plan", func(tx *txn) error {
		var v int64
		err := tx.tx.QueryRowContext(ctx, qPlanVersion, tenant, p.ID).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if v != expectVersion {
			return store.ErrVersionMismatch
		}
		next = v + 1
		_, err = tx.ExecContext(ctx, qUpdatePlan, p.Data, next, tenant, p.ID)
		return err
	})
	return next, err
}

// ListPlans returns up to limit (<= 0: all) plans, newest first.
func (s *Store) ListPlans(ctx context.Context, tenant string, limit int) ([]store.PlanRecord, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.query(ctx, qListPlans, tenant, limit)
	if err != nil {
		return nil, s.fail("list plans", err)
	}
	defer rows.Close()
	out := []store.PlanRecord{}
	for rows.Next() {
		var p store.PlanRecord
		var at sql.NullInt64
		if err := rows.Scan(&p.ID, &at, &p.Version, &p.Data); err != nil {
			return nil, s.fail("list plans", err)
		}
		p.CreatedAt = fromNanos(at)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list plans", err)
	}
	return out, nil
}

// GetPlan returns one plan or store.ErrNotFound.
func (s *Store) GetPlan(ctx context.Context, tenant, id string) (store.PlanRecord, error) {
	p := store.PlanRecord{ID: id}
	var at sql.NullInt64
	err := s.queryRow(ctx, qGetPlan, tenant, id).Scan(&at, &p.Version, &p.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return store.PlanRecord{}, store.ErrNotFound
	}
	if err != nil {
		return store.PlanRecord{}, s.fail("get plan", err)
	}
	p.CreatedAt = fromNanos(at)
	return p, nil
}
