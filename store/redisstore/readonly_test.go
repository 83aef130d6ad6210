package redisstore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// readOnlyFixture opens a Store on a private redis-server started with
// args, with a tenant holding one user, and a plain client on the same
// server.
func readOnlyFixture(t *testing.T, args ...string) (*Store, *redis.Client, string) {
	t.Helper()
	srv := testredis.Start(t, args...)
	ctx := context.Background()
	s := openOn(t, srv.URL(), Options{Timeout: time.Second})
	if _, err := s.EnsureTenant(ctx, "acme", time.Now()); err != nil {
		t.Fatal(err)
	}
	u := &mapping.User{ID: "u1", Attrs: mapping.Attrs{"userName": "ada@example.com", "externalId": "00u1"}, Created: time.Now()}
	if err := s.CreateUser(ctx, "acme", u); err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { c.Close() })
	return s, c, u.ID
}

// readUser makes the reads of a SCIM GET by id and of a userName lookup.
func readUser(ctx context.Context, s *Store, id string) error {
	if _, _, err := s.UserDocContext(ctx, "acme", id); err != nil {
		return err
	}
	uc, err := s.LookupUserContext(ctx, "acme", store.IndexUserName, "ADA@example.com")
	if err != nil {
		return err
	}
	if len(uc.Users) != 1 || uc.Users[0].ID != id {
		return errors.New("lookup found the wrong user")
	}
	return nil
}

// TestReadsWhileWritesPaused: a failover (Sentinel's, a Cluster's manual
// one) pauses writes on the old master with CLIENT PAUSE WRITE; Redis
// holds EVALSHA back then whatever the script does, so the user-context
// reads (a GET by id, a lookup) go as EVALSHA_RO and are answered, while a
// write waits and fails at the store's timeout.
func TestReadsWhileWritesPaused(t *testing.T) {
	s, c, id := readOnlyFixture(t)
	ctx := context.Background()
	if err := c.Do(ctx, "client", "pause", 5000, "write").Err(); err != nil {
		t.Fatal(err)
	}
	defer c.Do(ctx, "client", "unpause")
	if err := readUser(ctx, s, id); err != nil {
		t.Fatalf("read while writes are paused: %v", err)
	}
	// NOSCRIPT (a Redis that lost its script cache): the fallback is
	// EVAL_RO, not EVAL, which the pause would hold back too.
	if err := c.Do(ctx, "client", "unpause").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctx, "client", "pause", 5000, "write").Err(); err != nil {
		t.Fatal(err)
	}
	if err := readUser(ctx, s, id); err != nil {
		t.Fatalf("read after SCRIPT FLUSH while writes are paused: %v", err)
	}
	// The pause is real: a write is held back until the store's timeout.
	u := &mapping.User{ID: "u2", Attrs: mapping.Attrs{"userName": "bob@example.com"}, Created: time.Now()}
	if err := s.CreateUser(ctx, "acme", u); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write while writes are paused: %v, want ErrUnavailable", err)
	}
}

// TestReadOnlyScriptsWithoutEvalshaRO: a Redis without EVALSHA_RO and
// EVAL_RO (before 7.0; here they are renamed away) answers "unknown
// command"; the store then sends its read-only scripts as EVALSHA and
// EVAL, from then on.
func TestReadOnlyScriptsWithoutEvalshaRO(t *testing.T) {
	s, c, id := readOnlyFixture(t, "--rename-command", "evalsha_ro", "no-evalsha-ro", "--rename-command", "eval_ro", "no-eval-ro")
	ctx := context.Background()
	if err := readUser(ctx, s, id); err != nil {
		t.Fatalf("read on a Redis without EVALSHA_RO: %v", err)
	}
	if !s.noRO.Load() {
		t.Fatal("the store did not note that EVALSHA_RO is missing")
	}
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := readUser(ctx, s, id); err != nil {
		t.Fatalf("read after SCRIPT FLUSH on a Redis without EVALSHA_RO: %v", err)
	}
}

// TestReadOnlyScriptsWithoutPermission: an ACL user that may not run
// EVALSHA_RO and EVAL_RO (NOPERM) gets its reads as EVALSHA and EVAL,
// and a warning, instead of failed reads.
func TestReadOnlyScriptsWithoutPermission(t *testing.T) {
	srv := testredis.Start(t)
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer c.Close()
	if err := c.Do(ctx, "ACL", "SETUSER", "noro", "on", "nopass", "~*", "&*", "+@all", "-evalsha_ro", "-eval_ro").Err(); err != nil {
		t.Fatal(err)
	}
	var warned []error
	s, err := OpenUniversal(ctx, Config{URL: srv.URL(), Username: "noro", Password: "x"}, Options{Warn: func(err error) { warned = append(warned, err) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.EnsureTenant(ctx, "acme", time.Now()); err != nil {
		t.Fatal(err)
	}
	u := &mapping.User{ID: "u1", Attrs: mapping.Attrs{"userName": "ada@example.com"}, Created: time.Now()}
	if err := s.CreateUser(ctx, "acme", u); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := readUser(ctx, s, u.ID); err != nil {
			t.Fatalf("read by a user without EVALSHA_RO: %v", err)
		}
	}
	if !s.noRO.Load() || len(warned) != 1 || !strings.Contains(warned[0].Error(), "EVALSHA_RO") {
		t.Fatalf("noRO %v, warnings %v; want one warning naming EVALSHA_RO", s.noRO.Load(), warned)
	}
}
