package admin

import (
	"net/http"

	"github.com/axonflow/axonflow-sync/config"
)

// planRoutes registers the held plan and explain routes (called by
// ReconcileRoutes):
//
//	GET  /admin/v1/tenants/{tenant}/reconcile/plans[?status=S]     {"plans": [{id, status, runId, createdAt, expiresAt, items, pending, ...}]}
//	GET  /admin/v1/tenants/{tenant}/reconcile/plans/{id}           the plan with its items
//	POST /admin/v1/tenants/{tenant}/reconcile/plans/{id}/approve   body (optional) {"items": ["1", ...]}: {plan, decided, report}
//	POST /admin/v1/tenants/{tenant}/reconcile/plans/{id}/reject    body (optional) {"items": [...]}: {plan, decided}
//	GET  /admin/v1/tenants/{tenant}/reconcile/explain?user=|group= the decision about one user or group, step by step
func (a *API) planRoutes(rc *Reconciler, cfg *config.Config) {
	a.Handle("GET /admin/v1/tenants/{tenant}/reconcile/plans", func(r *http.Request) (int, any, error) {
		res, err := ListPlans(r.Context(), rc.runner, r.PathValue("tenant"), r.URL.Query().Get("status"))
		return http.StatusOK, res, err
	})
	a.Handle("GET /admin/v1/tenants/{tenant}/reconcile/plans/{id}", func(r *http.Request) (int, any, error) {
		p, err := GetPlan(r.Context(), rc.runner, r.PathValue("tenant"), r.PathValue("id"))
		return http.StatusOK, p, err
	})
	decide := func(approve bool) HandlerFunc {
		return func(r *http.Request) (int, any, error) {
			var body struct {
				Items []string `json:"items"`
			}
			if err := decode(r, &body); err != nil {
				return 0, nil, err
			}
			tenant := r.PathValue("tenant")
			res, err := DecidePlan(r.Context(), rc.runner, a.st, tenant, cfg.Tenants[tenant],
				PlanDecision{PlanID: r.PathValue("id"), Items: body.Items, Approve: approve})
			if err != nil {
				return 0, nil, err
			}
			return http.StatusOK, res, nil
		}
	}
	a.Handle("GET /admin/v1/tenants/{tenant}/reconcile/explain", func(r *http.Request) (int, any, error) {
		tenant := r.PathValue("tenant")
		x, err := Explain(r.Context(), rc.runner, tenant, cfg.Tenants[tenant],
			ExplainQuery{User: r.URL.Query().Get("user"), Group: r.URL.Query().Get("group")})
		return http.StatusOK, x, err
	})
	a.Handle("POST /admin/v1/tenants/{tenant}/reconcile/plans/{id}/approve", decide(true))
	a.Handle("POST /admin/v1/tenants/{tenant}/reconcile/plans/{id}/reject", decide(false))
}
