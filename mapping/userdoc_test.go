package mapping

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// checkUserDoc requires the UserDoc rendering of doc to be what
// AppendUserResource writes for the user with DecodeAttrsJSON(doc)'s
// attributes, whenever Parse accepts doc (and then DecodeAttrsJSON must
// succeed), with the same UserName. It reports whether Parse accepted.
func checkUserDoc(t *testing.T, doc string, u *User, base string, groups []Ref, roles []RoleAssignment) bool {
	t.Helper()
	d := NewUserDoc()
	defer d.Release()
	if !d.Parse(doc) {
		return false
	}
	a, err := DecodeAttrsJSON(doc)
	if err != nil {
		t.Fatalf("Parse accepted %q, DecodeAttrsJSON: %v", doc, err)
	}
	du := *u
	du.Attrs = a
	want, err := AppendUserResource([]byte("prefix"), &du, base, groups, roles)
	if err != nil {
		t.Fatalf("%q: AppendUserResource: %v", doc, err)
	}
	got := d.AppendResource([]byte("prefix"), u, base, groups, roles)
	if !bytes.Equal(got, want) {
		t.Fatalf("doc %q groups %v roles %v:\n got %s\nwant %s", doc, groups, roles, got, want)
	}
	if d.UserName() != du.UserName() {
		t.Fatalf("doc %q: UserName %q, want %q", doc, d.UserName(), du.UserName())
	}
	return true
}

// randString returns a string of up to 12 characters drawn from plain
// ASCII, HTML-sensitive characters, escapes, control characters,
// multi-byte runes, U+2028/U+2029 and invalid UTF-8.
func randString(r *rand.Rand) string { return randStringOf(r, randParts) }

// randKey is randString without invalid UTF-8: keys of stored documents
// are decoded JSON strings (see TestUserDocInvalidKeys for the others).
func randKey(r *rand.Rand) string { return randStringOf(r, randParts[:len(randParts)-5]) }

var randParts = []string{"a", "Z", "0", " ", "<", ">", "&", "\"", "\\", "/", "\n", "\t", "\x01", "\x1f", "\x7f",
	"é", "ß", "日本", "😀", "\u2028", "\u2029", "\ufffd", "userName", "id", "\xff", "\xc3", "\xed\xa0\x80", "\xf0\x9f", "\x80"}

func randStringOf(r *rand.Rand, parts []string) string {
	var b strings.Builder
	for range r.IntN(13) {
		b.WriteString(parts[r.IntN(len(parts))])
	}
	return b.String()
}

// randValue returns a value of the shapes stored attributes have.
func randValue(r *rand.Rand, depth int) any {
	k := r.IntN(10)
	if depth > 3 && k >= 7 {
		k = r.IntN(7)
	}
	switch k {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return []any{0.5, 1e21, -0.0, 1e-7, 123456789.0, 3.0}[r.IntN(6)]
	case 3:
		return json.Number([]string{"0", "-1", "12", "1.50", "1e5", "-2.5E-3", "1E+2"}[r.IntN(7)])
	case 4, 5, 6:
		return randString(r)
	case 7, 8:
		m := map[string]any{}
		for range r.IntN(5) {
			m[randKey(r)] = randValue(r, depth+1)
		}
		return m
	default:
		l := make([]any, r.IntN(4))
		for i := range l {
			l[i] = randValue(r, depth+1)
		}
		return l
	}
}

