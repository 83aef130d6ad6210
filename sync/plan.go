package sync

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/axonflow/axonflow-sync/mapping"
)

// Action is what a correction does.
type Action string

// Correction actions, in apply order.
const (
	ActUpdateUser     Action = "update_user"     // identity fields and/or active, of a matched user
	ActCreateUser     Action = "create_user"     // a missing user, Origin reconciler
	ActUpdateGroup    Action = "update_group"    // displayName (and the Okta group id link)
	ActLinkGroup      Action = "link_group"      // store the Okta group id of a group matched by name
	ActCreateGroup    Action = "create_group"    // a missing group, Origin reconciler, with its Okta id
	ActAddMember      Action = "add_member"      // one membership
	ActRemoveMember   Action = "remove_member"   // one membership
	ActDeleteGroup    Action = "delete_group"    // an orphaned group
	ActDeactivateUser Action = "deactivate_user" // an orphaned user (active → false; never deleted)
)

// actionOrder is the apply order: users (updates first, so renames free
// names that creates need), groups, membership additions, removals, group
// deletions, user deactivations.
var actionOrder = []Action{ActUpdateUser, ActCreateUser, ActUpdateGroup, ActLinkGroup, ActCreateGroup,
	ActAddMember, ActRemoveMember, ActDeleteGroup, ActDeactivateUser}

// Correction is one planned change.
type Correction struct {
	Action Action
	// UserName / DisplayName name the user or group (memberships: both).
	UserName, DisplayName string
	// OktaID and AxonflowID identify the user or group (memberships: the
	// group); AxonflowID is "" for objects created by this plan.
	OktaID, AxonflowID string
	// MemberOktaID and MemberID identify the member of a membership
	// correction (MemberID "" when the member is created by this plan).
	MemberOktaID, MemberID string
	// Identity is the target identity of create_user and update_user.
	Identity mapping.Identity
	// Fields are the identity fields update_user changes ("active" included).
	Fields []string
	// Destructive marks corrections that take something away: membership
	// removals, group deletions, deactivations (also update_user setting
	// active false).
	Destructive bool
	// drift indexes the drift entries this correction resolves.
	drift []int
}

// Plan is the ordered list of corrections for one run plus what was held
// back because the objects are not the reconciler's to change.
type Plan struct {
	Corrections []Correction
	// NotManaged are corrections withheld because their object's origin is
	// not okta-push or reconciler; their drift stays reported.
	NotManaged []Correction
}

// Changes returns the number of corrections that count against the change
// limits: all but link_group (which only records the Okta id of a group
// matched by name and changes nothing SCIM clients see).
func (p *Plan) Changes() int {
	n := 0
	for _, c := range p.Corrections {
		if c.Action != ActLinkGroup {
			n++
		}
	}
	return n
}

// Managed reports whether the reconciler may change an object of this
// origin: only okta-push and reconciler (an empty or unknown origin is not
// managed).
func Managed(origin string) bool {
	return origin == mapping.OriginOktaPush || origin == mapping.OriginReconciler
}

