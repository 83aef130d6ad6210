package sync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/axonflow/axonflow-sync/internal/termtext"
	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/sync/oktasource"
)

// ExplainStep is one step of the reconciler's decision about one object.
type ExplainStep struct {
	// Step names it: okta_user, app_assignment, group_memberships, access,
	// okta_group, scope, match, drift, correction, holds.
	Step string `json:"step"`
	// Result is the step's outcome in a few words; Detail the evidence.
	Result string `json:"result"`
	Detail string `json:"detail,omitempty"`
}

// Explanation is the reconciler's decision about one user or group, step
// by step, from single-object reads of Okta and the store.
type Explanation struct {
	Tenant string `json:"tenant"`
	// Kind is "user" or "group"; Name the userName (login) or group name
	// asked about.
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	OktaID     string `json:"oktaId,omitempty"`
	AxonflowID string `json:"axonflowId,omitempty"`
	// ShouldHaveAccess (users) says whether Okta gives the user access.
	ShouldHaveAccess *bool `json:"shouldHaveAccess,omitempty"`
	// Drift are the drift entries about the object (memberships of a user
	// included); Corrections what a correct run would do about them.
	Drift       []Drift       `json:"drift"`
	Corrections []Correction  `json:"-"`
	Actions     []string      `json:"corrections"`
	Holds       []string      `json:"holds"`
	Steps       []ExplainStep `json:"steps"`
}

func (x *Explanation) step(name, result, detail string) {
	x.Steps = append(x.Steps, ExplainStep{Step: name, Result: result, Detail: detail})
}

// ExplainOptions says what Runner.Explain explains: one of User (a login)
// or Group (a group name), with the tenant's run options (Okta connection,
// push groups, approval, grace).
type ExplainOptions struct {
	Run   RunOptions
	User  string
	Group string
}

// Explain reads one user (by login) or one group (by name) from Okta and
// the store, and returns each step of the reconciler's decision about it:
// what Okta says (status, app assignment and its scope, group memberships),
// whether the user should have access and why, which matching rule links it
// to an AxonFlow object (or why none), the drift, the correction a correct
// run would make, and what holds it (origin not managed, approval mode,
// pending plan item, deactivation grace). Run-wide guards (max_changes,
// max_change_percent, empty_source) depend on the whole run and are named,
// not evaluated. It changes nothing. Errors: Okta or store read failures
// (an unknown user or group in Okta is a step, not an error).
func (r *Runner) Explain(ctx context.Context, o ExplainOptions) (*Explanation, error) {
	cfg := o.Run.Okta
	cfg.ExpandAppUsers = false
	client, err := oktasource.New(cfg, r.o.Logger)
	if err != nil {
		return nil, err
	}
	if o.User != "" {
		return r.explainUser(ctx, client, o)
	}
	return r.explainGroup(ctx, client, o)
}

func notFound(err error) bool {
	var ie *oktasource.IncompleteError
	return errors.As(err, &ie) && ie.Reason == oktasource.ReasonNotFound
}

// inScope reports whether Okta group g is in the tenant's scope, and why.
func inScope(ctx context.Context, c *oktasource.Client, g oktasource.Group, push []string) (bool, string, error) {
	for _, p := range push {
		if p == g.ID || p == g.Name {
			return true, "listed in okta.pushGroups", nil
		}
	}
	ok, err := c.AppGroupAssigned(ctx, g.ID)
	if err != nil {
		return false, "", err
	}
	if ok {
		return true, "assigned to the app", nil
	}
	return false, "neither assigned to the app nor in okta.pushGroups", nil
}

