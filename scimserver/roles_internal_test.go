package scimserver

import (
	"reflect"
	"testing"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// TestUserRolesFirstSourcePerRole: a role from two sources (a mapped group
// and a manual assignment) is listed once, with its first source in
// EffectiveRoles' order; without duplicates the list is EffectiveRoles'.
func TestUserRolesFirstSourcePerRole(t *testing.T) {
	groups := []mapping.Ref{{ID: "g1", Display: "Eng"}}
	uc := store.UserContext{
		Mappings: []mapping.RoleMapping{{Group: "g1", Role: "admin"}, {Group: "g1", Role: "dev"}},
		Assigned: map[string][]mapping.RoleAssignment{"u1": {{Role: "admin", Source: mapping.SourceManual}, {Role: "ops", Source: mapping.SourceAPI}}},
	}
	eff := mapping.EffectiveRoles(groups, uc.Mappings, uc.Assigned["u1"], "")
	var want []mapping.RoleAssignment
	seen := map[string]bool{}
	for _, a := range eff {
		if !seen[a.Role] {
			seen[a.Role] = true
			want = append(want, a)
		}
	}
	if len(want) == len(eff) {
		t.Fatalf("test needs a duplicate role: %v", eff)
	}
	if got := userRoles(&uc, "", "u1", groups); !reflect.DeepEqual(got, want) {
		t.Fatalf("userRoles = %v, want %v", got, want)
	}
	if got := userRoles(&uc, "viewer", "u2", nil); len(got) != 1 || got[0].Role != "viewer" || got[0].Source != mapping.SourceDefault {
		t.Fatalf("default role: %v", got)
	}
}