// MakePlan turns drift (from Diff over d, a, m) into ordered corrections.
// user_missing → create_user; user_attributes and user_status of one user →
// one update_user; group_missing → create_group; group_attributes →
// update_group; a managed group matched by name without its Okta id →
// link_group; membership_missing → add_member; membership_extra →
// remove_member; group_orphaned → delete_group; user_orphaned →
// deactivate_user. conflict entries yield nothing. Corrections that would
// change an existing user or group whose origin is not managed (see
// Managed) go to NotManaged. It is pure.
func MakePlan(drift []Drift, d *Desired, a *Actual, m *Matching) *Plan {
	p := &Plan{}
	groups := make(map[string]*ActualGroup, len(a.Groups))
	for i := range a.Groups {
		groups[a.Groups[i].ID] = &a.Groups[i]
	}
	desired := desiredIndex(d)
	out := make([]Correction, 0, len(drift)+len(m.Groups))
	updates := map[string]int{} // AxonFlow user id → index in out
	groupUpdates := map[string]int{}
	for i, dr := range drift {
		switch dr.Kind {
		case KindUserMissing:
			out = append(out, Correction{Action: ActCreateUser, UserName: dr.UserName, OktaID: dr.OktaID,
				Identity: d.Users[desired.get(dr.OktaID)].Identity, drift: []int{i}})
		case KindUserAttributes, KindUserStatus:
			j, ok := updates[dr.AxonflowID]
			if !ok {
				j = len(out)
				updates[dr.AxonflowID] = j
				out = append(out, Correction{Action: ActUpdateUser, UserName: dr.UserName, OktaID: dr.OktaID,
					AxonflowID: dr.AxonflowID, Identity: d.Users[desired.get(dr.OktaID)].Identity})
			}
			c := &out[j]
			c.Fields = append(c.Fields, dr.Field)
			c.drift = append(c.drift, i)
			if dr.Kind == KindUserStatus && !c.Identity.Active {
				c.Destructive = true
			}
		case KindGroupMissing:
			out = append(out, Correction{Action: ActCreateGroup, DisplayName: dr.DisplayName, OktaID: dr.OktaID, drift: []int{i}})
		case KindGroupAttributes:
			groupUpdates[dr.AxonflowID] = len(out)
			out = append(out, Correction{Action: ActUpdateGroup, DisplayName: dr.Okta, OktaID: dr.OktaID,
				AxonflowID: dr.AxonflowID, Fields: []string{dr.Field}, drift: []int{i}})
		case KindMembershipMissing, KindMembershipExtra:
			c := Correction{Action: ActAddMember, DisplayName: dr.DisplayName, UserName: dr.UserName, OktaID: dr.OktaID,
				AxonflowID: dr.AxonflowID, MemberOktaID: dr.Okta, MemberID: dr.AxonFlow, drift: []int{i}}
			if dr.Kind == KindMembershipExtra {
				c.Action, c.Destructive = ActRemoveMember, true
			}
			out = append(out, c)
		case KindGroupOrphaned:
			out = append(out, Correction{Action: ActDeleteGroup, DisplayName: dr.DisplayName, OktaID: dr.OktaID,
				AxonflowID: dr.AxonflowID, Destructive: true, drift: []int{i}})
		case KindUserOrphaned:
			out = append(out, Correction{Action: ActDeactivateUser, UserName: dr.UserName, OktaID: dr.OktaID,
				AxonflowID: dr.AxonflowID, Destructive: true, drift: []int{i}})
		}
	}
	// Link groups matched by name (push never records Okta ids), so a
	// later rename in Okta is an update, not a delete and re-create.
	for oktaID, axID := range m.Groups {
		if g := groups[axID]; g.OktaID == "" {
			if _, ok := groupUpdates[axID]; !ok {
				out = append(out, Correction{Action: ActLinkGroup, DisplayName: g.DisplayName, OktaID: oktaID, AxonflowID: axID})
			}
		}
	}
	for _, c := range out {
		origin, exists := "", c.AxonflowID != ""
		switch c.Action {
		case ActUpdateUser, ActDeactivateUser:
			origin = a.Users[a.userIndex(c.AxonflowID)].Origin
		case ActUpdateGroup, ActLinkGroup, ActDeleteGroup, ActAddMember, ActRemoveMember:
			if exists {
				origin = groups[c.AxonflowID].Origin
			}
		default:
			exists = false
		}
		if exists && !Managed(origin) {
			if c.Action != ActLinkGroup {
				p.NotManaged = append(p.NotManaged, c)
			}
			continue
		}
		p.Corrections = append(p.Corrections, c)
	}
	sortCorrections(p.Corrections)
	sortCorrections(p.NotManaged)
	return p
}

func sortCorrections(cs []Correction) {
	slices.SortStableFunc(cs, func(a, b Correction) int {
		return cmp.Or(slices.Index(actionOrder, a.Action)-slices.Index(actionOrder, b.Action),
			strings.Compare(a.DisplayName, b.DisplayName), strings.Compare(a.UserName, b.UserName),
			strings.Compare(a.OktaID, b.OktaID), strings.Compare(a.AxonflowID, b.AxonflowID),
			strings.Compare(a.MemberOktaID, b.MemberOktaID), strings.Compare(a.MemberID, b.MemberID))
	})
}

// Limits bound one correcting run. The zero value refuses every correction;
// use DefaultLimits.
type Limits struct {
	// MaxChanges is the most corrections (link_group excluded) a run may
	// apply; more refuses the whole correction. Default 50.
	MaxChanges int
	// MaxChangePercent (0..100) bounds each kind of destructive correction
	// as a share of the existing AxonFlow objects of that kind: user
	// deactivations (orphans and status changes) of the tenant's users,
	// group deletions of its groups, membership removals of its
	// memberships. A run where any share exceeds it is refused as a whole.
	// Default 10.
	MaxChangePercent int
}

// Default limits (config: reconcile.maxChanges, reconcile.maxChangePercent).
const (
	DefaultMaxChanges       = 50
	DefaultMaxChangePercent = 10
)

// DefaultLimits returns Limits{50, 10}.
func DefaultLimits() Limits {
	return Limits{MaxChanges: DefaultMaxChanges, MaxChangePercent: DefaultMaxChangePercent}
}

