package scimserver_test

// Okta's flows end to end (user lifecycle, group push), password handling,
// tenant isolation, authentication failures, discovery, error bodies and
// response headers.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/store/redisstore"
)

// TestOktaUserLifecycle follows one user through everything Okta does to
// it: lookup + create, profile update by PUT, deactivate/reactivate, import.
func TestOktaUserLifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		const login = "grace.hopper@example.com"
		// Create on assignment: lookup finds nothing, then POST.
		r := e.get(t, "/Users"+filterQS(`userName eq "`+login+`"`)+"&startIndex=1&count=100")
		if l := resources(t, r); len(l) != 0 || jint(t, r.Body, "totalResults") != 0 {
			t.Fatalf("lookup: %s", r)
		}
		body := oktaUser(login, "00uGrace1")
		r = e.post(t, "/Users", body)
		mustStatus(t, r, http.StatusCreated)
		id := jstr(r.Body, "id")
		for _, k := range []string{"userName", "name", "emails", "displayName", "locale", "externalId", "active"} {
			if !jsonEqual(r.Body[k], body[k]) {
				t.Errorf("POST echoed %s = %v, want %v", k, r.Body[k], body[k])
			}
		}
		if _, ok := r.Body["password"]; ok {
			t.Errorf("POST echoed the password")
		}
		if jstr(r.Body, "meta", "resourceType") != "User" || jstr(r.Body, "meta", "location") != e.base+"/Users/"+id ||
			jstr(r.Body, "meta", "created") == "" || jstr(r.Body, "meta", "lastModified") == "" {
			t.Errorf("meta %v", r.Body["meta"])
		}
		// The lookup now links to it; the id is stable.
		l := resources(t, e.get(t, "/Users"+filterQS(`userName eq "`+login+`"`)+"&startIndex=1&count=100"))
		if len(l) != 1 || jstr(l[0], "id") != id {
			t.Fatalf("lookup after create: %v", l)
		}

		// Profile update: GET then a full PUT carrying id, groups: [], meta and password.
		cur := e.get(t, "/Users/"+id).Body
		upd := oktaUser(login, "00uGrace1")
		upd["id"] = id
		upd["meta"] = cur["meta"]
		upd["name"] = map[string]any{"givenName": "Grace", "familyName": "Hopper"}
		upd["title"] = "Rear Admiral"
		r = e.put(t, "/Users/"+id, upd)
		mustStatus(t, r, http.StatusOK)
		if jstr(r.Body, "id") != id || jstr(r.Body, "name", "givenName") != "Grace" || jstr(r.Body, "title") != "Rear Admiral" {
			t.Fatalf("PUT: %s", r)
		}
		if jstr(r.Body, "meta", "lastModified") == jstr(cur, "meta", "lastModified") && jstr(r.Body, "meta", "version") == jstr(cur, "meta", "version") {
			t.Errorf("PUT did not advance meta: %v", r.Body["meta"])
		}
		if r.Header.Get("ETag") != jstr(r.Body, "meta", "version") {
			t.Errorf("ETag %q, meta.version %q", r.Header.Get("ETag"), jstr(r.Body, "meta", "version"))
		}

		// Deactivate and reactivate (Okta never DELETEs users).
		for _, want := range []bool{false, true, false} {
			r = e.patch(t, "/Users/"+id, op("replace", "", map[string]any{"active": want}))
			mustStatus(t, r, http.StatusOK)
			if r.Body["active"] != want || jstr(r.Body, "name", "givenName") != "Grace" {
				t.Fatalf("active=%v: %s", want, r)
			}
		}
		if got := e.active(t, id); got != false {
			t.Fatalf("GET after deactivation: active %v", got)
		}

		// Import paging over 250 users: 100, 100, 50, each once, stable order.
		seedUsers(t, e.st, e.tenant, "import-", 249)
		var seen []string
		for start := 1; ; start += 100 {
			r := e.get(t, fmt.Sprintf("/Users?startIndex=%d&count=100", start))
			l := resources(t, r)
			if jint(t, r.Body, "totalResults") != 250 || jint(t, r.Body, "startIndex") != start {
				t.Fatalf("import page %d: %s", start, r)
			}
			for _, u := range l {
				seen = append(seen, jstr(u, "id"))
			}
			if len(l) < 100 {
				break
			}
		}
		if len(seen) != 250 || seen[0] != id {
			t.Fatalf("import saw %d users (first %s), want 250 starting with %s", len(seen), seen[0], id)
		}
		uniq := slices.Clone(seen)
		slices.Sort(uniq)
		if len(slices.Compact(uniq)) != 250 {
			t.Fatalf("import returned duplicates")
		}
	})
}

