package scimserver_test

// One test per interoperability case C01…C24 of the SCIM interop table:
// each pins the right answer on both backends.

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/axonflow/axonflow-sync/mapping"
)

// active reads a user's active flag over HTTP.
func (e *env) active(tb testing.TB, id string) any {
	tb.Helper()
	r := e.get(tb, "/Users/"+id)
	mustStatus(tb, r, http.StatusOK)
	return r.Body["active"]
}

// patchOK accepts 200 (with a resource) or 204 for a PATCH.
func patchOK(tb testing.TB, r *response) {
	tb.Helper()
	if r.Status != http.StatusOK && r.Status != http.StatusNoContent {
		tb.Fatalf("want 200 or 204, got %s", r)
	}
}

func TestC01_PatchOpCaseInsensitive(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		id := e.createUser(t, "c01@example.com")
		for _, c := range []struct {
			op   string
			want bool
		}{{"Replace", false}, {"REPLACE", true}, {"Add", false}, {"replace", true}, {"ADD", false}} {
			r := e.patch(t, "/Users/"+id, op(c.op, "active", c.want))
			mustStatus(t, r, http.StatusOK)
			if r.Body["active"] != c.want {
				t.Fatalf("op %q: active %v, want %v", c.op, r.Body["active"], c.want)
			}
			if got := e.active(t, id); got != c.want {
				t.Fatalf("op %q: GET active %v, want %v", c.op, got, c.want)
			}
		}
		for _, bad := range []string{"move", "copy", "", "Replace "} {
			r := e.patch(t, "/Users/"+id, op(bad, "active", true))
			mustSCIMError(t, r, http.StatusBadRequest, mapping.ScimInvalidSyntax)
		}
		if got := e.active(t, id); got != false {
			t.Fatalf("rejected ops changed active to %v", got)
		}
	})
}

func TestC02_PathlessDeactivate(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		id := e.createUser(t, "c02@example.com")
		r := e.patch(t, "/Users/"+id, op("replace", "", map[string]any{"active": false}))
		mustStatus(t, r, http.StatusOK)
		if r.Body["active"] != false || jstr(r.Body, "id") != id {
			t.Fatalf("deactivate: %s", r)
		}
		if got := e.active(t, id); got != false {
			t.Fatalf("GET active %v after deactivation", got)
		}
		r = e.patch(t, "/Users/"+id, op("replace", "", map[string]any{"active": true}))
		mustStatus(t, r, http.StatusOK)
		if got := e.active(t, id); got != true {
			t.Fatalf("GET active %v after reactivation", got)
		}
	})
}

func TestC03_BooleanStrings(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		id := e.createUser(t, "c03@example.com")
		for _, c := range []struct {
			v    string
			want bool
		}{{"False", false}, {"TRUE", true}, {"false", false}, {"True", true}} {
			r := e.patch(t, "/Users/"+id, op("Replace", "active", c.v))
			mustStatus(t, r, http.StatusOK)
			if r.Body["active"] != c.want {
				t.Fatalf("value %q: active %#v, want %v", c.v, r.Body["active"], c.want)
			}
			if got := e.active(t, id); got != c.want {
				t.Fatalf("value %q: GET active %#v", c.v, got)
			}
		}
		e.patch(t, "/Users/"+id, op("replace", "active", "False"))
		for _, bad := range []any{"yes", "0", "", 1, "falsey"} {
			r := e.patch(t, "/Users/"+id, op("replace", "active", bad))
			d := mustSCIMError(t, r, http.StatusBadRequest, mapping.ScimInvalidValue)
			if !strings.Contains(d, "active") {
				t.Errorf("detail %q does not name active", d)
			}
		}
		// Path-less values and POST bodies coerce the same way.
		r := e.patch(t, "/Users/"+id, op("replace", "", map[string]any{"active": "TRUE"}))
		mustStatus(t, r, http.StatusOK)
		if r.Body["active"] != true {
			t.Fatalf("path-less \"TRUE\": active %#v", r.Body["active"])
		}
		r = e.post(t, "/Users", map[string]any{"userName": "c03b@example.com", "active": "False"})
		mustStatus(t, r, http.StatusCreated)
		if r.Body["active"] != false {
			t.Fatalf("POST active \"False\": %#v", r.Body["active"])
		}
	})
}

func TestC04_PathlessComplexMerge(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		id := e.createUser(t, "c04@example.com", map[string]any{"name": map[string]any{"givenName": "X", "familyName": "Y", "middleName": "M"}})
		r := e.patch(t, "/Users/"+id,
			op("replace", "", map[string]any{"name": map[string]any{"familyName": "Okafor"}}),
			op("replace", "", map[string]any{"name": map[string]any{"givenName": "Ada"}}))
		mustStatus(t, r, http.StatusOK)
		want := map[string]any{"givenName": "Ada", "familyName": "Okafor", "middleName": "M"}
		if !jsonEqual(r.Body["name"], want) {
			t.Fatalf("name %v, want %v", r.Body["name"], want)
		}
		// The same in two requests, and with a path naming the complex attribute.
		e.patch(t, "/Users/"+id, op("replace", "", map[string]any{"name": map[string]any{"familyName": "Two"}}))
		r = e.patch(t, "/Users/"+id, op("replace", "name", map[string]any{"givenName": "Ada2"}))
		mustStatus(t, r, http.StatusOK)
		want = map[string]any{"givenName": "Ada2", "familyName": "Two", "middleName": "M"}
		if !jsonEqual(r.Body["name"], want) {
			t.Fatalf("name %v, want %v", r.Body["name"], want)
		}
		r = e.get(t, "/Users/"+id)
		if !jsonEqual(r.Body["name"], want) {
			t.Fatalf("GET name %v, want %v", r.Body["name"], want)
		}
	})
}

