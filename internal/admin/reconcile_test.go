package admin

import (
	"errors"
	"testing"

	"github.com/axonflow/axonflow-sync/config"
	"github.com/axonflow/axonflow-sync/sync"
)

// TestReconcileOptions: the options the CLI and the API build from a
// tenant's configuration and one request, and the invalid_request errors.
func TestReconcileOptions(t *testing.T) {
	tc := config.TenantConfig{Okta: &config.OktaConfig{OrgURL: "https://acme.okta.com", AppID: "app1", APIToken: "t"}}
	tc.Reconcile.MaxChanges, tc.Reconcile.MaxChangePercent = 50, 10
	n, p := 7, 100
	o, err := ReconcileOptions("acme", tc, ReconcileRequest{Mode: "correct", Trigger: sync.TriggerCLI, MaxChanges: &n, MaxChangePercent: &p})
	if err != nil {
		t.Fatal(err)
	}
	if o.Tenant != "acme" || o.Mode != sync.ModeCorrect || o.Trigger != sync.TriggerCLI || o.Limits.MaxChanges != 7 || o.Limits.MaxChangePercent != 100 {
		t.Errorf("options %+v", o)
	}
	o, err = ReconcileOptions("acme", tc, ReconcileRequest{Trigger: sync.TriggerAPI})
	if err != nil || o.Mode != sync.ModeReport || o.Limits.MaxChanges != 50 || o.Limits.MaxChangePercent != 10 {
		t.Errorf("defaults: %+v, %v", o, err)
	}
	neg, over := -1, 101
	for name, c := range map[string]struct {
		tc  config.TenantConfig
		req ReconcileRequest
		msg string
	}{
		"mode":          {tc, ReconcileRequest{Mode: "fix"}, `mode must be report or correct, got "fix"`},
		"maxChanges":    {tc, ReconcileRequest{MaxChanges: &neg}, "maxChanges must be >= 0"},
		"percent < 0":   {tc, ReconcileRequest{MaxChangePercent: &neg}, "maxChangePercent must be between 0 and 100"},
		"percent > 100": {tc, ReconcileRequest{MaxChangePercent: &over}, "maxChangePercent must be between 0 and 100"},
	} {
		_, err := ReconcileOptions("acme", c.tc, c.req)
		var ae *APIError
		if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != CodeInvalid || ae.Message != c.msg {
			t.Errorf("%s: %v; want invalid_request %q", name, err, c.msg)
		}
	}
	// A tenant without an okta block has nothing to reconcile against: 404,
	// so that plan, explain and reconcile routes agree on an unknown tenant.
	_, err = ReconcileOptions("acme", config.TenantConfig{}, ReconcileRequest{})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 404 || ae.Code != CodeNotFound ||
		ae.Message != "tenant acme has no Okta connection configured (tenants.acme.okta)" {
		t.Errorf("no okta: %v; want 404 notFound", err)
	}
}