// TestUserDocMatchesAppendUserResource holds the UserDoc rendering to
// AppendUserResource of the decoded document, over documents encoded as
// the stores encode them (encoding/json, HTML escaping on) from varied
// users: Okta's shapes, unicode, escapes, invalid UTF-8, numbers, the
// enterprise extension in every form, attributes named like the
// resource's own members; with and without groups and roles. Parse must
// accept every such document.
func TestUserDocMatchesAppendUserResource(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 600000000, time.UTC)
	modified := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("x", 3600))
	roles := []RoleAssignment{{Role: "admin", Source: SourceSCIM, Group: "g1"}, {Role: "view\"er\u2028\xff", Source: SourceDefault}}
	groups := []Ref{{ID: "g1", Display: "Eng & Ops"}, {ID: "g2"}, {ID: "g\u2028\"3", Display: "bad\xffname"}}
	okta := Attrs{"userName": "ada@example.com", "name": map[string]any{"givenName": "Ada", "familyName": "Okafor"},
		"emails":      []any{map[string]any{"value": "ada@example.com", "type": "work", "primary": true}},
		"displayName": "Ada <Okafor> & co", "locale": "en-US", "externalId": "00u1", "active": true}
	fixed := []Attrs{
		{},
		okta,
		{"userName": "x", "active": false},
		{"userName": 7, "active": "yes"},
		{"userName": nil},
		{"userName": "x", SchemaEnterpriseUser: map[string]any{"employeeNumber": "7", "manager": map[string]any{"value": "m1"}}},
		{"userName": "x", SchemaEnterpriseUser: map[string]any{}},
		{"userName": "x", SchemaEnterpriseUser: "not a map"},
		{"userName": "x", SchemaEnterpriseUser: nil},
		{"userName": "x", "schemas": []any{"s"}, "id": "other", "meta": map[string]any{}, "groups": []any{"g"}, "roles": []any{"r"}},
		{"$ref": "a", "A": 1.5, "z": json.Number("12"), "é": nil, "~": []string{"a"}, "": "empty key", "active": "yes"},
		{"userName": "ünï\u2028<&>\"\\\x01\xff", "nickName": "日本😀"},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		a := Attrs{}
		for range r.IntN(10) {
			a[randKey(r)] = randValue(r, 1)
		}
		if r.IntN(2) == 0 {
			a["userName"] = randValue(r, 1)
		}
		if r.IntN(3) == 0 {
			a[SchemaEnterpriseUser] = randValue(r, 1)
		}
		for _, k := range []string{"active", "groups", "roles", "id", "meta", "schemas"} {
			if r.IntN(6) == 0 {
				a[k] = randValue(r, 1)
			}
		}
		fixed = append(fixed, a)
	}
	bases := []string{"https://scim.example.com/scim/v2", "", "http://h/\"q\"\u2029"}
	ids := []string{"2819c223-7f76-453a-919d-413861904646", "a\"b\\c\n"}
	for i, a := range fixed {
		doc, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		for j, base := range bases {
			id := ids[(i+j)%len(ids)]
			u := &User{ID: id, Created: created, LastModified: modified, Version: int64(i)}
			for _, gs := range [][]Ref{nil, groups[:1], groups} {
				for _, rs := range [][]RoleAssignment{nil, roles} {
					if !checkUserDoc(t, string(doc), u, base, gs, rs) {
						t.Fatalf("Parse refused a document encoding/json wrote: %s", doc)
					}
				}
			}
		}
	}
}

// TestUserDocInvalidKeys: encoding/json sorts keys before it replaces
// their invalid UTF-8, so such a document may not have its keys in order
// once decoded, or may repeat one: Parse may refuse it, and what it
// accepts must render as the decoded user.
func TestUserDocInvalidKeys(t *testing.T) {
	u := &User{ID: "u1", Created: time.Unix(1700000000, 5), LastModified: time.Unix(1700000001, 0), Version: 2}
	r := rand.New(rand.NewPCG(3, 4))
	accepted := 0
	for range 3000 {
		a := Attrs{}
		for range r.IntN(8) {
			a[randString(r)] = randString(r)
		}
		doc, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if checkUserDoc(t, string(doc), u, "b", []Ref{{ID: "g"}}, nil) {
			accepted++
		}
	}
	if accepted == 0 {
		t.Fatal("Parse refused every document")
	}
}

