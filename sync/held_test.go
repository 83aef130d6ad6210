package sync

import (
	"errors"
	"fmt"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/robfig/cron/v3"

	"github.com/axonflow/axonflow-sync/mapping"
)

// clock is a settable clock for plan expiry and grace.
type clock struct {
	mu gosync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// mirrored creates n Okta users assigned to the app and their pushed
// AxonFlow users; it returns the Okta and AxonFlow ids.
func mirrored(e *env, n int) (okta, ax []string) {
	for i := range n {
		login := fmt.Sprintf("m%02d@example.com", i)
		oid := e.oktaUser(login, "M", fmt.Sprint(i), "")
		okta = append(okta, oid)
		ax = append(ax, e.pushUser(oid, login, "M", fmt.Sprint(i), true, mapping.OriginOktaPush))
	}
	return okta, ax
}

func (e *env) active(id string) bool {
	e.t.Helper()
	u, err := e.st.GetUser(e.ctx, e.tenant, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return mapping.IdentityOf(u).Active
}

// itemFor returns the item of p acting on AxonFlow id ax (or Okta id).
func itemFor(t *testing.T, p *HeldPlan, action Action, id string) *PlanItem {
	t.Helper()
	for i := range p.Items {
		if it := &p.Items[i]; it.Action == action && (it.AxonflowID == id || it.OktaID == id) {
			return it
		}
	}
	t.Fatalf("plan %s has no %s item for %s: %+v", p.ID, action, id, p.Items)
	return nil
}

// TestGuardTripHoldsPlanApproveSomeStaleReject: a run tripping
// max_change_percent holds its corrections as a plan; approving two items
// applies exactly those; an item whose user Okta assigns again by the time
// it is approved becomes stale; rejecting the last one settles the plan.
func TestGuardTripHoldsPlanApproveSomeStaleReject(t *testing.T) {
	allBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		e.limits = DefaultLimits()
		oids, ax := mirrored(e, 20)
		for _, id := range oids[:3] { // 15 % of the users lose access: the guard trips
			e.okta.UnassignUser(app, id)
		}
		newOkta := e.oktaUser("fresh@example.com", "Fresh", "User", "")
		before := e.snapshot()
		rep := e.run(ModeCorrect)
		if rep.PlanID == "" || len(rep.Applied) != 0 {
			t.Fatalf("planId %q applied %+v refused %+v", rep.PlanID, rep.Applied, rep.Refused)
		}
		sameSnapshot(t, "held run", before, e.snapshot())
		plans, err := e.runner.ListPlans(e.ctx, e.tenant, "")
		if err != nil || len(plans) != 1 {
			t.Fatalf("plans %v, %v", plans, err)
		}
		p := plans[0]
		if p.ID != rep.PlanID || p.RunID != rep.RunID || p.Status != PlanPending || p.Pending != 4 || len(p.Items) != 4 ||
			!p.ExpiresAt.Equal(p.CreatedAt.Add(DefaultPlanTTL)) {
			t.Fatalf("plan %+v", p)
		}
		for _, it := range p.Items {
			if it.Status != ItemPending || !strings.Contains(it.Reason, "max_change_percent") {
				t.Errorf("item %+v", it)
			}
		}
		// A second run holds nothing new: the items wait in the plan.
		if rep2 := e.run(ModeCorrect); rep2.PlanID != p.ID || len(rep2.Applied) != 0 {
			t.Fatalf("second run planId %q applied %+v", rep2.PlanID, rep2.Applied)
		}
		if ps, _ := e.runner.ListPlans(e.ctx, e.tenant, ""); len(ps) != 1 {
			t.Fatalf("second run made another plan: %d plans", len(ps))
		}

		deact0 := itemFor(t, p, ActDeactivateUser, ax[0])
		create := itemFor(t, p, ActCreateUser, newOkta)
		d, err := e.runner.Decide(e.ctx, e.tenant, DecideOptions{PlanID: p.ID, Items: []string{deact0.ID, create.ID},
			Approve: true, Operator: "cli:ada", Run: e.options(ModeCorrect)})
		if err != nil || d.RunErr != nil {
			t.Fatalf("approve: %v %v", err, d.RunErr)
		}
		if len(d.Report.Applied) != 2 {
			t.Fatalf("approval applied %+v; want exactly the 2 approved", d.Report.Applied)
		}
		if e.active(ax[0]) || !e.active(ax[1]) || !e.active(ax[2]) {
			t.Fatalf("active after approval: %v %v %v", e.active(ax[0]), e.active(ax[1]), e.active(ax[2]))
		}
		if _, err := e.st.FindUser(e.ctx, e.tenant, "userName", "fresh@example.com"); err != nil {
			t.Fatalf("approved create not applied: %v", err)
		}
		for _, it := range d.Plan.Items {
			want := ItemPending
			if it.ID == deact0.ID || it.ID == create.ID {
				want = ItemApplied
				if it.DecidedBy != "cli:ada" || it.DecidedAt.IsZero() {
					t.Errorf("item %s decided by %q at %v", it.ID, it.DecidedBy, it.DecidedAt)
				}
			}
			if it.Status != want {
				t.Errorf("item %s (%s) status %s; want %s", it.ID, it.Action, it.Status, want)
			}
		}

		// ax[1] is assigned again before its item is approved: stale.
		e.okta.AssignUser(app, oids[1], "USER", "")
		deact1 := itemFor(t, d.Plan, ActDeactivateUser, ax[1])
		d, err = e.runner.Decide(e.ctx, e.tenant, DecideOptions{PlanID: p.ID, Items: []string{deact1.ID},
			Approve: true, Operator: "admin-api", Run: e.options(ModeCorrect)})
		if err != nil || d.RunErr != nil {
			t.Fatalf("approve: %v %v", err, d.RunErr)
		}
		it := d.Plan.Item(deact1.ID)
		if it.Status != ItemStale || !strings.Contains(it.Detail, "Okta") || !e.active(ax[1]) || len(d.Report.Applied) != 0 {
			t.Fatalf("stale item %+v active %v applied %+v", it, e.active(ax[1]), d.Report.Applied)
		}
		// Deciding it again is a conflict; an unknown item is invalid.
		var pe *PlanError
		if _, err := e.runner.Decide(e.ctx, e.tenant, DecideOptions{PlanID: p.ID, Items: []string{deact1.ID}, Approve: true,
			Run: e.options(ModeCorrect)}); !errors.As(err, &pe) || !pe.Conflict {
			t.Fatalf("re-approve: %v", err)
		}
		if _, err := e.runner.Decide(e.ctx, e.tenant, DecideOptions{PlanID: p.ID, Items: []string{"99"}, Approve: true,
			Run: e.options(ModeCorrect)}); !errors.As(err, &pe) || pe.Conflict {
			t.Fatalf("unknown item: %v", err)
		}
		// Reject the rest (no --item: every pending item).
		d, err = e.runner.Decide(e.ctx, e.tenant, DecideOptions{PlanID: p.ID, Operator: "cli:ada", Run: e.options(ModeCorrect)})
		if err != nil || len(d.Items) != 1 || d.Plan.Item(d.Items[0]).Status != ItemRejected || d.Plan.Status != PlanDone {
			t.Fatalf("reject: %v %+v", err, d)
		}
		if !e.active(ax[2]) {
			t.Fatal("rejected deactivation applied")
		}
	})
}

