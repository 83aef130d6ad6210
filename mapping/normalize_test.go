package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"
)

// viaJSON is the path NormalizeUser and NormalizeGroup replace: encode the
// Go values as a SCIM body and decode it with DecodeUser / DecodeGroup.
func viaJSON(rt *ResourceType, attrs Attrs) (Attrs, error) {
	body := make(map[string]any, len(attrs)+1)
	for k, v := range attrs {
		body[k] = v
	}
	if rt == GroupType {
		body["schemas"] = []any{SchemaGroup}
	} else {
		schemas := []any{SchemaUser}
		if _, ok := attrs[SchemaEnterpriseUser]; ok {
			schemas = append(schemas, SchemaEnterpriseUser)
		}
		body["schemas"] = schemas
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	if rt == GroupType {
		a, _, _, err := DecodeGroup(b)
		return a, err
	}
	return DecodeUser(b)
}

// TestNormalizeMatchesJSONRoundTrip: NormalizeUser and NormalizeGroup give
// exactly the Attrs (same Go types, json.Number texts included) or the
// same error as encoding the values to JSON and decoding them again.
func TestNormalizeMatchesJSONRoundTrip(t *testing.T) {
	ent := SchemaEnterpriseUser
	users := map[string]Attrs{
		"nil":     nil,
		"minimal": {"userName": "ada"},
		"identity": ApplyIdentity(nil, Identity{UserName: "Ada.Lovelace@Example.COM", GivenName: "Ada", FamilyName: "Lovelace",
			Email: "ADA@example.com", ExternalID: "00u1", Active: true}),
		"unicode":       {"userName": "zoë@exämple.com", "displayName": "Ærøskøbing 日本語 🚀", "name": map[string]any{"givenName": "\u2028x<&>"}},
		"invalid utf-8": {"userName": "ada\xff\xfe@example.com", "nickName": "a\xc3"},
		"invalid key":   {"userName": "ada", "nick\xffName": "x"},
		"empty strings": {"userName": "ada", "displayName": "", "name": map[string]any{"givenName": "", "familyName": ""}, "emails": []any{}},
		"nulls": {"userName": "ada", "displayName": nil, "name": nil, "emails": []any{nil, map[string]any{"value": nil}},
			"active": nil, ent: nil},
		"typed nils":  {"userName": "ada", "emails": []any(nil), "name": map[string]any(nil)},
		"active text": {"userName": "ada", "active": "False"},
		"inactive":    {"userName": "ada", "active": false},
		"enterprise": {"userName": "ada", ent: map[string]any{"employeeNumber": "42", "department": "R&D",
			"manager": map[string]any{"value": "m1", "displayName": "read only"}}},
		"enterprise empty": {"userName": "ada", ent: map[string]any{}},
		"enterprise key":   {"userName": "ada", ent + ":department": "R&D"},
		"go types": {"userName": "ada", "emails": []map[string]any{{"value": "a@x", "primary": true}},
			"phoneNumbers": []map[string]string{{"value": "+1 555", "type": "work"}}, "x509Certificates": []string{"TUlJ"}},
		"numbers":          {"userName": "ada", "active": true, "name": map[string]any{"givenName": 3}},
		"json numbers":     {"userName": "ada", ent: map[string]any{"employeeNumber": json.Number("1e3")}},
		"dup emails":       {"userName": "ada", "emails": []any{map[string]any{"value": "a@x"}, map[string]any{"value": "a@x"}}},
		"no userName":      {"displayName": "Ada"},
		"unknown":          {"userName": "ada", "shoeSize": "44"},
		"read only":        {"userName": "ada", "id": "x", "meta": map[string]any{"created": "then"}, "groups": []any{"g"}, "password": "pw"},
		"schemas key":      {"userName": "ada", "schemas": []any{"urn:bogus"}},
		"Schemas key":      {"userName": "ada", "Schemas": []any{SchemaUser}},
		"wrong type":       {"userName": []any{"ada"}},
		"too many":         {"userName": "ada", "emails": make([]any, MaxMultiValues+1)},
		"NaN":              {"userName": "ada", "nickName": math.NaN()},
		"channel":          {"userName": "ada", "nickName": make(chan int)},
		"bad date":         {"userName": "ada", "meta": "x", ent: map[string]any{"manager": map[string]any{"value": 7}}},
		"odd json number":  {"userName": "ada", ent: map[string]any{"employeeNumber": json.Number("")}},
		"json number text": {"userName": "ada", "title": json.Number("7")},
	}
	for name, attrs := range users {
		t.Run("user/"+name, func(t *testing.T) { compareNormalized(t, UserType, attrs, NormalizeUser) })
	}
	groups := map[string]Attrs{
		"nil":           nil,
		"plain":         {"displayName": "Engineering"},
		"unicode":       {"displayName": "Ingeniería 工程", "externalId": "00g1"},
		"invalid utf-8": {"displayName": "Eng\xff"},
		"empty":         {"displayName": ""},
		"null":          {"displayName": nil},
		"members":       {"displayName": "Eng", "members": []any{map[string]any{"value": "u1"}}},
		"bad members":   {"displayName": "Eng", "members": []any{"u1"}},
		"unknown":       {"displayName": "Eng", "owner": "x"},
		"wrong type":    {"displayName": 7},
	}
	for name, attrs := range groups {
		t.Run("group/"+name, func(t *testing.T) { compareNormalized(t, GroupType, attrs, NormalizeGroup) })
	}
}

func compareNormalized(t *testing.T, rt *ResourceType, attrs Attrs, normalize func(Attrs) (Attrs, error)) {
	t.Helper()
	in := fmt.Sprintf("%#v", attrs) // fmt sorts map keys
	want, wantErr := viaJSON(rt, attrs)
	got, err := normalize(attrs)
	if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("error %v; the JSON round trip gives %v", err, wantErr)
	}
	var me, wme *Error
	if errors.As(err, &me) != errors.As(wantErr, &wme) || (me != nil && *me != *wme) {
		t.Fatalf("error %#v; the JSON round trip gives %#v", err, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
	if fmt.Sprintf("%#v", attrs) != in {
		t.Fatalf("the input changed: %#v", attrs)
	}
}

// TestNormalizeUserCopies: the result shares no map or slice with the
// input, as a decoded body does not.
func TestNormalizeUserCopies(t *testing.T) {
	in := Attrs{"userName": "ada", "emails": []any{map[string]any{"value": "a@x", "type": "work"}}}
	out, err := NormalizeUser(in)
	if err != nil {
		t.Fatal(err)
	}
	out["emails"].([]any)[0].(map[string]any)["value"] = "changed"
	if WorkEmail(in) != "a@x" {
		t.Fatal("NormalizeUser returned the input's email map")
	}
}

// BenchmarkNormalizeUser: the reconciler's normalisation of a user, and the
// JSON round trip it replaced.
func BenchmarkNormalizeUser(b *testing.B) {
	attrs := ApplyIdentity(Attrs{"title": "Engineer", SchemaEnterpriseUser: map[string]any{"department": "R&D"}},
		Identity{UserName: "ada.lovelace@example.com", GivenName: "Ada", FamilyName: "Lovelace", Email: "ada@example.com", ExternalID: "00u1", Active: true})
	b.Run("Normalize", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = NormalizeUser(attrs)
		}
	})
	b.Run("JSONRoundTrip", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = viaJSON(UserType, attrs)
		}
	})
}
