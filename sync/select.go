package sync

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/axonflow/axonflow-sync/store"
)

// Guard names of corrections a run did not apply because they wait.
const (
	// GuardApproval: held in a plan for an operator's decision.
	GuardApproval = "approval"
	// GuardDeactivationGrace: user deactivations scheduled for later.
	GuardDeactivationGrace = "deactivation_grace"
)

// selection is what a correcting run applies, holds and schedules.
type selection struct {
	open *openPlans
	// corrections apply now, in plan order; refs[i] is the plan item
	// (plan index, item index) corrections[i] settles, or {-1, -1}.
	corrections []Correction
	refs        [][2]int
	// newPlan holds this run's new items (nil when none).
	newPlan *HeldPlan
	// tripped: a guard refused the new corrections (they are held).
	tripped bool
	metrics *Metrics
	tenant  string
}

// settle records the outcome of corrections[i] in its plan item.
func (s *selection) settle(i int, a Applied, runID string, now time.Time) {
	ref := s.refs[i]
	if ref[0] < 0 {
		return
	}
	it := s.open.item(ref)
	switch a.Result {
	case ResultOK:
		it.Status, it.Detail = ItemApplied, ""
		if it.AxonflowID == "" {
			it.AxonflowID = a.AxonflowID // the object a create made
		}
		if it.Member == "" {
			it.Member = a.Member
		}
	case ResultDeferred:
		it.Detail = "not applied yet: " + a.Error
	case ResultError:
		it.Status, it.Detail = ItemFailed, a.Error
		switch a.Error {
		case msgMemberNotCreated:
			it.Status, it.Detail = ItemStale, "no longer holds: the member has no AxonFlow user (its create_user was not applied: rejected, pending or failed); nothing was written"
		case msgGroupNotCreated:
			it.Status, it.Detail = ItemStale, "no longer holds: the group does not exist in AxonFlow (its create_group was not applied: rejected, pending or failed); nothing was written"
		}
	default:
		it.Status, it.Detail = ItemFailed, a.Error
	}
	if it.Status != ItemApproved && it.Status != ItemScheduled {
		s.metrics.observeItem(s.tenant, it.Status)
	}
	if it.DecidedBy == "" {
		it.DecidedBy, it.DecidedAt = "reconciler:"+runID, now
	}
	s.open.dirty[ref[0]] = true
}

