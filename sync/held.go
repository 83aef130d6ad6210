package sync

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/axonflow/axonflow-sync/config"
	"github.com/axonflow/axonflow-sync/store"
)

// Approval says which corrections of a correcting run wait for an
// operator's decision (config: reconcile.approval).
type Approval string

// Approval modes.
const (
	// ApprovalGuarded (the default): a run whose corrections trip a guard
	// (empty_source, max_changes, max_change_percent) holds them all as a
	// plan instead of only refusing; otherwise everything applies.
	ApprovalGuarded Approval = config.ApprovalGuarded
	// ApprovalDestructive: deactivations, group deletions and membership
	// removals always wait for approval; the rest applies (guards still
	// hold everything when they trip).
	ApprovalDestructive Approval = config.ApprovalDestructive
	// ApprovalAll: every correction waits for approval.
	ApprovalAll Approval = config.ApprovalAll
)

// ParseApproval returns the Approval named s ("" means guarded).
func ParseApproval(s string) (Approval, error) {
	switch Approval(s) {
	case "", ApprovalGuarded:
		return ApprovalGuarded, nil
	case ApprovalDestructive, ApprovalAll:
		return Approval(s), nil
	}
	return "", fmt.Errorf("approval must be guarded, destructive or all, got %q", s)
}

// DefaultPlanTTL is how long a held plan's pending items can be decided
// when RunOptions.PlanTTL is 0 (config: reconcile.planTTL).
const DefaultPlanTTL = config.DefaultPlanTTL

// Item statuses (PlanItem.Status).
const (
	ItemPending   = "pending"   // waits for a decision
	ItemApproved  = "approved"  // approved; the next run under the lease applies it
	ItemRejected  = "rejected"  // rejected by an operator: never applied
	ItemApplied   = "applied"   // written
	ItemStale     = "stale"     // no longer holds (Detail says why): not written
	ItemScheduled = "scheduled" // a deactivation waiting for ApplyAfter (deactivationGrace)
	ItemCancelled = "cancelled" // a scheduled item rejected before ApplyAfter (the undo)
	ItemFailed    = "failed"    // the write failed (Detail says why)
)

// ItemStatuses lists every item status.
var ItemStatuses = []string{ItemPending, ItemApproved, ItemRejected, ItemApplied, ItemStale, ItemScheduled, ItemCancelled, ItemFailed}

// Plan statuses (HeldPlan.Status, computed when read).
const (
	PlanPending   = "pending"   // has pending items and has not expired
	PlanApproved  = "approved"  // no pending items; approved items wait for a run
	PlanScheduled = "scheduled" // no pending or approved items; scheduled deactivations wait
	PlanExpired   = "expired"   // pending items left after ExpiresAt: they can no longer be approved
	PlanDone      = "done"      // every item is decided and settled
)

// PlanStatuses lists every plan status.
var PlanStatuses = []string{PlanPending, PlanApproved, PlanScheduled, PlanExpired, PlanDone}

