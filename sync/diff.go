package sync

import (
	"slices"
	"strconv"
	"strings"

	"github.com/axonflow/axonflow-sync/mapping"
)

// Diff lists the drift between d and a under matching m (from
// MatchObjects), sorted by kind, then names and ids. It is pure.
//
// Users: a matched user yields one user_attributes entry per field of
// mapping.Identity.Diff and a user_status entry when Active differs; an
// unmatched Okta user with access is user_missing (one without access is
// not); an active, unmatched AxonFlow user is user_orphaned (an inactive one
// is already what Okta's push leaves behind). Groups: group_attributes when
// the displayName differs (exactly, case included), group_missing,
// group_orphaned. Memberships of every in-scope group that is matched or
// missing: membership_missing for each desired member not in the AxonFlow
// group (also members that are themselves missing and will be created),
// membership_extra for each AxonFlow member that is a known user but no
// desired member. Objects involved in a conflict yield only their conflict
// entries.
func Diff(d *Desired, a *Actual, m *Matching) []Drift {
	out := slices.Clone(m.Conflicts)
	scratch := &memberScratch{want: make([]uint32, len(a.Users)), in: make([]uint32, len(a.Users))}

	for di := range d.Users {
		du := &d.Users[di]
		if m.conflictOktaUsers[du.OktaID] {
			continue
		}
		ai := m.actualOf(di)
		if ai < 0 {
			if du.Identity.Active {
				out = append(out, Drift{Kind: KindUserMissing, UserName: du.Identity.UserName, OktaID: du.OktaID})
			}
			continue
		}
		au := &a.Users[ai]
		for _, f := range du.Identity.Diff(au.Identity) {
			out = append(out, Drift{Kind: KindUserAttributes, UserName: du.Identity.UserName, OktaID: du.OktaID,
				AxonflowID: au.ID, Field: f, Okta: du.Identity.Get(f), AxonFlow: au.Identity.Get(f)})
		}
		if du.Identity.Active != au.Identity.Active {
			out = append(out, Drift{Kind: KindUserStatus, UserName: du.Identity.UserName, OktaID: du.OktaID,
				AxonflowID: au.ID, Field: "active", Okta: strconv.FormatBool(du.Identity.Active),
				AxonFlow: strconv.FormatBool(au.Identity.Active)})
		}
	}
	for i, au := range a.Users {
		if _, ok := m.matchedUser(i); ok || m.conflictUsers[au.ID] || !au.Identity.Active {
			continue
		}
		out = append(out, Drift{Kind: KindUserOrphaned, UserName: au.Identity.UserName,
			OktaID: au.Identity.ExternalID, AxonflowID: au.ID})
	}

	actualGroups := make(map[string]*ActualGroup, len(a.Groups))
	for i := range a.Groups {
		actualGroups[a.Groups[i].ID] = &a.Groups[i]
	}
	for _, dg := range d.Groups {
		if m.conflictOktaGroups[dg.OktaID] {
			continue
		}
		var ag *ActualGroup
		if axID, ok := m.Groups[dg.OktaID]; ok {
			ag = actualGroups[axID]
			if dg.Name != ag.DisplayName {
				out = append(out, Drift{Kind: KindGroupAttributes, DisplayName: dg.Name, OktaID: dg.OktaID,
					AxonflowID: ag.ID, Field: "displayName", Okta: dg.Name, AxonFlow: ag.DisplayName})
			}
		} else {
			out = append(out, Drift{Kind: KindGroupMissing, DisplayName: dg.Name, OktaID: dg.OktaID})
		}
		out = diffMembers(out, dg, ag, m, d, a, scratch)
	}
	for _, ag := range a.Groups {
		if _, ok := m.matchedGroups[ag.ID]; ok || m.conflictGroups[ag.ID] {
			continue
		}
		out = append(out, Drift{Kind: KindGroupOrphaned, DisplayName: ag.DisplayName, OktaID: ag.OktaID, AxonflowID: ag.ID})
	}
	out = diffRoles(out, d, a, m)
	sortDrift(out)
	return out
}