func TestC05_RemoveMemberByFilterIdempotent(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		a, b := e.createUser(t, "c05a@example.com"), e.createUser(t, "c05b@example.com")
		g := e.createGroup(t, "c05", a, b)
		for range 2 {
			r := e.patch(t, "/Groups/"+g, op("remove", `members[value eq "`+a+`"]`, nil))
			patchOK(t, r)
			if got := e.members(t, g); !slices.Equal(got, []string{b}) {
				t.Fatalf("members %v, want [%s]", got, b)
			}
		}
	})
}

func TestC06_RemoveListedMembers(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		a, b, c := e.createUser(t, "c06a@example.com"), e.createUser(t, "c06b@example.com"), e.createUser(t, "c06c@example.com")
		g := e.createGroup(t, "c06", a, b, c)
		r := e.patch(t, "/Groups/"+g, op("Remove", "members", []any{map[string]any{"value": a}}))
		patchOK(t, r)
		if got := e.members(t, g); !slices.Equal(got, sorted(b, c)) {
			t.Fatalf("members %v, want %v", got, sorted(b, c))
		}
		// An empty value list removes nothing.
		r = e.patch(t, "/Groups/"+g, op("remove", "members", []any{}))
		patchOK(t, r)
		if got := e.members(t, g); !slices.Equal(got, sorted(b, c)) {
			t.Fatalf("after remove with []: members %v, want %v", got, sorted(b, c))
		}
		// Only a remove without a value empties the group.
		r = e.patch(t, "/Groups/"+g, op("remove", "members", nil))
		patchOK(t, r)
		if got := e.members(t, g); len(got) != 0 {
			t.Fatalf("members %v, want none", got)
		}
	})
}

func TestC07_ReplaceMembersEmpty(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		a, b := e.createUser(t, "c07a@example.com"), e.createUser(t, "c07b@example.com")
		g := e.createGroup(t, "c07", a, b)
		r := e.patch(t, "/Groups/"+g, op("replace", "members", []any{}))
		patchOK(t, r)
		if got := e.members(t, g); len(got) != 0 {
			t.Fatalf("members %v, want none", got)
		}
		r = e.patch(t, "/Groups/"+g, op("replace", "members", []any{map[string]any{"value": b}}))
		patchOK(t, r)
		if got := e.members(t, g); !slices.Equal(got, []string{b}) {
			t.Fatalf("members %v, want [%s]", got, b)
		}
	})
}

func TestC08_PathlessRenameAndAdd(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		u := e.createUser(t, "c08@example.com")
		g := e.createGroup(t, "Eng")
		r := e.patch(t, "/Groups/"+g,
			op("replace", "", map[string]any{"id": g, "displayName": "Eng Platform"}),
			op("add", "", map[string]any{"members": []any{map[string]any{"value": u, "display": "x"}}}))
		patchOK(t, r)
		r = e.get(t, "/Groups/"+g)
		if jstr(r.Body, "displayName") != "Eng Platform" || jstr(r.Body, "id") != g {
			t.Fatalf("rename not applied: %s", r)
		}
		if got := memberIDs(t, r.Body); !slices.Equal(got, []string{u}) {
			t.Fatalf("members %v, want [%s]", got, u)
		}
		// A different id in the value is a readOnly violation; nothing applied.
		r = e.patch(t, "/Groups/"+g, op("replace", "", map[string]any{"id": "other", "displayName": "Renamed"}))
		mustSCIMError(t, r, http.StatusBadRequest, mapping.ScimMutability)
		if r := e.get(t, "/Groups/"+g); jstr(r.Body, "displayName") != "Eng Platform" {
			t.Fatalf("rejected rename applied: %s", r)
		}
	})
}

func TestC09_NoopPatch(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		u := e.createUser(t, "c09@example.com", map[string]any{"title": "Engineer"})
		g := e.createGroup(t, "c09", u)
		gBefore := e.get(t, "/Groups/"+g)
		uBefore := e.get(t, "/Users/"+u)
		time.Sleep(5 * time.Millisecond)

		r := e.patch(t, "/Groups/"+g, op("add", "members", []any{map[string]any{"value": u}}))
		patchOK(t, r)
		gAfter := e.get(t, "/Groups/"+g)
		if got := memberIDs(t, gAfter.Body); !slices.Equal(got, []string{u}) {
			t.Fatalf("members %v, want [%s] once", got, u)
		}
		if !jsonEqual(gAfter.Body["meta"], gBefore.Body["meta"]) {
			t.Fatalf("no-op member add changed meta: %v → %v", gBefore.Body["meta"], gAfter.Body["meta"])
		}

		for _, o := range []map[string]any{
			op("replace", "title", "Engineer"),
			op("replace", "", map[string]any{"title": "Engineer", "active": true}),
			op("add", "emails", []any{map[string]any{"primary": true, "value": "c09@example.com", "type": "work"}}),
		} {
			r = e.patch(t, "/Users/"+u, o)
			mustStatus(t, r, http.StatusOK)
			if !jsonEqual(r.Body["meta"], uBefore.Body["meta"]) {
				t.Fatalf("no-op user PATCH %v changed meta: %v → %v", o, uBefore.Body["meta"], r.Body["meta"])
			}
		}
		if uAfter := e.get(t, "/Users/"+u); !jsonEqual(uAfter.Body["meta"], uBefore.Body["meta"]) || len(uAfter.Body["emails"].([]any)) != 1 {
			t.Fatalf("no-op user PATCH changed the user: %s", uAfter)
		}
	})
}

