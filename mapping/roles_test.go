package mapping

import (
	"reflect"
	"strings"
	"testing"
)

func TestEffectiveRoles(t *testing.T) {
	admins := Ref{ID: "g-adm", Display: "AxonFlow Admins"}
	devs := Ref{ID: "g-dev", Display: "Developers"}
	other := Ref{ID: "g-other", Display: "Sales"}
	byName := func(g, r string) RoleMapping {
		return RoleMapping{Group: g, ByName: true, Role: r, Source: SourceConfig}
	}
	byID := func(g, r string) RoleMapping { return RoleMapping{Group: g, Role: r, Source: SourceAPI} }
	scim := func(r, g string) RoleAssignment { return RoleAssignment{Role: r, Source: SourceSCIM, Group: g} }
	manual := func(r string) RoleAssignment { return RoleAssignment{Role: r, Source: SourceManual} }
	api := func(r string) RoleAssignment { return RoleAssignment{Role: r, Source: SourceAPI} }
	def := func(r string) RoleAssignment { return RoleAssignment{Role: r, Source: SourceDefault} }

	for _, tc := range []struct {
		name     string
		groups   []Ref
		mappings []RoleMapping
		assigned []RoleAssignment
		def      string
		want     []RoleAssignment
	}{
		{"no groups: default", nil, []RoleMapping{byName("AxonFlow Admins", RoleAdmin)}, nil, RoleViewer,
			[]RoleAssignment{def(RoleViewer)}},
		{"no groups, no default", nil, nil, nil, "", []RoleAssignment{}},
		{"default none spelled out", nil, nil, nil, RoleNone, []RoleAssignment{}},
		{"unmapped group: default", []Ref{other}, []RoleMapping{byName("AxonFlow Admins", RoleAdmin)}, nil, RoleViewer,
			[]RoleAssignment{def(RoleViewer)}},
		{"by name, any case", []Ref{admins}, []RoleMapping{byName("axonflow ADMINS", RoleAdmin)}, nil, RoleViewer,
			[]RoleAssignment{scim(RoleAdmin, "g-adm")}},
		{"by id, exact", []Ref{admins, devs}, []RoleMapping{byID("g-dev", RoleDeveloper), byID("G-ADM", RoleOwner)}, nil, RoleViewer,
			[]RoleAssignment{scim(RoleDeveloper, "g-dev")}},
		{"by name does not match ids", []Ref{admins}, []RoleMapping{byName("g-adm", RoleAdmin)}, nil, "",
			[]RoleAssignment{}},
		{"by id does not match names", []Ref{admins}, []RoleMapping{byID("AxonFlow Admins", RoleAdmin)}, nil, "",
			[]RoleAssignment{}},
		{"union of groups, ordered by role", []Ref{devs, admins},
			[]RoleMapping{byName("Developers", RoleDeveloper), byName("AxonFlow Admins", RoleAdmin), byID("g-adm", RolePolicyAdmin)},
			nil, RoleViewer,
			[]RoleAssignment{scim(RoleAdmin, "g-adm"), scim(RolePolicyAdmin, "g-adm"), scim(RoleDeveloper, "g-dev")}},
		{"same role from two groups and a duplicate mapping", []Ref{devs, admins},
			[]RoleMapping{byName("developers", RoleDeveloper), byID("g-dev", RoleDeveloper), byName("AxonFlow Admins", RoleDeveloper)},
			nil, "",
			[]RoleAssignment{scim(RoleDeveloper, "g-adm"), scim(RoleDeveloper, "g-dev")}},
		{"manual survives without groups, no default", nil, nil, []RoleAssignment{manual(RoleAdmin)}, RoleViewer,
			[]RoleAssignment{manual(RoleAdmin)}},
		{"manual and scim same role both shown", []Ref{admins}, []RoleMapping{byName("AxonFlow Admins", RoleAdmin)},
			[]RoleAssignment{api(RoleViewer), manual(RoleAdmin), manual(RoleAdmin)}, RoleViewer,
			[]RoleAssignment{scim(RoleAdmin, "g-adm"), manual(RoleAdmin), api(RoleViewer)}},
		{"group without displayName", []Ref{{ID: "g-x"}}, []RoleMapping{byName("", RoleAdmin), byID("g-x", RoleViewer)}, nil, RoleDeveloper,
			[]RoleAssignment{scim(RoleViewer, "g-x")}},
		{"unknown stored role sorts last", nil, nil, []RoleAssignment{manual("auditor"), manual(RoleViewer)}, "",
			[]RoleAssignment{manual(RoleViewer), manual("auditor")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := EffectiveRoles(tc.groups, tc.mappings, tc.assigned, tc.def)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("EffectiveRoles = %v; want %v", got, tc.want)
			}
			// Deterministic whatever the input order.
			rev := func(s []Ref) []Ref {
				r := make([]Ref, len(s))
				for i := range s {
					r[len(s)-1-i] = s[i]
				}
				return r
			}
			if again := EffectiveRoles(rev(tc.groups), tc.mappings, tc.assigned, tc.def); !reflect.DeepEqual(again, got) {
				t.Errorf("order depends on the input: %v vs %v", again, got)
			}
		})
	}
}

