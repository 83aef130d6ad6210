package scimserver_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/axonflow/axonflow-sync/mapping"
)

// roleValues returns the role names of a rendered user's roles attribute.
func roleValues(r *response) []string {
	var out []string
	l, _ := r.Body["roles"].([]any)
	for _, e := range l {
		m, _ := e.(map[string]any)
		v, _ := m["value"].(string)
		t, _ := m["type"].(string)
		out = append(out, v+"/"+t)
	}
	return out
}

// TestRolesFollowMembership: the readOnly roles attribute derives from
// group mappings at read time, so a SCIM membership change changes the
// user's roles in the same request, manual roles survive losing every
// group, and a user in no mapped group has the tenant's default role.
func TestRolesFollowMembership(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		u := e.createUser(t, "roles@example.com")
		g := e.createGroup(t, "AxonFlow Admins")
		if got := roleValues(e.get(t, "/Users/"+u)); len(got) != 1 || got[0] != "viewer/default" {
			t.Fatalf("user in no mapped group: roles %v, want [viewer/default]", got)
		}
		if err := e.st.PutRoleMapping(ctx, e.tenant, mapping.RoleMapping{Group: "axonflow admins", ByName: true, Role: mapping.RoleAdmin, Source: "api"}); err != nil {
			t.Fatal(err)
		}
		patchOK(t, e.patch(t, "/Groups/"+g, map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": u}}}))
		if got := roleValues(e.get(t, "/Users/"+u)); len(got) != 1 || got[0] != "admin/scim" {
			t.Fatalf("after joining the mapped group: roles %v, want [admin/scim]", got)
		}
		// roles is readOnly: it cannot be written through SCIM.
		mustSCIMError(t, e.patch(t, "/Users/"+u, op("add", "roles", []any{map[string]any{"value": "owner"}})), http.StatusBadRequest, mapping.ScimMutability)
		if err := e.st.AssignRole(ctx, e.tenant, u, mapping.RoleDeveloper, mapping.SourceManual); err != nil {
			t.Fatal(err)
		}
		patchOK(t, e.patch(t, "/Groups/"+g, map[string]any{"op": "remove", "path": `members[value eq "` + u + `"]`}))
		if got := roleValues(e.get(t, "/Users/"+u)); len(got) != 1 || got[0] != "developer/manual" {
			t.Fatalf("after leaving every group: roles %v, want [developer/manual]", got)
		}
		// Filters see roles too.
		if got := userNames(resources(t, e.get(t, "/Users"+filterQS(`roles.value eq "developer"`)))); len(got) != 1 {
			t.Fatalf("filter on roles: %v", got)
		}
	})
}
