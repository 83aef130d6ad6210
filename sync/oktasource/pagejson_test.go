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
)

// refAppUser is how the slim types read an app user with encoding/json
// before the single-pass reader: the reference the reader is checked
// against.
type refAppUser struct {
	ID          string `json:"id"`
	ExternalID  string `json:"externalId"`
	Scope       string `json:"scope"`
	Status      string `json:"status"`
	SyncState   string `json:"syncState"`
	Credentials *struct {
		UserName string `json:"userName"`
	} `json:"credentials"`
	Profile  *map[string]json.RawMessage `json:"profile"`
	Embedded *struct {
		User *struct {
			ID      string `json:"id"`
			Status  string `json:"status"`
			Profile *struct {
				Login     string  `json:"login"`
				Email     *string `json:"email"`
				FirstName *string `json:"firstName"`
				LastName  *string `json:"lastName"`
			} `json:"profile"`
		} `json:"user"`
	} `json:"_embedded"`
}

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
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			got, gotErr := readAppUsers([]byte(p))
			var ref []*refAppUser
			refErr := json.Unmarshal([]byte(p), &ref)
			if len(bytes.Trim([]byte(p), " \t\r\n")) == 0 {
				refErr = nil // an empty body is an empty page (the SDK skips decoding)
			}
			var want []AppUser
			for _, r := range ref {
				if refErr != nil {
					break
				}
				if r == nil {
					refErr = errors.New("null item")
					break
				}
				var au AppUser
				if au, refErr = refConvert(r); refErr != nil {
					break
				}
				want = append(want, au)
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

// refConvert is convertSlimAppUser over the reference decoding, for pages
// whose items are all complete; it type-checks the profile members read.
func refConvert(r *refAppUser) (AppUser, error) {
	au := AppUser{ID: r.ID, ExternalID: r.ExternalID, Scope: r.Scope, Status: r.Status, SyncState: r.SyncState}
	if r.Credentials != nil {
		au.UserName = r.Credentials.UserName
	}
	if u := r.Embedded.User; u != nil && u.Profile != nil {
		p := u.Profile
		au.UserStatus, au.Login, au.Email, au.FirstName, au.LastName = u.Status, p.Login, *p.Email, *p.FirstName, *p.LastName
	}
	if r.Profile != nil {
		au.Profile = map[string]any{}
		for _, k := range []string{"email", "firstName", "given_name", "lastName", "family_name", "login"} {
			if raw, ok := (*r.Profile)[k]; ok {
				var v *string
				if err := json.Unmarshal(raw, &v); err != nil {
					return au, err
				}
				au.Profile[k] = ""
				if v != nil {
					au.Profile[k] = *v
				}
			}
		}
	}
	return au, nil
}

// FuzzReadPageSyntax checks that the reader accepts exactly the bodies
// encoding/json finds valid (an array of objects or null items).
func FuzzReadPageSyntax(f *testing.F) {
	for _, s := range []string{`[` + goodAppUser + `]`, `[{"a":[1,2,{"b":null}],"c":"\u00e9\n"}]`, `[null,{}]`, `[{"n":-1.5E+3}]`} {
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
// read as that attribute (encoding/json matched names ignoring case, and
// the later member won).
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
