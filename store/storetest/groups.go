package storetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

func testGroupCreate(t *testing.T, f *fixture) {
	ids := f.createUsers("gc", 3)
	g := group("Engineering ✓", "ext-eng", 1)
	g.OktaID = "00g-okta"
	g.LastModified = at(2)
	// A duplicate id in the initial members is one member.
	if err := f.s.CreateGroup(f.ctx, f.tenant, g, []string{ids[0], ids[1], ids[0]}); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	if g.Version != 1 {
		t.Errorf("Version after CreateGroup = %d; want 1", g.Version)
	}
	got := f.getGroup(f.tenant, g.ID)
	wantAttrs(t, "GetGroup", got.Attrs, mapping.Attrs{"displayName": "Engineering ✓", "externalId": "ext-eng"})
	if got.ID != g.ID || got.OktaID != "00g-okta" || got.Origin != mapping.OriginOktaPush || got.Version != 1 {
		t.Errorf("GetGroup = %+v", got)
	}
	wantTime(t, "Created", got.Created, at(1))
	wantTime(t, "LastModified", got.LastModified, at(2))
	wantStrings(t, "GroupMembers", f.members(f.tenant, g.ID), sortedOf(ids[0], ids[1]))
	wantStrings(t, "UserGroups(member)", f.userGroups(f.tenant, ids[0]), []string{g.ID})
	wantStrings(t, "UserGroups(non-member)", f.userGroups(f.tenant, ids[2]), nil)

	empty := f.createGroup(f.tenant, "Empty", "")
	wantStrings(t, "GroupMembers(empty group)", f.members(f.tenant, empty.ID), nil)

	_, err := f.s.GetGroup(f.ctx, f.tenant, newID("g"))
	wantNotFound(t, err, "GetGroup(unknown)")
	_, err = f.s.GroupMembers(f.ctx, f.tenant, newID("g"))
	wantNotFound(t, err, "GroupMembers(unknown group)")
}

func testGroupCreateUnknownMembers(t *testing.T, f *fixture) {
	ids := f.createUsers("gu", 2)
	x, y := newID("u"), newID("u")
	g := group("Ghosts", "ext-ghosts", 1)
	err := f.s.CreateGroup(f.ctx, f.tenant, g, []string{ids[0], x, ids[1], y})
	wantUnknown(t, err, "CreateGroup with unknown members", x, y)
	// Nothing stored: no record, no index entries, no memberships.
	_, err = f.s.GetGroup(f.ctx, f.tenant, g.ID)
	wantNotFound(t, err, "GetGroup after failed create")
	f.wantFindGroup(f.tenant, store.IndexDisplayName, "Ghosts", "")
	f.wantFindGroup(f.tenant, store.IndexExternalID, "ext-ghosts", "")
	wantStrings(t, "UserGroups after failed create", f.userGroups(f.tenant, ids[0]), nil)
	if p, err := f.s.ListGroups(f.ctx, f.tenant, 0, 10); err != nil || p.Total != 0 {
		t.Errorf("ListGroups after failed create: Total %d, %v; want 0", p.Total, err)
	}
	// The same group with only known members is fine afterwards.
	g2 := group("Ghosts", "ext-ghosts", 1)
	if err := f.s.CreateGroup(f.ctx, f.tenant, g2, ids); err != nil {
		t.Fatalf("CreateGroup retry: %v", err)
	}
}

func testGroupDisplayNameUnique(t *testing.T, f *fixture) {
	a := f.createGroup(f.tenant, "Sales Team", "")
	for _, name := range []string{"Sales Team", "sales team", "SALES TEAM"} {
		g := group(name, "", 2)
		wantConflict(t, f.s.CreateGroup(f.ctx, f.tenant, g, nil), "displayName", name, "CreateGroup("+name+")")
		_, err := f.s.GetGroup(f.ctx, f.tenant, g.ID)
		wantNotFound(t, err, "GetGroup of a rejected group")
	}
	if got := f.getGroup(f.tenant, a.ID).DisplayName(); got != "Sales Team" {
		t.Errorf("displayName read back as %q", got)
	}
	for _, v := range []string{"Sales Team", "sales team", "SALES TEAM"} {
		f.wantFindGroup(f.tenant, store.IndexDisplayName, v, a.ID)
	}
	f.wantFindGroup(f.tenant, store.IndexDisplayName, "Sales", "")
	// Users and groups have separate namespaces.
	f.createUser(f.tenant, "Sales Team", "")
}

