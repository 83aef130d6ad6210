package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	gosync "sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"
)

// Scheduler runs reconciliations on per-tenant cron schedules inside
// serve. Every replica may run one: each tick tries the tenant's lease, so
// only one replica runs a given tenant at a time, and a replica skips a tick
// when another replica's scheduled run of that tenant started within the
// last half period (so "@every 1h" on three replicas runs about once an
// hour, not three times).
type Scheduler struct {
	runner *Runner
	log    zerolog.Logger
	cron   *cron.Cron
	ctx    context.Context
	cancel context.CancelFunc
	wg     gosync.WaitGroup
}

// NewScheduler returns a stopped Scheduler that starts runs with r.
func NewScheduler(r *Runner, log zerolog.Logger) *Scheduler {
	ctx, cancel := context.WithCancel(context.Background())
	return &Scheduler{runner: r, log: log.With().Str("component", "reconcile-scheduler").Logger(),
		cron: cron.New(), ctx: ctx, cancel: cancel}
}

// Add schedules o (its Trigger becomes "schedule") on spec: a standard
// five-field cron spec or a descriptor such as "@every 1h" or "@hourly",
// parsed by cron.ParseStandard exactly as the config package validates
// reconcile.schedule. Ticks of one tenant never overlap in this process.
func (s *Scheduler) Add(spec string, o RunOptions) error {
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return fmt.Errorf("sync: schedule %q of tenant %s: %w", spec, o.Tenant, err)
	}
	o.Trigger = TriggerSchedule
	job := cron.NewChain(cron.SkipIfStillRunning(cron.DiscardLogger)).Then(cron.FuncJob(func() {
		s.wg.Add(1)
		defer s.wg.Done()
		s.tick(sched, o)
	}))
	s.cron.Schedule(sched, job)
	s.log.Info().Str("tenant", o.Tenant).Str("schedule", spec).Str("mode", string(o.Mode)).
		Time("next", sched.Next(time.Now())).Msg("reconcile scheduled")
	return nil
}

// Start starts firing the schedules (in its own goroutine).
func (s *Scheduler) Start() { s.cron.Start() }

// Stop stops firing, cancels the runs in progress (they stop before their
// next write and store their report) and waits for them until ctx ends.
func (s *Scheduler) Stop(ctx context.Context) error {
	<-s.cron.Stop().Done()
	s.cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Scheduler) tick(sched cron.Schedule, o RunOptions) {
	if s.ctx.Err() != nil {
		return
	}
	log := s.log.With().Str("tenant", o.Tenant).Logger()
	fired := time.Now()
	period := sched.Next(fired).Sub(fired)
	// Checked while holding the lease: a run that finished is stored before
	// its lease is released, so another replica's run of this tick is seen.
	precheck := func(ctx context.Context) (string, error) {
		recent, err := s.recentScheduledRun(ctx, o.Tenant, fired.Add(-period/2))
		if err != nil {
			log.Warn().Err(err).Msg("reading the tenant's recent runs failed; running anyway")
			return "", nil
		}
		if recent != "" {
			return "scheduled run " + recent + " already ran this period", nil
		}
		return "", nil
	}
	x, err := s.runner.start(s.ctx, o, precheck)
	var busy *BusyError
	var skipped *errSkipped
	switch {
	case errors.As(err, &busy):
		log.Info().Str("holder", busy.Holder).Msg("scheduled reconcile skipped: a run of this tenant is in progress")
		return
	case errors.As(err, &skipped):
		log.Info().Str("reason", skipped.reason).Msg("scheduled reconcile skipped: another replica ran it this period")
		return
	case err != nil:
		log.Error().Err(err).Msg("scheduled reconcile did not start")
		return
	}
	_, _ = x.Wait() // the runner logs the outcome
	// A report-mode schedule changes nothing itself, but items already
	// decided (approved, or deactivations whose grace is over) apply now,
	// in a run that applies only those (each only if Okta still says so).
	if o.Mode != ModeCorrect && s.runner.hasDueItems(s.ctx, o.Tenant) {
		ro := o
		ro.Mode, ro.approvalOnly = ModeCorrect, true
		if _, err := s.runner.Run(s.ctx, ro); err != nil {
			log.Warn().Err(err).Msg("applying the tenant's due plan items failed; the next tick tries again")
		}
	}
}

// recentScheduledRun returns the id of a scheduled run of tenant that
// started after since, or "".
func (s *Scheduler) recentScheduledRun(ctx context.Context, tenant string, since time.Time) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	recs, err := s.runner.o.Store.ListRuns(ctx, tenant, 5)
	if err != nil {
		return "", err
	}
	for _, rec := range recs {
		var head struct {
			Trigger string `json:"trigger"`
		}
		if rec.StartedAt.After(since) && json.Unmarshal(rec.Data, &head) == nil && head.Trigger == TriggerSchedule {
			return rec.ID, nil
		}
	}
	return "", nil
}
