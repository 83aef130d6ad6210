package sqlitestore

import (
	"context"
	"database/sql"
	"sort"
	"strings"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

var _ store.Verifier = (*Store)(nil)

// vrow is one user or group row as Verify reads it.
type vrow struct {
	id      string
	corrupt string // why its document cannot be decoded, "" if it can
	cur     [2]string
	want    [2]string // [0]: folded userName/displayName, [1]: externalId
}

// vtable describes the record table of users or groups for Verify.
type vtable struct {
	kind, table, keyCol, nameAttr string
	want                          func(mapping.Attrs) [2]string
}

var vtables = []vtable{
	{"user", "scim_users", "user_name_key", "userName", func(a mapping.Attrs) [2]string {
		u := mapping.User{Attrs: a}
		return [2]string{mapping.FoldKey(u.UserName()), u.ExternalID()}
	}},
	{"group", "scim_groups", "display_name_key", "displayName", func(a mapping.Attrs) [2]string {
		g := mapping.Group{Attrs: a}
		return [2]string{mapping.FoldKey(g.DisplayName()), g.ExternalID()}
	}},
}

// Verify checks the tenant's rows against what its records' documents say,
// the same checks as every backend expressed over the tables (see
// store.Verifier): the index columns (user_name_key, display_name_key,
// external_id, which the UNIQUE indexes are built on) against each
// document, uniqueness of the documents' values, membership rows without
// their user or group and role assignments without their user (both
// impossible while foreign keys are on, but a file edited with them off, or
// restored in pieces, may have them) or with a source that cannot be stored.
// Without repair it reads one snapshot; with repair everything runs in one
// write transaction (other writers wait up to BusyTimeout): index columns
// are rewritten from the documents, dangling rows deleted, clashes and
// undecodable documents only reported. store.ErrNotFound if the tenant has
// neither a row nor any data.
func (s *Store) Verify(ctx context.Context, tenant string, repair bool) (store.VerifyReport, error) {
	r := store.VerifyReport{Tenant: tenant, Repair: repair, Problems: []store.ProblemSummary{}}
	fn := func(tx *txn) error { return s.verifyTx(ctx, tx, &r, tenant, repair) }
	var err error
	if repair {
		err = s.write(ctx, "verify", fn)
	} else {
		err = s.read(ctx, "verify", fn)
	}
	return r, err
}

func (s *Store) verifyTx(ctx context.Context, tx *txn, r *store.VerifyReport, tenant string, repair bool) error {
	var exists, users, groups int
	if err := tx.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM tenants WHERE id = ?1),
		(SELECT COUNT(*) FROM scim_users WHERE tenant = ?1),
		(SELECT COUNT(*) FROM scim_groups WHERE tenant = ?1)`, tenant).Scan(&exists, &users, &groups); err != nil {
		return err
	}
	r.Users, r.Groups = users, groups
	if exists == 0 {
		if users == 0 && groups == 0 {
			return store.ErrNotFound
		}
		r.Problem(store.ProblemTenantRegistry, "tenant %q has users or groups but no row in tenants", tenant)
		if repair {
			if _, err := tx.ExecContext(ctx, `INSERT INTO tenants (id, created)
				VALUES (?1, (SELECT MIN(created) FROM scim_users WHERE tenant = ?1)) ON CONFLICT (id) DO NOTHING`, tenant); err != nil {
				return err
			}
			r.Repaired(store.ProblemTenantRegistry, 1)
		}
	}
	if err := verifyCounts(ctx, tx, r, tenant, users, groups, repair); err != nil {
		return err
	}
	for _, vt := range vtables {
		if err := verifyRecords(ctx, tx, r, tenant, vt, repair); err != nil {
			return err
		}
	}
	return verifyLinks(ctx, tx, r, tenant, repair)
}

// verifyCounts checks the tenant's record_counts row (what list pages
// report as their total) against the counted rows, as an index mismatch,
// and rewrites it on repair. The triggers keep it right; only an edit of
// the table itself can make it wrong.
func verifyCounts(ctx context.Context, tx *txn, r *store.VerifyReport, tenant string, users, groups int, repair bool) error {
	var cu, cg int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE((SELECT user_count FROM record_counts WHERE tenant = ?1), 0),
		COALESCE((SELECT group_count FROM record_counts WHERE tenant = ?1), 0)`, tenant).Scan(&cu, &cg); err != nil {
		return err
	}
	if cu == users && cg == groups {
		return nil
	}
	r.Problem(store.ProblemIndexMismatch, "record_counts says %d users and %d groups; the tenant has %d and %d", cu, cg, users, groups)
	if !repair {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO record_counts (tenant, user_count, group_count) VALUES (?, ?, ?)
		ON CONFLICT (tenant) DO UPDATE SET user_count = excluded.user_count, group_count = excluded.group_count`, tenant, users, groups); err != nil {
		return err
	}
	r.Repaired(store.ProblemIndexMismatch, 1)
	return nil
}

// verifyRecords checks one record table's index columns against the
// documents and rewrites them on repair.
func verifyRecords(ctx context.Context, tx *txn, r *store.VerifyReport, tenant string, vt vtable, repair bool) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, `+vt.keyCol+`, external_id, doc FROM `+vt.table+` WHERE tenant = ? ORDER BY seq`, tenant)
	if err != nil {
		return err
	}
	var recs []*vrow
	for rows.Next() {
		var rec vrow
		var ext sql.NullString
		var doc string
		if err := rows.Scan(&rec.id, &rec.cur[0], &ext, &doc); err != nil {
			rows.Close()
			return err
		}
		rec.cur[1] = ext.String
		if a, err := decodeAttrs(doc); err != nil {
			rec.corrupt = err.Error()
		} else {
			rec.want = vt.want(a)
		}
		recs = append(recs, &rec)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	names := [2]string{vt.nameAttr, "externalId"}
	for col := range 2 {
		// Records whose column is right, or that cannot move (corrupt,
		// clashing), keep their value; the others move to the document's.
		holders := map[string][]string{}
		for _, rec := range recs {
			if rec.corrupt == "" && rec.want[col] != "" {
				holders[rec.want[col]] = append(holders[rec.want[col]], rec.id)
			}
		}
		clashing := map[string]bool{}
		for _, v := range sortedKeys(holders) {
			if ids := holders[v]; len(ids) > 1 {
				sort.Strings(ids)
				r.Problem(store.ProblemIndexClash, "%ss %s share %s %q", vt.kind, strings.Join(ids, ", "), names[col], v)
				for _, id := range ids {
					clashing[id] = true
				}
			}
		}
		var fixes []*vrow
		for _, rec := range recs {
			if rec.corrupt != "" || clashing[rec.id] || rec.cur[col] == rec.want[col] {
				continue
			}
			r.Problem(store.ProblemIndexMismatch, "%s %s: %s index column is %q, its document says %q", vt.kind, rec.id, names[col], rec.cur[col], rec.want[col])
			fixes = append(fixes, rec)
		}
		// A target value still held by a row that stays put cannot be
		// taken; such a fix stays put too (and may block others).
		for changed := true; changed; {
			changed = false
			staying := map[string]string{}
			moving := map[string]bool{}
			for _, rec := range fixes {
				moving[rec.id] = true
			}
			for _, rec := range recs {
				if !moving[rec.id] && rec.cur[col] != "" {
					staying[rec.cur[col]] = rec.id
				}
			}
			kept := fixes[:0]
			for _, rec := range fixes {
				if other, ok := staying[rec.want[col]]; ok && rec.want[col] != "" {
					r.Problem(store.ProblemIndexClash, "%s %s: its %s %q is indexed for %s, which cannot move", vt.kind, rec.id, names[col], rec.want[col], other)
					changed = true
					continue
				}
				kept = append(kept, rec)
			}
			fixes = kept
		}
		if !repair || len(fixes) == 0 {
			continue
		}
		// Park every moving row on a value no other row can hold, then set
		// the targets (which are now all free): swaps work.
		colName := vt.keyCol
		if col == 1 {
			colName = "external_id"
		}
		for _, rec := range fixes {
			park := any("\x00verify:" + rec.id)
			if col == 1 {
				park = nil
			}
			if _, err := tx.ExecContext(ctx, `UPDATE `+vt.table+` SET `+colName+` = ? WHERE tenant = ? AND id = ?`, park, tenant, rec.id); err != nil {
				return err
			}
		}
		for _, rec := range fixes {
			v := any(rec.want[col])
			if col == 1 {
				v = nullString(rec.want[col])
			}
			if _, err := tx.ExecContext(ctx, `UPDATE `+vt.table+` SET `+colName+` = ? WHERE tenant = ? AND id = ?`, v, tenant, rec.id); err != nil {
				return err
			}
		}
		r.Repaired(store.ProblemIndexMismatch, len(fixes))
	}
	for _, rec := range recs {
		if rec.corrupt != "" {
			r.Problem(store.ProblemRecordCorrupt, "%s %s: %s", vt.kind, rec.id, rec.corrupt)
		}
	}
	return nil
}

