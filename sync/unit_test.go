package sync

import (
	"slices"
	"strings"
	"testing"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/sync/oktasource"
)

func TestGrantsAccess(t *testing.T) {
	for _, c := range []struct {
		app, user string
		want      bool
	}{
		{"ACTIVE", "ACTIVE", true},
		{"PROVISIONED", "ACTIVE", true},
		{"ACTIVE", "", true}, // user not embedded
		{"ACTIVE", "PROVISIONED", true},
		{"ACTIVE", "RECOVERY", true},
		{"ACTIVE", "PASSWORD_EXPIRED", true},
		{"ACTIVE", "LOCKED_OUT", true},
		{"active", "active", true},
		{"ACTIVE", "SUSPENDED", false},
		{"ACTIVE", "DEPROVISIONED", false},
		{"ACTIVE", "STAGED", false},
		{"PROVISIONED", "SUSPENDED", false},
		{"INACTIVE", "ACTIVE", false},
		{"DEPROVISIONED", "ACTIVE", false},
		{"SUSPENDED", "ACTIVE", false},
		{"STAGED", "ACTIVE", false},
		{"PENDING", "ACTIVE", false},
		{"REVOKED", "ACTIVE", false},
		{"", "ACTIVE", false},
		{"SOMETHING_NEW", "ACTIVE", false},
	} {
		if got := GrantsAccess(c.app, c.user); got != c.want {
			t.Errorf("GrantsAccess(%q, %q) = %v; want %v", c.app, c.user, got, c.want)
		}
	}
}

func TestBuildDesired(t *testing.T) {
	snap := &oktasource.Snapshot{
		AppUsers: []oktasource.AppUser{
			{ID: "00ub", Status: "PROVISIONED", UserStatus: "ACTIVE", Login: "b@x", Email: "b@x.com", FirstName: "B", LastName: "Bee", ExternalID: "ax-b"},
			{ID: "00ua", Status: "ACTIVE", UserStatus: "SUSPENDED", Login: "a@x", Email: "a@x.com", FirstName: "A", LastName: "Ay"},
			// Not expanded: app username and app profile.
			{ID: "00uc", Status: "ACTIVE", UserName: "c@x", Profile: map[string]any{"email": "c@x.com", "given_name": "C", "family_name": "Cee"}},
		},
		Groups: []oktasource.Group{{ID: "00g2", Name: "Two"}, {ID: "00g1", Name: "One"}},
		Members: map[string][]oktasource.Member{
			"00g1": {{ID: "00ub"}, {ID: "00unot-in-app"}, {ID: "00ua"}},
			"00g2": {},
		},
	}
	d := BuildDesired(snap)
	if ids := []string{d.Users[0].OktaID, d.Users[1].OktaID, d.Users[2].OktaID}; !slices.Equal(ids, []string{"00ua", "00ub", "00uc"}) {
		t.Fatalf("users not sorted by id: %v", ids)
	}
	a, b, c := d.Users[0], d.Users[1], d.Users[2]
	if a.Identity.Active || !b.Identity.Active || !c.Identity.Active {
		t.Errorf("active: a %v b %v c %v", a.Identity.Active, b.Identity.Active, c.Identity.Active)
	}
	want := mapping.Identity{UserName: "b@x", Email: "b@x.com", GivenName: "B", FamilyName: "Bee", ExternalID: "00ub", Active: true}
	if b.Identity != want || b.AppExternalID != "ax-b" {
		t.Errorf("b = %+v", b)
	}
	wantC := mapping.Identity{UserName: "c@x", Email: "c@x.com", GivenName: "C", FamilyName: "Cee", ExternalID: "00uc", Active: true}
	if c.Identity != wantC {
		t.Errorf("c (not expanded) = %+v; want %+v", c.Identity, wantC)
	}
	if ms := d.Groups[0].MemberIDs(d); d.Groups[0].OktaID != "00g1" || !slices.Equal(ms, []string{"00ua", "00ub"}) {
		t.Errorf("group One = %+v, members %v (members must be app users only, sorted)", d.Groups[0], ms)
	}
	if ms := d.Groups[1].MemberIDs(d); ms == nil || len(ms) != 0 {
		t.Errorf("empty group members = %#v", ms)
	}
}

// du is a desired, active user.
func du(oktaID, login string) DesiredUser {
	return DesiredUser{OktaID: oktaID, Identity: mapping.Identity{UserName: login, Email: login, ExternalID: oktaID, Active: true}}
}

