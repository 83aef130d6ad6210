package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// dedupe returns ids without repeats, first occurrence first.
func dedupe(ids []string) []string {
	seen := make(map[string]struct{}, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if _, ok := seen[id]; !ok {
			seen[id] = struct{}{}
			out = append(out, id)
		}
	}
	return out
}

// checkMembers returns *store.UnknownMembersError naming the ids (deduped)
// that are not users of the tenant.
func checkMembers(ctx context.Context, tx *txn, tenant string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, qUnknownMembers, jsonList(ids), tenant)
	if err != nil {
		return err
	}
	defer rows.Close()
	var unknown []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		unknown = append(unknown, id)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(unknown) > 0 {
		return &store.UnknownMembersError{IDs: unknown}
	}
	return nil
}

// addMembers inserts the memberships that do not exist yet and returns how
// many it inserted. O(len(ids) · log n), whatever the group's size.
func addMembers(ctx context.Context, tx *txn, tenant, gid string, ids []string) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	res, err := tx.ExecContext(ctx, qAddMembers, tenant, gid, jsonList(ids))
	if err != nil {
		return 0, err
	}
	return rowsAffected(res)
}

// groupConflict returns *store.ConflictError if another group of the tenant
// (not id) holds displayName (folded) or externalId.
func groupConflict(ctx context.Context, tx *txn, tenant, id string, g *mapping.Group) error {
	name, ext := g.DisplayName(), g.ExternalID()
	var nameTaken, extTaken bool
	if err := tx.QueryRowContext(ctx, qGroupConflict,
		tenant, id, mapping.FoldKey(name), nullString(ext)).Scan(&nameTaken, &extTaken); err != nil {
		return err
	}
	switch {
	case nameTaken:
		return &store.ConflictError{Attr: "displayName", Value: name}
	case extTaken:
		return &store.ConflictError{Attr: "externalId", Value: ext}
	}
	return nil
}

// CreateGroup stores g in tenant with Version 1 (set on g on success) and
// members (repeats ignored) as its member set, in one transaction.
// Errors: *store.ConflictError (Attr "displayName", compared with
// mapping.FoldKey, or "externalId", exact); *store.UnknownMembersError
// naming members that are not users of the tenant; an error if g.ID
// already exists. On error nothing is stored.
func (s *Store) CreateGroup(ctx context.Context, tenant string, g *mapping.Group, members []string) error {
	doc, err := encodeAttrs(g.Attrs)
	if err != nil {
		return err
	}
	members = dedupe(members)
	err = s.write(ctx, "create group", func(tx *txn) error {
		var idTaken bool
		if err := tx.QueryRowContext(ctx, qGroupTaken,
			tenant, g.ID).Scan(&idTaken); err != nil {
			return err
		}
		if idTaken {
			return fmt.Errorf("group id %q already exists", g.ID)
		}
		if err := groupConflict(ctx, tx, tenant, g.ID, g); err != nil {
			return err
		}
		if err := checkMembers(ctx, tx, tenant, members); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, qInsertGroup,
			tenant, g.ID, mapping.FoldKey(g.DisplayName()), nullString(g.ExternalID()), g.OktaID, doc, g.Origin,
			nanos(g.Created), nanos(g.LastModified)); err != nil {
			return err
		}
		if _, err := addMembers(ctx, tx, tenant, g.ID, members); err != nil {
			return err
		}
		return s.logPending(ctx, tx, tenant)
	})
	if err == nil {
		g.Version = 1
	}
	return err
}

func scanGroup(sc interface{ Scan(...any) error }) (*mapping.Group, string, error) {
	g := &mapping.Group{}
	var doc string
	var c, m sql.NullInt64
	if err := sc.Scan(&g.ID, &doc, &g.OktaID, &g.Origin, &c, &m, &g.Version); err != nil {
		return nil, "", err
	}
	var err error
	g.Attrs, err = decodeAttrs(doc)
	g.Created, g.LastModified = fromNanos(c), fromNanos(m)
	return g, doc, err
}

