package mapping

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// stdAttrs is the oracle: encoding/json's Decoder with UseNumber, for one
// valid JSON value; ok is false for invalid JSON or a top-level value
// other than an object or null.
func stdAttrs(doc string) (any, bool) {
	if !json.Valid([]byte(doc)) {
		return nil, false
	}
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	switch v.(type) {
	case map[string]any, nil:
		return v, true
	}
	return nil, false
}

func checkDecodeAttrs(t *testing.T, doc string) {
	t.Helper()
	got, err := DecodeAttrsJSON(doc)
	want, ok := stdAttrs(doc)
	if !ok {
		if err == nil {
			t.Fatalf("DecodeAttrsJSON(%q) = %#v; want an error (encoding/json refuses it)", doc, got)
		}
		return
	}
	if err != nil {
		t.Fatalf("DecodeAttrsJSON(%q): %v; encoding/json gives %#v", doc, err, want)
	}
	var g any
	if got != nil {
		g = map[string]any(got)
	}
	if !reflect.DeepEqual(g, want) {
		t.Fatalf("DecodeAttrsJSON(%q) = %#v; encoding/json gives %#v", doc, g, want)
	}
}

var attrsJSONSeeds = []string{
	`{}`, `null`, ` { } `, `{"a":1}`, `{"a":-0.5e+10,"b":[1,2,{"c":null}],"d":true,"e":false}`,
	`{"userName":"ada@example.com","name":{"givenName":"Ada","familyName":"Lovelace"},"emails":[{"value":"ada@example.com","primary":true,"type":"work"}],"active":true}`,
	`{"a":"\u00e9\n\t\"\\\/\b\f\r"}`, `{"a":"\ud83d\ude00"}`, `{"a":"\ud83d"}`, `{"a":"\ud83dx"}`, `{"a":"\ude00\ud83d"}`,
	"{\"a\":\"\xff\"}", "{\"\xc3\":1}", `{"a":1,"a":2}`, `{"a":{"x":1},"a":{"y":2}}`, `{"é":"ü"}`,
	`[]`, `"x"`, `1`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a":1}x`, `{"a":1} `, `{"a" 1}`, `{"a":1,}`, `[1,]`,
	`{"a":"\u12"}`, `{"a":"\x"}`, "{\"a\":\"\n\"}", `{"a":[]}`, `{"a":[[]]}`, `nul`, `null x`, `{"a":tru}`,
	`{"a":1e}`, `{"a":1E-2}`, `{"a":-0}`, `{"a":0.0001}`, "{\"a\":\"\u2028\"}",
}

func TestDecodeAttrsJSON(t *testing.T) {
	for _, doc := range attrsJSONSeeds {
		checkDecodeAttrs(t, doc)
	}
	deep := strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001)
	if _, err := DecodeAttrsJSON(deep); err == nil {
		t.Error("nesting deeper than encoding/json's limit decoded")
	}
	checkDecodeAttrs(t, strings.Repeat(`{"a":`, 500)+"1"+strings.Repeat("}", 500))
}

// FuzzDecodeAttrsJSON checks DecodeAttrsJSON against encoding/json.
func FuzzDecodeAttrsJSON(f *testing.F) {
	for _, doc := range attrsJSONSeeds {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		checkDecodeAttrs(t, doc)
	})
}

// BenchmarkDecodeAttrsJSON decodes a stored full user document, by
// DecodeAttrsJSON and by encoding/json (the /std sub-benchmark).
func BenchmarkDecodeAttrsJSON(b *testing.B) {
	doc, err := json.Marshal(Attrs{"userName": "ada.lovelace@example.com", "active": true, "displayName": "Ada Lovelace", "locale": "en-US",
		"name":       map[string]any{"givenName": "Ada", "familyName": "Lovelace", "formatted": "Ada Lovelace"},
		"emails":     []any{map[string]any{"value": "ada.lovelace@example.com", "type": "work", "primary": true}},
		"externalId": "00u1abcdefghijklmnop", "title": "Analyst", "userType": "Employee",
		SchemaEnterpriseUser: map[string]any{"department": "Engineering", "employeeNumber": json.Number("1815")}})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeAttrsJSON(string(doc)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("std", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			dec := json.NewDecoder(bytes.NewReader(doc))
			dec.UseNumber()
			var a Attrs
			if err := dec.Decode(&a); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// identityJSONSeeds are documents whose identity fields are unusual:
// duplicates, wrong types, escapes, nested values to skip.
var identityJSONSeeds = []string{
	`{"userName":"a","userName":"b","active":false,"active":"no"}`,
	`{"name":{"givenName":"A"},"name":{"familyName":"B"},"emails":[{"value":"x","type":"home"},{"value":"y","primary":true}]}`,
	`{"emails":[{"value":"x","type":"home"}],"emails":[{"value":"w","type":"WORK"}],"externalId":1,"userName":null}`,
	`{"meta":{"a":[1,{"b":"\u00e9"},[]],"c":{}},"userName":"\u0041da","x":[[],[[]]],"externalId":"00u1","active":true}`,
	`{"UserName":"no","username":"no","name":"flat","emails":{"value":"o"}}`,
	`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com","e":-1.5e3,"t":true,"f":false,"n":null}`,
	`{"emails":[{"value":"","type":"work"},"x",{"value":"a","primary":true},{"value":"b","type":"Work","value":"c"},{"value":"d","primary":1}]}`,
	`{"emails":[{"value":"","primary":true},{"value":"e","primary":true}],"name":{"givenName":1,"familyName":"F","familyName":null}}`,
	`{"emails":[{"value":"f"},{"value":"g","type":"home"}],"active":1}`, `{"emails":[],"name":null,"active":null}`,
	`{"x":{"a":1,}}`, `{"x":[1 2]}`, `{"x":"\q"}`, `{"x":{"a" 1}}`, `{"x":[`, `{"x":{"a":1`, `{"userName":"a"} x`,
}

func checkIdentityOfJSON(t *testing.T, doc string) {
	t.Helper()
	got, err := IdentityOfJSON(doc)
	a, werr := DecodeAttrsJSON(doc)
	if (err != nil) != (werr != nil) {
		t.Fatalf("IdentityOfJSON(%q) error %v; DecodeAttrsJSON's %v", doc, err, werr)
	}
	if werr == nil {
		if want := IdentityOf(&User{Attrs: a}); got != want {
			t.Fatalf("IdentityOfJSON(%q) = %+v; IdentityOf gives %+v", doc, got, want)
		}
	}
}

// TestIdentityOfJSON checks IdentityOfJSON against IdentityOf of
// DecodeAttrsJSON's attributes.
func TestIdentityOfJSON(t *testing.T) {
	for _, doc := range append(slices.Clone(attrsJSONSeeds), identityJSONSeeds...) {
		checkIdentityOfJSON(t, doc)
	}
	deep := strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001)
	checkIdentityOfJSON(t, `{"x":`+deep+`,"userName":"a"}`)
}

// FuzzIdentityOfJSON checks IdentityOfJSON against IdentityOf of
// DecodeAttrsJSON's attributes.
func FuzzIdentityOfJSON(f *testing.F) {
	for _, doc := range append(slices.Clone(attrsJSONSeeds), identityJSONSeeds...) {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		checkIdentityOfJSON(t, doc)
	})
}
