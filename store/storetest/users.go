package storetest

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// richAttrs returns an attribute document with every JSON shape a backend
// must round-trip: nested maps, arrays of maps, arrays of mixed scalars,
// booleans, json.Number (including one beyond float64 precision and one
// with a significant trailing zero) and non-ASCII text.
func richAttrs() mapping.Attrs {
	return mapping.Attrs{
		"userName":    "Zoë.Ångström@例え.jp",
		"externalId":  "00u-Ω-" + randHex(4),
		"active":      false,
		"displayName": "Zoë Ångström 🚀",
		"name": map[string]any{
			"givenName":  "Zoë",
			"familyName": "Ångström",
			"formatted":  "Zoë \"Z\" Ångström\n",
		},
		"emails": []any{
			map[string]any{"value": "zoe@example.com", "type": "work", "primary": true},
			map[string]any{"value": "z@例え.jp", "type": "home", "primary": false},
		},
		"x509Certificates": []any{},
		"phoneNumbers":     []any{map[string]any{"value": "+1 555 0100"}},
		"nickName":         "",
		mapping.SchemaEnterpriseUser: map[string]any{
			"employeeNumber": "0042",
			"costCenter":     json.Number("12345678901234567890"),
			"division":       json.Number("1.50"),
			"manager":        map[string]any{"value": "mgr-1", "displayName": "Ünal"},
		},
		"urn:example:ext": map[string]any{
			"scores": []any{json.Number("1"), json.Number("-2.5e3"), "three", true, false},
			"empty":  map[string]any{},
		},
	}
}

