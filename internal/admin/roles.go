package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// The role model (see store.Roles): a user's effective roles are derived at
// read time from the user's groups, the tenant's role mappings, the user's
// stored manual/api assignments and the tenant's default role
// (mapping.EffectiveRoles). The functions below are shared by the CLI
// (`axonflow-sync roles ...`) and the admin API routes registered by New.

// batch bounds the ids sent to the store in one call when many users are
// read (a mapping of a large group).
const batch = 500

// MapRoleResult is the outcome of MapRole.
type MapRoleResult struct {
	// Mapping is the mapping as stored.
	Mapping mapping.RoleMapping `json:"mapping"`
	// UsersUpdated counts the users whose effective roles (role names,
	// not sources) changed.
	UsersUpdated int `json:"usersUpdated"`
}

// UnmapRoleResult is the outcome of UnmapRole.
type UnmapRoleResult struct {
	// UsersUpdated counts the users whose effective roles changed.
	UsersUpdated int `json:"usersUpdated"`
}

// RoleView is one effective role of a user as the API and CLI show it:
// the assignment plus, for a scim role, the group's displayName.
type RoleView struct {
	mapping.RoleAssignment
	// GroupName is the displayName of the group a scim role comes from.
	GroupName string `json:"groupName,omitempty"`
}

// UserRolesView is a user's effective roles with their sources.
type UserRolesView struct {
	UserID   string     `json:"userId"`
	UserName string     `json:"userName"`
	Roles    []RoleView `json:"roles"`
}

func notFound(msg string) *APIError { return &APIError{Status: 404, Code: CodeNotFound, Message: msg} }

// checkRole returns an invalid_request error unless role is a system role.
func checkRole(role string) error {
	if err := mapping.CheckRole(role); err != nil {
		return Invalid(err.Error())
	}
	return nil
}

// ResolveDefaultRole returns the default role that applies in tenant: the
// stored one, viewer if none was ever set (mapping.TenantDefaultRole), ""
// when it is set to none. Errors are the store's.
func ResolveDefaultRole(ctx context.Context, st store.State, tenant string) (string, error) {
	role, set, err := st.DefaultRole(ctx, tenant)
	if err != nil {
		return "", err
	}
	return mapping.TenantDefaultRole(role, set), nil
}

// roleInputs is a snapshot of what effective roles are computed from, for
// a set of users: their groups (with displayNames) and stored assignments.
type roleInputs struct {
	groups   map[string][]mapping.Ref
	assigned map[string][]mapping.RoleAssignment
}

// loadRoleInputs reads the groups and stored assignments of uids, batch
// ids per store call.
func loadRoleInputs(ctx context.Context, st store.State, tenant string, uids []string) (roleInputs, error) {
	in := roleInputs{groups: map[string][]mapping.Ref{}, assigned: map[string][]mapping.RoleAssignment{}}
	gids := map[string][]string{}
	var all []string
	for ch := range slices.Chunk(uids, batch) {
		ug, err := st.UserGroups(ctx, tenant, ch)
		if err != nil {
			return in, err
		}
		for uid, gs := range ug {
			gids[uid] = gs
			all = append(all, gs...)
		}
		ur, err := st.UserRoles(ctx, tenant, ch)
		if err != nil {
			return in, err
		}
		for uid, as := range ur {
			in.assigned[uid] = as
		}
	}
	slices.Sort(all)
	all = slices.Compact(all)
	names := make(map[string]string, len(all))
	for ch := range slices.Chunk(all, batch) {
		gs, err := st.GetGroups(ctx, tenant, ch)
		if err != nil {
			return in, err
		}
		for _, g := range gs {
			names[g.ID] = g.DisplayName()
		}
	}
	for uid, gs := range gids {
		refs := make([]mapping.Ref, 0, len(gs))
		for _, g := range gs {
			if name, ok := names[g]; ok { // skip a group deleted in between
				refs = append(refs, mapping.Ref{ID: g, Display: name})
			}
		}
		in.groups[uid] = refs
	}
	return in, nil
}

