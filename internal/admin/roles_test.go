package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/config"
	"github.com/axonflow/axonflow-sync/internal/admin"
	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// roleFixture is a tenant with users and groups in one backend.
type roleFixture struct {
	t      *testing.T
	st     store.State
	ctx    context.Context
	tenant string
	users  map[string]string // userName → id
}

func newRoleFixture(t *testing.T, st store.State) *roleFixture {
	f := &roleFixture{t: t, st: st, ctx: context.Background(), tenant: fmt.Sprintf("r-%d", time.Now().UnixNano()), users: map[string]string{}}
	if _, err := st.EnsureTenant(f.ctx, f.tenant, time.Now()); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *roleFixture) user(name string) string {
	f.t.Helper()
	u := &mapping.User{ID: "u-" + name + "-" + fmt.Sprint(time.Now().UnixNano()), Attrs: mapping.Attrs{"userName": name + "@example.com"}, Created: time.Now()}
	if err := f.st.CreateUser(f.ctx, f.tenant, u); err != nil {
		f.t.Fatal(err)
	}
	f.users[name] = u.ID
	return u.ID
}

func (f *roleFixture) group(name string, members ...string) string {
	f.t.Helper()
	g := &mapping.Group{ID: "g-" + fmt.Sprint(time.Now().UnixNano()), Attrs: mapping.Attrs{"displayName": name}, Created: time.Now()}
	if err := f.st.CreateGroup(f.ctx, f.tenant, g, members); err != nil {
		f.t.Fatal(err)
	}
	return g.ID
}

func (f *roleFixture) members(gid string, add, remove []string) {
	f.t.Helper()
	if _, err := f.st.UpdateGroup(f.ctx, f.tenant, gid, store.GroupChange{Add: add, Remove: remove, At: time.Now()}); err != nil {
		f.t.Fatal(err)
	}
}

// roles returns a user's effective roles as "role/source" strings.
func (f *roleFixture) roles(name string) []string {
	f.t.Helper()
	v, err := admin.ShowUserRoles(f.ctx, f.st, f.tenant, f.users[name])
	if err != nil {
		f.t.Fatalf("ShowUserRoles(%s): %v", name, err)
	}
	out := []string{}
	for _, r := range v.Roles {
		out = append(out, r.Role+"/"+r.Source)
	}
	return out
}

func (f *roleFixture) wantRoles(name string, want ...string) {
	f.t.Helper()
	if want == nil {
		want = []string{}
	}
	if got := f.roles(name); !reflect.DeepEqual(got, want) {
		f.t.Errorf("roles of %s = %v; want %v", name, got, want)
	}
}

func num(m map[string]any, k string) int {
	n, _ := m[k].(float64)
	return int(n)
}

