package mapping_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/mapping"
)

// userSeeds are POST/PUT /Users bodies from the Okta reference and the
// interop cases (C03, C17, C22, C23, C24), valid and not.
var userSeeds = []string{
	`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com","name":{"givenName":"Ada","familyName":"Okafor"},"emails":[{"primary":true,"value":"ada@example.com","type":"work"}],"displayName":"Ada Okafor","locale":"en-US","externalId":"00u1abcdEFGH2345ijkl","groups":[],"password":"S3cret!","active":true}`,
	`{"id":"client-7","userName":"c17@example.com","groups":[],"password":"x","active":false,"meta":{"resourceType":"User"}}`,
	`{"userName":"c03@example.com","active":"False"}`,
	`{"userName":"c03@example.com","active":"yes"}`,
	`{"schemas":["urn:example:unknown"],"userName":"x"}`,
	`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"userName":"x"}`,
	`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"userName":"e@example.com","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Eng","manager":{"value":"m1","displayName":"Boss"}}}`,
	`{"userName":"e@example.com","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter":"42","urn:ietf:params:scim:schemas:core:2.0:User:title":"T"}`,
	`{"userName":"` + strings.Repeat("é", 2049) + `"}`,
	`{"userName":"x","title":"` + strings.Repeat("t", 2048) + `"}`,
	`{"userName":"x","emails":{"value":"single@example.com"},"phoneNumbers":[{"value":"1"},{"value":"1"}],"addresses":[{"locality":"Paris","primary":"TRUE"}]}`,
	`{"userName":"x","USERNAME":"y"}`,
	`{"userName":"x","name":"flat"}`,
	`{"userName":"x","x509Certificates":[{"value":"MIIB"}],"photos":[{"value":"https://example.com/p.png","type":"photo"}]}`,
	`{"userName":"x","active":null,"title":"","nickName":null,"emails":[]}`,
	`{"userName":"x\u0000\ud800","title":"<b>&amp;</b>"}`,
	`{"userName":"x"} trailing`,
	`[]`,
	`{"userName":1e400}`,
}

// patchSeeds are PatchOp bodies from the interop cases C01–C09, C18, C24.
var patchSeeds = []string{
	`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":false}]}`,
	`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"move","path":"active","value":false}]}`,
	`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`,
	`{"Operations":[{"op":"Replace","path":"active","value":"False"}]}`,
	`{"Operations":[{"op":"replace","path":"active","value":"yes"}]}`,
	`{"Operations":[{"op":"replace","value":{"name":{"familyName":"Okafor"}}},{"op":"replace","value":{"name":{"givenName":"Ada"}}}]}`,
	`{"Operations":[{"op":"remove","path":"members[value eq \"u1\"]"}]}`,
	`{"Operations":[{"op":"Remove","path":"members","value":[{"value":"u1"}]}]}`,
	`{"Operations":[{"op":"remove","path":"members"}]}`,
	`{"Operations":[{"op":"replace","path":"members","value":[]}]}`,
	`{"Operations":[{"op":"replace","value":{"id":"gid","displayName":"Eng Platform"}},{"op":"add","value":{"members":[{"value":"u3","display":"x"}]}}]}`,
	`{"Operations":[{"op":"add","path":"members","value":[{"value":"u1"},{"value":"unknown"}]}]}`,
	`{"Operations":[{"op":"remove","path":"members[value sw \"u\" or display eq \"x\"]"}]}`,
	`{"Operations":[{"op":"replace","path":"title","value":"` + strings.Repeat("x", 3000) + `"}]}`,
	`{"Operations":[{"op":"replace","path":"emails[type eq \"work\"].value","value":"new@example.com"}]}`,
	`{"Operations":[{"op":"add","path":"emails[type eq \"home\" and primary eq false].value","value":"h@example.com"}]}`,
	`{"Operations":[{"op":"remove","path":"emails[value co \"example\"]"}]}`,
	`{"Operations":[{"op":"replace","path":"name.givenName","value":"G"},{"op":"remove","path":"name.familyName"}]}`,
	`{"Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value","value":"m2"}]}`,
	`{"Operations":[{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Ops"},"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division":"D"}}]}`,
	`{"Operations":[{"op":"replace","path":"id","value":"uid"},{"op":"replace","path":"meta.created","value":"2020-01-01T00:00:00Z"}]}`,
	`{"Operations":[{"op":"replace","path":"password","value":"pw"},{"op":"add","value":{"password":"pw","groups":[{"value":"g"}]}}]}`,
	`{"Operations":[{"op":"remove","path":"userName"}]}`,
	`{"Operations":[{"op":"replace","path":"displayName","value":null}]}`,
	`{"Operations":[{"op":"add","path":"members[value eq \"x\"]","value":[{"value":"x"}]}]}`,
	`{"Operations":[{"op":"replace","path":"members.value","value":"x"}]}`,
	`{"Operations":[{"op":"remove"}]}`,
	`{"Operations":[]}`,
	`{"Operations":[{"op":"add","path":"phoneNumbers","value":{"value":"1"}}],"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`,
	`{"Operations":[{"op":"replace","path":"emails[type eq \"work\"]","value":{"value":"w@example.com","display":"W"}}]}`,
	`{"Operations":[{"op":"add","path":"addresses[type eq \"work\"].locality","value":"Paris"}]}`,
	`{"Operations":[{"op":"replace","path":"emails","value":[{"value":"a"},{"value":"a"}]}]}`,
	`{"Operations":[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"},{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]}`,
	`{"Operations":[{"op":"remove","path":"name.givenName"},{"op":"remove","path":"name.familyName"},{"op":"remove","path":"addresses[type eq \"home\"].locality"}]}`,
	`{"Operations":[{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":null,"manager":null}}}]}`,
}