// TestOktaGroupPush follows Group Push: lookup, POST, membership PATCHes
// with the path-less rename Okta always adds, full replace, unlink.
func TestOktaGroupPush(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		u1, u2, u3 := e.createUser(t, "gp1@example.com"), e.createUser(t, "gp2@example.com"), e.createUser(t, "gp3@example.com")
		const name = "Engineering"
		r := e.get(t, "/Groups"+filterQS(`displayName eq "`+name+`"`))
		if l := resources(t, r); len(l) != 0 {
			t.Fatalf("lookup: %s", r)
		}
		r = e.post(t, "/Groups", map[string]any{"schemas": []any{mapping.SchemaGroup}, "displayName": name, "members": []any{}})
		mustStatus(t, r, http.StatusCreated)
		g := jstr(r.Body, "id")
		if jstr(r.Body, "displayName") != name || r.Body["members"] == nil || len(r.Body["members"].([]any)) != 0 {
			t.Fatalf("POST /Groups: %s", r)
		}
		if l := resources(t, e.get(t, "/Groups"+filterQS(`displayName eq "`+name+`"`))); len(l) != 1 || jstr(l[0], "id") != g {
			t.Fatalf("lookup after create: %v", l)
		}
		rename := op("replace", "", map[string]any{"id": g, "displayName": name})
		add := func(ids ...string) map[string]any {
			var l []any
			for _, id := range ids {
				l = append(l, map[string]any{"value": id, "display": id + "@login"})
			}
			return op("add", "members", l)
		}
		rm := func(id string) map[string]any { return op("remove", `members[value eq "`+id+`"]`, nil) }

		patchOK(t, e.patch(t, "/Groups/"+g, rename, add(u1, u2)))
		if got := e.members(t, g); !slices.Equal(got, sorted(u1, u2)) {
			t.Fatalf("after add: %v", got)
		}
		patchOK(t, e.patch(t, "/Groups/"+g, rename, rm(u1), add(u3)))
		if got := e.members(t, g); !slices.Equal(got, sorted(u2, u3)) {
			t.Fatalf("after remove+add: %v", got)
		}
		// Remove then re-add in one PatchOp: ends a member.
		patchOK(t, e.patch(t, "/Groups/"+g, rename, rm(u2), add(u2)))
		if got := e.members(t, g); !slices.Equal(got, sorted(u2, u3)) {
			t.Fatalf("after remove+re-add: %v", got)
		}
		// Add then remove in one PatchOp: ends not a member.
		patchOK(t, e.patch(t, "/Groups/"+g, add(u1), rm(u1)))
		if got := e.members(t, g); !slices.Equal(got, sorted(u2, u3)) {
			t.Fatalf("after add+remove: %v", got)
		}
		// Rename with members in the same PatchOp.
		patchOK(t, e.patch(t, "/Groups/"+g, op("replace", "", map[string]any{"id": g, "displayName": "Engineering Platform"}), add(u1)))
		r = e.get(t, "/Groups/"+g)
		if jstr(r.Body, "displayName") != "Engineering Platform" || !slices.Equal(memberIDs(t, r.Body), sorted(u1, u2, u3)) {
			t.Fatalf("rename + add: %s", r)
		}
		// Full replace (Okta's "push now").
		patchOK(t, e.patch(t, "/Groups/"+g, op("replace", "members", []any{map[string]any{"value": u3}, map[string]any{"value": u1}})))
		if got := e.members(t, g); !slices.Equal(got, sorted(u1, u3)) {
			t.Fatalf("after replace: %v", got)
		}
		// PATCH answers 204, or 200 with the group when attributes are asked for.
		r = e.do(t, http.MethodPatch, "/Groups/"+g+"?attributes=displayName", patchBody(rename))
		mustStatus(t, r, http.StatusOK)
		if jstr(r.Body, "displayName") != name || jstr(r.Body, "id") != g {
			t.Fatalf("PATCH ?attributes: %s", r)
		}
		// Users show their groups.
		r = e.get(t, "/Users/"+u1)
		if jstr(r.Body, "groups", 0, "value") != g || jstr(r.Body, "groups", 0, "display") != name {
			t.Fatalf("user groups: %v", r.Body["groups"])
		}
		// Unlink: DELETE the group.
		mustStatus(t, e.delete(t, "/Groups/"+g), http.StatusNoContent)
		mustSCIMError(t, e.get(t, "/Groups/"+g), http.StatusNotFound, "")
		if r := e.get(t, "/Users/"+u1); r.Body["groups"] != nil {
			t.Fatalf("deleted group still listed: %v", r.Body["groups"])
		}
		// PUT on groups: members replaced only when given.
		g2 := e.createGroup(t, "PutGroup", u1, u2)
		r = e.put(t, "/Groups/"+g2, map[string]any{"displayName": "PutGroup2"})
		mustStatus(t, r, http.StatusOK)
		if jstr(r.Body, "displayName") != "PutGroup2" || !slices.Equal(memberIDs(t, r.Body), sorted(u1, u2)) {
			t.Fatalf("PUT without members: %s", r)
		}
		r = e.put(t, "/Groups/"+g2, map[string]any{"displayName": "PutGroup2", "members": []any{map[string]any{"value": u3}}})
		mustStatus(t, r, http.StatusOK)
		if !slices.Equal(memberIDs(t, r.Body), []string{u3}) {
			t.Fatalf("PUT with members: %s", r)
		}
	})
}

// TestPasswordNeverStoredOrReturned sends passwords every way Okta can and
// checks that no response and no stored byte carries them.
func TestPasswordNeverStoredOrReturned(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, b.open(t))
			secrets := []string{"Pw-Post-7d1f!", "Pw-Put-9a2c!", "Pw-Patch-3b4e!", "Pw-Pathless-5c6d!"}
			body := oktaUser("pw@example.com", "00uPw")
			body["password"] = secrets[0]
			var raws [][]byte
			r := e.post(t, "/Users", body)
			mustStatus(t, r, http.StatusCreated)
			id := jstr(r.Body, "id")
			raws = append(raws, r.Raw)
			body["password"] = secrets[1]
			r = e.put(t, "/Users/"+id, body)
			mustStatus(t, r, http.StatusOK)
			raws = append(raws, r.Raw)
			r = e.patch(t, "/Users/"+id, op("replace", "password", secrets[2]))
			mustStatus(t, r, http.StatusOK)
			raws = append(raws, r.Raw)
			r = e.patch(t, "/Users/"+id, op("replace", "", map[string]any{"password": secrets[3], "active": true}))
			mustStatus(t, r, http.StatusOK)
			raws = append(raws, r.Raw)
			raws = append(raws, e.get(t, "/Users/"+id).Raw, e.get(t, "/Users").Raw,
				e.get(t, "/Users"+filterQS(`password pr`)).Raw,
				e.get(t, "/Users/"+id+"?attributes=password").Raw)
			for _, raw := range raws {
				if bytes.Contains(raw, []byte("password")) || bytes.Contains(raw, []byte("Pw-")) {
					t.Fatalf("a response carries the password: %s", raw)
				}
			}
			// The stored record.
			u, err := e.st.GetUser(context.Background(), e.tenant, id)
			if err != nil {
				t.Fatal(err)
			}
			rec, _ := json.Marshal(u)
			if bytes.Contains(rec, []byte("Pw-")) || bytes.Contains(rec, []byte("password")) {
				t.Fatalf("stored record carries the password: %s", rec)
			}
			// Every stored byte.
			dump := rawStore(t, e)
			for _, s := range secrets {
				if bytes.Contains(dump, []byte(s)) {
					t.Fatalf("password %q found in the raw %s store", s, b.name)
				}
			}
			if !bytes.Contains(dump, []byte("pw@example.com")) {
				t.Fatalf("raw store dump does not contain the user: the check is blind")
			}
			// Observer events never carry it either.
			ev, _ := json.Marshal(e.events.all())
			if bytes.Contains(ev, []byte("Pw-")) || bytes.Contains(ev, []byte(e.secret)) {
				t.Fatalf("observer events carry a secret: %s", ev)
			}
		})
	}
}