// Guard names in Refusal.Guard.
const (
	GuardEmptySource      = "empty_source"       // Okta lists no app users, AxonFlow has users
	GuardMaxChanges       = "max_changes"        // more corrections than Limits.MaxChanges
	GuardMaxChangePercent = "max_change_percent" // a destructive share above Limits.MaxChangePercent
	GuardNotManaged       = "not_managed"        // objects not created by Okta push or the reconciler
	GuardLeaseLost        = "lease_lost"         // the run lost its lease before applying everything
)

// Refusal says why corrections were not applied. Guards empty_source,
// max_changes and max_change_percent refuse the whole correction (every
// planned correction is withheld); not_managed withholds only the
// corrections of objects the reconciler does not own; lease_lost the
// corrections left when the run lost its lease.
type Refusal struct {
	Guard  string `json:"guard"`
	Reason string `json:"reason"`
	// Corrections is the number of corrections withheld.
	Corrections int `json:"corrections"`
	// AxonflowIDs lists the objects left alone (not_managed only).
	AxonflowIDs []string `json:"axonflowIds,omitempty"`
}

// CheckGuards returns the guards that refuse the whole of plan p, given the
// desired and actual state and the limits (see Limits and the package doc):
// empty_source when Okta lists no app users while a has users (and there is
// something to correct), max_changes,
// max_change_percent. An empty result means p may be applied. It is pure.
func CheckGuards(p *Plan, d *Desired, a *Actual, lim Limits) []Refusal {
	var out []Refusal
	n := p.Changes()
	if len(d.Users) == 0 && len(a.Users) > 0 && n > 0 {
		out = append(out, Refusal{Guard: GuardEmptySource, Corrections: n, Reason: fmt.Sprintf(
			"Okta lists no users assigned to the app while AxonFlow has %d; refusing to act on an empty source "+
				"(check the app id and the token's permissions)", len(a.Users))})
	}
	if n > lim.MaxChanges {
		out = append(out, Refusal{Guard: GuardMaxChanges, Corrections: n, Reason: fmt.Sprintf(
			"%d corrections planned, more than maxChanges %d; nothing was changed (raise reconcile.maxChanges "+
				"or run once with --max-changes %d after checking the report)", n, lim.MaxChanges, n)})
	}
	var deact, delGroups, remMembers int
	for _, c := range p.Corrections {
		switch {
		case c.Action == ActDeactivateUser, c.Action == ActUpdateUser && c.Destructive:
			deact++
		case c.Action == ActDeleteGroup:
			delGroups++
		case c.Action == ActRemoveMember:
			remMembers++
		}
	}
	var over []string
	for _, s := range []struct {
		what   string
		n, of  int
		ofWhat string
	}{
		{"user deactivations", deact, len(a.Users), "users"},
		{"group deletions", delGroups, len(a.Groups), "groups"},
		{"membership removals", remMembers, a.Memberships(), "memberships"},
	} {
		if s.n > 0 && s.n*100 > lim.MaxChangePercent*s.of {
			over = append(over, fmt.Sprintf("%d %s of %d %s (%.1f %%)", s.n, s.what, s.of, s.ofWhat, 100*float64(s.n)/float64(s.of)))
		}
	}
	if len(over) > 0 {
		out = append(out, Refusal{Guard: GuardMaxChangePercent, Corrections: n, Reason: fmt.Sprintf(
			"%s: more than maxChangePercent %d %% of the existing objects; nothing was changed",
			strings.Join(over, ", "), lim.MaxChangePercent)})
	}
	return out
}

// notManagedRefusal summarises p.NotManaged (nil when empty).
func notManagedRefusal(p *Plan, a *Actual) *Refusal {
	if len(p.NotManaged) == 0 {
		return nil
	}
	origins := map[string]string{}
	for _, u := range a.Users {
		origins[u.ID] = u.Origin
	}
	for _, g := range a.Groups {
		origins[g.ID] = g.Origin
	}
	var ids []string
	seen := map[string]bool{}
	byOrigin := map[string]int{}
	for _, c := range p.NotManaged {
		if !seen[c.AxonflowID] {
			seen[c.AxonflowID] = true
			ids = append(ids, c.AxonflowID)
			byOrigin[cmp.Or(origins[c.AxonflowID], "unknown")]++
		}
	}
	slices.Sort(ids)
	var parts []string
	for _, o := range slices.Sorted(maps.Keys(byOrigin)) {
		parts = append(parts, fmt.Sprintf("%d with origin %s", byOrigin[o], o))
	}
	return &Refusal{Guard: GuardNotManaged, Corrections: len(p.NotManaged), AxonflowIDs: ids, Reason: fmt.Sprintf(
		"%d corrections left alone: %d objects were not created by Okta push or the reconciler (%s); "+
			"their drift stays reported", len(p.NotManaged), len(ids), strings.Join(parts, ", "))}
}
