package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

func (f *fixture) listMappings(tenant string) []mapping.RoleMapping {
	f.t.Helper()
	ms, err := f.s.ListRoleMappings(f.ctx, tenant)
	if err != nil {
		f.t.Fatalf("ListRoleMappings(%s): %v", tenant, err)
	}
	if ms == nil {
		f.t.Errorf("ListRoleMappings(%s) = nil; want a non-nil slice", tenant)
	}
	return ms
}

func (f *fixture) putMapping(tenant string, m mapping.RoleMapping) {
	f.t.Helper()
	if err := f.s.PutRoleMapping(f.ctx, tenant, m); err != nil {
		f.t.Fatalf("PutRoleMapping(%s, %+v): %v", tenant, m, err)
	}
}

func wantMappings(t testing.TB, what string, got, want []mapping.RoleMapping) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %+v; want %+v", what, got, want)
	}
}

func testRoleMappings(t *testing.T, f *fixture) {
	wantMappings(t, "mappings of a new tenant", f.listMappings(f.tenant), nil)
	admins := mapping.RoleMapping{Group: "AxonFlow Admins", ByName: true, Role: mapping.RoleAdmin, Source: mapping.SourceConfig}
	byID := mapping.RoleMapping{Group: "g-0001", Role: mapping.RoleDeveloper, Source: mapping.SourceAPI}
	// A by-id mapping whose id looks like the name: a different key.
	idLikeName := mapping.RoleMapping{Group: "AxonFlow Admins", Role: mapping.RoleViewer, Source: mapping.SourceAPI}
	f.putMapping(f.tenant, admins)
	f.putMapping(f.tenant, byID)
	f.putMapping(f.tenant, idLikeName)
	wantMappings(t, "mappings", f.listMappings(f.tenant), []mapping.RoleMapping{idLikeName, byID, admins})

	// Upsert: the same name in another case replaces the mapping, keeping
	// the newest spelling, role and source.
	renamed := mapping.RoleMapping{Group: "axonflow ADMINS", ByName: true, Role: mapping.RoleOwner, Source: mapping.SourceAPI}
	f.putMapping(f.tenant, renamed)
	f.putMapping(f.tenant, renamed) // idempotent
	byID.Role = mapping.RolePolicyAdmin
	f.putMapping(f.tenant, byID)
	wantMappings(t, "mappings after upserts", f.listMappings(f.tenant), []mapping.RoleMapping{idLikeName, byID, renamed})

	// Tenant isolation.
	other := f.newTenant()
	wantMappings(t, "mappings of another tenant", f.listMappings(other), nil)
	wantNotFound(t, f.s.DeleteRoleMapping(f.ctx, other, "AxonFlow Admins", true), "DeleteRoleMapping in another tenant")

	// Delete by name in any case; by id exactly.
	wantNotFound(t, f.s.DeleteRoleMapping(f.ctx, f.tenant, "G-0001", false), "DeleteRoleMapping(id in another case)")
	wantNotFound(t, f.s.DeleteRoleMapping(f.ctx, f.tenant, "g-0001", true), "DeleteRoleMapping(id as a name)")
	if err := f.s.DeleteRoleMapping(f.ctx, f.tenant, "AXONFLOW admins", true); err != nil {
		t.Fatalf("DeleteRoleMapping(by name): %v", err)
	}
	wantNotFound(t, f.s.DeleteRoleMapping(f.ctx, f.tenant, "AxonFlow Admins", true), "second DeleteRoleMapping")
	if err := f.s.DeleteRoleMapping(f.ctx, f.tenant, "g-0001", false); err != nil {
		t.Fatalf("DeleteRoleMapping(by id): %v", err)
	}
	wantMappings(t, "mappings after deletes", f.listMappings(f.tenant), []mapping.RoleMapping{idLikeName})

	if err := f.s.PutRoleMapping(f.ctx, f.tenant, mapping.RoleMapping{Role: mapping.RoleAdmin, Source: mapping.SourceAPI}); err == nil {
		t.Error("PutRoleMapping without a group succeeded")
	}
}

func (f *fixture) userRoles(tenant string, ids ...string) map[string][]mapping.RoleAssignment {
	f.t.Helper()
	m, err := f.s.UserRoles(f.ctx, tenant, ids)
	if err != nil {
		f.t.Fatalf("UserRoles(%s, %v): %v", tenant, ids, err)
	}
	if m == nil {
		f.t.Fatalf("UserRoles(%s) = nil map", tenant)
	}
	return m
}

