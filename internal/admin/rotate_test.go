package admin_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/axonflow/axonflow-sync/internal/admin"
	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/store/redisstore"
)

// failingCreate is a State whose CreateToken fails once armed.
type failingCreate struct {
	store.State
	armed bool
}

func (f *failingCreate) CreateToken(ctx context.Context, t store.Token) error {
	if f.armed {
		return errors.New("injected: creating the token failed")
	}
	return f.State.CreateToken(ctx, t)
}

// tokensOf lists the tenant's tokens (id → expiry).
func tokensOf(t *testing.T, st store.State, tenant string) map[string]time.Time {
	t.Helper()
	toks, err := st.ListTokens(context.Background(), tenant)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]time.Time{}
	for _, k := range toks {
		m[k.ID] = k.ExpiresAt
	}
	return m
}

// forEachStore runs f on a fresh store of each backend, with a tenant id
// of its own (prefix and the time) and now truncated to the second.
func forEachStore(t *testing.T, prefix string, f func(t *testing.T, st store.State, tenant string, now time.Time)) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			now := time.Now().UTC().Truncate(time.Second)
			f(t, open(t), prefix+strings.ReplaceAll(now.Format("150405.000000000"), ".", ""), now)
		})
	}
}

// TestRotateTokenFailureChangesNothing: when the new token cannot be made,
// the old token's expiry is put back; on both stores.
func TestRotateTokenFailureChangesNothing(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			now := time.Now().UTC().Truncate(time.Second)
			f := &failingCreate{State: open(t)}
			tenant := "rot-" + strings.ReplaceAll(now.Format("150405.000000000"), ".", "")
			for _, ttl := range []time.Duration{0, 720 * time.Hour} {
				old, err := admin.CreateToken(ctx, f, tenant, "okta", ttl, now)
				if err != nil {
					t.Fatal(err)
				}
				before := tokensOf(t, f, tenant)
				f.armed = true
				if _, _, err := admin.RotateToken(ctx, f, tenant, old.ID, "", time.Hour, now); err == nil {
					t.Fatal("rotation succeeded with CreateToken failing")
				}
				f.armed = false
				after := tokensOf(t, f, tenant)
				if len(after) != len(before) || !after[old.ID].Equal(before[old.ID]) {
					t.Fatalf("ttl %v: a failed rotation changed the tokens: %v → %v", ttl, before, after)
				}
			}
		})
	}
}

