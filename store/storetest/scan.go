package storetest

import (
	"slices"
	"testing"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// scanAllUsers scans f.tenant's users in pages of limit, calling between
// (if set) after every page; it fails on a listed id seen before.
func scanAllUsers(t *testing.T, f *fixture, tenant string, limit int, between func(page int)) []store.UserSummary {
	t.Helper()
	var out []store.UserSummary
	var after store.Cursor
	for page := 0; ; page++ {
		p, err := f.s.ScanUsers(f.ctx, tenant, after, limit)
		if err != nil {
			t.Fatalf("ScanUsers(%d, %d): %v", after, limit, err)
		}
		if len(p.Items) > limit {
			t.Fatalf("ScanUsers(%d, %d) returned %d users", after, limit, len(p.Items))
		}
		for _, u := range p.Items {
			if slices.ContainsFunc(out, func(o store.UserSummary) bool { return o.ID == u.ID }) {
				t.Fatalf("ScanUsers listed user %s twice", u.ID)
			}
		}
		out = append(out, p.Items...)
		if p.Done {
			return out
		}
		if p.Next == after && len(p.Items) > 0 {
			t.Fatalf("ScanUsers(%d, %d): Next did not move", after, limit)
		}
		after = p.Next
		if between != nil {
			between(page)
		}
		if page > 1000 {
			t.Fatal("ScanUsers never done")
		}
	}
}

func summaryIDs[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = id(it)
	}
	return out
}

func userSummaryID(u store.UserSummary) string { return u.ID }

