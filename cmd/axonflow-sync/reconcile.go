package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os/signal"
	"slices"
	"strconv"
	gosync "sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/config"
	"github.com/axonflow/axonflow-sync/internal/admin"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/sync"
)

// Exit codes of reconcile --detailed-exitcode.
const (
	exitNoDrift = 0 // the run completed and no drift remains
	exitError   = 1 // the run failed: configuration, incomplete read, busy tenant, failed corrections
	exitDrift   = 2 // the run completed and drift remains (report mode, refused or partial correction)
)

// reconcile runs one reconciliation of a tenant against its Okta org and
// prints the report (table or JSON) on stdout.
func (e env) reconcile(ctx context.Context, args []string) int {
	detailed := slices.ContainsFunc(args, func(a string) bool {
		return a == "--detailed-exitcode" || a == "-detailed-exitcode" || a == "--detailed-exitcode=true"
	})
	usageErr := exitConfig
	if detailed {
		usageErr = exitError // 2 means "drift remains" there
	}
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	tenant := fs.String("tenant", "", "tenant id (configured under tenants.<id> with an okta block)")
	modeFlag := fs.String("mode", string(sync.ModeReport), "report (change nothing) or correct (apply the corrections the guards allow)")
	output := fs.String("output", "table", "table or json")
	fs.Bool("detailed-exitcode", false, "exit 0 when no drift remains, 2 when drift remains, 1 on any error")
	maxChanges := fs.Int("max-changes", -1, "override reconcile.maxChanges for this run (corrections)")
	maxPercent := fs.Int("max-change-percent", -1, "override reconcile.maxChangePercent for this run (0..100)")
	cfg, ok := e.parse(fs, args)
	if !ok {
		return usageErr
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(e.stderr, "axonflow-sync reconcile: "+format+"\n", a...)
		return usageErr
	}
	switch {
	case fs.NArg() > 0:
		return fail("unexpected argument %q", fs.Arg(0))
	case admin.CheckTenantID(*tenant) != nil:
		return fail("--tenant: %v", admin.CheckTenantID(*tenant))
	case *output != "table" && *output != "json":
		return fail("--output must be table or json")
	case *maxPercent > 100:
		return fail("--max-change-percent must be between 0 and 100")
	}
	mode, err := sync.ParseMode(*modeFlag)
	if err != nil {
		return fail("--%v", err)
	}
	tc, ok := cfg.Tenants[*tenant]
	if !ok {
		return fail("tenant %s is not configured: add tenants.%s.okta to the YAML configuration (--config)", *tenant, *tenant)
	}
	opts, err := sync.OptionsFromConfig(*tenant, tc)
	if err != nil {
		return fail("%v", err)
	}
	opts.Mode, opts.Trigger = mode, sync.TriggerCLI
	if *maxChanges >= 0 {
		opts.Limits.MaxChanges = *maxChanges
	}
	if *maxPercent >= 0 {
		opts.Limits.MaxChangePercent = *maxPercent
	}

	log := newLogger(cfg, e.stderr)
	if cfg.Source["log.level"] == "default" {
		log = log.Level(zerolog.WarnLevel) // the report is the output; logs only for problems
	}
	// Ctrl-C or SIGTERM stops the run before its next write.
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	st, _, err := openStore(openCtx, cfg, log)
	cancel()
	if err != nil {
		fmt.Fprintf(e.stderr, "axonflow-sync reconcile: %v\n", err)
		return exitError
	}
	defer st.Close()

	runner := sync.NewRunner(sync.RunnerOptions{Store: st, Logger: log})
	rep, err := runner.Run(ctx, opts)
	if rep == nil {
		fmt.Fprintf(e.stderr, "axonflow-sync reconcile: %v\n", err)
		return exitError
	}
	if *output == "json" {
		_, _ = e.stdout.Write(rep.JSON())
	} else {
		_ = rep.WriteTable(e.stdout)
	}
	failed := 0
	for _, a := range rep.Applied {
		if a.Result != sync.ResultOK {
			failed++
		}
	}
	switch {
	case err != nil:
		msg := err.Error()
		if errors.Is(err, sync.ErrIncomplete) {
			msg = "the read did not complete; nothing was compared or changed: " + rep.IncompleteReason
		}
		fmt.Fprintf(e.stderr, "axonflow-sync reconcile: %s\n", msg)
		return exitError
	case failed > 0:
		fmt.Fprintf(e.stderr, "axonflow-sync reconcile: %d of %d corrections failed (see the report)\n", failed, len(rep.Applied))
		return exitError
	}
	for _, r := range rep.Refused {
		if mode == sync.ModeCorrect {
			fmt.Fprintf(e.stderr, "axonflow-sync reconcile: refused (%s): %s\n", r.Guard, r.Reason)
		}
	}
	if detailed && rep.Remaining() > 0 {
		return exitDrift
	}
	return exitNoDrift
}

// reconciler is the reconcile machinery inside serve: metrics on the
// process registry, the per-tenant cron schedules, and the admin API routes
// for one-off runs and run history.
type reconciler struct {
	runner *sync.Runner
	sched  *sync.Scheduler

	mu      gosync.Mutex
	running map[string]string // run id → tenant, runs started through the API still in progress
}

// startReconciler registers the reconcile metrics on reg, schedules every
// tenant whose configuration has reconcile.schedule (in its configured
// mode), starts the schedules and registers the reconcile routes on api.
// Runs are started under ctx (serve's context: SIGTERM stops them before
// their next write). Errors: a tenant's settings cannot be turned into run
// options, or the metrics are already registered.
func startReconciler(ctx context.Context, cfg *config.Config, st store.State, reg prometheus.Registerer,
	api *admin.API, log zerolog.Logger) (*reconciler, error) {
	m, err := sync.NewMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("reconcile metrics: %w", err)
	}
	rlog := log.With().Str("component", "reconcile").Logger()
	rc := &reconciler{runner: sync.NewRunner(sync.RunnerOptions{Store: st, Logger: rlog, Metrics: m}),
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
	rc.routes(ctx, api, cfg)
	return rc, nil
}