// TestDeactivationGraceDelaysAndUndoCancels: with deactivationGrace 1h a
// run schedules deactivations (users stay active); rejecting one cancels
// it; after the grace a run applies the others only where Okta still says
// so (a user assigned again meanwhile becomes stale).
func TestDeactivationGraceDelaysAndUndoCancels(t *testing.T) {
	allBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		clk := &clock{t: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}
		e.runner.o.Now = clk.Now
		oids, ax := mirrored(e, 4)
		for _, id := range oids[:3] {
			e.okta.UnassignUser(app, id)
		}
		opts := e.options(ModeCorrect)
		opts.DeactivationGrace = time.Hour
		rep, err := e.runner.Run(e.ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Applied) != 0 || rep.PlanID == "" {
			t.Fatalf("applied %+v planId %q", rep.Applied, rep.PlanID)
		}
		for _, id := range ax[:3] {
			if !e.active(id) {
				t.Fatalf("user %s deactivated during its grace", id)
			}
		}
		p, err := e.runner.GetPlan(e.ctx, e.tenant, rep.PlanID)
		if err != nil || p.Status != PlanScheduled || p.Pending != 0 || len(p.Items) != 3 {
			t.Fatalf("plan %+v, %v", p, err)
		}
		for _, it := range p.Items {
			if it.Status != ItemScheduled || !it.ApplyAfter.Equal(clk.Now().Add(time.Hour)) {
				t.Fatalf("item %+v", it)
			}
		}
		// Undo one; a run before the grace ends changes nothing.
		undo := itemFor(t, p, ActDeactivateUser, ax[0])
		d, err := e.runner.Decide(e.ctx, e.tenant, DecideOptions{PlanID: p.ID, Items: []string{undo.ID}, Operator: "cli:ada", Run: opts})
		if err != nil || d.Plan.Item(undo.ID).Status != ItemCancelled {
			t.Fatalf("undo: %v %+v", err, d)
		}
		clk.Add(30 * time.Minute)
		if rep, _ := e.runner.Run(e.ctx, opts); len(rep.Applied) != 0 {
			t.Fatalf("applied before the grace ended: %+v", rep.Applied)
		}
		// Okta assigns ax[1] again; after the grace only ax[2] goes.
		e.okta.AssignUser(app, oids[1], "USER", "")
		clk.Add(31 * time.Minute)
		rep, err = e.runner.Run(e.ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Applied) != 1 || rep.Applied[0].AxonflowID != ax[2] || e.active(ax[2]) {
			t.Fatalf("after the grace applied %+v", rep.Applied)
		}
		if !e.active(ax[0]) || !e.active(ax[1]) {
			t.Fatal("cancelled or no longer called-for deactivation applied")
		}
		p, _ = e.runner.GetPlan(e.ctx, e.tenant, p.ID)
		if s := p.Item(itemFor(t, p, ActDeactivateUser, ax[1]).ID); s.Status != ItemStale || !strings.Contains(s.Detail, "Okta") {
			t.Fatalf("re-assigned user's item %+v", s)
		}
		if s := p.Item(itemFor(t, p, ActDeactivateUser, ax[2]).ID); s.Status != ItemApplied {
			t.Fatalf("due item %+v", s)
		}
		if s := p.Item(undo.ID); s.Status != ItemCancelled {
			t.Fatalf("cancelled item %+v", s)
		}
	})
}

