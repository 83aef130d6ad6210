package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/store"
)

// testMembersGuard: UpdateGroup checks a store.MembersGuard atomically
// with the write: a guard that holds lets the change through; one that
// does not changes nothing (members, version, log) and reports which of
// the change's ids are members; ErrNotFound and ErrVersionMismatch come
// first; a ReplaceMembers change ignores it. Through store.Logged, a
// re-sent add and a remove of a non-member are recorded as what they
// really did.
func testMembersGuard(t *testing.T, f *fixture) {
	tenant := f.tenant
	a := f.createUser(tenant, "a@example.com", "")
	b := f.createUser(tenant, "b@example.com", "")
	c := f.createUser(tenant, "c@example.com", "")
	g := f.createGroup(tenant, "Guarded", "", a.ID)
	guarded := func(members ...string) context.Context {
		return store.WithMembersGuard(f.ctx, store.MembersGuard{Members: members})
	}

	// Holds: a is a member, b is not.
	got, err := f.s.UpdateGroup(guarded(a.ID), tenant, g.ID, store.GroupChange{Add: []string{b.ID}, Remove: []string{a.ID}, At: at(5)})
	if err != nil {
		t.Fatalf("UpdateGroup under a guard that holds: %v", err)
	}
	wantStrings(t, "members after a guarded change", sorted(f.members(tenant, g.ID)), sortedOf(b.ID))
	v := got.Version

	// Does not hold: b is a member now, c is not; the change (add b and c)
	// must not happen.
	_, err = f.s.UpdateGroup(guarded(), tenant, g.ID, store.GroupChange{Add: []string{b.ID, c.ID}, At: at(6)})
	var mc *store.MembersChangedError
	if !errors.As(err, &mc) {
		t.Fatalf("UpdateGroup under a guard that does not hold: %v; want *store.MembersChangedError", err)
	}
	wantStrings(t, "MembersChangedError.Members", sorted(mc.Members), sortedOf(b.ID))
	wantStrings(t, "members after a refused change", sorted(f.members(tenant, g.ID)), sortedOf(b.ID))
	if cur := f.getGroup(tenant, g.ID); cur.Version != v {
		t.Errorf("version after a refused change: %d; want %d", cur.Version, v)
	}
	// Remove of a non-member and of a member, guard taking both to be members.
	_, err = f.s.UpdateGroup(guarded(b.ID, c.ID), tenant, g.ID, store.GroupChange{Remove: []string{b.ID, c.ID}, At: at(7)})
	if !errors.As(err, &mc) {
		t.Fatalf("remove under a wrong guard: %v; want *store.MembersChangedError", err)
	}
	wantStrings(t, "MembersChangedError.Members (remove)", sorted(mc.Members), sortedOf(b.ID))
	// An unknown id is not a member: the guard holds, the add is refused as unknown.
	_, err = f.s.UpdateGroup(guarded(), tenant, g.ID, store.GroupChange{Add: []string{"ghost"}, At: at(7)})
	wantUnknown(t, err, "guarded add of an unknown id", "ghost")

	// Not found and version mismatch come before the guard.
	_, err = f.s.UpdateGroup(guarded(), tenant, "nope", store.GroupChange{Add: []string{b.ID}})
	wantNotFound(t, err, "guarded UpdateGroup of a missing group")
	_, err = f.s.UpdateGroup(guarded(), tenant, g.ID, store.GroupChange{Add: []string{b.ID}, ExpectVersion: v + 7})
	wantVersionMismatch(t, err, "guarded UpdateGroup with a stale version")

	// ReplaceMembers ignores the guard.
	if _, err := f.s.UpdateGroup(guarded(), tenant, g.ID, store.GroupChange{ReplaceMembers: true, Members: []string{a.ID, c.ID}, Add: []string{b.ID}, At: at(8)}); err != nil {
		t.Fatalf("ReplaceMembers under a guard: %v", err)
	}
	wantStrings(t, "members after a replace", sorted(f.members(tenant, g.ID)), sortedOf(a.ID, b.ID, c.ID))

	// Through Logged: the entries list what really changed, with no read
	// of the membership before the write.
	w := store.Logged(f.s, nil)
	ctx := store.WithWriter(f.ctx, store.Writer{Actor: store.ActorReconciler, ID: "run-g"})
	d := f.createUser(tenant, "d@example.com", "")
	if _, err := w.UpdateGroup(ctx, tenant, g.ID, store.GroupChange{Add: []string{a.ID, d.ID}, At: at(9)}); err != nil { // a is in
		t.Fatal(err)
	}
	if _, err := w.UpdateGroup(ctx, tenant, g.ID, store.GroupChange{Remove: []string{c.ID, "nobody"}, At: at(10)}); err != nil { // nobody is not
		t.Fatal(err)
	}
	if _, err := w.UpdateGroup(ctx, tenant, g.ID, store.GroupChange{Add: []string{d.ID}, At: at(11)}); err != nil { // no-op
		t.Fatal(err)
	}
	wantStrings(t, "members after the logged changes", sorted(f.members(tenant, g.ID)), sortedOf(a.ID, b.ID, d.ID))
	es := f.queryLog(tenant, store.LogQuery{Since: time.Now().Add(-time.Hour)})
	if len(es) != 2 {
		for _, e := range es {
			t.Logf("%s %s %+v", e.Operation, e.Name, e.Changes)
		}
		t.Fatalf("%d log entries; want 2 (the no-op records nothing)", len(es))
	}
	if e := es[1]; e.Operation != "add_members" || len(e.Changes) != 1 || e.Changes[0].AddedCount != 1 || e.Changes[0].Added[0] != d.ID || e.Changes[0].RemovedCount != 0 {
		t.Errorf("re-sent add logged as %s %+v; want add_members of %s only", e.Operation, e.Changes, d.ID)
	}
	if e := es[0]; e.Operation != "remove_members" || len(e.Changes) != 1 || e.Changes[0].RemovedCount != 1 || e.Changes[0].Removed[0] != c.ID || e.Changes[0].AddedCount != 0 {
		t.Errorf("remove of a non-member logged as %s %+v; want remove_members of %s only", e.Operation, e.Changes, c.ID)
	}
}