func TestRoleNames(t *testing.T) {
	as := []RoleAssignment{
		{Role: RoleViewer, Source: SourceAPI}, {Role: RoleAdmin, Source: SourceSCIM, Group: "g"},
		{Role: RoleAdmin, Source: SourceManual}, {Role: RoleOwner, Source: SourceManual},
	}
	if got, want := RoleNames(as), []string{RoleOwner, RoleAdmin, RoleViewer}; !reflect.DeepEqual(got, want) {
		t.Errorf("RoleNames = %v; want %v", got, want)
	}
	if got := RoleNames(nil); got == nil || len(got) != 0 {
		t.Errorf("RoleNames(nil) = %#v; want empty, non-nil", got)
	}
}

func TestRoleValidation(t *testing.T) {
	for _, r := range SystemRoles() {
		if !ValidRole(r) || CheckRole(r) != nil {
			t.Errorf("system role %q not valid", r)
		}
	}
	for _, r := range []string{"", "Admin", "none", "root", " admin"} {
		if ValidRole(r) {
			t.Errorf("ValidRole(%q) = true", r)
		}
		if err := CheckRole(r); err == nil || !strings.Contains(err.Error(), "policy_admin") {
			t.Errorf("CheckRole(%q) = %v; want an error listing the roles", r, err)
		}
	}
	if !ValidAssignmentSource(SourceManual) || !ValidAssignmentSource(SourceAPI) ||
		ValidAssignmentSource(SourceSCIM) || ValidAssignmentSource(SourceDefault) || ValidAssignmentSource("") {
		t.Error("ValidAssignmentSource accepts the wrong sources")
	}
	for _, tc := range []struct {
		m  RoleMapping
		ok bool
	}{
		{RoleMapping{Group: "Admins", ByName: true, Role: RoleAdmin, Source: SourceConfig}, true},
		{RoleMapping{Group: "g-1", Role: RoleViewer, Source: SourceAPI}, true},
		{RoleMapping{Group: "  ", Role: RoleViewer, Source: SourceAPI}, false},
		{RoleMapping{Group: strings.Repeat("é", MaxRoleGroupLength), Role: RoleViewer, Source: SourceAPI}, true},
		{RoleMapping{Group: strings.Repeat("é", MaxRoleGroupLength+1), Role: RoleViewer, Source: SourceAPI}, false},
		{RoleMapping{Group: "g", Role: "superuser", Source: SourceAPI}, false},
		{RoleMapping{Group: "g", Role: RoleViewer, Source: SourceManual}, false},
	} {
		if err := tc.m.Validate(); (err == nil) != tc.ok {
			t.Errorf("Validate(%+v) = %v; want ok=%v", tc.m, err, tc.ok)
		}
	}
}

func TestRoleMappingKey(t *testing.T) {
	a := RoleMapping{Group: "AxonFlow Admins", ByName: true}
	b := RoleMapping{Group: "axonflow admins", ByName: true}
	c := RoleMapping{Group: "axonflow admins"}
	if a.Key() != b.Key() || a.Key() == c.Key() {
		t.Errorf("keys: %q %q %q", a.Key(), b.Key(), c.Key())
	}
	for _, m := range []RoleMapping{a, c, {Group: "id:x"}, {Group: "name:y", ByName: true}} {
		g, byName, ok := ParseRoleMappingKey(m.Key())
		if !ok || byName != m.ByName || (byName && g != FoldKey(m.Group)) || (!byName && g != m.Group) {
			t.Errorf("ParseRoleMappingKey(%q) = %q %v %v", m.Key(), g, byName, ok)
		}
	}
	if _, _, ok := ParseRoleMappingKey("x"); ok {
		t.Error("ParseRoleMappingKey accepted a malformed key")
	}
	ms := []RoleMapping{{Group: "b", ByName: true}, {Group: "z"}, {Group: "A", ByName: true}, {Group: "a"}}
	SortRoleMappings(ms)
	want := []RoleMapping{{Group: "a"}, {Group: "z"}, {Group: "A", ByName: true}, {Group: "b", ByName: true}}
	if !reflect.DeepEqual(ms, want) {
		t.Errorf("SortRoleMappings = %v; want %v", ms, want)
	}
}

func TestTenantDefaultRole(t *testing.T) {
	for _, tc := range []struct {
		stored string
		set    bool
		want   string
	}{
		{"", false, RoleViewer}, {"anything", false, RoleViewer}, {"", true, ""}, {RoleNone, true, ""},
		{RoleDeveloper, true, RoleDeveloper},
	} {
		if got := TenantDefaultRole(tc.stored, tc.set); got != tc.want {
			t.Errorf("TenantDefaultRole(%q, %v) = %q; want %q", tc.stored, tc.set, got, tc.want)
		}
	}
}
