package redisstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/store"
)

// TestReconnectAfterOutage: while Redis refuses connections every call
// fails fast with ErrUnavailable, however many fail (go-redis's pool would
// stop dialling after as many failures as its pool size and probe only once
// a second); the first call after Redis is back succeeds.
func TestReconnectAfterOutage(t *testing.T) {
	srv := testredis.Start(t)
	ctx := context.Background()
	const timeout = 2 * time.Second
	s, err := Open(ctx, srv.URL(), Options{Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv.Stop()
	poolSize := s.Client().(*redis.Client).Options().PoolSize
	var wg sync.WaitGroup
	for i := range 2 * poolSize {
		wg.Go(func() {
			start := time.Now()
			err := s.Ping(ctx)
			if !errors.Is(err, store.ErrUnavailable) {
				t.Errorf("Ping %d with Redis down = %v; want ErrUnavailable", i, err)
			}
			if took := time.Since(start); took > timeout/2 {
				t.Errorf("Ping %d with Redis down took %v; want a fast failure", i, took)
			}
		})
	}
	wg.Wait()
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("first Ping after Redis returned: %v", err)
	}
	if took := time.Since(start); took > 300*time.Millisecond {
		t.Errorf("first Ping after Redis returned took %v", took)
	}
}
