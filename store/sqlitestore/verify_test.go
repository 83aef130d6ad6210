package sqlitestore

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// verifyFixture fills tenant acme with users u1 (Ada), u2 (bob), u3 (cy),
// u4 (dan), u5 (eve), groups g1 (Admins: u1, u2) and g2 (Devs: u2), and a
// manual role of u1.
func verifyFixture(t *testing.T) *Store {
	t.Helper()
	ctx := context.Background()
	s := openTB(t, filepath.Join(t.TempDir(), "state.db"))
	now := time.Now()
	if _, err := s.EnsureTenant(ctx, "acme", now); err != nil {
		t.Fatal(err)
	}
	for _, u := range []*mapping.User{
		{ID: "u1", Attrs: mapping.Attrs{"userName": "Ada@example.com", "externalId": "00u1"}, Created: now},
		{ID: "u2", Attrs: mapping.Attrs{"userName": "bob@example.com", "externalId": "00u2"}, Created: now},
		{ID: "u3", Attrs: mapping.Attrs{"userName": "cy@example.com"}, Created: now},
		{ID: "u4", Attrs: mapping.Attrs{"userName": "dan@example.com"}, Created: now},
		{ID: "u5", Attrs: mapping.Attrs{"userName": "eve@example.com"}, Created: now},
	} {
		if err := s.CreateUser(ctx, "acme", u); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateGroup(ctx, "acme", &mapping.Group{ID: "g1", Attrs: mapping.Attrs{"displayName": "Admins", "externalId": "00g1"}, Created: now}, []string{"u1", "u2"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateGroup(ctx, "acme", &mapping.Group{ID: "g2", Attrs: mapping.Attrs{"displayName": "Devs"}, Created: now}, []string{"u2"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AssignRole(ctx, "acme", "u1", "admin", mapping.SourceManual); err != nil {
		t.Fatal(err)
	}
	return s
}

// corrupt runs statements on the writer connection with foreign keys off,
// as a hand-edited or partly restored file might be.
func corrupt(t *testing.T, s *Store, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.w.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		t.Fatal(err)
	}
	defer s.w.ExecContext(ctx, `PRAGMA foreign_keys = ON`) //nolint:errcheck
	for _, q := range stmts {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func mustVerify(t *testing.T, s *Store, tenant string, repair bool) store.VerifyReport {
	t.Helper()
	r, err := s.Verify(context.Background(), tenant, repair)
	if err != nil {
		t.Fatalf("Verify(%s, repair=%v): %v", tenant, repair, err)
	}
	return r
}

func TestVerifyClean(t *testing.T) {
	s := verifyFixture(t)
	r := mustVerify(t, s, "acme", false)
	if r.Found() != 0 || r.Users != 5 || r.Groups != 2 || r.Memberships != 3 {
		t.Fatalf("fresh tenant: %+v", r)
	}
	if _, err := s.Verify(context.Background(), "nope", false); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Verify(unknown tenant) = %v; want ErrNotFound", err)
	}
}

func TestVerifyRepairEveryKind(t *testing.T) {
	ctx := context.Background()
	s := verifyFixture(t)
	corrupt(t, s,
		`UPDATE scim_users SET user_name_key = 'old@example.com' WHERE tenant = 'acme' AND id = 'u2'`, // mismatch
		`UPDATE scim_users SET external_id = NULL WHERE tenant = 'acme' AND id = 'u1'`,                // mismatch (unindexed)
		`UPDATE scim_groups SET display_name_key = 'wrong' WHERE tenant = 'acme' AND id = 'g2'`,       // mismatch
		// u4 and u5 swap their userName keys: repair must park one first.
		`UPDATE scim_users SET user_name_key = 'tmp' WHERE tenant = 'acme' AND id = 'u4'`,
		`UPDATE scim_users SET user_name_key = 'dan@example.com' WHERE tenant = 'acme' AND id = 'u5'`,
		`UPDATE scim_users SET user_name_key = 'eve@example.com' WHERE tenant = 'acme' AND id = 'u4'`,
		`INSERT INTO memberships (tenant, group_id, user_id) VALUES ('acme', 'g1', 'u-gone')`,                       // member-dangling
		`INSERT INTO memberships (tenant, group_id, user_id) VALUES ('acme', 'g-gone', 'u3')`,                       // members-orphan
		`INSERT INTO role_assignments (tenant, user_id, role, source) VALUES ('acme', 'u-gone', 'admin', 'manual')`, // role-dangling
		`INSERT INTO role_assignments (tenant, user_id, role, source) VALUES ('acme', 'u1', 'admin', 'scim')`,       // role-malformed
	)
	want := map[string]int{
		store.ProblemIndexMismatch:  5,
		store.ProblemMemberDangling: 1,
		store.ProblemMembersOrphan:  1,
		store.ProblemRoleDangling:   1,
		store.ProblemRoleMalformed:  1,
	}
	r := mustVerify(t, s, "acme", false)
	for kind, n := range want {
		if p := r.Get(kind); p.Count != n || p.Repaired != 0 || len(p.Examples) != min(n, store.MaxExamples) {
			t.Errorf("verify: %s = %+v; want %d found", kind, p, n)
		}
	}
	if r.Found() != 9 {
		t.Errorf("verify found %d, want 9: %+v", r.Found(), r.Problems)
	}
	if id, err := s.FindUser(ctx, "acme", store.IndexUserName, "bob@example.com"); err == nil {
		t.Fatalf("corruption did not take: bob found as %s", id)
	}

	r = mustVerify(t, s, "acme", true)
	for kind, n := range want {
		if p := r.Get(kind); p.Count != n || p.Repaired != n {
			t.Errorf("repair: %s = %+v; want %d found and repaired", kind, p, n)
		}
	}
	if r.Remaining() != 0 {
		t.Errorf("repair left %d: %+v", r.Remaining(), r.Problems)
	}
	if r := mustVerify(t, s, "acme", false); r.Found() != 0 {
		t.Fatalf("verify after repair: %+v", r.Problems)
	}
	for name, id := range map[string]string{"bob@example.com": "u2", "DAN@example.com": "u4", "eve@example.com": "u5"} {
		if got, err := s.FindUser(ctx, "acme", store.IndexUserName, name); err != nil || got != id {
			t.Errorf("FindUser(%s) = %q, %v; want %s", name, got, err, id)
		}
	}
	if got, err := s.FindUser(ctx, "acme", store.IndexExternalID, "00u1"); err != nil || got != "u1" {
		t.Errorf("FindUser(00u1) = %q, %v", got, err)
	}
	if got, err := s.FindGroup(ctx, "acme", store.IndexDisplayName, "devs"); err != nil || got != "g2" {
		t.Errorf("FindGroup(devs) = %q, %v", got, err)
	}
	m, err := s.GroupMembers(ctx, "acme", "g1")
	slices.Sort(m)
	if err != nil || !slices.Equal(m, []string{"u1", "u2"}) {
		t.Errorf("GroupMembers(g1) = %v, %v", m, err)
	}
	// Foreign keys hold again: the file passes SQLite's own check.
	var n int
	if err := s.w.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_foreign_key_check`).Scan(&n); err != nil || n != 0 {
		t.Errorf("foreign_key_check: %d rows, %v", n, err)
	}
}

func TestVerifyClashAndCorrupt(t *testing.T) {
	ctx := context.Background()
	s := verifyFixture(t)
	corrupt(t, s,
		// u2's document now says u1's userName (folded): a clash.
		`UPDATE scim_users SET doc = '{"userName":"ADA@example.com","externalId":"00u2"}' WHERE tenant = 'acme' AND id = 'u2'`,
		`UPDATE scim_users SET doc = '{not json' WHERE tenant = 'acme' AND id = 'u3'`,
		// Users and groups of a tenant without a tenants row.
		`DELETE FROM tenants WHERE id = 'acme'`,
	)
	r := mustVerify(t, s, "acme", true)
	if p := r.Get(store.ProblemIndexClash); p.Count != 1 || p.Repaired != 0 {
		t.Errorf("clash: %+v", p)
	}
	if p := r.Get(store.ProblemRecordCorrupt); p.Count != 1 || p.Repaired != 0 {
		t.Errorf("corrupt: %+v", p)
	}
	if p := r.Get(store.ProblemTenantRegistry); p.Count != 1 || p.Repaired != 1 {
		t.Errorf("tenant: %+v", p)
	}
	if r.Remaining() != 2 {
		t.Errorf("remaining %d, want 2: %+v", r.Remaining(), r.Problems)
	}
	if id, err := s.FindUser(ctx, "acme", store.IndexUserName, "ada@example.com"); err != nil || id != "u1" {
		t.Errorf("FindUser(ada) = %q, %v", id, err)
	}
	// The operator resolves both.
	u2, err := s.GetUser(ctx, "acme", "u2")
	if err != nil {
		t.Fatal(err)
	}
	u2.Attrs["userName"] = "bob@example.com"
	if err := s.UpdateUser(ctx, "acme", u2, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "acme", "u3"); err != nil {
		t.Fatal(err)
	}
	if r := mustVerify(t, s, "acme", false); r.Found() != 0 {
		t.Errorf("after resolving: %+v", r.Problems)
	}
}
