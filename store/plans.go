package store

import (
	"context"
	"time"
)

// PlanRecord is one stored reconcile plan: a run's corrections held for
// an operator's decision. Data is the plan's JSON as the reconciler
// produced it (package sync); the store treats it as opaque bytes.
type PlanRecord struct {
	ID        string
	CreatedAt time.Time
	// Version is set by the store: 1 on CreatePlan, +1 on every UpdatePlan.
	Version int64
	Data    []byte
}

// DefaultKeepPlans is how many plans per tenant the reconciler keeps.
const DefaultKeepPlans = 100

// Plans keeps the held reconcile plans of each tenant, with optimistic
// versioning so that two operators (or replicas) deciding items of one
// plan at once never lose a decision.
type Plans interface {
	// CreatePlan stores p (its Version becomes 1) in tenant, then deletes
	// the tenant's oldest plans (by CreatedAt, ties by ID) so that at most
	// keep (>= 1) remain, in one atomic change. An existing id is a
	// *ConflictError (Attr "id"); p.ID must not be empty.
	CreatePlan(ctx context.Context, tenant string, p PlanRecord, keep int) error
	// UpdatePlan replaces the Data of plan p.ID if its stored version is
	// expectVersion, and returns the new version (expectVersion+1).
	// Errors: ErrNotFound, ErrVersionMismatch.
	UpdatePlan(ctx context.Context, tenant string, p PlanRecord, expectVersion int64) (int64, error)
	// ListPlans returns up to limit (<= 0: all) of the tenant's plans,
	// newest CreatedAt first (ties: greater ID first).
	ListPlans(ctx context.Context, tenant string, limit int) ([]PlanRecord, error)
	// GetPlan returns one plan of the tenant or ErrNotFound.
	GetPlan(ctx context.Context, tenant, id string) (PlanRecord, error)
}
