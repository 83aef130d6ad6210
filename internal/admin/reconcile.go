package admin

import (
	"context"
	"fmt"
	"net/http"
	gosync "sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/config"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/sync"
)

// Reconciliation as the CLI (`axonflow-sync reconcile`) and the admin API
// (POST /admin/v1/tenants/{tenant}/reconcile, routes in reconcileapi.go)
// share it: the run options one request asks for, and the reconcile
// machinery inside serve. No HTTP here.

// ReconcileRequest is what one reconcile run is asked for, beyond the
// tenant's configuration: the CLI's flags or the API's request body.
type ReconcileRequest struct {
	// Mode is "report", "correct", or "" for report.
	Mode string
	// Trigger is sync.TriggerCLI or sync.TriggerAPI.
	Trigger string
	// MaxChanges, if not nil, overrides reconcile.maxChanges (>= 0).
	MaxChanges *int
	// MaxChangePercent, if not nil, overrides reconcile.maxChangePercent
	// (0..100).
	MaxChangePercent *int
}

// ReconcileOptions returns the run options of tenant from its
// configuration block tc and the request r. Errors are *APIError
// invalid_request: the tenant has no okta block or a bad reconcile mode
// (sync.OptionsFromConfig's message), a bad r.Mode, r.MaxChanges < 0,
// r.MaxChangePercent outside 0..100.
func ReconcileOptions(tenant string, tc config.TenantConfig, r ReconcileRequest) (sync.RunOptions, error) {
	if tc.Okta == nil {
		return sync.RunOptions{}, NoOktaConnection(tenant)
	}
	opts, err := sync.OptionsFromConfig(tenant, tc)
	if err != nil {
		return sync.RunOptions{}, Invalid(err.Error())
	}
	if opts.Mode, err = sync.ParseMode(r.Mode); err != nil {
		return sync.RunOptions{}, Invalid(err.Error())
	}
	opts.Trigger = r.Trigger
	if p := r.MaxChanges; p != nil {
		if *p < 0 {
			return sync.RunOptions{}, Invalid("maxChanges must be >= 0")
		}
		opts.Limits.MaxChanges = *p
	}
	if p := r.MaxChangePercent; p != nil {
		if *p < 0 || *p > 100 {
			return sync.RunOptions{}, Invalid("maxChangePercent must be between 0 and 100")
		}
		opts.Limits.MaxChangePercent = *p
	}
	return opts, nil
}

// NoOktaConnection is the 404 (code notFound) of a reconcile, plan or
// explain request for a tenant that is not configured or has no okta block:
// there is nothing to reconcile against.
func NoOktaConnection(tenant string) *APIError {
	return &APIError{Status: http.StatusNotFound, Code: CodeNotFound,
		Message: fmt.Sprintf("tenant %s has no Okta connection configured (tenants.%s.okta)", tenant, tenant)}
}

// Reconciler is the reconcile machinery inside serve: the runner (its
// metrics on the process registry), the per-tenant cron schedules, and the
// runs started through the API that are still in progress on this replica.
// It is safe for concurrent use.
type Reconciler struct {
	runner *sync.Runner
	sched  *sync.Scheduler

	mu      gosync.Mutex
	running map[string]string // run id → tenant, runs started through Start still in progress
}

// StartReconciler registers the reconcile metrics on reg, schedules every
// tenant whose configuration has reconcile.schedule (in its configured
// mode) and starts the schedules. Errors: a tenant's settings cannot be
// turned into run options, or the metrics are already registered.
func StartReconciler(cfg *config.Config, st store.State, reg prometheus.Registerer, log zerolog.Logger) (*Reconciler, error) {
	m, err := sync.NewMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("reconcile metrics: %w", err)
	}
	rlog := log.With().Str("component", "reconcile").Logger()
	rc := &Reconciler{runner: sync.NewRunner(sync.RunnerOptions{Store: st, Logger: rlog, Metrics: m, RunGCPercent: sync.RunGCPercent}),
		running: map[string]string{}}
	rc.sched = sync.NewScheduler(rc.runner, rlog)
	for _, id := range cfg.TenantIDs() {
		tc := cfg.Tenants[id]
		if tc.Reconcile.Schedule == "" {
			continue
		}
		opts, err := sync.OptionsFromConfig(id, tc)
		if err != nil {
			return nil, err
		}
		if err := rc.sched.Add(tc.Reconcile.Schedule, opts); err != nil {
			return nil, err
		}
	}
	rc.sched.Start()
	return rc, nil
}

// Stop stops the schedules and waits (until ctx ends) for the runs in
// progress, which stop before their next write once the context they were
// started under is canceled. Errors: ctx ended first.
func (rc *Reconciler) Stop(ctx context.Context) error {
	if err := rc.sched.Stop(ctx); err != nil {
		return err
	}
	return rc.runner.Wait(ctx)
}

// Start starts a run of opts.Tenant in the background under ctx (see
// sync.Runner.Start: a *sync.BusyError while another run holds the
// tenant's lease) and remembers it as running until it finishes.
func (rc *Reconciler) Start(ctx context.Context, opts sync.RunOptions) (*sync.Run, error) {
	run, err := rc.runner.Start(ctx, opts)
	if err != nil {
		return nil, err
	}
	rc.mu.Lock()
	rc.running[run.ID] = opts.Tenant
	rc.mu.Unlock()
	go func() {
		<-run.Done()
		rc.mu.Lock()
		delete(rc.running, run.ID)
		rc.mu.Unlock()
	}()
	return run, nil
}

// Running reports whether run id of tenant was started by Start on this
// replica and is still in progress.
func (rc *Reconciler) Running(tenant, id string) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	t, ok := rc.running[id]
	return ok && t == tenant
}

// ListRuns returns tenant's stored reports, newest first, at most limit
// (sync.Runner.ListRuns). Errors are the store's.
func (rc *Reconciler) ListRuns(ctx context.Context, tenant string, limit int) ([]*sync.Report, error) {
	return rc.runner.ListRuns(ctx, tenant, limit)
}

// GetRun returns tenant's stored report id (sync.Runner.GetRun):
// store.ErrNotFound if there is none (yet). Errors are the store's.
func (rc *Reconciler) GetRun(ctx context.Context, tenant, id string) (*sync.Report, error) {
	return rc.runner.GetRun(ctx, tenant, id)
}

// Runner returns the runner of serve's reconcile machinery, for the plan
// functions (ListPlans, GetPlan, DecidePlan) shared with the review
// console.
func (rc *Reconciler) Runner() *sync.Runner { return rc.runner }