// rawStore returns every byte the backend holds for e's tenant: the SQLite
// files, or the values of the tenant's Redis keys.
func rawStore(t *testing.T, e *env) []byte {
	t.Helper()
	var out bytes.Buffer
	switch st := e.st.(type) {
	case *redisstore.Store:
		ctx := context.Background()
		c := st.Client()
		keys, err := c.Keys(ctx, "*"+e.tenant+"*").Result()
		if err != nil || len(keys) == 0 {
			t.Fatalf("redis KEYS: %v (%d keys)", err, len(keys))
		}
		for _, k := range keys {
			typ, _ := c.Type(ctx, k).Result()
			var v any
			switch typ {
			case "string":
				v, err = c.Get(ctx, k).Result()
			case "hash":
				v, err = c.HGetAll(ctx, k).Result()
			case "set":
				v, err = c.SMembers(ctx, k).Result()
			case "zset":
				v, err = c.ZRange(ctx, k, 0, -1).Result()
			case "list":
				v, err = c.LRange(ctx, k, 0, -1).Result()
			}
			if err != nil {
				t.Fatalf("redis %s %s: %v", typ, k, err)
			}
			fmt.Fprintf(&out, "%s %v\n", k, v)
		}
	default:
		// SQLite: the database file and its WAL, which holds recent writes.
		path, ok := sqlitePaths.Load(e.st)
		if !ok {
			t.Fatalf("no SQLite path recorded for %T", e.st)
		}
		files, _ := filepath.Glob(path.(string) + "*")
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out.Write(b)
		}
	}
	return out.Bytes()
}

// TestTenantIsolation: tenant B's token cannot see, change or filter tenant
// A's resources; the same names are allowed in both.
func TestTenantIsolation(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *env) {
		b := a.as(t, "")
		ua := a.createUser(t, "shared@example.com", map[string]any{"externalId": "00uShared"})
		ga := a.createGroup(t, "Shared Group", ua)

		for _, p := range []string{"/Users/" + ua, "/Groups/" + ga} {
			mustSCIMError(t, b.get(t, p), http.StatusNotFound, "")
			mustSCIMError(t, b.put(t, p, map[string]any{"userName": "x@example.com", "displayName": "x"}), http.StatusNotFound, "")
			mustSCIMError(t, b.patch(t, p, op("replace", "", map[string]any{"active": false})), http.StatusNotFound, "")
			mustSCIMError(t, b.delete(t, p), http.StatusNotFound, "")
		}
		for _, p := range []string{
			"/Users", "/Groups",
			"/Users" + filterQS(`userName eq "shared@example.com"`),
			"/Users" + filterQS(`id eq "`+ua+`"`),
			"/Users" + filterQS(`externalId eq "00uShared"`),
			"/Users" + filterQS(`userName co "shared"`),
			"/Groups" + filterQS(`displayName eq "Shared Group"`),
			"/Groups" + filterQS(`id eq "`+ga+`"`),
			"/Groups" + filterQS(`members.value eq "`+ua+`"`),
		} {
			r := b.get(t, p)
			if l := resources(t, r); len(l) != 0 || jint(t, r.Body, "totalResults") != 0 {
				t.Fatalf("tenant B sees tenant A: %s", r)
			}
		}
		// B cannot put A's user into its own group.
		gb := b.createGroup(t, "B Group")
		mustSCIMError(t, b.patch(t, "/Groups/"+gb, op("add", "members", []any{map[string]any{"value": ua}})), http.StatusBadRequest, mapping.ScimInvalidValue)
		mustSCIMError(t, b.post(t, "/Groups", map[string]any{"displayName": "B2", "members": []any{map[string]any{"value": ua}}}), http.StatusBadRequest, mapping.ScimInvalidValue)
		// The same userName, externalId and displayName are fine in B.
		ub := b.createUser(t, "shared@example.com", map[string]any{"externalId": "00uShared"})
		b.createGroup(t, "Shared Group", ub)
		// A is untouched and sees only its own.
		r := a.get(t, "/Users/"+ua)
		mustStatus(t, r, http.StatusOK)
		if r.Body["active"] != true || jstr(r.Body, "groups", 0, "value") != ga {
			t.Fatalf("tenant A's user changed: %s", r)
		}
		if l := resources(t, a.get(t, "/Users")); len(l) != 1 || jstr(l[0], "id") != ua {
			t.Fatalf("tenant A sees %v", l)
		}
		if got := a.members(t, ga); !slices.Equal(got, []string{ua}) {
			t.Fatalf("tenant A's group: %v", got)
		}
		mustSCIMError(t, a.get(t, "/Users/"+ub), http.StatusNotFound, "")
		// Each response names its tenant.
		if h := a.get(t, "/Users").Header.Get("X-AxonFlow-Tenant"); h != a.tenant {
			t.Errorf("A: X-AxonFlow-Tenant %q", h)
		}
		if h := b.get(t, "/Users").Header.Get("X-AxonFlow-Tenant"); h != b.tenant {
			t.Errorf("B: X-AxonFlow-Tenant %q", h)
		}
	})
}