func TestC10_UserNameCaseInsensitiveFilter(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		id := e.createUser(t, "ada.okafor@example.com")
		for _, f := range []string{
			`userName eq "Ada.Okafor@Example.com"`,
			`USERNAME EQ "ADA.OKAFOR@EXAMPLE.COM"`,
			`userName eq "Ada.Okafor@Example.com" and active eq true`,
			`userName sw "ADA.OKAFOR@"`,
			`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "ada.OKAFOR@example.com"`,
		} {
			l := resources(t, e.get(t, "/Users"+filterQS(f)))
			if len(l) != 1 || jstr(l[0], "id") != id || jstr(l[0], "userName") != "ada.okafor@example.com" {
				t.Fatalf("%s: %v", f, l)
			}
		}
	})
}

func TestC11_ExternalIDFilter(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		const ext = "00u1abcdEFGH2345ijkl"
		uid := e.createUser(t, "c11@example.com", map[string]any{"externalId": ext})
		e.createUser(t, "c11b@example.com", map[string]any{"externalId": "00u1abcdefgh2345ijkl"})
		r := e.post(t, "/Groups", map[string]any{"displayName": "c11", "externalId": ext})
		mustStatus(t, r, http.StatusCreated)
		gid := jstr(r.Body, "id")
		if jstr(r.Body, "externalId") != ext {
			t.Fatalf("group externalId not echoed exactly: %s", r)
		}

		l := resources(t, e.get(t, "/Users"+filterQS(`externalId eq "`+ext+`"`)))
		if len(l) != 1 || jstr(l[0], "id") != uid || jstr(l[0], "externalId") != ext {
			t.Fatalf("users: %v", l)
		}
		l = resources(t, e.get(t, "/Groups"+filterQS(`externalId eq "`+ext+`"`)))
		if len(l) != 1 || jstr(l[0], "id") != gid {
			t.Fatalf("groups: %v", l)
		}
		// caseExact: another letter case matches nothing (groups) or the other user.
		l = resources(t, e.get(t, "/Groups"+filterQS(`externalId eq "00U1ABCDEFGH2345IJKL"`)))
		if len(l) != 0 {
			t.Fatalf("groups, other case: %v", l)
		}
		l = resources(t, e.get(t, "/Users"+filterQS(`externalId eq "00U1ABCDEFGH2345IJKL"`)))
		if len(l) != 0 {
			t.Fatalf("users, other case: %v", l)
		}
		for _, f := range []string{`externalId eq 00u1abcdEFGH2345ijkl`, `externalId eq '00u1'`} {
			mustSCIMError(t, e.get(t, "/Users"+filterQS(f)), http.StatusBadRequest, mapping.ScimInvalidFilter)
			mustSCIMError(t, e.get(t, "/Groups"+filterQS(f)), http.StatusBadRequest, mapping.ScimInvalidFilter)
		}
	})
}

func TestC12_DisplayNameEquality(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		g := e.createGroup(t, "eng-app")
		e.createGroup(t, "eng-app-test")
		for _, f := range []string{`displayName eq "eng-app"`, `displayName eq "ENG-App"`} {
			l := resources(t, e.get(t, "/Groups"+filterQS(f)))
			if len(l) != 1 || jstr(l[0], "id") != g || jstr(l[0], "displayName") != "eng-app" {
				t.Fatalf("%s: %v", f, l)
			}
		}
		l := resources(t, e.get(t, "/Groups"+filterQS(`displayName sw "eng-app"`)))
		if len(l) != 2 {
			t.Fatalf("sw: %v", l)
		}
	})
}

func TestC13_LastModifiedFilter(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		at := func(s string) time.Time {
			tm, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				t.Fatal(err)
			}
			return tm
		}
		e.clock.Set(at("2024-12-31T23:59:59.9Z"))
		e.createUser(t, "c13-old@example.com")
		e.clock.Set(at("2025-01-01T00:00:00Z"))
		e.createUser(t, "c13-edge@example.com")
		e.clock.Set(at("2025-01-01T00:00:00.0000001Z"))
		e.createUser(t, "c13-tick@example.com")
		e.clock.Set(at("2025-06-01T12:00:00Z"))
		e.createUser(t, "c13-new@example.com")
		e.clock.Set(time.Time{})

		for _, c := range []struct {
			f    string
			want []string
		}{
			{`meta.lastModified gt "2025-01-01T00:00:00Z"`, []string{"c13-new@example.com", "c13-tick@example.com"}},
			{`meta.lastModified ge "2025-01-01T00:00:00Z"`, []string{"c13-edge@example.com", "c13-new@example.com", "c13-tick@example.com"}},
			{`meta.lastModified gt "2025-01-01T01:00:00.0000000+01:00"`, []string{"c13-new@example.com", "c13-tick@example.com"}},
			{`meta.lastModified lt "2024-12-31T19:00:00.0000000-05:00"`, []string{"c13-old@example.com"}},
			{`meta.lastModified le "2025-01-01T00:00:00.0000001Z"`, []string{"c13-edge@example.com", "c13-old@example.com", "c13-tick@example.com"}},
			{`meta.lastModified eq "2025-01-01T02:00:00+02:00"`, []string{"c13-edge@example.com"}},
			{`meta.created gt "2025-03-01T00:00:00.1234567Z"`, []string{"c13-new@example.com"}},
		} {
			if got := userNames(resources(t, e.get(t, "/Users"+filterQS(c.f)))); !slices.Equal(got, c.want) {
				t.Errorf("%s: got %v, want %v", c.f, got, c.want)
			}
		}
		for _, f := range []string{
			`meta.lastModified gt "2025-13-01T00:00:00Z"`,
			`meta.lastModified gt "yesterday"`,
			`meta.lastModified gt "2025-01-01"`,
			`meta.lastModified gt 2025`,
			`meta.lastModified co "2025"`,
		} {
			mustSCIMError(t, e.get(t, "/Users"+filterQS(f)), http.StatusBadRequest, mapping.ScimInvalidFilter)
		}
	})
}

