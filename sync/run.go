package sync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	gosync "sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/sync/oktasource"
)

// DefaultKeepRuns is how many reports per tenant the store keeps when
// RunnerOptions.KeepRuns is 0.
const DefaultKeepRuns = 50

// ErrIncomplete is returned (wrapped, with the report) by a run whose reads
// from Okta or from the store did not complete; nothing was compared or
// changed.
var ErrIncomplete = errors.New("sync: incomplete read")

// RunnerOptions configures a Runner.
type RunnerOptions struct {
	// Store holds the tenants' state, the leases and the run reports. A
	// correct run's writes carry the store.Writer {reconciler, run id};
	// cmd wires a store that records them in the provisioning log
	// (internal/provlog's Recorder.Wrap, store.Logged); a plain store
	// records nothing.
	Store store.State
	// Logger receives one line per run phase (run_id, tenant fields).
	Logger zerolog.Logger
	// Metrics, if not nil, is updated after every run.
	Metrics *Metrics
	// Replica names this process in lease owner tokens (default
	// "<hostname>/<pid>"); another run sees it in BusyError.Holder.
	Replica string
	// LeaseTTL is the lease lifetime (default DefaultLeaseTTL, 30 s); a
	// crashed run blocks the tenant for at most this long.
	LeaseTTL time.Duration
	// KeepRuns is how many reports per tenant are kept (default 50).
	KeepRuns int
	// Now is the clock of reports (default time.Now).
	Now func() time.Time
	// RunGCPercent, if > 0, is the GC target (debug.SetGCPercent) of the
	// process while any run of this Runner holds its lease, restored when
	// the last one ends (serve's reconciler sets RunGCPercent, 50, under
	// serve's own 200 %); GOGC set in the environment wins. 0 leaves the
	// target alone (the one-shot reconcile command sets its own for the
	// whole process).
	RunGCPercent int

	// beforeApply, for tests, runs after planning and before the first write.
	beforeApply func(runID string)
}

// Runner runs reconciliations: one at a time per tenant across every
// replica sharing the store (through the store lease LeaseName). It is safe
// for concurrent use.
type Runner struct {
	o      RunnerOptions
	active gosync.WaitGroup // runs started by this Runner
}

