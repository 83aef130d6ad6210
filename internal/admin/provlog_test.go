package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/internal/admin"
	"github.com/axonflow/axonflow-sync/internal/provlog"
	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/scimserver"
	"github.com/axonflow/axonflow-sync/store"
)

// scimPush sends one SCIM request as Okta with the given token secret.
func scimPush(t *testing.T, base, secret, method, path string, body any) int {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, base+scimserver.BasePath+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+secret)
	req.Header.Set("Content-Type", "application/scim+json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func scimUser(userName string) map[string]any {
	return map[string]any{"schemas": []string{mapping.SchemaUser}, "userName": userName,
		"name": map[string]any{"givenName": "A", "familyName": "B"}, "active": true, "password": "Sup3r-secret-pw"}
}

// TestLogAPI: GET /admin/v1/tenants/{tenant}/log answers "users are assigned
// but do not appear": pushed into another tenant, rejected (and why), never
// pushed (with the tenant's latest 401); its filters; operator actions are
// logged with the operator.
func TestLogAPI(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := open(t)
			ctx := context.Background()
			rec := provlog.New(st, provlog.Options{Logger: zerolog.Nop()})
			api := admin.New(admin.Options{Store: rec.Wrap(st), Token: adminToken, Logger: zerolog.Nop()})
			srv := httptest.NewServer(api)
			defer srv.Close()
			scim := httptest.NewServer(scimserver.New(scimserver.Options{Store: rec.Wrap(st), Logger: zerolog.Nop(), Observer: rec}))
			defer scim.Close()
			c := client{t, srv.URL}
			sfx := fmt.Sprint(time.Now().UnixNano())
			acme, globex := "acme-"+sfx, "globex-"+sfx
			acmeTok, _, err := store.IssueToken(ctx, st, acme, "okta-prod", 0, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			globexTok, globexT, err := store.IssueToken(ctx, st, globex, "okta-prod", 0, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			revokedTok, revokedT, err := store.IssueToken(ctx, st, acme, "old", 0, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if err := st.RevokeToken(ctx, acme, revokedT.ID, time.Now()); err != nil {
				t.Fatal(err)
			}
			ada, bob, carol, nobody := "ada-"+sfx+"@example.com", "bob-"+sfx+"@example.com", "carol-"+sfx+"@example.com", "nobody-"+sfx+"@example.com"

			// Okta's acme app was given globex's token: ada lands in globex.
			if code := scimPush(t, scim.URL, globexTok, "POST", "/Users", scimUser(ada)); code != 201 {
				t.Fatalf("push ada to globex: %d", code)
			}
			if code := scimPush(t, scim.URL, acmeTok, "POST", "/Users", scimUser(bob)); code != 201 {
				t.Fatalf("push bob: %d", code)
			}
			badCarol := scimUser(carol)
			badCarol["emails"] = "carol@example.com" // not a list
			if code := scimPush(t, scim.URL, acmeTok, "POST", "/Users", badCarol); code != 400 {
				t.Fatalf("push bad carol: %d", code)
			}
			if code := scimPush(t, scim.URL, revokedTok, "POST", "/Users", scimUser(nobody)); code != 401 {
				t.Fatalf("push with a revoked token: %d", code)
			}
			if code := scimPush(t, scim.URL, acmeTok, "POST", "/Groups", map[string]any{"schemas": []string{mapping.SchemaGroup}, "displayName": "Admins " + sfx}); code != 201 {
				t.Fatalf("push group: %d", code)
			}

			get := func(tenant string, q url.Values) (int, map[string]any) {
				t.Helper()
				return c.do("GET", "/admin/v1/tenants/"+tenant+"/log?"+q.Encode(), adminToken, "")
			}
			explanation := func(m map[string]any) map[string]any {
				ex, _ := m["explanation"].(map[string]any)
				return ex
			}
			entries := func(m map[string]any) []any {
				es, _ := m["entries"].([]any)
				return es
			}

			// Pushed into another tenant.
			code, m := get(acme, url.Values{"user": {strings.ToUpper(ada)}})
			ex := explanation(m)
			if code != 200 || len(entries(m)) != 0 || ex["verdict"] != admin.VerdictOtherTenant {
				t.Fatalf("ada: %d %v", code, m)
			}
			msg := fmt.Sprint(ex["message"])
			for _, want := range []string{"never pushed to " + acme, "pushed to tenant " + globex + " at ", "token " + globexT.ID} {
				if !strings.Contains(msg, want) {
					t.Errorf("ada's explanation %q lacks %q", msg, want)
				}
			}
			if ex["authFailure"] == nil || !strings.Contains(msg, "401") {
				t.Errorf("ada's explanation does not mention acme's 401: %v", ex)
			}

			// Pushed and rejected, with why.
			code, m = get(acme, url.Values{"user": {carol}})
			ex = explanation(m)
			if code != 200 || len(entries(m)) != 1 || ex["verdict"] != admin.VerdictRejected {
				t.Fatalf("carol: %d %v", code, m)
			}
			e := entries(m)[0].(map[string]any)
			if e["status"] != float64(400) || e["scimType"] != "invalidValue" || e["detail"] == "" || e["name"] != carol || e["actorId"] == "" {
				t.Errorf("carol's entry: %v", e)
			}
			if msg := fmt.Sprint(ex["message"]); !strings.Contains(msg, "400 invalidValue: ") || !strings.Contains(msg, "rejected") {
				t.Errorf("carol's explanation: %q", msg)
			}

			// Present.
			code, m = get(acme, url.Values{"user": {bob}})
			if ex = explanation(m); code != 200 || len(entries(m)) != 1 || ex["verdict"] != admin.VerdictPresent || ex["exists"] != true {
				t.Errorf("bob: %d %v", code, m)
			}
			// Never pushed anywhere (the 401 is noted).
			code, m = get(acme, url.Values{"user": {nobody}})
			ex = explanation(m)
			if code != 200 || ex["verdict"] != admin.VerdictNeverPushed ||
				!strings.Contains(fmt.Sprint(ex["message"]), "never pushed to any tenant: check the Okta assignment") ||
				!strings.Contains(fmt.Sprint(ex["message"]), "revoked") {
				t.Errorf("nobody: %d %v", code, m)
			}
			// Groups.
			code, m = get(acme, url.Values{"group": {"admins " + sfx}})
			if code != 200 || len(entries(m)) != 1 || explanation(m)["verdict"] != admin.VerdictPresent {
				t.Errorf("group: %d %v", code, m)
			}

			// Filters.
			code, m = get(acme, url.Values{"outcome": {"rejected"}})
			if code != 200 || len(entries(m)) != 2 || explanation(m) != nil {
				t.Errorf("outcome=rejected: %d %v", code, m)
			}
			for _, e := range entries(m) {
				if s := e.(map[string]any)["status"].(float64); s < 400 {
					t.Errorf("outcome=rejected returned status %v", s)
				}
			}
			if code, m = get(acme, url.Values{"outcome": {"accepted"}, "limit": {"1"}}); code != 200 || len(entries(m)) != 1 {
				t.Errorf("outcome=accepted&limit=1: %d %v", code, m)
			}
			if code, m = get(acme, url.Values{"since": {"1h"}}); code != 200 || len(entries(m)) != 4 {
				t.Errorf("since=1h: %d %d entries", code, len(entries(m)))
			}
			future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
			if code, m = get(acme, url.Values{"since": {future}}); code != 200 || len(entries(m)) != 0 {
				t.Errorf("since=future: %d %v", code, m)
			}
			for _, bad := range []url.Values{{"outcome": {"maybe"}}, {"since": {"yesterday"}}, {"limit": {"0"}},
				{"user": {"a"}, "group": {"b"}}, {"actor": {"okta"}}} {
				if code, m := get(acme, bad); code != 400 || errCode(m) != admin.CodeInvalid {
					t.Errorf("%v: %d %v; want 400 invalid_request", bad, code, m)
				}
			}
			if code, m := get("nope-"+sfx, nil); code != 404 || !strings.Contains(fmt.Sprint(m), acme) {
				t.Errorf("unknown tenant: %d %v; want 404 listing the tenants", code, m)
			}

			// Operator actions through the API are logged with the operator.
			req, _ := http.NewRequest("PUT", srv.URL+"/admin/v1/tenants/"+acme+"/roles/mappings",
				strings.NewReader(`{"group": "Admins `+sfx+`", "byName": true, "role": "admin"}`))
			req.Header.Set("Authorization", "Bearer "+adminToken)
			req.Header.Set(admin.OperatorHeader, "alice")
			res, err := http.DefaultClient.Do(req)
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("map role: %v %v", res, err)
			}
			res.Body.Close()
			code, created := c.do("POST", "/admin/v1/tenants/"+acme+"/tokens", adminToken, `{"name": "okta-staging"}`)
			if code != 201 {
				t.Fatalf("create token: %d %v", code, created)
			}
			code, m = get(acme, url.Values{"actor": {"operator"}})
			es := entries(m)
			if code != 200 || len(es) != 2 {
				t.Fatalf("actor=operator: %d %v", code, m)
			}
			tokE, mapE := es[0].(map[string]any), es[1].(map[string]any)
			if tokE["operation"] != "create_token" || tokE["actorId"] != "admin-api" || tokE["resourceId"] != created["id"] || tokE["name"] != "okta-staging" {
				t.Errorf("token entry: %v", tokE)
			}
			if mapE["operation"] != "map_role" || mapE["actorId"] != "admin-api" || mapE["operatorClaim"] != "alice" || mapE["name"] != "Admins "+sfx ||
				!strings.Contains(fmt.Sprint(mapE["changes"]), "admin") {
				t.Errorf("mapping entry: %v", mapE)
			}
			raw, _ := json.Marshal(m)
			if secret, _ := created["token"].(string); secret == "" || bytes.Contains(raw, []byte(secret)) {
				t.Errorf("the token secret is in the log (or was not returned): %s", raw)
			}
			if code, m = get(acme, url.Values{"user": {bob}, "actor": {"operator"}}); code != 200 || len(entries(m)) != 0 ||
				explanation(m)["verdict"] != admin.VerdictPresent {
				t.Errorf("the explanation ignores the other filters: %d %v", code, m)
			}
		})
	}
}