func (r *Runner) explainUser(ctx context.Context, c *oktasource.Client, o ExplainOptions) (*Explanation, error) {
	tenant := o.Run.Tenant
	x := &Explanation{Tenant: tenant, Kind: "user", Name: o.User, Drift: []Drift{}, Actions: []string{}, Holds: []string{}}
	d := &Desired{}
	ou, err := c.GetUser(ctx, o.User)
	switch {
	case notFound(err):
		x.step("okta_user", "not found", fmt.Sprintf("Okta has no user with login %q", o.User))
	case err != nil:
		return nil, err
	default:
		x.OktaID = ou.ID
		x.step("okta_user", "status "+ou.Status, fmt.Sprintf("Okta user %s, login %s", ou.ID, ou.Login))
		au, err := c.GetAppUser(ctx, ou.ID)
		switch {
		case notFound(err):
			x.step("app_assignment", "not assigned", "the user is not assigned to the app, directly or through a group")
		case err != nil:
			return nil, err
		default:
			how := "directly (scope USER)"
			if strings.EqualFold(au.Scope, "GROUP") {
				how = "through a group (scope GROUP)"
			}
			x.step("app_assignment", "assigned "+how, fmt.Sprintf("app user status %s, externalId %q", au.Status, au.ExternalID))
			d.Users = append(d.Users, DesiredUser{OktaID: ou.ID, AppExternalID: au.ExternalID, AppStatus: au.Status, UserStatus: ou.Status,
				Identity: mapping.IdentityFromOkta(ou.ID, ou.Login, ou.Email, ou.FirstName, ou.LastName, GrantsAccess(au.Status, ou.Status))})
		}
		gs, err := c.ListUserGroups(ctx, ou.ID)
		if err != nil {
			return nil, err
		}
		var parts []string
		for _, g := range gs {
			if strings.EqualFold(g.Type, "BUILT_IN") {
				continue
			}
			ok, why, err := inScope(ctx, c, g, o.Run.PushGroups)
			if err != nil {
				return nil, err
			}
			parts = append(parts, fmt.Sprintf("%s (%s)", g.Name, why))
			if ok {
				dg := DesiredGroup{OktaID: g.ID, Name: g.Name}
				if len(d.Users) > 0 {
					dg = d.WithMembers(dg, ou.ID)
				}
				d.Groups = append(d.Groups, dg)
			}
		}
		if len(parts) == 0 {
			x.step("group_memberships", "none", "the user is in no Okta group")
		} else {
			x.step("group_memberships", fmt.Sprintf("%d groups, %d in scope", len(parts), len(d.Groups)), strings.Join(parts, "; "))
		}
	}
	access := len(d.Users) == 1 && d.Users[0].Identity.Active
	x.ShouldHaveAccess = &access
	switch {
	case ou == nil:
		x.step("access", "no access", "Okta does not know the user")
	case len(d.Users) == 0:
		x.step("access", "no access", "the user is not assigned to the app")
	case access:
		x.step("access", "should have access", fmt.Sprintf("app user %s and Okta user %s both grant access", d.Users[0].AppStatus, d.Users[0].UserStatus))
	default:
		x.step("access", "no access", fmt.Sprintf("app user %s, Okta user %s: only app users ACTIVE/PROVISIONED whose Okta user is ACTIVE, PROVISIONED, RECOVERY, PASSWORD_EXPIRED or LOCKED_OUT have access",
			d.Users[0].AppStatus, d.Users[0].UserStatus))
	}

	// The AxonFlow side: the candidates of each matching rule.
	a := &Actual{}
	seen := map[string]bool{}
	addUser := func(id string) error {
		if id == "" || seen[id] {
			return nil
		}
		u, err := r.o.Store.GetUser(ctx, tenant, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		seen[id] = true
		a.Users = append(a.Users, ActualUser{ID: u.ID, Origin: u.Origin, Identity: mapping.IdentityOf(u), Version: u.Version})
		return nil
	}
	find := func(idx store.Index, v string) (string, error) {
		if v == "" {
			return "", nil
		}
		id, err := r.o.Store.FindUser(ctx, tenant, idx, v)
		if errors.Is(err, store.ErrNotFound) {
			return "", nil
		}
		return id, err
	}
	for _, look := range []struct {
		idx store.Index
		v   string
	}{{store.IndexExternalID, x.OktaID}, {store.IndexUserName, o.User}} {
		id, err := find(look.idx, look.v)
		if err != nil {
			return nil, err
		}
		if err := addUser(id); err != nil {
			return nil, err
		}
	}
	if len(d.Users) == 1 {
		if err := addUser(d.Users[0].AppExternalID); err != nil {
			return nil, err
		}
	}
	// Groups: the user's AxonFlow groups and the Okta groups' matches.
	var uids []string
	for _, u := range a.Users {
		uids = append(uids, u.ID)
	}
	memberOf := map[string][]string{}
	if len(uids) > 0 {
		if memberOf, err = r.o.Store.UserGroups(ctx, tenant, uids); err != nil {
			return nil, err
		}
	}
	gids := map[string]bool{}
	for _, ids := range memberOf {
		for _, g := range ids {
			gids[g] = true
		}
	}
	for _, dg := range d.Groups {
		if id, err := r.o.Store.FindGroup(ctx, tenant, store.IndexDisplayName, dg.Name); err == nil {
			gids[id] = true
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	if len(gids) > 0 {
		ids := make([]string, 0, len(gids))
		for id := range gids {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		groups, err := r.o.Store.GetGroups(ctx, tenant, ids)
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			var members []string
			for uid, gs := range memberOf {
				if slices.Contains(gs, g.ID) {
					members = append(members, uid)
				}
			}
			a.Groups = append(a.Groups, a.WithMembers(ActualGroup{ID: g.ID, Origin: g.Origin, OktaID: g.OktaID,
				DisplayName: g.DisplayName(), Version: g.Version}, members...))
		}
	}
	m := MatchObjects(d, a)
	matched := ""
	for oid, ax := range m.Users {
		if oid == x.OktaID {
			matched = ax
		}
	}
	switch {
	case matched != "":
		x.AxonflowID = matched
		x.step("match", "AxonFlow user "+matched, matchRule(d, a, matched))
	case len(d.Users) == 0 && len(a.Users) > 0:
		x.AxonflowID = a.Users[0].ID
		x.step("match", "AxonFlow user "+a.Users[0].ID, "Okta does not assign the user, so nothing in Okta claims this AxonFlow user (found by userName or externalId)")
	case len(a.Users) == 0:
		x.step("match", "none", "no AxonFlow user has the Okta user id as externalId, the app user's externalId as id, or this userName")
	default:
		x.step("match", "none", "the AxonFlow candidates are linked to another identity (see drift: conflict)")
	}
	drift := Diff(d, a, m)
	for _, dr := range drift {
		// Group-level drift is about other objects: keep the user's own.
		if dr.UserName != "" || dr.Kind == KindConflict {
			x.Drift = append(x.Drift, dr)
		}
	}
	return r.explainCorrections(ctx, x, o, d, a, m, drift)
}

func matchRule(d *Desired, a *Actual, axID string) string {
	for _, u := range a.Users {
		if u.ID != axID {
			continue
		}
		for _, du := range d.Users {
			switch {
			case u.Identity.ExternalID == du.OktaID && du.OktaID != "":
				return "rule 1: its externalId is the Okta user id " + du.OktaID
			case du.AppExternalID == u.ID:
				return "rule 2: its id is the app user's externalId (the id Okta recorded when it pushed)"
			default:
				return "rule 3: same userName, ignoring case (" + u.Identity.UserName + ")"
			}
		}
	}
	return ""
}

// explainCorrections adds the correction, holds and drift steps.
func (r *Runner) explainCorrections(ctx context.Context, x *Explanation, o ExplainOptions, d *Desired, a *Actual, m *Matching, drift []Drift) (*Explanation, error) {
	if len(x.Drift) == 0 {
		x.step("drift", "none", "AxonFlow matches Okta for this "+x.Kind)
	} else {
		var parts []string
		for _, dr := range x.Drift {
			s := string(dr.Kind)
			if x.Kind == "user" && dr.DisplayName != "" {
				s += " (group " + dr.DisplayName + ")"
			}
			if dr.Field != "" && dr.Field != "members" {
				s += fmt.Sprintf(" %s: okta %q, axonflow %q", dr.Field, dr.Okta, dr.AxonFlow)
			}
			parts = append(parts, s)
		}
		x.step("drift", fmt.Sprintf("%d entries", len(x.Drift)), strings.Join(parts, "; "))
	}
	p := MakePlan(drift, d, a, m)
	mine := func(c Correction) bool {
		if x.Kind == "user" {
			return c.UserName != "" && (c.OktaID == x.OktaID || c.AxonflowID == x.AxonflowID || c.MemberID == x.AxonflowID || c.MemberOktaID == x.OktaID)
		}
		return c.UserName == "" && (c.OktaID == x.OktaID && x.OktaID != "" || c.AxonflowID == x.AxonflowID && x.AxonflowID != "")
	}
	for _, c := range p.Corrections {
		if mine(c) {
			x.Corrections = append(x.Corrections, c)
			x.Actions = append(x.Actions, string(c.Action)+": "+proposal(&c))
		}
	}
	for _, c := range p.NotManaged {
		if mine(c) {
			x.Holds = append(x.Holds, fmt.Sprintf("not_managed: %s would change an object not created by Okta push or the reconciler; it is reported, never changed", c.Action))
		}
	}
	if len(x.Actions) == 0 {
		x.step("correction", "none", "a correct run would change nothing for this "+x.Kind)
	} else {
		x.step("correction", strings.Join(actionsOf(x.Corrections), ", "), strings.Join(x.Actions, "; "))
	}
	approval, _ := ParseApproval(string(o.Run.Approval))
	for _, c := range x.Corrections {
		switch {
		case approval == ApprovalAll:
			x.Holds = append(x.Holds, fmt.Sprintf("approval: %s waits for an operator (reconcile.approval all)", c.Action))
		case approval == ApprovalDestructive && c.Destructive:
			x.Holds = append(x.Holds, fmt.Sprintf("approval: %s waits for an operator (reconcile.approval destructive)", c.Action))
		}
		if o.Run.DeactivationGrace > 0 && isDeactivation(&c) {
			x.Holds = append(x.Holds, fmt.Sprintf("grace: the deactivation is scheduled %s ahead and can be cancelled (reconcile.deactivationGrace)", o.Run.DeactivationGrace))
		}
	}
	// Items of open plans about this object.
	plans, err := r.ListPlans(ctx, o.Run.Tenant, "")
	if err != nil {
		return nil, err
	}
	for _, pl := range plans {
		for _, it := range pl.Items {
			if !it.open() {
				continue
			}
			about := (x.AxonflowID != "" && (it.AxonflowID == x.AxonflowID || it.Member == x.AxonflowID)) ||
				(x.OktaID != "" && (it.OktaID == x.OktaID || it.MemberOktaID == x.OktaID))
			if !about {
				continue
			}
			h := fmt.Sprintf("plan %s item %s: %s is %s", pl.ID, it.ID, it.Action, it.Status)
			if pl.Status == PlanExpired && it.Status == ItemPending {
				h += " (plan expired)"
			}
			if !it.ApplyAfter.IsZero() && it.Status == ItemScheduled {
				h += " until " + it.ApplyAfter.Format("2006-01-02T15:04:05Z07:00")
			}
			x.Holds = append(x.Holds, h)
		}
	}
	if len(x.Corrections) > 0 {
		x.Holds = append(x.Holds, "run-wide guards (empty_source, max_changes, max_change_percent) and the stale-snapshot check apply to the whole run and are not evaluated here")
	}
	if len(x.Holds) == 0 {
		x.step("holds", "none", "")
	} else {
		x.step("holds", fmt.Sprintf("%d", len(x.Holds)), strings.Join(x.Holds, "; "))
	}
	return x, nil
}

func actionsOf(cs []Correction) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c.Action)
	}
	return out
}

