package scimserver_test

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/axonflow/axonflow-sync/mapping"
)

// TestConcurrentMemberAdds: 50 concurrent PATCHes, each adding one member
// (with Okta's path-less rename), all land. Run under -race.
func TestConcurrentMemberAdds(t *testing.T) {
	const n = 50
	eachBackend(t, func(t *testing.T, e *env) {
		ids := seedUsers(t, e.st, e.tenant, "race-", n)
		g := e.createGroup(t, "Race")
		var wg sync.WaitGroup
		results := make([]*response, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = e.patch(t, "/Groups/"+g,
					op("replace", "", map[string]any{"id": g, "displayName": "Race"}),
					op("add", "members", []any{map[string]any{"value": ids[i], "display": fmt.Sprint(i)}}))
			}()
		}
		wg.Wait()
		for _, r := range results {
			patchOK(t, r)
		}
		if got := e.members(t, g); !slices.Equal(got, sorted(ids...)) {
			t.Fatalf("%d members after %d concurrent adds", len(got), n)
		}
		// And 50 concurrent removes by filter.
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = e.patch(t, "/Groups/"+g, op("remove", `members[value eq "`+ids[i]+`"]`, nil))
			}()
		}
		wg.Wait()
		for _, r := range results {
			patchOK(t, r)
		}
		if got := e.members(t, g); len(got) != 0 {
			t.Fatalf("%d members left after %d concurrent removes", len(got), n)
		}
	})
}

// TestConcurrentIdenticalPOST: two identical POSTs at the same moment give
// exactly one 201 and one 409 uniqueness, never a 500 (C15).
func TestConcurrentIdenticalPOST(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		for round := range 10 {
			for _, c := range []struct{ path, name string }{{"/Users", "userName"}, {"/Groups", "displayName"}} {
				body := map[string]any{c.name: fmt.Sprintf("race-%d@example.com", round), "externalId": fmt.Sprintf("00uRace%d", round)}
				var wg sync.WaitGroup
				var res [2]*response
				start := make(chan struct{})
				for i := range res {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						res[i] = e.post(t, c.path, body)
					}()
				}
				close(start)
				wg.Wait()
				codes := []int{res[0].Status, res[1].Status}
				slices.Sort(codes)
				if !slices.Equal(codes, []int{http.StatusCreated, http.StatusConflict}) {
					t.Fatalf("round %d %s: %s / %s", round, c.path, res[0], res[1])
				}
				for _, r := range res {
					if r.Status == http.StatusConflict {
						mustSCIMError(t, r, http.StatusConflict, mapping.ScimUniqueness)
					}
				}
			}
		}
		if l := resources(t, e.get(t, "/Users?count=100")); len(l) != 10 {
			t.Fatalf("%d users, want 10", len(l))
		}
	})
}

// TestConcurrentUserPatches: concurrent PATCHes of different attributes
// of one user all apply (the handler re-reads and re-applies on a version
// conflict).
func TestConcurrentUserPatches(t *testing.T) {
	const n = 10
	eachBackend(t, func(t *testing.T, e *env) {
		id := e.createUser(t, "concurrent@example.com")
		var wg sync.WaitGroup
		results := make([]*response, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = e.patch(t, "/Users/"+id, op("add", "phoneNumbers", []any{map[string]any{"value": fmt.Sprintf("+1-555-%04d", i)}}))
			}()
		}
		wg.Wait()
		for _, r := range results {
			mustStatus(t, r, http.StatusOK)
		}
		r := e.get(t, "/Users/"+id)
		if l, _ := r.Body["phoneNumbers"].([]any); len(l) != n {
			t.Fatalf("%d phone numbers after %d concurrent adds: %v", len(l), n, r.Body["phoneNumbers"])
		}
		if v := jstr(r.Body, "meta", "version"); v != mapping.ETag(n+1) {
			t.Fatalf("version %s, want %s", v, mapping.ETag(n+1))
		}
	})
}