func TestC14_Pagination(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		var want []string
		for i := range 8 {
			login := fmt.Sprintf("c14-%d@example.com", i)
			e.createUser(t, login)
			want = append(want, login)
		}
		for _, base := range []string{"/Users?", "/Users" + filterQS(`userName sw "c14-"`) + "&"} {
			var seen []string
			for _, c := range []struct{ start, n int }{{1, 3}, {4, 3}, {7, 2}, {10, 0}} {
				r := e.get(t, fmt.Sprintf("%sstartIndex=%d&count=3", base, c.start))
				l := resources(t, r)
				if len(l) != c.n || jint(t, r.Body, "totalResults") != 8 || jint(t, r.Body, "startIndex") != c.start {
					t.Fatalf("%s: %d resources, want %d", r, len(l), c.n)
				}
				for _, u := range l {
					seen = append(seen, jstr(u, "userName"))
				}
			}
			// Creation order, each user exactly once.
			if !slices.Equal(seen, want) {
				t.Fatalf("%s pages: %v, want %v", base, seen, want)
			}
			// Same order on a second pass.
			r := e.get(t, base+"startIndex=1&count=100")
			var all []string
			for _, u := range resources(t, r) {
				all = append(all, jstr(u, "userName"))
			}
			if !slices.Equal(all, want) {
				t.Fatalf("one page: %v, want %v", all, want)
			}
			for _, s := range []string{"0", "-5"} {
				r := e.get(t, base+"startIndex="+s+"&count=3")
				l := resources(t, r)
				if jint(t, r.Body, "startIndex") != 1 || len(l) != 3 || jstr(l[0], "userName") != want[0] {
					t.Fatalf("startIndex=%s: %s", s, r)
				}
			}
			r = e.get(t, base+"count=0")
			if l := resources(t, r); len(l) != 0 || jint(t, r.Body, "totalResults") != 8 {
				t.Fatalf("count=0: %s", r)
			}
		}
		mustSCIMError(t, e.get(t, "/Users?startIndex=abc"), http.StatusBadRequest, mapping.ScimInvalidValue)
		mustSCIMError(t, e.get(t, "/Users?count=1.5"), http.StatusBadRequest, mapping.ScimInvalidValue)
	})
}

func TestC15_UserNameConflict(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.createUser(t, "ada.c15@example.com")
		r := e.post(t, "/Users", oktaUser("ADA.C15@Example.COM", uniqueID("00u")))
		d := mustSCIMError(t, r, http.StatusConflict, mapping.ScimUniqueness)
		if !strings.Contains(d, "userName") {
			t.Errorf("detail %q does not name userName", d)
		}
		// externalId is unique too (exact).
		r = e.post(t, "/Users", map[string]any{"userName": "other.c15@example.com", "externalId": "00uC15"})
		mustStatus(t, r, http.StatusCreated)
		r = e.post(t, "/Users", map[string]any{"userName": "third.c15@example.com", "externalId": "00uC15"})
		mustSCIMError(t, r, http.StatusConflict, mapping.ScimUniqueness)
		// Renaming onto a taken userName by PUT or PATCH is a 409 too.
		id := jstr(e.post(t, "/Users", map[string]any{"userName": "fourth.c15@example.com"}).Body, "id")
		mustSCIMError(t, e.patch(t, "/Users/"+id, op("replace", "userName", "Ada.C15@example.com")), http.StatusConflict, mapping.ScimUniqueness)
		mustSCIMError(t, e.put(t, "/Users/"+id, map[string]any{"userName": "ada.c15@EXAMPLE.com"}), http.StatusConflict, mapping.ScimUniqueness)
		// Groups: displayName is unique, case-insensitively.
		e.createGroup(t, "C15 Group")
		mustSCIMError(t, e.post(t, "/Groups", map[string]any{"displayName": "c15 group"}), http.StatusConflict, mapping.ScimUniqueness)
		// The race half of C15 is TestConcurrentIdenticalPOST.
	})
}

