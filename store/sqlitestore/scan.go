package sqlitestore

import (
	"context"
	"fmt"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// ScanUsers returns up to limit of the tenant's users whose seq (the
// creation-order primary key) is above after, as summaries whose identity
// is read from the stored document without decoding all of it
// (mapping.IdentityOfJSON). One query on the (tenant, seq) index: a page
// costs the same wherever it starts.
func (s *Store) ScanUsers(ctx context.Context, tenant string, after store.Cursor, limit int) (store.ScanPage[store.UserSummary], error) {
	var p store.ScanPage[store.UserSummary]
	if limit <= 0 {
		return p, fmt.Errorf("sqlitestore: scan limit %d", limit)
	}
	p.Next = after
	err := s.read(ctx, "scan users", func(tx *txn) error {
		rows, err := tx.QueryContext(ctx, qScanUsers, tenant, int64(after), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		p.Items = make([]store.UserSummary, 0, min(limit, 1024))
		for rows.Next() {
			var u store.UserSummary
			var seq int64
			var doc string
			if err := rows.Scan(&seq, &u.ID, &doc, &u.Origin, &u.Version); err != nil {
				return err
			}
			if u.Identity, err = mapping.IdentityOfJSON(doc); err != nil {
				return fmt.Errorf("user %s: decode attrs: %w", u.ID, err)
			}
			p.Items = append(p.Items, u)
			p.Next = store.Cursor(seq)
		}
		return rows.Err()
	})
	if err != nil {
		return store.ScanPage[store.UserSummary]{}, err
	}
	p.Done = len(p.Items) < limit
	return p, nil
}

// ScanGroups returns up to limit of the tenant's groups whose seq is above
// after, as summaries with their members, from one snapshot. Two queries on
// the (tenant, seq) index (groups, then the memberships of the page's seq
// range).
func (s *Store) ScanGroups(ctx context.Context, tenant string, after store.Cursor, limit int) (store.ScanPage[store.GroupSummary], error) {
	var p store.ScanPage[store.GroupSummary]
	if limit <= 0 {
		return p, fmt.Errorf("sqlitestore: scan limit %d", limit)
	}
	p.Next = after
	err := s.read(ctx, "scan groups", func(tx *txn) error {
		rows, err := tx.QueryContext(ctx, qScanGroups, tenant, int64(after), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		at := map[string]int{}
		for rows.Next() {
			var g store.GroupSummary
			var seq int64
			var doc string
			if err := rows.Scan(&seq, &g.ID, &doc, &g.OktaID, &g.Origin, &g.Version); err != nil {
				return err
			}
			a, err := decodeAttrs(doc)
			if err != nil {
				return fmt.Errorf("group %s: %w", g.ID, err)
			}
			g.DisplayName = (&mapping.Group{Attrs: a}).DisplayName()
			g.Members = []string{}
			at[g.ID] = len(p.Items)
			p.Items = append(p.Items, g)
			p.Next = store.Cursor(seq)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		if len(p.Items) == 0 {
			return nil
		}
		mrows, err := tx.QueryContext(ctx, qScanGroupMembers, tenant, int64(after), int64(p.Next))
		if err != nil {
			return err
		}
		defer mrows.Close()
		for mrows.Next() {
			var gid, uid string
			if err := mrows.Scan(&gid, &uid); err != nil {
				return err
			}
			if i, ok := at[gid]; ok {
				p.Items[i].Members = append(p.Items[i].Members, uid)
			}
		}
		return mrows.Err()
	})
	if err != nil {
		return store.ScanPage[store.GroupSummary]{}, err
	}
	p.Done = len(p.Items) < limit
	return p, nil
}