// TestLogServiceOperators: the service functions shared with the CLI log
// token and role changes with the operator from the context.
func TestLogServiceOperators(t *testing.T) {
	st := backends(t)["sqlite"](t)
	ctx := admin.WithOperator(context.Background(), "cli:ada")
	now := time.Now()
	tenant := "ops"
	tv, err := admin.CreateToken(ctx, st, tenant, "okta", 24*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	nt, _, err := admin.RotateToken(ctx, st, tenant, tv.ID, "", time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RevokeToken(ctx, st, tenant, nt.ID, now); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.SetDefaultRole(ctx, st, tenant, "none", now); err != nil {
		t.Fatal(err)
	}
	u := &mapping.User{ID: "u1", Attrs: mapping.Attrs{"userName": "ada@example.com"}, Created: now, LastModified: now}
	if err := st.CreateUser(ctx, tenant, u); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.AssignRole(ctx, st, tenant, "ADA@example.com", "owner", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.UnassignRole(ctx, st, tenant, "ada@example.com", "owner", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.MapRole(ctx, st, tenant, mapping.RoleMapping{Group: "Eng", ByName: true, Role: "developer"}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.UnmapRole(ctx, st, tenant, "eng", true); err != nil {
		t.Fatal(err)
	}
	res, err := admin.QueryLog(ctx, st, tenant, admin.LogParams{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, e := range res.Entries {
		if e.Actor != store.ActorOperator || e.ActorID != "cli:ada" || e.Rejected() {
			t.Errorf("entry %+v: want operator cli:ada, accepted", e)
		}
		ops = append(ops, e.Operation+" "+admin.SummarizeChanges(e.Changes, 0))
	}
	want := []string{
		`unmap_role role: "developer" → -`,
		`map_role role: - → "developer"`,
		`unassign_role roles: "manual:owner" → -`,
		`assign_role roles: - → "manual:owner"`,
		`set_default_role defaultRole: - → "none"`,
		`revoke_token `,
		"rotate_token expiresAt: " + fmt.Sprintf("%q", now.Add(24*time.Hour).UTC().Format(time.RFC3339)) + " → " + fmt.Sprintf("%q", now.Add(time.Hour).UTC().Format(time.RFC3339)),
		"create_token expiresAt: - → " + fmt.Sprintf("%q", now.Add(24*time.Hour).UTC().Format(time.RFC3339)),
		"create_token expiresAt: - → " + fmt.Sprintf("%q", now.Add(24*time.Hour).UTC().Format(time.RFC3339)),
	}
	if strings.Join(ops, "\n") != strings.Join(want, "\n") {
		t.Errorf("operator entries:\n%s\nwant\n%s", strings.Join(ops, "\n"), strings.Join(want, "\n"))
	}
}

// TestExplainAbsent: a name whose newest entry was accepted but that does
// not exist now (here: an operator's rejected reconcile correction, which
// created nothing) is "absent", never "present".
func TestExplainAbsent(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			st, ctx := open(t), context.Background()
			if _, err := st.EnsureTenant(ctx, "acme", time.Now()); err != nil {
				t.Fatal(err)
			}
			store.Record(admin.WithOperator(ctx, "cli:ada"), st, "acme", store.LogEntry{ResourceType: "User",
				Name: "barbara@example.com", Operation: "reject_correction", Status: 200, Detail: "plan p item 3: create_user"})
			res, err := admin.QueryLog(ctx, st, "acme", admin.LogParams{User: "barbara@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			if ex := res.Explanation; ex == nil || ex.Verdict != admin.VerdictAbsent || ex.Exists ||
				!strings.Contains(ex.Message, "does not exist in acme now") {
				t.Fatalf("explanation %+v", ex)
			}
		})
	}
}