// verifyLinks checks membership and role assignment rows against the users
// and groups, and deletes the dangling ones on repair.
func verifyLinks(ctx context.Context, tx *txn, r *store.VerifyReport, tenant string, repair bool) error {
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM memberships WHERE tenant = ?`, tenant).Scan(&total); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT m.group_id, m.user_id, g.id IS NOT NULL, u.id IS NOT NULL
		FROM memberships m
		LEFT JOIN scim_groups g ON g.tenant = m.tenant AND g.id = m.group_id
		LEFT JOIN scim_users u ON u.tenant = m.tenant AND u.id = m.user_id
		WHERE m.tenant = ? AND (g.id IS NULL OR u.id IS NULL)
		ORDER BY m.group_id, m.user_id`, tenant)
	if err != nil {
		return err
	}
	type link struct{ a, b string }
	var orphans, dangling []link
	bad := 0
	for rows.Next() {
		var gid, uid string
		var hasGroup, hasUser bool
		if err := rows.Scan(&gid, &uid, &hasGroup, &hasUser); err != nil {
			rows.Close()
			return err
		}
		bad++
		if !hasGroup {
			r.Problem(store.ProblemMembersOrphan, "membership of user %s in group %s: no such group", uid, gid)
			orphans = append(orphans, link{gid, uid})
		} else {
			r.Problem(store.ProblemMemberDangling, "group %s has member %s: no such user", gid, uid)
			dangling = append(dangling, link{gid, uid})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	r.Memberships = total - bad

	rows, err = tx.QueryContext(ctx, `SELECT a.user_id, a.role, a.source, u.id IS NOT NULL
		FROM role_assignments a LEFT JOIN scim_users u ON u.tenant = a.tenant AND u.id = a.user_id
		WHERE a.tenant = ? ORDER BY a.user_id, a.source, a.role`, tenant)
	if err != nil {
		return err
	}
	type assignment struct{ uid, role, source string }
	var roleDangling, roleBad []assignment
	for rows.Next() {
		var a assignment
		var hasUser bool
		if err := rows.Scan(&a.uid, &a.role, &a.source, &hasUser); err != nil {
			rows.Close()
			return err
		}
		switch {
		case !hasUser:
			r.Problem(store.ProblemRoleDangling, "role %s (%s) of user %s: no such user", a.role, a.source, a.uid)
			roleDangling = append(roleDangling, a)
		case store.CheckAssignment(a.role, a.source) != nil:
			r.Problem(store.ProblemRoleMalformed, "user %s: role %q with source %q cannot be stored", a.uid, a.role, a.source)
			roleBad = append(roleBad, a)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if !repair {
		return nil
	}
	for _, step := range []struct {
		kind  string
		links []link
	}{{store.ProblemMembersOrphan, orphans}, {store.ProblemMemberDangling, dangling}} {
		for _, l := range step.links {
			if _, err := tx.ExecContext(ctx, `DELETE FROM memberships WHERE tenant = ? AND group_id = ? AND user_id = ?`, tenant, l.a, l.b); err != nil {
				return err
			}
		}
		r.Repaired(step.kind, len(step.links))
	}
	for _, step := range []struct {
		kind string
		as   []assignment
	}{{store.ProblemRoleDangling, roleDangling}, {store.ProblemRoleMalformed, roleBad}} {
		for _, a := range step.as {
			if _, err := tx.ExecContext(ctx, `DELETE FROM role_assignments WHERE tenant = ? AND user_id = ? AND role = ? AND source = ?`,
				tenant, a.uid, a.role, a.source); err != nil {
				return err
			}
		}
		r.Repaired(step.kind, len(step.as))
	}
	return nil
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
