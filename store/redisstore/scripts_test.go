package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

// uniq returns a name unique to this run, so tests can share one Redis.
func uniq(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano())
}

func mustUser(t *testing.T, s *Store, tenant, id, userName string) *mapping.User {
	t.Helper()
	u := &mapping.User{ID: id, Attrs: mapping.Attrs{"userName": userName}, Origin: mapping.OriginOktaPush, Created: t0, LastModified: t0}
	if err := s.CreateUser(context.Background(), tenant, u); err != nil {
		t.Fatalf("CreateUser(%s): %v", id, err)
	}
	return u
}

func members(t *testing.T, s *Store, tenant, gid string) []string {
	t.Helper()
	m, err := s.GroupMembers(context.Background(), tenant, gid)
	if err != nil {
		t.Fatalf("GroupMembers: %v", err)
	}
	slices.Sort(m)
	return m
}

// TestCreateReplay: a create whose reply was lost and that go-redis retried
// succeeds; a different create with the same id is a conflict.
func TestCreateReplay(t *testing.T) {
	s := openTB(t)
	ctx := context.Background()
	tenant := uniq("replay")
	u := mustUser(t, s, tenant, "u1", "Ann")
	if err := s.CreateUser(ctx, tenant, u); err != nil {
		t.Errorf("replayed CreateUser: %v", err)
	}
	other := &mapping.User{ID: "u1", Attrs: mapping.Attrs{"userName": "Bob"}, Created: t0}
	var ce *store.ConflictError
	if err := s.CreateUser(ctx, tenant, other); !errors.As(err, &ce) || ce.Attr != "id" {
		t.Errorf("CreateUser(same id, other doc) = %v; want ConflictError id", err)
	}
	g := &mapping.Group{ID: "g1", Attrs: mapping.Attrs{"displayName": "G"}, Created: t0}
	for range 2 {
		if err := s.CreateGroup(ctx, tenant, g, []string{"u1"}); err != nil {
			t.Errorf("CreateGroup (replay): %v", err)
		}
	}
	if p, _ := s.ListUsers(ctx, tenant, 0, 10); p.Total != 1 {
		t.Errorf("Total users = %d after replay; want 1", p.Total)
	}
	if p, _ := s.ListGroups(ctx, tenant, 0, 10); p.Total != 1 {
		t.Errorf("Total groups = %d after replay; want 1", p.Total)
	}
}