// TestAuthFailures: each kind of bad credential is a 401 SCIM error with
// WWW-Authenticate and a detail saying what was wrong.
func TestAuthFailures(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		revoked := e.as(t, e.tenant)
		if err := e.st.RevokeToken(ctx, e.tenant, revoked.token.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		expired := e.as(t, e.tenant)
		if err := e.st.SetTokenExpiry(ctx, e.tenant, expired.token.ID, time.Now().Add(-time.Minute), ""); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name, header, detail string
		}{
			{"no header", "", "missing"},
			{"other scheme", "Basic " + e.secret, "Bearer"},
			{"no scheme", e.secret, "Bearer"},
			{"non-token", "non-token", "Bearer"},
			{"Bearer only", "Bearer", "Bearer"},
			{"Bearer Bearer", "Bearer Bearer " + e.secret, "twice"},
			{"lower-case bearer, unknown token", "bearer scim_unknown", "not known"},
			{"unknown", "Bearer scim_" + strings.Repeat("A", 43), "not known"},
			{"two tokens", "Bearer " + e.secret + " " + e.secret, "malformed"},
			{"revoked", "Bearer " + revoked.secret, "revoked"},
			{"expired", "Bearer " + expired.secret, "expired"},
		} {
			for _, p := range []string{"/Users", "/Groups/x", "/Nowhere"} {
				r := e.get(t, p, withAuth(c.header))
				d := mustSCIMError(t, r, http.StatusUnauthorized, "")
				if !strings.Contains(d, c.detail) {
					t.Errorf("%s: detail %q does not say %q", c.name, d, c.detail)
				}
				if got := r.Header.Get("WWW-Authenticate"); got != `Bearer realm="SCIM"` {
					t.Errorf("%s: WWW-Authenticate %q", c.name, got)
				}
				if r.Header.Get("X-AxonFlow-Tenant") != "" {
					t.Errorf("%s: X-AxonFlow-Tenant on a 401", c.name)
				}
				if strings.Contains(string(r.Raw), e.secret) {
					t.Errorf("%s: 401 echoes the token", c.name)
				}
			}
		}
		// Writes are refused too and change nothing.
		r := e.post(t, "/Users", oktaUser("auth@example.com", "00uAuth"), withAuth("Bearer "+revoked.secret))
		mustSCIMError(t, r, http.StatusUnauthorized, "")
		if l := resources(t, e.get(t, "/Users")); len(l) != 0 {
			t.Fatalf("401 POST created a user")
		}
		// The lower-case scheme with a valid token works (RFC 7235 §2.1).
		mustStatus(t, e.get(t, "/Users", withAuth("bearer "+e.secret)), http.StatusOK)
		// A token that expires later is still valid.
		later := e.as(t, e.tenant)
		if err := e.st.SetTokenExpiry(ctx, e.tenant, later.token.ID, time.Now().Add(time.Hour), ""); err != nil {
			t.Fatal(err)
		}
		mustStatus(t, later.get(t, "/Users"), http.StatusOK)
		// Auth failures are reported to the Observer with a reason, never the token.
		var fails int
		for _, ev := range e.events.all() {
			if ev.Status == 401 {
				fails++
				if ev.AuthFail == "" || ev.Tenant != "" {
					t.Errorf("401 event %+v", ev)
				}
			}
		}
		if fails == 0 {
			t.Errorf("no 401 events observed")
		}
	})
}

// TestDiscoveryWithoutToken: discovery endpoints answer without a token.
func TestDiscoveryWithoutToken(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		noAuth := withAuth("")
		r := e.get(t, "/ServiceProviderConfig", noAuth)
		mustStatus(t, r, http.StatusOK)
		if jget(r.Body, "patch", "supported") != true || jget(r.Body, "filter", "supported") != true ||
			jget(r.Body, "bulk", "supported") != false || jstr(r.Body, "authenticationSchemes", 0, "type") != "oauthbearertoken" {
			t.Fatalf("ServiceProviderConfig: %s", r)
		}
		jint(t, r.Body, "filter", "maxResults")
		r = e.get(t, "/ResourceTypes", noAuth)
		if l := resources(t, r); len(l) != 2 || jstr(l[0], "endpoint") != "/Users" || jstr(l[1], "endpoint") != "/Groups" {
			t.Fatalf("ResourceTypes: %s", r)
		}
		for _, n := range []string{"User", "Group", "user"} {
			r = e.get(t, "/ResourceTypes/"+n, noAuth)
			mustStatus(t, r, http.StatusOK)
		}
		r = e.get(t, "/Schemas", noAuth)
		if l := resources(t, r); len(l) != 3 {
			t.Fatalf("Schemas: %s", r)
		}
		for _, s := range []string{mapping.SchemaUser, mapping.SchemaGroup, mapping.SchemaEnterpriseUser} {
			r = e.get(t, "/Schemas/"+s, noAuth)
			mustStatus(t, r, http.StatusOK)
			if jstr(r.Body, "id") != s {
				t.Fatalf("Schemas/%s: %s", s, r)
			}
		}
		// The published User schema says password is writeOnly/never and groups readOnly.
		r = e.get(t, "/Schemas/"+mapping.SchemaUser, noAuth)
		for _, a := range r.Body["attributes"].([]any) {
			switch jstr(a, "name") {
			case "password":
				if jstr(a, "mutability") != "writeOnly" || jstr(a, "returned") != "never" {
					t.Errorf("password: %v", a)
				}
			case "groups":
				if jstr(a, "mutability") != "readOnly" {
					t.Errorf("groups: %v", a)
				}
			}
		}
		mustSCIMError(t, e.get(t, "/Schemas/urn:nope", noAuth), http.StatusNotFound, "")
		mustSCIMError(t, e.get(t, "/ResourceTypes/Nope", noAuth), http.StatusNotFound, "")
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			r := e.do(t, m, "/ServiceProviderConfig", "{}", noAuth)
			mustSCIMError(t, r, http.StatusMethodNotAllowed, "")
			if r.Header.Get("Allow") == "" {
				t.Errorf("%s: no Allow header", m)
			}
		}
		// With a token they work the same.
		mustStatus(t, e.get(t, "/ServiceProviderConfig"), http.StatusOK)
	})
}

