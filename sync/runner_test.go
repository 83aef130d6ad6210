package sync

import (
	"context"
	"errors"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/sync/oktatest"
)

func TestConcurrentRunsOneRunsOtherIsTold(t *testing.T) {
	allBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		e.oktaUser("ada@example.com", "Ada", "Lovelace", "")
		e.okta.SlowDown(oktatest.RouteAppUsers, 300*time.Millisecond)
		// Two replicas sharing the store.
		other := NewRunner(RunnerOptions{Store: e.st, Logger: testLogger(t), Replica: "replica-b"})
		first, err := e.runner.Start(e.ctx, e.options(ModeReport))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range []*Runner{other, e.runner} {
			_, err = r.Run(e.ctx, e.options(ModeReport))
			var busy *BusyError
			if !errors.As(err, &busy) {
				t.Fatalf("second run: %v; want *BusyError", err)
			}
			if !strings.Contains(busy.Holder, "test-replica") || !strings.Contains(busy.Holder, first.ID) ||
				!strings.Contains(err.Error(), "another reconcile run is in progress") {
				t.Errorf("busy error does not say who holds the lease: %v", err)
			}
		}
		if _, err := first.Wait(); err != nil {
			t.Fatal(err)
		}
		// Once the first run is over, the lease is free again.
		if _, err := other.Run(e.ctx, e.options(ModeReport)); err != nil {
			t.Fatalf("run after the first finished: %v", err)
		}
	})
}

func TestConcurrentStartsExactlyOneRuns(t *testing.T) {
	e := newEnv(t, "redis")
	e.oktaUser("ada@example.com", "Ada", "Lovelace", "")
	e.okta.SlowDown(oktatest.RouteAppUsers, 200*time.Millisecond)
	const n = 8
	var started, busy atomic.Int32
	var wg gosync.WaitGroup
	for i := range n {
		r := NewRunner(RunnerOptions{Store: e.st, Logger: testLogger(t), Replica: "r" + string(rune('0'+i))})
		wg.Go(func() {
			_, err := r.Run(e.ctx, e.options(ModeReport))
			var be *BusyError
			switch {
			case err == nil:
				started.Add(1)
			case errors.As(err, &be):
				busy.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if started.Load() != 1 || busy.Load() != n-1 {
		t.Fatalf("%d runs ran, %d were told busy; want 1 and %d", started.Load(), busy.Load(), n-1)
	}
}

func TestObjectsNotFromOktaAreReportedButUntouched(t *testing.T) {
	allBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		ada := e.oktaUser("ada@example.com", "Ada", "Lovelace", "")
		eng := e.oktaGroup("Engineering", ada)
		op := mapping.OriginOperator
		axAda := e.pushUser(ada, "ada@example.com", "Ada", "Operator-Name", true, op) // attribute drift
		axOp := e.pushUser("", "admin@example.com", "Ad", "Min", true, op)            // orphaned
		axEng := e.pushGroup("engineering", op, "", axOp)                             // rename + member drift
		axOwn := e.pushGroup("Operators", op, "")                                     // orphaned
		before := e.snapshot()
		rep := e.run(ModeCorrect)
		want := map[Kind]int{KindUserAttributes: 1, KindUserOrphaned: 1, KindGroupAttributes: 1,
			KindMembershipMissing: 1, KindMembershipExtra: 1, KindGroupOrphaned: 1}
		if got := kinds(rep); !mapsEqual(got, want) {
			t.Fatalf("drift %v; want %v", got, want)
		}
		if len(rep.Applied) != 0 {
			t.Fatalf("applied to objects not from Okta: %+v", rep.Applied)
		}
		if len(rep.Refused) != 1 || rep.Refused[0].Guard != GuardNotManaged || rep.Refused[0].Corrections != 6 {
			t.Fatalf("refused %+v", rep.Refused)
		}
		for _, id := range []string{axAda, axOp, axEng, axOwn} {
			if !strings.Contains(strings.Join(rep.Refused[0].AxonflowIDs, ","), id) {
				t.Errorf("refusal does not list %s: %+v", id, rep.Refused[0])
			}
		}
		if rep.Remaining() != 6 {
			t.Errorf("remaining %d; want 6", rep.Remaining())
		}
		sameSnapshot(t, "objects not from Okta", before, e.snapshot())
		_ = eng
	})
}

func TestConflictsAreNeverGuessed(t *testing.T) {
	allBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		push := mapping.OriginOktaPush
		// Okta ann and bob both point at one AxonFlow user: ann through the
		// app user's externalId, bob through the userName.
		e.pushUser("", "bob@example.com", "Bob", "Builder", true, push)
		axShared, _ := e.st.FindUser(e.ctx, e.tenant, store.IndexUserName, "bob@example.com")
		e.oktaUser("ann@example.com", "Ann", "Other", "", oktatest.WithExternalID(axShared))
		e.oktaUser("bob@example.com", "Bob", "Builder", "")
		// Two AxonFlow groups linked to one Okta group.
		g := e.oktaGroup("Platform")
		e.pushGroup("Platform", push, g)
		e.pushGroup("Platform (old)", push, g)
		before := e.snapshot()
		rep := e.run(ModeCorrect)
		if got := kinds(rep); !mapsEqual(got, map[Kind]int{KindConflict: 4}) {
			t.Fatalf("drift %v; want 4 conflicts only:\n%s", got, rep.JSON())
		}
		if len(rep.Applied) != 0 {
			t.Fatalf("conflicts acted on: %+v", rep.Applied)
		}
		sameSnapshot(t, "conflicts", before, e.snapshot())
	})
}