// au is an actual user from Okta push.
func au(id, userName, externalID string) ActualUser {
	return ActualUser{ID: id, Origin: mapping.OriginOktaPush,
		Identity: mapping.Identity{UserName: userName, Email: userName, ExternalID: externalID, Active: true}}
}

func pipeline(d *Desired, a *Actual) ([]Drift, *Matching, *Plan) {
	m := MatchObjects(d, a)
	drift := Diff(d, a, m)
	return drift, m, MakePlan(drift, d, a, m)
}

func TestMatchUsers(t *testing.T) {
	cases := []struct {
		name      string
		d         []DesiredUser
		a         []ActualUser
		matched   map[string]string
		conflicts int
		kinds     []Kind
	}{
		{name: "externalId wins over userName",
			d: []DesiredUser{du("00ua", "a@x")},
			a: []ActualUser{au("ax1", "a@x", ""), au("ax2", "other@x", "00ua")},
			// ax2 matches, but its rename onto ax1's name (held by an
			// unmatched user) would be a guess: conflict, no match.
			matched:   map[string]string{},
			conflicts: 1, kinds: []Kind{KindConflict}},
		{name: "externalId, no clash",
			d:       []DesiredUser{du("00ua", "a@x")},
			a:       []ActualUser{au("ax2", "old@x", "00ua")},
			matched: map[string]string{"00ua": "ax2"},
			kinds:   []Kind{KindUserAttributes, KindUserAttributes}},
		{name: "app externalId is the AxonFlow id",
			d: []DesiredUser{func() DesiredUser {
				u := du("00ua", "a@x")
				u.AppExternalID = "ax1"
				return u
			}()},
			a:       []ActualUser{au("ax1", "renamed@x", "")},
			matched: map[string]string{"00ua": "ax1"},
			kinds:   []Kind{KindUserAttributes, KindUserAttributes, KindUserAttributes}},
		{name: "userName ignoring case",
			d:       []DesiredUser{du("00ua", "Ada@X")},
			a:       []ActualUser{au("ax1", "ada@x", "")},
			matched: map[string]string{"00ua": "ax1"},
			kinds:   []Kind{KindUserAttributes}}, // externalId gets set
		{name: "userName by the identity rule (NFD vs NFC, issue 12 item 5): no userName drift",
			d:       []DesiredUser{du("00ua", "JOSE\u0301@x")},
			a:       []ActualUser{au("ax1", "josé@x", "")},
			matched: map[string]string{"00ua": "ax1"},
			kinds:   []Kind{KindUserAttributes}}, // externalId gets set
		{name: "userName by the identity rule (fullwidth, zero-width space)",
			d:       []DesiredUser{du("00ua", "ａｄａ@x\u200b")},
			a:       []ActualUser{au("ax1", "ada@x", "")},
			matched: map[string]string{"00ua": "ax1"},
			kinds:   []Kind{KindUserAttributes}},
		{name: "userName candidate linked to another identity",
			d:         []DesiredUser{du("00ua", "a@x")},
			a:         []ActualUser{au("ax1", "a@x", "00uZZZ")},
			matched:   map[string]string{},
			conflicts: 1, kinds: []Kind{KindUserOrphaned, KindConflict}},
		{name: "userName candidate is another app user's account (renamed away): missing, not conflict",
			d:       []DesiredUser{du("00ua", "robert@x"), du("00ub", "bob@x")},
			a:       []ActualUser{au("ax1", "bob@x", "00ua")},
			matched: map[string]string{"00ua": "ax1"},
			kinds:   []Kind{KindUserMissing, KindUserAttributes, KindUserAttributes}},
		{name: "two Okta users claim one AxonFlow user",
			d: []DesiredUser{func() DesiredUser {
				u := du("00ua", "a@x")
				u.AppExternalID = "ax1"
				return u
			}(), du("00ub", "b@x")},
			a:         []ActualUser{au("ax1", "b@x", "")},
			matched:   map[string]string{},
			conflicts: 2, kinds: []Kind{KindConflict, KindConflict}},
		{name: "unmatched and unknown",
			d:       []DesiredUser{du("00ua", "a@x")},
			a:       []ActualUser{au("ax1", "z@x", "00uz")},
			matched: map[string]string{},
			kinds:   []Kind{KindUserMissing, KindUserOrphaned}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, a := &Desired{Users: c.d}, &Actual{Users: c.a}
			drift, m, p := pipeline(d, a)
			if !mapsEqual(m.Users, c.matched) {
				t.Errorf("matched %v; want %v", m.Users, c.matched)
			}
			if len(m.Conflicts) != c.conflicts {
				t.Errorf("conflicts %+v; want %d", m.Conflicts, c.conflicts)
			}
			var ks []Kind
			for _, dr := range drift {
				ks = append(ks, dr.Kind)
			}
			if !slices.Equal(ks, c.kinds) {
				t.Errorf("drift kinds %v; want %v\n%+v", ks, c.kinds, drift)
			}
			// Nothing in a conflict is ever corrected.
			for _, cf := range m.Conflicts {
				for _, corr := range p.Corrections {
					if corr.OktaID == cf.OktaID || (cf.AxonflowID != "" && corr.AxonflowID == cf.AxonflowID && m.conflictUsers[cf.AxonflowID]) {
						t.Errorf("correction %+v touches conflict %+v", corr, cf)
					}
				}
			}
		})
	}
}

