package sqlitestore

// The SQL text of every statement of users.go, groups.go, roles.go,
// tokens.go and leases.go. They are named constants, listed in queries
// below, so that plan_test.go runs EXPLAIN QUERY PLAN on the very
// statements the store runs and fails on a walk over a tenant's table;
// those files pass no other SQL literal to the database (plan_test.go
// checks that too).
//
// Conventions that keep the plans constant-time in the tenant's size:
//
//   - A JSON id list (json_each(?)) is the outer loop of a join: written
//     `json_each(?) j CROSS JOIN t ON ...`, which SQLite never reorders
//     (without it, the planner may walk the tenant's rows and probe the
//     list, as it did before: O(tenant) per call).
//   - Membership tests against a list are `col IN (SELECT value FROM
//     json_each(?))` on an indexed column.
//   - Counts come from record_counts (kept by triggers, see schema.go), not
//     count(*), which reads every index entry of the tenant.
//   - A list page names its index (INDEXED BY): with statistics (ANALYZE),
//     the planner would otherwise scan the whole table in rowid order,
//     every tenant's rows included. The offset is skipped in a subquery
//     over the index alone (O(offset) index entries, no row reads), then
//     the page is read from there (O(limit)).

const (
	userColumns  = `id, doc, origin, created, last_modified, version`
	groupColumns = `id, doc, okta_id, origin, created, last_modified, version`
	tokenColumns = `tenant, id, name, prefix, hash, created, expires_at, last_used_at, revoked_at, replaced_by`
)

// Users (users.go).
const (
	qUserTaken = `SELECT
		EXISTS (SELECT 1 FROM scim_users WHERE tenant = ?1 AND id = ?2),
		EXISTS (SELECT 1 FROM scim_users WHERE tenant = ?1 AND user_name_key = ?3),
		EXISTS (SELECT 1 FROM scim_users WHERE tenant = ?1 AND external_id = ?4)`
	qInsertUser = `INSERT INTO scim_users
		(tenant, id, user_name_key, external_id, doc, origin, created, last_modified, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)`
	qGetUser  = `SELECT ` + userColumns + ` FROM scim_users WHERE tenant = ? AND id = ?`
	qGetUsers = `SELECT u.id, u.doc, u.origin, u.created, u.last_modified, u.version
		FROM json_each(?) j CROSS JOIN scim_users u ON u.tenant = ? AND u.id = j.value ORDER BY j.key`
	qUserVersion  = `SELECT version FROM scim_users WHERE tenant = ? AND id = ?`
	qUserConflict = `SELECT
		EXISTS (SELECT 1 FROM scim_users WHERE tenant = ?1 AND user_name_key = ?3 AND id <> ?2),
		EXISTS (SELECT 1 FROM scim_users WHERE tenant = ?1 AND external_id = ?4 AND id <> ?2)`
	qUpdateUser = `UPDATE scim_users SET user_name_key = ?, external_id = ?, doc = ?, last_modified = ?, version = ?
		WHERE tenant = ? AND id = ?`
	qDeleteUserRoles      = `DELETE FROM role_assignments WHERE tenant = ? AND user_id = ?`
	qDeleteUser           = `DELETE FROM scim_users WHERE tenant = ? AND id = ?`
	qFindUserByName       = `SELECT id FROM scim_users WHERE tenant = ? AND user_name_key = ?`
	qFindUserByExternalID = `SELECT id FROM scim_users WHERE tenant = ? AND external_id = ?`
	qCountUsers           = `SELECT COALESCE((SELECT user_count FROM record_counts WHERE tenant = ?), 0)`
	qListUsers            = `SELECT ` + userColumns + `, seq FROM scim_users INDEXED BY scim_users_order
		WHERE tenant = ?1 AND seq >= (SELECT seq FROM scim_users INDEXED BY scim_users_order WHERE tenant = ?1 ORDER BY seq LIMIT 1 OFFSET ?3)
		ORDER BY seq LIMIT ?2`
	qListUsersAfter = `SELECT ` + userColumns + `, seq FROM scim_users INDEXED BY scim_users_order
		WHERE tenant = ?1 AND seq > ?3 ORDER BY seq LIMIT ?2`
	qScanUsers = `SELECT seq, id, doc, origin, version FROM scim_users INDEXED BY scim_users_order
		WHERE tenant = ? AND seq > ? ORDER BY seq LIMIT ?`
	qUserGroups = `SELECT m.user_id, m.group_id FROM memberships m
		JOIN scim_groups g ON g.tenant = m.tenant AND g.id = m.group_id
		WHERE m.tenant = ? AND m.user_id IN (SELECT value FROM json_each(?))
		ORDER BY g.seq`
)