func testUserRoundTrip(t *testing.T, f *fixture) {
	want := richAttrs()
	in := richAttrs()
	in["externalId"] = want["externalId"]
	u := &mapping.User{
		ID: newID("u"), Attrs: in, Origin: mapping.OriginReconciler,
		Created: at(1), LastModified: at(2),
	}
	if err := f.s.CreateUser(f.ctx, f.tenant, u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if u.Version != 1 {
		t.Errorf("Version after CreateUser = %d; want 1", u.Version)
	}
	got := f.getUser(f.tenant, u.ID)
	wantAttrs(t, "GetUser", got.Attrs, want)
	if got.ID != u.ID || got.Origin != mapping.OriginReconciler || got.Version != 1 {
		t.Errorf("GetUser = {ID:%q Origin:%q Version:%d}; want {%q %q 1}", got.ID, got.Origin, got.Version, u.ID, mapping.OriginReconciler)
	}
	wantTime(t, "Created", got.Created, at(1))
	wantTime(t, "LastModified", got.LastModified, at(2))
	f.wantFindUser(f.tenant, store.IndexUserName, "zoë.ångström@例え.jp", u.ID)
	f.wantFindUser(f.tenant, store.IndexExternalID, want["externalId"].(string), u.ID)

	// The store keeps its own copy: mutating the caller's or a returned
	// value changes nothing stored.
	in["displayName"] = "mutated"
	in["name"].(map[string]any)["givenName"] = "mutated"
	got.Attrs["nickName"] = "mutated"
	got.Attrs["emails"].([]any)[0].(map[string]any)["value"] = "mutated"
	wantAttrs(t, "GetUser after mutating aliases", f.getUser(f.tenant, u.ID).Attrs, want)

	_, err := f.s.GetUser(f.ctx, f.tenant, newID("u"))
	wantNotFound(t, err, "GetUser(unknown)")
}

func testUserNameUnique(t *testing.T, f *fixture) {
	a := f.createUser(f.tenant, "Alice.Smith@Example.com", "")
	for _, name := range []string{"Alice.Smith@Example.com", "alice.smith@example.com", "ALICE.SMITH@EXAMPLE.COM"} {
		dup := user(name, "", 2)
		wantConflict(t, f.s.CreateUser(f.ctx, f.tenant, dup), "userName", name, "CreateUser("+name+")")
		_, err := f.s.GetUser(f.ctx, f.tenant, dup.ID)
		wantNotFound(t, err, "GetUser of a rejected user")
	}
	// Non-ASCII case folding goes through mapping.FoldKey.
	f.createUser(f.tenant, "Ünal@example.com", "")
	wantConflict(t, f.s.CreateUser(f.ctx, f.tenant, user("üNAL@example.com", "", 3)),
		"userName", "üNAL@example.com", "CreateUser(üNAL)")
	// Case is preserved on read.
	if got := f.getUser(f.tenant, a.ID).UserName(); got != "Alice.Smith@Example.com" {
		t.Errorf("userName read back as %q", got)
	}
	page, err := f.s.ListUsers(f.ctx, f.tenant, 0, 10)
	if err != nil || page.Total != 2 {
		t.Errorf("ListUsers after rejected creates: Total = %d, %v; want 2", page.Total, err)
	}
}

// testUserNameLookalikes: names that look the same fold to the same
// mapping.FoldKey (NFC/NFD, a zero-width space, a leading space,
// fullwidth letters), so they never make a second user, and each finds
// the first one (issue 12 item 5).
func testUserNameLookalikes(t *testing.T, f *fixture) {
	a := f.createUser(f.tenant, "josé@example.com", "")
	for i, name := range []string{
		"jose\u0301@example.com",       // NFD
		"josé@example.com\u200b",       // trailing zero-width space
		" josé@example.com",            // leading space
		"ｊｏｓé＠ｅｘａｍｐｌｅ．ｃｏｍ",             // fullwidth
		"JOSE\u0301@EXAMPLE.COM\u00a0", // NFD, upper case, no-break space
	} {
		dup := user(name, "", 10+i)
		wantConflict(t, f.s.CreateUser(f.ctx, f.tenant, dup), "userName", name, "CreateUser("+name+")")
		f.wantFindUser(f.tenant, store.IndexUserName, name, a.ID)
	}
	g := f.createGroup(f.tenant, "Ingeniería", "")
	for _, name := range []string{"Ingenieri\u0301a", " INGENIERÍA ", "Ｉｎｇｅｎｉｅｒíａ", "Ingeniería\u200d"} {
		f.wantFindGroup(f.tenant, store.IndexDisplayName, name, g.ID)
	}
	page, err := f.s.ListUsers(f.ctx, f.tenant, 0, 10)
	if err != nil || page.Total != 1 {
		t.Errorf("ListUsers after lookalike creates: Total = %d, %v; want 1", page.Total, err)
	}
}

func testUserExternalIDUnique(t *testing.T, f *fixture) {
	a := f.createUser(f.tenant, "a@example.com", "00uAbC")
	// Exact case: differing only in case is a different externalId.
	b := f.createUser(f.tenant, "b@example.com", "00uabc")
	dup := user("c@example.com", "00uAbC", 3)
	wantConflict(t, f.s.CreateUser(f.ctx, f.tenant, dup), "externalId", "00uAbC", "CreateUser(dup externalId)")
	_, err := f.s.GetUser(f.ctx, f.tenant, dup.ID)
	wantNotFound(t, err, "GetUser of a rejected user")
	// The rejected user's userName was not indexed.
	f.wantFindUser(f.tenant, store.IndexUserName, "c@example.com", "")
	f.createUser(f.tenant, "c@example.com", "")
	// Users without externalId do not collide with each other.
	f.createUser(f.tenant, "d@example.com", "")
	f.wantFindUser(f.tenant, store.IndexExternalID, "00uAbC", a.ID)
	f.wantFindUser(f.tenant, store.IndexExternalID, "00uabc", b.ID)
	f.wantFindUser(f.tenant, store.IndexExternalID, "", "")
}

func testFindUser(t *testing.T, f *fixture) {
	a := f.createUser(f.tenant, "Bob@Example.com", "ext-Bob")
	for _, v := range []string{"Bob@Example.com", "bob@example.com", "BOB@EXAMPLE.COM"} {
		f.wantFindUser(f.tenant, store.IndexUserName, v, a.ID)
	}
	f.wantFindUser(f.tenant, store.IndexUserName, "bob", "")
	f.wantFindUser(f.tenant, store.IndexExternalID, "ext-Bob", a.ID)
	f.wantFindUser(f.tenant, store.IndexExternalID, "ext-bob", "")
	f.wantFindUser(f.tenant, store.IndexExternalID, "EXT-BOB", "")
	// The userName index is not the externalId index.
	f.wantFindUser(f.tenant, store.IndexUserName, "ext-Bob", "")
	f.wantFindUser(f.tenant, store.IndexExternalID, "Bob@Example.com", "")
}

func testUpdateUser(t *testing.T, f *fixture) {
	u := f.createUser(f.tenant, "carol@example.com", "ext-carol")
	created := u.Created

	// Rename; the caller's Created/Origin are ignored: UpdateUser replaces
	// Attrs and LastModified only.
	upd := &mapping.User{
		ID:           u.ID,
		Attrs:        mapping.Attrs{"userName": "Caroline@Example.com", "externalId": "ext-carol", "active": false, "title": "Dr"},
		Origin:       mapping.OriginOperator,
		Created:      at(99),
		LastModified: at(10),
	}
	if err := f.s.UpdateUser(f.ctx, f.tenant, upd, 1); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if upd.Version != 2 {
		t.Errorf("Version after UpdateUser = %d; want 2", upd.Version)
	}
	got := f.getUser(f.tenant, u.ID)
	if got.Version != 2 {
		t.Errorf("stored Version = %d; want 2", got.Version)
	}
	wantAttrs(t, "after update", got.Attrs, upd.Attrs)
	wantTime(t, "LastModified", got.LastModified, at(10))
	wantTime(t, "Created", got.Created, created)
	if got.Origin != mapping.OriginOktaPush {
		t.Errorf("Origin after update = %q; want unchanged %q", got.Origin, mapping.OriginOktaPush)
	}
	// Re-indexed: old name free, new name found.
	f.wantFindUser(f.tenant, store.IndexUserName, "carol@example.com", "")
	f.wantFindUser(f.tenant, store.IndexUserName, "caroline@example.com", u.ID)
	f.wantFindUser(f.tenant, store.IndexExternalID, "ext-carol", u.ID)
	f.createUser(f.tenant, "CAROL@example.com", "")

	// A change of letter case only is not a conflict with itself.
	upd.Attrs = mapping.Attrs{"userName": "CAROLINE@EXAMPLE.COM", "externalId": "ext-carol"}
	upd.LastModified = at(11)
	if err := f.s.UpdateUser(f.ctx, f.tenant, upd, 0); err != nil {
		t.Fatalf("UpdateUser(case-only rename): %v", err)
	}
	if upd.Version != 3 {
		t.Errorf("Version after second UpdateUser = %d; want 3", upd.Version)
	}
	if got := f.getUser(f.tenant, u.ID).UserName(); got != "CAROLINE@EXAMPLE.COM" {
		t.Errorf("userName after case-only rename = %q", got)
	}
	f.wantFindUser(f.tenant, store.IndexUserName, "Caroline@example.com", u.ID)

	// Unknown user.
	ghost := user("ghost@example.com", "", 1)
	wantNotFound(t, f.s.UpdateUser(f.ctx, f.tenant, ghost, 0), "UpdateUser(unknown)")
	f.wantFindUser(f.tenant, store.IndexUserName, "ghost@example.com", "")
}

func testUpdateUserRenameConflict(t *testing.T, f *fixture) {
	a := f.createUser(f.tenant, "dave@example.com", "ext-dave")
	b := f.createUser(f.tenant, "erin@example.com", "ext-erin")
	before := f.getUser(f.tenant, b.ID)

	upd := &mapping.User{ID: b.ID, Attrs: mapping.Attrs{"userName": "DAVE@example.com", "externalId": "ext-erin-2"}, LastModified: at(5)}
	wantConflict(t, f.s.UpdateUser(f.ctx, f.tenant, upd, 0), "userName", "DAVE@example.com", "rename to a taken userName")
	upd = &mapping.User{ID: b.ID, Attrs: mapping.Attrs{"userName": "erin2@example.com", "externalId": "ext-dave"}, LastModified: at(5)}
	wantConflict(t, f.s.UpdateUser(f.ctx, f.tenant, upd, 0), "externalId", "ext-dave", "change to a taken externalId")

	// Nothing changed: record, version, and every index entry.
	after := f.getUser(f.tenant, b.ID)
	wantAttrs(t, "after failed updates", after.Attrs, before.Attrs)
	if after.Version != before.Version {
		t.Errorf("Version after failed updates = %d; want %d", after.Version, before.Version)
	}
	wantTime(t, "LastModified after failed updates", after.LastModified, before.LastModified)
	f.wantFindUser(f.tenant, store.IndexUserName, "erin@example.com", b.ID)
	f.wantFindUser(f.tenant, store.IndexUserName, "dave@example.com", a.ID)
	f.wantFindUser(f.tenant, store.IndexUserName, "erin2@example.com", "")
	f.wantFindUser(f.tenant, store.IndexExternalID, "ext-erin", b.ID)
	f.wantFindUser(f.tenant, store.IndexExternalID, "ext-erin-2", "")
	f.wantFindUser(f.tenant, store.IndexExternalID, "ext-dave", a.ID)
}

func testUpdateUserVersion(t *testing.T, f *fixture) {
	u := f.createUser(f.tenant, "frank@example.com", "")
	for v := int64(1); v <= 3; v++ {
		upd := &mapping.User{ID: u.ID, Attrs: mapping.Attrs{"userName": "frank@example.com", "title": json.Number("1")}, LastModified: at(int(v))}
		if err := f.s.UpdateUser(f.ctx, f.tenant, upd, v); err != nil {
			t.Fatalf("UpdateUser(expect %d): %v", v, err)
		}
		if upd.Version != v+1 {
			t.Fatalf("Version = %d; want %d", upd.Version, v+1)
		}
	}
	// Stale version: rejected, nothing changed.
	upd := &mapping.User{ID: u.ID, Attrs: mapping.Attrs{"userName": "frank2@example.com"}, LastModified: at(50)}
	wantVersionMismatch(t, f.s.UpdateUser(f.ctx, f.tenant, upd, 2), "UpdateUser(stale)")
	wantVersionMismatch(t, f.s.UpdateUser(f.ctx, f.tenant, upd, 5), "UpdateUser(future)")
	got := f.getUser(f.tenant, u.ID)
	if got.Version != 4 || got.UserName() != "frank@example.com" {
		t.Errorf("after mismatches: Version %d userName %q; want 4 frank@example.com", got.Version, got.UserName())
	}
	f.wantFindUser(f.tenant, store.IndexUserName, "frank2@example.com", "")
	// expectVersion 0: any.
	if err := f.s.UpdateUser(f.ctx, f.tenant, upd, 0); err != nil {
		t.Fatalf("UpdateUser(expect 0): %v", err)
	}
	if upd.Version != 5 {
		t.Errorf("Version = %d; want 5", upd.Version)
	}
	// A user that does not exist is ErrNotFound even with a version.
	ghost := &mapping.User{ID: newID("u"), Attrs: mapping.Attrs{"userName": "g@example.com"}}
	if err := f.s.UpdateUser(f.ctx, f.tenant, ghost, 1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateUser(unknown, expect 1) = %v; want ErrNotFound", err)
	}
}

func testUpdateUserExternalIDRemoved(t *testing.T, f *fixture) {
	u := f.createUser(f.tenant, "grace@example.com", "ext-grace")
	upd := &mapping.User{ID: u.ID, Attrs: mapping.Attrs{"userName": "grace@example.com"}, LastModified: at(3)}
	if err := f.s.UpdateUser(f.ctx, f.tenant, upd, 0); err != nil {
		t.Fatalf("UpdateUser(drop externalId): %v", err)
	}
	f.wantFindUser(f.tenant, store.IndexExternalID, "ext-grace", "")
	if got := f.getUser(f.tenant, u.ID).ExternalID(); got != "" {
		t.Errorf("externalId after removal = %q", got)
	}
	other := f.createUser(f.tenant, "heidi@example.com", "ext-grace")
	f.wantFindUser(f.tenant, store.IndexExternalID, "ext-grace", other.ID)

	// Changing externalId frees the old value too.
	upd = &mapping.User{ID: other.ID, Attrs: mapping.Attrs{"userName": "heidi@example.com", "externalId": "ext-heidi"}, LastModified: at(4)}
	if err := f.s.UpdateUser(f.ctx, f.tenant, upd, 0); err != nil {
		t.Fatalf("UpdateUser(change externalId): %v", err)
	}
	f.wantFindUser(f.tenant, store.IndexExternalID, "ext-grace", "")
	f.wantFindUser(f.tenant, store.IndexExternalID, "ext-heidi", other.ID)
}

func testDeleteUser(t *testing.T, f *fixture) {
	u := f.createUser(f.tenant, "ivan@example.com", "ext-ivan")
	keep := f.createUser(f.tenant, "judy@example.com", "")
	g1 := f.createGroup(f.tenant, "g1", "", u.ID, keep.ID)
	g2 := f.createGroup(f.tenant, "g2", "", u.ID)

	if err := f.s.DeleteUser(f.ctx, f.tenant, u.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err := f.s.GetUser(f.ctx, f.tenant, u.ID)
	wantNotFound(t, err, "GetUser after delete")
	f.wantFindUser(f.tenant, store.IndexUserName, "ivan@example.com", "")
	f.wantFindUser(f.tenant, store.IndexExternalID, "ext-ivan", "")
	wantStrings(t, "g1 members after delete", f.members(f.tenant, g1.ID), []string{keep.ID})
	wantStrings(t, "g2 members after delete", f.members(f.tenant, g2.ID), nil)
	wantStrings(t, "UserGroups(deleted)", f.userGroups(f.tenant, u.ID), nil)
	wantStrings(t, "UserGroups(kept)", f.userGroups(f.tenant, keep.ID), []string{g1.ID})
	page, err := f.s.ListUsers(f.ctx, f.tenant, 0, 10)
	if err != nil || page.Total != 1 || len(page.Items) != 1 || page.Items[0].ID != keep.ID {
		t.Errorf("ListUsers after delete = %v (total %d), %v; want only %s", userIDs(page.Items), page.Total, err, keep.ID)
	}
	wantNotFound(t, f.s.DeleteUser(f.ctx, f.tenant, u.ID), "second DeleteUser")
	wantNotFound(t, f.s.DeleteUser(f.ctx, f.tenant, newID("u")), "DeleteUser(unknown)")

	// The names are free again, and the new user is not in the old groups.
	again := f.createUser(f.tenant, "IVAN@example.com", "ext-ivan")
	wantStrings(t, "UserGroups(recreated)", f.userGroups(f.tenant, again.ID), nil)
	f.wantFindUser(f.tenant, store.IndexExternalID, "ext-ivan", again.ID)
}

func testGetUsers(t *testing.T, f *fixture) {
	ids := f.createUsers("gu", 4)
	missing := newID("u")
	got, err := f.s.GetUsers(f.ctx, f.tenant, []string{ids[2], missing, ids[0], ids[3]})
	if err != nil {
		t.Fatalf("GetUsers: %v", err)
	}
	wantStrings(t, "GetUsers ids", userIDs(got), []string{ids[2], ids[0], ids[3]})
	for _, u := range got {
		if u.Version != 1 || u.UserName() == "" {
			t.Errorf("GetUsers returned an incomplete user: %+v", u)
		}
	}
	got, err = f.s.GetUsers(f.ctx, f.tenant, nil)
	if err != nil || len(got) != 0 {
		t.Errorf("GetUsers(nil) = %v, %v; want none", got, err)
	}
	// Another tenant's ids are missing here.
	got, err = f.s.GetUsers(f.ctx, f.newTenant(), ids)
	if err != nil || len(got) != 0 {
		t.Errorf("GetUsers(other tenant) = %v, %v; want none", userIDs(got), err)
	}
}

func testListUsers(t *testing.T, f *fixture) {
	ids := f.createUsers("lu", 7)
	list := func(offset, limit int) ([]string, int) {
		t.Helper()
		p, err := f.s.ListUsers(f.ctx, f.tenant, offset, limit)
		if err != nil {
			t.Fatalf("ListUsers(%d, %d): %v", offset, limit, err)
		}
		return userIDs(p.Items), p.Total
	}
	check := func(what string, offset, limit int, want []string, total int) {
		t.Helper()
		got, tot := list(offset, limit)
		wantStrings(t, what, got, want)
		if tot != total {
			t.Errorf("%s: Total = %d; want %d", what, tot, total)
		}
	}
	check("all", 0, 100, ids, 7)
	check("first 3", 0, 3, ids[:3], 7)
	check("offset 3 limit 3", 3, 3, ids[3:6], 7)
	check("tail", 5, 10, ids[5:], 7)
	check("past the end", 7, 10, nil, 7)
	check("limit 0", 0, 0, nil, 7)

	// Updates keep the order.
	upd := &mapping.User{ID: ids[0], Attrs: mapping.Attrs{"userName": "renamed@example.com"}, LastModified: at(100)}
	if err := f.s.UpdateUser(f.ctx, f.tenant, upd, 0); err != nil {
		t.Fatal(err)
	}
	check("after update", 0, 100, ids, 7)
	// Deletes close the gap and keep the order.
	for _, i := range []int{1, 4} {
		if err := f.s.DeleteUser(f.ctx, f.tenant, ids[i]); err != nil {
			t.Fatal(err)
		}
	}
	rest := []string{ids[0], ids[2], ids[3], ids[5], ids[6]}
	check("after deletes", 0, 100, rest, 5)
	check("after deletes, page 2", 2, 2, rest[2:4], 5)
	// A new user goes last.
	n := f.createUser(f.tenant, "newest@example.com", "")
	check("after create", 0, 100, append(rest, n.ID), 6)

	if p, err := f.s.ListUsers(f.ctx, f.newTenant(), 0, 10); err != nil || p.Total != 0 || len(p.Items) != 0 {
		t.Errorf("ListUsers(empty tenant) = %+v, %v", p, err)
	}
}

func testUserIsolation(t *testing.T, f *fixture) {
	ta, tb := f.tenant, f.newTenant()
	a := f.createUser(ta, "kim@example.com", "ext-kim")
	b := f.createUser(tb, "KIM@example.com", "ext-kim") // same names: fine in another tenant
	f.wantFindUser(ta, store.IndexUserName, "kim@example.com", a.ID)
	f.wantFindUser(tb, store.IndexUserName, "kim@example.com", b.ID)
	f.wantFindUser(tb, store.IndexExternalID, "ext-kim", b.ID)

	tc := f.newTenant()
	_, err := f.s.GetUser(f.ctx, tc, a.ID)
	wantNotFound(t, err, "GetUser(A's user via C)")
	f.wantFindUser(tc, store.IndexUserName, "kim@example.com", "")
	f.wantFindUser(tc, store.IndexExternalID, "ext-kim", "")
	if p, err := f.s.ListUsers(f.ctx, tc, 0, 10); err != nil || p.Total != 0 || len(p.Items) != 0 {
		t.Errorf("ListUsers(C) = %d items total %d, %v; want none", len(p.Items), p.Total, err)
	}
	upd := &mapping.User{ID: a.ID, Attrs: mapping.Attrs{"userName": "hijack@example.com"}, LastModified: at(9)}
	wantNotFound(t, f.s.UpdateUser(f.ctx, tb, upd, 0), "UpdateUser(A's user via B)")
	wantNotFound(t, f.s.DeleteUser(f.ctx, tb, a.ID), "DeleteUser(A's user via B)")
	got := f.getUser(ta, a.ID)
	if got.UserName() != "kim@example.com" || got.Version != 1 {
		t.Errorf("A's user changed through B: %+v", got)
	}
	f.wantFindUser(tb, store.IndexUserName, "hijack@example.com", "")
	// B's group cannot take A's user as a member.
	g := group("team", "", 1)
	wantUnknown(t, f.s.CreateGroup(f.ctx, tb, g, []string{a.ID}), "CreateGroup(B) with A's user", a.ID)
	if p, _ := f.s.ListUsers(f.ctx, tb, 0, 10); p.Total != 1 {
		t.Errorf("ListUsers(B).Total = %d; want 1", p.Total)
	}
}
