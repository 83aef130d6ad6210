package oktasource

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/axonflow/axonflow-sync/sync/oktatest"
	"github.com/okta/okta-sdk-golang/v2/okta"
)

// readAppUsers reads a page body with readPage/readAppUser and converts each
// item as listAppUsers does (expand, withProfile).
func readAppUsers(body []byte) ([]AppUser, error) {
	var out []AppUser
	err := readPage(body, func(s *scanner, null bool) error {
		if null {
			return errors.New("null item")
		}
		var v slimAppUser
		if err := readAppUser(s, &v); err != nil {
			return err
		}
		au, err := convertSlimAppUser(&v, true, true)
		if err != nil {
			return err
		}
		out = append(out, au)
		return nil
	})
	return out, err
}

const goodAppUser = `{"id":"00u1","externalId":null,"created":"2024-01-01T00:00:00.000Z","scope":"USER","status":"ACTIVE",
 "syncState":"DISABLED","credentials":{"userName":"a@x.io"},"profile":{"email":"a@x.io","given_name":"A","n":1.5e3},
 "_links":{"app":{"href":"h"},"list":[1,-0.5,true,false,null,{"a":[]}]},
 "_embedded":{"user":{"id":"00u1","status":"ACTIVE","type":{"id":"oty"},
  "profile":{"login":"a@x.io","email":"a@x.io","firstName":"Ad\u00e9le","lastName":"L\"ast","mobilePhone":null}}}}`

// TestReadPageMatchesEncodingJSON reads pages with the single-pass reader
// and with encoding/json: the same pages are accepted, with the same
// values, and the same are rejected.
func TestReadPageMatchesEncodingJSON(t *testing.T) {
	pages := []string{
		``, `null`, `[]`, ` [ ] `, `[` + goodAppUser + `]`, `[` + goodAppUser + `,` + goodAppUser + "]\n",
		`[` + strings.Replace(goodAppUser, `"Ad\u00e9le"`, `"Ad\u00e9le\ud83d\ude00\t"`, 1) + `]`,
		`[` + strings.Replace(goodAppUser, `"Ad\u00e9le"`, "\"Ad\xffle\"", 1) + `]`,
		// mistyped members
		`[` + strings.Replace(goodAppUser, `"scope":"USER"`, `"scope":7`, 1) + `]`,
		`[` + strings.Replace(goodAppUser, `"credentials":{"userName":"a@x.io"}`, `"credentials":"x"`, 1) + `]`,
		`[` + strings.Replace(goodAppUser, `"credentials":{"userName":"a@x.io"}`, `"credentials":null`, 1) + `]`,
		`[` + strings.Replace(goodAppUser, `"given_name":"A"`, `"given_name":{}`, 1) + `]`,
		`[` + strings.Replace(goodAppUser, `"lastName":"L\"ast"`, `"lastName":["x"]`, 1) + `]`,
		`[` + strings.Replace(goodAppUser, `"_embedded":{`, `"_embedded":{"user":null,`, 1) + `]`,
		`[` + strings.Replace(goodAppUser, `"status":"ACTIVE",`, `"status":"SUSPENDED","status":"ACTIVE",`, 1) + `]`,
		`{"id":"00u1"}`, `"x"`, `[1]`, `["x"]`, `[true]`,
		// syntax errors
		`[`, `[` + goodAppUser, `[` + goodAppUser + `,]`, `[,` + goodAppUser + `]`, `[{"id":"00u1",}]`, `[{"id" "00u1"}]`,
		`[{"id":"00u1"}`, `[{"id":"00u1"]`, `[{"id":"00u\x01"}]`, `[{"id":"00u\q"}]`, `[{"id":"00u\u12g4"}]`,
		`[{"id":"00u1","n":01}]`, `[{"id":"00u1","n":1.}]`, `[{"id":"00u1","n":-}]`, `[{"id":"00u1","n":1e}]`,
		`[{"id":"00u1","n":tru}]`, `[{"id":"00u1","n":nul}]`, `[{"id":"00u1","n":[1,]}]`, `[{"id":"00u1","n":{"a"}}]`,
		`[] x`, `[][]`, strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	}
	for i, p := range pages {
		t.Run(fmt.Sprint(i), func(t *testing.T) { compareWithRef(t, p) })
	}
}

