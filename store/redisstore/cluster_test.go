package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/store/storetest"
)

// TestCluster3 starts one 3-master Redis Cluster (forming one takes a few
// seconds) and runs the subtests on it through OpenUniversal with
// ClusterAddrs (one seed; the client discovers the other masters).
func TestCluster3(t *testing.T) {
	if testing.Short() {
		t.Skip("short: no 3-master cluster")
	}
	c := testredis.StartCluster(t, 3)
	s, err := OpenUniversal(context.Background(), Config{ClusterAddrs: c.Addrs()[:1]}, Options{})
	if err != nil {
		t.Fatalf("OpenUniversal(cluster): %v", err)
	}
	defer s.Close()
	if _, ok := s.Client().(*redis.ClusterClient); !ok {
		t.Fatalf("client is %T, want *redis.ClusterClient", s.Client())
	}
	// The whole conformance suite: tenants spread over the masters, and
	// Redis rejects any command or script whose keys span slots (CROSSSLOT).
	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.State { return s })
	})
	t.Run("TenantSlots", func(t *testing.T) { testClusterTenantSlots(t, s) })
	t.Run("Verify", func(t *testing.T) { testVerifyCorruptions(t, s) })
	t.Run("TokenCache", func(t *testing.T) {
		b, err := OpenUniversal(context.Background(), Config{ClusterAddrs: c.Addrs()[1:2]}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		testTokenCacheTwoStores(t, s, b, counted(s), counted(b))
	})
}

