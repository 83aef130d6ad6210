package scimserver_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/scimserver"
)

// TestThrottleNeverRefusesAValidToken: an attacker behind the same address
// as Okta (a proxy) keeps the address's failure bucket empty with bad
// tokens; a token that was never used (new, rotated, or any token after a
// restart) still authenticates at once, every time, while the attacker's
// bad and revoked tokens get 429.
func TestThrottleNeverRefusesAValidToken(t *testing.T) {
	eachBackend(t, func(t *testing.T, shared *env) {
		e := newEnv(t, shared.st, func(o *scimserver.Options) { o.AuthFailBurst = 0 })
		e.clock.Set(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		// A revoked token of the tenant, for the attacker.
		revokedSecret, revoked := e.issue(t, e.tenant)
		if err := e.st.RevokeToken(context.Background(), e.tenant, revoked.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		bad := []string{"Bearer scim_guess", "Bearer " + revokedSecret, "Basic x", "Bearer a b", ""}
		for i := 0; i < 3*scimserver.DefaultAuthFailBurst; i++ {
			e.get(t, "/Users", withAuth(bad[i%len(bad)]))
		}
		for _, b := range bad {
			if r := e.get(t, "/Users", withAuth(b)); r.Status != http.StatusTooManyRequests {
				t.Fatalf("%q after the burst: %d, want 429", b, r.Status)
			}
		}
		for round := 0; round < 5; round++ {
			secret, _ := e.issue(t, e.tenant) // never used before
			if r := e.get(t, "/Users", withAuth("Bearer "+secret)); r.Status != http.StatusOK {
				t.Fatalf("round %d: a valid, never-used token got %d (%s)", round, r.Status, r.Body)
			}
			for i := 0; i < 5; i++ {
				e.get(t, "/Users", withAuth(bad[i]))
			}
			e.clock.Set(e.clock.Now().Add(time.Second))
		}
		if r := e.get(t, "/Users"); r.Status != http.StatusOK {
			t.Fatalf("the env's own token: %d", r.Status)
		}
	})
}

// TestAuthFailureThrottle: a brute-force loop from one address is answered
// 429 with Retry-After after the burst, while a token that authenticated
// before keeps working from the same address; the throttle lifts as time
// passes.
func TestAuthFailureThrottle(t *testing.T) {
	eachBackend(t, func(t *testing.T, shared *env) {
		e := newEnv(t, shared.st, func(o *scimserver.Options) { o.AuthFailBurst = 0 })
		e.clock.Set(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		if r := e.get(t, "/Users"); r.Status != 200 {
			t.Fatalf("valid token: %d", r.Status)
		}
		var first429 int
		for i := 1; i <= scimserver.DefaultAuthFailBurst+5; i++ {
			r := e.get(t, "/Users", withAuth("Bearer scim_guess"))
			if r.Status == http.StatusTooManyRequests {
				first429 = i
				if r.Header.Get("Retry-After") == "" {
					t.Fatal("429 without Retry-After")
				}
				mustSCIMError(t, r, http.StatusTooManyRequests, "")
				break
			}
			if r.Status != http.StatusUnauthorized {
				t.Fatalf("attempt %d: %d, want 401", i, r.Status)
			}
		}
		if first429 != scimserver.DefaultAuthFailBurst+1 {
			t.Fatalf("first 429 at attempt %d, want %d", first429, scimserver.DefaultAuthFailBurst+1)
		}
		// The valid client behind the same address is not slowed.
		for i := 0; i < 5; i++ {
			if r := e.get(t, "/Users"); r.Status != 200 {
				t.Fatalf("valid token while the address is throttled: %d", r.Status)
			}
		}
		// Wrong tokens stay throttled; after the refill interval one more
		// attempt is admitted (and fails with 401).
		if r := e.get(t, "/Users", withAuth("Bearer scim_guess2")); r.Status != http.StatusTooManyRequests {
			t.Fatalf("still throttled: %d", r.Status)
		}
		e.clock.Set(e.clock.Now().Add(scimserver.DefaultAuthFailRefill + time.Millisecond))
		if r := e.get(t, "/Users", withAuth("Bearer scim_guess3")); r.Status != http.StatusUnauthorized {
			t.Fatalf("after the refill interval: %d, want 401", r.Status)
		}
		var throttled int
		for _, ev := range e.events.all() {
			if ev.AuthFail == scimserver.AuthThrottled {
				throttled++
			}
		}
		if throttled != 2 {
			t.Errorf("%d throttled events, want 2", throttled)
		}
	})
}