// TestRotateTokenWithoutChannelAccess: on Redis, a rotation by a user that
// may not publish on the token-cache channel is refused and leaves no new
// token behind (the old token's expiry, the step refused, comes first).
func TestRotateTokenWithoutChannelAccess(t *testing.T) {
	srv := testredis.Start(t)
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer c.Close()
	if err := c.Do(ctx, "ACL", "SETUSER", "nochan", "on", "nopass", "~*", "resetchannels", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	st, err := redisstore.OpenUniversal(ctx, redisstore.Config{URL: srv.URL(), Username: "nochan", Password: "x"}, redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now().UTC()
	old, err := admin.CreateToken(ctx, st, "acme", "okta", 0, now)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = admin.RotateToken(ctx, st, "acme", old.ID, "", time.Hour, now)
	if err == nil || !strings.Contains(err.Error(), "PUBLISH") {
		t.Fatalf("rotation without channel access: %v; want an error naming PUBLISH", err)
	}
	if got := tokensOf(t, st, "acme"); len(got) != 1 || !got[old.ID].IsZero() {
		t.Fatalf("tokens after a refused rotation: %v; want only %s, never expiring", got, old.ID)
	}
}

// TestRotateTokenTwice: the old token records its replacement, and a second
// rotation of it is refused (409 naming the replacement) instead of giving
// a third token the first rotation's grace as its lifetime; the
// replacement rotates with the original lifetime. On both stores.
func TestRotateTokenTwice(t *testing.T) {
	forEachStore(t, "twice-", func(t *testing.T, st store.State, tenant string, now time.Time) {
		ctx := context.Background()
		for _, ttl := range []time.Duration{0, 720 * time.Hour} {
			old, err := admin.CreateToken(ctx, st, tenant, "okta", ttl, now)
			if err != nil {
				t.Fatal(err)
			}
			nt, ov, err := admin.RotateToken(ctx, st, tenant, old.ID, "", 24*time.Hour, now)
			if err != nil {
				t.Fatal(err)
			}
			if ov.ReplacedBy != nt.ID || !tokensOf(t, st, tenant)[nt.ID].Equal(nt.ExpiresAt) {
				t.Fatalf("ttl %v: old token %+v, new %+v", ttl, ov, nt)
			}
			if got := nt.ExpiresAt.Sub(nt.Created); ttl == 0 && !nt.ExpiresAt.IsZero() || ttl > 0 && got != ttl {
				t.Fatalf("ttl %v: the new token's lifetime is %v", ttl, got)
			}
			later := now.Add(time.Hour)
			_, _, err = admin.RotateToken(ctx, st, tenant, old.ID, "", 24*time.Hour, later)
			var ae *admin.APIError
			if !errors.As(err, &ae) || ae.Status != 409 || !strings.Contains(ae.Message, nt.ID) {
				t.Fatalf("ttl %v: second rotation of %s: %v; want 409 naming %s", ttl, old.ID, err, nt.ID)
			}
			n2, _, err := admin.RotateToken(ctx, st, tenant, nt.ID, "", 24*time.Hour, later)
			if err != nil {
				t.Fatal(err)
			}
			if got := n2.ExpiresAt.Sub(n2.Created); ttl == 0 && !n2.ExpiresAt.IsZero() || ttl > 0 && got != ttl {
				t.Fatalf("ttl %v: the replacement's replacement has lifetime %v", ttl, got)
			}
		}
	})
}

// TestRotateTokenConcurrently: of rotations of one token at the same time,
// exactly one succeeds and the others get the 409 naming its replacement;
// on both stores.
func TestRotateTokenConcurrently(t *testing.T) {
	forEachStore(t, "conc-", func(t *testing.T, st store.State, tenant string, now time.Time) {
		ctx := context.Background()
		for round := range 5 {
			old, err := admin.CreateToken(ctx, st, tenant, "okta", 720*time.Hour, now)
			if err != nil {
				t.Fatal(err)
			}
			const n = 6
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make([]error, n)
			ids := make([]string, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					nt, _, err := admin.RotateToken(ctx, st, tenant, old.ID, "", time.Hour, now)
					errs[i], ids[i] = err, nt.ID
				}()
			}
			close(start)
			wg.Wait()
			var won string
			for i, err := range errs {
				var ae *admin.APIError
				switch {
				case err == nil && won == "":
					won = ids[i]
				case err == nil:
					t.Fatalf("round %d: two rotations of %s succeeded: %s and %s", round, old.ID, won, ids[i])
				case !errors.As(err, &ae) || ae.Status != 409:
					t.Fatalf("round %d: a losing rotation: %v; want a 409", round, err)
				}
			}
			toks := tokensOf(t, st, tenant)
			if won == "" || len(toks) != 2*(round+1) {
				t.Fatalf("round %d: winner %q, %d tokens; want one new token per round", round, won, len(toks))
			}
		}
	})
}

// TestRotateTokenRotatedByOlderBuild: a token rotated before tokens
// recorded their replacement (no ReplacedBy, only the log's rotate_token
// entry) is known as rotated from the log; and a rotated token whose
// replacement is revoked says to create a new token.
func TestRotateTokenRotatedByOlderBuild(t *testing.T) {
	forEachStore(t, "older-", func(t *testing.T, st store.State, tenant string, now time.Time) {
		ctx := context.Background()
		old, err := admin.CreateToken(ctx, st, tenant, "okta", 720*time.Hour, now)
		if err != nil {
			t.Fatal(err)
		}
		repl, err := admin.CreateToken(ctx, st, tenant, "okta", 720*time.Hour, now)
		if err != nil {
			t.Fatal(err)
		}
		// What an older build's rotation left: the shortened expiry and
		// the log entry.
		if err := st.SetTokenExpiry(ctx, tenant, old.ID, now.Add(24*time.Hour), ""); err != nil {
			t.Fatal(err)
		}
		if err := st.AppendLog(ctx, tenant, store.LogEntry{Time: now, ResourceType: "Token", ResourceID: old.ID, Name: old.Name,
			Operation: "rotate_token", Detail: "replaced by token " + repl.ID, Actor: store.ActorOperator, Status: 200}); err != nil {
			t.Fatal(err)
		}
		_, _, err = admin.RotateToken(ctx, st, tenant, old.ID, "", time.Hour, now)
		var ae *admin.APIError
		if !errors.As(err, &ae) || ae.Status != 409 || !strings.Contains(ae.Message, "rotate "+repl.ID) {
			t.Fatalf("rotating a token an older build rotated: %v; want 409 naming %s", err, repl.ID)
		}
		if _, err := admin.RevokeToken(ctx, st, tenant, repl.ID, now); err != nil {
			t.Fatal(err)
		}
		_, _, err = admin.RotateToken(ctx, st, tenant, old.ID, "", time.Hour, now)
		if !errors.As(err, &ae) || ae.Status != 409 || !strings.Contains(ae.Message, "create a new token") {
			t.Fatalf("rotating a token whose replacement is revoked: %v; want 409 saying to create a new token", err)
		}
	})
}