func TestC16_NotFoundBeforeBody(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		validUser := oktaUser("c16@example.com", "00uC16")
		validPatch := patchBody(op("replace", "", map[string]any{"active": false}))
		for _, id := range []string{"not-a-uuid-999", uuid.NewString(), "%20", "a.b", "ÄÖ"} {
			for _, res := range []string{"/Users/", "/Groups/"} {
				p := res + id
				mustSCIMError(t, e.get(t, p), http.StatusNotFound, "")
				mustSCIMError(t, e.put(t, p, validUser), http.StatusNotFound, "")
				mustSCIMError(t, e.do(t, http.MethodPatch, p, validPatch), http.StatusNotFound, "")
				mustSCIMError(t, e.do(t, http.MethodPatch, p, `{"Operations": "garbage"`), http.StatusNotFound, "")
				mustSCIMError(t, e.put(t, p, `not json`), http.StatusNotFound, "")
				mustSCIMError(t, e.delete(t, p), http.StatusNotFound, "")
			}
		}
		u := e.createUser(t, "c16-del@example.com")
		g := e.createGroup(t, "c16", u)
		mustStatus(t, e.delete(t, "/Groups/"+g), http.StatusNoContent)
		mustSCIMError(t, e.delete(t, "/Groups/"+g), http.StatusNotFound, "")
		mustStatus(t, e.delete(t, "/Users/"+u), http.StatusNoContent)
		mustSCIMError(t, e.delete(t, "/Users/"+u), http.StatusNotFound, "")
		mustSCIMError(t, e.get(t, "/Users/"+u), http.StatusNotFound, "")
	})
}

func TestC17_OktaPUT(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		id := e.createUser(t, "c17@example.com", map[string]any{"title": "Engineer", "nickName": "Ada"})
		g := e.createGroup(t, "c17", id)
		cur := e.get(t, "/Users/"+id).Body
		body := oktaUser("c17@example.com", "00uC17")
		body["id"] = id
		body["groups"] = []any{}
		body["password"] = "Secret-C17!"
		body["active"] = false
		body["meta"] = cur["meta"]
		r := e.put(t, "/Users/"+id, body)
		mustStatus(t, r, http.StatusOK)
		for _, res := range []map[string]any{r.Body, e.get(t, "/Users/"+id).Body} {
			if _, ok := res["title"]; ok {
				t.Errorf("title not cleared: %v", res)
			}
			if _, ok := res["nickName"]; ok {
				t.Errorf("nickName not cleared: %v", res)
			}
			if _, ok := res["password"]; ok || bytes.Contains(r.Raw, []byte("Secret-C17")) {
				t.Errorf("password returned: %v", res)
			}
			if res["active"] != false || jstr(res, "id") != id || jstr(res, "externalId") != "00uC17" {
				t.Errorf("PUT not applied: %v", res)
			}
			// groups is readOnly: "groups": [] did not remove the membership.
			if jstr(res, "groups", 0, "value") != g {
				t.Errorf("groups %v, want the membership in %s kept", res["groups"], g)
			}
		}
		// A different id in the body is ignored (readOnly), not a new user.
		body["id"] = "client-chosen"
		body["title"] = "Lead"
		r = e.put(t, "/Users/"+id, body)
		mustStatus(t, r, http.StatusOK)
		if jstr(r.Body, "id") != id || jstr(r.Body, "title") != "Lead" {
			t.Fatalf("PUT with another id: %s", r)
		}
		// userName is required in a PUT.
		delete(body, "userName")
		mustSCIMError(t, e.put(t, "/Users/"+id, body), http.StatusBadRequest, mapping.ScimInvalidValue)
	})
}