func (f *fixture) assign(tenant, uid, role, source string) {
	f.t.Helper()
	if err := f.s.AssignRole(f.ctx, tenant, uid, role, source); err != nil {
		f.t.Fatalf("AssignRole(%s, %s, %s, %s): %v", tenant, uid, role, source, err)
	}
}

func wantAssignments(t testing.TB, what string, got, want []mapping.RoleAssignment) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %v; want %v", what, got, want)
	}
}

func testRoleAssignments(t *testing.T, f *fixture) {
	ann := f.createUser(f.tenant, "ann@example.com", "")
	bob := f.createUser(f.tenant, "bob@example.com", "")
	carl := f.createUser(f.tenant, "carl@example.com", "")
	manual := func(r string) mapping.RoleAssignment {
		return mapping.RoleAssignment{Role: r, Source: mapping.SourceManual}
	}
	api := func(r string) mapping.RoleAssignment {
		return mapping.RoleAssignment{Role: r, Source: mapping.SourceAPI}
	}

	wantNotFound(t, f.s.AssignRole(f.ctx, f.tenant, newID("u"), mapping.RoleAdmin, mapping.SourceManual), "AssignRole(unknown user)")
	other := f.newTenant()
	wantNotFound(t, f.s.AssignRole(f.ctx, other, ann.ID, mapping.RoleAdmin, mapping.SourceManual), "AssignRole(user of another tenant)")
	for _, src := range []string{mapping.SourceSCIM, mapping.SourceDefault, ""} {
		if err := f.s.AssignRole(f.ctx, f.tenant, ann.ID, mapping.RoleAdmin, src); err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("AssignRole(source %q) = %v; want a plain error", src, err)
		}
	}
	if err := f.s.AssignRole(f.ctx, f.tenant, ann.ID, "", mapping.SourceManual); err == nil {
		t.Error("AssignRole(empty role) succeeded")
	}

	f.assign(f.tenant, ann.ID, mapping.RoleViewer, mapping.SourceAPI)
	f.assign(f.tenant, ann.ID, mapping.RoleAdmin, mapping.SourceManual)
	f.assign(f.tenant, ann.ID, mapping.RoleAdmin, mapping.SourceManual) // idempotent
	f.assign(f.tenant, ann.ID, mapping.RoleAdmin, mapping.SourceAPI)    // another source: another assignment
	f.assign(f.tenant, bob.ID, mapping.RoleDeveloper, mapping.SourceManual)

	got := f.userRoles(f.tenant, ann.ID, bob.ID, carl.ID, "nobody")
	wantAssignments(t, "ann", got[ann.ID], []mapping.RoleAssignment{manual(mapping.RoleAdmin), api(mapping.RoleAdmin), api(mapping.RoleViewer)})
	wantAssignments(t, "bob", got[bob.ID], []mapping.RoleAssignment{manual(mapping.RoleDeveloper)})
	if _, ok := got[carl.ID]; ok && len(got[carl.ID]) > 0 {
		t.Errorf("carl has roles %v", got[carl.ID])
	}
	if len(got["nobody"]) != 0 {
		t.Errorf("unknown user has roles %v", got["nobody"])
	}
	if m := f.userRoles(f.tenant); len(m) != 0 {
		t.Errorf("UserRoles(no ids) = %v", m)
	}
	if m := f.userRoles(other, ann.ID); len(m[ann.ID]) != 0 {
		t.Errorf("another tenant sees ann's roles: %v", m)
	}

	// Unassign one source; the other stays.
	if err := f.s.UnassignRole(f.ctx, f.tenant, ann.ID, mapping.RoleAdmin, mapping.SourceAPI); err != nil {
		t.Fatalf("UnassignRole: %v", err)
	}
	wantNotFound(t, f.s.UnassignRole(f.ctx, f.tenant, ann.ID, mapping.RoleAdmin, mapping.SourceAPI), "second UnassignRole")
	wantNotFound(t, f.s.UnassignRole(f.ctx, f.tenant, carl.ID, mapping.RoleAdmin, mapping.SourceManual), "UnassignRole(not assigned)")
	wantNotFound(t, f.s.UnassignRole(f.ctx, other, ann.ID, mapping.RoleAdmin, mapping.SourceManual), "UnassignRole in another tenant")
	wantAssignments(t, "ann after unassign", f.userRoles(f.tenant, ann.ID)[ann.ID],
		[]mapping.RoleAssignment{manual(mapping.RoleAdmin), api(mapping.RoleViewer)})

	// Group membership changes never touch stored assignments.
	g := f.createGroup(f.tenant, "Admins", "", ann.ID)
	f.update(f.tenant, g.ID, store.GroupChange{Remove: []string{ann.ID}, At: at(2)})
	if err := f.s.DeleteGroup(f.ctx, f.tenant, g.ID, 0); err != nil {
		t.Fatal(err)
	}
	wantAssignments(t, "ann after group changes", f.userRoles(f.tenant, ann.ID)[ann.ID],
		[]mapping.RoleAssignment{manual(mapping.RoleAdmin), api(mapping.RoleViewer)})

	// DeleteUser drops the assignments; a user with the same id starts bare.
	if err := f.s.DeleteUser(f.ctx, f.tenant, ann.ID); err != nil {
		t.Fatal(err)
	}
	if m := f.userRoles(f.tenant, ann.ID); len(m[ann.ID]) != 0 {
		t.Errorf("roles of a deleted user: %v", m[ann.ID])
	}
	again := user("ann2@example.com", "", 3)
	again.ID = ann.ID
	if err := f.s.CreateUser(f.ctx, f.tenant, again); err != nil {
		t.Fatal(err)
	}
	if m := f.userRoles(f.tenant, ann.ID); len(m[ann.ID]) != 0 {
		t.Errorf("a re-created user inherits roles: %v", m[ann.ID])
	}
	wantAssignments(t, "bob after ann's delete", f.userRoles(f.tenant, bob.ID)[bob.ID], []mapping.RoleAssignment{manual(mapping.RoleDeveloper)})
	if _, err := f.s.GetUser(f.ctx, f.tenant, bob.ID); err != nil {
		t.Errorf("GetUser(bob): %v", err)
	}
}