// The user context (roles.go, lookup.go): one statement, a UNION ALL of
// row kinds, each row (kind, ord, s1..s5, n1..n3): 0 a user (ord: its
// position among the ids; id, doc, origin; created, last_modified,
// version), 1 a membership with its group (ord: the group's seq; user_id,
// group id, doc, okta_id, origin; created, last_modified, version), 2 a
// role mapping (grp, role, source; by_name), 3 the default role (role), 4
// a role assignment (user_id, role, source). One statement is one read
// snapshot, and one step of the driver instead of five. The rows come in
// no particular order (an ORDER BY made SQLite sort every part in a
// temporary b-tree): scanUserContext orders users and memberships by ord.
const (
	ucUser  = `u.id, u.doc, u.origin, NULL, NULL, u.created, u.last_modified, u.version`
	ucGroup = `SELECT 1, g.seq, m.user_id, g.id, g.doc, g.okta_id, g.origin, g.created, g.last_modified, g.version
		FROM memberships m JOIN scim_groups g ON g.tenant = m.tenant AND g.id = m.group_id
		WHERE m.tenant = ?1 AND m.user_id `
	ucRoles = `SELECT 4, 0, user_id, role, source, NULL, NULL, NULL, NULL, NULL FROM role_assignments
		WHERE tenant = ?1 AND user_id `
	ucTenant = `
		UNION ALL SELECT 2, 0, grp, role, source, NULL, NULL, by_name, NULL, NULL FROM role_mappings WHERE tenant = ?1
		UNION ALL SELECT 3, 0, role, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM role_defaults WHERE tenant = ?1`
	ucByName = `(SELECT id FROM scim_users WHERE tenant = ?1 AND user_name_key = ?2)`
	ucByExt  = `(SELECT id FROM scim_users WHERE tenant = ?1 AND external_id = ?2)`

	// qUserContext: ?1 tenant, ?2 the user ids (JSON), ?3 whether to
	// return the users.
	qUserContext = `SELECT 0, j.key, ` + ucUser + `
		FROM json_each(?2) j CROSS JOIN scim_users u ON u.tenant = ?1 AND u.id = j.value WHERE ?3
		UNION ALL ` + ucGroup + `IN (SELECT value FROM json_each(?2))
		UNION ALL ` + ucRoles + `IN (SELECT value FROM json_each(?2))` + ucTenant
	// qUserContextOne is qUserContext of one user: ?1 tenant, ?2 the user
	// id, ?3 whether to return the user (GET /Users/{id}: no JSON list to
	// encode and walk).
	qUserContextOne = `SELECT 0, 0, ` + ucUser + ` FROM scim_users u WHERE u.tenant = ?1 AND u.id = ?2 AND ?3
		UNION ALL ` + ucGroup + `= ?2
		UNION ALL ` + ucRoles + `= ?2` + ucTenant
	// qLookupContextByName / qLookupContextByExternalID: ?1 tenant, ?2 the
	// folded userName / the externalId.
	qLookupContextByName = `SELECT 0, 0, ` + ucUser + ` FROM scim_users u WHERE u.tenant = ?1 AND u.user_name_key = ?2
		UNION ALL ` + ucGroup + `= ` + ucByName + `
		UNION ALL ` + ucRoles + `= ` + ucByName + ucTenant
	qLookupContextByExternalID = `SELECT 0, 0, ` + ucUser + ` FROM scim_users u WHERE u.tenant = ?1 AND u.external_id = ?2
		UNION ALL ` + ucGroup + `= ` + ucByExt + `
		UNION ALL ` + ucRoles + `= ` + ucByExt + ucTenant
)