func TestMatchGroups(t *testing.T) {
	dg := func(id, name string) DesiredGroup { return DesiredGroup{OktaID: id, Name: name} }
	ag := func(id, name, okta string) ActualGroup {
		return ActualGroup{ID: id, DisplayName: name, OktaID: okta, Origin: mapping.OriginOktaPush}
	}
	cases := []struct {
		name    string
		d       []DesiredGroup
		a       []ActualGroup
		matched map[string]string
		kinds   []Kind
	}{
		{"okta id wins over name (rename)", []DesiredGroup{dg("00g1", "New")}, []ActualGroup{ag("g1", "Old", "00g1")},
			map[string]string{"00g1": "g1"}, []Kind{KindGroupAttributes}},
		{"name ignoring case", []DesiredGroup{dg("00g1", "Eng")}, []ActualGroup{ag("g1", "ENG", "")},
			map[string]string{"00g1": "g1"}, []Kind{KindGroupAttributes}},
		{"name held by a group linked elsewhere", []DesiredGroup{dg("00g1", "Eng")}, []ActualGroup{ag("g1", "Eng", "00g9")},
			map[string]string{}, []Kind{KindGroupOrphaned, KindConflict}},
		{"two groups linked to one Okta group", []DesiredGroup{dg("00g1", "Eng")}, []ActualGroup{ag("g1", "Eng", "00g1"), ag("g2", "Eng2", "00g1")},
			map[string]string{}, []Kind{KindConflict, KindConflict}},
		{"two Okta groups with one name", []DesiredGroup{dg("00g1", "Eng"), dg("00g2", "eng")}, []ActualGroup{ag("g1", "Eng", "")},
			map[string]string{}, []Kind{KindGroupOrphaned, KindConflict, KindConflict}},
		{"rename onto an unmatched group's name", []DesiredGroup{dg("00g1", "Ops")}, []ActualGroup{ag("g1", "Old", "00g1"), ag("g2", "ops", "")},
			map[string]string{}, []Kind{KindConflict}},
		{"missing and orphaned", []DesiredGroup{dg("00g1", "A")}, []ActualGroup{ag("g1", "B", "")},
			map[string]string{}, []Kind{KindGroupMissing, KindGroupOrphaned}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, a := &Desired{Groups: c.d}, &Actual{Groups: c.a}
			drift, m, _ := pipeline(d, a)
			if !mapsEqual(m.Groups, c.matched) {
				t.Errorf("matched %v; want %v", m.Groups, c.matched)
			}
			var ks []Kind
			for _, dr := range drift {
				ks = append(ks, dr.Kind)
			}
			slices.Sort(ks)
			want := slices.Clone(c.kinds)
			slices.Sort(want)
			if !slices.Equal(ks, want) {
				t.Errorf("drift kinds %v; want %v\n%+v", ks, want, drift)
			}
		})
	}
}

