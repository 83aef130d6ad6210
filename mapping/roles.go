package mapping

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The system roles of every AxonFlow tenant, highest first.
const (
	RoleOwner       = "owner"
	RoleAdmin       = "admin"
	RolePolicyAdmin = "policy_admin"
	RoleDeveloper   = "developer"
	RoleViewer      = "viewer"
)

// RoleNone is how operators say "no default role" (YAML roles.default,
// the CLI and the admin API); it is not a role and is never assigned.
const RoleNone = "none"

// FallbackDefaultRole is the default role of a tenant that never set one
// (see TenantDefaultRole).
const FallbackDefaultRole = RoleViewer

// systemRoles lists the system roles, highest first; its order is the
// order of EffectiveRoles.
var systemRoles = []string{RoleOwner, RoleAdmin, RolePolicyAdmin, RoleDeveloper, RoleViewer}

// SystemRoles returns the names of the system roles, highest first (a new
// slice on every call).
func SystemRoles() []string { return slices.Clone(systemRoles) }

// ValidRole reports whether role is one of the system roles (exact, lower
// case). RoleNone is not a role.
func ValidRole(role string) bool { return slices.Contains(systemRoles, role) }

// CheckRole returns nil if role is a system role, else an error naming the
// valid roles.
func CheckRole(role string) error {
	if ValidRole(role) {
		return nil
	}
	return fmt.Errorf("unknown role %q: must be one of %s", role, strings.Join(systemRoles, ", "))
}

// roleRank orders roles for display: system roles highest first, unknown
// ones (never written by this code, but possibly stored by a newer
// version) after them.
func roleRank(role string) int {
	if i := slices.Index(systemRoles, role); i >= 0 {
		return i
	}
	return len(systemRoles)
}

// Sources of a role assignment (RoleAssignment.Source) and of a role
// mapping (RoleMapping.Source).
const (
	// SourceSCIM: derived from the membership of a mapped group. Only
	// group sync (SCIM push, the reconciler) changes these, and only by
	// changing memberships; they are never stored.
	SourceSCIM = "scim"
	// SourceManual: assigned by an operator with the CLI.
	SourceManual = "manual"
	// SourceAPI: assigned (or, for a RoleMapping, mapped) through the admin
	// API.
	SourceAPI = "api"
	// SourceDefault: the tenant's default role, given to a user who has no
	// other role. Never stored per user.
	SourceDefault = "default"
	// SourceConfig: a RoleMapping from the YAML configuration
	// (tenants.<id>.roles.mappings), applied when serve starts.
	SourceConfig = "config"
)

// sourceRank orders assignment sources for display.
func sourceRank(s string) int {
	switch s {
	case SourceSCIM:
		return 0
	case SourceManual:
		return 1
	case SourceAPI:
		return 2
	case SourceDefault:
		return 3
	}
	return 4
}

// ValidAssignmentSource reports whether source may be stored as a user's
// role assignment: SourceManual or SourceAPI (scim and default roles are
// derived, never stored).
func ValidAssignmentSource(source string) bool {
	return source == SourceManual || source == SourceAPI
}

// MaxRoleGroupLength bounds RoleMapping.Group, in characters (the SCIM
// limit for strings).
const MaxRoleGroupLength = 2048

// RoleMapping gives every member of one group one role, in one tenant.
// A tenant has at most one mapping per key (ByName, group): see
// RoleMappingKey.
type RoleMapping struct {
	// Group is the AxonFlow (SCIM) group id, or with ByName the group's
	// displayName (matched case-insensitively, so a mapping may name a
	// group Okta has not pushed yet, and survives its re-creation).
	Group string `json:"group"`
	// ByName says that Group is a displayName rather than an id.
	ByName bool `json:"byName"`
	// Role is a system role (ValidRole).
	Role string `json:"role"`
	// Source is who set the mapping: SourceAPI (admin API or CLI) or
	// SourceConfig (YAML).
	Source string `json:"source"`
}

// Key returns RoleMappingKey(m.Group, m.ByName).
func (m RoleMapping) Key() string { return RoleMappingKey(m.Group, m.ByName) }

// RoleMappingKey returns the identity of a mapping inside its tenant:
// "id:" + group for an id, "name:" + FoldKey(group) for a displayName.
// Two mappings with the same key are the same mapping (a put replaces).
func RoleMappingKey(group string, byName bool) string {
	if byName {
		return "name:" + FoldKey(group)
	}
	return "id:" + group
}

// ParseRoleMappingKey is the inverse of RoleMappingKey: the group (folded
// for names) and whether it is a name. ok is false for a malformed key.
func ParseRoleMappingKey(key string) (group string, byName, ok bool) {
	if g, found := strings.CutPrefix(key, "name:"); found {
		return g, true, true
	}
	if g, found := strings.CutPrefix(key, "id:"); found {
		return g, false, true
	}
	return "", false, false
}

// Validate checks a mapping before it is stored: Group not blank and at
// most MaxRoleGroupLength characters, Role a system role, Source
// SourceAPI or SourceConfig. It returns the first problem.
func (m RoleMapping) Validate() error {
	switch {
	case strings.TrimSpace(m.Group) == "":
		return errors.New("group must not be empty")
	case len([]rune(m.Group)) > MaxRoleGroupLength:
		return fmt.Errorf("group is longer than %d characters", MaxRoleGroupLength)
	case badIdentifier(m.Group):
		return errors.New("group must not contain control or bidirectional formatting characters")
	case m.Source != SourceAPI && m.Source != SourceConfig:
		return fmt.Errorf("mapping source %q must be %s or %s", m.Source, SourceAPI, SourceConfig)
	}
	return CheckRole(m.Role)
}