// effective returns uid's effective roles under mappings.
func (in roleInputs) effective(uid string, mappings []mapping.RoleMapping, defaultRole string) []mapping.RoleAssignment {
	return mapping.EffectiveRoles(in.groups[uid], mappings, in.assigned[uid], defaultRole)
}

// changed counts the users among uids whose role names differ between the
// two mapping sets.
func (in roleInputs) changed(uids []string, before, after []mapping.RoleMapping, defaultRole string) int {
	n := 0
	for _, uid := range uids {
		a := mapping.RoleNames(in.effective(uid, before, defaultRole))
		b := mapping.RoleNames(in.effective(uid, after, defaultRole))
		if !slices.Equal(a, b) {
			n++
		}
	}
	return n
}

// groupMembers returns the members of the group a mapping names (by id, or
// by displayName through the displayName index); none if there is no such
// group (yet).
func groupMembers(ctx context.Context, st store.State, tenant, group string, byName bool) ([]string, error) {
	gid := group
	if byName {
		id, err := st.FindGroup(ctx, tenant, store.IndexDisplayName, group)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		gid = id
	}
	ms, err := st.GroupMembers(ctx, tenant, gid)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return ms, err
}

// withMapping returns ms with m put (replacing the mapping of the same key).
func withMapping(ms []mapping.RoleMapping, m mapping.RoleMapping) []mapping.RoleMapping {
	out := withoutMapping(ms, m.Key())
	return append(out, m)
}

// withoutMapping returns ms without the mapping whose key is key.
func withoutMapping(ms []mapping.RoleMapping, key string) []mapping.RoleMapping {
	out := make([]mapping.RoleMapping, 0, len(ms)+1)
	for _, x := range ms {
		if x.Key() != key {
			out = append(out, x)
		}
	}
	return out
}

// MapRole maps a group of tenant to a role: every current and future member
// of the group has the role (source scim) for as long as the mapping
// exists. m.Group is a group id, or with m.ByName a displayName (any letter
// case; the group need not exist yet). m.Source "" means mapping.SourceAPI.
// A mapping with the same key is replaced. The tenant is created if new
// (at now). It returns the stored mapping and how many users' effective
// roles changed (the members of the named group, compared before and
// after). Errors: *APIError invalid_request (bad tenant id, group, role or
// source), not_found (a by-id mapping naming no group of the tenant); the
// store's.
func MapRole(ctx context.Context, st store.State, tenant string, m mapping.RoleMapping, now time.Time) (MapRoleResult, error) {
	if err := CheckTenantID(tenant); err != nil {
		return MapRoleResult{}, err
	}
	m.Group = strings.TrimSpace(m.Group)
	if m.Source == "" {
		m.Source = mapping.SourceAPI
	}
	if err := m.Validate(); err != nil {
		return MapRoleResult{}, Invalid(err.Error())
	}
	var groupName string
	if !m.ByName {
		if g, err := st.GetGroup(ctx, tenant, m.Group); errors.Is(err, store.ErrNotFound) {
			return MapRoleResult{}, notFound(fmt.Sprintf("tenant %s has no group with id %s (to map a group by its displayName, set byName / --by-name)", tenant, quote(m.Group)))
		} else if err != nil {
			return MapRoleResult{}, err
		} else {
			groupName = g.DisplayName()
		}
	}
	if _, err := st.EnsureTenant(ctx, tenant, now.UTC()); err != nil {
		return MapRoleResult{}, err
	}
	before, err := st.ListRoleMappings(ctx, tenant)
	if err != nil {
		return MapRoleResult{}, err
	}
	def, err := ResolveDefaultRole(ctx, st, tenant)
	if err != nil {
		return MapRoleResult{}, err
	}
	uids, err := groupMembers(ctx, st, tenant, m.Group, m.ByName)
	if err != nil {
		return MapRoleResult{}, err
	}
	in, err := loadRoleInputs(ctx, st, tenant, uids)
	if err != nil {
		return MapRoleResult{}, err
	}
	if err := st.PutRoleMapping(ctx, tenant, m); err != nil {
		return MapRoleResult{}, err
	}
	res := MapRoleResult{Mapping: m, UsersUpdated: in.changed(uids, before, withMapping(before, m), def)}
	recordOperator(ctx, st, tenant, roleMappingEntry(m, groupName, "map_role", mappingRole(before, m.Key()), m.Role, res.UsersUpdated))
	return res, nil
}

