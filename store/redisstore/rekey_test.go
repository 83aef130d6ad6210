package redisstore

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// TestVerifyRepairRekeysFolded writes keys as a build before the folding
// rule did (strings.ToLower) — userName and displayName indexes and record
// fields, a by-name role mapping, a log name index list — and checks that
// `store verify --repair` (Verify with repair) re-files every one under
// mapping.FoldKey, after which lookups by a lookalike find them and Verify
// is clean (issue 12 item 5: the Redis upgrade step).
func TestVerifyRepairRekeysFolded(t *testing.T) {
	s := openTB(t)
	ctx := context.Background()
	tn := fmt.Sprintf("rekey-%d", time.Now().UnixNano())
	now := time.Now()
	if _, err := s.EnsureTenant(ctx, tn, now); err != nil {
		t.Fatal(err)
	}
	const uname, gname = "ＡＤＡ@example.com", "Ｏｐｓ Team"
	if err := s.CreateUser(ctx, tn, &mapping.User{ID: "u1", Attrs: mapping.Attrs{"userName": uname}, Created: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateGroup(ctx, tn, &mapping.Group{ID: "g1", Attrs: mapping.Attrs{"displayName": gname}, Created: now}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRoleMapping(ctx, tn, mapping.RoleMapping{Group: gname, ByName: true, Role: "admin", Source: mapping.SourceAPI}); err != nil {
		t.Fatal(err)
	}
	for _, status := range []int{201, 400} {
		if err := s.AppendLog(ctx, tn, store.LogEntry{Time: now, Actor: store.ActorOktaPush, ResourceType: "User", Name: uname, Operation: "create", Status: status}); err != nil {
			t.Fatal(err)
		}
	}
	k := s.tk(tn)
	oldU, oldG := strings.ToLower(uname), strings.ToLower(gname)
	newU, newG := mapping.FoldKey(uname), mapping.FoldKey(gname)
	mjson, _ := s.c.HGet(ctx, k.roleMappings(), "name:"+newG).Result()
	for _, err := range []error{
		s.c.HDel(ctx, k.idxUserName(), newU).Err(), s.c.HSet(ctx, k.idxUserName(), oldU, "u1").Err(),
		s.c.HSet(ctx, k.user("u1"), "un", oldU).Err(),
		s.c.HDel(ctx, k.idxDisplayName(), newG).Err(), s.c.HSet(ctx, k.idxDisplayName(), oldG, "g1").Err(),
		s.c.HSet(ctx, k.group("g1"), "dn", oldG).Err(),
		s.c.HDel(ctx, k.roleMappings(), "name:"+newG).Err(), s.c.HSet(ctx, k.roleMappings(), "name:"+oldG, mjson).Err(),
		s.c.Rename(ctx, k.base+"log:name:"+newU, k.base+"log:name:"+oldU).Err(),
		s.c.Rename(ctx, k.base+"log:rej:name:"+newU, k.base+"log:rej:name:"+oldU).Err(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.FindUser(ctx, tn, store.IndexUserName, "ada@example.com"); err == nil {
		t.Fatal("the old-style index must not answer a folded lookup (test premise)")
	}
	r := mustVerify(t, s, tn, false)
	if r.Get(store.ProblemFoldKey).Count != 3 || r.Found() == 0 {
		t.Errorf("verify found %+v", r.Problems)
	}
	r = mustVerify(t, s, tn, true)
	if r.Remaining() != 0 {
		t.Errorf("repair left %+v", r.Problems)
	}
	if r := mustVerify(t, s, tn, false); r.Found() != 0 {
		t.Errorf("verify after repair: %+v", r.Problems)
	}
	if id, err := s.FindUser(ctx, tn, store.IndexUserName, "ada@example.com"); err != nil || id != "u1" {
		t.Errorf("FindUser(ada) = %q, %v", id, err)
	}
	if id, err := s.FindGroup(ctx, tn, store.IndexDisplayName, "ops team"); err != nil || id != "g1" {
		t.Errorf("FindGroup(ops team) = %q, %v", id, err)
	}
	if ms, err := s.ListRoleMappings(ctx, tn); err != nil || len(ms) != 1 || ms[0].Key() != "name:"+newG {
		t.Errorf("role mappings: %v %v", ms, err)
	}
	if es, err := s.QueryLog(ctx, tn, store.LogQuery{Name: "ada@example.com"}); err != nil || len(es) != 2 {
		t.Errorf("QueryLog(ada) = %v, %v", es, err)
	}
}