func TestC18_LargeGroup(t *testing.T) {
	const n = 5000 // the interop case's size; BenchmarkMemberAdd100k covers 100,000
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			cs := &countingState{State: b.open(t)}
			e := newEnv(t, cs)
			ids := seedUsers(t, cs, e.tenant, "c18-", n+1)
			g := seedGroup(t, cs, e.tenant, "c18-big", ids[:n])
			other := e.createGroup(t, "c18-small", ids[0])

			// Adding one member reads nothing of size n.
			before := cs.groupMembers.Load()
			r := e.patch(t, "/Groups/"+g, op("add", "members", []any{map[string]any{"value": ids[n], "display": "c18"}}))
			patchOK(t, r)
			if calls := cs.groupMembers.Load() - before; calls != 0 {
				t.Errorf("PATCH add of one member loaded the member list %d times", calls)
			}
			// Removing one by filter does not either.
			before = cs.groupMembers.Load()
			patchOK(t, e.patch(t, "/Groups/"+g, op("remove", `members[value eq "`+ids[0]+`"]`, nil)))
			patchOK(t, e.patch(t, "/Groups/"+g, op("add", "members", []any{map[string]any{"value": ids[0]}})))
			if calls := cs.groupMembers.Load() - before; calls != 0 {
				t.Errorf("PATCH remove/add loaded the member list %d times", calls)
			}

			// Nothing truncated.
			if got := e.members(t, g); !slices.Equal(got, sorted(ids...)) {
				t.Fatalf("GET: %d members, want %d", len(got), n+1)
			}
			before = cs.groupMembers.Load()
			l := resources(t, e.get(t, "/Groups"+filterQS(`displayName eq "c18-big"`)))
			if len(l) != 1 || len(memberIDs(t, l[0].(map[string]any))) != n+1 {
				t.Fatalf("filtered GET lost members")
			}
			// Members are loaded once, to render the one match; not to evaluate
			// a filter that does not mention them.
			if calls := cs.groupMembers.Load() - before; calls != 1 {
				t.Errorf("displayName eq lookup loaded members %d times, want 1", calls)
			}
			before = cs.groupMembers.Load()
			l = resources(t, e.get(t, "/Groups"+filterQS(`displayName ew "-small"`)))
			if len(l) != 1 || jstr(l[0], "displayName") != "c18-small" {
				t.Fatalf("ew filter: %v", l)
			}
			if calls := cs.groupMembers.Load() - before; calls != 1 {
				t.Errorf("scan filter loaded members %d times, want 1 (the match only)", calls)
			}

			// excludedAttributes=members is honoured and does not load members.
			before = cs.groupMembers.Load()
			r = e.get(t, "/Groups?excludedAttributes=members")
			l = resources(t, r)
			if len(l) != 2 {
				t.Fatalf("want 2 groups: %s", r)
			}
			for _, gr := range l {
				if _, ok := gr.(map[string]any)["members"]; ok {
					t.Fatalf("members returned despite excludedAttributes: %v", jstr(gr, "id"))
				}
			}
			r = e.get(t, "/Groups"+filterQS(`displayName eq "c18-big"`)+"&excludedAttributes=members")
			if l := resources(t, r); len(l) != 1 || l[0].(map[string]any)["members"] != nil {
				t.Fatalf("filtered excludedAttributes=members: %s", r)
			}
			r = e.get(t, "/Groups/"+g+"?excludedAttributes=members")
			mustStatus(t, r, http.StatusOK)
			if _, ok := r.Body["members"]; ok || jstr(r.Body, "displayName") != "c18-big" {
				t.Fatalf("GET excludedAttributes=members: %s", r)
			}
			if calls := cs.groupMembers.Load() - before; calls != 0 {
				t.Errorf("excludedAttributes=members still loaded members %d times", calls)
			}

			// [valid, unknown]: 400 invalidValue naming the unknown id; atomic.
			unknown := uuid.NewString()
			r = e.patch(t, "/Groups/"+other, op("add", "members", []any{map[string]any{"value": ids[5]}, map[string]any{"value": unknown}}))
			d := mustSCIMError(t, r, http.StatusBadRequest, mapping.ScimInvalidValue)
			if !strings.Contains(d, unknown) || strings.Contains(d, ids[5]) {
				t.Errorf("detail %q should name %s only", d, unknown)
			}
			if got := e.members(t, other); !slices.Equal(got, []string{ids[0]}) {
				t.Fatalf("rejected PATCH changed members: %v", got)
			}
			// The same for a rename plus an unknown member: nothing applied.
			r = e.patch(t, "/Groups/"+other,
				op("replace", "", map[string]any{"displayName": "c18-renamed"}),
				op("add", "members", []any{map[string]any{"value": unknown}}))
			mustSCIMError(t, r, http.StatusBadRequest, mapping.ScimInvalidValue)
			if r := e.get(t, "/Groups/"+other); jstr(r.Body, "displayName") != "c18-small" {
				t.Fatalf("rejected PATCH renamed the group: %s", r)
			}
			// POST and PUT with an unknown member: 400 too.
			mustSCIMError(t, e.post(t, "/Groups", map[string]any{"displayName": "c18-x", "members": []any{map[string]any{"value": unknown}}}), http.StatusBadRequest, mapping.ScimInvalidValue)
			mustSCIMError(t, e.put(t, "/Groups/"+other, map[string]any{"displayName": "c18-small", "members": []any{map[string]any{"value": unknown}}}), http.StatusBadRequest, mapping.ScimInvalidValue)
		})
	}
}

func TestC19_DeactivateLookupReactivate(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		id := e.createUser(t, "c19@example.com")
		g := e.createGroup(t, "c19", id)
		patchOK(t, e.patch(t, "/Users/"+id, op("replace", "", map[string]any{"active": false})))

		l := resources(t, e.get(t, "/Users"+filterQS(`userName eq "C19@example.com"`)))
		if len(l) != 1 || jstr(l[0], "id") != id || jget(l[0], "active") != false {
			t.Fatalf("inactive user lookup: %v", l)
		}
		l = resources(t, e.get(t, "/Users"+filterQS(`active eq false`)))
		if len(l) != 1 || jstr(l[0], "id") != id {
			t.Fatalf("active eq false: %v", l)
		}
		if l := resources(t, e.get(t, "/Users?startIndex=1&count=100")); len(l) != 1 {
			t.Fatalf("inactive user missing from import: %v", l)
		}
		mustSCIMError(t, e.post(t, "/Users", oktaUser("c19@example.com", "00uC19")), http.StatusConflict, mapping.ScimUniqueness)

		r := e.patch(t, "/Users/"+id, op("replace", "", map[string]any{"active": true}))
		mustStatus(t, r, http.StatusOK)
		if r.Body["active"] != true || jstr(r.Body, "groups", 0, "value") != g {
			t.Fatalf("reactivated: %s", r)
		}
		if got := e.members(t, g); !slices.Equal(got, []string{id}) {
			t.Fatalf("membership lost: %v", got)
		}
	})
}

func TestC20_ContentTypes(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		for i, ct := range []string{oktaCT, "application/json", "", "application/scim+json", "Application/JSON; charset=UTF-8"} {
			r := e.post(t, "/Users", oktaUser(fmt.Sprintf("c20-%d@example.com", i), fmt.Sprintf("00uC20%d", i)), withCT(ct))
			mustStatus(t, r, http.StatusCreated)
			if got := r.Header.Get("Content-Type"); got != "application/scim+json" {
				t.Errorf("Content-Type %q: response Content-Type %q", ct, got)
			}
		}
		for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "application/xml", "garbage;;"} {
			r := e.post(t, "/Users", oktaUser("c20-x@example.com", "00uC20x"), withCT(ct))
			mustSCIMError(t, r, http.StatusUnsupportedMediaType, "")
		}
		for _, p := range []string{"/Users", "/Groups", "/Users?filter=bad", "/ServiceProviderConfig"} {
			r := e.get(t, p)
			if got := r.Header.Get("Content-Type"); got != "application/scim+json" {
				t.Errorf("GET %s: Content-Type %q", p, got)
			}
		}
		r := e.post(t, "/Users", `{"userName": `)
		mustSCIMError(t, r, http.StatusBadRequest, mapping.ScimInvalidSyntax)
		r = e.post(t, "/Users", ``, withCT(""))
		mustSCIMError(t, r, http.StatusBadRequest, mapping.ScimInvalidSyntax)
	})
}