// stop stops the schedules and waits (until ctx ends) for the runs in
// progress, which stop before their next write once serve's context is
// canceled.
func (rc *reconciler) stop(ctx context.Context) error {
	if err := rc.sched.Stop(ctx); err != nil {
		return err
	}
	return rc.runner.Wait(ctx)
}

// maxRunsListed caps ?limit= of the runs listing.
const maxRunsListed = 100

// routes registers, on the admin API (Bearer $AXONFLOW_SYNC_ADMIN_TOKEN):
//
//	POST /admin/v1/tenants/{tenant}/reconcile          start a run: 202 {tenant, runId, mode, status, report}; 409 while another run holds the lease
//	     body (optional): {"mode": "report"|"correct", "maxChanges": N, "maxChangePercent": P}; mode defaults to report
//	GET  /admin/v1/tenants/{tenant}/reconcile/runs     stored reports, newest first: {runs: [...]} (?limit=, default 20, max 100)
//	GET  /admin/v1/tenants/{tenant}/reconcile/runs/{id}  one report; 202 {runId, status: "running"} while it runs on this replica
func (rc *reconciler) routes(ctx context.Context, api *admin.API, cfg *config.Config) {
	api.Handle("POST /admin/v1/tenants/{tenant}/reconcile", func(r *http.Request) (int, any, error) {
		tenant := r.PathValue("tenant")
		if err := admin.CheckTenantID(tenant); err != nil {
			return 0, nil, err
		}
		tc, ok := cfg.Tenants[tenant]
		if !ok || tc.Okta == nil {
			return 0, nil, &admin.APIError{Status: http.StatusNotFound, Code: admin.CodeNotFound,
				Message: fmt.Sprintf("tenant %s has no Okta connection configured (tenants.%s.okta)", tenant, tenant)}
		}
		var body struct {
			Mode             string `json:"mode"`
			MaxChanges       *int   `json:"maxChanges"`
			MaxChangePercent *int   `json:"maxChangePercent"`
		}
		if r.ContentLength != 0 {
			dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&body); err != nil && !errors.Is(err, io.EOF) {
				return 0, nil, admin.Invalid("request body: " + err.Error())
			}
		}
		opts, err := sync.OptionsFromConfig(tenant, tc)
		if err != nil {
			return 0, nil, admin.Invalid(err.Error())
		}
		if opts.Mode, err = sync.ParseMode(body.Mode); err != nil {
			return 0, nil, admin.Invalid(err.Error())
		}
		opts.Trigger = sync.TriggerAPI
		if p := body.MaxChanges; p != nil {
			if *p < 0 {
				return 0, nil, admin.Invalid("maxChanges must be >= 0")
			}
			opts.Limits.MaxChanges = *p
		}
		if p := body.MaxChangePercent; p != nil {
			if *p < 0 || *p > 100 {
				return 0, nil, admin.Invalid("maxChangePercent must be between 0 and 100")
			}
			opts.Limits.MaxChangePercent = *p
		}
		run, err := rc.runner.Start(ctx, opts)
		var busy *sync.BusyError
		switch {
		case errors.As(err, &busy):
			return 0, nil, &admin.APIError{Status: http.StatusConflict, Code: admin.CodeConflict, Message: busy.Error()}
		case err != nil:
			return 0, nil, err
		}
		rc.mu.Lock()
		rc.running[run.ID] = tenant
		rc.mu.Unlock()
		go func() {
			<-run.Done()
			rc.mu.Lock()
			delete(rc.running, run.ID)
			rc.mu.Unlock()
		}()
		return http.StatusAccepted, map[string]any{"tenant": tenant, "runId": run.ID, "mode": opts.Mode,
			"status": "running", "report": "/admin/v1/tenants/" + tenant + "/reconcile/runs/" + run.ID}, nil
	})
	api.Handle("GET /admin/v1/tenants/{tenant}/reconcile/runs", func(r *http.Request) (int, any, error) {
		tenant := r.PathValue("tenant")
		if err := admin.CheckTenantID(tenant); err != nil {
			return 0, nil, err
		}
		limit := 20
		if v := r.URL.Query().Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > maxRunsListed {
				return 0, nil, admin.Invalid(fmt.Sprintf("limit must be between 1 and %d", maxRunsListed))
			}
			limit = n
		}
		runs, err := rc.runner.ListRuns(r.Context(), tenant, limit)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, map[string]any{"runs": runs}, nil
	})
	api.Handle("GET /admin/v1/tenants/{tenant}/reconcile/runs/{id}", func(r *http.Request) (int, any, error) {
		tenant, id := r.PathValue("tenant"), r.PathValue("id")
		if err := admin.CheckTenantID(tenant); err != nil {
			return 0, nil, err
		}
		rep, err := rc.runner.GetRun(r.Context(), tenant, id)
		if errors.Is(err, store.ErrNotFound) {
			rc.mu.Lock()
			t, running := rc.running[id]
			rc.mu.Unlock()
			if running && t == tenant {
				return http.StatusAccepted, map[string]any{"tenant": tenant, "runId": id, "status": "running"}, nil
			}
			return 0, nil, &admin.APIError{Status: http.StatusNotFound, Code: admin.CodeNotFound,
				Message: fmt.Sprintf("tenant %s has no stored run %s (reports are stored when a run finishes; the newest %d are kept)",
					tenant, id, sync.DefaultKeepRuns)}
		}
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, rep, nil
	})
}
