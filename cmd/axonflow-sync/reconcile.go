package main

import (
	"context"
	"errors"
	"flag"
	"os/signal"
	"runtime/debug"
	"slices"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/internal/admin"
	"github.com/axonflow/axonflow-sync/internal/termtext"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/sync"
)

// Exit codes of reconcile --detailed-exitcode.
const (
	exitNoDrift = 0 // the run completed and no drift remains
	exitError   = 1 // the run failed: configuration, incomplete read, busy tenant, failed corrections
	exitDrift   = 2 // the run completed and drift remains (report mode, refused or partial correction)
)

// reconcileGCPercent is the GC target (debug.SetGCPercent) of a reconcile
// command run without GOGC in its environment: the one serve's runs use
// while they hold their lease (sync.RunGCPercent, 50 %).
const reconcileGCPercent = sync.RunGCPercent

// reconcileLeaseTTL is the tenant lease lifetime of a reconcile command run
// (sync.RunnerOptions.LeaseTTL; the run renews it every third of it and
// before every write, each renewal bounded by a third of it): a killed run
// keeps the tenant busy for at most this long. It is a variable only so that
// fault tests can build the binary with a longer one (go build -overlay),
// so that a run they killed still holds the tenant when they look.
var reconcileLeaseTTL = sync.DefaultLeaseTTL

// reconcileStore wraps the store a reconcile command run reads and writes
// through; it returns st unchanged. It is a variable only so that fault
// tests can build the binary with a wrapper (go build -overlay) that kills
// the run at an exact point of its writes, however fast the machine runs it.
var reconcileStore = func(st store.State) store.State { return st }

// reconcileGC sets the GC target of a one-shot reconcile run and returns the
// function that restores the previous one. The run holds Okta's and the
// store's view of the tenant at once, read in a burst: a lower target than
// Go's default 100 % keeps its peak memory nearer what it holds, for some
// more GC work (README: reconcile benchmark, 170 -> 145 MiB peak RSS and
// +0.5 s CPU at 100,000 users). GOGC set in the environment wins.
func reconcileGC(getenv func(string) string) (restore func()) {
	return gcTarget(getenv, reconcileGCPercent)
}

// serveGCPercent is the GC target of serve without GOGC in its
// environment. A serve's live heap is small (caches, connections, the
// requests in flight) and every request allocates: at Go's default 100 %
// the collector ran every few thousand GETs and took about 6 % of a GET's
// CPU; at 200 % it runs half as often, for a peak heap of three times the
// live one instead of two. While a reconcile run inside serve holds its
// lease the target is sync.RunGCPercent (50 %) instead, as for the
// one-shot command (README: Memory and GC).
const serveGCPercent = 200

// gcTarget sets the GC target (debug.SetGCPercent) to percent unless GOGC
// is set in the environment (getenv), and returns the function that
// restores the previous one.
func gcTarget(getenv func(string) string, percent int) (restore func()) {
	if getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(percent)
	return func() { debug.SetGCPercent(old) }
}

// reconcile runs one reconciliation of a tenant against its Okta org and
// prints the report (table or JSON) on stdout.
func (e env) reconcile(ctx context.Context, args []string) int {
	if len(args) > 0 {
		switch args[0] {
		case "plans", "plan", "approve", "reject", "explain":
			return e.reconcileReview(ctx, args[0], args[1:])
		}
	}
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
		termtext.Fprintf(e.stderr, "axonflow-sync reconcile: "+format+"\n", a...)
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
	req := admin.ReconcileRequest{Mode: string(mode), Trigger: sync.TriggerCLI}
	if *maxChanges >= 0 {
		req.MaxChanges = maxChanges
	}
	if *maxPercent >= 0 {
		req.MaxChangePercent = maxPercent
	}
	opts, err := admin.ReconcileOptions(*tenant, tc, req)
	if err != nil {
		return fail("%s", apiMessage(err))
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
		termtext.Fprintf(e.stderr, "axonflow-sync reconcile: %v\n", err)
		return exitError
	}
	defer st.Close()
	st, _ = withProvLog(st, log, nil) // failed log writes: a warning on stderr

	defer reconcileGC(e.getenv)()
	runner := sync.NewRunner(sync.RunnerOptions{Store: reconcileStore(st), Logger: log, LeaseTTL: reconcileLeaseTTL})
	rep, err := runner.Run(ctx, opts)
	if rep == nil {
		termtext.Fprintf(e.stderr, "axonflow-sync reconcile: %v\n", err)
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
		termtext.Fprintf(e.stderr, "axonflow-sync reconcile: %s\n", msg)
		return exitError
	case failed > 0:
		termtext.Fprintf(e.stderr, "axonflow-sync reconcile: %d of %d corrections failed (see the report)\n", failed, len(rep.Applied))
		return exitError
	}
	for _, r := range rep.Refused {
		if mode == sync.ModeCorrect {
			termtext.Fprintf(e.stderr, "axonflow-sync reconcile: refused (%s): %s\n", r.Guard, r.Reason)
		}
	}
	if detailed && rep.Remaining() > 0 {
		return exitDrift
	}
	return exitNoDrift
}
