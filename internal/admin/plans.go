package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/axonflow/axonflow-sync/config"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/sync"
	"github.com/axonflow/axonflow-sync/sync/oktasource"
)

// Held reconcile plans as the CLI (`axonflow-sync reconcile plans | plan |
// approve | reject`), the admin API (routes in plansapi.go) and the review
// console share them. No HTTP here. The operator of a decision is the one
// WithOperator put in ctx ("cli:<user>", "admin-api", the console's
// principal); it is recorded in the plan (decidedBy) and in the tenant's
// provisioning log (operations approve_correction, reject_correction).

// PlanSummary is one plan in a listing: {id, status, runId, createdAt,
// expiresAt, items, pending} (items: how many items the plan has).
type PlanSummary struct {
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	RunID     string    `json:"runId"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	Items     int       `json:"items"`
	Pending   int       `json:"pending"`
	// Scheduled counts the deactivations waiting for their grace.
	Scheduled int `json:"scheduled"`
	// Reason says why the run held or scheduled corrections.
	Reason string `json:"reason"`
}

// PlanList is the answer of ListPlans: {"plans": [...]}, newest first.
type PlanList struct {
	Plans []PlanSummary `json:"plans"`
}

// ListPlans returns tenant's stored plans, newest first; status, if not
// "", keeps only plans in that status (sync.PlanStatuses: pending,
// approved, scheduled, expired, done). Errors: *APIError invalid_request
// (a bad tenant id or status), the store's.
func ListPlans(ctx context.Context, rn *sync.Runner, tenant, status string) (PlanList, error) {
	if err := CheckTenantID(tenant); err != nil {
		return PlanList{}, err
	}
	if status != "" && !slices.Contains(sync.PlanStatuses, status) {
		return PlanList{}, Invalid(fmt.Sprintf("status must be one of %s; got %s", strings.Join(sync.PlanStatuses, ", "), quote(status)))
	}
	ps, err := rn.ListPlans(ctx, tenant, status)
	if err != nil {
		return PlanList{}, err
	}
	out := PlanList{Plans: make([]PlanSummary, 0, len(ps))}
	for _, p := range ps {
		s := PlanSummary{ID: p.ID, Status: p.Status, RunID: p.RunID, CreatedAt: p.CreatedAt, ExpiresAt: p.ExpiresAt,
			Items: len(p.Items), Pending: p.Pending, Reason: p.Reason}
		for _, it := range p.Items {
			if it.Status == sync.ItemScheduled {
				s.Scheduled++
			}
		}
		out.Plans = append(out.Plans, s)
	}
	return out, nil
}

// GetPlan returns one plan of tenant with its items ({id, status, runId,
// createdAt, expiresAt, reason, items: [...], pending}; see sync.PlanItem
// for an item's fields). Errors: *APIError invalid_request (bad tenant
// id), not_found (no such plan), the store's.
func GetPlan(ctx context.Context, rn *sync.Runner, tenant, id string) (*sync.HeldPlan, error) {
	if err := CheckTenantID(tenant); err != nil {
		return nil, err
	}
	p, err := rn.GetPlan(ctx, tenant, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, planNotFound(tenant, id)
	}
	return p, err
}

func planNotFound(tenant, id string) error {
	return &APIError{Status: http.StatusNotFound, Code: CodeNotFound,
		Message: fmt.Sprintf("tenant %s has no reconcile plan %s (the newest %d plans are kept)", tenant, quote(id), store.DefaultKeepPlans)}
}

// PlanDecision is what DecidePlan is asked: approve or reject items of
// one plan.
type PlanDecision struct {
	PlanID string
	// Items are item ids; none means every pending item (reject: and every
	// scheduled deactivation, cancelling it).
	Items []string
	// Approve approves (true) or rejects (false).
	Approve bool
}

// DecisionResult is the answer of DecidePlan: {plan, decided, report}.
type DecisionResult struct {
	// Plan is the plan afterwards (after the run that applied approved
	// items).
	Plan *sync.HeldPlan `json:"plan"`
	// Decided are the item ids decided.
	Decided []string `json:"decided"`
	// Report is the report of the run that applied approved items (absent
	// for a rejection).
	Report *sync.Report `json:"report,omitempty"`
}

// DecidePlan approves or rejects items of a held plan of tenant
// (sync.Runner.Decide) as the operator in ctx (WithOperator), and records
// each decided item in the tenant's provisioning log (actor operator,
// operation approve_correction or reject_correction). Approving runs a
// correcting run under the tenant's lease with tc's Okta connection: it
// re-reads Okta and the store and applies the approved items that still
// hold (the others become stale). Errors (*APIError): invalid_request (bad
// tenant id, unknown item ids, approving without an Okta connection),
// not_found (no such plan), conflict (expired plan, items not pending or
// scheduled, or another run holds the lease: the items are then approved
// and the next run applies them); a failed or incomplete approval run is
// returned with the result (the items say what happened).
func DecidePlan(ctx context.Context, rn *sync.Runner, st store.State, tenant string, tc config.TenantConfig, d PlanDecision) (*DecisionResult, error) {
	if err := CheckTenantID(tenant); err != nil {
		return nil, err
	}
	var run sync.RunOptions
	if d.Approve {
		var err error
		if run, err = ReconcileOptions(tenant, tc, ReconcileRequest{Mode: string(sync.ModeCorrect), Trigger: sync.TriggerApproval}); err != nil {
			return nil, err
		}
	}
	for _, id := range d.Items {
		if strings.TrimSpace(id) == "" {
			return nil, Invalid("item ids must not be empty")
		}
	}
	dec, err := rn.Decide(ctx, tenant, sync.DecideOptions{PlanID: d.PlanID, Items: d.Items, Approve: d.Approve,
		Operator: OperatorOf(ctx), Run: run})
	var pe *sync.PlanError
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, planNotFound(tenant, d.PlanID)
	case errors.As(err, &pe) && pe.Conflict:
		return nil, &APIError{Status: http.StatusConflict, Code: CodeConflict, Message: pe.Msg}
	case errors.As(err, &pe):
		return nil, Invalid(pe.Msg)
	case err != nil:
		return nil, err
	}
	op := "reject_correction"
	if d.Approve {
		op = "approve_correction"
	}
	for _, id := range dec.Items {
		it := dec.Plan.Item(id)
		if it == nil {
			continue
		}
		rt, name := "User", it.UserName
		if it.Kind == "group" || it.Kind == "membership" {
			rt, name = "Group", it.DisplayName
		}
		detail := fmt.Sprintf("plan %s item %s: %s", dec.Plan.ID, id, it.Action)
		if it.Kind == "membership" {
			detail += " of " + it.UserName
		}
		if !d.Approve && it.Status == sync.ItemCancelled {
			detail += " (scheduled deactivation cancelled)"
		}
		recordOperator(ctx, st, tenant, store.LogEntry{ResourceType: rt, ResourceID: it.AxonflowID, Name: name,
			Operation: op, Detail: detail})
	}
	res := &DecisionResult{Plan: dec.Plan, Decided: dec.Items, Report: dec.Report}
	var busy *sync.BusyError
	if errors.As(dec.RunErr, &busy) {
		return res, &APIError{Status: http.StatusConflict, Code: CodeConflict, Message: fmt.Sprintf(
			"items %s approved, not applied yet: %s; the next run of the tenant applies them", strings.Join(dec.Items, ", "), busy.Error())}
	}
	return res, nil
}

// ExplainQuery names the object Explain explains: one of User (a userName,
// i.e. the Okta login) or Group (a group name).
type ExplainQuery struct {
	User  string
	Group string
}

// Explain reads one user or group from the tenant's Okta org (by login, or
// by name) and from the store, and returns every step of the reconciler's
// decision about it (sync.Runner.Explain): Okta's statuses, assignment
// and scope, group memberships, whether the user should have access and
// why, the matching rule, the drift, the correction, and what holds it.
// It changes nothing. Errors (*APIError): invalid_request (bad tenant id,
// not exactly one of user and group, a tenant without an Okta
// connection); Okta read failures and the store's.
func Explain(ctx context.Context, rn *sync.Runner, tenant string, tc config.TenantConfig, q ExplainQuery) (*sync.Explanation, error) {
	if err := CheckTenantID(tenant); err != nil {
		return nil, err
	}
	q.User, q.Group = strings.TrimSpace(q.User), strings.TrimSpace(q.Group)
	if (q.User == "") == (q.Group == "") {
		return nil, Invalid("give exactly one of user and group")
	}
	run, err := ReconcileOptions(tenant, tc, ReconcileRequest{Mode: string(sync.ModeReport)})
	if err != nil {
		return nil, err
	}
	x, err := rn.Explain(ctx, sync.ExplainOptions{Run: run, User: q.User, Group: q.Group})
	if err != nil {
		var ie *oktasource.IncompleteError
		if errors.As(err, &ie) {
			return nil, &APIError{Status: http.StatusBadGateway, Code: CodeInternal, Message: "reading Okta: " + ie.Error()}
		}
		return nil, err
	}
	return x, nil
}
