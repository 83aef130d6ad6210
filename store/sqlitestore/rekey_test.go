package sqlitestore

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// TestMigrateRekeyFolded writes name keys as a build before schema rekeyVersion did
// (strings.ToLower), reopens, and checks that migration rekeyVersion re-keyed users,
// groups, by-name role mappings and the log's name index with
// mapping.FoldKey, and that a lookalike pair keeps both rows (the older
// gets the key).
func TestMigrateRekeyFolded(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(ctx, path, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	mk := func(id, name string) {
		if err := s.CreateUser(ctx, "a", &mapping.User{ID: id, Attrs: mapping.Attrs{"userName": name}}); err != nil {
			t.Fatal(err)
		}
	}
	mk("u1", "ＡＤＡ@example.com")  // fullwidth
	mk("u2", "josé@example.com") // NFC, older
	mk("u3", "x-placeholder@example.com")
	if err := s.CreateGroup(ctx, "a", &mapping.Group{ID: "g1", Attrs: mapping.Attrs{"displayName": "Ｏｐｓ Team"}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRoleMapping(ctx, "a", mapping.RoleMapping{Group: "Ｏｐｓ Team", ByName: true, Role: "admin", Source: mapping.SourceAPI}); err != nil {
		t.Fatal(err)
	}
	for _, status := range []int{201, 400} {
		if err := s.AppendLog(ctx, "a", store.LogEntry{Time: time.Now(), Actor: store.ActorOktaPush, ResourceType: "User", Name: "ＡＤＡ@example.com", Operation: "create", Status: status}); err != nil {
			t.Fatal(err)
		}
	}
	// Back to the old rule: keys lower-cased only; u3 becomes the NFD
	// lookalike of u2 (distinct under the old rule).
	nfd := "jose\u0301@example.com"
	for _, q := range []string{
		`UPDATE scim_users SET user_name_key = lower(user_name_key)`,
		`UPDATE scim_users SET user_name_key = '` + strings.ToLower("ＡＤＡ@example.com") + `' WHERE id = 'u1'`,
		`UPDATE scim_users SET user_name_key = '` + nfd + `', doc = json_set(doc, '$.userName', '` + nfd + `') WHERE id = 'u3'`,
		`UPDATE scim_groups SET display_name_key = '` + strings.ToLower("Ｏｐｓ Team") + `'`,
		`UPDATE role_mappings SET map_key = 'name:` + strings.ToLower("Ｏｐｓ Team") + `'`,
		`UPDATE provisioning_log SET name_key = '` + strings.ToLower("ＡＤＡ@example.com") + `'`,
		`UPDATE provisioning_log_rejected SET name_key = '` + strings.ToLower("ＡＤＡ@example.com") + `'`,
		undoV9[0], undoV9[1],
		fmt.Sprintf(`UPDATE schema_version SET version = %d`, rekeyVersion-1),
	} {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	s = openTB(t, path)

	find := func(v string) string {
		t.Helper()
		u, err := s.FindUser(ctx, "a", store.IndexUserName, v)
		if err != nil {
			return ""
		}
		return u
	}
	if got := find("ada@example.com"); got != "u1" {
		t.Errorf("FindUser(ada) = %q, want u1", got)
	}
	if got := find(nfd); got != "u2" {
		t.Errorf("FindUser(NFD josé) = %q, want u2 (the older of the pair)", got)
	}
	if _, err := s.GetUser(ctx, "a", "u3"); err != nil {
		t.Errorf("the younger lookalike is gone: %v", err)
	}
	if g, err := s.FindGroup(ctx, "a", store.IndexDisplayName, "ops team"); err != nil || g != "g1" {
		t.Errorf("FindGroup(ops team) = %v, %v", g, err)
	}
	ms, err := s.ListRoleMappings(ctx, "a")
	if err != nil || len(ms) != 1 || ms[0].Key() != mapping.RoleMappingKey("ops team", true) {
		t.Errorf("role mappings after migration: %v %v", ms, err)
	}
	if es, err := s.QueryLog(ctx, "a", store.LogQuery{Name: "ada@example.com"}); err != nil || len(es) != 2 {
		t.Errorf("QueryLog(ada) = %v, %v; want the entry", es, err)
	}
	if u, err := s.GetUser(ctx, "a", "u2"); err != nil || u.UserName() != "josé@example.com" {
		t.Errorf("values must be stored as sent: %v %v", u, err)
	}
}

func TestMigrateRekeyVerifyReportsClash(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	s := openTB(t, path)
	for _, u := range []*mapping.User{
		{ID: "u2", Attrs: mapping.Attrs{"userName": "josé@example.com"}},
		{ID: "u3", Attrs: mapping.Attrs{"userName": "other@example.com"}},
	} {
		if err := s.CreateUser(ctx, "a", u); err != nil {
			t.Fatal(err)
		}
	}
	nfd := "jose\u0301@example.com"
	for _, q := range []string{
		`UPDATE scim_users SET user_name_key = '` + nfd + `', doc = json_set(doc, '$.userName', '` + nfd + `') WHERE id = 'u3'`,
		undoV9[0], undoV9[1],
		fmt.Sprintf(`UPDATE schema_version SET version = %d`, rekeyVersion-1),
	} {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = openTB(t, path)
	r, err := s.Verify(ctx, "a", false)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", r.Problems)
	if r.Get(store.ProblemIndexClash).Count != 1 {
		t.Errorf("verify after a lookalike pair: %+v; want one %s", r.Problems, store.ProblemIndexClash)
	}
}
