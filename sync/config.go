package sync

import (
	"fmt"
	"slices"

	"github.com/axonflow/axonflow-sync/config"
	"github.com/axonflow/axonflow-sync/sync/oktasource"
)

// OptionsFromConfig returns the RunOptions of tenant from its validated
// configuration block (tenants.<id>): okta.{orgURL, appID, apiToken |
// oauth{clientID, privateKeyFile, keyID, scopes}, allowInsecureHTTP,
// pushGroups} and reconcile.{mode, maxChanges, maxChangePercent, approval,
// planTTL, deactivationGrace}. Trigger
// is left empty for the caller. It fails when the tenant has no okta block.
func OptionsFromConfig(tenant string, tc config.TenantConfig) (RunOptions, error) {
	if tc.Okta == nil {
		return RunOptions{}, fmt.Errorf("tenant %s has no Okta connection to reconcile against (configure tenants.%s.okta)", tenant, tenant)
	}
	mode, err := ParseMode(tc.Reconcile.Mode)
	if err != nil {
		return RunOptions{}, fmt.Errorf("tenants.%s.reconcile.mode: %w", tenant, err)
	}
	o := tc.Okta
	cfg := oktasource.Config{OrgURL: o.OrgURL, AppID: o.AppID, APIToken: o.APIToken,
		AllowInsecureHTTP: o.AllowInsecureHTTP, ExpandAppUsers: true}
	if o.OAuth != nil {
		cfg.OAuth = oktasource.OAuthConfig{ClientID: o.OAuth.ClientID, PrivateKeyFile: o.OAuth.PrivateKeyFile,
			KeyID: o.OAuth.KeyID, Scopes: slices.Clone(o.OAuth.Scopes)}
	}
	approval, err := ParseApproval(tc.Reconcile.Approval)
	if err != nil {
		return RunOptions{}, fmt.Errorf("tenants.%s.reconcile.approval: %w", tenant, err)
	}
	return RunOptions{Tenant: tenant, Mode: mode, Okta: cfg, PushGroups: slices.Clone(o.PushGroups),
		Limits:   Limits{MaxChanges: tc.Reconcile.MaxChanges, MaxChangePercent: tc.Reconcile.MaxChangePercent},
		Approval: approval, PlanTTL: tc.Reconcile.PlanTTL, DeactivationGrace: tc.Reconcile.DeactivationGrace}, nil
}
