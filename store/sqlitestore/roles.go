package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"sort"

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
// ids and those groups, the tenant's mappings and default role and the
// users' assignments in one statement (qUserContext, or qUserContextOne for
// one id: one read snapshot,
// every part an indexed search).
func (s *Store) UserContext(ctx context.Context, tenant string, userIDs []string, withUsers bool) (store.UserContext, error) {
	var uc store.UserContext
	q, args := qUserContext, []any{tenant, nil, withUsers}
	if len(userIDs) == 1 {
		q, args[1] = qUserContextOne, userIDs[0]
	} else {
		args[1] = jsonList(userIDs)
	}
	err := s.hotQuery(ctx, q, args, func(rows *sql.Rows) (err error) {
		uc, err = scanUserContext(rows, withUsers, len(userIDs), nil)
		return err
	})
	if err != nil {
		return store.UserContext{}, s.fail("user context", err)
	}
	return uc, nil
}

// UserDocContext is store.UserDocs: UserContext(ctx, tenant,
// []string{id}, true) in the same one statement (qUserContextOne), with
// the user's attribute document returned as stored (the doc column,
// encoding/json's encoding of its attributes) instead of decoded: uc.Users
// holds the user with Attrs nil, or nothing when there is no such user.
func (s *Store) UserDocContext(ctx context.Context, tenant, id string) (store.UserContext, string, error) {
	var uc store.UserContext
	var doc string
	err := s.hotQuery(ctx, qUserContextOne, []any{tenant, id, true}, func(rows *sql.Rows) (err error) {
		uc, err = scanUserContext(rows, true, 1, &doc)
		return err
	})
	if err != nil {
		return store.UserContext{}, "", s.fail("user context", err)
	}
	return uc, doc, nil
}

// DecodeUserDoc is store.UserDocs: u.Attrs from doc, a document
// UserDocContext returned with u, or the error UserContext returns for a
// user whose document does not decode. No store call.
func (s *Store) DecodeUserDoc(u *mapping.User, doc string) error {
	a, err := decodeAttrs(doc)
	if err != nil {
		return s.fail("user context", err)
	}
	u.Attrs = a
	return nil
}

// scanUserContext reads the rows of qUserContext or a qLookupContext
// statement (see queries.go) into a UserContext and closes them; n is the
// number of ids asked for (Users stays nil when it is 0, as GetUsers).
// With doc (one user asked for), the user's document is left there and
// its Attrs nil (UserDocContext).
func scanUserContext(rows *sql.Rows, withUsers bool, n int, doc *string) (store.UserContext, error) {
	defer rows.Close()
	uc := store.UserContext{MemberOf: map[string][]string{}, Groups: map[string]*mapping.Group{},
		Mappings: []mapping.RoleMapping{}, Assigned: map[string][]mapping.RoleAssignment{}}
	if withUsers && n > 0 {
		uc.Users = make([]*mapping.User, 0, n)
	}
	var (
		kind       int
		ord        int64
		s1         string
		s2, s3, s4 sql.NullString // NULL in some kinds' rows
		s5         sql.NullString
		n1, n2, n3 sql.NullInt64
		// The rows come unordered (see queries.go): userOrd and
		// memberOrd keep the ord of each user and membership until the
		// lists are sorted by it.
		userOrd   []int64
		memberOrd map[string][]int64
	)
	for rows.Next() {
		if err := rows.Scan(&kind, &ord, &s1, &s2, &s3, &s4, &s5, &n1, &n2, &n3); err != nil {
			return store.UserContext{}, err
		}
		switch kind {
		case 0: // a user: id, doc, origin; created, last_modified, version
			var a mapping.Attrs
			if doc != nil {
				*doc = s2.String
			} else {
				var err error
				if a, err = decodeAttrs(s2.String); err != nil {
					return store.UserContext{}, err
				}
			}
			uc.Users = append(uc.Users, &mapping.User{ID: s1, Attrs: a, Origin: s3.String,
				Created: fromNanos(n1), LastModified: fromNanos(n2), Version: n3.Int64})
			userOrd = append(userOrd, ord)
		case 1: // a membership: user_id, group id, doc, okta_id, origin; times, version
			gid := s2.String
			uc.MemberOf[s1] = append(uc.MemberOf[s1], gid)
			if memberOrd == nil {
				memberOrd = map[string][]int64{}
			}
			memberOrd[s1] = append(memberOrd[s1], ord)
			if _, ok := uc.Groups[gid]; ok {
				continue
			}
			a, err := decodeAttrs(s3.String)
			if err != nil {
				return store.UserContext{}, err
			}
			uc.Groups[gid] = &mapping.Group{ID: gid, Attrs: a, OktaID: s4.String, Origin: s5.String,
				Created: fromNanos(n1), LastModified: fromNanos(n2), Version: n3.Int64}
		case 2: // a role mapping: grp, role, source; by_name
			uc.Mappings = append(uc.Mappings, mapping.RoleMapping{Group: s1, Role: s2.String, Source: s3.String, ByName: n1.Int64 != 0})
		case 3: // the default role
			uc.DefaultRole, uc.DefaultSet = s1, true
		case 4: // an assignment: user_id, role, source
			uc.Assigned[s1] = append(uc.Assigned[s1], mapping.RoleAssignment{Role: s2.String, Source: s3.String})
		}
	}
	if err := rows.Err(); err != nil {
		return store.UserContext{}, err
	}
	sortByOrd(uc.Users, userOrd)
	for uid, ords := range memberOrd {
		sortByOrd(uc.MemberOf[uid], ords)
	}
	mapping.SortRoleMappings(uc.Mappings)
	for _, as := range uc.Assigned {
		mapping.SortRoleAssignments(as)
	}
	return uc, nil
}

// sortByOrd sorts s by ords (ords[i] is the key of s[i]; both are
// reordered), stably.
func sortByOrd[T any](s []T, ords []int64) {
	if len(s) > 1 {
		sort.Stable(byOrd[T]{s, ords})
	}
}

// byOrd is sort.Interface over two parallel slices, by the second.
type byOrd[T any] struct {
	s    []T
	ords []int64
}

func (b byOrd[T]) Len() int           { return len(b.s) }
func (b byOrd[T]) Less(i, j int) bool { return b.ords[i] < b.ords[j] }
func (b byOrd[T]) Swap(i, j int) {
	b.s[i], b.s[j] = b.s[j], b.s[i]
	b.ords[i], b.ords[j] = b.ords[j], b.ords[i]
}