// TestErrorBodies: 404, 405 and 415 are SCIM error bodies.
func TestErrorBodies(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		id := e.createUser(t, "err@example.com")
		for _, c := range []struct{ method, path string }{
			{http.MethodDelete, "/Users"}, {http.MethodPut, "/Users"}, {http.MethodPatch, "/Groups"},
			{http.MethodPost, "/Users/" + id}, {"PROPFIND", "/Users/" + id}, {http.MethodDelete, "/Groups"},
		} {
			r := e.do(t, c.method, c.path, "{}")
			mustSCIMError(t, r, http.StatusMethodNotAllowed, "")
			if r.Header.Get("Allow") == "" {
				t.Errorf("%s %s: no Allow header", c.method, c.path)
			}
		}
		for _, p := range []string{"/Bulk", "/Me", "/Users/" + id + "/x", "/"} {
			mustSCIMError(t, e.get(t, p), http.StatusNotFound, "")
		}
		for _, p := range []string{"/", "/favicon.ico", "/scim", "/scim/v1/Users"} {
			mustSCIMError(t, e.get(t, "", withURL(e.srv.URL+p)), http.StatusNotFound, "")
		}
		mustSCIMError(t, e.post(t, "/Users", "userName=x", withCT("application/x-www-form-urlencoded")), http.StatusUnsupportedMediaType, "")
		mustSCIMError(t, e.do(t, http.MethodPatch, "/Users/"+id, "<xml/>", withCT("text/xml")), http.StatusUnsupportedMediaType, "")
		// Body errors.
		for _, b := range []string{`[]`, `"x"`, `{"userName":"a"} {}`, "{\"userName\":\"\xff\"}", `{"userName": 5}`,
			`{"userName":"lone\ud800@example.com"}`, `{"userName":"lo\udc00w@example.com"}`, `{"userName":"a\ud83d\u0041@example.com"}`} {
			r := e.post(t, "/Users", b)
			if r.Status != http.StatusBadRequest {
				t.Fatalf("%q: %s", b, r)
			}
			mustSCIMError(t, r, http.StatusBadRequest, r.Body["scimType"].(string))
		}
		// PATCH body errors.
		for _, c := range []struct {
			body     any
			scimType string
		}{
			{`{}`, mapping.ScimInvalidSyntax},
			{`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"nickName","value":"\udbff"}]}`, mapping.ScimInvalidSyntax},
			{patchBody(), mapping.ScimInvalidSyntax},
			{patchBody(op("remove", "", nil)), mapping.ScimNoTarget},
			{patchBody(op("replace", "nosuch", "x")), mapping.ScimInvalidPath},
			{patchBody(op("replace", "emails[type eq]", "x")), mapping.ScimInvalidPath},
			{patchBody(op("replace", "id", "other")), mapping.ScimMutability},
			{patchBody(op("replace", "meta.created", "2020-01-01T00:00:00Z")), mapping.ScimMutability},
			{patchBody(op("add", "title", nil)), mapping.ScimInvalidValue},
			{patchBody(op("replace", "name", "flat")), mapping.ScimInvalidValue},
		} {
			mustSCIMError(t, e.do(t, http.MethodPatch, "/Users/"+id, c.body), http.StatusBadRequest, c.scimType)
		}
	})
}

// TestTenantHeader: every authenticated response names the tenant.
func TestTenantHeader(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		id := e.createUser(t, "hdr@example.com")
		for _, r := range []*response{
			e.get(t, "/Users"), e.get(t, "/Users/"+id), e.get(t, "/Users/nope"), e.get(t, "/Groups"),
			e.post(t, "/Users", map[string]any{"userName": "hdr2@example.com"}),
			e.patch(t, "/Users/"+id, op("replace", "title", "x")),
			e.delete(t, "/Users/"+id), e.get(t, "/Nowhere"), e.do(t, http.MethodDelete, "/Users", nil),
		} {
			if h := r.Header.Get("X-AxonFlow-Tenant"); h != e.tenant {
				t.Errorf("%s: X-AxonFlow-Tenant %q, want %q", r, h, e.tenant)
			}
			if r.Header.Get("X-Request-Id") == "" {
				t.Errorf("%s: no X-Request-Id", r)
			}
		}
		if h := e.get(t, "/ServiceProviderConfig", withAuth("")).Header.Get("X-AxonFlow-Tenant"); h != "" {
			t.Errorf("discovery without a token names tenant %q", h)
		}
	})
}

// TestUserGroupsAttribute: a user's readOnly groups lists its groups.
func TestUserGroupsAttribute(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		u := e.createUser(t, "ug@example.com")
		other := e.createUser(t, "ug2@example.com")
		g1 := e.createGroup(t, "Alpha", u)
		g2 := e.createGroup(t, "Beta", u, other)
		want := []any{
			map[string]any{"value": g1, "display": "Alpha", "$ref": e.base + "/Groups/" + g1, "type": "direct"},
			map[string]any{"value": g2, "display": "Beta", "$ref": e.base + "/Groups/" + g2, "type": "direct"},
		}
		r := e.get(t, "/Users/"+u)
		if !jsonEqual(r.Body["groups"], want) {
			t.Fatalf("groups %v, want %v", r.Body["groups"], want)
		}
		l := resources(t, e.get(t, "/Users"))
		if !jsonEqual(jget(l[0], "groups"), want) || len(jget(l[1], "groups").([]any)) != 1 {
			t.Fatalf("list groups: %v", l)
		}
		for _, c := range []struct {
			f    string
			want []string
		}{
			{`groups.value eq "` + g1 + `"`, []string{"ug@example.com"}},
			{`groups eq "` + g2 + `"`, []string{"ug2@example.com", "ug@example.com"}},
			{`groups[display eq "alpha"]`, []string{"ug@example.com"}},
			{`groups.display eq "Beta" and not (groups.display eq "Alpha")`, []string{"ug2@example.com"}},
		} {
			if got := userNames(resources(t, e.get(t, "/Users"+filterQS(c.f)))); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", c.f, got, c.want)
			}
		}
		// Renaming a group shows in its members' groups.
		patchOK(t, e.patch(t, "/Groups/"+g1, op("replace", "displayName", "Alpha2")))
		if r := e.get(t, "/Users/"+u); jstr(r.Body, "groups", 0, "display") != "Alpha2" {
			t.Fatalf("after rename: %v", r.Body["groups"])
		}
		// groups cannot be written through the user.
		mustSCIMError(t, e.patch(t, "/Users/"+u, op("add", "groups", []any{map[string]any{"value": g1}})), http.StatusBadRequest, mapping.ScimMutability)
		// Deleting the user removes it from its groups.
		mustStatus(t, e.delete(t, "/Users/"+u), http.StatusNoContent)
		if got := e.members(t, g2); !slices.Equal(got, []string{other}) {
			t.Fatalf("after user delete: %v", got)
		}
	})
}