// compareWithRef checks that the reader (readAppUsers) and the reference
// (refAppUsers) both reject page p or both read the same app users.
func compareWithRef(t *testing.T, p string) {
	t.Helper()
	got, gotErr := readAppUsers([]byte(p))
	want, refErr := refAppUsers([]byte(p))
	if (gotErr == nil) != (refErr == nil) {
		t.Fatalf("reader error %v, encoding/json error %v", gotErr, refErr)
	}
	if gotErr == nil && fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Fatalf("reader read\n%+v\nencoding/json\n%+v", got, want)
	}
}

// refAppUsers is the reference the reader is checked against: it decodes a
// page as the SDK did before the single-pass reader (encoding/json into
// []*okta.AppUser; an empty body is an empty page, as the SDK skips
// decoding it) and converts each item as convertSlimAppUser does with
// expand and withProfile, type-checking what the reader type-checks.
func refAppUsers(body []byte) ([]AppUser, error) {
	if len(bytes.Trim(body, " \t\r\n")) == 0 {
		return nil, nil
	}
	var items []*okta.AppUser
	if err := json.Unmarshal(body, &items); err != nil {
		return nil, err
	}
	var out []AppUser
	for _, it := range items {
		if it == nil {
			return nil, errors.New("null item")
		}
		au, err := refConvert(it)
		if err != nil {
			return nil, err
		}
		out = append(out, au)
	}
	return out, nil
}

// refString returns member k of m: a string, or "" for null; present says
// whether m has k.
func refString(m map[string]any, k string) (s string, present bool, err error) {
	v, present := m[k]
	if s, ok := v.(string); ok || v == nil {
		return s, present, nil
	}
	return "", true, fmt.Errorf("%s is a %T, not a string", k, v)
}

// refConvert is convertSlimAppUser (expand, withProfile) over an
// okta.AppUser.
func refConvert(u *okta.AppUser) (AppUser, error) {
	au := AppUser{ID: u.Id, ExternalID: u.ExternalId, Scope: u.Scope, Status: u.Status, SyncState: u.SyncState}
	if u.Credentials != nil {
		au.UserName = u.Credentials.UserName
	}
	if u.Profile != nil {
		p, ok := u.Profile.(map[string]any)
		if !ok {
			return au, fmt.Errorf("profile is a %T", u.Profile)
		}
		au.Profile = map[string]any{}
		for _, k := range []string{"email", "firstName", "given_name", "lastName", "family_name", "login"} {
			s, present, err := refString(p, k)
			if err != nil {
				return au, err
			}
			if present {
				au.Profile[k] = s
			}
		}
	}
	emb, ok := u.Embedded.(map[string]any)
	if u.Embedded != nil && !ok {
		return au, fmt.Errorf("_embedded is a %T", u.Embedded)
	}
	user, ok := emb["user"].(map[string]any)
	if emb["user"] != nil && !ok {
		return au, fmt.Errorf("_embedded.user is a %T", emb["user"])
	}
	id, _, err := refString(user, "id")
	if err != nil {
		return au, err
	}
	status, _, err := refString(user, "status")
	if err != nil {
		return au, err
	}
	p, ok := user["profile"].(map[string]any)
	if user["profile"] != nil && !ok {
		return au, fmt.Errorf("_embedded.user.profile is a %T", user["profile"])
	}
	login, _, err := refString(p, "login")
	if err != nil {
		return au, err
	}
	var names [3]string
	var present [3]bool
	for i, k := range []string{"email", "firstName", "lastName"} {
		if names[i], present[i], err = refString(p, k); err != nil {
			return au, err
		}
	}
	switch {
	case au.ID == "" || au.Status == "":
		return au, errors.New("no id or status")
	case emb == nil || user == nil || id == "" || id != au.ID || status == "" || p == nil || login == "":
		return au, errors.New("_embedded.user, its id, status, profile or login missing")
	case !present[0] || !present[1] || !present[2]:
		return au, errors.New("email, firstName or lastName missing")
	}
	au.UserStatus, au.Login, au.Email, au.FirstName, au.LastName = status, login, names[0], names[1], names[2]
	return au, nil
}