// GetGroup returns the tenant's group id (without members), or
// store.ErrNotFound.
func (s *Store) GetGroup(ctx context.Context, tenant, id string) (*mapping.Group, error) {
	g, _, err := scanGroup(s.queryRow(ctx, qGetGroup, tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, s.fail("get group", err)
	}
	return g, nil
}

// GetGroups returns the tenant's groups among ids in the order of ids,
// skipping ids that do not exist.
func (s *Store) GetGroups(ctx context.Context, tenant string, ids []string) ([]*mapping.Group, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.query(ctx, qGetGroups, jsonList(ids), tenant)
	if err != nil {
		return nil, s.fail("get groups", err)
	}
	defer rows.Close()
	gs := make([]*mapping.Group, 0, len(ids))
	for rows.Next() {
		g, _, err := scanGroup(rows)
		if err != nil {
			return nil, s.fail("get groups", err)
		}
		gs = append(gs, g)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("get groups", err)
	}
	return gs, nil
}

// UpdateGroup applies c to the tenant's group id in one transaction and
// returns the group after it: c.Attrs (if not nil) replace the attributes
// and are re-indexed; c.OktaID (if not nil) is stored; then the member set
// becomes c.Members (if c.ReplaceMembers), minus c.Remove, plus c.Add.
// Membership changes are row deltas, so their cost does not depend on the
// group's size (except ReplaceMembers, which compares the whole set).
// Version (+1) and LastModified (= c.At) change only if the attributes or
// the member set actually changed; an OktaID change alone is stored without
// them. Errors: store.ErrNotFound; store.ErrVersionMismatch if
// c.ExpectVersion is not 0 and not the stored version;
// *store.ConflictError for a displayName or externalId of another group;
// *store.UnknownMembersError for added (or replacing) ids that are not
// users of the tenant. On error nothing changed.
func (s *Store) UpdateGroup(ctx context.Context, tenant, id string, c store.GroupChange) (*mapping.Group, error) {
	var newDoc string
	if c.Attrs != nil {
		var err error
		if newDoc, err = encodeAttrs(c.Attrs); err != nil {
			return nil, err
		}
	}
	// Net deltas: an id both removed and added ends up a member, so it is
	// only added; with ReplaceMembers the target set is computed up front.
	add := dedupe(c.Add)
	var target, remove []string
	if c.ReplaceMembers {
		drop := make(map[string]bool, len(c.Remove))
		for _, r := range c.Remove {
			drop[r] = true
		}
		for _, a := range add {
			drop[a] = false
		}
		for _, m := range c.Members {
			if !drop[m] {
				target = append(target, m)
			}
		}
		target = dedupe(append(target, add...))
	} else {
		adding := make(map[string]bool, len(add))
		for _, a := range add {
			adding[a] = true
		}
		for _, r := range dedupe(c.Remove) {
			if !adding[r] {
				remove = append(remove, r)
			}
		}
	}

	var g *mapping.Group
	err := s.write(ctx, "update group", func(tx *txn) error {
		var oldDoc string
		var err error
		g, oldDoc, err = scanGroup(tx.QueryRowContext(ctx, qGetGroup, tenant, id))
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		} else if err != nil {
			return err
		}
		if c.ExpectVersion != 0 && c.ExpectVersion != g.Version {
			return store.ErrVersionMismatch
		}
		if guard, ok := store.MembersGuardOf(ctx); ok && !c.ReplaceMembers && len(add)+len(remove) > 0 {
			if err := checkGuard(ctx, tx, tenant, id, guard, append(slices.Clone(add), remove...)); err != nil {
				return err
			}
		}
		changed := false
		if c.Attrs != nil && newDoc != oldDoc {
			ng := &mapping.Group{Attrs: c.Attrs}
			if err := groupConflict(ctx, tx, tenant, id, ng); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, qUpdateGroupAttrs, mapping.FoldKey(ng.DisplayName()), nullString(ng.ExternalID()), newDoc, tenant, id); err != nil {
				return err
			}
			if g.Attrs, err = decodeAttrs(newDoc); err != nil {
				return err
			}
			changed = true
		}
		oktaChanged := c.OktaID != nil && *c.OktaID != g.OktaID
		if oktaChanged {
			if _, err := tx.ExecContext(ctx, qUpdateGroupOktaID, *c.OktaID, tenant, id); err != nil {
				return err
			}
			g.OktaID = *c.OktaID
		}
		var n int64
		if c.ReplaceMembers {
			if err := checkMembers(ctx, tx, tenant, target); err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, qDeleteMembersExcept, tenant, id, jsonList(target))
			if err != nil {
				return err
			}
			if n, err = rowsAffected(res); err != nil {
				return err
			}
			added, err := addMembers(ctx, tx, tenant, id, target)
			if err != nil {
				return err
			}
			n += added
		} else {
			if err := checkMembers(ctx, tx, tenant, add); err != nil {
				return err
			}
			if len(remove) > 0 {
				res, err := tx.ExecContext(ctx, qDeleteMembers, tenant, id, jsonList(remove))
				if err != nil {
					return err
				}
				if n, err = rowsAffected(res); err != nil {
					return err
				}
			}
			added, err := addMembers(ctx, tx, tenant, id, add)
			if err != nil {
				return err
			}
			n += added
		}
		if !changed && n == 0 {
			if oktaChanged {
				return s.logPending(ctx, tx, tenant)
			}
			return nil
		}
		g.Version++
		g.LastModified = c.At.UTC()
		if _, err = tx.ExecContext(ctx, qBumpGroup,
			g.Version, nanos(c.At), tenant, id); err != nil {
			return err
		}
		return s.logPending(ctx, tx, tenant)
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// DeleteGroup removes the tenant's group id and its memberships. Errors:
// store.ErrNotFound.
func (s *Store) DeleteGroup(ctx context.Context, tenant, id string, expectVersion int64) error {
	return s.write(ctx, "delete group", func(tx *txn) error {
		res, err := tx.ExecContext(ctx, qDeleteGroup, tenant, id, expectVersion)
		if err != nil {
			return err
		}
		if n, err := rowsAffected(res); err != nil {
			return err
		} else if n == 0 {
			if expectVersion != 0 {
				var one int
				if err := tx.QueryRowContext(ctx, qGroupExists, tenant, id).Scan(&one); err == nil {
					return store.ErrVersionMismatch
				} else if !errors.Is(err, sql.ErrNoRows) {
					return err
				}
			}
			return store.ErrNotFound
		}
		return s.logPending(ctx, tx, tenant)
	})
}

// FindGroup returns the id of the tenant's group whose displayName
// (store.IndexDisplayName, any letter case) or externalId
// (store.IndexExternalID, exact) is value. Errors: store.ErrNotFound (also
// for an empty externalId); an error for any other index.
func (s *Store) FindGroup(ctx context.Context, tenant string, idx store.Index, value string) (string, error) {
	var q string
	switch idx {
	case store.IndexDisplayName:
		q, value = qFindGroupByName, mapping.FoldKey(value)
	case store.IndexExternalID:
		q = qFindGroupByExternalID
	default:
		return "", fmt.Errorf("sqlitestore: find group: unsupported index %q", idx)
	}
	return s.findID(ctx, "find group", q, tenant, value)
}

// ListGroups returns up to limit of the tenant's groups (without members)
// from the 0-based offset, in creation order, with Total the tenant's group
// count, from one snapshot. limit <= 0 returns only Total. Pages in a row
// are read as ListUsers's are (listPage).
func (s *Store) ListGroups(ctx context.Context, tenant string, offset, limit int) (store.Page[*mapping.Group], error) {
	return listPage(ctx, s, "list groups", pageKey{tenant: tenant, groups: true, offset: offset}, limit, qCountGroups, qListGroups, qListGroupsAfter,
		func(sc interface{ Scan(...any) error }) (*mapping.Group, error) {
			g, _, err := scanGroup(sc)
			return g, err
		})
}

// GroupMembers returns the user ids of the tenant's group id, sorted.
// Errors: store.ErrNotFound if the group does not exist.
func (s *Store) GroupMembers(ctx context.Context, tenant, id string) ([]string, error) {
	rows, err := s.query(ctx, qGroupMembers, tenant, id)
	if err != nil {
		return nil, s.fail("group members", err)
	}
	defer rows.Close()
	found := false
	ids := []string{}
	for rows.Next() {
		found = true
		var uid sql.NullString
		if err := rows.Scan(&uid); err != nil {
			return nil, s.fail("group members", err)
		}
		if uid.Valid {
			ids = append(ids, uid.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("group members", err)
	}
	if !found {
		return nil, store.ErrNotFound
	}
	return ids, nil
}

// checkGuard checks guard against the members of group id among ids (one
// statement): nil or *store.MembersChangedError.
func checkGuard(ctx context.Context, tx *txn, tenant, id string, guard store.MembersGuard, ids []string) error {
	rows, err := tx.QueryContext(ctx, qMembersAmong, tenant, id, jsonList(ids))
	if err != nil {
		return err
	}
	defer rows.Close()
	var members []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return err
		}
		members = append(members, m)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return guard.Check(members)
}
