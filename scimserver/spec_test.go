package scimserver_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axonflow/axonflow-sync/mapping"
)

// TestOktaSPEC runs the 12 steps of Okta's "SCIM 2.0 SPEC Test" in order,
// asserting each response as the Okta reference describes it.
func TestOktaSPEC(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		// Seed one complete user (step 1 needs one).
		seed := e.createUser(t, "spec.seed@example.com")

		requireComplete := func(t *testing.T, u any) {
			t.Helper()
			for _, p := range [][]any{{"id"}, {"name", "familyName"}, {"name", "givenName"}, {"userName"}, {"emails", 0, "value"}} {
				if jstr(u, p...) == "" {
					t.Errorf("user %v: %v is empty", u, p)
				}
			}
			if _, ok := jget(u, "active").(bool); !ok {
				t.Errorf("user %v: active is not a boolean", u)
			}
		}

		// 1. GET /Users?count=1&startIndex=1
		r := e.get(t, "/Users?count=1&startIndex=1")
		l := resources(t, r)
		if jint(t, r.Body, "itemsPerPage") != 1 || jint(t, r.Body, "startIndex") != 1 || jint(t, r.Body, "totalResults") != 1 || len(l) != 1 {
			t.Fatalf("step 1: %s", r)
		}
		requireComplete(t, l[0])
		first := l[0].(map[string]any)
		if first["id"] != seed {
			t.Fatalf("step 1: id %v, want %s", first["id"], seed)
		}

		// 2. GET /Users/{that id}
		r = e.get(t, "/Users/"+seed)
		mustStatus(t, r, http.StatusOK)
		requireComplete(t, r.Body)
		for _, k := range []string{"id", "userName", "name", "emails", "active"} {
			if !jsonEqual(r.Body[k], first[k]) {
				t.Errorf("step 2: %s = %v, list said %v", k, r.Body[k], first[k])
			}
		}

		// 3. Filter for an unknown userName.
		r = e.get(t, "/Users"+filterQS(`userName eq "spec.unknown.`+uniqueID("")+`@example.com"`))
		if l := resources(t, r); len(l) != 0 || jint(t, r.Body, "totalResults") != 0 {
			t.Fatalf("step 3: %s", r)
		}

		// 4. GET an unknown id.
		r = e.get(t, "/Users/"+uuid.NewString())
		mustSCIMError(t, r, http.StatusNotFound, "")

		// 5. Filter for a random new userName.
		login := "spec." + uniqueID("") + "@example.com"
		r = e.get(t, "/Users"+filterQS(`userName eq "`+login+`"`))
		if l := resources(t, r); len(l) != 0 || jint(t, r.Body, "totalResults") != 0 {
			t.Fatalf("step 5: %s", r)
		}

		// 6. POST /Users with Content-Type application/json.
		body := map[string]any{
			"schemas":  []any{mapping.SchemaUser},
			"userName": login,
			"name":     map[string]any{"givenName": "Spec", "familyName": "Tester"},
			"emails":   []any{map[string]any{"primary": true, "value": login, "type": "work"}},
			"active":   true,
		}
		r = e.post(t, "/Users", body, withCT("application/json"))
		mustStatus(t, r, http.StatusCreated)
		created := r.Body
		id := jstr(created, "id")
		if id == "" || created["active"] != true || jstr(created, "userName") != login ||
			jstr(created, "name", "givenName") != "Spec" || jstr(created, "name", "familyName") != "Tester" {
			t.Fatalf("step 6: %s", r)
		}
		if !jsonContains(created["schemas"], mapping.SchemaUser) {
			t.Fatalf("step 6: schemas %v lack the core User URN", created["schemas"])
		}
		if loc := r.Header.Get("Location"); loc != e.base+"/Users/"+id {
			t.Errorf("step 6: Location %q", loc)
		}

		// 7. GET the new user.
		r = e.get(t, "/Users/"+id)
		mustStatus(t, r, http.StatusOK)
		for _, k := range []string{"id", "userName", "name", "emails", "active", "schemas"} {
			if !jsonEqual(r.Body[k], created[k]) {
				t.Errorf("step 7: %s = %v, POST said %v", k, r.Body[k], created[k])
			}
		}

		// 8. The same POST again.
		r = e.post(t, "/Users", body, withCT("application/json"))
		mustSCIMError(t, r, http.StatusConflict, mapping.ScimUniqueness)

		// 9. Filter with the userName upper-cased.
		r = e.get(t, "/Users"+filterQS(`userName eq "`+strings.ToUpper(login)+`"`))
		l = resources(t, r)
		if len(l) != 1 || jint(t, r.Body, "totalResults") != 1 || jstr(l[0], "id") != id || jstr(l[0], "userName") != login {
			t.Fatalf("step 9: %s", r)
		}

		// 10. GET /Groups: Resources is an array even when empty.
		start := time.Now()
		r = e.get(t, "/Groups")
		t.Logf("step 10: GET /Groups took %v (Okta allows 600 ms)", time.Since(start))
		if l := resources(t, r); len(l) != 0 || jint(t, r.Body, "totalResults") != 0 {
			t.Fatalf("step 10: %s", r)
		}
		if !strings.Contains(string(r.Raw), `"Resources":[]`) {
			t.Errorf("step 10: Resources not written as []: %s", r.Raw)
		}

		// 11. Authorization: non-token.
		r = e.get(t, "/Users", withAuth("non-token"))
		mustSCIMError(t, r, http.StatusUnauthorized, "")
		if got := r.Header.Get("WWW-Authenticate"); got != `Bearer realm="SCIM"` {
			t.Errorf("step 11: WWW-Authenticate %q", got)
		}

		// 12. GET another unknown id.
		r = e.get(t, "/Users/"+uuid.NewString())
		mustSCIMError(t, r, http.StatusNotFound, "")
	})
}

// jsonContains reports whether the JSON array l contains the string s.
func jsonContains(l any, s string) bool {
	arr, _ := l.([]any)
	for _, v := range arr {
		if v == s {
			return true
		}
	}
	return false
}