func testDefaultRole(t *testing.T, f *fixture) {
	check := func(tenant, wantRole string, wantSet bool) {
		t.Helper()
		role, set, err := f.s.DefaultRole(f.ctx, tenant)
		if err != nil || role != wantRole || set != wantSet {
			t.Errorf("DefaultRole(%s) = %q, %v, %v; want %q, %v", tenant, role, set, err, wantRole, wantSet)
		}
	}
	check(f.tenant, "", false)
	for _, r := range []string{mapping.RoleDeveloper, "", mapping.RoleViewer} {
		if err := f.s.SetDefaultRole(f.ctx, f.tenant, r); err != nil {
			t.Fatalf("SetDefaultRole(%q): %v", r, err)
		}
		check(f.tenant, r, true)
	}
	other := f.newTenant()
	check(other, "", false)
}

func testConcurrentDeleteUserAssignRole(t *testing.T, f *fixture) {
	// An assignment racing a DeleteUser is never left behind: either it is
	// stored before the delete (which drops it) or it fails as not found.
	const n = 20
	ids := f.createUsers("dr", n)
	errs := parallel(2*n, func(i int) error {
		if i%2 == 0 {
			return f.s.DeleteUser(f.ctx, f.tenant, ids[i/2])
		}
		return f.s.AssignRole(f.ctx, f.tenant, ids[i/2], mapping.RoleAdmin, mapping.SourceManual)
	})
	for i, err := range errs {
		if i%2 == 0 && err != nil {
			t.Errorf("DeleteUser #%d: %v", i/2, err)
		}
		if i%2 == 1 && err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AssignRole #%d: %v; want nil or ErrNotFound", i/2, err)
		}
	}
	if m := f.userRoles(f.tenant, ids...); len(m) != 0 {
		t.Errorf("assignments of deleted users left behind: %v", fmt.Sprint(m))
	}
}