func TestRolesAPI(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			f := newRoleFixture(t, st)
			srv := httptest.NewServer(admin.New(admin.Options{Store: st, Token: adminToken, Logger: zerolog.Nop()}))
			defer srv.Close()
			c := client{t, srv.URL}
			base := "/admin/v1/tenants/" + f.tenant

			ann, bob, carl := f.user("ann"), f.user("bob"), f.user("carl")
			f.user("dave")
			adm := f.group("AxonFlow Admins", ann, bob)
			dev := f.group("Developers", carl)

			// Before any mapping: the default role (viewer, never configured).
			f.wantRoles("ann", "viewer/default")
			if code, m := c.do("GET", base+"/roles/default", adminToken, ""); code != 200 || m["role"] != "viewer" || m["configured"] != false {
				t.Errorf("GET default: %d %v", code, m)
			}

			// Map by displayName, any case: the two members change.
			code, m := c.do("PUT", base+"/roles/mappings", adminToken, `{"group":"axonflow admins","role":"admin","byName":true}`)
			if code != 200 || num(m, "usersUpdated") != 2 {
				t.Fatalf("PUT mapping: %d %v", code, m)
			}
			if mp, _ := m["mapping"].(map[string]any); mp["source"] != "api" || mp["byName"] != true || mp["role"] != "admin" {
				t.Errorf("PUT mapping returned %v", m["mapping"])
			}
			code, m = c.do("GET", base+"/users/"+ann+"/roles", adminToken, "")
			want := map[string]any{"userId": ann, "userName": "ann@example.com", "roles": []any{
				map[string]any{"role": "admin", "source": "scim", "group": adm, "groupName": "AxonFlow Admins"}}}
			if code != 200 || !reflect.DeepEqual(m, want) {
				t.Errorf("GET user roles: %d %v; want %v", code, m, want)
			}
			// By userName too.
			if code, m := c.do("GET", base+"/users/ANN@example.com/roles", adminToken, ""); code != 200 || m["userId"] != ann {
				t.Errorf("GET user roles by userName: %d %v", code, m)
			}
			f.wantRoles("dave", "viewer/default")
			// Re-putting the same mapping changes nobody.
			if code, m := c.do("PUT", base+"/roles/mappings", adminToken, `{"group":"AxonFlow Admins","role":"admin","byName":true}`); code != 200 || num(m, "usersUpdated") != 0 {
				t.Errorf("PUT same mapping: %d %v", code, m)
			}

			// A member added after the mapping has the role at once.
			f.members(adm, []string{f.users["dave"]}, nil)
			f.wantRoles("dave", "admin/scim")

			// Manual and api assignments.
			if _, err := admin.AssignRole(f.ctx, st, f.tenant, "carl@example.com", "admin", ""); err != nil {
				t.Fatal(err)
			}
			code, m = c.do("PUT", base+"/users/"+bob+"/roles/developer", adminToken, `{"source":"api"}`)
			if code != 200 || !strings.Contains(fmt.Sprint(m["roles"]), "source:api") {
				t.Fatalf("PUT user role: %d %v", code, m)
			}
			f.wantRoles("bob", "admin/scim", "developer/api")

			// Map by id: carl (manual admin) gains developer.
			code, m = c.do("PUT", base+"/roles/mappings", adminToken, `{"group":"`+dev+`","role":"developer"}`)
			if code != 200 || num(m, "usersUpdated") != 1 {
				t.Fatalf("PUT mapping by id: %d %v", code, m)
			}
			f.wantRoles("carl", "admin/manual", "developer/scim")
			code, m = c.do("GET", base+"/roles/mappings", adminToken, "")
			if ms, _ := m["mappings"].([]any); code != 200 || len(ms) != 2 {
				t.Errorf("GET mappings: %d %v", code, m)
			}

			// Unmapping removes only scim roles: ann and dave fall back to
			// the default, bob keeps his api developer (3 changed).
			code, m = c.do("DELETE", base+"/roles/mappings?byName=true&group="+url.QueryEscape("AXONFLOW ADMINS"), adminToken, "")
			if code != 200 || num(m, "usersUpdated") != 3 {
				t.Fatalf("DELETE mapping: %d %v", code, m)
			}
			f.wantRoles("ann", "viewer/default")
			f.wantRoles("bob", "developer/api")
			f.wantRoles("dave", "viewer/default")

			// A manual admin survives losing every group (and gets no default).
			f.members(dev, nil, []string{carl})
			f.wantRoles("carl", "admin/manual")

			// Default role none, then back.
			if code, m := c.do("PUT", base+"/roles/default", adminToken, `{"role":"none"}`); code != 200 || m["role"] != "none" {
				t.Fatalf("PUT default none: %d %v", code, m)
			}
			f.wantRoles("ann")
			f.wantRoles("carl", "admin/manual")
			if code, m := c.do("GET", base+"/roles/default", adminToken, ""); code != 200 || m["role"] != "none" || m["configured"] != true {
				t.Errorf("GET default: %d %v", code, m)
			}
			if code, _ := c.do("PUT", base+"/roles/default", adminToken, `{"role":"developer"}`); code != 200 {
				t.Fatalf("PUT default developer: %d", code)
			}
			f.wantRoles("ann", "developer/default")

			// Unassign (source from the query).
			code, m = c.do("DELETE", base+"/users/"+bob+"/roles/developer?source=api", adminToken, "")
			if code != 200 || fmt.Sprint(m["roles"]) != "[map[role:developer source:default]]" {
				t.Errorf("DELETE user role: %d %v", code, m)
			}

			// Errors: stable codes.
			for _, tc := range []struct {
				method, path, body string
				status             int
				code               string
			}{
				{"PUT", base + "/roles/mappings", `{"group":"X","role":"superuser","byName":true}`, 400, admin.CodeInvalid},
				{"PUT", base + "/roles/mappings", `{"group":" ","role":"admin","byName":true}`, 400, admin.CodeInvalid},
				{"PUT", base + "/roles/mappings", `{"group":"X","role":"admin","extra":1}`, 400, admin.CodeInvalid},
				{"PUT", base + "/roles/mappings", `{"group":"no-such-id","role":"admin"}`, 404, admin.CodeNotFound},
				{"PUT", "/admin/v1/tenants/Bad!/roles/mappings", `{"group":"X","role":"admin","byName":true}`, 400, admin.CodeInvalid},
				{"DELETE", base + "/roles/mappings?group=AxonFlow+Admins&byName=true", "", 404, admin.CodeNotFound},
				{"DELETE", base + "/roles/mappings?group=" + dev, "", 200, ""},
				{"DELETE", base + "/roles/mappings", "", 400, admin.CodeInvalid},
				{"DELETE", base + "/roles/mappings?group=x&byName=maybe", "", 400, admin.CodeInvalid},
				{"GET", base + "/users/nobody/roles", "", 404, admin.CodeNotFound},
				{"PUT", base + "/users/nobody/roles/admin", "", 404, admin.CodeNotFound},
				{"PUT", base + "/users/" + ann + "/roles/root", "", 400, admin.CodeInvalid},
				{"PUT", base + "/users/" + ann + "/roles/admin", `{"source":"scim"}`, 400, admin.CodeInvalid},
				{"DELETE", base + "/users/" + ann + "/roles/admin", "", 404, admin.CodeNotFound},
				{"PUT", base + "/roles/default", `{"role":"root"}`, 400, admin.CodeInvalid},
				{"PUT", base + "/roles/default", ``, 400, admin.CodeInvalid},
			} {
				code, m := c.do(tc.method, tc.path, adminToken, tc.body)
				if code != tc.status || (tc.code != "" && errCode(m) != tc.code) {
					t.Errorf("%s %s %s: %d %v; want %d %s", tc.method, tc.path, tc.body, code, m, tc.status, tc.code)
				}
			}
			// An unmapped group that does not exist yet can be mapped by name.
			if code, m := c.do("PUT", base+"/roles/mappings", adminToken, `{"group":"Future Group","role":"owner","byName":true}`); code != 200 || num(m, "usersUpdated") != 0 {
				t.Errorf("PUT mapping of a future group: %d %v", code, m)
			}
			f.group("future group", ann)
			f.wantRoles("ann", "owner/scim")
		})
	}
}