// stealingStore wraps a store and, after `after` writes, gives the tenant's
// reconcile lease to an intruder; it counts writes made after that.
type stealingStore struct {
	store.State
	after       int32
	writes      atomic.Int32
	writesAfter atomic.Int32
	owner       atomic.Value
	stolen      atomic.Bool
}

func (s *stealingStore) AcquireLease(ctx context.Context, tenant, name, owner string, ttl time.Duration) (bool, string, error) {
	ok, h, err := s.State.AcquireLease(ctx, tenant, name, owner, ttl)
	if ok {
		s.owner.Store(owner)
	}
	return ok, h, err
}

func (s *stealingStore) wrote(ctx context.Context, tenant string) {
	if s.stolen.Load() {
		s.writesAfter.Add(1)
		return
	}
	if s.writes.Add(1) == s.after {
		owner, _ := s.owner.Load().(string)
		_ = s.State.ReleaseLease(ctx, tenant, LeaseName, owner)
		_, _, _ = s.State.AcquireLease(ctx, tenant, LeaseName, "intruder", time.Minute)
		s.stolen.Store(true)
	}
}

func (s *stealingStore) CreateUser(ctx context.Context, tenant string, u *mapping.User) error {
	defer s.wrote(ctx, tenant)
	return s.State.CreateUser(ctx, tenant, u)
}

func (s *stealingStore) UpdateUser(ctx context.Context, tenant string, u *mapping.User, v int64) error {
	defer s.wrote(ctx, tenant)
	return s.State.UpdateUser(ctx, tenant, u, v)
}

func (s *stealingStore) CreateGroup(ctx context.Context, tenant string, g *mapping.Group, m []string) error {
	defer s.wrote(ctx, tenant)
	return s.State.CreateGroup(ctx, tenant, g, m)
}

func (s *stealingStore) UpdateGroup(ctx context.Context, tenant, id string, c store.GroupChange) (*mapping.Group, error) {
	defer s.wrote(ctx, tenant)
	return s.State.UpdateGroup(ctx, tenant, id, c)
}

func (s *stealingStore) DeleteGroup(ctx context.Context, tenant, id string, expectVersion int64) error {
	defer s.wrote(ctx, tenant)
	return s.State.DeleteGroup(ctx, tenant, id, expectVersion)
}

func (s *stealingStore) SaveRun(ctx context.Context, tenant string, r store.RunRecord, keep int) error {
	defer s.wrote(ctx, tenant)
	return s.State.SaveRun(ctx, tenant, r, keep)
}

func TestLostLeaseStopsWrites(t *testing.T) {
	allBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		for _, n := range []string{"a", "b", "c", "d", "e"} {
			e.oktaUser(n+"@example.com", strings.ToUpper(n), "User", "")
		}
		ss := &stealingStore{State: e.st, after: 2}
		r := NewRunner(RunnerOptions{Store: ss, Logger: testLogger(t), Replica: "victim", LeaseTTL: 5 * time.Second})
		rep, err := r.Run(e.ctx, e.options(ModeCorrect))
		if !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("run error %v; want ErrLeaseLost", err)
		}
		if n := ss.writesAfter.Load(); n != 0 {
			t.Fatalf("%d writes after the lease was lost", n)
		}
		if rep == nil || len(rep.Applied) != 2 {
			t.Fatalf("applied %+v; want the 2 writes before the loss", rep)
		}
		last := rep.Refused[len(rep.Refused)-1]
		if last.Guard != GuardLeaseLost || last.Corrections != 3 {
			t.Errorf("refused %+v", rep.Refused)
		}
		if _, err := e.st.GetRun(e.ctx, e.tenant, rep.RunID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a run without its lease stored its report: %v", err)
		}
		// The intruder still holds the lease: the next run is told so.
		var busy *BusyError
		if _, err := e.runner.Run(e.ctx, e.options(ModeReport)); !errors.As(err, &busy) || busy.Holder != "intruder" {
			t.Errorf("next run: %v", err)
		}
	})
}