// Groups and memberships (groups.go).
const (
	qUnknownMembers = `SELECT j.value FROM json_each(?) j
		WHERE NOT EXISTS (SELECT 1 FROM scim_users u WHERE u.tenant = ? AND u.id = j.value)
		ORDER BY j.key`
	qAddMembers = `INSERT INTO memberships (tenant, group_id, user_id)
		SELECT ?, ?, value FROM json_each(?) WHERE true ON CONFLICT DO NOTHING`
	qGroupConflict = `SELECT
		EXISTS (SELECT 1 FROM scim_groups WHERE tenant = ?1 AND display_name_key = ?3 AND id <> ?2),
		EXISTS (SELECT 1 FROM scim_groups WHERE tenant = ?1 AND external_id = ?4 AND id <> ?2)`
	qGroupTaken  = `SELECT EXISTS (SELECT 1 FROM scim_groups WHERE tenant = ? AND id = ?)`
	qInsertGroup = `INSERT INTO scim_groups
		(tenant, id, display_name_key, external_id, okta_id, doc, origin, created, last_modified, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`
	qGetGroup  = `SELECT ` + groupColumns + ` FROM scim_groups WHERE tenant = ? AND id = ?`
	qGetGroups = `SELECT g.id, g.doc, g.okta_id, g.origin, g.created, g.last_modified, g.version
		FROM json_each(?) j CROSS JOIN scim_groups g ON g.tenant = ? AND g.id = j.value ORDER BY j.key`
	qUpdateGroupAttrs = `UPDATE scim_groups SET display_name_key = ?, external_id = ?, doc = ?
		WHERE tenant = ? AND id = ?`
	qUpdateGroupOktaID   = `UPDATE scim_groups SET okta_id = ? WHERE tenant = ? AND id = ?`
	qDeleteMembersExcept = `DELETE FROM memberships WHERE tenant = ? AND group_id = ?
		AND user_id NOT IN (SELECT value FROM json_each(?))`
	qDeleteMembers = `DELETE FROM memberships WHERE tenant = ? AND group_id = ?
		AND user_id IN (SELECT value FROM json_each(?))`
	// qMembersAmong: which of a list of user ids are members of a group
	// (UpdateGroup's store.MembersGuard check).
	qMembersAmong = `SELECT user_id FROM memberships WHERE tenant = ? AND group_id = ?
		AND user_id IN (SELECT value FROM json_each(?))`
	qBumpGroup             = `UPDATE scim_groups SET version = ?, last_modified = ? WHERE tenant = ? AND id = ?`
	qDeleteGroup           = `DELETE FROM scim_groups WHERE tenant = ?1 AND id = ?2 AND (?3 = 0 OR version = ?3)`
	qGroupExists           = `SELECT 1 FROM scim_groups WHERE tenant = ? AND id = ?`
	qFindGroupByName       = `SELECT id FROM scim_groups WHERE tenant = ? AND display_name_key = ?`
	qFindGroupByExternalID = `SELECT id FROM scim_groups WHERE tenant = ? AND external_id = ?`
	qCountGroups           = `SELECT COALESCE((SELECT group_count FROM record_counts WHERE tenant = ?), 0)`
	qListGroups            = `SELECT ` + groupColumns + `, seq FROM scim_groups INDEXED BY scim_groups_order
		WHERE tenant = ?1 AND seq >= (SELECT seq FROM scim_groups INDEXED BY scim_groups_order WHERE tenant = ?1 ORDER BY seq LIMIT 1 OFFSET ?3)
		ORDER BY seq LIMIT ?2`
	qListGroupsAfter = `SELECT ` + groupColumns + `, seq FROM scim_groups INDEXED BY scim_groups_order
		WHERE tenant = ?1 AND seq > ?3 ORDER BY seq LIMIT ?2`
	qScanGroups = `SELECT seq, id, doc, okta_id, origin, version FROM scim_groups INDEXED BY scim_groups_order
		WHERE tenant = ? AND seq > ? ORDER BY seq LIMIT ?`
	qScanGroupMembers = `SELECT g.id, m.user_id FROM scim_groups g INDEXED BY scim_groups_order
		JOIN memberships m ON m.tenant = g.tenant AND m.group_id = g.id
		WHERE g.tenant = ?1 AND g.seq > ?2 AND g.seq <= ?3`
	qGroupMembers = `SELECT m.user_id FROM scim_groups g
		LEFT JOIN memberships m ON m.tenant = g.tenant AND m.group_id = g.id
		WHERE g.tenant = ? AND g.id = ? ORDER BY m.user_id`
)

