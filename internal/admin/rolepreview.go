package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// RoleChange is one user whose effective role names a mapping change would
// change: the roles gained and lost (names, highest first).
type RoleChange struct {
	UserID   string   `json:"userId"`
	UserName string   `json:"userName"`
	Gains    []string `json:"gains,omitempty"`
	Loses    []string `json:"loses,omitempty"`
}

// RolePreview is what mapping (or, with Remove, unmapping) a group would
// do, computed without changing anything: the group's members (0 for a
// by-name mapping of a group not pushed yet) and the users whose effective
// role names would change.
type RolePreview struct {
	Mapping mapping.RoleMapping `json:"mapping"`
	Remove  bool                `json:"remove,omitempty"`
	// Replaces is the role the group is mapped to now ("" if none).
	Replaces string       `json:"replaces,omitempty"`
	Members  int          `json:"members"`
	Changes  []RoleChange `json:"changes"`
}

// PreviewRoleMapping returns what MapRole (remove false) or UnmapRole
// (remove true; m.Role is ignored) of m would change for the members of
// the group, under the tenant's current mappings, assignments and default
// role, without writing anything. Changes are ordered by userName. The
// console shows it before an approver saves a mapping. Errors: *APIError
// invalid_request (tenant id, group, role), not_found (a by-id mapping
// naming no group; unmapping a group that has no mapping); the store's.
func PreviewRoleMapping(ctx context.Context, st store.State, tenant string, m mapping.RoleMapping, remove bool) (RolePreview, error) {
	if err := CheckTenantID(tenant); err != nil {
		return RolePreview{}, err
	}
	m.Group = strings.TrimSpace(m.Group)
	if m.Source == "" {
		m.Source = mapping.SourceAPI
	}
	if remove {
		if m.Group == "" {
			return RolePreview{}, Invalid("group must not be empty")
		}
	} else if err := m.Validate(); err != nil {
		return RolePreview{}, Invalid(err.Error())
	}
	if !m.ByName {
		if _, err := st.GetGroup(ctx, tenant, m.Group); errors.Is(err, store.ErrNotFound) {
			return RolePreview{}, notFound(fmt.Sprintf("tenant %s has no group with id %s", tenant, quote(m.Group)))
		} else if err != nil {
			return RolePreview{}, err
		}
	}
	before, err := st.ListRoleMappings(ctx, tenant)
	if err != nil {
		return RolePreview{}, err
	}
	p := RolePreview{Mapping: m, Remove: remove, Changes: []RoleChange{}}
	if r, ok := mappingRole(before, m.Key()).(string); ok {
		p.Replaces = r
	}
	after := withMapping(before, m)
	if remove {
		if p.Replaces == "" {
			return RolePreview{}, notFound(fmt.Sprintf("tenant %s has no mapping of group %s", tenant, quote(m.Group)))
		}
		after = withoutMapping(before, m.Key())
	}
	def, err := ResolveDefaultRole(ctx, st, tenant)
	if err != nil {
		return RolePreview{}, err
	}
	uids, err := groupMembers(ctx, st, tenant, m.Group, m.ByName)
	if err != nil {
		return RolePreview{}, err
	}
	p.Members = len(uids)
	in, err := loadRoleInputs(ctx, st, tenant, uids)
	if err != nil {
		return RolePreview{}, err
	}
	var changed []string
	byID := map[string]RoleChange{}
	for _, uid := range uids {
		a := mapping.RoleNames(in.effective(uid, before, def))
		b := mapping.RoleNames(in.effective(uid, after, def))
		c := RoleChange{UserID: uid, Gains: minus(b, a), Loses: minus(a, b)}
		if len(c.Gains)+len(c.Loses) > 0 {
			byID[uid] = c
			changed = append(changed, uid)
		}
	}
	for ch := range slices.Chunk(changed, batch) {
		us, err := st.GetUsers(ctx, tenant, ch)
		if err != nil {
			return RolePreview{}, err
		}
		for _, u := range us {
			c := byID[u.ID]
			c.UserName = u.UserName()
			byID[u.ID] = c
		}
	}
	for _, uid := range changed {
		p.Changes = append(p.Changes, byID[uid])
	}
	slices.SortFunc(p.Changes, func(x, y RoleChange) int { return strings.Compare(x.UserName, y.UserName) })
	return p, nil
}

// minus returns the names in a that are not in b, in a's order.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