// UnmapRole removes the tenant's mapping of group (an id, or with byName a
// displayName in any letter case). Members of the group lose the scim role
// it gave them (unless another mapping gives it); manual and api
// assignments are never touched. It returns how many users' effective
// roles changed. Errors: *APIError invalid_request (bad tenant id),
// not_found (no such mapping); the store's.
func UnmapRole(ctx context.Context, st store.State, tenant, group string, byName bool) (UnmapRoleResult, error) {
	if err := CheckTenantID(tenant); err != nil {
		return UnmapRoleResult{}, err
	}
	group = strings.TrimSpace(group)
	if group == "" {
		return UnmapRoleResult{}, Invalid("group must not be empty")
	}
	before, err := st.ListRoleMappings(ctx, tenant)
	if err != nil {
		return UnmapRoleResult{}, err
	}
	key := mapping.RoleMappingKey(group, byName)
	after := withoutMapping(before, key)
	kind := "id"
	if byName {
		kind = "displayName"
	}
	if len(after) == len(before) {
		return UnmapRoleResult{}, notFound(fmt.Sprintf("tenant %s has no role mapping for the group with %s %s", tenant, kind, quote(group)))
	}
	def, err := ResolveDefaultRole(ctx, st, tenant)
	if err != nil {
		return UnmapRoleResult{}, err
	}
	uids, err := groupMembers(ctx, st, tenant, group, byName)
	if err != nil {
		return UnmapRoleResult{}, err
	}
	in, err := loadRoleInputs(ctx, st, tenant, uids)
	if err != nil {
		return UnmapRoleResult{}, err
	}
	if err := st.DeleteRoleMapping(ctx, tenant, group, byName); err != nil {
		if errors.Is(err, store.ErrNotFound) { // deleted concurrently
			return UnmapRoleResult{}, notFound(fmt.Sprintf("tenant %s has no role mapping for the group with %s %s", tenant, kind, quote(group)))
		}
		return UnmapRoleResult{}, err
	}
	res := UnmapRoleResult{UsersUpdated: in.changed(uids, before, after, def)}
	recordOperator(ctx, st, tenant, roleMappingEntry(mapping.RoleMapping{Group: group, ByName: byName}, "", "unmap_role",
		mappingRole(before, key), "", res.UsersUpdated))
	return res, nil
}

// ListRoleMappings returns the tenant's role mappings (by-id first, then
// by name; empty for a tenant without any). Errors: invalid_request for a
// bad tenant id; the store's.
func ListRoleMappings(ctx context.Context, st store.State, tenant string) ([]mapping.RoleMapping, error) {
	if err := CheckTenantID(tenant); err != nil {
		return nil, err
	}
	ms, err := st.ListRoleMappings(ctx, tenant)
	if ms == nil && err == nil {
		ms = []mapping.RoleMapping{}
	}
	return ms, err
}

// UserEffectiveRoles returns the effective roles of the tenant's user
// userID with their sources (mapping.EffectiveRoles over the user's
// groups, the tenant's mappings and the user's stored assignments);
// defaultRole is the tenant's default role ("" for none; see
// ResolveDefaultRole). Errors: store.ErrNotFound if the user does not
// exist; the store's.
func UserEffectiveRoles(ctx context.Context, st store.State, tenant, userID, defaultRole string) ([]mapping.RoleAssignment, error) {
	u, err := st.GetUser(ctx, tenant, userID)
	if err != nil {
		return nil, err
	}
	v, err := userRoles(ctx, st, tenant, u, defaultRole)
	if err != nil {
		return nil, err
	}
	out := make([]mapping.RoleAssignment, len(v.Roles))
	for i, r := range v.Roles {
		out[i] = r.RoleAssignment
	}
	return out, nil
}