// Roles (roles.go).
const (
	qPutRoleMapping = `INSERT INTO role_mappings (tenant, map_key, grp, by_name, role, source) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant, map_key) DO UPDATE SET grp = excluded.grp, by_name = excluded.by_name, role = excluded.role, source = excluded.source`
	qDeleteRoleMapping = `DELETE FROM role_mappings WHERE tenant = ? AND map_key = ?`
	qListRoleMappings  = `SELECT grp, by_name, role, source FROM role_mappings WHERE tenant = ?`
	qUserExists        = `SELECT 1 FROM scim_users WHERE tenant = ? AND id = ?`
	qAssignRole        = `INSERT INTO role_assignments (tenant, user_id, role, source) VALUES (?, ?, ?, ?)
		ON CONFLICT DO NOTHING`
	qUnassignRole = `DELETE FROM role_assignments WHERE tenant = ? AND user_id = ? AND source = ? AND role = ?`
	qUserRoles    = `SELECT user_id, role, source FROM role_assignments
		WHERE tenant = ? AND user_id IN (SELECT value FROM json_each(?))`
	qSetDefaultRole = `INSERT INTO role_defaults (tenant, role) VALUES (?, ?)
		ON CONFLICT (tenant) DO UPDATE SET role = excluded.role`
	qDefaultRole = `SELECT role FROM role_defaults WHERE tenant = ?`
)