// TestScheduledReportRunAppliesDueItems: a report-mode schedule applies
// the deactivations whose grace is over (and nothing else).
func TestScheduledReportRunAppliesDueItems(t *testing.T) {
	allBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		clk := &clock{t: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}
		e.runner.o.Now = clk.Now
		oids, ax := mirrored(e, 4)
		e.okta.UnassignUser(app, oids[0])
		opts := e.options(ModeCorrect)
		opts.DeactivationGrace = time.Hour
		if _, err := e.runner.Run(e.ctx, opts); err != nil {
			t.Fatal(err)
		}
		e.oktaUser("new@example.com", "N", "U", "") // drift a report-mode run must not correct
		s := NewScheduler(e.runner, testLogger(t))
		sched, err := cron.ParseStandard("@every 1h")
		if err != nil {
			t.Fatal(err)
		}
		ro := e.options(ModeReport)
		ro.DeactivationGrace = time.Hour
		s.tick(sched, ro) // before the grace ends: nothing
		if !e.active(ax[0]) {
			t.Fatal("deactivated before its grace ended")
		}
		clk.Add(2 * time.Hour)
		s.tick(sched, ro)
		if e.active(ax[0]) {
			t.Fatal("due deactivation not applied by the scheduled report run")
		}
		if _, err := e.st.FindUser(e.ctx, e.tenant, "userName", "new@example.com"); err == nil {
			t.Fatal("the report-mode schedule created a user")
		}
	})
}