// diffRoles appends role_assignment drift: for every matched user, the
// group-derived (scim) roles of its stored memberships against those of the
// memberships Okta implies (the matched AxonFlow group, named as in Okta; a
// group still missing in AxonFlow can only match by-name mappings). Nothing
// is compared when the tenant has no role mappings.
func diffRoles(out []Drift, d *Desired, a *Actual, m *Matching) []Drift {
	if len(a.RoleMappings) == 0 {
		return out
	}
	implied := map[string][]mapping.Ref{} // Okta user id → groups Okta implies
	for _, dg := range d.Groups {
		if m.conflictOktaGroups[dg.OktaID] {
			continue
		}
		ref := mapping.Ref{ID: "okta:" + dg.OktaID, Display: dg.Name}
		if axID, ok := m.Groups[dg.OktaID]; ok {
			ref.ID = axID
		}
		for _, di := range dg.members {
			ou := d.Users[di].OktaID
			implied[ou] = append(implied[ou], ref)
		}
	}
	stored := map[string][]mapping.Ref{} // AxonFlow user id → its groups
	for _, ag := range a.Groups {
		// Members the users read did not see (ag.others) are no matched
		// user's: nothing looks them up.
		for _, ai := range ag.members {
			uid := a.Users[ai].ID
			stored[uid] = append(stored[uid], mapping.Ref{ID: ag.ID, Display: ag.DisplayName})
		}
	}
	scimRoles := func(refs []mapping.Ref) string {
		var names []string
		for _, r := range mapping.EffectiveRoles(refs, a.RoleMappings, nil, "") {
			if r.Source == mapping.SourceSCIM && !slices.Contains(names, r.Role) {
				names = append(names, r.Role)
			}
		}
		return strings.Join(names, ",")
	}
	for _, du := range d.Users {
		axID, ok := m.Users[du.OktaID]
		if !ok || m.conflictOktaUsers[du.OktaID] || m.conflictUsers[axID] {
			continue
		}
		want, have := scimRoles(implied[du.OktaID]), scimRoles(stored[axID])
		if want != have {
			out = append(out, Drift{Kind: KindRoleAssignment, UserName: du.Identity.UserName, OktaID: du.OktaID,
				AxonflowID: axID, Field: "roles", Okta: want, AxonFlow: have})
		}
	}
	return out
}

// memberScratch is what diffMembers reuses from one group to the next:
// per index of Actual.Users, the stamp of the last group that wants the
// user (want) and that has it (in).
type memberScratch struct {
	want, in []uint32
	stamp    uint32
}

// diffMembers appends the membership drift of desired group dg, matched to
// ag (nil when the group is missing). Members are held as their indexes
// in d.Users and a.Users (DesiredGroup and ActualGroup members), so a
// membership costs no lookup by id.
func diffMembers(out []Drift, dg DesiredGroup, ag *ActualGroup, m *Matching,
	d *Desired, a *Actual, scratch *memberScratch) []Drift {
	entry := func(kind Kind, userName, oktaUser, axUser string) Drift {
		d := Drift{Kind: kind, DisplayName: dg.Name, UserName: userName, OktaID: dg.OktaID,
			Field: "members", Okta: oktaUser, AxonFlow: axUser}
		if ag != nil {
			d.AxonflowID = ag.ID
		}
		return d
	}
	scratch.stamp++
	stamp := scratch.stamp
	if ag != nil {
		for _, ai := range ag.members {
			scratch.in[ai] = stamp
		}
	}
	for _, di := range dg.members {
		du := &d.Users[di]
		ou := du.OktaID
		if m.conflictOktaUsers[ou] {
			continue
		}
		ai := m.actualOf(int(di))
		switch {
		case ai >= 0 && m.conflictUsers[a.Users[ai].ID]:
			continue
		case ai >= 0:
			scratch.want[ai] = stamp
			if ag == nil || scratch.in[ai] != stamp {
				out = append(out, entry(KindMembershipMissing, du.Identity.UserName, ou, a.Users[ai].ID))
			}
		case du.Identity.Active:
			// The member is missing and will be created.
			out = append(out, entry(KindMembershipMissing, du.Identity.UserName, ou, ""))
		}
	}
	if ag == nil {
		return out
	}
	// Members the users read did not see (ag.others: users created after
	// the users were read) are not judged in this run.
	for _, ai := range ag.members {
		axID := a.Users[ai].ID
		if scratch.want[ai] == stamp || m.conflictUsers[axID] {
			continue
		}
		okta, _ := m.matchedUser(int(ai))
		out = append(out, entry(KindMembershipExtra, a.Users[ai].Identity.UserName, okta, axID))
	}
	return out
}