func testGroupExternalID(t *testing.T, f *fixture) {
	a := f.createGroup(f.tenant, "A", "00gAbC")
	b := f.createGroup(f.tenant, "B", "00gabc") // differs only in case: fine
	g := group("C", "00gAbC", 3)
	wantConflict(t, f.s.CreateGroup(f.ctx, f.tenant, g, nil), "externalId", "00gAbC", "CreateGroup(dup externalId)")
	f.wantFindGroup(f.tenant, store.IndexDisplayName, "C", "")
	f.wantFindGroup(f.tenant, store.IndexExternalID, "00gAbC", a.ID)
	f.wantFindGroup(f.tenant, store.IndexExternalID, "00gabc", b.ID)
	f.wantFindGroup(f.tenant, store.IndexExternalID, "00GABC", "")
	f.wantFindGroup(f.tenant, store.IndexExternalID, "", "")
	// A user may carry the same externalId as a group.
	u := f.createUser(f.tenant, "x@example.com", "00gAbC")
	f.wantFindUser(f.tenant, store.IndexExternalID, "00gAbC", u.ID)
	f.wantFindGroup(f.tenant, store.IndexExternalID, "00gAbC", a.ID)
	// Groups without externalId do not collide.
	f.createGroup(f.tenant, "D", "")
	f.createGroup(f.tenant, "E", "")
}

func testUpdateGroupAttrs(t *testing.T, f *fixture) {
	ids := f.createUsers("ua", 2)
	g := f.createGroup(f.tenant, "Ops", "ext-ops", ids[0])
	other := f.createGroup(f.tenant, "Dev", "ext-dev")

	got := f.update(f.tenant, g.ID, store.GroupChange{
		Attrs: mapping.Attrs{"displayName": "Operations", "externalId": "ext-ops2"},
		At:    at(10),
	})
	if got.Version != 2 || got.DisplayName() != "Operations" {
		t.Errorf("UpdateGroup returned %+v; want version 2, Operations", got)
	}
	wantTime(t, "LastModified", got.LastModified, at(10))
	wantTime(t, "Created", got.Created, g.Created)
	stored := f.getGroup(f.tenant, g.ID)
	wantAttrs(t, "stored attrs", stored.Attrs, mapping.Attrs{"displayName": "Operations", "externalId": "ext-ops2"})
	if stored.Version != 2 || stored.Origin != g.Origin {
		t.Errorf("stored group = %+v", stored)
	}
	f.wantFindGroup(f.tenant, store.IndexDisplayName, "ops", "")
	f.wantFindGroup(f.tenant, store.IndexDisplayName, "OPERATIONS", g.ID)
	f.wantFindGroup(f.tenant, store.IndexExternalID, "ext-ops", "")
	f.wantFindGroup(f.tenant, store.IndexExternalID, "ext-ops2", g.ID)
	wantStrings(t, "members unchanged by attrs", f.members(f.tenant, g.ID), []string{ids[0]})
	f.createGroup(f.tenant, "OPS", "ext-ops") // old values are free

	// Case-only rename is not a conflict with itself.
	got = f.update(f.tenant, g.ID, store.GroupChange{Attrs: mapping.Attrs{"displayName": "OPERATIONS", "externalId": "ext-ops2"}, At: at(11)})
	if got.Version != 3 || got.DisplayName() != "OPERATIONS" {
		t.Errorf("case-only rename: %+v", got)
	}

	// Rename to a taken name: conflict, nothing applied (members neither).
	_, err := f.s.UpdateGroup(f.ctx, f.tenant, g.ID, store.GroupChange{
		Attrs: mapping.Attrs{"displayName": "dev"}, Add: []string{ids[1]}, At: at(12),
	})
	wantConflict(t, err, "displayName", "dev", "rename group to a taken displayName")
	_, err = f.s.UpdateGroup(f.ctx, f.tenant, g.ID, store.GroupChange{
		Attrs: mapping.Attrs{"displayName": "Other", "externalId": "ext-dev"}, At: at(12),
	})
	wantConflict(t, err, "externalId", "ext-dev", "change group externalId to a taken one")
	stored = f.getGroup(f.tenant, g.ID)
	if stored.Version != 3 || stored.DisplayName() != "OPERATIONS" || stored.ExternalID() != "ext-ops2" {
		t.Errorf("after failed renames: %+v", stored)
	}
	wantTime(t, "LastModified after failed renames", stored.LastModified, at(11))
	wantStrings(t, "members after failed rename", f.members(f.tenant, g.ID), []string{ids[0]})
	f.wantFindGroup(f.tenant, store.IndexDisplayName, "other", "")
	f.wantFindGroup(f.tenant, store.IndexDisplayName, "dev", other.ID)

	// Dropping externalId frees it.
	f.update(f.tenant, g.ID, store.GroupChange{Attrs: mapping.Attrs{"displayName": "OPERATIONS"}, At: at(13)})
	f.wantFindGroup(f.tenant, store.IndexExternalID, "ext-ops2", "")

	_, err = f.s.UpdateGroup(f.ctx, f.tenant, newID("g"), store.GroupChange{Add: []string{ids[0]}, At: at(14)})
	wantNotFound(t, err, "UpdateGroup(unknown group)")
}

