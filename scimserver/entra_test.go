package scimserver_test

// Microsoft Entra ID's PATCH shapes (issue 12 item 11): a path-less
// replace whose value object has attribute paths as keys, dotted
// ("name.givenName") and URN-qualified
// ("urn:...:enterprise:2.0:User:department", "urn:...:core:2.0:User:name.familyName"),
// as RFC 7644 §3.5.2 allows. Everything else stays as strict as before.

import (
	"net/http"
	"testing"

	"github.com/axonflow/axonflow-sync/mapping"
)

const entURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// entraPatch is what Entra sends: capitalised op, no path, mixed keys.
func entraPatch(value map[string]any) map[string]any {
	return map[string]any{
		"schemas":    []any{mapping.SchemaPatchOp},
		"Operations": []any{map[string]any{"op": "Replace", "value": value}},
	}
}

func TestEntraPathlessReplaceDottedAndURNKeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		id := e.createUser(t, "ada@example.com")
		r := e.do(t, http.MethodPatch, "/Users/"+id, entraPatch(map[string]any{
			"name.givenName":                        "Adaeze",
			mapping.SchemaUser + ":name.familyName": "Okafor-Obi",
			mapping.SchemaUser + ":displayName":     "Adaeze Okafor-Obi",
			entURN + ":department":                  "Research",
			entURN + ":manager.value":               "mgr-1",
			"active":                                false,
		}))
		mustStatus(t, r, http.StatusOK)
		for _, c := range []struct {
			path []any
			want string
		}{
			{[]any{"name", "givenName"}, "Adaeze"},
			{[]any{"name", "familyName"}, "Okafor-Obi"},
			{[]any{"displayName"}, "Adaeze Okafor-Obi"},
			{[]any{entURN, "department"}, "Research"},
			{[]any{entURN, "manager", "value"}, "mgr-1"},
		} {
			if got := jstr(r.Body, c.path...); got != c.want {
				t.Errorf("%v = %q, want %q; %s", c.path, got, c.want, r)
			}
		}
		if a := jget(r.Body, "active"); a != false {
			t.Errorf("active = %v, want false", a)
		}
		// The dotted key merged into name: the rest of name is kept.
		g := e.get(t, "/Users/"+id)
		if got := jstr(g.Body, "name", "familyName"); got != "Okafor-Obi" {
			t.Errorf("GET name.familyName = %q", got)
		}
	})
}

// Nothing else is loosened: unknown sub-attributes, readOnly ones, value
// filters as keys and a sub-attribute of a simple attribute stay 400s, and
// a rejected PATCH changes nothing.
func TestEntraPathlessReplaceStillStrict(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		id := e.createUser(t, "bo@example.com")
		for _, c := range []struct {
			key      string
			scimType string
		}{
			{"name.nickName", "invalidPath"},
			{"userName.first", "invalidPath"},
			{"emails[type eq \"work\"].value", "invalidPath"},
			{"meta.created", "mutability"},
			{"name.", "invalidPath"},
			{entURN + ":manager.displayName", "mutability"},
			{"urn:example:unknown:2.0:User:name.givenName", "invalidPath"},
		} {
			r := e.do(t, http.MethodPatch, "/Users/"+id, entraPatch(map[string]any{
				"name.givenName": "Changed",
				c.key:            "x",
			}))
			mustSCIMError(t, r, http.StatusBadRequest, c.scimType)
		}
		g := e.get(t, "/Users/"+id)
		if got := jstr(g.Body, "name", "givenName"); got != "Ada" {
			t.Errorf("a rejected PATCH changed name.givenName to %q", got)
		}
	})
}

// TestPathlessDuplicateKeysRefused: a path-less value whose keys name one
// attribute twice (case, a core URN prefix, an extension object beside its
// URN-qualified path) is 400 invalidValue and changes nothing; which key
// won used to depend on Go's map order.
func TestPathlessDuplicateKeysRefused(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		id := e.createUser(t, "dup@example.com")
		const core = "urn:ietf:params:scim:schemas:core:2.0:User"
		for _, v := range []map[string]any{
			{"userName": "a1@example.com", core + ":userName": "a2@example.com"},
			{"displayName": "d1", "DISPLAYNAME": "d2"},
			{"name.givenName": "g1", "NAME.GIVENNAME": "g2"},
			{entURN: map[string]any{"employeeNumber": "1"}, entURN + ":employeeNumber": "2"},
		} {
			for range 4 { // map order varies between requests
				r := e.do(t, http.MethodPatch, "/Users/"+id, entraPatch(v))
				mustSCIMError(t, r, http.StatusBadRequest, "invalidValue")
			}
		}
		g := e.get(t, "/Users/"+id)
		if got := jstr(g.Body, "userName"); got != "dup@example.com" {
			t.Errorf("a refused PATCH changed userName to %q", got)
		}
	})
}