func TestMembershipsDiff(t *testing.T) {
	d := &Desired{
		Users: []DesiredUser{du("00ua", "a@x"), du("00ub", "b@x"), func() DesiredUser {
			u := du("00uc", "c@x")
			u.Identity.Active = false // revoked, not in AxonFlow: not created, not added
			return u
		}()},
	}
	d.Groups = []DesiredGroup{d.WithMembers(DesiredGroup{OktaID: "00g1", Name: "G"}, "00ua", "00ub", "00uc")}
	a := &Actual{
		Users: []ActualUser{au("axa", "a@x", "00ua"), au("axz", "z@x", "")},
	}
	// "ghost" is a member the users listing did not see (created
	// meanwhile): not judged.
	a.Groups = []ActualGroup{a.WithMembers(ActualGroup{ID: "g1", DisplayName: "G", OktaID: "00g1", Origin: mapping.OriginOktaPush}, "axz", "ghost")}
	drift, _, p := pipeline(d, a)
	var got []string
	for _, dr := range drift {
		got = append(got, string(dr.Kind)+":"+dr.Okta+"/"+dr.AxonFlow)
	}
	want := []string{"user_missing:/", "user_orphaned:/", "membership_missing:00ua/axa", "membership_missing:00ub/", "membership_extra:/axz"}
	if !slices.Equal(got, want) {
		t.Errorf("drift %v; want %v", got, want)
	}
	var acts []Action
	for _, c := range p.Corrections {
		acts = append(acts, c.Action)
	}
	wantActs := []Action{ActCreateUser, ActAddMember, ActAddMember, ActRemoveMember, ActDeactivateUser}
	if !slices.Equal(acts, wantActs) {
		t.Errorf("plan %v; want %v", acts, wantActs)
	}
}

func TestPlanLeavesUnmanagedAlone(t *testing.T) {
	op := mapping.OriginOperator
	d := &Desired{Users: []DesiredUser{du("00ua", "a@x")}}
	d.Groups = []DesiredGroup{d.WithMembers(DesiredGroup{OktaID: "00g1", Name: "G"}, "00ua")}
	a := &Actual{
		Users: []ActualUser{{ID: "axa", Origin: op, Identity: mapping.Identity{UserName: "a@x", ExternalID: "00ua", Active: true}},
			{ID: "axo", Origin: op, Identity: mapping.Identity{UserName: "o@x", Active: true}}},
		Groups: []ActualGroup{{ID: "g1", DisplayName: "G", Origin: op}, {ID: "g2", DisplayName: "Mine", Origin: ""}},
	}
	drift, _, p := pipeline(d, a)
	if len(drift) == 0 {
		t.Fatal("no drift")
	}
	if len(p.Corrections) != 0 {
		t.Errorf("corrections on unmanaged objects: %+v", p.Corrections)
	}
	r := notManagedRefusal(p, a)
	if r == nil || r.Guard != GuardNotManaged || !slices.Equal(r.AxonflowIDs, []string{"axa", "axo", "g1", "g2"}) {
		t.Fatalf("refusal %+v", r)
	}
	if !strings.Contains(r.Reason, "origin operator") || !strings.Contains(r.Reason, "origin unknown") {
		t.Errorf("reason %q", r.Reason)
	}
}