// TestStaleSnapshots drives the scripts with a member/group set that is no
// longer current, as a concurrent writer would cause: they must change
// nothing and ask for a retry.
func TestStaleSnapshots(t *testing.T) {
	s := openTB(t)
	ctx := context.Background()
	tenant := uniq("stale")
	k := s.tk(tenant)
	for _, id := range []string{"u1", "u2", "u3"} {
		mustUser(t, s, tenant, id, id)
	}
	g := &mapping.Group{ID: "g1", Attrs: mapping.Attrs{"displayName": "G"}, Created: t0}
	if err := s.CreateGroup(ctx, tenant, g, []string{"u1", "u2"}); err != nil {
		t.Fatal(err)
	}
	if err := s.AssignRole(ctx, tenant, "u1", "admin", "manual"); err != nil {
		t.Fatal(err)
	}
	c := store.GroupChange{ReplaceMembers: true, At: t0.Add(time.Hour)}
	// u2 is a member the snapshot does not know about.
	if _, err := s.updateGroup(ctx, k, "g1", c, nil, true, []string{"u3"}, nil, []string{"u1"}, ""); err != errRetry {
		t.Errorf("replace with an uncovered member: %v; want retry", err)
	}
	// u3 is "kept" but is no member (removed concurrently).
	if _, err := s.updateGroup(ctx, k, "g1", c, nil, true, nil, []string{"u2"}, []string{"u1", "u3"}, ""); err != errRetry {
		t.Errorf("replace keeping a non-member: %v; want retry", err)
	}
	if got := members(t, s, tenant, "g1"); !slices.Equal(got, []string{"u1", "u2"}) {
		t.Errorf("members after refused replaces = %v", got)
	}
	if got, _ := s.GetGroup(ctx, tenant, "g1"); got.Version != 1 {
		t.Errorf("version after refused replaces = %d; want 1", got.Version)
	}

	// DeleteUser/DeleteGroup with a stale set: RETRY, nothing deleted.
	r, err := scriptDeleteUser.Run(ctx, s.c, []string{k.user("u1"), k.users(), k.idxUserName(), k.idxUserExternalID(), k.memberof("u1"), k.userRoles("u1")}, "u1").Result()
	if err != nil || fmt.Sprint(r) != "[RETRY]" {
		t.Errorf("delete user with stale groups = %v, %v; want RETRY", r, err)
	}
	r, err = scriptDeleteGroup.Run(ctx, s.c, []string{k.group("g1"), k.groups(), k.idxDisplayName(), k.idxGroupExternalID(), k.members("g1"), k.memberof("u1")}, "g1", 0, "u1").Result()
	if err != nil || fmt.Sprint(r) != "[RETRY]" {
		t.Errorf("delete group with stale members = %v, %v; want RETRY", r, err)
	}
	if _, err := s.GetUser(ctx, tenant, "u1"); err != nil {
		t.Errorf("u1 after refused delete: %v", err)
	}
	if rs, err := s.UserRoles(ctx, tenant, []string{"u1"}); err != nil || len(rs["u1"]) != 1 {
		t.Errorf("u1's roles after refused delete = %v, %v; want its manual admin", rs, err)
	}
	if got := members(t, s, tenant, "g1"); !slices.Equal(got, []string{"u1", "u2"}) {
		t.Errorf("members after refused deletes = %v", got)
	}
	ug, _ := s.UserGroups(ctx, tenant, []string{"u1", "u2", "u3"})
	if !slices.Equal(ug["u1"], []string{"g1"}) || !slices.Equal(ug["u2"], []string{"g1"}) || len(ug["u3"]) != 0 {
		t.Errorf("UserGroups after refused changes = %v", ug)
	}

	// The public calls, which read fresh sets, succeed.
	if _, err := s.UpdateGroup(ctx, tenant, "g1", store.GroupChange{ReplaceMembers: true, Members: []string{"u3"}, At: c.At}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGroup(ctx, tenant, "g1", 0); err != nil {
		t.Fatal(err)
	}
	ug, _ = s.UserGroups(ctx, tenant, []string{"u1", "u2", "u3"})
	for u, gs := range ug {
		if len(gs) != 0 {
			t.Errorf("UserGroups(%s) after DeleteGroup = %v", u, gs)
		}
	}
}

// TestUnknownMembersAtomic: a change with one unknown member changes
// neither attributes nor other members.
func TestUnknownMembersAtomic(t *testing.T) {
	s := openTB(t)
	ctx := context.Background()
	tenant := uniq("unknown")
	mustUser(t, s, tenant, "u1", "u1")
	g := &mapping.Group{ID: "g1", Attrs: mapping.Attrs{"displayName": "G"}, Created: t0}
	if err := s.CreateGroup(ctx, tenant, g, nil); err != nil {
		t.Fatal(err)
	}
	_, err := s.UpdateGroup(ctx, tenant, "g1", store.GroupChange{
		Attrs: mapping.Attrs{"displayName": "New"}, Add: []string{"u1", "nobody", "u1"}, At: t0,
	})
	var ue *store.UnknownMembersError
	if !errors.As(err, &ue) || !slices.Equal(ue.IDs, []string{"nobody"}) {
		t.Fatalf("err = %v; want UnknownMembersError[nobody]", err)
	}
	got, _ := s.GetGroup(ctx, tenant, "g1")
	if got.DisplayName() != "G" || got.Version != 1 || len(members(t, s, tenant, "g1")) != 0 {
		t.Errorf("group changed by a failed update: %+v", got)
	}
	if _, err := s.FindGroup(ctx, tenant, store.IndexDisplayName, "new"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("index changed by a failed update: %v", err)
	}
}

func TestTenantTag(t *testing.T) {
	for in, want := range map[string]string{
		"acme": "acme", "": "%", "a{b}": "a%7Bb%7D", "50%": "50%25", "%": "%25",
	} {
		if got := tag(in); got != want {
			t.Errorf("tag(%q) = %q; want %q", in, got, want)
		}
	}
	// Ids that would collide unescaped stay apart.
	s := openTB(t)
	ctx := context.Background()
	base := uniq("tag")
	a, b := base+"}:user:x", base
	mustUser(t, s, a, "1", "a")
	if _, err := s.GetUser(ctx, b, "x}:user:1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("tenant %q sees a user of tenant %q: %v", b, a, err)
	}
}

// keySlot is the Redis Cluster slot of key (CRC16/XMODEM of its hash tag).
func keySlot(key string) uint16 {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for k := 0; k < len(key); k++ {
		crc ^= uint16(key[k]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc % 16384
}

// TestKeysShareSlot writes every kind of key for two tenants on a private
// server, then checks with SCAN that each tenant's keys hash to one slot and
// that the only other keys are the global registry and token records.
func TestKeysShareSlot(t *testing.T) {
	if got := keySlot("123456789"); got != 0x31C3%16384 {
		t.Fatalf("CRC16 check value: %#x", got)
	}
	if got := keySlot("foo"); got != 12182 { // CLUSTER KEYSLOT foo
		t.Fatalf("keySlot(foo) = %d; want 12182", got)
	}
	srv := testredis.Start(t)
	ctx := context.Background()
	s, err := Open(ctx, srv.URL(), Options{KeyPrefix: "axf:"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tenants := []string{"acme", "we{ir}d%"}
	for _, tn := range tenants {
		if _, err := s.EnsureTenant(ctx, tn, t0); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateToken(ctx, store.Token{ID: "tok1", Tenant: tn, Name: "n", Hash: "ab" + tag(tn), Created: t0}); err != nil {
			t.Fatal(err)
		}
		if err := s.TouchToken(ctx, tn, "tok1", t0); err != nil {
			t.Fatal(err)
		}
		u := &mapping.User{ID: "u1", Attrs: mapping.Attrs{"userName": "Ann", "externalId": "x1"}, Created: t0}
		if err := s.CreateUser(ctx, tn, u); err != nil {
			t.Fatal(err)
		}
		g := &mapping.Group{ID: "g1", Attrs: mapping.Attrs{"displayName": "G", "externalId": "gx"}, Created: t0}
		if err := s.CreateGroup(ctx, tn, g, []string{"u1"}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutRoleMapping(ctx, tn, mapping.RoleMapping{Group: "G", ByName: true, Role: "admin", Source: "api"}); err != nil {
			t.Fatal(err)
		}
		if err := s.AssignRole(ctx, tn, "u1", "owner", "manual"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetDefaultRole(ctx, tn, "viewer"); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := s.c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(keys)
	perTenant := map[string][]string{}
	for _, key := range keys {
		switch {
		case key == "axf:tenants", strings.HasPrefix(key, "axf:tokens:"), strings.HasPrefix(key, "axf:console:ended:"):
			continue
		case !strings.HasPrefix(key, "axf:t:{"):
			t.Errorf("unexpected key %q", key)
			continue
		}
		for _, tn := range tenants {
			if strings.HasPrefix(key, "axf:t:{"+tag(tn)+"}:") {
				perTenant[tn] = append(perTenant[tn], key)
				if got, want := keySlot(key), keySlot(tag(tn)); got != want {
					t.Errorf("key %q in slot %d; tenant %q is in slot %d", key, got, tn, want)
				}
			}
		}
	}
	for _, tn := range tenants {
		// tenant seq user users idx×2 group groups idx×2 members memberof tokens
		// roles:mappings roles:user:u1 roles:default
		if n := len(perTenant[tn]); n != 16 {
			t.Errorf("tenant %q has %d keys; want 16: %v", tn, n, perTenant[tn])
		}
	}
	// The record shape the scripts rely on.
	rec, err := s.c.HGetAll(ctx, "axf:t:{acme}:user:u1").Result()
	if err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]string{"un": "ann", "ex": "x1", "v": "1", "created": "2025-03-14T15:09:26.535897932Z"} {
		if rec[f] != want {
			t.Errorf("user record field %s = %q; want %q (record %v)", f, rec[f], want, rec)
		}
	}
}

// TestUserContextAfterScriptFlush: UserContext and LookupUserContext send
// their EVALSHA commands themselves (runScript); a Redis that lost its
// script cache (SCRIPT FLUSH, a restart, a failover) answers NOSCRIPT and
// they fall back to EVAL, as redis.Script.Run does.
func TestUserContextAfterScriptFlush(t *testing.T) {
	s := openTB(t)
	ctx := context.Background()
	tenant := uniq("flush")
	mustUser(t, s, tenant, "u1", "ada@example.com")
	for _, read := range []struct {
		name string
		f    func() (store.UserContext, error)
	}{
		{"UserContext", func() (store.UserContext, error) { return s.UserContext(ctx, tenant, []string{"u1"}, true) }},
		{"LookupUserContext", func() (store.UserContext, error) {
			return s.LookupUserContext(ctx, tenant, store.IndexUserName, "Ada@example.com")
		}},
	} {
		for range 2 { // once with the script cached, once after the flush
			uc, err := read.f()
			if err != nil || len(uc.Users) != 1 || uc.Users[0].ID != "u1" {
				t.Fatalf("%s: %+v, %v", read.name, uc, err)
			}
			if err := s.c.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.LookupUserContext(ctx, tenant, store.IndexUserName, "nobody@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("lookup of nobody after a flush: %v", err)
	}
}