// userRoles builds the view of user u.
func userRoles(ctx context.Context, st store.State, tenant string, u *mapping.User, defaultRole string) (UserRolesView, error) {
	ms, err := st.ListRoleMappings(ctx, tenant)
	if err != nil {
		return UserRolesView{}, err
	}
	in, err := loadRoleInputs(ctx, st, tenant, []string{u.ID})
	if err != nil {
		return UserRolesView{}, err
	}
	names := map[string]string{}
	for _, g := range in.groups[u.ID] {
		names[g.ID] = g.Display
	}
	eff := in.effective(u.ID, ms, defaultRole)
	v := UserRolesView{UserID: u.ID, UserName: u.UserName(), Roles: make([]RoleView, len(eff))}
	for i, a := range eff {
		v.Roles[i] = RoleView{RoleAssignment: a, GroupName: names[a.Group]}
	}
	return v, nil
}

// FindUser resolves user, a user id or a userName (any letter case), to
// the user's id. Errors: *APIError invalid_request (bad tenant id, empty
// user), not_found; the store's.
func FindUser(ctx context.Context, st store.State, tenant, user string) (string, error) {
	u, err := findUser(ctx, st, tenant, user)
	if err != nil {
		return "", err
	}
	return u.ID, nil
}

func findUser(ctx context.Context, st store.State, tenant, user string) (*mapping.User, error) {
	if err := CheckTenantID(tenant); err != nil {
		return nil, err
	}
	if user == "" {
		return nil, Invalid("user must not be empty")
	}
	u, err := st.GetUser(ctx, tenant, user)
	if !errors.Is(err, store.ErrNotFound) {
		return u, err
	}
	id, err := st.FindUser(ctx, tenant, store.IndexUserName, user)
	if err == nil {
		u, err = st.GetUser(ctx, tenant, id)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound(fmt.Sprintf("tenant %s has no user with id or userName %s", tenant, quote(user)))
	}
	return u, err
}

// ShowUserRoles returns the effective roles, with sources, of the tenant's
// user named by user (an id or a userName), under the tenant's default
// role. Errors: as FindUser's; the store's.
func ShowUserRoles(ctx context.Context, st store.State, tenant, user string) (UserRolesView, error) {
	u, err := findUser(ctx, st, tenant, user)
	if err != nil {
		return UserRolesView{}, err
	}
	return showRoles(ctx, st, tenant, u)
}

// showRoles is userRoles under the tenant's default role.
func showRoles(ctx context.Context, st store.State, tenant string, u *mapping.User) (UserRolesView, error) {
	def, err := ResolveDefaultRole(ctx, st, tenant)
	if err != nil {
		return UserRolesView{}, err
	}
	return userRoles(ctx, st, tenant, u, def)
}

// checkSource defaults source to manual and checks it is manual or api.
func checkSource(source string) (string, error) {
	if source == "" {
		return mapping.SourceManual, nil
	}
	if !mapping.ValidAssignmentSource(source) {
		return "", Invalid(fmt.Sprintf("source %s must be %s or %s (scim roles come from group mappings, the default role from roles/default)",
			quote(source), mapping.SourceManual, mapping.SourceAPI))
	}
	return source, nil
}

// AssignRole gives the tenant's user (an id or a userName) role with
// source (mapping.SourceManual, the default when "", or
// mapping.SourceAPI). Such an assignment is never changed by group sync;
// only UnassignRole (or deleting the user) removes it. Assigning an
// assignment the user has is not an error. It returns the user's
// effective roles afterwards. Errors: *APIError invalid_request (tenant
// id, role, source), not_found (user); the store's.
func AssignRole(ctx context.Context, st store.State, tenant, user, role, source string) (UserRolesView, error) {
	return changeAssignment(ctx, st, tenant, user, role, source, true)
}

// UnassignRole removes the tenant's user's (an id or a userName)
// assignment of role with source (manual when ""); roles from groups and
// the default role cannot be removed this way. It returns the user's
// effective roles afterwards. Errors: *APIError invalid_request,
// not_found (user, or no such assignment); the store's.
func UnassignRole(ctx context.Context, st store.State, tenant, user, role, source string) (UserRolesView, error) {
	return changeAssignment(ctx, st, tenant, user, role, source, false)
}

