package sqlitestore

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// undoV10 drops what schema step 10 (tokens.replaced_by) adds, for tests
// of migrations from before it.
var undoV10 = []string{`ALTER TABLE tokens DROP COLUMN replaced_by`}

// undoV9 drops what schema steps 10 and 9 (console_sessions_ended) create, for
// tests that turn a new file into one of version 8 or older.
var undoV9 = append(slices.Clone(undoV10), `DROP TABLE console_sessions_ended`)

// undoV6 drops what schema steps 9, 7 (reconcile_plans) and 6
// (provisioning_log_rejected) create.
var undoV6 = append(slices.Clone(undoV9), `DROP TABLE reconcile_plans`, `DROP TABLE provisioning_log_rejected`)

// undoV5 drops what schema steps 5 (record_counts) and later create, for
// tests that turn a new file into an older one.
var undoV5 = append(undoV6, `DROP TABLE record_counts`, `DROP TRIGGER scim_users_count_insert`, `DROP TRIGGER scim_users_count_delete`,
	`DROP TRIGGER scim_users_count_move`, `DROP TRIGGER scim_groups_count_insert`, `DROP TRIGGER scim_groups_count_delete`,
	`DROP TRIGGER scim_groups_count_move`)

// TestMigrateCounts opens a file left at schema version 4 (before
// record_counts) holding users and groups in two tenants, and checks that
// the migration counts them and the triggers keep counting after it.
func TestMigrateCounts(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(ctx, path, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		tenant := []string{"a", "b"}[i%2]
		u := &mapping.User{ID: fmt.Sprintf("u%d", i), Attrs: mapping.Attrs{"userName": fmt.Sprintf("n%d", i)}}
		if err := s.CreateUser(ctx, tenant, u); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateGroup(ctx, "a", &mapping.Group{ID: "g", Attrs: mapping.Attrs{"displayName": "G"}}, []string{"u0"}); err != nil {
		t.Fatal(err)
	}
	for _, q := range append(undoV5, `UPDATE schema_version SET version = 4`) {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = openTB(t, path)
	wantCounts(t, s, "a", 3, 1)
	wantCounts(t, s, "b", 2, 0)
	wantCounts(t, s, "none", 0, 0)
	if err := s.DeleteUser(ctx, "a", "u0"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGroup(ctx, "a", "g", 0); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, "c", &mapping.User{ID: "x", Attrs: mapping.Attrs{"userName": "x"}}); err != nil {
		t.Fatal(err)
	}
	wantCounts(t, s, "a", 2, 0)
	wantCounts(t, s, "c", 1, 0)
	// A row moved to another tenant by hand is counted there.
	if _, err := s.w.ExecContext(ctx, `UPDATE scim_users SET tenant = 'c' WHERE tenant = 'b' AND id = 'u1'`); err != nil {
		t.Fatal(err)
	}
	wantCounts(t, s, "b", 1, 0)
	wantCounts(t, s, "c", 2, 0)
}

// wantCounts checks the Total of ListUsers and ListGroups against count(*).
func wantCounts(t *testing.T, s *Store, tenant string, users, groups int) {
	t.Helper()
	ctx := context.Background()
	var nu, ng int
	if err := s.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM scim_users WHERE tenant = ?1), (SELECT count(*) FROM scim_groups WHERE tenant = ?1)`,
		tenant).Scan(&nu, &ng); err != nil {
		t.Fatal(err)
	}
	if nu != users || ng != groups {
		t.Fatalf("tenant %s holds %d users, %d groups; the test expects %d, %d", tenant, nu, ng, users, groups)
	}
	up, err := s.ListUsers(ctx, tenant, 0, 0)
	if err != nil || up.Total != users {
		t.Errorf("ListUsers(%s).Total = %d, %v; want %d", tenant, up.Total, err, users)
	}
	gp, err := s.ListGroups(ctx, tenant, 0, 0)
	if err != nil || gp.Total != groups {
		t.Errorf("ListGroups(%s).Total = %d, %v; want %d", tenant, gp.Total, err, groups)
	}
}

// TestVerifyCounts checks that Verify reports a wrong record_counts row as
// an index mismatch and repair rewrites it.
func TestVerifyCounts(t *testing.T) {
	ctx := context.Background()
	s := openTB(t, filepath.Join(t.TempDir(), "state.db"))
	if _, err := s.EnsureTenant(ctx, "a", time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, "a", &mapping.User{ID: "u", Attrs: mapping.Attrs{"userName": "u"}}); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Verify(ctx, "a", false); err != nil || len(r.Problems) != 0 {
		t.Fatalf("Verify of a clean tenant = %+v, %v", r, err)
	}
	if _, err := s.w.ExecContext(ctx, `UPDATE record_counts SET user_count = 7, group_count = 2 WHERE tenant = 'a'`); err != nil {
		t.Fatal(err)
	}
	r, err := s.Verify(ctx, "a", true)
	if err != nil || len(r.Problems) != 1 || r.Problems[0].Kind != store.ProblemIndexMismatch || r.Problems[0].Repaired != 1 {
		t.Fatalf("Verify(repair) = %+v, %v; want one repaired %s", r, err, store.ProblemIndexMismatch)
	}
	wantCounts(t, s, "a", 1, 0)
	if r, err := s.Verify(ctx, "a", false); err != nil || len(r.Problems) != 0 {
		t.Errorf("Verify after repair = %+v, %v", r, err)
	}
}

// TestMigrateTokensReplacedBy opens a file left at schema version 9 with a
// token and checks that step 10 keeps it (never rotated) and that a
// rotation's replacement can then be recorded.
func TestMigrateTokensReplacedBy(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(ctx, path, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	_, tok, err := store.IssueToken(ctx, s, "acme", "okta", 0, time.Unix(5, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range append(slices.Clone(undoV10), `UPDATE schema_version SET version = 9`) {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	s = openTB(t, path)
	toks, err := s.ListTokens(ctx, "acme")
	if err != nil || len(toks) != 1 || toks[0].ID != tok.ID || toks[0].ReplacedBy != "" {
		t.Fatalf("tokens after migration = %+v, %v", toks, err)
	}
	if err := s.SetTokenExpiry(ctx, "acme", tok.ID, time.Unix(50, 0), "tok_next"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.TokenByHash(ctx, tok.Hash); err != nil || got.ReplacedBy != "tok_next" {
		t.Fatalf("after SetTokenExpiry: %+v, %v", got, err)
	}
}