// TestPlanMetrics: pending items, decisions by outcome and deferred
// corrections are counted.
func TestPlanMetrics(t *testing.T) {
	e := newEnv(t, "sqlite")
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	e.runner.o.Metrics = m
	for i := range 3 {
		e.oktaUser(fmt.Sprintf("n%d@example.com", i), "N", "U", "")
	}
	opts := e.options(ModeCorrect)
	opts.Approval = ApprovalAll
	rep, err := e.runner.Run(e.ctx, opts)
	if err != nil || rep.PlanID == "" {
		t.Fatalf("held run: %v", err)
	}
	tn := e.tenant
	if n := testutil.ToFloat64(m.pending.WithLabelValues(tn)); n != 3 {
		t.Errorf("pending items %v; want 3", n)
	}
	if _, err := e.runner.Decide(e.ctx, tn, DecideOptions{PlanID: rep.PlanID, Items: []string{"1"}, Approve: true, Operator: "t", Run: opts}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.runner.Decide(e.ctx, tn, DecideOptions{PlanID: rep.PlanID, Items: []string{"2"}, Operator: "t", Run: opts}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what string
		got  float64
		want float64
	}{
		{"pending", testutil.ToFloat64(m.pending.WithLabelValues(tn)), 1},
		{"approved", testutil.ToFloat64(m.decisions.WithLabelValues(tn, ItemApproved)), 1},
		{"applied", testutil.ToFloat64(m.decisions.WithLabelValues(tn, ItemApplied)), 1},
		{"rejected", testutil.ToFloat64(m.decisions.WithLabelValues(tn, ItemRejected)), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v; want %v", c.what, c.got, c.want)
		}
	}
	// A deferred correction is counted.
	gone := e.pushUser("00ugone", "gone@example.com", "G", "O", true, mapping.OriginOktaPush)
	e.runner.o.beforeApply = func(string) {
		u, _ := e.st.GetUser(e.ctx, tn, gone)
		u.Attrs = u.Attrs.Clone()
		u.Attrs["displayName"] = "Changed"
		_ = e.st.UpdateUser(e.ctx, tn, u, u.Version)
	}
	o2 := e.options(ModeCorrect)
	if rep, _ := e.runner.Run(e.ctx, o2); len(rep.Deferred) != 1 {
		t.Fatalf("deferred %+v", rep.Deferred)
	}
	if n := testutil.ToFloat64(m.deferred.WithLabelValues(tn)); n != 1 {
		t.Errorf("deferred counter %v", n)
	}
}

// TestApprovedMemberOfRejectedCreateIsStale: a plan holds a user's creation
// and its addition to a group; the creation is rejected and the addition
// approved: the addition no longer holds (the user does not exist in
// AxonFlow), so it is stale, not failed, and nothing is written.
func TestApprovedMemberOfRejectedCreateIsStale(t *testing.T) {
	allBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		fresh := e.oktaUser("fresh@example.com", "Fresh", "User", "")
		gid := e.oktaGroup("Engineering", fresh)
		e.pushGroup("Engineering", mapping.OriginOktaPush, gid)
		opts := e.options(ModeCorrect)
		opts.Approval = ApprovalAll
		rep, err := e.runner.Run(e.ctx, opts)
		if err != nil || rep.PlanID == "" {
			t.Fatalf("held run: %v %+v", err, rep)
		}
		p, err := e.runner.GetPlan(e.ctx, e.tenant, rep.PlanID)
		if err != nil {
			t.Fatal(err)
		}
		create := itemFor(t, p, ActCreateUser, fresh)
		var add *PlanItem
		for i := range p.Items {
			if p.Items[i].Action == ActAddMember {
				add = &p.Items[i]
			}
		}
		if add == nil {
			t.Fatalf("no add_member item: %+v", p.Items)
		}
		if _, err := e.runner.Decide(e.ctx, e.tenant, DecideOptions{PlanID: p.ID, Items: []string{create.ID}, Operator: "t", Run: opts}); err != nil {
			t.Fatal(err)
		}
		before := e.snapshot()
		d, err := e.runner.Decide(e.ctx, e.tenant, DecideOptions{PlanID: p.ID, Items: []string{add.ID}, Approve: true, Operator: "t", Run: opts})
		if err != nil {
			t.Fatal(err)
		}
		it := d.Plan.Item(add.ID)
		if it.Status != ItemStale || !strings.Contains(it.Detail, "no AxonFlow user") {
			t.Fatalf("approved add_member of a rejected create: %+v", it)
		}
		sameSnapshot(t, "approval of a member that was never created", before, e.snapshot())
	})
}
