package storetest

import (
	"errors"
	"reflect"
	"testing"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// testLookupUserContext: LookupUserContext returns exactly what FindUser
// then UserContext(withUsers) return, for userName (any letter case) and
// externalId (exact), with groups, mappings, a default role and
// assignments; ErrNotFound for an unknown or empty value, a value of
// another index, another tenant's user and a deleted user; an error for an
// index users do not have.
func testLookupUserContext(t *testing.T, f *fixture) {
	ann := f.createUser(f.tenant, "lk-Ann@example.com", "ext-ann")
	bob := f.createUser(f.tenant, "lk-bob@example.com", "")
	f.createGroup(f.tenant, "Admins", "", bob.ID)
	f.createGroup(f.tenant, "Ops", "", ann.ID, bob.ID)
	check := func(what string, idx store.Index, value string, want *mapping.User) {
		t.Helper()
		got, err := f.s.LookupUserContext(f.ctx, f.tenant, idx, value)
		if err != nil {
			t.Fatalf("%s: LookupUserContext(%s, %q): %v", what, idx, value, err)
		}
		id, err := f.s.FindUser(f.ctx, f.tenant, idx, value)
		if err != nil || id != want.ID {
			t.Fatalf("%s: FindUser(%s, %q) = %q, %v; want %q", what, idx, value, id, err, want.ID)
		}
		uc, err := f.s.UserContext(f.ctx, f.tenant, []string{id}, true)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, uc) {
			t.Errorf("%s: LookupUserContext(%s, %q) = %+v; want UserContext's %+v", what, idx, value, got, uc)
		}
		if len(got.Users) != 1 || got.Users[0].ID != want.ID || got.Users[0].UserName() != want.UserName() {
			t.Errorf("%s: users %+v; want %s", what, got.Users, want.ID)
		}
	}
	wantNone := func(what, tenant string, idx store.Index, value string) {
		t.Helper()
		got, err := f.s.LookupUserContext(f.ctx, tenant, idx, value)
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: LookupUserContext(%s, %q) = %+v, %v; want ErrNotFound", what, idx, value, got, err)
		}
	}

	check("bare", store.IndexUserName, "lk-ann@example.com", ann)
	check("case", store.IndexUserName, "LK-ANN@EXAMPLE.COM", ann)
	check("externalId", store.IndexExternalID, "ext-ann", ann)
	if err := f.s.PutRoleMapping(f.ctx, f.tenant, mapping.RoleMapping{Group: "Admins", ByName: true, Role: mapping.RoleAdmin, Source: "api"}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.SetDefaultRole(f.ctx, f.tenant, mapping.RoleViewer); err != nil {
		t.Fatal(err)
	}
	f.assign(f.tenant, bob.ID, mapping.RoleDeveloper, mapping.SourceManual)
	f.assign(f.tenant, bob.ID, mapping.RoleAdmin, mapping.SourceAPI)
	check("with roles", store.IndexUserName, "lk-bob@example.com", bob)
	got, _ := f.s.LookupUserContext(f.ctx, f.tenant, store.IndexUserName, "lk-bob@example.com")
	if len(got.MemberOf[bob.ID]) != 2 || len(got.Mappings) != 1 || !got.DefaultSet || got.DefaultRole != mapping.RoleViewer || len(got.Assigned[bob.ID]) != 2 {
		t.Errorf("with roles: %+v", got)
	}
	if want := groupsOf(t, f, got.MemberOf); len(want) != 2 || !reflect.DeepEqual(got.Groups, want) {
		t.Errorf("with roles: groups %v; want %v (Admins, Ops)", got.Groups, want)
	}
	if err := f.s.SetDefaultRole(f.ctx, f.tenant, ""); err != nil {
		t.Fatal(err)
	}
	check("default none", store.IndexUserName, "lk-bob@example.com", bob)

	wantNone("unknown", f.tenant, store.IndexUserName, "nobody@example.com")
	wantNone("empty userName", f.tenant, store.IndexUserName, "")
	wantNone("empty externalId", f.tenant, store.IndexExternalID, "")
	wantNone("externalId is exact", f.tenant, store.IndexExternalID, "EXT-ANN")
	wantNone("userName as externalId", f.tenant, store.IndexExternalID, "lk-ann@example.com")
	wantNone("other tenant", f.newTenant(), store.IndexUserName, "lk-ann@example.com")
	if err := f.s.DeleteUser(f.ctx, f.tenant, ann.ID); err != nil {
		t.Fatal(err)
	}
	wantNone("deleted", f.tenant, store.IndexUserName, "lk-ann@example.com")
	if _, err := f.s.LookupUserContext(f.ctx, f.tenant, store.IndexDisplayName, "Admins"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Errorf("LookupUserContext(displayName) = %v; want an unsupported-index error", err)
	}
}