// SortRoleMappings orders mappings deterministically: by-id mappings
// first, then by folded group, then by group as written.
func SortRoleMappings(ms []RoleMapping) {
	slices.SortFunc(ms, func(a, b RoleMapping) int {
		if a.ByName != b.ByName {
			if a.ByName {
				return 1
			}
			return -1
		}
		return cmp.Or(strings.Compare(FoldKey(a.Group), FoldKey(b.Group)), strings.Compare(a.Group, b.Group))
	})
}

// RoleAssignment is one role a user holds and why.
type RoleAssignment struct {
	// Role is the role name.
	Role string `json:"role"`
	// Source is SourceSCIM, SourceManual, SourceAPI or SourceDefault.
	Source string `json:"source"`
	// Group is, for SourceSCIM, the id of the mapped group the role comes
	// from; "" otherwise.
	Group string `json:"group,omitempty"`
}

// SortRoleAssignments orders assignments deterministically: by role
// (highest first), then source (scim, manual, api, default), then group.
func SortRoleAssignments(as []RoleAssignment) {
	slices.SortFunc(as, func(a, b RoleAssignment) int {
		return cmp.Or(
			cmp.Compare(roleRank(a.Role), roleRank(b.Role)), strings.Compare(a.Role, b.Role),
			cmp.Compare(sourceRank(a.Source), sourceRank(b.Source)), strings.Compare(a.Source, b.Source),
			strings.Compare(a.Group, b.Group))
	})
}

// EffectiveRoles computes a user's roles with their sources. groups are
// the user's groups (ID, and Display = the group's displayName);
// mappings the tenant's role mappings; assigned the user's stored manual
// and api assignments (store.State.UserRoles); defaultRole the tenant's
// default role ("" or RoleNone: none; see TenantDefaultRole).
//
// The result is the union of
//   - one SourceSCIM assignment per (mapped group, role): a mapping applies
//     to a group when it names the group's id exactly, or, with ByName,
//     its displayName in any letter case;
//   - every assignment in assigned (whatever its source);
//   - and, only when the two above are empty, {defaultRole, SourceDefault}.
//
// Duplicates are dropped; the order is SortRoleAssignments'. It never
// returns nil. It is pure and cheap: O(len(groups) + len(mappings) +
// len(assigned)) map work plus the sort.
func EffectiveRoles(groups []Ref, mappings []RoleMapping, assigned []RoleAssignment, defaultRole string) []RoleAssignment {
	out := AppendEffectiveRoles(nil, groups, mappings, assigned, defaultRole)
	if out == nil {
		return []RoleAssignment{}
	}
	return out
}

// AppendEffectiveRoles appends EffectiveRoles(groups, mappings, assigned,
// defaultRole) to dst and returns the extended slice (dst itself, nil
// included, when there is none), for a caller with room for the result:
// the usual one default-role assignment then costs no allocation.
func AppendEffectiveRoles(dst []RoleAssignment, groups []Ref, mappings []RoleMapping, assigned []RoleAssignment, defaultRole string) []RoleAssignment {
	if len(assigned) == 0 && (len(groups) == 0 || len(mappings) == 0) {
		// Most users: no mapped group, no assignment; only the default
		// role, if any (the general path's result, without its maps).
		if defaultRole != "" && defaultRole != RoleNone {
			return append(dst, RoleAssignment{Role: defaultRole, Source: SourceDefault})
		}
		return dst
	}
	n := len(dst)
	out := dst
	seen := map[RoleAssignment]bool{}
	add := func(a RoleAssignment) {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	if len(groups) > 0 && len(mappings) > 0 {
		byID := map[string][]string{}
		byName := map[string][]string{}
		for _, m := range mappings {
			if m.ByName {
				k := FoldKey(m.Group)
				byName[k] = append(byName[k], m.Role)
			} else {
				byID[m.Group] = append(byID[m.Group], m.Role)
			}
		}
		for _, g := range groups {
			for _, r := range byID[g.ID] {
				add(RoleAssignment{Role: r, Source: SourceSCIM, Group: g.ID})
			}
			if g.Display != "" {
				for _, r := range byName[FoldKey(g.Display)] {
					add(RoleAssignment{Role: r, Source: SourceSCIM, Group: g.ID})
				}
			}
		}
	}
	for _, a := range assigned {
		add(a)
	}
	if len(out) == n && defaultRole != "" && defaultRole != RoleNone {
		add(RoleAssignment{Role: defaultRole, Source: SourceDefault})
	}
	SortRoleAssignments(out[n:])
	return out
}

// RoleNames returns the distinct role names of assignments, highest first:
// the user's effective roles without their sources (what the SCIM User's
// readOnly roles attribute shows). It never returns nil.
func RoleNames(assignments []RoleAssignment) []string {
	names := make([]string, 0, len(assignments))
	for _, a := range assignments {
		if !slices.Contains(names, a.Role) {
			names = append(names, a.Role)
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(cmp.Compare(roleRank(a), roleRank(b)), strings.Compare(a, b))
	})
	return names
}

// TenantDefaultRole turns what store.State.DefaultRole returned into the
// default role to pass to EffectiveRoles: FallbackDefaultRole (viewer)
// when the tenant never set one (set false), "" (none) when it was set to
// "" or RoleNone, else the stored role.
func TenantDefaultRole(stored string, set bool) string {
	switch {
	case !set:
		return FallbackDefaultRole
	case stored == RoleNone:
		return ""
	}
	return stored
}