// TestRepeatedMembersMatchEncodingJSON: a member given twice reads as the
// SDK's decoding reads it: for a string field null leaves the earlier
// value (externalId, status, credentials.userName); for a profile entry
// null replaces it; a later credentials object is merged into the earlier
// one, a later profile, _embedded or _embedded.user object replaces it.
func TestRepeatedMembersMatchEncodingJSON(t *testing.T) {
	r := func(old, new string) string { return `[` + strings.Replace(goodAppUser, old, new, 1) + `]` }
	for name, p := range map[string]string{
		"externalId null":    r(`"externalId":null`, `"externalId":"ext-1","externalId":null`),
		"userName null":      r(`"credentials":{"userName":"a@x.io"}`, `"credentials":{"userName":"a@x.io","userName":null}`),
		"status null":        r(`"status":"ACTIVE",`, `"status":"ACTIVE","status":null,`),
		"id null":            r(`"id":"00u1",`, `"id":"00u1","id":null,`),
		"status null last":   r(`"syncState":"DISABLED"`, `"syncState":"DISABLED","status":null,"scope":null,"syncState":null`),
		"profile email null": r(`"given_name":"A"`, `"given_name":"A","email":null`),
		"user email null":    r(`"email":"a@x.io","firstName"`, `"email":"a@x.io","email":null,"firstName"`),
		"user status null":   r(`"status":"ACTIVE","type"`, `"status":"ACTIVE","status":null,"type"`),
		"credentials merged": r(`"credentials":{"userName":"a@x.io"}`, `"credentials":{"userName":"a@x.io"},"credentials":{"password":{}}`),
		"credentials null":   r(`"credentials":{"userName":"a@x.io"}`, `"credentials":{"userName":"a@x.io"},"credentials":null`),
		"credentials again":  r(`"credentials":{"userName":"a@x.io"}`, `"credentials":{"userName":"a@x.io"},"credentials":null,"credentials":{}`),
		"profile replaced":   r(`"profile":{`, `"profile":{"login":"l","family_name":"F"},"profile":{`),
		"profile replaced 2": r(`"_links"`, `"profile":{"login":"l"},"_links"`),
		"embedded replaced":  r(`"_links"`, `"_embedded":{"user":{"id":"zz"}},"_links"`),
		"embedded emptied":   `[` + goodAppUser[:len(goodAppUser)-1] + `,"_embedded":{}}]`,
		"user replaced":      r(`"_embedded":{`, `"_embedded":{"user":{"id":"zz","status":"SUSPENDED","profile":{"login":"zz"}},`),
		"user emptied":       `[` + goodAppUser[:len(goodAppUser)-2] + `,"user":{"id":"00u1"}}}]`,
		"user profile again": `[` + goodAppUser[:len(goodAppUser)-3] + `,"profile":{"login":"a@x.io"}}}}]`,
	} {
		t.Run(name, func(t *testing.T) { compareWithRef(t, p) })
	}
}