// testUserContext: UserContext returns exactly what GetUsers, UserGroups,
// GetGroups (of the groups UserGroups names), ListRoleMappings,
// DefaultRole and UserRoles return separately.
func testUserContext(t *testing.T, f *fixture) {
	ann := f.createUser(f.tenant, "ri-ann@example.com", "")
	bob := f.createUser(f.tenant, "ri-bob@example.com", "")
	check := func(ids []string) {
		t.Helper()
		for _, withUsers := range []bool{false, true} {
			got, err := f.s.UserContext(f.ctx, f.tenant, ids, withUsers)
			if err != nil {
				t.Fatalf("UserContext: %v", err)
			}
			var us []*mapping.User
			if withUsers {
				us, _ = f.s.GetUsers(f.ctx, f.tenant, ids)
				if len(us) == 0 {
					us = nil
				}
			}
			mo, _ := f.s.UserGroups(f.ctx, f.tenant, ids)
			ms, _ := f.s.ListRoleMappings(f.ctx, f.tenant)
			def, set, _ := f.s.DefaultRole(f.ctx, f.tenant)
			as, _ := f.s.UserRoles(f.ctx, f.tenant, ids)
			gs := groupsOf(t, f, mo)
			if !reflect.DeepEqual(got.Users, us) || !reflect.DeepEqual(got.MemberOf, mo) || !reflect.DeepEqual(got.Mappings, ms) ||
				got.DefaultRole != def || got.DefaultSet != set || !reflect.DeepEqual(got.Assigned, as) || !reflect.DeepEqual(got.Groups, gs) {
				t.Errorf("UserContext(withUsers=%v) = %+v; want users %v, memberOf %v, groups %v, mappings %v, default %q/%v, assigned %v",
					withUsers, got, us, mo, gs, ms, def, set, as)
			}
		}
	}
	check(nil)
	check([]string{ann.ID, bob.ID, newID("u")})
	g := &mapping.Group{ID: newID("g"), Attrs: mapping.Attrs{"displayName": "Admins"}, Created: time.Now().UTC(), LastModified: time.Now().UTC()}
	if err := f.s.CreateGroup(f.ctx, f.tenant, g, []string{bob.ID}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.PutRoleMapping(f.ctx, f.tenant, mapping.RoleMapping{Group: "Admins", ByName: true, Role: mapping.RoleAdmin, Source: "api"}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.SetDefaultRole(f.ctx, f.tenant, ""); err != nil {
		t.Fatal(err)
	}
	if err := f.s.AssignRole(f.ctx, f.tenant, bob.ID, mapping.RoleDeveloper, mapping.SourceManual); err != nil {
		t.Fatal(err)
	}
	check([]string{ann.ID, bob.ID})
	got, _ := f.s.UserContext(f.ctx, f.tenant, []string{bob.ID}, true)
	if len(got.Users) != 1 || got.Users[0].ID != bob.ID || len(got.MemberOf[bob.ID]) != 1 || len(got.Mappings) != 1 ||
		!got.DefaultSet || got.DefaultRole != "" || len(got.Assigned[bob.ID]) != 1 {
		t.Errorf("UserContext after writes = %+v", got)
	}
	if g2 := got.Groups[g.ID]; len(got.Groups) != 1 || g2 == nil || g2.DisplayName() != "Admins" || !g2.Created.Equal(g.Created) {
		t.Errorf("UserContext groups after writes = %v; want %s (Admins, created %v)", got.Groups, g.ID, g.Created)
	}
	// A group shared by both users is read once; one user's groups are
	// all there, with their names.
	ops := &mapping.Group{ID: newID("g"), Attrs: mapping.Attrs{"displayName": "Ops"}, Created: time.Now().UTC(), LastModified: time.Now().UTC()}
	if err := f.s.CreateGroup(f.ctx, f.tenant, ops, []string{ann.ID, bob.ID}); err != nil {
		t.Fatal(err)
	}
	check([]string{ann.ID, bob.ID})
	check([]string{ann.ID})
	got, _ = f.s.UserContext(f.ctx, f.tenant, []string{ann.ID, bob.ID}, false)
	if len(got.Groups) != 2 || got.Groups[ops.ID].DisplayName() != "Ops" || got.Groups[g.ID].DisplayName() != "Admins" {
		t.Errorf("UserContext groups of two users = %v; want Admins and Ops", got.Groups)
	}
	// A deleted group is gone from the context.
	if err := f.s.DeleteGroup(f.ctx, f.tenant, g.ID, 0); err != nil {
		t.Fatal(err)
	}
	check([]string{ann.ID, bob.ID})
	got, _ = f.s.UserContext(f.ctx, f.tenant, []string{bob.ID}, true)
	if _, ok := got.Groups[g.ID]; ok || len(got.Groups) != 1 {
		t.Errorf("UserContext groups after deleting %s = %v; want only %s", g.ID, got.Groups, ops.ID)
	}
}

// groupsOf returns, by id, GetGroups of every group id in memberOf (what
// UserContext's Groups holds).
func groupsOf(t *testing.T, f *fixture, memberOf map[string][]string) map[string]*mapping.Group {
	t.Helper()
	var ids []string
	for _, gids := range memberOf {
		ids = append(ids, gids...)
	}
	gs, err := f.s.GetGroups(f.ctx, f.tenant, ids)
	if err != nil {
		t.Fatalf("GetGroups: %v", err)
	}
	out := make(map[string]*mapping.Group, len(gs))
	for _, g := range gs {
		out[g.ID] = g
	}
	return out
}