func changeAssignment(ctx context.Context, st store.State, tenant, user, role, source string, assign bool) (UserRolesView, error) {
	if err := CheckTenantID(tenant); err != nil {
		return UserRolesView{}, err
	}
	if err := checkRole(role); err != nil {
		return UserRolesView{}, err
	}
	source, err := checkSource(source)
	if err != nil {
		return UserRolesView{}, err
	}
	u, err := findUser(ctx, st, tenant, user)
	if err != nil {
		return UserRolesView{}, err
	}
	if assign {
		err = st.AssignRole(ctx, tenant, u.ID, role, source)
	} else {
		err = st.UnassignRole(ctx, tenant, u.ID, role, source)
	}
	if errors.Is(err, store.ErrNotFound) {
		if assign {
			return UserRolesView{}, notFound(fmt.Sprintf("tenant %s has no user %s", tenant, quote(user)))
		}
		return UserRolesView{}, notFound(fmt.Sprintf("user %s has no %s role %s", quote(user), source, quote(role)))
	}
	if err != nil {
		return UserRolesView{}, err
	}
	e := store.LogEntry{ResourceType: "User", ResourceID: u.ID, Name: u.UserName(), Operation: "assign_role",
		Changes: []mapping.AttrChange{{Attr: "roles", After: source + ":" + role}}}
	if !assign {
		e.Operation, e.Changes[0].Before, e.Changes[0].After = "unassign_role", e.Changes[0].After, nil
	}
	recordOperator(ctx, st, tenant, e)
	return showRoles(ctx, st, tenant, u)
}

// SetDefaultRole sets the tenant's default role, the role of a user who
// has no other: a system role, or mapping.RoleNone (or "") for none. The
// tenant is created if new (at now). It returns the default as shown
// ("none" for none). Errors: *APIError invalid_request; the store's.
func SetDefaultRole(ctx context.Context, st store.State, tenant, role string, now time.Time) (string, error) {
	if err := CheckTenantID(tenant); err != nil {
		return "", err
	}
	if role == "" {
		role = mapping.RoleNone
	}
	if role != mapping.RoleNone {
		if !mapping.ValidRole(role) {
			return "", Invalid(fmt.Sprintf("default role %s must be one of %s, or %s", quote(role),
				strings.Join(mapping.SystemRoles(), ", "), mapping.RoleNone))
		}
	}
	if _, err := st.EnsureTenant(ctx, tenant, now.UTC()); err != nil {
		return "", err
	}
	stored := role
	if role == mapping.RoleNone {
		stored = ""
	}
	old, oldSet, err := st.DefaultRole(ctx, tenant)
	if err != nil {
		return "", err
	}
	if err := st.SetDefaultRole(ctx, tenant, stored); err != nil {
		return "", err
	}
	var before any
	if oldSet {
		before = showDefault(old)
	}
	recordOperator(ctx, st, tenant, store.LogEntry{ResourceType: "Tenant", ResourceID: tenant, Name: tenant, Operation: "set_default_role",
		Changes: []mapping.AttrChange{{Attr: "defaultRole", Before: before, After: role}}})
	return role, nil
}

// showDefault is how a resolved default role is shown: "none" for "".
func showDefault(role string) string {
	if role == "" {
		return mapping.RoleNone
	}
	return role
}

// mappingRole returns the role of the mapping with key in ms (nil when
// there is none), for the log's before value.
func mappingRole(ms []mapping.RoleMapping, key string) any {
	for _, m := range ms {
		if m.Key() == key {
			return m.Role
		}
	}
	return nil
}

// roleMappingEntry is the provisioning log entry of a mapping change:
// resource Group, by id (name when known) or by displayName.
func roleMappingEntry(m mapping.RoleMapping, groupName, op string, before any, after string, usersUpdated int) store.LogEntry {
	e := store.LogEntry{ResourceType: "Group", Name: groupName, Operation: op,
		Detail: fmt.Sprintf("%d users' effective roles changed", usersUpdated)}
	if m.ByName {
		e.Name = m.Group
	} else {
		e.ResourceID = m.Group
	}
	if m.Source != "" {
		e.Detail = "source " + m.Source + "; " + e.Detail
	}
	c := mapping.AttrChange{Attr: "role", Before: before}
	if after != "" {
		c.After = after
	}
	e.Changes = []mapping.AttrChange{c}
	return e
}