func TestC21_PathsAndAuthScheme(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		id := e.createUser(t, "c21@example.com")
		for _, p := range []string{"/scim/v2/Users/", "/scim/v2//Users", "/scim/v2//Users//", "//scim/v2/Users"} {
			r := e.get(t, "", withURL(e.srv.URL+p))
			if l := resources(t, r); len(l) != 1 {
				t.Fatalf("%s: %s", p, r)
			}
		}
		r := e.get(t, "", withURL(e.srv.URL+"/scim/v2/Users/"+id+"/"))
		if mustStatus(t, r, http.StatusOK); jstr(r.Body, "id") != id {
			t.Fatalf("trailing slash on a resource: %s", r)
		}
		for _, p := range []string{"/scim/v2", "/scim/v2/", "/scim/v2/Unknown", "/scim/v2/Users/" + id + "/extra"} {
			mustSCIMError(t, e.get(t, "", withURL(e.srv.URL+p)), http.StatusNotFound, "")
		}
		// The scheme name is case-insensitive (RFC 7235 §2.1).
		for _, a := range []string{"bearer " + e.secret, "BEARER " + e.secret, "Bearer  " + e.secret + " "} {
			mustStatus(t, e.get(t, "/Users", withAuth(a)), http.StatusOK)
		}
		for _, a := range []string{"", "Bearer Bearer " + e.secret, "bearer bearer " + e.secret, "Bearer", "Basic " + e.secret, e.secret} {
			r := e.get(t, "/Users", withAuth(a))
			mustSCIMError(t, r, http.StatusUnauthorized, "")
			if got := r.Header.Get("WWW-Authenticate"); got != `Bearer realm="SCIM"` {
				t.Errorf("%q: WWW-Authenticate %q", a, got)
			}
		}
	})
}

func TestC22_SchemasPolicy(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		// Missing schemas: defaulted from the endpoint; responses always carry schemas.
		r := e.post(t, "/Users", map[string]any{"userName": "c22@example.com"})
		mustStatus(t, r, http.StatusCreated)
		if !jsonEqual(r.Body["schemas"], []any{mapping.SchemaUser}) {
			t.Fatalf("schemas %v", r.Body["schemas"])
		}
		r = e.post(t, "/Groups", map[string]any{"displayName": "c22"})
		mustStatus(t, r, http.StatusCreated)
		if !jsonEqual(r.Body["schemas"], []any{mapping.SchemaGroup}) {
			t.Fatalf("schemas %v", r.Body["schemas"])
		}
		// The enterprise extension is listed when present.
		r = e.post(t, "/Users", map[string]any{
			"schemas":  []any{mapping.SchemaUser, mapping.SchemaEnterpriseUser},
			"userName": "c22-ent@example.com", mapping.SchemaEnterpriseUser: map[string]any{"department": "Eng"},
		})
		mustStatus(t, r, http.StatusCreated)
		if !jsonEqual(r.Body["schemas"], []any{mapping.SchemaUser, mapping.SchemaEnterpriseUser}) {
			t.Fatalf("schemas %v", r.Body["schemas"])
		}
		// Unknown or mismatched URNs: 400 invalidSyntax.
		for _, c := range []struct {
			path    string
			schemas []any
			body    map[string]any
		}{
			{"/Users", []any{"urn:example:unknown"}, map[string]any{"userName": "c22-u@example.com"}},
			{"/Users", []any{mapping.SchemaUser, "urn:example:unknown"}, map[string]any{"userName": "c22-u@example.com"}},
			{"/Users", []any{mapping.SchemaGroup}, map[string]any{"userName": "c22-u@example.com"}},
			{"/Users", []any{mapping.SchemaEnterpriseUser}, map[string]any{"userName": "c22-u@example.com"}},
			{"/Groups", []any{mapping.SchemaUser}, map[string]any{"displayName": "c22-g"}},
			{"/Users", nil, map[string]any{"userName": "c22-u@example.com", "urn:example:unknown:attr": "x"}},
			{"/Users", nil, map[string]any{"userName": "c22-u@example.com", "schemas": "urn:ietf:params:scim:schemas:core:2.0:User"}},
		} {
			if c.schemas != nil {
				c.body["schemas"] = c.schemas
			}
			mustSCIMError(t, e.post(t, c.path, c.body), http.StatusBadRequest, mapping.ScimInvalidSyntax)
		}
		if l := resources(t, e.get(t, "/Users"+filterQS(`userName eq "c22-u@example.com"`))); len(l) != 0 {
			t.Fatalf("rejected POST created a user")
		}
		// The same policy on PUT and for PatchOp bodies.
		id := e.createUser(t, "c22-put@example.com")
		mustSCIMError(t, e.put(t, "/Users/"+id, map[string]any{"schemas": []any{mapping.SchemaGroup}, "userName": "c22-put@example.com"}), http.StatusBadRequest, mapping.ScimInvalidSyntax)
		mustStatus(t, e.put(t, "/Users/"+id, map[string]any{"userName": "c22-put@example.com"}), http.StatusOK)
		r = e.do(t, http.MethodPatch, "/Users/"+id, map[string]any{"schemas": []any{mapping.SchemaUser}, "Operations": []any{op("replace", "title", "x")}})
		mustSCIMError(t, r, http.StatusBadRequest, mapping.ScimInvalidSyntax)
		r = e.do(t, http.MethodPatch, "/Users/"+id, map[string]any{"Operations": []any{op("replace", "title", "x")}})
		mustStatus(t, r, http.StatusOK)
	})
}

