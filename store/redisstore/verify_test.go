package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

func TestVerify(t *testing.T) { testVerifyCorruptions(t, openTB(t)) }

// verifyTenant creates a fresh tenant with users u1 (ada), u2 (bob), u3
// (cy), groups g1 (Admins: u1, u2) and g2 (Devs: u2), and a manual role of
// u1.
func verifyFixture(t *testing.T, s *Store) string {
	t.Helper()
	ctx := context.Background()
	tn := fmt.Sprintf("verify-%d", time.Now().UnixNano())
	now := time.Now()
	if _, err := s.EnsureTenant(ctx, tn, now); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*mapping.User{
		{ID: "u1", Attrs: mapping.Attrs{"userName": "Ada@example.com", "externalId": "00u1"}, Created: now},
		{ID: "u2", Attrs: mapping.Attrs{"userName": "bob@example.com", "externalId": "00u2"}, Created: now},
		{ID: "u3", Attrs: mapping.Attrs{"userName": "cy@example.com"}, Created: now},
	} {
		if err := s.CreateUser(ctx, tn, u); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateGroup(ctx, tn, &mapping.Group{ID: "g1", Attrs: mapping.Attrs{"displayName": "Admins", "externalId": "00g1"}, Created: now}, []string{"u1", "u2"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateGroup(ctx, tn, &mapping.Group{ID: "g2", Attrs: mapping.Attrs{"displayName": "Devs"}, Created: now}, []string{"u2"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AssignRole(ctx, tn, "u1", "admin", mapping.SourceManual); err != nil {
		t.Fatal(err)
	}
	return tn
}

func mustVerify(t *testing.T, s *Store, tn string, repair bool) store.VerifyReport {
	t.Helper()
	r, err := s.Verify(context.Background(), tn, repair)
	if err != nil {
		t.Fatalf("Verify(%s, repair=%v): %v", tn, repair, err)
	}
	return r
}

// testVerifyCorruptions writes every kind of inconsistency straight into
// Redis, then checks that Verify reports each one, that repair fixes each
// one, that Verify is clean afterwards and that the store reads right.
func testVerifyCorruptions(t *testing.T, s *Store) {
	ctx := context.Background()
	t.Run("Clean", func(t *testing.T) {
		tn := verifyFixture(t, s)
		r := mustVerify(t, s, tn, false)
		if r.Found() != 0 || r.Users != 3 || r.Groups != 2 || r.Memberships != 3 {
			t.Fatalf("fresh tenant: %+v", r)
		}
		if _, err := s.Verify(ctx, "no-such-tenant-"+tn, false); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Verify(unknown tenant) = %v; want ErrNotFound", err)
		}
	})

	t.Run("RepairEveryKind", func(t *testing.T) {
		tn := verifyFixture(t, s)
		k := s.tk(tn)
		c := s.c
		for _, err := range []error{
			c.HSet(ctx, k.idxUserName(), "ghost@example.com", "u-ghost").Err(), // index-dangling
			c.HSet(ctx, k.idxUserName(), "old@example.com", "u2").Err(),        // index-mismatch
			c.HDel(ctx, k.idxUserExternalID(), "00u1").Err(),                   // record-unindexed
			c.HSet(ctx, k.group("g2"), "dn", "wrong").Err(),                    // record-index-fields
			c.ZAdd(ctx, k.users(), redisZ(999, "u-gone")).Err(),                // list-dangling
			c.ZRem(ctx, k.groups(), "g1").Err(),                                // record-unlisted
			c.SAdd(ctx, k.members("g1"), "u-gone2").Err(),                      // member-dangling
			c.SAdd(ctx, k.members("g-gone"), "u3").Err(),                       // members-orphan
			c.SRem(ctx, k.memberof("u2"), "g2").Err(),                          // backref-missing
			c.SAdd(ctx, k.memberof("u3"), "g1").Err(),                          // backref-extra
			c.SAdd(ctx, k.memberof("u-gone3"), "g1").Err(),                     // backref-orphan
			c.SAdd(ctx, k.userRoles("u-gone4"), "manual:admin").Err(),          // role-dangling
			c.SAdd(ctx, k.userRoles("u1"), "garbage").Err(),                    // role-malformed
			c.HDel(ctx, s.tenantsKey(), tn).Err(),                              // tenant-registry
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		kinds := []string{
			store.ProblemIndexDangling, store.ProblemIndexMismatch, store.ProblemUnindexed,
			store.ProblemIndexFields, store.ProblemListDangling, store.ProblemUnlisted,
			store.ProblemMemberDangling, store.ProblemMembersOrphan, store.ProblemBackrefMissing,
			store.ProblemBackrefExtra, store.ProblemBackrefOrphan, store.ProblemRoleDangling,
			store.ProblemRoleMalformed, store.ProblemTenantRegistry,
		}
		r := mustVerify(t, s, tn, false)
		for _, kind := range kinds {
			if p := r.Get(kind); p.Count != 1 || p.Repaired != 0 || len(p.Examples) != 1 {
				t.Errorf("verify: %s = %+v; want 1 found, 0 repaired, 1 example", kind, p)
			}
		}
		if r.Found() != len(kinds) || r.Remaining() != len(kinds) {
			t.Errorf("verify found %d (remaining %d), want %d: %+v", r.Found(), r.Remaining(), len(kinds), r.Problems)
		}
		if again := mustVerify(t, s, tn, false); again.Found() != r.Found() {
			t.Errorf("verify without repair changed something: %d then %d problems", r.Found(), again.Found())
		}

		r = mustVerify(t, s, tn, true)
		for _, kind := range kinds {
			if p := r.Get(kind); p.Count != 1 || p.Repaired != 1 {
				t.Errorf("repair: %s = %+v; want 1 found, 1 repaired", kind, p)
			}
		}
		if r.Remaining() != 0 {
			t.Errorf("repair left %d problems: %+v", r.Remaining(), r.Problems)
		}
		if r := mustVerify(t, s, tn, false); r.Found() != 0 {
			t.Fatalf("verify after repair: %+v", r.Problems)
		}

		// The store reads right again.
		if _, err := s.FindUser(ctx, tn, store.IndexUserName, "ghost@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ghost still found: %v", err)
		}
		if id, err := s.FindUser(ctx, tn, store.IndexExternalID, "00u1"); err != nil || id != "u1" {
			t.Errorf("FindUser(00u1) = %q, %v", id, err)
		}
		if id, err := s.FindGroup(ctx, tn, store.IndexDisplayName, "devs"); err != nil || id != "g2" {
			t.Errorf("FindGroup(devs) = %q, %v", id, err)
		}
		us, err := s.ListUsers(ctx, tn, 0, 10)
		if err != nil || us.Total != 3 {
			t.Errorf("ListUsers total %d, %v", us.Total, err)
		}
		gs, err := s.ListGroups(ctx, tn, 0, 10)
		if err != nil || gs.Total != 2 {
			t.Errorf("ListGroups total %d, %v", gs.Total, err)
		}
		m, err := s.GroupMembers(ctx, tn, "g1")
		slices.Sort(m)
		if err != nil || !slices.Equal(m, []string{"u1", "u2"}) {
			t.Errorf("GroupMembers(g1) = %v, %v", m, err)
		}
		ug, err := s.UserGroups(ctx, tn, []string{"u2", "u3"})
		slices.Sort(ug["u2"])
		if err != nil || !slices.Equal(ug["u2"], []string{"g1", "g2"}) || len(ug["u3"]) != 0 {
			t.Errorf("UserGroups = %v, %v", ug, err)
		}
		roles, err := s.UserRoles(ctx, tn, []string{"u1"})
		if err != nil || len(roles["u1"]) != 1 {
			t.Errorf("UserRoles(u1) = %v, %v", roles, err)
		}
		ts, err := s.ListTenants(ctx)
		if err != nil || !slices.ContainsFunc(ts, func(x store.Tenant) bool { return x.ID == tn }) {
			t.Errorf("tenant not listed after repair: %v", err)
		}
		// Renaming works as before (the record's index fields are right).
		g, err := s.GetGroup(ctx, tn, "g2")
		if err != nil {
			t.Fatal(err)
		}
		g.Attrs["displayName"] = "Developers"
		if _, err := s.UpdateGroup(ctx, tn, "g2", store.GroupChange{Attrs: g.Attrs}); err != nil {
			t.Fatal(err)
		}
		if r := mustVerify(t, s, tn, false); r.Found() != 0 {
			t.Errorf("verify after a rename: %+v", r.Problems)
		}
	})

	t.Run("ClashAndCorruptAreNotRepaired", func(t *testing.T) {
		tn := verifyFixture(t, s)
		k := s.tk(tn)
		// u2's document now says ADA@example.com (u1's name, folded) and
		// carries the matching index field; u3's document is unreadable.
		if err := s.c.HSet(ctx, k.user("u2"), "doc", `{"userName":"ADA@example.com","externalId":"00u2"}`, "un", "ada@example.com").Err(); err != nil {
			t.Fatal(err)
		}
		if err := s.c.HSet(ctx, k.user("u3"), "doc", `{not json`).Err(); err != nil {
			t.Fatal(err)
		}
		r := mustVerify(t, s, tn, true)
		if p := r.Get(store.ProblemIndexClash); p.Count != 1 || p.Repaired != 0 {
			t.Errorf("clash: %+v", p)
		}
		if p := r.Get(store.ProblemRecordCorrupt); p.Count != 1 || p.Repaired != 0 {
			t.Errorf("corrupt: %+v", p)
		}
		if p := r.Get(store.ProblemIndexMismatch); p.Count != 1 || p.Repaired != 1 { // bob@ → u2
			t.Errorf("mismatch: %+v", p)
		}
		if r.Remaining() != 2 {
			t.Errorf("remaining %d, want 2 (clash, corrupt): %+v", r.Remaining(), r.Problems)
		}
		// Still u1's: repair never guesses.
		if id, err := s.FindUser(ctx, tn, store.IndexUserName, "ada@example.com"); err != nil || id != "u1" {
			t.Errorf("FindUser(ada) = %q, %v", id, err)
		}
		// The operator resolves both; then everything is clean.
		u2, err := s.GetUser(ctx, tn, "u2")
		if err != nil {
			t.Fatal(err)
		}
		u2.Attrs["userName"] = "bob@example.com"
		if err := s.UpdateUser(ctx, tn, u2, 0); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteUser(ctx, tn, "u3"); err != nil {
			t.Fatal(err)
		}
		if r := mustVerify(t, s, tn, true); r.Remaining() != 0 {
			t.Errorf("after resolving: %+v", r.Problems)
		}
		if r := mustVerify(t, s, tn, false); r.Found() != 0 {
			t.Errorf("verify after resolving: %+v", r.Problems)
		}
	})

	// Repair re-checks its premise: an index entry whose record appears
	// between verify's read and the repair is kept.
	t.Run("RepairRechecks", func(t *testing.T) {
		tn := verifyFixture(t, s)
		k := s.tk(tn)
		if err := s.c.HSet(ctx, k.idxUserName(), "late@example.com", "u-late").Err(); err != nil {
			t.Fatal(err)
		}
		if err := s.loadRepair(ctx); err != nil {
			t.Fatal(err)
		}
		// Verify saw the entry dangling; now the user exists.
		if err := s.c.HSet(ctx, k.user("u-late"), "v", "1").Err(); err != nil {
			t.Fatal(err)
		}
		var r store.VerifyReport
		if err := s.repairAll(ctx, &r, store.ProblemIndexDangling, 1, func(int) ([]string, []any) {
			return []string{k.idxUserName(), k.user("u-late")}, []any{"idxdel", "late@example.com", "u-late", ""}
		}); err != nil {
			t.Fatal(err)
		}
		if r.Get(store.ProblemIndexDangling).Repaired != 0 {
			t.Error("repair removed an entry whose record exists")
		}
		if id, _ := s.c.HGet(ctx, k.idxUserName(), "late@example.com").Result(); id != "u-late" {
			t.Errorf("entry = %q", id)
		}
	})
}

func redisZ(score float64, member string) redis.Z { return redis.Z{Score: score, Member: member} }
