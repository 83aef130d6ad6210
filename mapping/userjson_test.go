package mapping

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"
)

// userResourceMap is what AppendUserResource must encode: UserResource's
// map with the roles the server adds when there are any.
func userResourceMap(u *User, base string, groups []Ref, roles []RoleAssignment) map[string]any {
	res := UserResource(u, base, groups)
	if len(roles) > 0 {
		res["roles"] = RolesAttr(roles)
	}
	return res
}

// checkUserResource requires AppendUserResource to write what AppendJSON
// writes for userResourceMap, or to fail when it fails, leaving dst as is.
func checkUserResource(t *testing.T, u *User, base string, groups []Ref, roles []RoleAssignment) {
	t.Helper()
	want, werr := AppendJSON([]byte("prefix"), userResourceMap(u, base, groups, roles))
	got, gerr := AppendUserResource([]byte("prefix"), u, base, groups, roles)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("%#v: error %v, AppendJSON %v", u, gerr, werr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%#v groups %v roles %v:\n got %s\nwant %s", u, groups, roles, got, want)
	}
}

func TestAppendUserResourceMatchesMap(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 600000000, time.UTC)
	modified := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("x", 3600))
	okta := Attrs{"userName": "ada@example.com", "name": map[string]any{"givenName": "Ada", "familyName": "Okafor"},
		"emails":      []any{map[string]any{"value": "ada@example.com", "type": "work", "primary": true}},
		"displayName": "Ada <Okafor> & co", "locale": "en-US", "externalId": "00u1", "active": true}
	ext := map[string]any{"employeeNumber": "7", "manager": map[string]any{"value": "m1"}}
	roles := []RoleAssignment{{Role: "admin", Source: SourceSCIM, Group: "g1"}, {Role: "view\"er\u2028\xff", Source: SourceDefault}}
	groups := []Ref{{ID: "g1", Display: "Eng & Ops"}, {ID: "g2"}, {ID: "g\u2028\"3", Display: "bad\xffname"}}
	attrSets := []Attrs{
		{},
		okta,
		{"userName": "x", "active": false},
		{"userName": "x", SchemaEnterpriseUser: ext},
		{"userName": "x", SchemaEnterpriseUser: map[string]any{}},
		{"userName": "x", SchemaEnterpriseUser: "not a map"},
		// Attributes named like the resource's own members: UserResource
		// replaces schemas, id and meta always, groups and roles only when
		// it has some.
		{"userName": "x", "schemas": []any{"s"}, "id": "other", "meta": map[string]any{}, "groups": []any{"g"}, "roles": []any{"r"}},
		{"$ref": "a", "A": 1.5, "z": json.Number("12"), "é": nil, "~": []string{"a"}, "active": "yes"},
		{"userName": "x", "n": math.NaN()},
	}
	bases := []string{"https://scim.example.com/scim/v2", "", "http://h\xc3", "http://h/\"q\"\u2029"}
	ids := []string{"2819c223-7f76-453a-919d-413861904646", "", "\xa9id", "a\"b\\c\n"}
	for _, a := range attrSets {
		for _, base := range bases {
			for _, id := range ids {
				for _, gs := range [][]Ref{nil, {}, groups} {
					for _, rs := range [][]RoleAssignment{nil, {}, roles} {
						u := &User{ID: id, Attrs: a, Created: created, LastModified: modified, Version: 42}
						checkUserResource(t, u, base, gs, rs)
					}
				}
			}
		}
	}
	checkUserResource(t, &User{ID: "zero"}, "b", nil, nil) // zero times, version 0
	checkUserResource(t, &User{ID: "neg", Created: time.Date(-5, 1, 1, 0, 0, 0, 1, time.UTC), Version: -1}, "b", nil, nil)
}

// FuzzAppendUserResource decodes arbitrary JSON objects as attributes the
// way the stores do and requires AppendUserResource to write what
// AppendJSON writes for the map.
func FuzzAppendUserResource(f *testing.F) {
	for _, s := range []string{`{"userName":"a","active":false,"groups":[1]}`, `{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"a":1}}`, `{"id":"\u2028","meta":{}}`} {
		f.Add(s, "https://h/scim/v2", "id1", "g1", "disp")
	}
	f.Fuzz(func(t *testing.T, doc, base, id, gid, disp string) {
		a, err := DecodeAttrsJSON(doc)
		if err != nil {
			return
		}
		u := &User{ID: id, Attrs: a, Created: time.Unix(1700000000, 123), LastModified: time.Unix(1700000001, 0), Version: 3}
		checkUserResource(t, u, base, nil, nil)
		checkUserResource(t, u, base, []Ref{{ID: gid, Display: disp}}, []RoleAssignment{{Role: disp, Source: SourceAPI}})
	})
}

func BenchmarkAppendUserResource(b *testing.B) {
	u := &User{ID: "2819c223-7f76-453a-919d-413861904646", Attrs: Attrs{"userName": "ada.lovelace@example.com",
		"name": map[string]any{"givenName": "Ada", "familyName": "Lovelace"}, "displayName": "Ada Lovelace", "locale": "en-US",
		"emails": []any{map[string]any{"value": "ada.lovelace@example.com", "type": "work", "primary": true}}, "externalId": "00u1abcdefghijklmnop", "active": true},
		Created: time.Now(), LastModified: time.Now(), Version: 3}
	const base = "https://scim.example.com/scim/v2"
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf, _ = AppendUserResource(buf[:0], u, base, nil, nil)
		}
	})
	b.Run("map", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf, _ = AppendJSON(buf[:0], UserResource(u, base, nil))
		}
	})
}