func testUpdateGroupMembersOrder(t *testing.T, f *fixture) {
	ids := f.createUsers("mo", 5)
	a, b, c, d, e := ids[0], ids[1], ids[2], ids[3], ids[4]
	g := f.createGroup(f.tenant, "Order", "", a, b)
	version := int64(1)
	step := func(what string, c store.GroupChange, want []string) {
		t.Helper()
		c.At = at(int(version) + 10)
		got := f.update(f.tenant, g.ID, c)
		version++
		if got.Version != version {
			t.Errorf("%s: Version = %d; want %d", what, got.Version, version)
		}
		wantTime(t, what+": LastModified", got.LastModified, c.At)
		wantStrings(t, what+": members", f.members(f.tenant, g.ID), sorted(want))
		for _, id := range ids {
			in := false
			for _, w := range want {
				in = in || w == id
			}
			gs := f.userGroups(f.tenant, id)
			if in != (len(gs) == 1 && gs[0] == g.ID) {
				t.Errorf("%s: UserGroups(%s) = %v; member: %v", what, id, gs, in)
			}
		}
	}
	step("add", store.GroupChange{Add: []string{c, d}}, []string{a, b, c, d})
	step("remove", store.GroupChange{Remove: []string{a, newID("u")}}, []string{b, c, d})
	step("add+remove", store.GroupChange{Add: []string{a, e}, Remove: []string{b}}, []string{a, c, d, e})
	// Replace, then remove, then add.
	step("replace+remove+add", store.GroupChange{ReplaceMembers: true, Members: []string{a, b, c}, Remove: []string{b}, Add: []string{d}}, []string{a, c, d})
	// Remove applies after replace: an id in Members and Remove is not a member.
	step("replace+remove same", store.GroupChange{ReplaceMembers: true, Members: []string{e, b}, Remove: []string{e}}, []string{b})
	step("replace with empty", store.GroupChange{ReplaceMembers: true}, nil)
	step("add to empty", store.GroupChange{Add: []string{a, a, b}}, []string{a, b})
	// Attrs and members in one change bump the version once.
	step("attrs+add", store.GroupChange{Attrs: mapping.Attrs{"displayName": "Order 2"}, Add: []string{c}}, []string{a, b, c})
}

func testUpdateGroupNoop(t *testing.T, f *fixture) {
	ids := f.createUsers("no", 3)
	g := f.createGroup(f.tenant, "Noop", "ext-noop", ids[0], ids[1])
	base := f.getGroup(f.tenant, g.ID)
	for _, tc := range []struct {
		name string
		c    store.GroupChange
	}{
		{"add existing member", store.GroupChange{Add: []string{ids[0]}}},
		{"remove non-member", store.GroupChange{Remove: []string{ids[2]}}},
		{"remove unknown id", store.GroupChange{Remove: []string{newID("u")}}},
		{"add existing, remove non-member", store.GroupChange{Add: []string{ids[1]}, Remove: []string{ids[2]}}},
		{"replace with same set", store.GroupChange{ReplaceMembers: true, Members: []string{ids[1], ids[0]}}},
		{"same attrs", store.GroupChange{Attrs: mapping.Attrs{"displayName": "Noop", "externalId": "ext-noop"}}},
		{"empty change", store.GroupChange{}},
		{"replace with other then add back", store.GroupChange{ReplaceMembers: true, Members: []string{ids[0]}, Add: []string{ids[1]}}},
	} {
		tc.c.At = at(100)
		got := f.update(f.tenant, g.ID, tc.c)
		if got.Version != base.Version {
			t.Errorf("%s: Version = %d; want unchanged %d", tc.name, got.Version, base.Version)
		}
		wantTime(t, tc.name+": LastModified", got.LastModified, base.LastModified)
		stored := f.getGroup(f.tenant, g.ID)
		if stored.Version != base.Version {
			t.Errorf("%s: stored Version = %d; want %d", tc.name, stored.Version, base.Version)
		}
		wantTime(t, tc.name+": stored LastModified", stored.LastModified, base.LastModified)
		wantStrings(t, tc.name+": members", f.members(f.tenant, g.ID), sortedOf(ids[0], ids[1]))
	}
	// A real change after the no-ops bumps once.
	got := f.update(f.tenant, g.ID, store.GroupChange{Add: []string{ids[2]}, At: at(200)})
	if got.Version != base.Version+1 {
		t.Errorf("Version after real change = %d; want %d", got.Version, base.Version+1)
	}
	wantTime(t, "LastModified after real change", got.LastModified, at(200))
}