// TestProjection: attributes and excludedAttributes.
func TestProjection(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		u := e.createUser(t, "proj@example.com", map[string]any{
			mapping.SchemaEnterpriseUser: map[string]any{"department": "Eng", "costCenter": "42"},
		})
		g := e.createGroup(t, "Proj", u)
		keys := func(m any) []string {
			var ks []string
			for k := range m.(map[string]any) {
				ks = append(ks, k)
			}
			slices.Sort(ks)
			return ks
		}
		r := e.get(t, "/Users?attributes=userName")
		if l := resources(t, r); !slices.Equal(keys(l[0]), []string{"id", "schemas", "userName"}) {
			t.Fatalf("attributes=userName: %v", l[0])
		}
		r = e.get(t, "/Users/"+u+"?attributes=userName")
		if !slices.Equal(keys(r.Body), []string{"id", "schemas", "userName"}) {
			t.Fatalf("GET attributes=userName: %v", r.Body)
		}
		r = e.get(t, "/Users"+filterQS(`userName eq "proj@example.com"`)+"&attributes=userName,name.givenName,emails.value")
		l := resources(t, r)
		if !slices.Equal(keys(l[0]), []string{"emails", "id", "name", "schemas", "userName"}) ||
			!jsonEqual(l[0].(map[string]any)["name"], map[string]any{"givenName": "Ada"}) ||
			!jsonEqual(l[0].(map[string]any)["emails"], []any{map[string]any{"value": "proj@example.com"}}) {
			t.Fatalf("attributes with sub-attributes: %v", l[0])
		}
		r = e.get(t, "/Users/"+u+"?attributes="+mapping.SchemaEnterpriseUser+":department")
		if !jsonEqual(r.Body[mapping.SchemaEnterpriseUser], map[string]any{"department": "Eng"}) {
			t.Fatalf("extension attribute projection: %v", r.Body)
		}
		r = e.get(t, "/Users/"+u+"?excludedAttributes=emails,groups,meta")
		for _, k := range []string{"emails", "groups", "meta"} {
			if _, ok := r.Body[k]; ok {
				t.Fatalf("excludedAttributes kept %s: %v", k, r.Body)
			}
		}
		if jstr(r.Body, "userName") == "" || jstr(r.Body, "id") == "" {
			t.Fatalf("excludedAttributes dropped too much: %v", r.Body)
		}
		// id and schemas cannot be excluded (returned "always").
		r = e.get(t, "/Users/"+u+"?excludedAttributes=id,schemas")
		if jstr(r.Body, "id") != u || r.Body["schemas"] == nil {
			t.Fatalf("id/schemas excluded: %v", r.Body)
		}
		// Groups: excludedAttributes=members on list and single GET; attributes=displayName.
		for _, p := range []string{"/Groups/" + g + "?excludedAttributes=members", "/Groups/" + g + "?attributes=displayName"} {
			r = e.get(t, p)
			if _, ok := r.Body["members"]; ok || jstr(r.Body, "displayName") != "Proj" {
				t.Fatalf("%s: %v", p, r.Body)
			}
		}
		l = resources(t, e.get(t, "/Groups?excludedAttributes=members"))
		if _, ok := l[0].(map[string]any)["members"]; ok {
			t.Fatalf("list excludedAttributes=members: %v", l[0])
		}
		l = resources(t, e.get(t, "/Groups?attributes=members"))
		if !slices.Equal(memberIDs(t, l[0].(map[string]any)), []string{u}) || jstr(l[0], "displayName") != "" {
			t.Fatalf("list attributes=members: %v", l[0])
		}
		// A filter on members with members excluded from the response.
		l = resources(t, e.get(t, "/Groups"+filterQS(`members.value eq "`+u+`"`)+"&excludedAttributes=members"))
		if len(l) != 1 || l[0].(map[string]any)["members"] != nil {
			t.Fatalf("filter on members, members excluded: %v", l)
		}
		// Projection also applies to PUT/PATCH responses.
		r = e.do(t, http.MethodPatch, "/Users/"+u+"?attributes=title", patchBody(op("replace", "title", "T")))
		mustStatus(t, r, http.StatusOK)
		if !slices.Equal(keys(r.Body), []string{"id", "schemas", "title"}) {
			t.Fatalf("PATCH attributes=title: %v", r.Body)
		}
		bad := "?attributes=" + url.QueryEscape(`emails[type eq "work"]`)
		mustSCIMError(t, e.get(t, "/Users"+bad), http.StatusBadRequest, mapping.ScimInvalidValue)
		// A bad projection on a write is rejected before anything is written.
		before := e.get(t, "/Users/"+u).Body
		mustSCIMError(t, e.do(t, http.MethodPatch, "/Users/"+u+bad, patchBody(op("replace", "title", "Changed"))), http.StatusBadRequest, mapping.ScimInvalidValue)
		mustSCIMError(t, e.put(t, "/Users/"+u+bad, map[string]any{"userName": "proj@example.com", "title": "Changed"}), http.StatusBadRequest, mapping.ScimInvalidValue)
		if after := e.get(t, "/Users/"+u).Body; !jsonEqual(after, before) {
			t.Fatalf("rejected writes changed the user: %v → %v", before, after)
		}
		gBefore := e.get(t, "/Groups/"+g).Body
		mustSCIMError(t, e.do(t, http.MethodPatch, "/Groups/"+g+bad, patchBody(op("replace", "displayName", "Changed"))), http.StatusBadRequest, mapping.ScimInvalidValue)
		mustSCIMError(t, e.put(t, "/Groups/"+g+bad, map[string]any{"displayName": "Changed"}), http.StatusBadRequest, mapping.ScimInvalidValue)
		if after := e.get(t, "/Groups/"+g).Body; !jsonEqual(after, gBefore) {
			t.Fatalf("rejected writes changed the group: %v → %v", gBefore, after)
		}
	})
}