// TestMemberNamesMatchEncodingJSON: member names are unescaped, and an SDK
// struct field's name also matches case-insensitively (Unicode simple
// folding, as encoding/json's) when no name matches exactly, while names
// in profiles and _embedded (maps in the SDK) match exactly.
func TestMemberNamesMatchEncodingJSON(t *testing.T) {
	r := func(old, new string) string { return `[` + strings.Replace(goodAppUser, old, new, 1) + `]` }
	for name, p := range map[string]string{
		"escaped externalId":    r(`"externalId":null`, `"external\u0049d":"ext-1"`),
		"escaped status later":  r(`"syncState":"DISABLED"`, `"syncState":"DISABLED","st\u0061tus":"SUSPENDED"`),
		"escaped credentials":   r(`"credentials":{"userName"`, `"cr\u0065dentials":{"user\u004eame"`),
		"escaped profile key":   r(`"given_name":"A"`, `"given_name":"A","\u0066amily_name":"F"`),
		"escaped embedded":      r(`"_embedded":{"user"`, `"\u005fembedded":{"\u0075ser"`),
		"escaped user profile":  r(`"email":"a@x.io","firstName"`, `"em\u0061il":"b@x.io","firstName"`),
		"escaped bad utf8 name": r(`"externalId":null`, `"externalId\ud800":"x","externalI\u00c0":"y"`),
		"Status":                r(`"syncState":"DISABLED"`, `"syncState":"DISABLED","Status":"SUSPENDED"`),
		"STATUS before status":  r(`"status":"ACTIVE",`, `"STATUS":"SUSPENDED","status":"ACTIVE",`),
		"EXTERNALID":            r(`"externalId":null`, `"EXTERNALID":"ext-1"`),
		"long s status":         r(`"syncState":"DISABLED"`, "\"syncState\":\"DISABLED\",\"\u017ftatus\":\"SUSPENDED\""),
		"escaped long s":        r(`"syncState":"DISABLED"`, `"syncState":"DISABLED","\u017fcope":"GROUP"`),
		"Id ID":                 r(`"id":"00u1",`, `"Id":"00u2","ID":"00u1",`),
		"USERNAME":              r(`"credentials":{"userName":"a@x.io"}`, `"CREDENTIALS":{"USERNAME":"b@x.io"}`),
		"Profile":               r(`"profile":{`, `"Profile":{"login":"l"},"profile":{`),
		"_EMBEDDED":             r(`"_embedded":{`, `"_EMBEDDED":{"user":{}},"_embedded":{`),
		"_Embedded last":        `[` + goodAppUser[:len(goodAppUser)-1] + `,"_Embedded":{"user":{"id":"x"}}}]`,
		"USER in _embedded":     r(`"_embedded":{"user"`, `"_embedded":{"USER"`),
		"EMAIL in user profile": r(`"email":"a@x.io","firstName"`, `"email":"a@x.io","EMAIL":"y@evil.example","Email":"z@evil.example","firstName"`),
		"Login in app profile":  r(`"given_name":"A"`, `"given_name":"A","Login":"l","FIRSTNAME":"F"`),
		"Id in user":            r(`"status":"ACTIVE","type"`, `"status":"ACTIVE","Id":"zz","type"`),
		"Kelvin is no field":    r(`"externalId":null`, "\"externalId\":null,\"\u212a\":1"),
	} {
		t.Run(name, func(t *testing.T) { compareWithRef(t, p) })
	}
}

// TestFieldMatchesEncodingJSON compares key and foldField with the field encoding/json
// decodes a member into, for names that differ only in case and Unicode
// folding (ſ U+017F folds to s, K U+212A to k), raw and escaped.
func TestFieldMatchesEncodingJSON(t *testing.T) {
	for _, k := range []string{"status", "Status", "STATUS", "statuS", "\u017ftatus", "\u017fTATU\u017f", `\u017ftatus`,
		`\u017FTATU\u017f`, "status ", "stat", "sk", "SK", `\u017f\u212a`, "s\u212a", `s\u212A`, "s\u0130", "\u0131d", `\u0131D`,
		"_x1", "_X1", `_\u0058\u0031`, "_x!", "\u00c9t\u00e9", `\u00e9T\u00c9`, "", "\ufffd", `\ud800`, "s\xffk", `st\"atus`, `\\sk`} {
		checkField(t, k)
	}
}