func testUpdateGroupVersion(t *testing.T, f *fixture) {
	ids := f.createUsers("gv", 2)
	g := f.createGroup(f.tenant, "Versioned", "")
	f.update(f.tenant, g.ID, store.GroupChange{ExpectVersion: 1, Add: []string{ids[0]}, At: at(2)})
	_, err := f.s.UpdateGroup(f.ctx, f.tenant, g.ID, store.GroupChange{
		ExpectVersion: 1, Attrs: mapping.Attrs{"displayName": "Stale"}, Add: []string{ids[1]}, At: at(3),
	})
	wantVersionMismatch(t, err, "UpdateGroup(stale version)")
	stored := f.getGroup(f.tenant, g.ID)
	if stored.Version != 2 || stored.DisplayName() != "Versioned" {
		t.Errorf("after mismatch: %+v", stored)
	}
	wantStrings(t, "members after mismatch", f.members(f.tenant, g.ID), []string{ids[0]})
	f.wantFindGroup(f.tenant, store.IndexDisplayName, "Stale", "")
	got := f.update(f.tenant, g.ID, store.GroupChange{ExpectVersion: 2, Add: []string{ids[1]}, At: at(4)})
	if got.Version != 3 {
		t.Errorf("Version = %d; want 3", got.Version)
	}
	got = f.update(f.tenant, g.ID, store.GroupChange{ExpectVersion: 0, Remove: []string{ids[1]}, At: at(5)})
	if got.Version != 4 {
		t.Errorf("Version = %d; want 4", got.Version)
	}
}

func testUpdateGroupUnknownMembers(t *testing.T, f *fixture) {
	ids := f.createUsers("gx", 3)
	g := f.createGroup(f.tenant, "Strict", "ext-strict", ids[0])
	x := newID("u")
	_, err := f.s.UpdateGroup(f.ctx, f.tenant, g.ID, store.GroupChange{
		Attrs:  mapping.Attrs{"displayName": "Renamed"},
		Add:    []string{ids[1], x},
		Remove: []string{ids[0]},
		At:     at(5),
	})
	wantUnknown(t, err, "UpdateGroup adding an unknown id", x)
	_, err = f.s.UpdateGroup(f.ctx, f.tenant, g.ID, store.GroupChange{
		ReplaceMembers: true, Members: []string{ids[2], x}, At: at(6),
	})
	wantUnknown(t, err, "UpdateGroup replacing with an unknown id", x)
	stored := f.getGroup(f.tenant, g.ID)
	if stored.Version != 1 || stored.DisplayName() != "Strict" {
		t.Errorf("after rejected changes: %+v", stored)
	}
	wantTime(t, "LastModified after rejected changes", stored.LastModified, g.LastModified)
	wantStrings(t, "members after rejected changes", f.members(f.tenant, g.ID), []string{ids[0]})
	f.wantFindGroup(f.tenant, store.IndexDisplayName, "Renamed", "")
	f.wantFindGroup(f.tenant, store.IndexDisplayName, "strict", g.ID)
	wantStrings(t, "UserGroups(would-be member)", f.userGroups(f.tenant, ids[1]), nil)
	// A deleted user is unknown too.
	if err := f.s.DeleteUser(f.ctx, f.tenant, ids[2]); err != nil {
		t.Fatal(err)
	}
	_, err = f.s.UpdateGroup(f.ctx, f.tenant, g.ID, store.GroupChange{Add: []string{ids[2]}, At: at(7)})
	wantUnknown(t, err, "UpdateGroup adding a deleted user", ids[2])
}