// testClusterTenantSlots writes every kind of tenant key for a dozen
// tenants, then reads every key of every master: each tenant's keys share
// one hash slot (so one node), and the tenants are spread over all three
// masters.
func testClusterTenantSlots(t *testing.T, s *Store) {
	ctx := context.Background()
	cc := s.Client().(*redis.ClusterClient)
	now := time.Now()
	run := fmt.Sprintf("%d", now.UnixNano())
	var tenants []string
	for i := range 12 {
		tn := fmt.Sprintf("slots-%s-%d", run, i)
		tenants = append(tenants, tn)
		if _, _, err := store.IssueToken(ctx, s, tn, "okta", 0, now); err != nil {
			t.Fatal(err)
		}
		u := &mapping.User{ID: "u1", Attrs: mapping.Attrs{"userName": "ada@example.com", "externalId": "00u1"}, Created: now}
		if err := s.CreateUser(ctx, tn, u); err != nil {
			t.Fatal(err)
		}
		g := &mapping.Group{ID: "g1", Attrs: mapping.Attrs{"displayName": "Admins", "externalId": "00g1"}, Created: now}
		if err := s.CreateGroup(ctx, tn, g, []string{"u1"}); err != nil {
			t.Fatal(err)
		}
		if err := s.AssignRole(ctx, tn, "u1", "admin", mapping.SourceManual); err != nil {
			t.Fatal(err)
		}
		if err := s.PutRoleMapping(ctx, tn, mapping.RoleMapping{Group: "Admins", ByName: true, Role: "admin", Source: "api"}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetDefaultRole(ctx, tn, "viewer"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.AcquireLease(ctx, tn, "reconcile", "me", time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveRun(ctx, tn, store.RunRecord{ID: "r1", StartedAt: now, Data: []byte("{}")}, 5); err != nil {
			t.Fatal(err)
		}
	}

	var mu sync.Mutex
	slotOf := map[string]map[int64]bool{}  // tenant → slots of its keys
	nodeOf := map[string]map[string]bool{} // tenant → nodes holding its keys
	kinds := map[string]bool{}
	err := cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		node := m.Options().Addr
		it := m.Scan(ctx, 0, "t:{slots-"+run+"-*", 1000).Iterator()
		for it.Next(ctx) {
			k := it.Val()
			tn := k[len("t:{"):strings.IndexByte(k, '}')]
			slot, err := m.ClusterKeySlot(ctx, k).Result()
			if err != nil {
				return err
			}
			rest := k[strings.IndexByte(k, '}')+2:]
			kind, _, _ := strings.Cut(rest, ":")
			mu.Lock()
			if slotOf[tn] == nil {
				slotOf[tn], nodeOf[tn] = map[int64]bool{}, map[string]bool{}
			}
			slotOf[tn][slot] = true
			nodeOf[tn][node] = true
			kinds[kind] = true
			mu.Unlock()
		}
		return it.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	nodesUsed := map[string]bool{}
	for _, tn := range tenants {
		if len(slotOf[tn]) != 1 || len(nodeOf[tn]) != 1 {
			t.Errorf("tenant %s: keys in slots %v on nodes %v; want one slot", tn, slotOf[tn], nodeOf[tn])
		}
		for n := range nodeOf[tn] {
			nodesUsed[n] = true
		}
	}
	if len(nodesUsed) != 3 {
		t.Errorf("12 tenants live on %d masters (%v); want all 3", len(nodesUsed), nodesUsed)
	}
	for _, k := range []string{"tenant", "seq", "user", "users", "idx", "group", "groups", "members", "memberof", "tokens", "lease", "runs", "roles"} {
		if !kinds[k] {
			t.Errorf("no t:{T}:%s key seen (seen %v)", k, kinds)
		}
	}
	// The global keys still work across slots: every tenant is listed and
	// every token resolves.
	ts, err := s.ListTenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, tn := range ts {
		seen[tn.ID] = true
	}
	for _, tn := range tenants {
		if !seen[tn] {
			t.Errorf("ListTenants misses %s", tn)
		}
	}
}

// TestClusterOpenErrors: a cluster seed list nobody answers is unavailable,
// quickly; a bad Config is a plain error.
func TestClusterOpenErrors(t *testing.T) {
	ctx := context.Background()
	srv := testredis.Start(t)
	srv.Stop()
	start := time.Now()
	_, err := OpenUniversal(ctx, Config{ClusterAddrs: []string{srv.Addr()}}, Options{Timeout: 300 * time.Millisecond})
	if !errors.Is(err, store.ErrUnavailable) || time.Since(start) > 2*time.Second {
		t.Errorf("OpenUniversal(cluster down) = %v after %v; want ErrUnavailable quickly", err, time.Since(start))
	}
	for _, c := range []Config{
		{},
		{URL: "redis://x:1", ClusterAddrs: []string{"a:1"}},
		{ClusterAddrs: []string{"a:1"}, SentinelMaster: "m", SentinelAddrs: []string{"s:1"}},
		{SentinelAddrs: []string{"s:1"}},
		{SentinelMaster: "m"},
		{ClusterAddrs: []string{"nocolon"}},
		{URL: "http://x"},
	} {
		if _, err := OpenUniversal(ctx, c, Options{}); err == nil || errors.Is(err, store.ErrUnavailable) {
			t.Errorf("OpenUniversal(%+v) = %v; want a plain error", c, err)
		}
	}
}

func TestConfigString(t *testing.T) {
	for c, want := range map[*Config]string{
		{URL: "redis://u:secret@h:1/0"}:                            "redis redis://xxxxx@h:1/0",
		{URL: "redis://h:1/0"}:                                     "redis redis://h:1/0",
		{ClusterAddrs: []string{"a:1", "b:2"}, Password: "secret"}: "redis cluster a:1,b:2",
		{SentinelMaster: "m", SentinelAddrs: []string{"s:1"}}:      "redis sentinel m via s:1",
	} {
		if got := c.String(); got != want {
			t.Errorf("%+v.String() = %q, want %q", *c, got, want)
		}
	}
}

func TestNewClientKinds(t *testing.T) {
	for _, tc := range []struct {
		c    Config
		want string
	}{
		{Config{URL: "redis://127.0.0.1:1/0"}, "*redis.Client"},
		{Config{URL: "redis://127.0.0.1:1/0", TLS: true, Password: "p"}, "*redis.Client"},
		{Config{ClusterAddrs: []string{"127.0.0.1:1"}, TLS: true}, "*redis.ClusterClient"},
		{Config{SentinelMaster: "m", SentinelAddrs: []string{"127.0.0.1:1"}}, "*redis.Client"},
	} {
		c, err := NewClient(tc.c, Options{})
		if err != nil {
			t.Fatalf("NewClient(%+v): %v", tc.c, err)
		}
		if got := fmt.Sprintf("%T", c); got != tc.want {
			t.Errorf("NewClient(%+v) is %s, want %s", tc.c, got, tc.want)
		}
		switch cl := c.(type) {
		case *redis.Client:
			o := cl.Options()
			if !o.ContextTimeoutEnabled || o.DialTimeout != DefaultTimeout {
				t.Errorf("%+v: ContextTimeoutEnabled %v DialTimeout %v", tc.c, o.ContextTimeoutEnabled, o.DialTimeout)
			}
			if tc.c.TLS && o.TLSConfig == nil {
				t.Errorf("%+v: no TLS config", tc.c)
			}
			if tc.c.Password != "" && o.Password != tc.c.Password {
				t.Errorf("%+v: password not applied", tc.c)
			}
		case *redis.ClusterClient:
			o := cl.Options()
			if !o.ContextTimeoutEnabled || o.TLSConfig == nil {
				t.Errorf("%+v: ContextTimeoutEnabled %v TLS %v", tc.c, o.ContextTimeoutEnabled, o.TLSConfig)
			}
		}
		c.Close()
	}
}