// fixedUser is the document every fuzzed PATCH is applied to.
func fixedUser() mapping.Attrs {
	return mapping.Attrs{
		"userName":                   "ada@example.com",
		"externalId":                 "00u1",
		"active":                     true,
		"title":                      "Engineer",
		"name":                       map[string]any{"givenName": "Ada", "familyName": "Okafor"},
		"emails":                     []any{map[string]any{"value": "ada@example.com", "type": "work", "primary": true}, map[string]any{"value": "ada@home.org", "type": "home"}},
		"addresses":                  []any{map[string]any{"locality": "Lagos", "type": "home"}},
		"displayName":                "Ada",
		mapping.SchemaEnterpriseUser: map[string]any{"department": "Eng", "manager": map[string]any{"value": "m1"}},
	}
}

func fixedGroup() mapping.Attrs {
	return mapping.Attrs{"displayName": "Eng", "externalId": "00g1"}
}

// checkError fails unless err is a *mapping.Error with a 4xx status and a detail.
func checkError(t *testing.T, what string, err error) {
	t.Helper()
	var me *mapping.Error
	if !errors.As(err, &me) {
		t.Fatalf("%s: error %T %v is not a *mapping.Error", what, err, err)
	}
	if me.Status < 400 || me.Status > 499 || me.Detail == "" {
		t.Fatalf("%s: bad error %+v", what, me)
	}
}

// roundTrip renders attrs as a stored User and decodes the rendering again,
// as a client that GETs a user and PUTs it back would.
func roundTrip(t *testing.T, attrs mapping.Attrs) mapping.Attrs {
	t.Helper()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	u := &mapping.User{ID: "uid", Attrs: attrs, Created: at, LastModified: at, Version: 3}
	res := mapping.UserResource(u, "https://scim.example.com/scim/v2", []mapping.Ref{{ID: "g1", Display: "Eng"}})
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatalf("rendering %v: %v", attrs, err)
	}
	back, err := mapping.DecodeUser(b)
	if err != nil {
		t.Fatalf("re-decoding the rendering of %v: %v\n%s", attrs, err, b)
	}
	return back
}

