package admin_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/config"
	"github.com/axonflow/axonflow-sync/internal/admin"
)

// TestReconcileRoutesErrors: the reconcile routes' answers that need no
// Okta org (runs themselves: cmd/axonflow-sync TestServeReconcile).
func TestReconcileRoutesErrors(t *testing.T) {
	st := backends(t)["sqlite"](t)
	cfg := &config.Config{Tenants: map[string]config.TenantConfig{
		"acme":  {Okta: &config.OktaConfig{OrgURL: "https://acme.okta.com", AppID: "app1", APIToken: "t"}},
		"local": {},
	}}
	rc, err := admin.StartReconciler(cfg, st, prometheus.NewRegistry(), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rc.Stop(context.Background()) })
	api := admin.New(admin.Options{Store: st, Token: adminToken, Logger: zerolog.Nop()})
	api.ReconcileRoutes(context.Background(), rc, cfg)
	srv := httptest.NewServer(api)
	defer srv.Close()
	c := client{t, srv.URL}
	for _, tc := range []struct {
		method, path, body string
		status             int
		code, message      string
	}{
		{"POST", "/admin/v1/tenants/Bad!/reconcile", "", 400, admin.CodeInvalid, `tenant id "Bad!" must match ^[a-z0-9][a-z0-9_-]{0,62}$`},
		{"POST", "/admin/v1/tenants/local/reconcile", "", 404, admin.CodeNotFound, "tenant local has no Okta connection configured (tenants.local.okta)"},
		{"POST", "/admin/v1/tenants/nope/reconcile", "", 404, admin.CodeNotFound, "tenant nope has no Okta connection configured (tenants.nope.okta)"},
		{"POST", "/admin/v1/tenants/acme/reconcile", `{"mode":"fix"}`, 400, admin.CodeInvalid, `mode must be report or correct, got "fix"`},
		{"POST", "/admin/v1/tenants/acme/reconcile", `{"maxChanges":-1}`, 400, admin.CodeInvalid, "maxChanges must be >= 0"},
		{"POST", "/admin/v1/tenants/acme/reconcile", `{"maxChangePercent":101}`, 400, admin.CodeInvalid, "maxChangePercent must be between 0 and 100"},
		{"POST", "/admin/v1/tenants/acme/reconcile", `{"dryRun":true}`, 400, admin.CodeInvalid, `request body: json: unknown field "dryRun"`},
		{"GET", "/admin/v1/tenants/acme/reconcile/runs?limit=0", "", 400, admin.CodeInvalid, "limit must be between 1 and 100"},
		{"GET", "/admin/v1/tenants/acme/reconcile/runs/r1", "", 404, admin.CodeNotFound,
			"tenant acme has no stored run r1 (reports are stored when a run finishes; the newest 50 are kept)"},
	} {
		code, m := c.do(tc.method, tc.path, adminToken, tc.body)
		e, _ := m["error"].(map[string]any)
		if code != tc.status || errCode(m) != tc.code || fmt.Sprint(e["message"]) != tc.message {
			t.Errorf("%s %s %s: %d %v; want %d %s %q", tc.method, tc.path, tc.body, code, m, tc.status, tc.code, tc.message)
		}
	}
	if code, m := c.do("GET", "/admin/v1/tenants/acme/reconcile/runs", adminToken, ""); code != 200 || fmt.Sprint(m["runs"]) != "[]" {
		t.Errorf("GET runs of a tenant without runs: %d %v", code, m)
	}
}
