package storetest

import (
	"errors"
	"fmt"
	gosync "sync"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/store"
)

// testPlans: CreatePlan (version 1, id conflict, keep), UpdatePlan
// (optimistic versioning, one winner among concurrent updaters),
// ListPlans order and limit, GetPlan, tenant isolation.
func testPlans(t *testing.T, f *fixture) {
	s := f.s
	if ps, err := s.ListPlans(f.ctx, f.tenant, 0); err != nil || len(ps) != 0 {
		t.Fatalf("ListPlans of a new tenant = %v, %v", ps, err)
	}
	if _, err := s.GetPlan(f.ctx, f.tenant, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetPlan of an unknown id: %v; want ErrNotFound", err)
	}
	if _, err := s.UpdatePlan(f.ctx, f.tenant, store.PlanRecord{ID: "nope", Data: []byte("{}")}, 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdatePlan of an unknown id: %v; want ErrNotFound", err)
	}
	base := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for n := 1; n <= 4; n++ {
		p := store.PlanRecord{ID: fmt.Sprint("plan-", n), CreatedAt: base.Add(time.Duration(n) * time.Minute),
			Data: []byte(fmt.Sprintf(`{"n": %d, "text": "a b c"}`, n))}
		if err := s.CreatePlan(f.ctx, f.tenant, p, 3); err != nil {
			t.Fatalf("CreatePlan #%d: %v", n, err)
		}
	}
	var ce *store.ConflictError
	if err := s.CreatePlan(f.ctx, f.tenant, store.PlanRecord{ID: "plan-4", CreatedAt: base, Data: []byte("{}")}, 3); !errors.As(err, &ce) || ce.Attr != "id" {
		t.Fatalf("CreatePlan of an existing id: %v; want ConflictError id", err)
	}
	ps, err := s.ListPlans(f.ctx, f.tenant, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.ID)
		if p.Version != 1 {
			t.Errorf("plan %s version %d; want 1", p.ID, p.Version)
		}
	}
	wantStrings(t, "ListPlans ids", ids, []string{"plan-4", "plan-3", "plan-2"})
	if ps, _ := s.ListPlans(f.ctx, f.tenant, 1); len(ps) != 1 || ps[0].ID != "plan-4" {
		t.Fatalf("ListPlans(1) = %v", ps)
	}
	got, err := s.GetPlan(f.ctx, f.tenant, "plan-3")
	if err != nil || string(got.Data) != `{"n": 3, "text": "a b c"}` || got.Version != 1 || !got.CreatedAt.Equal(base.Add(3*time.Minute)) {
		t.Fatalf("GetPlan(plan-3) = %+v, %v", got, err)
	}
	if _, err := s.GetPlan(f.ctx, f.tenant, "plan-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("pruned plan-1: %v; want ErrNotFound", err)
	}

	// Concurrent updaters of one version: exactly one wins.
	var wg gosync.WaitGroup
	var mu gosync.Mutex
	wins, mismatches := 0, 0
	for i := range 8 {
		wg.Go(func() {
			v, err := s.UpdatePlan(f.ctx, f.tenant, store.PlanRecord{ID: "plan-3", Data: []byte(fmt.Sprintf(`{"by": %d}`, i))}, 1)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && v == 2:
				wins++
			case errors.Is(err, store.ErrVersionMismatch):
				mismatches++
			default:
				t.Errorf("UpdatePlan: %d, %v", v, err)
			}
		})
	}
	wg.Wait()
	if wins != 1 || mismatches != 7 {
		t.Fatalf("concurrent updates: %d won, %d mismatched; want 1, 7", wins, mismatches)
	}
	got, _ = s.GetPlan(f.ctx, f.tenant, "plan-3")
	if got.Version != 2 || !got.CreatedAt.Equal(base.Add(3*time.Minute)) {
		t.Fatalf("after update: %+v", got)
	}
	if v, err := s.UpdatePlan(f.ctx, f.tenant, store.PlanRecord{ID: "plan-3", Data: []byte(`{"x": 1}`)}, 2); err != nil || v != 3 {
		t.Fatalf("UpdatePlan at version 2: %d, %v", v, err)
	}
	if got, _ = s.GetPlan(f.ctx, f.tenant, "plan-3"); string(got.Data) != `{"x": 1}` {
		t.Fatalf("data after update %q", got.Data)
	}
	other := f.newTenant()
	if ps, _ := s.ListPlans(f.ctx, other, 0); len(ps) != 0 {
		t.Fatalf("other tenant sees plans %v", ps)
	}
	if _, err := s.GetPlan(f.ctx, other, "plan-3"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other tenant GetPlan: %v", err)
	}
}