// testMembersGuardConcurrent: writers racing through store.Logged to add
// the same members (and one each of its own) leave exactly one logged
// addition per member: the guard makes every writer whose assumption a
// concurrent one broke retry with the real membership.
func testMembersGuardConcurrent(t *testing.T, f *fixture) {
	tenant := f.tenant
	shared := []string{f.createUser(tenant, "s1@example.com", "").ID, f.createUser(tenant, "s2@example.com", "").ID}
	g := f.createGroup(tenant, "Raced", "")
	w := store.Logged(f.s, nil)
	ctx := store.WithWriter(f.ctx, store.Writer{Actor: store.ActorReconciler, ID: "run-race"})
	const writers = 6
	own := make([]string, writers)
	for i := range own {
		own[i] = f.createUser(tenant, "own"+string(rune('a'+i))+"@example.com", "").ID
	}
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			_, errs[i] = w.UpdateGroup(ctx, tenant, g.ID, store.GroupChange{Add: append([]string{own[i]}, shared...), At: at(20 + i)})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	wantStrings(t, "members after the race", sorted(f.members(tenant, g.ID)), sortedOf(append(append([]string{}, own...), shared...)...))
	added := map[string]int{}
	for _, e := range f.queryLog(tenant, store.LogQuery{Name: "Raced"}) {
		for _, c := range e.Changes {
			for _, id := range c.Added {
				added[id]++
			}
		}
	}
	for _, id := range append(append([]string{}, own...), shared...) {
		if added[id] != 1 {
			t.Errorf("member %s logged as added %d times; want once (entries: %v)", id, added[id], added)
		}
	}
}
