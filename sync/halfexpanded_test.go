package sync

import (
	"encoding/json"
	"testing"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/sync/oktatest"
)

// rewriteIfID returns an item rewrite that applies edit to the served item
// whose top-level id is id (other items pass unchanged). edit returns the
// value to serve (nil serves `null`).
func rewriteIfID(t *testing.T, id string, edit func(m map[string]any) any) oktatest.ItemRewrite {
	return func(item []byte) []byte {
		var m map[string]any
		if err := json.Unmarshal(item, &m); err != nil || m["id"] != id {
			return item
		}
		b, err := json.Marshal(edit(m))
		if err != nil {
			t.Errorf("re-encoding item: %v", err)
			return item
		}
		return b
	}
}

// at returns the object at path below m (nil if any step is not an object).
func at(m map[string]any, path ...string) map[string]any {
	for _, k := range path {
		m, _ = m[k].(map[string]any)
	}
	return m
}

// set sets key k of the object at path (delete when del).
func set(path []string, k string, v any, del bool) func(m map[string]any) any {
	return func(m map[string]any) any {
		o := at(m, path...)
		if o == nil {
			return m
		}
		if del {
			delete(o, k)
		} else {
			o[k] = v
		}
		return m
	}
}

// TestHalfExpandedOktaDataIsIncomplete serves pages whose items are cut
// short or mistyped (a missing or mistyped _embedded.user, user status or
// profile attribute, a null item, a half-expanded group or member) and
// checks on both stores that every such read is incomplete (bad_response):
// no drift, no corrections, nothing written. Without it a suspended user
// whose embedded user is missing read as "status empty = access" and was
// reactivated, and a missing profile read as "no name" and cleared names.
func TestHalfExpandedOktaDataIsIncomplete(t *testing.T) {
	user := []string{"_embedded", "user"}
	profile := []string{"_embedded", "user", "profile"}
	group := []string{"_embedded", "group"}
	type tc struct {
		name   string
		route  string
		target string // "alice", "bob" (suspended), "group"
		edit   func(m map[string]any) any
	}
	null := func(map[string]any) any { return nil }
	cases := []tc{
		{"app user null item", oktatest.RouteAppUsers, "bob", null},
		{"app user null item (active user)", oktatest.RouteAppUsers, "alice", null},
		{"app user without status", oktatest.RouteAppUsers, "bob", set(nil, "status", nil, true)},
		{"app user profile mistyped", oktatest.RouteAppUsers, "bob", set(nil, "profile", "x", false)},
		{"_embedded missing", oktatest.RouteAppUsers, "bob", set(nil, "_embedded", nil, true)},
		{"_embedded null", oktatest.RouteAppUsers, "bob", set(nil, "_embedded", nil, false)},
		{"_embedded a string", oktatest.RouteAppUsers, "bob", set(nil, "_embedded", "user", false)},
		{"_embedded.user missing", oktatest.RouteAppUsers, "bob", set([]string{"_embedded"}, "user", nil, true)},
		{"_embedded.user null", oktatest.RouteAppUsers, "bob", set([]string{"_embedded"}, "user", nil, false)},
		{"_embedded.user an array", oktatest.RouteAppUsers, "bob", set([]string{"_embedded"}, "user", []any{}, false)},
		{"user id missing", oktatest.RouteAppUsers, "bob", set(user, "id", nil, true)},
		{"user id of another user", oktatest.RouteAppUsers, "bob", set(user, "id", "00u00000000000000000", false)},
		{"user status missing", oktatest.RouteAppUsers, "bob", set(user, "status", nil, true)},
		{"user status empty", oktatest.RouteAppUsers, "bob", set(user, "status", "", false)},
		{"user status null", oktatest.RouteAppUsers, "bob", set(user, "status", nil, false)},
		{"user status a number", oktatest.RouteAppUsers, "bob", set(user, "status", 3, false)},
		{"user profile missing", oktatest.RouteAppUsers, "alice", set(user, "profile", nil, true)},
		{"user profile null", oktatest.RouteAppUsers, "alice", set(user, "profile", nil, false)},
		{"user profile a string", oktatest.RouteAppUsers, "alice", set(user, "profile", "x", false)},
		{"login missing", oktatest.RouteAppUsers, "alice", set(profile, "login", nil, true)},
		{"login null", oktatest.RouteAppUsers, "alice", set(profile, "login", nil, false)},
		{"login a number", oktatest.RouteAppUsers, "alice", set(profile, "login", 1, false)},
		{"firstName missing", oktatest.RouteAppUsers, "alice", set(profile, "firstName", nil, true)},
		{"firstName a number", oktatest.RouteAppUsers, "alice", set(profile, "firstName", 7, false)},
		{"lastName missing", oktatest.RouteAppUsers, "alice", set(profile, "lastName", nil, true)},
		{"lastName an object", oktatest.RouteAppUsers, "alice", set(profile, "lastName", map[string]any{}, false)},
		{"email missing", oktatest.RouteAppUsers, "alice", set(profile, "email", nil, true)},
		{"email a boolean", oktatest.RouteAppUsers, "alice", set(profile, "email", true, false)},
		{"group assignment null item", oktatest.RouteAppGroups, "group", null},
		{"_embedded a number", oktatest.RouteAppGroups, "group", set(nil, "_embedded", 1, false)},
		{"_embedded.group null", oktatest.RouteAppGroups, "group", set([]string{"_embedded"}, "group", nil, false)},
		{"_embedded.group a string", oktatest.RouteAppGroups, "group", set([]string{"_embedded"}, "group", "x", false)},
		{"group id of another group", oktatest.RouteAppGroups, "group", set(group, "id", "00g00000000000000000", false)},
		{"group profile missing", oktatest.RouteAppGroups, "group", set(group, "profile", nil, true)},
		{"group name missing", oktatest.RouteAppGroups, "group", set(append(group, "profile"), "name", nil, true)},
		{"group name a number", oktatest.RouteAppGroups, "group", set(append(group, "profile"), "name", 5, false)},
		{"member null item", oktatest.RouteGroupUsers, "alice", null},
		{"member id missing", oktatest.RouteGroupUsers, "alice", set(nil, "id", nil, true)},
		{"member profile a string", oktatest.RouteGroupUsers, "alice", set(nil, "profile", "x", false)},
		{"member status a number", oktatest.RouteGroupUsers, "alice", set(nil, "status", 5, false)},
	}
	allBackends(t, func(t *testing.T, backend string) {
		// ~80 app listings in a minute: more than Okta's apps bucket.
		e := newEnv(t, backend, oktatest.WithoutRateLimits())
		alice := e.oktaUser("alice@example.com", "Alice", "Able", "")
		bob := e.okta.AddUser(oktatest.User{Login: "bob@example.com", Email: "bob@example.com", FirstName: "Bob",
			LastName: "Baker", Status: "SUSPENDED"})
		e.okta.AssignUser(app, bob, oktatest.ScopeUser, "")
		gid := e.oktaGroup("Engineering", alice, bob)
		a := e.pushUser(alice, "alice@example.com", "Alice", "Able", true, mapping.OriginOktaPush)
		b := e.pushUser(bob, "bob@example.com", "Bob", "Baker", false, mapping.OriginOktaPush)
		e.pushGroup("Engineering", mapping.OriginOktaPush, gid, a, b)
		if rep := e.run(ModeReport); !rep.Complete || len(rep.Drift) != 0 {
			t.Fatalf("baseline: complete %v, drift %v", rep.Complete, kinds(rep))
		}
		ids := map[string]string{"alice": alice, "bob": bob, "group": gid}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				remove := e.okta.RewriteItems(c.route, rewriteIfID(t, ids[c.target], c.edit))
				defer remove()
				e.t = t
				defer func() { e.t = nil }()
				expectIncomplete(t, e, "bad_response")
			})
		}
		e.t = t
		// With the data whole again, the run is complete and finds nothing.
		if rep := e.run(ModeCorrect); !rep.Complete || len(rep.Drift) != 0 {
			t.Fatalf("after: complete %v, drift %v", rep.Complete, kinds(rep))
		}
	})
}