// testScanUsers: keyset paging of users in creation order, summaries equal
// to the stored users, stable under concurrent creates, updates and
// deletes.
func testScanUsers(t *testing.T, f *fixture) {
	ids := f.createUsers("su", 7)
	// A user with every identity field, inactive, with other attributes.
	full := &mapping.User{ID: newID("u"), Origin: "scim", Created: at(9), LastModified: at(9), Attrs: mapping.Attrs{
		"userName": "Full.Name@example.com", "externalId": "00uFULL", "active": false, "title": "Analyst",
		"name":   map[string]any{"givenName": "Ada", "familyName": "Lovelace", "formatted": "Ada Lovelace"},
		"emails": []any{map[string]any{"value": "home@example.com", "type": "home"}, map[string]any{"value": "work@example.com", "type": "work"}},
	}}
	if err := f.s.CreateUser(f.ctx, f.tenant, full); err != nil {
		t.Fatal(err)
	}
	ids = append(ids, full.ID)
	for _, limit := range []int{1, 3, 8, 100} {
		got := scanAllUsers(t, f, f.tenant, limit, nil)
		wantStrings(t, "scan in creation order", summaryIDs(got, userSummaryID), ids)
		for _, s := range got {
			u, err := f.s.GetUser(f.ctx, f.tenant, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			if want := (store.UserSummary{ID: u.ID, Origin: u.Origin, Version: u.Version, Identity: mapping.IdentityOf(u)}); s != want {
				t.Errorf("ScanUsers summary %+v; want %+v", s, want)
			}
		}
	}
	if _, err := f.s.ScanUsers(f.ctx, f.tenant, 0, 0); err == nil {
		t.Error("ScanUsers with limit 0: no error")
	}
	if p, err := f.s.ScanUsers(f.ctx, f.newTenant(), 0, 10); err != nil || len(p.Items) != 0 || !p.Done {
		t.Errorf("ScanUsers(empty tenant) = %+v, %v", p, err)
	}

	// Writes between pages: users listed already or not yet are deleted
	// and renamed, new users are created. Every user that exists
	// throughout is listed exactly once, a deleted user not yet reached
	// is not, and the new ones come last.
	var created []string
	got := scanAllUsers(t, f, f.tenant, 3, func(page int) {
		if page != 0 {
			return
		}
		for _, id := range []string{ids[1], ids[5]} { // one listed, one not yet
			if err := f.s.DeleteUser(f.ctx, f.tenant, id); err != nil {
				t.Fatal(err)
			}
		}
		upd := &mapping.User{ID: ids[6], Attrs: mapping.Attrs{"userName": "renamed@example.com"}, LastModified: at(100)}
		if err := f.s.UpdateUser(f.ctx, f.tenant, upd, 0); err != nil {
			t.Fatal(err)
		}
		created = append(created, f.createUser(f.tenant, "new-1@example.com", "").ID, f.createUser(f.tenant, "new-2@example.com", "").ID)
	})
	want := append([]string{ids[0], ids[1], ids[2], ids[3], ids[4], ids[6], ids[7]}, created...)
	wantStrings(t, "scan with writes between pages", summaryIDs(got, userSummaryID), want)
	if i := slices.IndexFunc(got, func(u store.UserSummary) bool { return u.ID == ids[6] }); i < 0 || got[i].Identity.UserName != "renamed@example.com" {
		t.Errorf("renamed user not listed with its new userName: %+v", got)
	}
}

// testScanGroups: keyset paging of groups in creation order with their
// members, stable under concurrent writes.
func testScanGroups(t *testing.T, f *fixture) {
	us := f.createUsers("sg", 4)
	var ids []string
	for i, members := range [][]string{{us[0], us[1]}, nil, {us[2]}, {us[0], us[1], us[2], us[3]}, {us[3]}} {
		g := f.createGroup(f.tenant, "scan-group-"+string(rune('a'+i)), "", members...)
		ids = append(ids, g.ID)
	}
	okta := "00gLINKED"
	f.update(f.tenant, ids[4], store.GroupChange{OktaID: &okta, At: at(5)})
	scan := func(limit int, between func()) []store.GroupSummary {
		t.Helper()
		var out []store.GroupSummary
		var after store.Cursor
		for range 100 {
			p, err := f.s.ScanGroups(f.ctx, f.tenant, after, limit)
			if err != nil {
				t.Fatalf("ScanGroups(%d, %d): %v", after, limit, err)
			}
			out = append(out, p.Items...)
			if p.Done {
				return out
			}
			after = p.Next
			if between != nil {
				between()
				between = nil
			}
		}
		t.Fatal("ScanGroups never done")
		return nil
	}
	groupID := func(g store.GroupSummary) string { return g.ID }
	for _, limit := range []int{1, 2, 5, 100} {
		got := scan(limit, nil)
		wantStrings(t, "scan in creation order", summaryIDs(got, groupID), ids)
		for _, s := range got {
			g, err := f.s.GetGroup(f.ctx, f.tenant, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			ms, err := f.s.GroupMembers(f.ctx, f.tenant, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(ms)
			gotMembers := slices.Sorted(slices.Values(s.Members))
			if s.Origin != g.Origin || s.OktaID != g.OktaID || s.DisplayName != g.DisplayName() || s.Version != g.Version ||
				!slices.Equal(gotMembers, ms) || s.Members == nil {
				t.Errorf("ScanGroups summary %+v; want %+v with members %v", s, g, ms)
			}
		}
	}
	if p, err := f.s.ScanGroups(f.ctx, f.newTenant(), 0, 10); err != nil || len(p.Items) != 0 || !p.Done {
		t.Errorf("ScanGroups(empty tenant) = %+v, %v", p, err)
	}
	var added string
	got := scan(2, func() {
		if err := f.s.DeleteGroup(f.ctx, f.tenant, ids[3], 0); err != nil {
			t.Fatal(err)
		}
		if err := f.s.DeleteUser(f.ctx, f.tenant, us[3]); err != nil {
			t.Fatal(err)
		}
		added = f.createGroup(f.tenant, "scan-group-new", "", us[0]).ID
	})
	wantStrings(t, "scan with writes between pages", summaryIDs(got, groupID), []string{ids[0], ids[1], ids[2], ids[4], added})
	if m := got[3].Members; len(m) != 0 {
		t.Errorf("group %s lists deleted user: %v", got[3].ID, m)
	}
}