// checkField fails t when key and field disagree with encoding/json on the
// member name written as the JSON string literal k (without its quotes).
func checkField(t *testing.T, k string) {
	t.Helper()
	var ref struct {
		A string `json:"status"`
		B string `json:"sk"`
		C string `json:"_x1"`
	}
	if err := json.Unmarshal([]byte(`{"`+k+`":"v"}`), &ref); err != nil {
		return // not a valid name
	}
	want := ""
	for n, v := range map[string]string{"status": ref.A, "sk": ref.B, "_x1": ref.C} {
		if v != "" {
			want = n
		}
	}
	s := &scanner{b: []byte(`"` + k + `":`)}
	name, err := s.key()
	if err != nil {
		t.Fatalf("%q: %v", k, err)
	}
	names := []string{"status", "sk", "_x1"}
	got := ""
	for _, n := range names {
		if string(name) == n {
			got = n
		}
	}
	if i := foldField(name, names); got == "" && i >= 0 {
		got = names[i]
	}
	if got != want {
		t.Errorf("member %q matches field %q; encoding/json: %q", k, got, want)
	}
}

// FuzzField checks key and foldField against encoding/json for arbitrary member names.
func FuzzField(f *testing.F) {
	for _, k := range []string{"status", "\\u017fTATUS", "SK", "s\\u212a", "_X1", "\\u00c9T\\u00c9", "\xc3\xa9t\xc3\xa9"} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, k string) {
		if strings.ContainsAny(k, `"`) {
			return
		}
		checkField(t, k)
	})
}

// TestReadMemberMatchesEncodingJSON reads group member pages with
// readMember and with encoding/json into okta.User (SDK semantics: id,
// status and profile are struct fields, the profile a map merged on
// repeat) and compares the Members listGroupMembers builds.
func TestReadMemberMatchesEncodingJSON(t *testing.T) {
	const m = `{"id":"00u1","status":"ACTIVE","created":"2024-01-01T00:00:00.000Z","profile":{"login":"a@x.io","email":"a@x.io","firstName":"A","lastName":null,"mobilePhone":null}}`
	r := func(old, new string) string { return `[` + strings.Replace(m, old, new, 1) + `]` }
	for name, p := range map[string]string{
		"plain":            `[` + m + `,` + strings.Replace(m, "00u1", "00u2", 1) + `]`,
		"status null":      r(`"status":"ACTIVE",`, `"status":"ACTIVE","status":null,`),
		"Status":           r(`"status":"ACTIVE",`, `"status":"ACTIVE","Status":"SUSPENDED",`),
		"escaped status":   r(`"status":"ACTIVE",`, `"status":"ACTIVE","st\u0061tus":"SUSPENDED",`),
		"ID":               r(`"id":"00u1",`, `"ID":"00u1",`),
		"long s":           r(`"status":"ACTIVE",`, "\"\u017ftatus\":\"ACTIVE\","),
		"profile merged":   r(`"profile":{`, `"profile":{"lastName":"L","email":"b@x.io"},"PROFILE":{`),
		"profile null":     r(`"created"`, `"profile":{"lastName":"L"},"profile":null,"created"`),
		"profile entries":  r(`"email":"a@x.io"`, `"email":"a@x.io","EMAIL":"evil","email":null,"first\u004eame":"B"`),
		"status mistyped":  r(`"status":"ACTIVE",`, `"status":1,`),
		"profile mistyped": r(`"profile":{`, `"profile":[],"x":{`),
		"email mistyped":   r(`"email":"a@x.io"`, `"email":{}`),
	} {
		t.Run(name, func(t *testing.T) {
			var got []Member
			gotErr := readPage([]byte(p), func(s *scanner, null bool) error {
				var u slimMember
				if err := readMember(s, &u); err != nil {
					return err
				}
				got = append(got, memberOf(&u))
				return nil
			})
			var ref []*okta.User
			refErr := json.Unmarshal([]byte(p), &ref)
			var want []Member
			for _, u := range ref {
				if refErr != nil {
					break
				}
				m := Member{ID: u.Id, Status: u.Status}
				if u.Profile != nil {
					pm := map[string]any(*u.Profile)
					var ss [4]string
					for i, k := range []string{"login", "email", "firstName", "lastName"} {
						if ss[i], _, refErr = refString(pm, k); refErr != nil {
							break
						}
					}
					m.Login, m.Email, m.FirstName, m.LastName = ss[0], ss[1], ss[2], ss[3]
				}
				want = append(want, m)
			}
			if (gotErr == nil) != (refErr == nil) {
				t.Fatalf("reader error %v, encoding/json error %v", gotErr, refErr)
			}
			if gotErr == nil && fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
				t.Fatalf("reader read\n%+v\nencoding/json\n%+v", got, want)
			}
		})
	}
}