func testUpdateGroupOktaID(t *testing.T, f *fixture) {
	g := f.createGroup(f.tenant, "Okta", "")
	if got := f.getGroup(f.tenant, g.ID); got.OktaID != "" {
		t.Errorf("OktaID of new group = %q", got.OktaID)
	}
	okta := "00g1"
	got := f.update(f.tenant, g.ID, store.GroupChange{OktaID: &okta, At: at(3)})
	if got.OktaID != "00g1" {
		t.Errorf("returned OktaID = %q; want 00g1", got.OktaID)
	}
	if got := f.getGroup(f.tenant, g.ID); got.OktaID != "00g1" {
		t.Errorf("stored OktaID = %q; want 00g1", got.OktaID)
	}
	// nil leaves it; attrs change keeps it.
	got = f.update(f.tenant, g.ID, store.GroupChange{Attrs: mapping.Attrs{"displayName": "Okta 2"}, At: at(4)})
	if got.OktaID != "00g1" || f.getGroup(f.tenant, g.ID).OktaID != "00g1" {
		t.Errorf("OktaID after change without OktaID = %q; want 00g1", got.OktaID)
	}
	empty := ""
	f.update(f.tenant, g.ID, store.GroupChange{OktaID: &empty, At: at(5)})
	if got := f.getGroup(f.tenant, g.ID); got.OktaID != "" {
		t.Errorf("OktaID after clearing = %q", got.OktaID)
	}
}

func testUserGroups(t *testing.T, f *fixture) {
	ids := f.createUsers("ug", 4)
	a, b, c, d := ids[0], ids[1], ids[2], ids[3]
	g1 := f.createGroup(f.tenant, "g1", "", a, b)
	g2 := f.createGroup(f.tenant, "g2", "", b, c)
	g3 := f.createGroup(f.tenant, "g3", "")
	// check asserts that UserGroups agrees with GroupMembers of every group.
	check := func(what string, users []string, groups ...*mapping.Group) {
		t.Helper()
		ug, err := f.s.UserGroups(f.ctx, f.tenant, users)
		if err != nil {
			t.Fatalf("%s: UserGroups: %v", what, err)
		}
		want := map[string][]string{}
		for _, g := range groups {
			for _, m := range f.members(f.tenant, g.ID) {
				want[m] = append(want[m], g.ID)
			}
		}
		for _, u := range users {
			wantStrings(t, what+": UserGroups["+u+"]", sorted(ug[u]), sorted(want[u]))
		}
	}
	all := []*mapping.Group{g1, g2, g3}
	check("initial", ids, all...)
	wantStrings(t, "UserGroups(b)", f.userGroups(f.tenant, b), sortedOf(g1.ID, g2.ID))
	f.update(f.tenant, g3.ID, store.GroupChange{Add: []string{a, d}, At: at(2)})
	check("after add", ids, all...)
	f.update(f.tenant, g1.ID, store.GroupChange{Remove: []string{b}, At: at(3)})
	check("after remove", ids, all...)
	f.update(f.tenant, g2.ID, store.GroupChange{ReplaceMembers: true, Members: []string{a, d}, At: at(4)})
	check("after replace", ids, all...)
	wantStrings(t, "UserGroups(a)", f.userGroups(f.tenant, a), sortedOf(g1.ID, g2.ID, g3.ID))
	wantStrings(t, "UserGroups(c)", f.userGroups(f.tenant, c), nil)
	if err := f.s.DeleteGroup(f.ctx, f.tenant, g3.ID, 0); err != nil {
		t.Fatal(err)
	}
	check("after delete group", ids, g1, g2)
	wantStrings(t, "UserGroups(d) after delete group", f.userGroups(f.tenant, d), []string{g2.ID})
	if err := f.s.DeleteUser(f.ctx, f.tenant, a); err != nil {
		t.Fatal(err)
	}
	check("after delete user", ids, g1, g2)
	wantStrings(t, "g2 after delete user", f.members(f.tenant, g2.ID), []string{d})
	// Unknown ids have no groups; duplicates in uids are harmless.
	ug, err := f.s.UserGroups(f.ctx, f.tenant, []string{newID("u"), d, d})
	if err != nil {
		t.Fatal(err)
	}
	wantStrings(t, "UserGroups(d) with duplicates", sorted(ug[d]), []string{g2.ID})
	if ug, err := f.s.UserGroups(f.ctx, f.tenant, nil); err != nil || len(ug) != 0 {
		t.Errorf("UserGroups(nil) = %v, %v", ug, err)
	}
}

