package sqlitestore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// PutRoleMapping upserts m in role_mappings under its key (m.Key()). An
// empty m.Group is an error.
func (s *Store) PutRoleMapping(ctx context.Context, tenant string, m mapping.RoleMapping) error {
	if m.Group == "" {
		return errors.New("sqlitestore: role mapping without a group")
	}
	return s.write(ctx, "put role mapping", func(tx *txn) error {
		_, err := tx.ExecContext(ctx, qPutRoleMapping,
			tenant, m.Key(), m.Group, m.ByName, m.Role, m.Source)
		return err
	})
}

// DeleteRoleMapping removes the mapping with key
// mapping.RoleMappingKey(group, byName). Errors: store.ErrNotFound.
func (s *Store) DeleteRoleMapping(ctx context.Context, tenant, group string, byName bool) error {
	return s.write(ctx, "delete role mapping", func(tx *txn) error {
		res, err := tx.ExecContext(ctx, qDeleteRoleMapping, tenant, mapping.RoleMappingKey(group, byName))
		if err != nil {
			return err
		}
		if n, err := rowsAffected(res); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// ListRoleMappings returns the tenant's mappings in
// mapping.SortRoleMappings order.
func (s *Store) ListRoleMappings(ctx context.Context, tenant string) ([]mapping.RoleMapping, error) {
	rows, err := s.query(ctx, qListRoleMappings, tenant)
	if err != nil {
		return nil, s.fail("list role mappings", err)
	}
	defer rows.Close()
	out := []mapping.RoleMapping{}
	for rows.Next() {
		var m mapping.RoleMapping
		if err := rows.Scan(&m.Group, &m.ByName, &m.Role, &m.Source); err != nil {
			return nil, s.fail("list role mappings", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list role mappings", err)
	}
	mapping.SortRoleMappings(out)
	return out, nil
}

// AssignRole inserts (userID, role, source) into role_assignments if the
// user exists, in one transaction. Errors: store.ErrNotFound; a source
// other than manual or api.
func (s *Store) AssignRole(ctx context.Context, tenant, userID, role, source string) error {
	if err := store.CheckAssignment(role, source); err != nil {
		return err
	}
	return s.write(ctx, "assign role", func(tx *txn) error {
		var one int
		err := tx.QueryRowContext(ctx, qUserExists, tenant, userID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		} else if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, qAssignRole, tenant, userID, role, source)
		return err
	})
}

// UnassignRole deletes one assignment. Errors: store.ErrNotFound if the
// user does not have it.
func (s *Store) UnassignRole(ctx context.Context, tenant, userID, role, source string) error {
	return s.write(ctx, "unassign role", func(tx *txn) error {
		res, err := tx.ExecContext(ctx, qUnassignRole,
			tenant, userID, source, role)
		if err != nil {
			return err
		}
		if n, err := rowsAffected(res); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
}

// UserRoles returns the stored assignments of each of userIDs that has
// any, in one query.
func (s *Store) UserRoles(ctx context.Context, tenant string, userIDs []string) (map[string][]mapping.RoleAssignment, error) {
	out := map[string][]mapping.RoleAssignment{}
	if len(userIDs) == 0 {
		return out, nil
	}
	rows, err := s.query(ctx, qUserRoles, tenant, jsonList(userIDs))
	if err != nil {
		return nil, s.fail("user roles", err)
	}
	defer rows.Close()
	for rows.Next() {
		var uid string
		var a mapping.RoleAssignment
		if err := rows.Scan(&uid, &a.Role, &a.Source); err != nil {
			return nil, s.fail("user roles", err)
		}
		out[uid] = append(out[uid], a)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("user roles", err)
	}
	for _, as := range out {
		mapping.SortRoleAssignments(as)
	}
	return out, nil
}

// SetDefaultRole stores the tenant's default role ("" for none).
func (s *Store) SetDefaultRole(ctx context.Context, tenant, role string) error {
	return s.write(ctx, "set default role", func(tx *txn) error {
		_, err := tx.ExecContext(ctx, qSetDefaultRole, tenant, role)
		return err
	})
}

// DefaultRole returns the tenant's default role and whether it was ever
// set.
func (s *Store) DefaultRole(ctx context.Context, tenant string) (string, bool, error) {
	var role string
	err := s.queryRow(ctx, qDefaultRole, tenant).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, s.fail("default role", err)
	}
	return role, true, nil
}

// UserContext reads (when withUsers) the users among userIDs, their group
// ids and those groups (one query: memberships joined with their groups by
// key), the tenant's mappings and default role and the users' assignments
// (indexed local queries, one per kind).
func (s *Store) UserContext(ctx context.Context, tenant string, userIDs []string, withUsers bool) (store.UserContext, error) {
	var uc store.UserContext
	var err error
	if withUsers {
		if uc.Users, err = s.GetUsers(ctx, tenant, userIDs); err != nil {
			return store.UserContext{}, err
		}
	}
	if uc.MemberOf, uc.Groups, err = s.userGroupsWith(ctx, tenant, userIDs); err != nil {
		return store.UserContext{}, err
	}
	if uc.Mappings, err = s.ListRoleMappings(ctx, tenant); err != nil {
		return store.UserContext{}, err
	}
	if uc.DefaultRole, uc.DefaultSet, err = s.DefaultRole(ctx, tenant); err != nil {
		return store.UserContext{}, err
	}
	if uc.Assigned, err = s.UserRoles(ctx, tenant, userIDs); err != nil {
		return store.UserContext{}, err
	}
	return uc, nil
}

// userGroupsWith returns what UserGroups returns for uids and, by id, the
// groups it names (as GetGroups), in one query (qUserContextGroups).
func (s *Store) userGroupsWith(ctx context.Context, tenant string, uids []string) (map[string][]string, map[string]*mapping.Group, error) {
	memberOf, groups := map[string][]string{}, map[string]*mapping.Group{}
	if len(uids) == 0 {
		return memberOf, groups, nil
	}
	rows, err := s.query(ctx, qUserContextGroups, tenant, jsonList(uids))
	if err != nil {
		return nil, nil, s.fail("user groups", err)
	}
	defer rows.Close()
	for rows.Next() {
		var uid string
		g, _, err := scanGroup(prefixScanner{rows, &uid})
		if err != nil {
			return nil, nil, s.fail("user groups", err)
		}
		memberOf[uid] = append(memberOf[uid], g.ID)
		if _, ok := groups[g.ID]; !ok {
			groups[g.ID] = g
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, s.fail("user groups", err)
	}
	return memberOf, groups, nil
}

// prefixScanner scans a row whose first column goes to first and whose
// other columns go to the destinations Scan is given.
type prefixScanner struct {
	rows  *sql.Rows
	first any
}

func (p prefixScanner) Scan(dest ...any) error {
	return p.rows.Scan(append([]any{p.first}, dest...)...)
}
