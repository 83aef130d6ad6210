package redisstore

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/store"
)

// TestLogKeysAndOptions checks the key layout of the log (inside the
// tenant's hash tag, with an expiry) and that Options.LogRetention applies.
func TestLogKeysAndOptions(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, testredis.URL(t), Options{KeyPrefix: "lg:", LogRetention: store.LogRetention{MaxEntries: 3, MaxAge: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.LogRetention(); got.MaxEntries != 3 || got.MaxAge != time.Hour {
		t.Fatalf("LogRetention() = %+v", got)
	}
	tenant := "lg-" + strings.ReplaceAll(t.Name(), "/", "-")
	e := store.LogEntry{Actor: store.ActorOktaPush, ResourceType: "User", Name: "Ada@Example.com", Operation: "create", Status: 201}
	if err := s.AppendLog(ctx, tenant, e); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"lg:t:{" + tenant + "}:log", "lg:t:{" + tenant + "}:log:name:ada@example.com"} {
		ttl, err := s.Client().PTTL(ctx, key).Result()
		if err != nil || ttl <= 0 || ttl > time.Hour {
			t.Errorf("PTTL(%s) = %v, %v; want (0, 1h]", key, ttl, err)
		}
	}
	if n, err := s.Client().XLen(ctx, "lg:t:{"+tenant+"}:log").Result(); err != nil || n != 1 {
		t.Errorf("XLEN = %d, %v", n, err)
	}
}
