package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/config"
	"github.com/axonflow/axonflow-sync/internal/admin"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/sync"
	"github.com/axonflow/axonflow-sync/sync/oktatest"
)

// TestPlanRoutes: a guard trip holds a plan; the admin API lists it, shows
// it, approves one item (applied, recorded with the principal admin-api in
// the provisioning log) and rejects the rest (every pending item). On both
// stores.
func TestPlanRoutes(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			ctx := context.Background()
			okta := oktatest.New(oktatest.WithoutRateLimits())
			t.Cleanup(okta.Close)
			okta.AddApp(oktatest.DefaultAppID)
			var oids []string
			for i := range 20 {
				id := okta.AddUser(oktatest.User{Login: fmt.Sprintf("u%02d@example.com", i), Email: fmt.Sprintf("u%02d@example.com", i), FirstName: "U", LastName: fmt.Sprint(i)})
				okta.AssignUser(oktatest.DefaultAppID, id, oktatest.ScopeUser, "")
				oids = append(oids, id)
			}
			tc := config.TenantConfig{Okta: &config.OktaConfig{OrgURL: okta.URL, AppID: oktatest.DefaultAppID, APIToken: oktatest.DefaultToken,
				AllowInsecureHTTP: true}, Reconcile: config.ReconcileConfig{Mode: "report", MaxChanges: 50, MaxChangePercent: 10, Approval: "guarded"}}
			cfg := &config.Config{Tenants: map[string]config.TenantConfig{"acme": tc}}
			if _, err := st.EnsureTenant(ctx, "acme", time.Now()); err != nil {
				t.Fatal(err)
			}
			rc, err := admin.StartReconciler(cfg, st, prometheus.NewRegistry(), zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = rc.Stop(context.Background()) })
			big, all := 1000, 100
			opts, err := admin.ReconcileOptions("acme", tc, admin.ReconcileRequest{Mode: "correct", MaxChanges: &big, MaxChangePercent: &all})
			if err != nil {
				t.Fatal(err)
			}
			if rep, err := rc.Runner().Run(ctx, opts); err != nil || len(rep.Applied) != 20 {
				t.Fatalf("first sync: %v", err)
			}
			for _, id := range oids[:3] {
				okta.UnassignUser(oktatest.DefaultAppID, id)
			}
			opts, _ = admin.ReconcileOptions("acme", tc, admin.ReconcileRequest{Mode: "correct"})
			rep, err := rc.Runner().Run(ctx, opts)
			if err != nil || rep.PlanID == "" {
				t.Fatalf("guard trip: planId %q, %v", rep.PlanID, err)
			}

			api := admin.New(admin.Options{Store: st, Token: adminToken, Logger: zerolog.Nop()})
			api.ReconcileRoutes(ctx, rc, cfg)
			srv := httptest.NewServer(api)
			defer srv.Close()
			c := client{t, srv.URL}
			code, m := c.do("GET", "/admin/v1/tenants/acme/reconcile/plans?status=pending", adminToken, "")
			plans, _ := m["plans"].([]any)
			if code != 200 || len(plans) != 1 {
				t.Fatalf("GET plans: %d %v", code, m)
			}
			p0 := plans[0].(map[string]any)
			for _, k := range []string{"id", "status", "runId", "createdAt", "expiresAt", "items", "pending"} {
				if _, ok := p0[k]; !ok {
					t.Errorf("plan summary lacks %s: %v", k, p0)
				}
			}
			if p0["id"] != rep.PlanID || p0["pending"] != float64(3) || p0["items"] != float64(3) {
				t.Fatalf("summary %v", p0)
			}
			if code, m := c.do("GET", "/admin/v1/tenants/acme/reconcile/plans?status=maybe", adminToken, ""); code != 400 || errCode(m) != admin.CodeInvalid {
				t.Errorf("bad status: %d %v", code, m)
			}
			if code, m := c.do("GET", "/admin/v1/tenants/acme/reconcile/plans/nope", adminToken, ""); code != 404 || errCode(m) != admin.CodeNotFound {
				t.Errorf("unknown plan: %d %v", code, m)
			}
			code, m = c.do("GET", "/admin/v1/tenants/acme/reconcile/plans/"+rep.PlanID, adminToken, "")
			items, _ := m["items"].([]any)
			if code != 200 || m["status"] != "pending" || len(items) != 3 {
				t.Fatalf("GET plan: %d %v", code, m)
			}
			first := items[0].(map[string]any)
			for _, k := range []string{"id", "action", "kind", "userName", "oktaId", "axonflowId", "reason", "status"} {
				if _, ok := first[k]; !ok {
					t.Errorf("item lacks %s: %v", k, first)
				}
			}
			path := "/admin/v1/tenants/acme/reconcile/plans/" + rep.PlanID
			// A tenant that is not configured is 404 on every plan and explain
			// route (was 400), and a body over 64 KiB is 413 (was 400).
			for _, u := range []string{"/admin/v1/tenants/nope/reconcile/plans/" + rep.PlanID + "/approve",
				"/admin/v1/tenants/nope/reconcile/plans/" + rep.PlanID + "/reject"} {
				if code, m := c.do("POST", u, adminToken, `{"items": ["1"]}`); code != 404 || errCode(m) != admin.CodeNotFound {
					t.Errorf("POST %s: %d %v", u, code, m)
				}
			}
			if code, m := c.do("GET", "/admin/v1/tenants/nope/reconcile/explain?user=x", adminToken, ""); code != 404 || errCode(m) != admin.CodeNotFound {
				t.Errorf("explain for an unknown tenant: %d %v", code, m)
			}
			huge := `{"items": ["` + strings.Repeat("1", 70<<10) + `"]}`
			if code, m := c.do("POST", path+"/approve", adminToken, huge); code != 413 {
				t.Errorf("70 KiB body: %d %v", code, m)
			}
			if code, m := c.do("POST", path+"/approve", adminToken, `{"items": ["7"]}`); code != 400 || errCode(m) != admin.CodeInvalid {
				t.Errorf("approve unknown item: %d %v", code, m)
			}
			code, m = c.do("POST", path+"/approve", adminToken, fmt.Sprintf(`{"items": [%q]}`, first["id"]))
			if code != 200 {
				t.Fatalf("approve: %d %v", code, m)
			}
			var res admin.DecisionResult
			b, _ := json.Marshal(m)
			if err := json.Unmarshal(b, &res); err != nil {
				t.Fatal(err)
			}
			if len(res.Report.Applied) != 1 || res.Plan.Item(fmt.Sprint(first["id"])).Status != sync.ItemApplied ||
				res.Plan.Item(fmt.Sprint(first["id"])).DecidedBy != "admin-api" {
				t.Fatalf("approve result %+v", res)
			}
			u, err := st.GetUser(ctx, "acme", fmt.Sprint(first["axonflowId"]))
			if err != nil || u.Attrs["active"] != false {
				t.Fatalf("approved deactivation not applied: %v %v", u, err)
			}
			code, m = c.do("POST", path+"/reject", adminToken, "")
			if code != 200 || fmt.Sprint(m["decided"]) != "[2 3]" {
				t.Fatalf("reject: %d %v", code, m)
			}
			if code, m := c.do("POST", path+"/reject", adminToken, ""); code != 409 || errCode(m) != admin.CodeConflict {
				t.Errorf("reject again: %d %v", code, m)
			}
			code, m = c.do("GET", "/admin/v1/tenants/acme/reconcile/explain?user=u05@example.com", adminToken, "")
			if steps, _ := m["steps"].([]any); code != 200 || m["kind"] != "user" || len(steps) < 5 || m["shouldHaveAccess"] != true {
				t.Errorf("explain: %d %v", code, m)
			}
			if code, m := c.do("GET", "/admin/v1/tenants/acme/reconcile/explain?user=a&group=b", adminToken, ""); code != 400 || errCode(m) != admin.CodeInvalid {
				t.Errorf("explain both: %d %v", code, m)
			}
			entries, err := st.QueryLog(ctx, "acme", store.LogQuery{Actor: store.ActorOperator, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			ops := map[string]int{}
			for _, e := range entries {
				if e.ActorID == "admin-api" && strings.Contains(e.Detail, rep.PlanID) {
					ops[e.Operation]++
				}
			}
			if ops["approve_correction"] != 1 || ops["reject_correction"] != 2 {
				t.Fatalf("provisioning log operations %v (%+v)", ops, entries)
			}
		})
	}
}