// TestFilters covers the filter operators, logic, value paths, extension
// attributes and the error cases on both resource types.
func TestFilters(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ent := mapping.SchemaEnterpriseUser
		mk := func(login, title string, active bool, dept, mgr string, emails ...any) string {
			x := map[string]any{"title": title, "active": active, "emails": emails}
			if dept != "" {
				x[ent] = map[string]any{"department": dept, "manager": map[string]any{"value": mgr}}
			}
			if title == "" {
				x["title"] = nil
			}
			return e.createUser(t, login, x)
		}
		work := func(v string) any { return map[string]any{"value": v, "type": "work", "primary": true} }
		home := func(v string) any { return map[string]any{"value": v, "type": "home"} }
		boss := mk("alice@example.com", "CTO", true, "Engineering", "", work("alice@example.com"))
		mk("bob@example.com", "Engineer", true, "Engineering", boss, work("bob@example.com"), home("bob@home.org"))
		mk("carol@example.org", "Designer", false, "Design", boss, work("carol@example.org"))
		mk("dave@example.net", "", true, "", "", home("dave@home.org"))

		for _, c := range []struct {
			f    string
			want string // space-separated user names (prefix before @)
		}{
			{`userName co "example.com"`, "alice bob"},
			{`userName co "EXAMPLE"`, "alice bob carol dave"},
			{`userName sw "C"`, "carol"},
			{`userName ew ".net"`, "dave"},
			{`title pr`, "alice bob carol"},
			{`not (title pr)`, "dave"},
			{`title eq "engineer"`, "bob"},
			{`title ne "Engineer"`, "alice carol dave"},
			{`userName gt "bob@example.com"`, "carol dave"},
			{`userName ge "bob@example.com"`, "bob carol dave"},
			{`userName lt "bob@example.com"`, "alice"},
			{`userName le "BOB@EXAMPLE.COM"`, "alice bob"},
			{`active eq false`, "carol"},
			{`active eq true and title pr`, "alice bob"},
			{`title eq "CTO" or title eq "Designer"`, "alice carol"},
			{`title eq "CTO" or title eq "Designer" and active eq true`, "alice"},
			{`(title eq "CTO" or title eq "Designer") and active eq false`, "carol"},
			{`not (active eq true) or userName sw "dave"`, "carol dave"},
			{`emails[type eq "work" and value co "@example.com"]`, "alice bob"},
			{`emails[type eq "home"]`, "bob dave"},
			{`emails[type eq "home" and value ew ".org"] and emails[type eq "work"]`, "bob"},
			{`emails.value co "home.org"`, "bob dave"},
			{`emails co "carol"`, "carol"},
			{`emails.primary eq true`, "alice bob carol"},
			{`emails pr`, "alice bob carol dave"},
			{`name pr`, "alice bob carol dave"},
			{`name.givenName eq "ada"`, "alice bob carol dave"},
			{ent + `:department eq "Engineering"`, "alice bob"},
			{ent + `:department sw "de"`, "carol"},
			{ent + `:manager.value eq "` + boss + `"`, "bob carol"},
			{ent + `:department pr`, "alice bob carol"},
			{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:DEPARTMENT eq "design"`, "carol"},
			{`meta.resourceType eq "User"`, "alice bob carol dave"},
			{`meta.lastModified gt "2000-01-01T00:00:00.0000000+05:30"`, "alice bob carol dave"},
			{`meta.lastModified lt "2000-01-01T00:00:00Z"`, ""},
			{`id eq "` + boss + `"`, "alice"},
			{`id eq "` + strings.ToUpper(boss) + `"`, ""},
			{`userName EQ "alice@example.com" AND NOT (active eq false)`, "alice"},
			{`externalId pr`, "alice bob carol dave"},
			{`userName eq "nobody@example.com" or userName eq "dave@example.net"`, "dave"},
		} {
			r := e.get(t, "/Users"+filterQS(c.f))
			var got []string
			for _, n := range userNames(resources(t, r)) {
				got = append(got, strings.SplitN(n, "@", 2)[0])
			}
			if strings.Join(got, " ") != c.want {
				t.Errorf("%s: got %q, want %q", c.f, strings.Join(got, " "), c.want)
			}
			if jint(t, r.Body, "totalResults") != len(got) {
				t.Errorf("%s: totalResults %d for %d results", c.f, jint(t, r.Body, "totalResults"), len(got))
			}
		}
		// Invalid filters are 400 invalidFilter and never "everything".
		for _, f := range []string{
			``, ` `, `userName`, `userName eq`, `userName eq "x`, `userName eq x`, `userName xx "x"`,
			`(userName eq "x"`, `userName eq "x")`, `userName eq "x" and`, `and userName eq "x"`,
			`nosuch eq "x"`, `name.nosuch eq "x"`, `emails[nosuch eq "x"]`, `userName.sub eq "x"`,
			`urn:example:nope:attr eq "x"`, `members.value eq "x"`, `displayName.x eq "x"`,
			`title eq 5`, `active eq "maybe"`, `active gt true`, `title gt true`, `emails[type eq "work"`,
			`name eq "x"`, `title ne null`, `userName co null`,
			strings.Repeat("(", 100) + `userName eq "x"` + strings.Repeat(")", 100),
		} {
			r := e.get(t, "/Users?filter="+strings.ReplaceAll(strings.ReplaceAll(f, " ", "%20"), `"`, "%22"))
			if f == "" {
				// An empty filter parameter is no filter (RFC 7644 gives none).
				resources(t, r)
				continue
			}
			mustSCIMError(t, r, http.StatusBadRequest, mapping.ScimInvalidFilter)
		}
		// Groups.
		g1 := e.createGroup(t, "Eng", boss)
		e.createGroup(t, "Design")
		for _, c := range []struct {
			f    string
			want int
		}{
			{`displayName eq "eng"`, 1}, {`displayName co "g"`, 2}, {`members pr`, 1}, {`not (members pr)`, 1},
			{`members[value eq "` + boss + `"]`, 1}, {`id eq "` + g1 + `"`, 1}, {`externalId pr`, 0},
			{`meta.resourceType eq "Group"`, 2}, {`displayName eq "Eng" and members.value eq "nobody"`, 0},
		} {
			if l := resources(t, e.get(t, "/Groups"+filterQS(c.f))); len(l) != c.want {
				t.Errorf("groups %s: %d results, want %d", c.f, len(l), c.want)
			}
		}
		for _, f := range []string{`userName eq "x"`, `displayName eq`, `members.display.x eq "y"`, `active eq true`} {
			mustSCIMError(t, e.get(t, "/Groups"+filterQS(f)), http.StatusBadRequest, mapping.ScimInvalidFilter)
		}
	})
}

// TestStoreErrorIsNot500ForClientFaults: nothing a client sends yields a 500.
func TestNo500(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		id := e.createUser(t, "no500@example.com")
		g := e.createGroup(t, "no500", id)
		bodies := []string{
			`{"Operations":[{"op":"add","path":"members","value":[{"value":"` + id + `","type":"Group"}]}]}`,
			`{"Operations":[{"op":"add","path":"members[value eq \"x\"]","value":[{"value":"x"}]}]}`,
			`{"Operations":[{"op":"remove","path":"members[display eq \"x\"]"}]}`,
			`{"Operations":[{"op":"remove","path":"members[value sw \"` + id[:4] + `\"]"}]}`,
			`{"Operations":[{"op":"replace","path":"members.value","value":"x"}]}`,
			`{"Operations":[{"op":"replace","value":{"members":"x"}}]}`,
			`{"Operations":[{"op":"replace","value":[1,2]}]}`,
			`{"Operations":[{"op":"replace","path":"displayName","value":""}]}`,
			`{"Operations":[{"op":"replace","path":"displayName","value":null}]}`,
			`{"Operations":[{"op":"remove","path":"displayName"}]}`,
			`{"Operations":[{"op":"add","path":"externalId","value":{"a":1}}]}`,
		}
		for _, b := range bodies {
			r := e.do(t, http.MethodPatch, "/Groups/"+g, b)
			if r.Status >= 500 || (r.Status >= 400 && r.Body["schemas"] == nil) {
				t.Errorf("%s: %s", b, r)
			}
		}
		// The member-filter remove that needs the member list works.
		if got := e.members(t, g); len(got) != 0 {
			t.Errorf("members[value sw ...] remove: members %v", got)
		}
		if r := e.get(t, "/Groups/"+g); jstr(r.Body, "displayName") != "no500" {
			t.Errorf("displayName changed: %s", r)
		}
	})
}

