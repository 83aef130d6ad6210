package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/store"
)

// counted attaches a round-trip counter to s's client.
func counted(s *Store) *testredis.Trips {
	c := &testredis.Trips{}
	s.Client().AddHook(c)
	return c
}

// tokenOf returns s.TokenByHash(hash) and how many round trips it made.
func tokenOf(t *testing.T, s *Store, c *testredis.Trips, hash string) (store.Token, error, int64) {
	t.Helper()
	before := c.N()
	tok, err := s.TokenByHash(context.Background(), hash)
	return tok, err, c.N() - before
}

// waitCached polls s.TokenByHash(hash) until it answers valid from the cache
// (no round trip): the subscription is confirmed and live.
func waitCached(t *testing.T, s *Store, c *testredis.Trips, hash string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tok, err, n := tokenOf(t, s, c, hash)
		if err == nil && n == 0 {
			if !tok.RevokedAt.IsZero() {
				t.Fatalf("cached token is revoked")
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("token never answered from the cache (last: %v, %d round trips)", err, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// within polls cond until it holds, failing the test if that takes longer
// than limit (a correctness bound of the cache, e.g. revocation within 1 s).
func within(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func revoked(s *Store, hash string) func() bool {
	return func() bool {
		tok, err := s.TokenByHash(context.Background(), hash)
		return err == nil && !tok.RevokedAt.IsZero()
	}
}

func openOn(t *testing.T, url string, opts Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func newTenant(name string) string { return fmt.Sprintf("%s-%d", name, time.Now().UnixNano()) }

// TestTokenCacheRevocationSeenByOtherStore: two Stores on one Redis (two
// replicas); a token cached by B and revoked, re-expired or flushed through
// A is seen by B within a second; A sees its own change at once.
func TestTokenCacheRevocationSeenByOtherStore(t *testing.T) {
	url := testredis.URL(t)
	a, b := openOn(t, url, Options{}), openOn(t, url, Options{})
	ca, cb := counted(a), counted(b)
	testTokenCacheTwoStores(t, a, b, ca, cb)
}

func testTokenCacheTwoStores(t *testing.T, a, b *Store, ca, cb *testredis.Trips) {
	ctx := context.Background()
	now := time.Now()
	tn := newTenant("tokcache")
	_, tok, err := store.IssueToken(ctx, a, tn, "okta", 0, now)
	if err != nil {
		t.Fatal(err)
	}
	waitCached(t, a, ca, tok.Hash)
	waitCached(t, b, cb, tok.Hash)

	// Expiry change (rotation sets the old token's expiry).
	exp := now.Add(time.Hour).UTC().Truncate(time.Second)
	if err := a.SetTokenExpiry(ctx, tn, tok.ID, exp, ""); err != nil {
		t.Fatal(err)
	}
	if got, err, _ := tokenOf(t, a, ca, tok.Hash); err != nil || !got.ExpiresAt.Equal(exp) {
		t.Fatalf("A right after its own SetTokenExpiry: %v %v", got.ExpiresAt, err)
	}
	within(t, time.Second, "B sees the new expiry", func() bool {
		got, err := b.TokenByHash(ctx, tok.Hash)
		return err == nil && got.ExpiresAt.Equal(exp)
	})
	waitCached(t, b, cb, tok.Hash)

	// A change made behind the stores' back, then a flush of every cache.
	if err := a.Client().HSet(ctx, a.tokenKey(tok.Hash), "name", "renamed").Err(); err != nil {
		t.Fatal(err)
	}
	if err := a.InvalidateTokens(ctx); err != nil {
		t.Fatal(err)
	}
	within(t, time.Second, "B sees the flush", func() bool {
		got, err := b.TokenByHash(ctx, tok.Hash)
		return err == nil && got.Name == "renamed"
	})
	waitCached(t, b, cb, tok.Hash)

	// Revocation.
	if err := a.RevokeToken(ctx, tn, tok.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if !revoked(a, tok.Hash)() {
		t.Fatal("A does not see its own revocation at once")
	}
	within(t, time.Second, "B sees the revocation", revoked(b, tok.Hash))

	// Touch does not invalidate: B keeps answering from its cache.
	_, tok2, err := store.IssueToken(ctx, a, tn, "okta2", 0, now)
	if err != nil {
		t.Fatal(err)
	}
	waitCached(t, b, cb, tok2.Hash)
	if err := a.TouchToken(ctx, tn, tok2.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err, n := tokenOf(t, b, cb, tok2.Hash); err != nil || n != 0 {
		t.Fatalf("after a touch: %v, %d round trips; want the cache", err, n)
	}
}

// TestTokenCacheUnknownNotCached: unknown hashes cost a round trip each and
// take no room in the cache.
func TestTokenCacheUnknownNotCached(t *testing.T) {
	s := openOn(t, testredis.URL(t), Options{})
	c := counted(s)
	ctx := context.Background()
	_, tok, err := store.IssueToken(ctx, s, newTenant("unknown"), "okta", 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	waitCached(t, s, c, tok.Hash)
	for i := range 100 {
		_, err, n := tokenOf(t, s, c, fmt.Sprintf("%064x", i))
		if !errors.Is(err, store.ErrNotFound) || n != 1 {
			t.Fatalf("unknown hash: %v, %d round trips; want ErrNotFound after 1", err, n)
		}
	}
	s.tc.mu.RLock()
	n := len(s.tc.entries)
	s.tc.mu.RUnlock()
	if n != 1 {
		t.Fatalf("%d cache entries, want 1", n)
	}
}

// TestTokenCacheBypassedWithoutSubscription: a Store whose subscription is
// never confirmed (its Redis user may not SUBSCRIBE) reads every token from
// Redis, so a change nobody published is seen at once; and one whose
// subscription is lost (the connection killed, resubscribing refused)
// stops trusting its cache, and after resubscribing it has no stale token.
func TestTokenCacheBypassedWithoutSubscription(t *testing.T) {
	srv := testredis.Start(t)
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	if err := admin.Do(ctx, "ACL", "SETUSER", "replica", "on", "nopass", "~*", "&*", "+@all", "-subscribe").Err(); err != nil {
		t.Fatal(err)
	}
	a := openOn(t, srv.URL(), Options{})
	bs, err := OpenUniversal(ctx, Config{URL: srv.URL(), Username: "replica", Password: "x"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bs.Close()
	cb := counted(bs)
	tn := newTenant("bypass")
	_, tok, err := store.IssueToken(ctx, a, tn, "okta", 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	key := a.tokenKey(tok.Hash)

	// Never confirmed: every call is a round trip, and sees a silent change.
	for i := range 20 {
		got, err, n := tokenOf(t, bs, cb, tok.Hash)
		if err != nil || n != 1 {
			t.Fatalf("call %d without a subscription: %v, %d round trips; want 1", i, err, n)
		}
		if i%5 == 4 {
			name := fmt.Sprintf("n%d", i)
			admin.HSet(ctx, key, "name", name)
			if got, _, _ := tokenOf(t, bs, cb, tok.Hash); got.Name != name {
				t.Fatalf("unsubscribed store answered a stale name %q, want %q", got.Name, name)
			}
		}
		_ = got
		time.Sleep(100 * time.Millisecond) // spans several subscription attempts
	}

	// Subscribed, then lost: allow SUBSCRIBE, wait for the cache, then
	// refuse it again and kill the subscription.
	if err := admin.Do(ctx, "ACL", "SETUSER", "replica", "+subscribe").Err(); err != nil {
		t.Fatal(err)
	}
	waitCached(t, bs, cb, tok.Hash)
	if err := admin.Do(ctx, "ACL", "SETUSER", "replica", "-subscribe").Err(); err != nil {
		t.Fatal(err)
	}
	if err := admin.Do(ctx, "CLIENT", "KILL", "TYPE", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	admin.HSet(ctx, key, "revoked", fmtTime(time.Now())) // a revocation nobody publishes
	within(t, time.Second, "the lost revocation is honoured", revoked(bs, tok.Hash))
	for i := range 10 {
		if _, err, n := tokenOf(t, bs, cb, tok.Hash); err != nil || n != 1 {
			t.Fatalf("call %d with the subscription down: %v, %d round trips; want 1", i, err, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	admin.HDel(ctx, key, "revoked")
	if revoked(bs, tok.Hash)() {
		t.Fatal("the subscription is down, yet a stale revoked record was answered")
	}

	// Back: the cache starts empty and learns the current record.
	admin.HSet(ctx, key, "revoked", fmtTime(time.Now()))
	if err := admin.Do(ctx, "ACL", "SETUSER", "replica", "+subscribe").Err(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err, n := tokenOf(t, bs, cb, tok.Hash)
		if err != nil || got.RevokedAt.IsZero() {
			t.Fatalf("after resubscribing: %v revoked=%v; want the revoked record", err, got.RevokedAt)
		}
		if n == 0 {
			break // answered from the cache: subscribed again
		}
		if time.Now().After(deadline) {
			t.Fatal("never resubscribed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTokenCacheAcrossRestart: Redis restarts (empty) under two Stores. The
// other Store does not answer the token it cached before, and a token
// created and revoked right after the restart is refused by it within a
// second; once resubscribed, its cache holds no stale record.
func TestTokenCacheAcrossRestart(t *testing.T) {
	srv := testredis.Start(t)
	ctx := context.Background()
	a, b := openOn(t, srv.URL(), Options{}), openOn(t, srv.URL(), Options{})
	cb := counted(b)
	tn := newTenant("restart")
	_, tok, err := store.IssueToken(ctx, a, tn, "okta", 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	waitCached(t, b, cb, tok.Hash)
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// The data is gone: B must not keep answering its cached record.
	within(t, time.Second, "B forgets the lost token", func() bool {
		_, err := b.TokenByHash(ctx, tok.Hash)
		return errors.Is(err, store.ErrNotFound)
	})
	// Recreated and revoked right after the restart, through A.
	if _, err := a.EnsureTenant(ctx, tn, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := a.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := a.RevokeToken(ctx, tn, tok.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	within(t, time.Second, "B honours the revocation made after the restart", revoked(b, tok.Hash))

	// A second token: B caches it again once resubscribed, and a
	// revocation is then delivered by pub/sub.
	_, tok2, err := store.IssueToken(ctx, a, tn, "okta2", 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	waitCached(t, b, cb, tok2.Hash)
	if !revoked(b, tok.Hash)() {
		t.Fatal("stale record of the first token after resubscribing")
	}
	if err := a.RevokeToken(ctx, tn, tok2.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	within(t, time.Second, "B sees a revocation after resubscribing", revoked(b, tok2.Hash))
}

// TestTokenCacheSilentConnection: a subscription that stops answering
// (Redis frozen) makes the cache distrusted within the lease, without
// any error on the connection.
func TestTokenCacheSilentConnection(t *testing.T) {
	srv := testredis.Start(t)
	ctx := context.Background()
	s := openOn(t, srv.URL(), Options{Timeout: 300 * time.Millisecond})
	c := counted(s)
	_, tok, err := store.IssueToken(ctx, s, newTenant("silent"), "okta", 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	waitCached(t, s, c, tok.Hash)
	srv.Pause(t)
	defer srv.Resume(t)
	within(t, 2*tokenLease, "the cache distrusted while Redis answers nothing", func() bool {
		_, err := s.TokenByHash(ctx, tok.Hash)
		return errors.Is(err, store.ErrUnavailable)
	})
}

// TestTokenCacheClose: Close stops the subscriber; the Store then answers
// nothing from its cache.
func TestTokenCacheClose(t *testing.T) {
	s, err := Open(context.Background(), testredis.URL(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := counted(s)
	_, tok, err := store.IssueToken(context.Background(), s, newTenant("close"), "okta", 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	waitCached(t, s, c, tok.Hash)
	done := s.sub.done
	s.Close()
	select {
	case <-done:
	default:
		t.Fatal("subscriber still running after Close")
	}
	if _, err := s.TokenByHash(context.Background(), tok.Hash); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("TokenByHash after Close: %v, want ErrUnavailable", err)
	}
}

// TestTokenCacheDisabled: with NoTokenCache every call reads Redis.
func TestTokenCacheDisabled(t *testing.T) {
	s := openOn(t, testredis.URL(t), Options{NoTokenCache: true})
	c := counted(s)
	_, tok, err := store.IssueToken(context.Background(), s, newTenant("nocache"), "okta", 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err, n := tokenOf(t, s, c, tok.Hash); err != nil || n != 1 {
			t.Fatalf("%v, %d round trips; want 1", err, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestTokenCacheEpoch: a read that began before an invalidation or a reset
// is not stored; the cache answers only while trusted and never with an
// entry older than tokenMaxAge; it holds at most tokenCacheMax entries.
func TestTokenCacheEpoch(t *testing.T) {
	c := newTokenCache()
	now := time.Now()
	tok := store.Token{ID: "t", Hash: "h"}
	if _, ok := c.begin(now); ok {
		t.Fatal("a new cache is trusted")
	}
	c.renew(now.Add(time.Hour))
	ep, ok := c.begin(now)
	if !ok {
		t.Fatal("renewed cache not trusted")
	}
	c.invalidate("other") // between the read and its store
	c.put("h", tok, ep, now)
	if _, ok := c.get("h", now); ok {
		t.Fatal("a read older than an invalidation was stored")
	}
	ep, _ = c.begin(now)
	c.put("h", tok, ep, now)
	if _, ok := c.get("h", now); !ok {
		t.Fatal("not cached")
	}
	if _, ok := c.get("h", now.Add(tokenMaxAge)); ok {
		t.Fatal("an entry older than tokenMaxAge was answered")
	}
	ep, _ = c.begin(now)
	c.reset()
	c.renew(now.Add(time.Hour))
	c.put("h", tok, ep, now)
	if _, ok := c.get("h", now); ok {
		t.Fatal("a read older than a reset was stored")
	}
	for i := range tokenCacheMax + 10 {
		ep, _ := c.begin(now)
		c.put(fmt.Sprint(i), tok, ep, now)
	}
	if n := len(c.entries); n != tokenCacheMax {
		t.Fatalf("%d entries, want the bound %d", n, tokenCacheMax)
	}
	c.invalidate(tokenFlushAll)
	if n := len(c.entries); n != 0 {
		t.Fatalf("%d entries after a flush", n)
	}
	c.reset()
	if _, ok := c.get("0", now); ok {
		t.Fatal("a reset cache is trusted")
	}
}

// TestTokenCacheWithoutChannelAccess: an ACL user without access to any
// pub/sub channel (Redis 7's default for new users) still reads tokens (its
// Store never answers from a cache), but may not revoke or re-expire one:
// the change could not be announced to the other replicas' caches, so it
// fails with an error naming the missing permission and changes nothing.
func TestTokenCacheWithoutChannelAccess(t *testing.T) {
	srv := testredis.Start(t)
	ctx := context.Background()
	admin := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer admin.Close()
	if err := admin.Do(ctx, "ACL", "SETUSER", "nochan", "on", "nopass", "~*", "resetchannels", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	s, err := OpenUniversal(ctx, Config{URL: srv.URL(), Username: "nochan", Password: "x"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := counted(s)
	tn := newTenant("nochan")
	_, tok, err := store.IssueToken(ctx, s, tn, "okta", 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err, n := tokenOf(t, s, c, tok.Hash); err != nil || n != 1 {
			t.Fatalf("call %d: %v, %d round trips; want 1", i, err, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for name, change := range map[string]func() error{
		"SetTokenExpiry": func() error { return s.SetTokenExpiry(ctx, tn, tok.ID, time.Now().Add(time.Hour), "") },
		"RevokeToken":    func() error { return s.RevokeToken(ctx, tn, tok.ID, time.Now()) },
	} {
		err := change()
		if err == nil || !strings.Contains(err.Error(), "PUBLISH") || !strings.Contains(err.Error(), "nothing was changed") {
			t.Fatalf("%s without channel access: %v; want an error naming the PUBLISH permission", name, err)
		}
	}
	got, err := s.TokenByHash(ctx, tok.Hash)
	if err != nil {
		t.Fatal(err)
	}
	if !got.RevokedAt.IsZero() || !got.ExpiresAt.IsZero() {
		t.Fatalf("a refused change was written: %+v", got)
	}
	// The same changes through a user that may publish succeed.
	if err := s2(t, srv).RevokeToken(ctx, tn, tok.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if !revoked(s, tok.Hash)() {
		t.Fatal("not revoked")
	}
}

// s2 opens a second Store on srv as the default user (all channels).
func s2(t *testing.T, srv *testredis.Server) *Store {
	t.Helper()
	s, err := OpenUniversal(context.Background(), Config{URL: srv.URL()}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