// FuzzReadPageSyntax checks that the reader accepts exactly the bodies
// encoding/json finds valid (an array of objects or null items).
func FuzzReadPageSyntax(f *testing.F) {
	for _, s := range []string{`[` + goodAppUser + `]`, `[{"a":[1,2,{"b":null}],"c":"\u00e9\n"}]`, `[null,{}]`, `[{"n":-1.5E+3}]`,
		`[{"status":"ACTIVE","status":null,"externalId":"e","externalId":null}]`, `[{"st\u0061tus":"A","\u017ftatus":"B","STATUS":"C"}]`,
		`[{"external\u0049d":"e","\ud800":1,"a\"b":{"\\":[]}}]`, "[{\"\u017ftatus\":\"x\",\"\u212a\":{}}]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := readPage(b, func(s *scanner, null bool) error {
			if null {
				return nil
			}
			_, err := s.object("item", func([]byte) error { return s.skip() })
			return err
		})
		var items []*map[string]json.RawMessage
		refErr := json.Unmarshal(b, &items)
		if len(bytes.Trim(b, " \t\r\n")) == 0 {
			refErr = nil
		}
		if (err == nil) != (refErr == nil) {
			t.Fatalf("%q: reader error %v, encoding/json error %v", b, err, refErr)
		}
	})
}

// TestMemberNamesMatchExactly: a custom profile attribute whose name
// differs from a base attribute only in case (EMAIL next to email) is not
// read as that attribute: the SDK decodes a profile as a map, whose names
// match exactly (encoding/json into a struct, as the slim types once did,
// matched names ignoring case, and the later member won).
func TestMemberNamesMatchExactly(t *testing.T) {
	srv := newFake(t)
	ids := seedUsers(srv, 3)
	remove := srv.RewriteItems(oktatest.RouteAppUsers, func(item []byte) []byte {
		return bytes.Replace(item, []byte(`"mobilePhone":`), []byte(`"EMAIL":"y@evil.example","Email":"z@evil.example","mobilePhone":`), 1)
	})
	defer remove()
	c := newClient(t, srv, func(c *Config) { c.ExpandAppUsers = true })
	users, err := c.ListAppUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != len(ids) {
		t.Fatalf("%d users", len(users))
	}
	for _, u := range users {
		if strings.Contains(u.Email, "evil") || u.Email == "" {
			t.Errorf("user %s email %q; want the email member's value", u.ID, u.Email)
		}
	}
}

// TestPageReadAllocations: reading a page of expanded app users allocates
// only the strings kept per user (and a few per page), not a decoded copy
// of each object.
func TestPageReadAllocations(t *testing.T) {
	body := appUserPage(500)
	allocs := testing.AllocsPerRun(5, func() {
		var v slimAppUser
		if err := readPage(body, func(s *scanner, null bool) error {
			if err := readAppUser(s, &v); err != nil {
				return err
			}
			_, err := convertSlimAppUser(&v, true, false)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	})
	// id, externalId (null), login (shared by email and userName), names.
	if per := allocs / 500; per > 5 {
		t.Errorf("%.1f allocations per app user; want at most 5", per)
	}
}

// appUserPage returns a page of n expanded app users like goodAppUser, with
// distinct ids and no escapes.
func appUserPage(n int) []byte {
	var b strings.Builder
	b.WriteString("[")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		u := strings.ReplaceAll(goodAppUser, "00u1", fmt.Sprintf("00u%017d", i))
		b.WriteString(strings.NewReplacer(`Ad\u00e9le`, "Adele", `L\"ast`, "Last").Replace(u))
	}
	b.WriteString("]")
	return []byte(b.String())
}
