package admin

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/config"
	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// ApplyConfigRoles writes the roles block of every tenant of the YAML
// configuration (tenants.<id>.roles) to the store; serve calls it once at
// startup, right after opening the store. For each tenant (created if new,
// at now):
//
//   - every roles.mappings entry is upserted as a by-displayName mapping
//     with source "config" (MapRole); one that replaces a mapping set
//     through the API or CLI with the same group is logged as a warning;
//   - a stored "config" mapping that the YAML no longer lists is removed
//     (mappings set through the API or CLI are kept);
//   - roles.default (viewer when absent, "none" for no role) is stored;
//     replacing a different value set through the API or CLI is logged as
//     a warning.
//
// Tenants not in the configuration are not touched. Unchanged mappings and
// defaults are not rewritten. The first error stops it (the caller should
// not serve with half-applied roles): an *APIError for an invalid role or
// group (config.Load has already rejected those), or a store error.
func ApplyConfigRoles(ctx context.Context, st store.State, tenants map[string]config.TenantConfig, log zerolog.Logger, now time.Time) error {
	if OperatorOf(ctx) == "unknown" {
		ctx = WithOperator(ctx, "config") // the provisioning log's actor id
	}
	ids := make([]string, 0, len(tenants))
	for id := range tenants {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if err := applyTenantRoles(ctx, st, id, tenants[id].Roles, log.With().Str("tenant", id).Logger(), now); err != nil {
			return fmt.Errorf("applying tenants.%s.roles: %w", id, err)
		}
	}
	return nil
}

func applyTenantRoles(ctx context.Context, st store.State, tenant string, rc config.RolesConfig, log zerolog.Logger, now time.Time) error {
	if err := CheckTenantID(tenant); err != nil {
		return err
	}
	if _, err := st.EnsureTenant(ctx, tenant, now.UTC()); err != nil {
		return err
	}
	stored, err := st.ListRoleMappings(ctx, tenant)
	if err != nil {
		return err
	}
	byKey := make(map[string]mapping.RoleMapping, len(stored))
	for _, m := range stored {
		byKey[m.Key()] = m
	}
	want := map[string]bool{}
	for _, c := range rc.Mappings {
		m := mapping.RoleMapping{Group: c.Group, ByName: true, Role: c.Role, Source: mapping.SourceConfig}
		want[m.Key()] = true
		old, exists := byKey[m.Key()]
		if exists && old == m {
			continue
		}
		res, err := MapRole(ctx, st, tenant, m, now)
		if err != nil {
			return err
		}
		ev := log.Info()
		if exists && old.Source != mapping.SourceConfig {
			ev = log.Warn().Str("replaced_source", old.Source).Str("replaced_role", old.Role)
		}
		ev.Str("group", m.Group).Str("role", m.Role).Int("users_updated", res.UsersUpdated).
			Msg("role mapping applied from the configuration")
	}
	for _, m := range stored {
		if m.Source != mapping.SourceConfig || want[m.Key()] {
			continue
		}
		res, err := UnmapRole(ctx, st, tenant, m.Group, m.ByName)
		if err != nil {
			return err
		}
		log.Info().Str("group", m.Group).Str("role", m.Role).Int("users_updated", res.UsersUpdated).
			Msg("role mapping removed: no longer in the configuration")
	}

	role, set, err := st.DefaultRole(ctx, tenant)
	if err != nil {
		return err
	}
	wantDefault := rc.Default
	if wantDefault == "" {
		wantDefault = mapping.FallbackDefaultRole
	}
	if set && showDefault(role) == wantDefault {
		return nil
	}
	if _, err := SetDefaultRole(ctx, st, tenant, wantDefault, now); err != nil {
		return err
	}
	if set {
		log.Warn().Str("replaced", showDefault(role)).Str("role", wantDefault).
			Msg("default role set from the configuration (roles.default), replacing the one set through the API or CLI")
	}
	return nil
}
