package redisstore

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/store/storetest"
)

// TestSentinel runs the store through a Sentinel failover client
// (OpenUniversal with SentinelMaster/SentinelAddrs) against one master with
// one replica and one sentinel: the conformance suite, then a forced
// failover (SENTINEL FAILOVER) after which the store follows the promoted
// replica and still has what it wrote before.
func TestSentinel(t *testing.T) {
	if testing.Short() {
		t.Skip("short: no sentinel")
	}
	ctx := context.Background()
	master := testredis.Start(t)
	_, mport, _ := net.SplitHostPort(master.Addr())
	replica := testredis.Start(t, "--replicaof", "127.0.0.1", mport)
	sentinel := testredis.StartSentinel(t, "axf", master)

	s, err := OpenUniversal(ctx, Config{SentinelMaster: "axf", SentinelAddrs: []string{sentinel.Addr()}},
		Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("OpenUniversal(sentinel): %v", err)
	}
	defer s.Close()

	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.State { return s })
	})

	t.Run("TokenCache", func(t *testing.T) {
		b, err := OpenUniversal(ctx, Config{SentinelMaster: "axf", SentinelAddrs: []string{sentinel.Addr()}},
			Options{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		testTokenCacheTwoStores(t, s, b, counted(s), counted(b))
	})

	t.Run("Failover", func(t *testing.T) {
		tn := "sentinel-" + time.Now().Format("150405.000000000")
		if _, err := s.EnsureTenant(ctx, tn, time.Now()); err != nil {
			t.Fatal(err)
		}
		u := &mapping.User{ID: "u1", Attrs: mapping.Attrs{"userName": "ada@example.com"}, Created: time.Now()}
		if err := s.CreateUser(ctx, tn, u); err != nil {
			t.Fatal(err)
		}
		mc := redis.NewClient(&redis.Options{Addr: master.Addr()})
		defer mc.Close()
		sc := redis.NewSentinelClient(&redis.Options{Addr: sentinel.Addr()})
		defer sc.Close()
		// The replica has everything, and the sentinel knows it.
		if n, err := mc.Wait(ctx, 1, 5*time.Second).Result(); err != nil || n != 1 {
			t.Fatalf("WAIT for the replica: %d, %v", n, err)
		}
		waitFor(t, 15*time.Second, "sentinel to see the replica", func() bool {
			rs, err := sc.Replicas(ctx, "axf").Result()
			return err == nil && len(rs) == 1 && rs[0]["master-link-status"] == "ok"
		})

		start := time.Now()
		if err := sc.Failover(ctx, "axf").Err(); err != nil {
			t.Fatalf("SENTINEL FAILOVER: %v", err)
		}
		// Redis replicates asynchronously: in the moment between the
		// sentinel naming the new master and the old one turning replica,
		// a write can still land on the old master and be discarded when it
		// resyncs (Redis's documented Sentinel behaviour, not the store's).
		// So each attempt writes a new user and counts only when that user
		// is on the promoted replica itself.
		rc := redis.NewClient(&redis.Options{Addr: replica.Addr()})
		defer rc.Close()
		attempt := 0
		waitFor(t, 20*time.Second, "the store to write to the promoted replica", func() bool {
			addr, err := sc.GetMasterAddrByName(ctx, "axf").Result()
			if err != nil || net.JoinHostPort(addr[0], addr[1]) != replica.Addr() {
				return false
			}
			attempt++
			id := "u2-" + strconv.Itoa(attempt)
			u2 := &mapping.User{ID: id, Attrs: mapping.Attrs{"userName": id + "@example.com"}, Created: time.Now()}
			if s.CreateUser(ctx, tn, u2) != nil {
				return false
			}
			n, err := rc.Exists(ctx, s.tk(tn).user(id)).Result()
			return err == nil && n == 1
		})
		t.Logf("store writing again %v after SENTINEL FAILOVER", time.Since(start).Round(time.Millisecond))
		if got, err := s.GetUser(ctx, tn, "u1"); err != nil || got.UserName() != "ada@example.com" {
			t.Fatalf("user written before the failover: %v, %v", got, err)
		}
		if r, err := s.Verify(ctx, tn, false); err != nil || r.Found() != 0 || r.Users < 2 {
			t.Fatalf("Verify after failover: %+v, %v", r, err)
		}
	})
}

// waitFor polls cond every 50 ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
