package scimserver_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/axonflow/axonflow-sync/mapping"
)

// TestMalformedQueryString: a query string that does not parse is a 400,
// not a request whose bad parameters were silently dropped (a mis-encoded
// userName lookup used to list every user).
func TestMalformedQueryString(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		uid := e.createUser(t, "ada@example.com")
		gid := e.createGroup(t, "Engineering")
		cases := []struct {
			method, path, scimType string
		}{
			{"GET", "/Users?filter=userName%20eq%20%22a%zz%22", mapping.ScimInvalidFilter},
			{"GET", "/Users?filter=userName%20eq%20%22a;b%22", mapping.ScimInvalidFilter},
			{"GET", "/Groups?filter=displayName%20eq%20%22%%22", mapping.ScimInvalidFilter},
			{"GET", "/Users?count=%zz", mapping.ScimInvalidValue},
			{"GET", "/Users/" + uid + "?attributes=%zz", mapping.ScimInvalidValue},
			{"GET", "/Groups/" + gid + "?excludedAttributes=members;x", mapping.ScimInvalidValue},
			{"PATCH", "/Users/" + uid + "?attributes=%", mapping.ScimInvalidValue},
		}
		for _, c := range cases {
			var body any
			if c.method == "PATCH" {
				body = patchBody(op("replace", "active", false))
			}
			r := e.do(t, c.method, c.path, body)
			d := mustSCIMError(t, r, http.StatusBadRequest, c.scimType)
			if !strings.Contains(d, "malformed") {
				t.Errorf("%s %s: detail %q", c.method, c.path, d)
			}
		}
		// Nothing was changed, and well-formed queries work.
		if u := e.get(t, "/Users/"+uid); jget(u.Body, "active") != true {
			t.Errorf("the refused PATCH changed the user: %s", u)
		}
		r := e.get(t, "/Users?filter="+strings.ReplaceAll(`userName%20eq%20%22ADA@example.com%22`, "@", "%40"))
		mustStatus(t, r, 200)
		if n := len(resources(t, r)); n != 1 {
			t.Errorf("well-formed lookup: %d resources", n)
		}
	})
}