// TestRoleRoutesRejectSCIMTokens: no role route accepts a SCIM token, nor
// no token at all.
func TestRoleRoutesRejectSCIMTokens(t *testing.T) {
	st := backends(t)["sqlite"](t)
	f := newRoleFixture(t, st)
	ann := f.user("ann")
	scimTok, _, err := store.IssueToken(f.ctx, st, f.tenant, "okta", 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(admin.New(admin.Options{Store: st, Token: adminToken, Logger: zerolog.Nop(), AuthFailBurst: 1000}))
	defer srv.Close()
	c := client{t, srv.URL}
	base := "/admin/v1/tenants/" + f.tenant
	routes := []struct{ method, path, body string }{
		{"GET", base + "/roles/mappings", ""},
		{"PUT", base + "/roles/mappings", `{"group":"G","role":"owner","byName":true}`},
		{"DELETE", base + "/roles/mappings?group=G&byName=true", ""},
		{"GET", base + "/roles/default", ""},
		{"PUT", base + "/roles/default", `{"role":"owner"}`},
		{"GET", base + "/users/" + ann + "/roles", ""},
		{"PUT", base + "/users/" + ann + "/roles/owner", ""},
		{"DELETE", base + "/users/" + ann + "/roles/owner", ""},
	}
	for _, r := range routes {
		for _, tok := range []string{scimTok, "", "Bearer " + scimTok} {
			if code, m := c.do(r.method, r.path, tok, r.body); (code != 401 && code != 403) || errCode(m) == "" {
				t.Errorf("%s %s with token %.12q: %d %v; want 401/403", r.method, r.path, tok, code, m)
			}
		}
	}
	// Nothing was written.
	if ms, _ := st.ListRoleMappings(f.ctx, f.tenant); len(ms) != 0 {
		t.Errorf("mappings written with a SCIM token: %v", ms)
	}
	if rs, _ := st.UserRoles(f.ctx, f.tenant, []string{ann}); len(rs) != 0 {
		t.Errorf("roles written with a SCIM token: %v", rs)
	}
	if _, set, _ := st.DefaultRole(f.ctx, f.tenant); set {
		t.Error("default role written with a SCIM token")
	}
	// A disabled API refuses them too.
	off := httptest.NewServer(admin.New(admin.Options{Store: st}))
	defer off.Close()
	for _, r := range routes {
		if code, _ := (client{t, off.URL}).do(r.method, r.path, scimTok, r.body); code != 403 {
			t.Errorf("disabled API: %s %s: %d; want 403", r.method, r.path, code)
		}
	}
}

func TestApplyConfigRoles(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			f := newRoleFixture(t, st)
			ann := f.user("ann")
			f.group("AxonFlow Admins", ann)
			now := time.Now()
			// An API mapping of the same group, a stale config mapping, an
			// API mapping that stays, and a default set through the API.
			for _, m := range []mapping.RoleMapping{
				{Group: "axonflow admins", ByName: true, Role: mapping.RoleOwner, Source: mapping.SourceAPI},
				{Group: "Old Group", ByName: true, Role: mapping.RoleViewer, Source: mapping.SourceConfig},
				{Group: "Keep", ByName: true, Role: mapping.RoleViewer, Source: mapping.SourceAPI},
			} {
				if _, err := admin.MapRole(f.ctx, st, f.tenant, m, now); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := admin.SetDefaultRole(f.ctx, st, f.tenant, "developer", now); err != nil {
				t.Fatal(err)
			}
			newTenant := f.tenant + "-new"
			tenants := map[string]config.TenantConfig{
				f.tenant:  {Roles: config.RolesConfig{Default: "none", Mappings: []config.RoleMapping{{Group: "AxonFlow Admins", Role: "admin"}}}},
				newTenant: {Roles: config.RolesConfig{Default: "viewer"}},
			}
			var logs bytes.Buffer
			if err := admin.ApplyConfigRoles(f.ctx, st, tenants, zerolog.New(&logs), now); err != nil {
				t.Fatal(err)
			}
			ms, _ := st.ListRoleMappings(f.ctx, f.tenant)
			want := []mapping.RoleMapping{
				{Group: "AxonFlow Admins", ByName: true, Role: mapping.RoleAdmin, Source: mapping.SourceConfig},
				{Group: "Keep", ByName: true, Role: mapping.RoleViewer, Source: mapping.SourceAPI},
			}
			if !reflect.DeepEqual(ms, want) {
				t.Errorf("mappings after apply = %+v; want %+v", ms, want)
			}
			f.wantRoles("ann", "admin/scim")
			if role, set, _ := st.DefaultRole(f.ctx, f.tenant); role != "" || !set {
				t.Errorf("default after apply = %q %v; want none", role, set)
			}
			if role, set, _ := st.DefaultRole(f.ctx, newTenant); role != "viewer" || !set {
				t.Errorf("default of a new tenant = %q %v", role, set)
			}
			if ts, _ := st.ListTenants(f.ctx); !strings.Contains(fmt.Sprint(ts), newTenant) {
				t.Errorf("tenant %s not created: %v", newTenant, ts)
			}
			var warns []map[string]any
			for line := range strings.Lines(logs.String()) {
				var e map[string]any
				if err := json.Unmarshal([]byte(line), &e); err == nil && e["level"] == "warn" {
					warns = append(warns, e)
				}
			}
			if len(warns) != 2 || warns[0]["replaced_source"] != "api" || warns[0]["users_updated"] != float64(1) || warns[1]["replaced"] != "developer" {
				t.Errorf("warnings = %v; want the replaced API mapping and default\n%s", warns, logs.String())
			}
			if !strings.Contains(logs.String(), "Old Group") {
				t.Errorf("removal of the stale config mapping not logged:\n%s", logs.String())
			}
			// A second start changes and logs nothing.
			logs.Reset()
			if err := admin.ApplyConfigRoles(f.ctx, st, tenants, zerolog.New(&logs), now); err != nil {
				t.Fatal(err)
			}
			if logs.Len() != 0 {
				t.Errorf("second apply logged:\n%s", logs.String())
			}
		})
	}
}
