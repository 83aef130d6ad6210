package redisstore

import (
	"context"
	"errors"
	"os"
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

func TestMain(m *testing.M) { os.Exit(testredis.Main(m)) }

// openTB opens a Store on the shared test Redis and closes it at cleanup.
func openTB(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(context.Background(), testredis.URL(tb), Options{})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.State { return openTB(t) })
}

// startCluster starts a single-node Redis Cluster owning all 16384 slots and
// returns a Store on a ClusterClient. Redis then rejects any script or
// command whose keys span slots, which proves the layout cluster-safe.
func startCluster(t *testing.T) *Store {
	t.Helper()
	srv := testredis.Start(t, "--cluster-enabled", "yes")
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer c.Close()
	if err := c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
		t.Fatalf("CLUSTER ADDSLOTSRANGE: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := c.ClusterInfo(ctx).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster not ok: %v %s", err, info)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{srv.Addr()}, ContextTimeoutEnabled: true})
	s := New(cc, Options{})
	t.Cleanup(func() { s.Close() })
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConformanceCluster runs the suite on Redis Cluster (one node): every
// script's keys must share a slot, else Redis answers CROSSSLOT.
func TestConformanceCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	s := startCluster(t)
	storetest.Run(t, func(t *testing.T) store.State { return s })
}

// TestUnavailable checks that a stopped or frozen Redis yields errors
// wrapping store.ErrUnavailable within the timeout, and that the store works
// again after a restart.
func TestUnavailable(t *testing.T) {
	srv := testredis.Start(t)
	const timeout = 300 * time.Millisecond
	ctx := context.Background()
	s, err := Open(ctx, srv.URL(), Options{Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.EnsureTenant(ctx, "acme", time.Now()); err != nil {
		t.Fatal(err)
	}
	u := &mapping.User{ID: "u1", Attrs: mapping.Attrs{"userName": "a"}}
	calls := map[string]func() error{
		"Ping":         func() error { return s.Ping(ctx) },
		"GetUser":      func() error { _, err := s.GetUser(ctx, "acme", "u1"); return err },
		"CreateUser":   func() error { return s.CreateUser(ctx, "acme", u) },
		"DeleteUser":   func() error { return s.DeleteUser(ctx, "acme", "u1") },
		"TokenByHash":  func() error { _, err := s.TokenByHash(ctx, "00"); return err },
		"EnsureTenant": func() error { _, err := s.EnsureTenant(ctx, "acme", time.Now()); return err },
	}
	check := func(state string) {
		t.Helper()
		var wg sync.WaitGroup
		for name, call := range calls {
			wg.Go(func() {
				start := time.Now()
				err := call()
				took := time.Since(start)
				if !errors.Is(err, store.ErrUnavailable) {
					t.Errorf("%s (%s): err = %v; want ErrUnavailable", name, state, err)
				}
				if took > timeout+500*time.Millisecond {
					t.Errorf("%s (%s) took %v; timeout is %v", name, state, took, timeout)
				}
			})
		}
		wg.Wait()
	}

	srv.Pause(t) // accepts nothing, answers nothing: only deadlines help
	check("paused")
	srv.Resume(t)
	srv.Stop() // connection refused
	check("stopped")

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.Ping(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("store did not recover after Restart: %v", s.Ping(ctx))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := s.EnsureTenant(ctx, "acme", time.Now()); err != nil {
		t.Fatalf("EnsureTenant after Restart: %v", err)
	}
	if err := s.CreateUser(ctx, "acme", u); err != nil {
		t.Fatalf("CreateUser after Restart: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, "http://x", Options{}); err == nil || errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Open(bad scheme) = %v; want a plain error", err)
	}
	if _, err := Open(ctx, "redis://127.0.0.1:6379", Options{KeyPrefix: "{x}"}); err == nil {
		t.Error("Open with '{' in KeyPrefix succeeded")
	}
	// A port nobody listens on: unavailable, quickly.
	srv := testredis.Start(t)
	srv.Stop()
	start := time.Now()
	_, err := Open(ctx, srv.URL(), Options{Timeout: 200 * time.Millisecond})
	if !errors.Is(err, store.ErrUnavailable) || time.Since(start) > time.Second {
		t.Errorf("Open(down) = %v after %v; want ErrUnavailable within 1s", err, time.Since(start))
	}
	if _, err := Open(ctx, "rediss://"+srv.Addr(), Options{Timeout: 200 * time.Millisecond}); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Open(rediss, down) = %v; want ErrUnavailable", err)
	}
}

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		in    error
		unav  bool
		notFd bool
	}{
		{redis.Nil, false, true},
		{context.DeadlineExceeded, true, false},
		{redis.ErrClosed, true, false},
		{errors.New("dial tcp: connection refused"), true, false},
		{redisErr("LOADING Redis is loading the dataset in memory"), true, false},
		{redisErr("READONLY You can't write against a read only replica."), true, false},
		{redisErr("WRONGTYPE Operation against a key holding the wrong kind of value"), false, false},
		{redisErr("ERR Error running script"), false, false},
	} {
		err := wrap(tc.in)
		if got := errors.Is(err, store.ErrUnavailable); got != tc.unav {
			t.Errorf("wrap(%v): unavailable = %v; want %v", tc.in, got, tc.unav)
		}
		if got := errors.Is(err, store.ErrNotFound); got != tc.notFd {
			t.Errorf("wrap(%v): not found = %v; want %v", tc.in, got, tc.notFd)
		}
		if !tc.notFd && !errors.Is(err, tc.in) {
			t.Errorf("wrap(%v) lost its cause: %v", tc.in, err)
		}
	}
}

type redisErr string

func (e redisErr) Error() string { return string(e) }
func (redisErr) RedisError()     {}