// testDeleteGroupExpectVersion: DeleteGroup with an expected version
// deletes nothing once the group moved on (a member added), and deletes it
// at its current version; an unknown group is still ErrNotFound.
func testDeleteGroupExpectVersion(t *testing.T, f *fixture) {
	ids := f.createUsers("dv", 2)
	g := f.createGroup(f.tenant, "Versioned", "", ids[0])
	read, err := f.s.GetGroup(f.ctx, f.tenant, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	moved, err := f.s.UpdateGroup(f.ctx, f.tenant, g.ID, store.GroupChange{Add: []string{ids[1]}, At: at(2)})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.DeleteGroup(f.ctx, f.tenant, g.ID, read.Version); !errors.Is(err, store.ErrVersionMismatch) {
		t.Fatalf("DeleteGroup at the version read before a member was added: %v, want ErrVersionMismatch", err)
	}
	wantStrings(t, "members after the refused delete", slices.Sorted(slices.Values(f.members(f.tenant, g.ID))), slices.Sorted(slices.Values(ids)))
	wantStrings(t, "UserGroups after the refused delete", f.userGroups(f.tenant, ids[1]), []string{g.ID})
	if err := f.s.DeleteGroup(f.ctx, f.tenant, g.ID, moved.Version); err != nil {
		t.Fatalf("DeleteGroup at the current version: %v", err)
	}
	_, err = f.s.GetGroup(f.ctx, f.tenant, g.ID)
	wantNotFound(t, err, "GetGroup after the delete")
	wantNotFound(t, f.s.DeleteGroup(f.ctx, f.tenant, g.ID, moved.Version), "DeleteGroup of a deleted group at a version")
}

func testDeleteGroup(t *testing.T, f *fixture) {
	ids := f.createUsers("dg", 2)
	g := f.createGroup(f.tenant, "Doomed", "ext-doomed", ids...)
	keep := f.createGroup(f.tenant, "Kept", "", ids[0])
	if err := f.s.DeleteGroup(f.ctx, f.tenant, g.ID, 0); err != nil {
		t.Fatalf("DeleteGroup: %v", err)
	}
	_, err := f.s.GetGroup(f.ctx, f.tenant, g.ID)
	wantNotFound(t, err, "GetGroup after delete")
	_, err = f.s.GroupMembers(f.ctx, f.tenant, g.ID)
	wantNotFound(t, err, "GroupMembers after delete")
	f.wantFindGroup(f.tenant, store.IndexDisplayName, "doomed", "")
	f.wantFindGroup(f.tenant, store.IndexExternalID, "ext-doomed", "")
	wantStrings(t, "UserGroups after delete", f.userGroups(f.tenant, ids[0]), []string{keep.ID})
	wantStrings(t, "UserGroups after delete", f.userGroups(f.tenant, ids[1]), nil)
	// Users survive their group.
	f.getUser(f.tenant, ids[1])
	wantNotFound(t, f.s.DeleteGroup(f.ctx, f.tenant, g.ID, 0), "second DeleteGroup")
	_, err = f.s.UpdateGroup(f.ctx, f.tenant, g.ID, store.GroupChange{Add: []string{ids[0]}, At: at(3)})
	wantNotFound(t, err, "UpdateGroup after delete")
	// The name is free again and the new group starts empty.
	again := f.createGroup(f.tenant, "DOOMED", "ext-doomed")
	wantStrings(t, "members of recreated group", f.members(f.tenant, again.ID), nil)
	if p, err := f.s.ListGroups(f.ctx, f.tenant, 0, 10); err != nil || p.Total != 2 {
		t.Errorf("ListGroups after delete: Total %d, %v; want 2", p.Total, err)
	}
}

func testGetListGroups(t *testing.T, f *fixture) {
	var ids []string
	for i := range 5 {
		ids = append(ids, f.createGroup(f.tenant, "lg-"+string(rune('a'+i)), "").ID)
	}
	got, err := f.s.GetGroups(f.ctx, f.tenant, []string{ids[3], newID("g"), ids[1]})
	if err != nil {
		t.Fatal(err)
	}
	wantStrings(t, "GetGroups", groupIDs(got), []string{ids[3], ids[1]})
	if len(got) == 2 && got[0].DisplayName() != "lg-d" {
		t.Errorf("GetGroups[0].DisplayName = %q", got[0].DisplayName())
	}
	page := func(offset, limit int) ([]string, int) {
		t.Helper()
		p, err := f.s.ListGroups(f.ctx, f.tenant, offset, limit)
		if err != nil {
			t.Fatalf("ListGroups: %v", err)
		}
		return groupIDs(p.Items), p.Total
	}
	items, total := page(0, 10)
	wantStrings(t, "ListGroups", items, ids)
	if total != 5 {
		t.Errorf("Total = %d; want 5", total)
	}
	items, _ = page(1, 2)
	wantStrings(t, "ListGroups(1,2)", items, ids[1:3])
	items, total = page(5, 2)
	wantStrings(t, "ListGroups past end", items, nil)
	if total != 5 {
		t.Errorf("Total past end = %d; want 5", total)
	}
	f.update(f.tenant, ids[0], store.GroupChange{Attrs: mapping.Attrs{"displayName": "zz"}, At: at(9)})
	if err := f.s.DeleteGroup(f.ctx, f.tenant, ids[2], 0); err != nil {
		t.Fatal(err)
	}
	items, total = page(0, 10)
	wantStrings(t, "ListGroups after update+delete", items, []string{ids[0], ids[1], ids[3], ids[4]})
	if total != 4 {
		t.Errorf("Total = %d; want 4", total)
	}
}

func testGroupIsolation(t *testing.T, f *fixture) {
	ta, tb := f.tenant, f.newTenant()
	ua := f.createUser(ta, "m@example.com", "")
	ub := f.createUser(tb, "m@example.com", "")
	ga := f.createGroup(ta, "Team", "ext-team", ua.ID)
	gb := f.createGroup(tb, "team", "ext-team", ub.ID)
	f.wantFindGroup(tb, store.IndexDisplayName, "TEAM", gb.ID)
	f.wantFindGroup(ta, store.IndexExternalID, "ext-team", ga.ID)

	_, err := f.s.GetGroup(f.ctx, tb, ga.ID)
	wantNotFound(t, err, "GetGroup(A's group via B)")
	if got, err := f.s.GetGroups(f.ctx, tb, []string{ga.ID}); err != nil || len(got) != 0 {
		t.Errorf("GetGroups(A's group via B) = %v, %v", groupIDs(got), err)
	}
	_, err = f.s.GroupMembers(f.ctx, tb, ga.ID)
	wantNotFound(t, err, "GroupMembers(A's group via B)")
	_, err = f.s.UpdateGroup(f.ctx, tb, ga.ID, store.GroupChange{Add: []string{ub.ID}, At: at(3)})
	wantNotFound(t, err, "UpdateGroup(A's group via B)")
	_, err = f.s.UpdateGroup(f.ctx, tb, gb.ID, store.GroupChange{Add: []string{ua.ID}, At: at(3)})
	wantUnknown(t, err, "UpdateGroup(B's group adding A's user)", ua.ID)
	wantNotFound(t, f.s.DeleteGroup(f.ctx, tb, ga.ID, 0), "DeleteGroup(A's group via B)")
	wantStrings(t, "UserGroups(A's user via B)", f.userGroups(tb, ua.ID), nil)
	if p, err := f.s.ListGroups(f.ctx, tb, 0, 10); err != nil || p.Total != 1 || len(p.Items) != 1 || p.Items[0].ID != gb.ID {
		t.Errorf("ListGroups(B) = %v total %d, %v", groupIDs(p.Items), p.Total, err)
	}
	// A's state is intact.
	if got := f.getGroup(ta, ga.ID); got.Version != 1 {
		t.Errorf("A's group Version = %d; want 1", got.Version)
	}
	wantStrings(t, "A's members", f.members(ta, ga.ID), []string{ua.ID})
	wantStrings(t, "B's members", f.members(tb, gb.ID), []string{ub.ID})
	// Deleting B's user leaves A's memberships alone.
	if err := f.s.DeleteUser(f.ctx, tb, ub.ID); err != nil {
		t.Fatal(err)
	}
	wantStrings(t, "A's members after B's delete", f.members(ta, ga.ID), []string{ua.ID})
}