// PlanItem is one held correction. Its JSON form is part of the admin API
// and CLI contract: {id, action, kind, userName | displayName, oktaId,
// axonflowId, reason, status, decidedBy, decidedAt, applyAfter} (member,
// memberOktaId and detail when they apply).
type PlanItem struct {
	// ID is stable within the plan ("1", "2", ...).
	ID     string `json:"id"`
	Action Action `json:"action"`
	// Kind is "user", "group" or "membership".
	Kind        string `json:"kind"`
	UserName    string `json:"userName,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	OktaID      string `json:"oktaId,omitempty"`
	// AxonflowID is the user or group (memberships: the group); "" for
	// objects a create would make.
	AxonflowID string `json:"axonflowId,omitempty"`
	// Member and MemberOktaID identify the member of a membership item.
	Member       string `json:"member,omitempty"`
	MemberOktaID string `json:"memberOktaId,omitempty"`
	// Fields are the identity fields an update_user changes.
	Fields []string `json:"fields,omitempty"`
	// Reason says why the correction is proposed and why it waits.
	Reason string `json:"reason"`
	Status string `json:"status"`
	// DecidedBy names the operator ("cli:<user>", the admin API's
	// principal) or, for items settled by a run, "reconciler:<run id>".
	DecidedBy string    `json:"decidedBy,omitempty"`
	DecidedAt time.Time `json:"decidedAt,omitzero"`
	// ApplyAfter is when a scheduled deactivation applies.
	ApplyAfter time.Time `json:"applyAfter,omitzero"`
	// Detail says why an item is stale or failed.
	Detail string `json:"detail,omitempty"`
}

// MarshalJSON writes every pinned field of an item, also when empty:
// oktaId, axonflowId and decidedBy as "" and decidedAt, applyAfter as
// null when unset (userName or displayName as they apply; both for
// memberships).
func (it PlanItem) MarshalJSON() ([]byte, error) {
	type plain PlanItem
	var decided, after *time.Time
	if !it.DecidedAt.IsZero() {
		decided = &it.DecidedAt
	}
	if !it.ApplyAfter.IsZero() {
		after = &it.ApplyAfter
	}
	return json.Marshal(struct {
		plain
		OktaID     string     `json:"oktaId"`
		AxonflowID string     `json:"axonflowId"`
		DecidedBy  string     `json:"decidedBy"`
		DecidedAt  *time.Time `json:"decidedAt"`
		ApplyAfter *time.Time `json:"applyAfter"`
	}{plain(it), it.OktaID, it.AxonflowID, it.DecidedBy, decided, after})
}

// key identifies the correction an item stands for across runs.
func (it *PlanItem) key() string {
	return correctionKey(it.Action, it.OktaID, it.AxonflowID, it.MemberOktaID, it.Member)
}

// correctionKey prefers Okta ids (stable) over AxonFlow ids (a group or
// user an earlier correction created gets a new one).
func correctionKey(a Action, oktaID, axID, memberOkta, member string) string {
	if oktaID != "" {
		axID = ""
	}
	if memberOkta != "" {
		member = ""
	}
	return strings.Join([]string{string(a), oktaID, axID, memberOkta, member}, "\x00")
}

func (c *Correction) key() string {
	return correctionKey(c.Action, c.OktaID, c.AxonflowID, c.MemberOktaID, c.MemberID)
}

// open reports whether the item still waits for something.
func (it *PlanItem) open() bool {
	return it.Status == ItemPending || it.Status == ItemApproved || it.Status == ItemScheduled
}

// HeldPlan is a stored plan: the corrections of one run held for an
// operator's decision (and the deactivations it scheduled). Its JSON form
// is the admin API's and the CLI's plan.
type HeldPlan struct {
	ID     string `json:"id"`
	Tenant string `json:"tenant"`
	// Status is computed when the plan is read (see the Plan* statuses).
	Status    string    `json:"status"`
	RunID     string    `json:"runId"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
	// Reason says why the run held these corrections (guard, approval mode,
	// grace).
	Reason string     `json:"reason"`
	Items  []PlanItem `json:"items"`
	// Pending counts the items waiting for a decision.
	Pending int `json:"pending"`
	// Version is the stored version (optimistic concurrency).
	Version int64 `json:"-"`
}

// settle recomputes Status and Pending at time now.
func (p *HeldPlan) settle(now time.Time) {
	pending, approved, scheduled := 0, 0, 0
	for _, it := range p.Items {
		switch it.Status {
		case ItemPending:
			pending++
		case ItemApproved:
			approved++
		case ItemScheduled:
			scheduled++
		}
	}
	p.Pending = pending
	switch {
	case pending > 0 && !now.Before(p.ExpiresAt):
		p.Status = PlanExpired
	case pending > 0:
		p.Status = PlanPending
	case approved > 0:
		p.Status = PlanApproved
	case scheduled > 0:
		p.Status = PlanScheduled
	default:
		p.Status = PlanDone
	}
}

// Item returns the item with id, or nil.
func (p *HeldPlan) Item(id string) *PlanItem {
	for i := range p.Items {
		if p.Items[i].ID == id {
			return &p.Items[i]
		}
	}
	return nil
}

func decodePlan(tenant string, rec store.PlanRecord, now time.Time) (*HeldPlan, error) {
	var p HeldPlan
	if err := json.Unmarshal(rec.Data, &p); err != nil {
		return nil, fmt.Errorf("sync: stored plan %s: %w", rec.ID, err)
	}
	p.ID, p.Tenant, p.Version = rec.ID, tenant, rec.Version
	if p.Items == nil {
		p.Items = []PlanItem{}
	}
	p.settle(now)
	return &p, nil
}