// NewRunner returns a Runner; it panics if o.Store is nil (a programming
// error).
func NewRunner(o RunnerOptions) *Runner {
	if o.Store == nil {
		panic("sync: RunnerOptions.Store is nil")
	}
	if o.Replica == "" {
		host, _ := os.Hostname()
		o.Replica = fmt.Sprintf("%s/%d", host, os.Getpid())
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.KeepRuns <= 0 {
		o.KeepRuns = DefaultKeepRuns
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Runner{o: o}
}

// RunOptions says what one run does.
type RunOptions struct {
	// Tenant is the AxonFlow tenant id.
	Tenant string
	// Mode is ModeReport (default when "") or ModeCorrect.
	Mode Mode
	// Trigger is TriggerCLI, TriggerSchedule, TriggerAPI, TriggerConsole or TriggerApproval (free text,
	// recorded in the report).
	Trigger string
	// Okta is the connection to the tenant's Okta org; Runner forces
	// ExpandAppUsers on (identities come from the Okta user profile).
	Okta oktasource.Config
	// PushGroups are extra Okta groups in scope (ids or exact names).
	PushGroups []string
	// Limits bound a correcting run (see Limits; the zero value refuses
	// every correction).
	Limits Limits
	// Approval says which corrections wait for an operator (default
	// ApprovalGuarded).
	Approval Approval
	// PlanTTL is how long a held plan's pending items can be decided
	// (default DefaultPlanTTL).
	PlanTTL time.Duration
	// DeactivationGrace, when > 0, schedules every user deactivation this
	// long ahead instead of applying it (an item with status scheduled).
	DeactivationGrace time.Duration

	// approvalOnly: the run Decide starts; it applies approved and due
	// scheduled items only and holds nothing new.
	approvalOnly bool
}

// Run is a started reconciliation; Wait returns its outcome.
type Run struct {
	// ID is the run id (also the report's runId): UTC start time plus a
	// random suffix, e.g. 20261129T221500Z-3f9a2c1d.
	ID     string
	done   chan struct{}
	report *Report
	err    error
}

// Wait blocks until the run has finished and returns its report and error
// (see Runner.Run).
func (x *Run) Wait() (*Report, error) {
	<-x.done
	return x.report, x.err
}

// Done is closed when the run has finished.
func (x *Run) Done() <-chan struct{} { return x.done }

func newRunID(t time.Time) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

// Start validates o, takes the tenant's lease and runs the reconciliation in
// a new goroutine under ctx (pass a context that outlives the request for
// background runs; canceling it stops the run before its next write). It
// returns at once: a *BusyError (saying who holds the lease) if another run
// of the tenant is in progress anywhere, an error if o is invalid or the
// lease cannot be read; else the started Run.
func (r *Runner) Start(ctx context.Context, o RunOptions) (*Run, error) {
	return r.start(ctx, o, nil)
}

// errSkipped is returned by start when its precheck decided to skip the run.
type errSkipped struct{ reason string }

func (e *errSkipped) Error() string { return "sync: run skipped: " + e.reason }

// start is Start with an optional precheck that runs once the lease is
// held (so it sees everything the previous holder stored) and may skip the
// run by returning a reason; the lease is then released at once.
func (r *Runner) start(ctx context.Context, o RunOptions, precheck func(context.Context) (string, error)) (*Run, error) {
	if o.Tenant == "" {
		return nil, errors.New("sync: no tenant given")
	}
	mode, err := ParseMode(string(o.Mode))
	if err != nil {
		return nil, fmt.Errorf("sync: %w", err)
	}
	o.Mode = mode
	if o.Trigger == "" {
		o.Trigger = TriggerCLI
	}
	started := r.o.Now()
	x := &Run{ID: newRunID(started), done: make(chan struct{})}
	owner := r.o.Replica + " run " + x.ID
	log := r.o.Logger.With().Str("tenant", o.Tenant).Str("run_id", x.ID).Logger()

	acquiredAt := time.Now()
	ok, holder, err := r.o.Store.AcquireLease(ctx, o.Tenant, LeaseName, owner, r.o.LeaseTTL)
	if err != nil {
		return nil, fmt.Errorf("sync: tenant %s: reading the reconcile lease: %w", o.Tenant, err)
	}
	if !ok {
		r.o.Metrics.observeBusy(o.Tenant)
		log.Info().Str("holder", holder).Msg("reconcile not started: another run holds the tenant's lease")
		return nil, &BusyError{Tenant: o.Tenant, Holder: holder}
	}
	if precheck != nil {
		reason, err := precheck(ctx)
		if err != nil || reason != "" {
			rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_ = r.o.Store.ReleaseLease(rctx, o.Tenant, LeaseName, owner)
			rcancel()
			if err != nil {
				return nil, err
			}
			return nil, &errSkipped{reason}
		}
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	keeper := newLeaseKeeper(r.o.Store, o.Tenant, owner, r.o.LeaseTTL, acquiredAt, cancel, log)
	go keeper.loop()
	r.active.Add(1)
	go func() {
		defer r.active.Done()
		defer close(x.done)
		defer cancel(nil)
		x.report, x.err = r.execute(runCtx, o, x.ID, started, keeper, log)
		keeper.stop()
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer rcancel()
		if err := r.o.Store.ReleaseLease(rctx, o.Tenant, LeaseName, owner); err != nil {
			log.Warn().Err(err).Msg("releasing the reconcile lease failed; it expires on its own")
		}
	}()
	return x, nil
}

// Wait blocks until every run this Runner started has finished, or ctx
// ends (then it returns ctx's error). Cancel the runs' context first to make
// them stop before their next write.
func (r *Runner) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { r.active.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run is Start followed by Wait. The report is nil only when the run did not
// start (BusyError, invalid options). The error is nil for a run that
// completed its reads and applied what it planned; it wraps ErrIncomplete
// for an incomplete read, ErrLeaseLost when the run lost its lease, or
// describes a store failure (e.g. saving the report); the report then still
// says what happened. Failed individual corrections are listed in
// Report.Applied (result "error") and do not make Run fail.
func (r *Runner) Run(ctx context.Context, o RunOptions) (*Report, error) {
	x, err := r.Start(ctx, o)
	if err != nil {
		return nil, err
	}
	return x.Wait()
}

// Result labels of the runs metric.
const (
	resultOK         = "ok"
	resultIncomplete = "incomplete"
	resultRefused    = "refused"
	resultFailed     = "failed"
	resultLeaseLost  = "lease_lost"
	resultBusy       = "busy"
)

// execute is the pipeline of one run holding the lease.
func (r *Runner) execute(ctx context.Context, o RunOptions, runID string, started time.Time,
	keeper *leaseKeeper, log zerolog.Logger) (*Report, error) {
	defer lowerGC(r.o.RunGCPercent)()
	rep := newReport(o.Tenant, runID, o.Mode, o.Trigger, started)
	result := resultOK
	var runErr error
	defer func() {
		r.o.Metrics.observe(rep, result)
	}()
	incomplete := func(reason string) (*Report, error) {
		rep.Complete, rep.IncompleteReason, result = false, reason, resultIncomplete
		if lost := keeper.Lost(); lost != nil {
			result = resultLeaseLost
			return r.finish(ctx, rep, keeper, log, lost)
		}
		return r.finish(ctx, rep, keeper, log, fmt.Errorf("%w: %s", ErrIncomplete, reason))
	}
	log.Info().Str("mode", string(o.Mode)).Str("trigger", o.Trigger).Msg("reconcile run started")

	// 0. The high-water mark, before anything is read from Okta: what
	// changes in the store from now on is newer than the Okta snapshot.
	// A report run changes nothing and needs none.
	var mark *Mark
	if o.Mode == ModeCorrect {
		var err error
		if mark, err = LoadMark(ctx, r.o.Store, o.Tenant); err != nil {
			return incomplete("reading the AxonFlow store: " + err.Error())
		}
	}
	// 1. Source: Okta (complete or nothing).
	cfg := o.Okta
	cfg.ExpandAppUsers = true
	client, err := oktasource.New(cfg, log)
	if err != nil {
		return incomplete("okta configuration: " + err.Error())
	}
	before := client.Stats()
	// 2. Desired state, built as the app users are read; the snapshot's
	// member ids are dropped before the store is read.
	desired, err := PullDesired(ctx, client, oktasource.PullOptions{PushGroups: o.PushGroups, MemberIDsOnly: true})
	st := client.Stats().Sub(before)
	rep.Okta = OktaTraffic{APICalls: st.APICalls, Pages: st.Pages, Retries: st.Retries, RateLimited: st.RateLimited}
	if err != nil {
		return incomplete(err.Error())
	}
	// 3. Actual state.
	actual, err := LoadActualBeside(ctx, r.o.Store, o.Tenant, desired)
	if err != nil {
		return incomplete("reading the AxonFlow store: " + err.Error())
	}
	rep.Complete = true
	// 4. Match, diff, plan, guards: pure.
	m := MatchObjects(desired, actual)
	rep.Drift = Diff(desired, actual, m)
	rep.summarize()
	plan := MakePlan(rep.Drift, desired, actual, m)
	// Destructive corrections of objects that changed since the mark wait
	// for the next run.
	rep.Deferred = append(rep.Deferred, DeferStale(plan, actual, mark)...)
	refusals := CheckGuards(plan, desired, actual, o.Limits)
	if o.Mode == ModeReport {
		// What a correcting run would refuse (and hold as a plan); a
		// correcting run checks the guards on what is not held already.
		rep.Refused = append(rep.Refused, refusals...)
	}
	if nm := notManagedRefusal(plan, actual); nm != nil {
		rep.Refused = append(rep.Refused, *nm)
	}
	log.Info().Int("okta_users", len(desired.Users)).Int("okta_groups", len(desired.Groups)).
		Int("axonflow_users", len(actual.Users)).Int("axonflow_groups", len(actual.Groups)).
		Int("drift", len(rep.Drift)).Int("corrections", len(plan.Corrections)).Int("refusals", len(refusals)).
		Msg("reconcile compared")

	// 5. Decide what applies now, what waits for approval or its grace, and
	// apply it.
	fixed := make([]bool, len(rep.Drift))
	if o.Mode == ModeCorrect {
		var sel *selection
		sel, runErr = r.selectCorrections(ctx, o, runID, plan, desired, actual, m, rep)
		if runErr != nil {
			result = resultFailed
			return r.finish(ctx, rep, keeper, log, runErr)
		}
		if sel.tripped {
			result = resultRefused
		}
		if len(sel.corrections) > 0 {
			if r.o.beforeApply != nil {
				r.o.beforeApply(runID)
			}
			// Every correction is recorded in the provisioning log (actor
			// reconciler, this run's id) by the store it is written to, with
			// the change (RunnerOptions.Store).
			ap := &Applier{Store: r.o.Store, Tenant: o.Tenant, Check: keeper.check, Now: r.o.Now, Mark: mark}
			applied, stopErr := ap.Apply(store.WithWriter(ctx, store.Writer{Actor: store.ActorReconciler, ID: runID}), sel.corrections)
			failed := 0
			for i, a := range applied {
				sel.settle(i, a, runID, r.o.Now().UTC())
				if a.Result == ResultDeferred {
					rep.Deferred = append(rep.Deferred, deferredOf(sel.corrections[i], a.Error))
					continue
				}
				rep.Applied = append(rep.Applied, a)
				if a.Result != ResultOK {
					failed++
					continue
				}
				for _, di := range sel.corrections[i].drift {
					fixed[di] = true
				}
			}
			if failed > 0 {
				result = resultFailed
			}
			if stopErr != nil {
				left := len(sel.corrections) - len(applied)
				guard, reason := GuardLeaseLost, "the run lost its lease"
				result = resultLeaseLost
				if keeper.Lost() == nil {
					guard, reason, result = "stopped", "the run was stopped", resultFailed
				}
				rep.Refused = append(rep.Refused, Refusal{Guard: guard, Corrections: left,
					Reason: fmt.Sprintf("%s (%v) before applying %d of %d corrections; a later run picks them up",
						reason, stopErr, left, len(sel.corrections))})
				runErr = stopErr
			}
			log.Info().Int("applied", len(applied)-failed).Int("failed", failed).Msg("reconcile corrections applied")
		}
		if err := r.savePlans(ctx, o.Tenant, sel); err != nil {
			log.Error().Err(err).Msg("storing the reconcile plans failed")
			result = resultFailed
			if runErr == nil {
				runErr = fmt.Errorf("sync: storing plans of run %s: %w", runID, err)
			}
		}
	}
	rep.remainingSet = true
	for _, f := range fixed {
		if !f {
			rep.remaining++
		}
	}
	return r.finish(ctx, rep, keeper, log, runErr)
}

// finish stamps the report, stores it (unless the lease is lost: a run
// without its lease writes nothing) and returns it with err.
func (r *Runner) finish(ctx context.Context, rep *Report, keeper *leaseKeeper, log zerolog.Logger, err error) (*Report, error) {
	rep.FinishedAt = r.o.Now().UTC()
	if cerr := keeper.check(); cerr != nil {
		log.Warn().Err(cerr).Msg("reconcile report not stored: the run no longer holds the lease")
		if err == nil {
			err = cerr
		}
	} else {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		serr := r.o.Store.SaveRun(sctx, rep.Tenant, store.RunRecord{ID: rep.RunID, StartedAt: rep.StartedAt, Data: rep.JSON()}, r.o.KeepRuns)
		cancel()
		if serr != nil {
			log.Error().Err(serr).Msg("storing the reconcile report failed")
			if err == nil {
				err = fmt.Errorf("sync: storing the report of run %s: %w", rep.RunID, serr)
			}
		}
	}
	ev := log.Info()
	if err != nil {
		ev = log.Warn().Err(err)
	}
	ev.Bool("complete", rep.Complete).Int("drift", len(rep.Drift)).Int("remaining", rep.Remaining()).
		Int("applied", len(rep.Applied)).Int("refused", len(rep.Refused)).Int64("okta_calls", rep.Okta.APICalls).
		Dur("took", rep.FinishedAt.Sub(rep.StartedAt)).Msg("reconcile run finished")
	return rep, err
}

// ListRuns returns up to limit stored reports of tenant, newest first
// (decoded from store.Runs).
func (r *Runner) ListRuns(ctx context.Context, tenant string, limit int) ([]*Report, error) {
	recs, err := r.o.Store.ListRuns(ctx, tenant, limit)
	if err != nil {
		return nil, err
	}
	out := make([]*Report, 0, len(recs))
	for _, rec := range recs {
		rep, err := DecodeReport(rec.Data)
		if err != nil {
			return nil, fmt.Errorf("sync: stored run %s: %w", rec.ID, err)
		}
		out = append(out, rep)
	}
	return out, nil
}

// GetRun returns one stored report of tenant, or an error wrapping
// store.ErrNotFound.
func (r *Runner) GetRun(ctx context.Context, tenant, id string) (*Report, error) {
	rec, err := r.o.Store.GetRun(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	return DecodeReport(rec.Data)
}