func TestC23_ServerIssuesID(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		const ext = "00uAbCdEfGh1234IjKl"
		body := oktaUser("c23@example.com", ext)
		body["id"] = "client-7"
		r := e.post(t, "/Users", body)
		mustStatus(t, r, http.StatusCreated)
		id := jstr(r.Body, "id")
		if id == "" || id == "client-7" {
			t.Fatalf("id %q: the server must issue its own", id)
		}
		if loc := r.Header.Get("Location"); loc != e.base+"/Users/"+id || jstr(r.Body, "meta", "location") != loc {
			t.Fatalf("Location %q, meta.location %q", loc, jstr(r.Body, "meta", "location"))
		}
		if jstr(r.Body, "externalId") != ext {
			t.Fatalf("externalId %q, want %q", jstr(r.Body, "externalId"), ext)
		}
		if got := e.get(t, "/Users/"+id); jstr(got.Body, "externalId") != ext {
			t.Fatalf("GET externalId: %s", got)
		}
		mustSCIMError(t, e.get(t, "/Users/client-7"), http.StatusNotFound, "")
		// Groups too.
		r = e.post(t, "/Groups", map[string]any{"id": "client-8", "displayName": "c23", "externalId": ext})
		mustStatus(t, r, http.StatusCreated)
		gid := jstr(r.Body, "id")
		if gid == "" || gid == "client-8" || r.Header.Get("Location") != e.base+"/Groups/"+gid || jstr(r.Body, "externalId") != ext {
			t.Fatalf("group: %s", r)
		}
		// ids are unique across users and groups.
		if gid == id {
			t.Fatalf("group and user share id %s", id)
		}
	})
}

func TestC24_Limits(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		id := e.createUser(t, "c24@example.com", map[string]any{"title": "Engineer"})
		r := e.patch(t, "/Users/"+id, op("replace", "title", strings.Repeat("x", 100_000)))
		d := mustSCIMError(t, r, http.StatusBadRequest, mapping.ScimInvalidValue)
		if !strings.Contains(d, "title") {
			t.Errorf("detail %q does not name title", d)
		}
		// Characters, not bytes: 2048 two-byte characters are fine, 2049 are not.
		ok := strings.Repeat("é", mapping.MaxStringChars)
		r = e.patch(t, "/Users/"+id, op("replace", "title", ok))
		mustStatus(t, r, http.StatusOK)
		if jstr(r.Body, "title") != ok {
			t.Fatalf("2048-character title altered")
		}
		r = e.patch(t, "/Users/"+id, op("replace", "title", ok+"é"))
		mustSCIMError(t, r, http.StatusBadRequest, mapping.ScimInvalidValue)
		r = e.patch(t, "/Users/"+id, op("replace", "", map[string]any{"name": map[string]any{"givenName": strings.Repeat("🙂", 2049)}}))
		if d := mustSCIMError(t, r, http.StatusBadRequest, mapping.ScimInvalidValue); !strings.Contains(d, "name.givenName") {
			t.Errorf("detail %q does not name name.givenName", d)
		}
		body := oktaUser("c24-post@example.com", "00uC24")
		body["title"] = strings.Repeat("t", 2049)
		if d := mustSCIMError(t, e.post(t, "/Users", body), http.StatusBadRequest, mapping.ScimInvalidValue); !strings.Contains(d, "title") {
			t.Errorf("detail %q does not name title", d)
		}
		if got := e.get(t, "/Users/"+id); jstr(got.Body, "title") != ok {
			t.Fatalf("title changed by rejected requests")
		}
		// A 2 MiB body: 413 with a SCIM error, nothing stored.
		big := oktaUser("c24-big@example.com", "00uC24big")
		big["nickName"] = strings.Repeat("n", 2<<20)
		mustSCIMError(t, e.post(t, "/Users", big), http.StatusRequestEntityTooLarge, "")
		mustSCIMError(t, e.put(t, "/Users/"+id, big), http.StatusRequestEntityTooLarge, "")
		mustSCIMError(t, e.do(t, http.MethodPatch, "/Users/"+id, patchBody(op("replace", "nickName", big["nickName"]))), http.StatusRequestEntityTooLarge, "")
		if l := resources(t, e.get(t, "/Users"+filterQS(`userName eq "c24-big@example.com"`))); len(l) != 0 {
			t.Fatalf("oversized POST created a user")
		}
		// Too many values in a multi-valued attribute.
		var emails []any
		for i := range mapping.MaxMultiValues + 1 {
			emails = append(emails, map[string]any{"value": fmt.Sprintf("e%d@example.com", i)})
		}
		mustSCIMError(t, e.patch(t, "/Users/"+id, op("replace", "emails", emails)), http.StatusBadRequest, mapping.ScimInvalidValue)
		_ = context.Background()
	})
}