func (p *HeldPlan) data() []byte {
	b, err := json.Marshal(p)
	if err != nil {
		panic(err) // plain values only
	}
	return b
}

func itemKind(a Action) string {
	switch a {
	case ActAddMember, ActRemoveMember:
		return "membership"
	case ActCreateGroup, ActUpdateGroup, ActLinkGroup, ActDeleteGroup:
		return "group"
	}
	return "user"
}

func itemOf(c Correction, id, reason, status string) PlanItem {
	return PlanItem{ID: id, Action: c.Action, Kind: itemKind(c.Action), UserName: c.UserName, DisplayName: c.DisplayName,
		OktaID: c.OktaID, AxonflowID: c.AxonflowID, Member: c.MemberID, MemberOktaID: c.MemberOktaID,
		Fields: slices.Clone(c.Fields), Reason: reason, Status: status}
}

// isDeactivation reports whether c takes a user's access away.
func isDeactivation(c *Correction) bool {
	return c.Action == ActDeactivateUser || (c.Action == ActUpdateUser && c.Destructive)
}

// proposal says why a correction is proposed (the drift it fixes).
func proposal(c *Correction) string {
	switch c.Action {
	case ActCreateUser:
		return "Okta assigns the user to the app; AxonFlow has no such user"
	case ActUpdateUser:
		if c.Destructive {
			return "Okta no longer gives the user access (status); AxonFlow has it active"
		}
		return "the user's " + strings.Join(c.Fields, ", ") + " differ from Okta"
	case ActDeactivateUser:
		return "Okta does not assign the user to the app; AxonFlow has it active"
	case ActCreateGroup:
		return "the Okta group is in scope; AxonFlow has no such group"
	case ActUpdateGroup:
		return "the group's displayName differs from Okta"
	case ActLinkGroup:
		return "the group was matched by name; its Okta id is recorded"
	case ActAddMember:
		return "a member in Okta is not a member in AxonFlow"
	case ActRemoveMember:
		return "a member in AxonFlow is not a member in Okta"
	case ActDeleteGroup:
		return "no Okta group in scope matches the AxonFlow group"
	}
	return string(c.Action)
}

// ListPlans returns the tenant's stored plans, newest first, with Status
// computed now; status, if not "", keeps only plans in that status.
func (r *Runner) ListPlans(ctx context.Context, tenant, status string) ([]*HeldPlan, error) {
	recs, err := r.o.Store.ListPlans(ctx, tenant, 0)
	if err != nil {
		return nil, err
	}
	now := r.o.Now()
	out := []*HeldPlan{}
	for _, rec := range recs {
		p, err := decodePlan(tenant, rec, now)
		if err != nil {
			return nil, err
		}
		if status == "" || p.Status == status {
			out = append(out, p)
		}
	}
	return out, nil
}

