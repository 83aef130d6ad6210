package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/axonflow/axonflow-sync/config"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/sync"
)

// maxRunsListed caps ?limit= of the runs listing.
const maxRunsListed = 100

// ReconcileRoutes registers the reconcile routes of rc on the API; runs
// are started under ctx (serve's context: SIGTERM stops them before their
// next write), with the tenants' settings in cfg:
//
//	POST /admin/v1/tenants/{tenant}/reconcile          start a run: 202 {tenant, runId, mode, status, report}; 409 while another run holds the lease
//	     body (optional): {"mode": "report"|"correct", "maxChanges": N, "maxChangePercent": P}; mode defaults to report
//	GET  /admin/v1/tenants/{tenant}/reconcile/runs     stored reports, newest first: {runs: [...]} (?limit=, default 20, max 100)
//	GET  /admin/v1/tenants/{tenant}/reconcile/runs/{id}  one report; 202 {runId, status: "running"} while it runs on this replica
//
// and the held plan and explain routes (see planRoutes).
func (a *API) ReconcileRoutes(ctx context.Context, rc *Reconciler, cfg *config.Config) {
	a.planRoutes(rc, cfg)
	a.Handle("POST /admin/v1/tenants/{tenant}/reconcile", func(r *http.Request) (int, any, error) {
		tenant := r.PathValue("tenant")
		if err := CheckTenantID(tenant); err != nil {
			return 0, nil, err
		}
		tc, ok := cfg.Tenants[tenant]
		if !ok || tc.Okta == nil {
			return 0, nil, NoOktaConnection(tenant)
		}
		var body struct {
			Mode             string `json:"mode"`
			MaxChanges       *int   `json:"maxChanges"`
			MaxChangePercent *int   `json:"maxChangePercent"`
		}
		if err := decode(r, &body); err != nil { // an empty body (also chunked) asks for the defaults
			return 0, nil, err
		}
		opts, err := ReconcileOptions(tenant, tc, ReconcileRequest{Mode: body.Mode, Trigger: sync.TriggerAPI,
			MaxChanges: body.MaxChanges, MaxChangePercent: body.MaxChangePercent})
		if err != nil {
			return 0, nil, err
		}
		run, err := rc.Start(ctx, opts)
		var busy *sync.BusyError
		switch {
		case errors.As(err, &busy):
			return 0, nil, &APIError{Status: http.StatusConflict, Code: CodeConflict, Message: busy.Error()}
		case err != nil:
			return 0, nil, err
		}
		return http.StatusAccepted, map[string]any{"tenant": tenant, "runId": run.ID, "mode": opts.Mode,
			"status": "running", "report": "/admin/v1/tenants/" + tenant + "/reconcile/runs/" + run.ID}, nil
	})
	a.Handle("GET /admin/v1/tenants/{tenant}/reconcile/runs", func(r *http.Request) (int, any, error) {
		tenant := r.PathValue("tenant")
		if err := CheckTenantID(tenant); err != nil {
			return 0, nil, err
		}
		limit := 20
		if v := r.URL.Query().Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxRunsListed {
				return 0, nil, Invalid(fmt.Sprintf("limit must be between 1 and %d", maxRunsListed))
			}
			limit = n
		}
		runs, err := rc.ListRuns(r.Context(), tenant, limit)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, map[string]any{"runs": runs}, nil
	})
	a.Handle("GET /admin/v1/tenants/{tenant}/reconcile/runs/{id}", func(r *http.Request) (int, any, error) {
		tenant, id := r.PathValue("tenant"), r.PathValue("id")
		if err := CheckTenantID(tenant); err != nil {
			return 0, nil, err
		}
		rep, err := rc.GetRun(r.Context(), tenant, id)
		if errors.Is(err, store.ErrNotFound) {
			if rc.Running(tenant, id) {
				return http.StatusAccepted, map[string]any{"tenant": tenant, "runId": id, "status": "running"}, nil
			}
			return 0, nil, &APIError{Status: http.StatusNotFound, Code: CodeNotFound,
				Message: fmt.Sprintf("tenant %s has no stored run %s (reports are stored when a run finishes; the newest %d are kept)",
					tenant, id, sync.DefaultKeepRuns)}
		}
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, rep, nil
	})
}
