package console

import (
	"context"
	"strings"
	"time"

	"github.com/axonflow/axonflow-sync/config"
	"github.com/axonflow/axonflow-sync/internal/admin"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/sync"
)

// adminPlans is Plans over internal/admin's plan functions (the ones the
// admin API and the CLI call), on the reconciler of this process.
type adminPlans struct {
	rc  *admin.Reconciler
	st  store.State
	cfg *config.Config
}

func (p adminPlans) ListPlans(ctx context.Context, tenant string) ([]PlanView, error) {
	l, err := admin.ListPlans(ctx, p.rc.Runner(), tenant, "")
	if err != nil {
		return nil, err
	}
	out := make([]PlanView, len(l.Plans))
	for i, s := range l.Plans {
		out[i] = PlanView{ID: s.ID, Status: s.Status, RunID: s.RunID, CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt,
			Pending: s.Pending, Reason: s.Reason, Scheduled: s.Scheduled}
	}
	return out, nil
}

func (p adminPlans) GetPlan(ctx context.Context, tenant, id string) (PlanView, error) {
	hp, err := admin.GetPlan(ctx, p.rc.Runner(), tenant, id)
	if err != nil {
		return PlanView{}, err
	}
	return planView(hp), nil
}

func (p adminPlans) DecidePlan(ctx context.Context, tenant, id string, approve bool, items []string) (PlanView, error) {
	res, err := admin.DecidePlan(ctx, p.rc.Runner(), p.st, tenant, p.cfg.Tenants[tenant],
		admin.PlanDecision{PlanID: id, Items: items, Approve: approve})
	if err != nil {
		return PlanView{}, err
	}
	return planView(res.Plan), nil
}

// explainTimeout bounds the Okta reads of one explanation (a page view).
const explainTimeout = 10 * time.Second

// Explain is admin.Explain of the user, one line per step ("step: result
// (detail)"); none for a tenant without an Okta connection.
func (p adminPlans) Explain(ctx context.Context, tenant, userName string) ([]string, error) {
	tc, ok := p.cfg.Tenants[tenant]
	if !ok || tc.Okta == nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, explainTimeout)
	defer cancel()
	x, err := admin.Explain(ctx, p.rc.Runner(), tenant, tc, admin.ExplainQuery{User: userName})
	if err != nil {
		return nil, err
	}
	lines := make([]string, 0, len(x.Steps))
	for _, s := range x.Steps {
		l := strings.ReplaceAll(s.Step, "_", " ") + ": " + s.Result
		if s.Detail != "" {
			l += " (" + s.Detail + ")"
		}
		lines = append(lines, l)
	}
	return lines, nil
}

// planView converts a held plan.
func planView(hp *sync.HeldPlan) PlanView {
	v := PlanView{ID: hp.ID, Status: hp.Status, RunID: hp.RunID, CreatedAt: hp.CreatedAt, ExpiresAt: hp.ExpiresAt,
		Pending: hp.Pending, Reason: hp.Reason, Items: make([]PlanItemView, len(hp.Items))}
	for i, it := range hp.Items {
		v.Items[i] = PlanItemView{ID: it.ID, Action: string(it.Action), Kind: it.Kind, UserName: it.UserName,
			DisplayName: it.DisplayName, OktaID: it.OktaID, AxonflowID: it.AxonflowID, Reason: it.Reason, Status: it.Status,
			DecidedBy: it.DecidedBy, DecidedAt: it.DecidedAt, ApplyAfter: it.ApplyAfter, Detail: it.Detail}
		if it.Status == sync.ItemScheduled {
			v.Scheduled++
		}
	}
	return v
}