// FuzzUserBody: DecodeUser never panics, fails only with *mapping.Error,
// and every accepted body renders and re-decodes to the same Attrs.
func FuzzUserBody(f *testing.F) {
	for _, s := range userSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		attrs, err := mapping.DecodeUser(body)
		if err != nil {
			checkError(t, "DecodeUser", err)
			return
		}
		if (&mapping.User{Attrs: attrs}).UserName() == "" {
			t.Fatalf("accepted a user without userName: %v", attrs)
		}
		if back := roundTrip(t, attrs); !back.Equal(attrs) {
			t.Fatalf("round trip changed the user:\n got %#v\nwant %#v", back, attrs)
		}
		if path, ok := findEmpty(map[string]any(attrs), ""); ok {
			t.Fatalf("decoded user holds an empty value at %q: %#v", path, attrs)
		}
		// Decoding is deterministic and does not alias the input.
		again, err := mapping.DecodeUser(body)
		if err != nil || !again.Equal(attrs) {
			t.Fatalf("second decode differs: %v %v", err, again)
		}
	})
}

// FuzzPatchBody: DecodePatch and ApplyUserPatch/ApplyGroupPatch on fixed
// documents never panic and fail only with *mapping.Error; a user that a
// PATCH produces is still a valid user, and a member delta is well formed.
func FuzzPatchBody(f *testing.F) {
	for _, s := range patchSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ops, err := mapping.DecodePatch(body)
		if err != nil {
			checkError(t, "DecodePatch", err)
			return
		}
		orig := fixedUser()
		user, err := mapping.ApplyUserPatch(orig, "uid", ops)
		if !orig.Equal(fixedUser()) {
			t.Fatalf("ApplyUserPatch modified its input")
		}
		if err != nil {
			checkError(t, "ApplyUserPatch", err)
		} else {
			if back := roundTrip(t, user); !back.Equal(user) {
				t.Fatalf("patched user does not round-trip:\n got %#v\nwant %#v", back, user)
			}
			if path, ok := findEmpty(map[string]any(user), ""); ok {
				t.Fatalf("patched user holds an empty value at %q: %#v", path, user)
			}
		}

		calls := 0
		members := func() ([]string, error) { calls++; return []string{"u1", "u2", "u3"}, nil }
		g := fixedGroup()
		attrs, delta, err := mapping.ApplyGroupPatch(g, "gid", ops, members)
		if !g.Equal(fixedGroup()) {
			t.Fatalf("ApplyGroupPatch modified its input")
		}
		if err != nil {
			checkError(t, "ApplyGroupPatch", err)
			return
		}
		if attrs["displayName"] == nil {
			t.Fatalf("group lost its displayName: %v", attrs)
		}
		for _, id := range delta.Add {
			for _, r := range delta.Remove {
				if id == r {
					t.Fatalf("delta adds and removes %q: %+v", id, delta)
				}
			}
		}
		if delta.Replace && (len(delta.Add) > 0 || len(delta.Remove) > 0) {
			t.Fatalf("replace delta with add/remove: %+v", delta)
		}
		for _, l := range [][]string{delta.Add, delta.Remove, delta.Members} {
			seen := map[string]bool{}
			for _, id := range l {
				if id == "" || seen[id] {
					t.Fatalf("empty or repeated id in delta %+v", delta)
				}
				seen[id] = true
			}
		}
	})
}

// findEmpty returns the path of an empty object, array or string inside v:
// a normalised document never holds one (empty means unassigned).
func findEmpty(v any, path string) (string, bool) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 && path != "" {
			return path, true
		}
		for k, e := range x {
			if p, ok := findEmpty(e, path+"/"+k); ok {
				return p, true
			}
		}
	case []any:
		if len(x) == 0 {
			return path, true
		}
		for i, e := range x {
			if p, ok := findEmpty(e, fmt.Sprintf("%s/%d", path, i)); ok {
				return p, true
			}
		}
	case string:
		if x == "" {
			return path, true
		}
	}
	return "", false
}