// GetPlan returns one stored plan of tenant (Status computed now), or an
// error wrapping store.ErrNotFound.
func (r *Runner) GetPlan(ctx context.Context, tenant, id string) (*HeldPlan, error) {
	rec, err := r.o.Store.GetPlan(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	return decodePlan(tenant, rec, r.o.Now())
}

// updatePlan re-reads plan id, calls change on it and stores it with the
// version read, retrying on a concurrent update (at most
// store.MaxUpdateRetries times). change returns false to write nothing.
func (r *Runner) updatePlan(ctx context.Context, tenant, id string, change func(p *HeldPlan) (bool, error)) (*HeldPlan, error) {
	for attempt := 0; ; attempt++ {
		p, err := r.GetPlan(ctx, tenant, id)
		if err != nil {
			return nil, err
		}
		write, err := change(p)
		if err != nil || !write {
			return p, err
		}
		v, err := r.o.Store.UpdatePlan(ctx, tenant, store.PlanRecord{ID: p.ID, Data: p.data()}, p.Version)
		if err == nil {
			p.Version = v
			p.settle(r.o.Now())
			return p, nil
		}
		if !errors.Is(err, store.ErrVersionMismatch) || attempt >= store.MaxUpdateRetries {
			return nil, err
		}
	}
}

// PlanError is a decision that cannot be made as asked (unknown item, an
// item not in a decidable status, an expired plan); Code is
// mapping.CodeInvalidValue-like for the edges: "invalid" or "conflict".
type PlanError struct {
	// Conflict is true when the plan's state forbids the decision (expired,
	// an item already decided); false for a request naming unknown items.
	Conflict bool
	Msg      string
}

func (e *PlanError) Error() string { return e.Msg }

// Decision is the outcome of Runner.Decide.
type Decision struct {
	// Plan is the plan after the decision (and after the run that applied
	// approved items, if any).
	Plan *HeldPlan
	// Items are the ids decided.
	Items []string
	// Report is the report of the run that applied approved items (nil for
	// a rejection, or when the run could not start: then Err says why and
	// the items stay approved for the next run).
	Report *Report
	// RunErr is the error of that run (BusyError when another run holds the
	// lease), nil when it ran.
	RunErr error
}

// DecideOptions says what Runner.Decide decides.
type DecideOptions struct {
	PlanID string
	// Items are item ids; none means every pending item (reject: and every
	// scheduled item).
	Items []string
	// Approve approves (true) or rejects (false).
	Approve bool
	// Operator names who decides ("cli:<user>", the admin API principal).
	Operator string
	// Run is the tenant's run configuration (Okta connection, grace, ...);
	// its Mode and Trigger are set by Decide.
	Run RunOptions
}

// Decide records an operator's decision on items of a held plan. Reject:
// pending items become rejected, scheduled items cancelled (the undo of a
// deactivation grace); nothing is written to users or groups. Approve:
// pending items become approved, then a correcting run (trigger
// "approval", under the tenant's lease like any run) re-reads Okta and the
// store and applies the approved items that still hold; the others become
// stale with the reason. Errors: *PlanError (unknown item ids, items not in
// a decidable status, an expired plan), store errors (ErrNotFound for an
// unknown plan). A run that cannot start (BusyError) is returned in
// Decision.RunErr with the items left approved.
func (r *Runner) Decide(ctx context.Context, tenant string, o DecideOptions) (*Decision, error) {
	now := r.o.Now().UTC()
	var decided []string
	p, err := r.updatePlan(ctx, tenant, o.PlanID, func(p *HeldPlan) (bool, error) {
		decided = decided[:0]
		if o.Approve && p.Status == PlanExpired {
			return false, &PlanError{Conflict: true, Msg: fmt.Sprintf("plan %s expired at %s; its pending items can no longer be approved (the next run proposes them again)",
				p.ID, p.ExpiresAt.Format(time.RFC3339))}
		}
		targets := o.Items
		if len(targets) == 0 {
			for _, it := range p.Items {
				if it.Status == ItemPending || (!o.Approve && it.Status == ItemScheduled) {
					targets = append(targets, it.ID)
				}
			}
			if len(targets) == 0 {
				return false, &PlanError{Conflict: true, Msg: fmt.Sprintf("plan %s has no items to decide", p.ID)}
			}
		}
		var unknown, wrong []string
		for _, id := range targets {
			it := p.Item(id)
			switch {
			case it == nil:
				unknown = append(unknown, id)
			case it.Status == ItemPending, !o.Approve && it.Status == ItemScheduled:
			default:
				wrong = append(wrong, id+" ("+it.Status+")")
			}
		}
		if len(unknown) > 0 {
			return false, &PlanError{Msg: fmt.Sprintf("plan %s has no item %s", p.ID, strings.Join(unknown, ", "))}
		}
		if len(wrong) > 0 {
			what := "pending"
			if !o.Approve {
				what = "pending or scheduled"
			}
			return false, &PlanError{Conflict: true, Msg: fmt.Sprintf("only %s items can be decided; not: %s", what, strings.Join(wrong, ", "))}
		}
		for _, id := range targets {
			it := p.Item(id)
			switch {
			case o.Approve:
				it.Status = ItemApproved
			case it.Status == ItemScheduled:
				it.Status = ItemCancelled
			default:
				it.Status = ItemRejected
			}
			it.DecidedBy, it.DecidedAt = o.Operator, now
			decided = append(decided, id)
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	r.o.Metrics.observeDecisions(tenant, p, decided)
	r.observePending(ctx, tenant)
	d := &Decision{Plan: p, Items: slices.Clone(decided)}
	if !o.Approve {
		return d, nil
	}
	ro := o.Run
	ro.Tenant, ro.Mode, ro.Trigger = tenant, ModeCorrect, TriggerApproval
	ro.approvalOnly = true
	d.Report, d.RunErr = r.Run(ctx, ro)
	if np, err := r.GetPlan(ctx, tenant, p.ID); err == nil {
		d.Plan = np
	}
	return d, nil
}

// TriggerApproval is the trigger of the run Decide starts.
const TriggerApproval = "approval"

// openPlans are the plans with open items, for one run.
type openPlans struct {
	plans []*HeldPlan
	byKey map[string][2]int // correction key → plan index, item index
	dirty map[int]bool
}

func (r *Runner) loadOpenPlans(ctx context.Context, tenant string) (*openPlans, error) {
	all, err := r.ListPlans(ctx, tenant, "")
	if err != nil {
		return nil, err
	}
	op := &openPlans{byKey: map[string][2]int{}, dirty: map[int]bool{}}
	for _, p := range all {
		if p.Status == PlanDone {
			continue
		}
		pi := len(op.plans)
		op.plans = append(op.plans, p)
		for ii := range p.Items {
			it := &p.Items[ii]
			if !it.open() || (it.Status == ItemPending && p.Status == PlanExpired) {
				continue
			}
			if _, dup := op.byKey[it.key()]; !dup {
				op.byKey[it.key()] = [2]int{pi, ii}
			}
		}
	}
	return op, nil
}

func (op *openPlans) item(ref [2]int) *PlanItem { return &op.plans[ref[0]].Items[ref[1]] }

// save writes every changed plan (re-applying this run's item changes on a
// concurrent update: an item an operator decided meanwhile keeps the
// operator's decision unless this run settled it from approved or
// scheduled, which operators cannot change).
func (r *Runner) saveOpenPlans(ctx context.Context, tenant string, op *openPlans) error {
	var errs []error
	for pi := range op.plans {
		if !op.dirty[pi] {
			continue
		}
		mine := op.plans[pi]
		_, err := r.updatePlan(ctx, tenant, mine.ID, func(cur *HeldPlan) (bool, error) {
			for _, it := range mine.Items {
				c := cur.Item(it.ID)
				if c == nil || c.Status == it.Status {
					continue
				}
				// The run changed it from what it read; an operator's
				// decision in between (pending → rejected, scheduled →
				// cancelled) wins over the run's scheduling of it.
				if c.Status == ItemRejected || c.Status == ItemCancelled {
					continue
				}
				*c = it
			}
			return true, nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("plan %s: %w", mine.ID, err))
		}
	}
	return errors.Join(errs...)
}

// sortedItems orders a new plan's items as corrections apply.
func sortedItems(items []PlanItem) {
	slices.SortStableFunc(items, func(a, b PlanItem) int {
		return cmp.Compare(slices.Index(actionOrder, a.Action), slices.Index(actionOrder, b.Action))
	})
}

// observePending sets the pending-items gauge of tenant from the store
// (best effort: a read error leaves it as it was).
func (r *Runner) observePending(ctx context.Context, tenant string) {
	if r.o.Metrics == nil {
		return
	}
	ps, err := r.ListPlans(ctx, tenant, PlanPending)
	if err != nil {
		return
	}
	n := 0
	for _, p := range ps {
		n += p.Pending
	}
	r.o.Metrics.setPending(tenant, n)
}

// hasDueItems reports whether tenant has approved items, or scheduled
// items whose ApplyAfter has passed, in its stored plans (false on a read
// error).
func (r *Runner) hasDueItems(ctx context.Context, tenant string) bool {
	ps, err := r.ListPlans(ctx, tenant, "")
	if err != nil {
		return false
	}
	now := r.o.Now()
	for _, p := range ps {
		for _, it := range p.Items {
			if it.Status == ItemApproved || (it.Status == ItemScheduled && !now.Before(it.ApplyAfter)) {
				return true
			}
		}
	}
	return false
}