// TestUserDocRefuses: documents Parse must refuse (the caller decodes
// them), and documents written otherwise than by encoding/json that it
// may accept, which must then render as the decoded user.
func TestUserDocRefuses(t *testing.T) {
	u := &User{ID: "u1", Created: time.Unix(1700000000, 5), LastModified: time.Unix(1700000001, 0), Version: 2}
	refused := []string{
		"", "null", " null ", "[]", `"x"`, "{", `{"a":1`, `{"a":1,}`, `{"a" 1}`, `{"a":1}x`, `{"a":1}{}`,
		`{"b":1,"a":2}`, `{"a":1,"a":2}`, `{"a":{"y":1,"x":2}}`, `{"a":[{"k":1,"k":2}]}`, `{"\u0062":1,"a":2}`,
		`{"a":01}`, `{"a":1.}`, `{"a":tru}`, `{"a":"\x01"}`, `{"a":"\q"}`, `{"a":"unterminated}`, `{"a":[1,]}`,
		`{"a":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`,
	}
	for _, doc := range refused {
		if checkUserDoc(t, doc, u, "b", nil, nil) {
			t.Errorf("Parse accepted %q", doc)
		}
	}
	accepted := []string{
		"{}", " { } ", "\t{ \"a\" : [ 1 , {\"x\" : null} ] ,\n\"b\":\"\\u003c\\/\\ud83d\\ude00\\ud800\" }\r\n",
		`{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{ },"userName":"\u0061\u2028"}`,
		`{"a":"\u00e9","userName":"é","\u00e9":1}`, `{"m":1E9,"n":-0.0e+00}`,
		`{"a":` + strings.Repeat("[", 9998) + strings.Repeat("]", 9998) + `}`,
	}
	for _, doc := range accepted {
		if !checkUserDoc(t, doc, u, "b", []Ref{{ID: "g"}}, nil) {
			t.Errorf("Parse refused %q", doc)
		}
	}
}

// FuzzUserDoc requires, for any document Parse accepts, the rendering of
// the decoded user (checkUserDoc).
func FuzzUserDoc(f *testing.F) {
	for _, s := range []string{`{"userName":"a","active":false,"groups":[1]}`, `{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"a":1}}`,
		`{"id":"\u2028","meta":{},"x":"\u003c"}`, ` {"a" : [1.5e3, "\ud800"] } `} {
		f.Add(s, "https://h/scim/v2", "g1", "disp")
	}
	f.Fuzz(func(t *testing.T, doc, base, gid, disp string) {
		u := &User{ID: "id", Created: time.Unix(1700000000, 123), LastModified: time.Unix(1700000001, 0), Version: 3}
		checkUserDoc(t, doc, u, base, nil, nil)
		checkUserDoc(t, doc, u, base, []Ref{{ID: gid, Display: disp}}, []RoleAssignment{{Role: disp, Source: SourceAPI}})
	})
}

func BenchmarkUserDoc(b *testing.B) {
	a := Attrs{"userName": "ada.lovelace@example.com",
		"name": map[string]any{"givenName": "Ada", "familyName": "Lovelace"}, "displayName": "Ada Lovelace", "locale": "en-US",
		"emails": []any{map[string]any{"value": "ada.lovelace@example.com", "type": "work", "primary": true}}, "externalId": "00u1abcdefghijklmnop", "active": true}
	docb, _ := json.Marshal(a)
	doc := string(docb)
	u := &User{ID: "2819c223-7f76-453a-919d-413861904646", Created: time.Now(), LastModified: time.Now(), Version: 3}
	const base = "https://scim.example.com/scim/v2"
	b.Run("doc", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			d := NewUserDoc()
			if !d.Parse(doc) {
				b.Fatal("refused")
			}
			buf = d.AppendResource(buf[:0], u, base, nil, nil)
			d.Release()
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			du := *u
			du.Attrs, _ = DecodeAttrsJSON(doc)
			buf, _ = AppendUserResource(buf[:0], &du, base, nil, nil)
		}
	})
}