// selectCorrections splits plan's corrections of a correcting run: those
// that settle approved or due scheduled items of open plans apply; those
// that pending or not-yet-due items already hold wait; new ones apply,
// are held (approval mode, a tripped guard) or are scheduled
// (deactivationGrace). Approved or due items Okta and the store no longer
// call for become stale. It records the waits in rep (Refused, PlanID).
func (r *Runner) selectCorrections(ctx context.Context, o RunOptions, runID string, plan *Plan,
	d *Desired, a *Actual, m *Matching, rep *Report) (*selection, error) {
	op, err := r.loadOpenPlans(ctx, o.Tenant)
	if err != nil {
		return nil, fmt.Errorf("sync: reading the held plans: %w", err)
	}
	now := r.o.Now().UTC()
	sel := &selection{open: op, metrics: r.o.Metrics, tenant: o.Tenant}
	apply := func(c Correction, ref [2]int) {
		sel.corrections = append(sel.corrections, c)
		sel.refs = append(sel.refs, ref)
	}
	none := [2]int{-1, -1}
	seen := map[[2]int]bool{}
	waiting := map[string]int{} // plan id → corrections its open items hold
	// fresh are the corrections no decided item covers; freshRefs the
	// pending item of an earlier plan that proposes the same (a later run
	// whose guards pass applies it and settles that item; one that holds it
	// again leaves it waiting there instead of proposing it twice).
	var fresh []Correction
	var freshRefs [][2]int
	for _, c := range plan.Corrections {
		ref, ok := op.byKey[c.key()]
		if ok {
			seen[ref] = true
		}
		if !ok || op.item(ref).Status == ItemPending {
			if !ok {
				ref = none
			}
			fresh = append(fresh, c)
			freshRefs = append(freshRefs, ref)
			continue
		}
		it := op.item(ref)
		switch {
		case it.Status == ItemApproved && o.DeactivationGrace > 0 && isDeactivation(&c):
			it.Status, it.ApplyAfter = ItemScheduled, now.Add(o.DeactivationGrace)
			op.dirty[ref[0]] = true
			waiting[op.plans[ref[0]].ID]++
		case it.Status == ItemApproved, it.Status == ItemScheduled && !now.Before(it.ApplyAfter):
			apply(c, ref)
		default:
			waiting[op.plans[ref[0]].ID]++
		}
	}
	deferred := map[string]string{}
	for _, df := range rep.Deferred {
		deferred[correctionKey(df.Action, df.OktaID, df.AxonflowID, df.MemberOktaID, df.Member)] = df.Reason
	}
	for key, ref := range op.byKey {
		it := op.item(ref)
		due := it.Status == ItemApproved || (it.Status == ItemScheduled && !now.Before(it.ApplyAfter))
		if seen[ref] || !due {
			continue
		}
		if why, ok := deferred[key]; ok {
			it.Detail = "not applied yet: " + why
		} else {
			it.Status, it.Detail = ItemStale, staleWhy(it, d, a, m)
			if it.DecidedBy == "" {
				it.DecidedBy, it.DecidedAt = "reconciler:"+runID, now
			}
			r.o.Metrics.observeItem(o.Tenant, ItemStale)
		}
		op.dirty[ref[0]] = true
	}
	if o.approvalOnly {
		return sel, nil
	}

	// New corrections.
	approval, _ := ParseApproval(string(o.Approval))
	tripped := CheckGuards(&Plan{Corrections: fresh}, d, a, o.Limits)
	rep.Refused = append(rep.Refused, tripped...)
	sel.tripped = len(tripped) > 0
	var guards []string
	for _, f := range tripped {
		guards = append(guards, f.Guard)
	}
	ttl := o.PlanTTL
	if ttl <= 0 {
		ttl = DefaultPlanTTL
	}
	var items []PlanItem
	held, scheduled := 0, 0
	for fi, c := range fresh {
		ref := freshRefs[fi]
		hold := ""
		switch {
		case len(tripped) > 0:
			hold = "held: the run tripped " + strings.Join(guards, ", ")
		case c.Action == ActLinkGroup:
		case approval == ApprovalAll:
			hold = "held: reconcile.approval is all"
		case approval == ApprovalDestructive && c.Destructive:
			hold = "held: reconcile.approval is destructive"
		}
		switch {
		case hold != "" && ref[0] >= 0:
			waiting[op.plans[ref[0]].ID]++
		case hold != "" && c.Action != ActLinkGroup:
			items = append(items, itemOf(c, fmt.Sprint(len(items)+1), proposal(&c)+"; "+hold, ItemPending))
			held++
		case hold != "":
			// link_group waits with the rest of a tripped run.
		case o.DeactivationGrace > 0 && isDeactivation(&c) && ref[0] >= 0:
			it := op.item(ref)
			it.Status, it.ApplyAfter = ItemScheduled, now.Add(o.DeactivationGrace)
			it.DecidedBy, it.DecidedAt = "reconciler:"+runID, now
			op.dirty[ref[0]] = true
			waiting[op.plans[ref[0]].ID]++
		case o.DeactivationGrace > 0 && isDeactivation(&c):
			it := itemOf(c, fmt.Sprint(len(items)+1), proposal(&c)+"; scheduled: reconcile.deactivationGrace is "+o.DeactivationGrace.String(), ItemScheduled)
			it.ApplyAfter = now.Add(o.DeactivationGrace)
			it.DecidedBy, it.DecidedAt = "reconciler:"+runID, now
			items = append(items, it)
			scheduled++
		default:
			apply(c, ref)
		}
	}
	for id, n := range waiting {
		rep.Refused = append(rep.Refused, Refusal{Guard: GuardApproval, Corrections: n, Reason: fmt.Sprintf(
			"%d corrections wait in plan %s (pending approval or a deactivation grace)", n, id)})
		if rep.PlanID == "" || id > rep.PlanID {
			rep.PlanID = id
		}
	}
	if len(items) > 0 {
		why := []string{}
		if held > 0 {
			why = append(why, fmt.Sprintf("%d corrections held for approval", held))
		}
		if scheduled > 0 {
			why = append(why, fmt.Sprintf("%d deactivations scheduled", scheduled))
		}
		sel.newPlan = &HeldPlan{ID: runID, Tenant: o.Tenant, RunID: runID, CreatedAt: now, ExpiresAt: now.Add(ttl),
			Reason: strings.Join(why, "; "), Items: items}
		sel.newPlan.settle(now)
		rep.PlanID = runID
		if held > 0 {
			rep.Refused = append(rep.Refused, Refusal{Guard: GuardApproval, Corrections: held, Reason: fmt.Sprintf(
				"%d corrections held for approval in plan %s (reconcile.approval %s%s); decide them with "+
					"axonflow-sync reconcile plan / approve / reject", held, runID, approval, tripWhy(guards))})
		}
		if scheduled > 0 {
			rep.Refused = append(rep.Refused, Refusal{Guard: GuardDeactivationGrace, Corrections: scheduled, Reason: fmt.Sprintf(
				"%d user deactivations scheduled in plan %s for %s (reconcile.deactivationGrace); reject an item to cancel it",
				scheduled, runID, now.Add(o.DeactivationGrace).Format(time.RFC3339))})
		}
	}
	return sel, nil
}