// Tenants and tokens (tokens.go).
const (
	qEnsureTenant = `INSERT INTO tenants (id, created) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`
	qListTenants  = `SELECT id, created FROM tenants ORDER BY id`
	qTenantExists = `SELECT 1 FROM tenants WHERE id = ?`
	qInsertToken  = `INSERT INTO tokens (tenant, id, name, prefix, hash, created, expires_at, last_used_at, revoked_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qTokenByHash    = `SELECT ` + tokenColumns + ` FROM tokens WHERE hash = ?`
	qListTokens     = `SELECT ` + tokenColumns + ` FROM tokens WHERE tenant = ? ORDER BY created, rowid`
	qRevokeToken    = `UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE tenant = ? AND id = ?`
	qSetTokenExpiry = `UPDATE tokens SET expires_at = ?1, replaced_by = NULLIF(?2, '')
		WHERE tenant = ?3 AND id = ?4 AND (?2 = '' OR replaced_by IS NULL)`
	qTokenExists = `SELECT 1 FROM tokens WHERE tenant = ? AND id = ?`
	qTouchToken  = `UPDATE tokens SET last_used_at = ? WHERE tenant = ? AND id = ?`
)

// Leases and reconcile runs (leases.go).
const (
	qGetLease = `SELECT owner, expires_at FROM leases WHERE tenant = ? AND name = ?`
	qPutLease = `INSERT INTO leases (tenant, name, owner, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (tenant, name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at`
	qRenewLease   = `UPDATE leases SET expires_at = ? WHERE tenant = ? AND name = ? AND owner = ? AND expires_at > ?`
	qReleaseLease = `DELETE FROM leases WHERE tenant = ? AND name = ? AND owner = ?`
	qPutRun       = `INSERT INTO runs (tenant, id, started_at, data) VALUES (?, ?, ?, ?)
		ON CONFLICT (tenant, id) DO UPDATE SET started_at = excluded.started_at, data = excluded.data`
	qPruneRuns = `DELETE FROM runs WHERE tenant = ?1 AND id NOT IN
		(SELECT id FROM runs WHERE tenant = ?1 ORDER BY started_at DESC, id DESC LIMIT ?2)`
	qListRuns = `SELECT id, started_at, data FROM runs WHERE tenant = ? ORDER BY started_at DESC, id DESC LIMIT ?`
	qGetRun   = `SELECT started_at, data FROM runs WHERE tenant = ? AND id = ?`
)

// Held reconcile plans (plans.go; store.Plans).
const (
	qPlanExists  = `SELECT 1 FROM reconcile_plans WHERE tenant = ? AND id = ?`
	qInsertPlan  = `INSERT INTO reconcile_plans (tenant, id, created_at, version, data) VALUES (?, ?, ?, 1, ?)`
	qPrunePlans  = `DELETE FROM reconcile_plans WHERE tenant = ?1 AND id NOT IN (SELECT id FROM reconcile_plans WHERE tenant = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2)`
	qPlanVersion = `SELECT version FROM reconcile_plans WHERE tenant = ? AND id = ?`
	qUpdatePlan  = `UPDATE reconcile_plans SET data = ?, version = ? WHERE tenant = ? AND id = ?`
	qListPlans   = `SELECT id, created_at, version, data FROM reconcile_plans WHERE tenant = ? ORDER BY created_at DESC, id DESC LIMIT ?`
	qGetPlan     = `SELECT created_at, version, data FROM reconcile_plans WHERE tenant = ? AND id = ?`
)

// Console sessions ended by Sign out (sessions.go; store.Sessions).
const (
	qEndSession = `INSERT INTO console_sessions_ended (id, until) VALUES (?1, ?2)
	ON CONFLICT (id) DO UPDATE SET until = max(until, excluded.until)`
	qDropEndedSessions = `DELETE FROM console_sessions_ended WHERE until <= ?`
	qSessionEnded      = `SELECT 1 FROM console_sessions_ended WHERE id = ? AND until > ?`
)

// Provisioning log writes (provlog.go), made in the transaction of every
// write that is logged: each on the accepted entries' table and on the
// rejections' (store.LogEntry.Rejected). Queries (logquery.go) are built
// from the filters given; TestLogQueryPlans plans them.
const (
	qNextLogN       = `SELECT COALESCE(MAX(n), 0) + 1 FROM provisioning_log WHERE tenant = ?`
	qNextRejectedN  = `SELECT COALESCE(MAX(n), 0) + 1 FROM provisioning_log_rejected WHERE tenant = ?`
	qInsertLog      = `INSERT INTO provisioning_log (tenant, n, at, name_key, resource_type, actor, status, entry) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qInsertRejected = `INSERT INTO provisioning_log_rejected (tenant, n, at, name_key, resource_type, actor, status, entry) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qTrimLog        = `DELETE FROM provisioning_log WHERE tenant = ? AND n <= ?`
	qTrimRejected   = `DELETE FROM provisioning_log_rejected WHERE tenant = ? AND n <= ?`
	qExpireLog      = `DELETE FROM provisioning_log WHERE at < ?`
	qExpireRejected = `DELETE FROM provisioning_log_rejected WHERE at < ?`
)
