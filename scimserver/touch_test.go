package scimserver_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/store"
)

// touchCounter counts lastUsedAt writes.
type touchCounter struct {
	store.State
	n atomic.Int32
}

func (c *touchCounter) TouchToken(ctx context.Context, tenant, id string, at time.Time) error {
	c.n.Add(1)
	return c.State.TouchToken(ctx, tenant, id, at)
}

// TestLastUsedAtWrittenAtMostOncePerMinute: a busy client does not turn
// reads into writes.
func TestLastUsedAtWrittenAtMostOncePerMinute(t *testing.T) {
	eachBackend(t, func(t *testing.T, shared *env) {
		tc := &touchCounter{State: shared.st}
		e := newEnv(t, tc)
		start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		e.clock.Set(start)
		for i := 0; i < 20; i++ {
			e.clock.Set(start.Add(time.Duration(i) * 2 * time.Second)) // 20 requests over 38 s
			if r := e.get(t, "/Users"); r.Status != 200 {
				t.Fatalf("GET: %d", r.Status)
			}
		}
		if n := tc.n.Load(); n != 1 {
			t.Fatalf("%d lastUsedAt writes in 38 s, want 1", n)
		}
		e.clock.Set(start.Add(61 * time.Second))
		e.get(t, "/Users")
		if n := tc.n.Load(); n != 2 {
			t.Fatalf("%d lastUsedAt writes after a minute, want 2", n)
		}
		toks, err := e.st.ListTokens(context.Background(), e.tenant)
		if err != nil || len(toks) != 1 || !toks[0].LastUsedAt.Equal(start.Add(61*time.Second)) {
			t.Fatalf("lastUsedAt = %v (%v), want %v", toks, err, start.Add(61*time.Second))
		}
	})
}