var _ = store.ErrNotFound

// TestValuePathPatch: Okta's attribute mapping writes user.email to
// emails[type eq "work"].value; value paths update, create and remove
// elements of multi-valued attributes.
func TestValuePathPatch(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		id := e.createUser(t, "vp@example.com", map[string]any{"emails": []any{
			map[string]any{"value": "vp@example.com", "type": "work", "primary": true},
			map[string]any{"value": "vp@home.org", "type": "home"},
		}})
		emails := func(r *response) any { mustStatus(t, r, http.StatusOK); return r.Body["emails"] }
		r := e.patch(t, "/Users/"+id, op("replace", `emails[type eq "work"].value`, "new@example.com"))
		if got := emails(r); !jsonEqual(got, []any{
			map[string]any{"primary": true, "type": "work", "value": "new@example.com"},
			map[string]any{"type": "home", "value": "vp@home.org"},
		}) {
			t.Fatalf("replace work email: %v", got)
		}
		// No matching element: add/replace creates one from the filter.
		r = e.patch(t, "/Users/"+id, op("add", `phoneNumbers[type eq "mobile"].value`, "+1 555 0100"))
		if got := r.Body["phoneNumbers"]; !jsonEqual(got, []any{map[string]any{"type": "mobile", "value": "+1 555 0100"}}) {
			t.Fatalf("upsert phone: %v", got)
		}
		r = e.patch(t, "/Users/"+id, op("remove", `emails[type eq "home"]`, nil))
		if got := emails(r); len(got.([]any)) != 1 || jstr(got, 0, "type") != "work" {
			t.Fatalf("remove home email: %v", got)
		}
		// Removing what is not there succeeds and changes nothing.
		before := jstr(r.Body, "meta", "version")
		r = e.patch(t, "/Users/"+id, op("remove", `emails[type eq "other"]`, nil))
		if mustStatus(t, r, http.StatusOK); jstr(r.Body, "meta", "version") != before {
			t.Fatalf("no-op remove changed the version")
		}
		// A filter that cannot describe a new element: noTarget.
		mustSCIMError(t, e.patch(t, "/Users/"+id, op("replace", `emails[value co "zzz"].display`, "x")), http.StatusBadRequest, mapping.ScimNoTarget)
		// Sub-attribute and extension paths.
		r = e.patch(t, "/Users/"+id,
			op("replace", "name.givenName", "Vee"),
			op("add", mapping.SchemaEnterpriseUser+":department", "Ops"),
			op("replace", mapping.SchemaEnterpriseUser+":manager.value", "boss-1"))
		mustStatus(t, r, http.StatusOK)
		if jstr(r.Body, "name", "givenName") != "Vee" || jstr(r.Body, mapping.SchemaEnterpriseUser, "department") != "Ops" ||
			jstr(r.Body, mapping.SchemaEnterpriseUser, "manager", "value") != "boss-1" || !jsonContains(r.Body["schemas"], mapping.SchemaEnterpriseUser) {
			t.Fatalf("sub-attribute/extension paths: %s", r)
		}
		r = e.patch(t, "/Users/"+id, op("remove", mapping.SchemaEnterpriseUser+":department", nil), op("remove", mapping.SchemaEnterpriseUser+":manager", nil))
		if _, ok := r.Body[mapping.SchemaEnterpriseUser]; ok || jsonContains(r.Body["schemas"], mapping.SchemaEnterpriseUser) {
			t.Fatalf("empty extension kept: %s", r)
		}
	})
}

// TestMiscHTTP: HEAD, self-rename by letter case, extreme paging numbers.
func TestMiscHTTP(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		id := e.createUser(t, "misc@example.com")
		r := e.do(t, http.MethodHead, "/Users/"+id, nil)
		if mustStatus(t, r, http.StatusOK); len(r.Raw) != 0 {
			t.Fatalf("HEAD returned a body")
		}
		mustStatus(t, e.do(t, http.MethodHead, "/Users", nil), http.StatusOK)
		// Renaming a user to its own name in another case is not a conflict.
		r = e.put(t, "/Users/"+id, map[string]any{"userName": "MISC@Example.com"})
		if mustStatus(t, r, http.StatusOK); jstr(r.Body, "userName") != "MISC@Example.com" {
			t.Fatalf("self-rename: %s", r)
		}
		g := e.createGroup(t, "Misc")
		patchOK(t, e.patch(t, "/Groups/"+g, op("replace", "displayName", "MISC")))
		for _, q := range []string{
			"?startIndex=9223372036854775807&count=10", "?startIndex=1&count=9223372036854775807",
			"?startIndex=-9223372036854775808", "?count=-1", "?startIndex=9223372036854775807" + "&filter=" + "id%20pr",
		} {
			for _, p := range []string{"/Users", "/Groups"} {
				r := e.get(t, p+q)
				resources(t, r)
				if jint(t, r.Body, "totalResults") != 1 {
					t.Errorf("%s%s: %s", p, q, r)
				}
			}
		}
		// Integers too large for an int are clamped, not refused: a huge
		// startIndex is past the end, a huge count is capped at maxResults.
		if r := e.get(t, "/Users?startIndex=99999999999999999999"); r.Status != 200 || len(resources(t, r)) != 0 || jint(t, r.Body, "totalResults") != 1 {
			t.Errorf("huge startIndex: %s", r)
		}
		if r := e.get(t, "/Users?count=99999999999999999999"); r.Status != 200 || len(resources(t, r)) != 1 {
			t.Errorf("huge count: %s", r)
		}
		mustSCIMError(t, e.get(t, "/Users?count=12abc"), http.StatusBadRequest, mapping.ScimInvalidValue)
	})
}