func TestRunsAreStoredAndTrimmed(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.oktaUser("ada@example.com", "Ada", "Lovelace", "")
	r := NewRunner(RunnerOptions{Store: e.st, Logger: testLogger(t), KeepRuns: 3})
	var ids []string
	for range 4 {
		rep, err := r.Run(e.ctx, e.options(ModeReport))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, rep.RunID)
		time.Sleep(2 * time.Millisecond)
	}
	runs, err := r.ListRuns(e.ctx, e.tenant, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 || runs[0].RunID != ids[3] || runs[2].RunID != ids[1] {
		t.Fatalf("stored runs %d, first %s; want the newest 3 of %v", len(runs), runs[0].RunID, ids)
	}
	if runs[0].Tenant != e.tenant || runs[0].Summary[KindUserMissing] != 1 {
		t.Errorf("decoded report %+v", runs[0])
	}
	if _, err := r.GetRun(e.ctx, e.tenant, ids[0]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("oldest run still stored: %v", err)
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, "redis")
	e.oktaUser("ada@example.com", "Ada", "Lovelace", "")
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewMetrics(reg); err == nil {
		t.Error("registering twice: no error")
	}
	r := NewRunner(RunnerOptions{Store: e.st, Logger: testLogger(t), Metrics: m})
	if _, err := r.Run(e.ctx, e.options(ModeReport)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(e.ctx, e.options(ModeCorrect)); err != nil {
		t.Fatal(err)
	}
	e.okta.Storm429(oktatest.RouteAppUsers, 10)
	_, _ = r.Run(e.ctx, e.options(ModeReport))
	tn := e.tenant
	for _, c := range []struct {
		name string
		got  float64
		want float64
	}{
		{"runs ok", testutil.ToFloat64(m.runs.WithLabelValues(tn, resultOK)), 2},
		{"runs incomplete", testutil.ToFloat64(m.runs.WithLabelValues(tn, resultIncomplete)), 1},
		{"drift user_missing (last complete run)", testutil.ToFloat64(m.drift.WithLabelValues(tn, string(KindUserMissing))), 1},
		{"applied create_user", testutil.ToFloat64(m.applied.WithLabelValues(tn, string(ActCreateUser))), 1},
		{"okta 429s", testutil.ToFloat64(m.okta429.WithLabelValues(tn)), 4},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v; want %v", c.name, c.got, c.want)
		}
	}
	if n := testutil.ToFloat64(m.oktaCalls.WithLabelValues(tn)); n < 6 {
		t.Errorf("okta calls %v", n)
	}
	if ts := testutil.ToFloat64(m.lastSuccess.WithLabelValues(tn)); time.Since(time.Unix(int64(ts), 0)) > time.Minute {
		t.Errorf("last success %v", ts)
	}
	if n := testutil.CollectAndCount(m.duration); n != 1 {
		t.Errorf("duration series %d", n)
	}
}

func TestSchedulerRunsAndDedupesAcrossReplicas(t *testing.T) {
	e := newEnv(t, "redis")
	e.oktaUser("ada@example.com", "Ada", "Lovelace", "")
	// Start just after a second boundary: "@every 2s" ticks on whole
	// seconds, so both replicas tick at start+2s (and again at +4s).
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 50*time.Millisecond)))
	begin := time.Now()
	var scheds []*Scheduler
	for _, name := range []string{"replica-a", "replica-b"} {
		r := NewRunner(RunnerOptions{Store: e.st, Logger: testLogger(t), Replica: name})
		s := NewScheduler(r, testLogger(t))
		if err := s.Add("@every 2s", e.options(ModeReport)); err != nil {
			t.Fatal(err)
		}
		s.Start()
		scheds = append(scheds, s)
	}
	if err := scheds[0].Add("not a schedule", e.options(ModeReport)); err == nil {
		t.Error("bad spec accepted")
	}
	time.Sleep(time.Until(begin.Add(3 * time.Second))) // one tick of each replica
	for _, s := range scheds {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.Stop(ctx); err != nil {
			t.Error(err)
		}
		cancel()
	}
	runs, err := e.runner.ListRuns(e.ctx, e.tenant, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Trigger != TriggerSchedule {
		var trig []string
		for _, r := range runs {
			trig = append(trig, r.Trigger+" "+r.StartedAt.String())
		}
		t.Fatalf("scheduled runs %v; want exactly one (two replicas, one period)", trig)
	}
}
