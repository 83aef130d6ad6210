package scimserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

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
	if got := userRoles(nil, &uc, "", "u1", groups); !reflect.DeepEqual(got, want) {
		t.Fatalf("userRoles = %v, want %v", got, want)
	}
	if got := userRoles(nil, &uc, "viewer", "u2", nil); len(got) != 1 || got[0].Role != "viewer" || got[0].Source != mapping.SourceDefault {
		t.Fatalf("default role: %v", got)
	}
}

// boundedStore is a store.State whose calls are bounded by d (store.OpTimeout).
type boundedStore struct {
	store.State
	d time.Duration
}

func (b boundedStore) OpTimeout() time.Duration { return b.d }

// TestStoreCtxBoundedStore: with a store that bounds its calls to at most
// half of storeCtx's lifetime (also through store.Logged), storeCtx adds no
// deadline; with a longer bound or none it does.
func TestStoreCtxBoundedStore(t *testing.T) {
	for _, c := range []struct {
		st   store.State
		want bool
	}{
		{boundedStore{d: 2 * time.Second}, false},
		{store.Logged(boundedStore{d: 2 * time.Second}, func(context.Context, string, store.LogEntry) {}), false},
		{boundedStore{d: 30 * time.Second}, true},
		{boundedStore{}, true},
		{store.Logged(struct{ store.State }{}, nil), true},
	} {
		s := New(Options{Store: c.st})
		var ctx context.Context
		s.mux = http.NewServeMux()
		s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { ctx, _ = storeCtx(r) })
		s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/x", nil))
		if _, ok := ctx.Deadline(); ok != c.want {
			t.Errorf("%T: storeCtx has a deadline: %v, want %v", c.st, ok, c.want)
		}
	}
}