func (r *Runner) explainGroup(ctx context.Context, c *oktasource.Client, o ExplainOptions) (*Explanation, error) {
	tenant := o.Run.Tenant
	x := &Explanation{Tenant: tenant, Kind: "group", Name: o.Group, Drift: []Drift{}, Actions: []string{}, Holds: []string{}}
	d := &Desired{}
	g, err := c.FindGroupByName(ctx, o.Group)
	switch {
	case notFound(err):
		x.step("okta_group", "not found", fmt.Sprintf("Okta has no group named %q", o.Group))
	case err != nil:
		return nil, err
	default:
		x.OktaID = g.ID
		x.step("okta_group", g.Name, fmt.Sprintf("Okta group %s, type %s", g.ID, g.Type))
		ok, why, err := inScope(ctx, c, *g, o.Run.PushGroups)
		if err != nil {
			return nil, err
		}
		if ok {
			x.step("scope", "in scope", why)
			members, err := c.ListGroupMembers(ctx, g.ID)
			if err != nil {
				return nil, err
			}
			x.step("members", fmt.Sprintf("%d Okta members", len(members)), "members who are app users should be members in AxonFlow (explain a user for one membership)")
			d.Groups = append(d.Groups, DesiredGroup{OktaID: g.ID, Name: g.Name})
		} else {
			x.step("scope", "not in scope", why)
		}
	}
	a := &Actual{}
	var cands []string
	if id, err := r.o.Store.FindGroup(ctx, tenant, store.IndexDisplayName, o.Group); err == nil {
		cands = append(cands, id)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if x.OktaID != "" { // a group linked by Okta id may have another name now
		for off := 0; ; off += loadPage {
			pg, err := r.o.Store.ListGroups(ctx, tenant, off, loadPage)
			if err != nil {
				return nil, err
			}
			for _, sg := range pg.Items {
				if sg.OktaID == x.OktaID && !slices.Contains(cands, sg.ID) {
					cands = append(cands, sg.ID)
				}
			}
			if len(pg.Items) < loadPage {
				break
			}
		}
	}
	if len(cands) > 0 {
		gs, err := r.o.Store.GetGroups(ctx, tenant, cands)
		if err != nil {
			return nil, err
		}
		for _, sg := range gs {
			a.Groups = append(a.Groups, ActualGroup{ID: sg.ID, Origin: sg.Origin, OktaID: sg.OktaID, DisplayName: sg.DisplayName(), Version: sg.Version})
		}
	}
	m := MatchObjects(d, a)
	matched := ""
	for oid, ax := range m.Groups {
		if oid == x.OktaID {
			matched = ax
		}
	}
	switch {
	case matched != "":
		x.AxonflowID = matched
		rule := "rule 2: same displayName, ignoring case (its Okta id is not recorded yet)"
		for _, ag := range a.Groups {
			if ag.ID == matched && ag.OktaID == x.OktaID {
				rule = "rule 1: it recorded the Okta group id " + x.OktaID
			}
		}
		x.step("match", "AxonFlow group "+matched, rule)
	case len(a.Groups) > 0:
		x.AxonflowID = a.Groups[0].ID
		x.step("match", "AxonFlow group "+a.Groups[0].ID, "no Okta group in scope claims it")
	default:
		x.step("match", "none", "no AxonFlow group records this Okta group id or has this displayName")
	}
	drift := Diff(d, a, m)
	for _, dr := range drift {
		if dr.UserName == "" {
			x.Drift = append(x.Drift, dr)
		}
	}
	return r.explainCorrections(ctx, x, o, d, a, m, drift)
}

// WriteTable writes the explanation for people: one line per step.
func (x *Explanation) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	termtext.Fprintf(tw, "Explain %s %s of tenant %s\n\nSTEP\tRESULT\tDETAIL\n", x.Kind, cell(x.Name), x.Tenant)
	for _, s := range x.Steps {
		termtext.Fprintf(tw, "%s\t%s\t%s\n", s.Step, cell(s.Result), cell(s.Detail))
	}
	return tw.Flush()
}