func TestGuards(t *testing.T) {
	users := func(n int) []ActualUser {
		out := make([]ActualUser, n)
		for i := range out {
			out[i] = ActualUser{ID: "u" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)}
		}
		return out
	}
	corr := func(act Action, n int, destructive bool) []Correction {
		out := make([]Correction, n)
		for i := range out {
			out[i] = Correction{Action: act, Destructive: destructive}
		}
		return out
	}
	one := &Desired{Users: []DesiredUser{du("00ua", "a@x")}}
	cases := []struct {
		name   string
		d      *Desired
		a      *Actual
		plan   []Correction
		lim    Limits
		guards []string
	}{
		{"nothing to do", one, &Actual{Users: users(10)}, nil, DefaultLimits(), nil},
		{"empty source", &Desired{}, &Actual{Users: users(3)}, corr(ActDeactivateUser, 3, true), Limits{100, 100}, []string{GuardEmptySource}},
		{"empty source and empty target", &Desired{}, &Actual{}, nil, DefaultLimits(), nil},
		{"empty source, nothing to correct", &Desired{}, &Actual{Users: users(3)}, nil, DefaultLimits(), nil},
		{"exactly maxChanges", one, &Actual{Users: users(1000)}, corr(ActCreateUser, 50, false), DefaultLimits(), nil},
		{"above maxChanges", one, &Actual{Users: users(1000)}, corr(ActCreateUser, 51, false), DefaultLimits(), []string{GuardMaxChanges}},
		{"links do not count", one, &Actual{Users: users(1000)}, append(corr(ActCreateUser, 50, false), corr(ActLinkGroup, 30, false)...), DefaultLimits(), nil},
		{"deactivations at 10 %", one, &Actual{Users: users(100)}, corr(ActDeactivateUser, 10, true), DefaultLimits(), nil},
		{"deactivations above 10 %", one, &Actual{Users: users(100)}, corr(ActDeactivateUser, 11, true), DefaultLimits(), []string{GuardMaxChangePercent}},
		{"status deactivations count", one, &Actual{Users: users(100)}, append(corr(ActDeactivateUser, 6, true), corr(ActUpdateUser, 5, true)...), DefaultLimits(), []string{GuardMaxChangePercent}},
		{"reactivations do not", one, &Actual{Users: users(100)}, corr(ActUpdateUser, 40, false), DefaultLimits(), nil},
		{"group deletions", one, &Actual{Users: users(100), Groups: make([]ActualGroup, 10)}, corr(ActDeleteGroup, 2, true), DefaultLimits(), []string{GuardMaxChangePercent}},
		{"membership removals", one, &Actual{Users: users(100), Groups: []ActualGroup{(&Actual{}).WithMembers(ActualGroup{}, make([]string, 30)...)}}, corr(ActRemoveMember, 4, true), DefaultLimits(), []string{GuardMaxChangePercent}},
		{"both limits", one, &Actual{Users: users(100)}, corr(ActDeactivateUser, 60, true), DefaultLimits(), []string{GuardMaxChanges, GuardMaxChangePercent}},
		{"zero limits refuse everything", one, &Actual{Users: users(100)}, corr(ActCreateUser, 1, false), Limits{}, []string{GuardMaxChanges}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs := CheckGuards(&Plan{Corrections: c.plan}, c.d, c.a, c.lim)
			var gs []string
			for _, r := range rs {
				gs = append(gs, r.Guard)
				if r.Reason == "" || r.Corrections != (&Plan{Corrections: c.plan}).Changes() {
					t.Errorf("refusal %+v", r)
				}
			}
			if !slices.Equal(gs, c.guards) {
				t.Errorf("guards %v; want %v (%+v)", gs, c.guards, rs)
			}
		})
	}
}

// TestRoleAssignmentDrift: with a role mapping, a membership Okta implies
// but AxonFlow lacks also shows as role_assignment drift; it plans no
// correction of its own (the membership correction fixes it), and it
// disappears once the memberships agree.
func TestRoleAssignmentDrift(t *testing.T) {
	d := &Desired{Users: []DesiredUser{du("00ua", "a@x"), du("00ub", "b@x")}}
	d.Groups = []DesiredGroup{d.WithMembers(DesiredGroup{OktaID: "00g1", Name: "AxonFlow Admins"}, "00ua")}
	a := &Actual{
		Users:        []ActualUser{au("axa", "a@x", "00ua"), au("axb", "b@x", "00ub")},
		RoleMappings: []mapping.RoleMapping{{Group: "axonflow admins", ByName: true, Role: mapping.RoleAdmin, Source: "api"}},
	}
	ag := ActualGroup{ID: "g1", DisplayName: "AxonFlow Admins", OktaID: "00g1", Origin: mapping.OriginOktaPush}
	a.Groups = []ActualGroup{a.WithMembers(ag, "axb")}
	drift, _, p := pipeline(d, a)
	var got []string
	for _, dr := range drift {
		if dr.Kind == KindRoleAssignment {
			got = append(got, dr.UserName+":"+dr.Okta+"/"+dr.AxonFlow)
		}
	}
	if want := []string{"a@x:admin/", "b@x:/admin"}; !slices.Equal(got, want) {
		t.Fatalf("role drift %v, want %v", got, want)
	}
	for _, c := range p.Corrections {
		if c.Action != ActAddMember && c.Action != ActRemoveMember {
			t.Errorf("unexpected correction %v", c.Action)
		}
	}
	a.Groups[0] = a.WithMembers(ag, "axa")
	drift, _, _ = pipeline(d, a)
	for _, dr := range drift {
		if dr.Kind == KindRoleAssignment {
			t.Fatalf("role drift remains after memberships agree: %+v", dr)
		}
	}
	// Without mappings nothing is compared.
	a.RoleMappings = nil
	a.Groups[0] = a.WithMembers(ag)
	drift, _, _ = pipeline(d, a)
	for _, dr := range drift {
		if dr.Kind == KindRoleAssignment {
			t.Fatalf("role drift without mappings: %+v", dr)
		}
	}
}
