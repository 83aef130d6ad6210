package mapping

import "testing"

// BenchmarkApplyUserPatch: decoding and applying Okta's two common user
// PATCH bodies (deactivate without a path; a value-filtered email replace)
// to a full Okta-shaped user.
func BenchmarkApplyUserPatch(b *testing.B) {
	attrs := Attrs{"userName": "ada.lovelace@example.com", "active": true, "displayName": "Ada Lovelace", "locale": "en-US",
		"name":       map[string]any{"givenName": "Ada", "familyName": "Lovelace"},
		"emails":     []any{map[string]any{"value": "ada.lovelace@example.com", "type": "work", "primary": true}},
		"externalId": "00u1abcdefghijklmnop"}
	bodies := map[string][]byte{
		"deactivate":   []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`),
		"email-filter": []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"emails[type eq \"work\"].value","value":"ada@example.org"}]}`),
	}
	for _, name := range []string{"deactivate", "email-filter"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ops, err := DecodePatch(bodies[name])
				if err != nil {
					b.Fatal(err)
				}
				if _, err := ApplyUserPatch(attrs, "u1", ops); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