func tripWhy(guards []string) string {
	if len(guards) == 0 {
		return ""
	}
	return ", guard " + strings.Join(guards, ", ") + " tripped"
}

// savePlans stores the run's new plan and the open plans it changed.
func (r *Runner) savePlans(ctx context.Context, tenant string, sel *selection) error {
	ctx = context.WithoutCancel(ctx)
	if sel.newPlan != nil {
		if err := r.o.Store.CreatePlan(ctx, tenant, store.PlanRecord{ID: sel.newPlan.ID, CreatedAt: sel.newPlan.CreatedAt,
			Data: sel.newPlan.data()}, store.DefaultKeepPlans); err != nil {
			return err
		}
	}
	err := r.saveOpenPlans(ctx, tenant, sel.open)
	r.observePending(ctx, tenant)
	return err
}

// staleWhy says why an approved or due item is no longer called for, from
// the run's fresh read of Okta (d) and the store (a).
func staleWhy(it *PlanItem, d *Desired, a *Actual, m *Matching) string {
	var du *DesiredUser
	for i := range d.Users {
		if d.Users[i].OktaID == it.OktaID && it.OktaID != "" {
			du = &d.Users[i]
		}
	}
	var au *ActualUser
	for i := range a.Users {
		if a.Users[i].ID == it.AxonflowID && it.AxonflowID != "" {
			au = &a.Users[i]
		}
	}
	switch it.Action {
	case ActDeactivateUser, ActUpdateUser:
		switch {
		case it.AxonflowID != "" && au == nil:
			return "the user no longer exists in AxonFlow"
		case au != nil && !Managed(au.Origin):
			return "the user is no longer managed by Okta push or the reconciler (origin " + au.Origin + ")"
		case isDeactivationItem(it) && au != nil && !au.Identity.Active:
			return "the user is already inactive in AxonFlow"
		case isDeactivationItem(it) && du != nil && du.Identity.Active:
			return fmt.Sprintf("Okta gives the user access again (app user %s, user %s)", du.AppStatus, cellStatus(du.UserStatus))
		case isDeactivationItem(it):
			if m != nil {
				for oid, axID := range m.Users {
					if axID == it.AxonflowID {
						return "Okta assigns the user again (Okta user " + oid + ")"
					}
				}
			}
		}
		return "Okta and AxonFlow no longer differ as the item says"
	case ActCreateUser:
		if du == nil {
			return "Okta no longer assigns the user to the app"
		}
		return "AxonFlow has the user now"
	case ActDeleteGroup:
		for _, g := range a.Groups {
			if g.ID == it.AxonflowID {
				return "an Okta group in scope matches the group again"
			}
		}
		return "the group no longer exists in AxonFlow"
	case ActRemoveMember:
		return "the membership is gone from AxonFlow or is in Okta again"
	case ActAddMember:
		return "the membership is in AxonFlow already or no longer in Okta"
	}
	return "Okta and AxonFlow no longer differ as the item says"
}

func isDeactivationItem(it *PlanItem) bool {
	if it.Action == ActDeactivateUser {
		return true
	}
	for _, f := range it.Fields {
		if f == "active" {
			return true
		}
	}
	return false
}

func cellStatus(s string) string {
	if s == "" {
		return "not embedded"
	}
	return s
}
