package redisstore

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/mapping"
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

// TestWriteWithItsLogEntryIsAtomic: a write through store.Logged whose log
// entry cannot be stored (the log key holds another type) fails as a
// whole: the user is not created; a write that succeeds leaves exactly one
// entry, in the same script.
func TestWriteWithItsLogEntryIsAtomic(t *testing.T) {
	s := openTB(t)
	ctx := context.Background()
	tenant := "atomic-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if _, err := s.EnsureTenant(ctx, tenant, time.Now()); err != nil {
		t.Fatal(err)
	}
	var recorded []store.LogEntry
	w := store.Logged(s, func(_ context.Context, _ string, e store.LogEntry) { recorded = append(recorded, e) })
	wctx := store.WithWriter(ctx, store.Writer{Actor: store.ActorOktaPush, ID: "tok", OwnRejections: true})
	k := s.tk(tenant)
	if err := s.c.Set(ctx, k.log(), "not a stream", 0).Err(); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	u := &mapping.User{ID: "u1", Attrs: mapping.Attrs{"userName": "ada@example.com"}, Created: now, LastModified: now}
	if err := w.CreateUser(wctx, tenant, u); err == nil {
		t.Fatal("CreateUser succeeded although its log entry could not be stored")
	}
	if _, err := s.GetUser(ctx, tenant, "u1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetUser after the failed create: %v; want ErrNotFound (nothing written)", err)
	}
	if err := s.c.Del(ctx, k.log()).Err(); err != nil {
		t.Fatal(err)
	}
	if err := w.CreateUser(wctx, tenant, u); err != nil {
		t.Fatal(err)
	}
	es, err := s.QueryLog(ctx, tenant, store.LogQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Operation != "create" || es[0].ResourceID != "u1" || es[0].ActorID != "tok" || len(recorded) != 0 {
		t.Fatalf("log after one create: %+v (recorded apart: %v); want its one entry", es, recorded)
	}
}
