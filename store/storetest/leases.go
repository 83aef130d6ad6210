package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/store"
)

// leasesOf returns the backend under test (the lease and run methods are
// part of store.State).
func leasesOf(_ *testing.T, f *fixture) store.State { return f.s }

func (f *fixture) acquire(l store.Leases, tenant, name, owner string, ttl time.Duration) (bool, string) {
	f.t.Helper()
	ok, holder, err := l.AcquireLease(f.ctx, tenant, name, owner, ttl)
	if err != nil {
		f.t.Fatalf("AcquireLease(%s, %s, %s): %v", tenant, name, owner, err)
	}
	return ok, holder
}

func testLeaseLifecycle(t *testing.T, f *fixture) {
	l := leasesOf(t, f)
	const ttl = time.Minute
	if ok, h := f.acquire(l, f.tenant, "reconcile", "a", ttl); !ok || h != "a" {
		t.Fatalf("first acquire = %v, %q; want true, a", ok, h)
	}
	if ok, h := f.acquire(l, f.tenant, "reconcile", "b", ttl); ok || h != "a" {
		t.Fatalf("acquire of a held lease = %v, %q; want false, a", ok, h)
	}
	if ok, h := f.acquire(l, f.tenant, "reconcile", "a", ttl); !ok || h != "a" {
		t.Fatalf("re-acquire by the holder = %v, %q; want true, a", ok, h)
	}
	if err := l.RenewLease(f.ctx, f.tenant, "reconcile", "b", ttl); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("renew by a non-holder: %v; want ErrLeaseLost", err)
	}
	if err := l.RenewLease(f.ctx, f.tenant, "reconcile", "a", ttl); err != nil {
		t.Fatalf("renew by the holder: %v", err)
	}
	// Other names and other tenants are independent.
	if ok, _ := f.acquire(l, f.tenant, "other", "b", ttl); !ok {
		t.Fatal("a lease of another name is not free")
	}
	other := f.newTenant()
	if ok, _ := f.acquire(l, other, "reconcile", "b", ttl); !ok {
		t.Fatal("the same lease name in another tenant is not free")
	}
	// Releasing someone else's lease changes nothing.
	if err := l.ReleaseLease(f.ctx, f.tenant, "reconcile", "b"); err != nil {
		t.Fatalf("release by a non-holder: %v", err)
	}
	if ok, h := f.acquire(l, f.tenant, "reconcile", "c", ttl); ok || h != "a" {
		t.Fatalf("after a non-holder's release: acquire = %v, %q; want false, a", ok, h)
	}
	if err := l.ReleaseLease(f.ctx, f.tenant, "reconcile", "a"); err != nil {
		t.Fatalf("release: %v", err)
	}
	if err := l.RenewLease(f.ctx, f.tenant, "reconcile", "a", ttl); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("renew after release: %v; want ErrLeaseLost", err)
	}
	if err := l.ReleaseLease(f.ctx, f.tenant, "reconcile", "a"); err != nil {
		t.Fatalf("second release: %v", err)
	}
	if ok, h := f.acquire(l, f.tenant, "reconcile", "c", ttl); !ok || h != "c" {
		t.Fatalf("acquire after release = %v, %q; want true, c", ok, h)
	}
}

func testLeaseExpiry(t *testing.T, f *fixture) {
	l := leasesOf(t, f)
	if ok, _ := f.acquire(l, f.tenant, "reconcile", "a", 100*time.Millisecond); !ok {
		t.Fatal("acquire failed")
	}
	time.Sleep(250 * time.Millisecond)
	if err := l.RenewLease(f.ctx, f.tenant, "reconcile", "a", time.Minute); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("renew of an expired lease: %v; want ErrLeaseLost", err)
	}
	if ok, h := f.acquire(l, f.tenant, "reconcile", "b", time.Minute); !ok || h != "b" {
		t.Fatalf("acquire of an expired lease = %v, %q; want true, b", ok, h)
	}
	// The old owner cannot renew or release the new owner's lease.
	if err := l.RenewLease(f.ctx, f.tenant, "reconcile", "a", time.Minute); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("renew by the expired owner: %v; want ErrLeaseLost", err)
	}
	if err := l.ReleaseLease(f.ctx, f.tenant, "reconcile", "a"); err != nil {
		t.Fatal(err)
	}
	if ok, h := f.acquire(l, f.tenant, "reconcile", "c", time.Minute); ok || h != "b" {
		t.Fatalf("acquire = %v, %q; want false, b", ok, h)
	}
	for _, ttl := range []time.Duration{0, -time.Second} {
		if _, _, err := l.AcquireLease(f.ctx, f.tenant, "x", "a", ttl); err == nil {
			t.Errorf("AcquireLease with ttl %v: no error", ttl)
		}
	}
}

func testLeaseConcurrentAcquire(t *testing.T, f *fixture) {
	l := leasesOf(t, f)
	const n = 20
	type res struct {
		ok     bool
		holder string
	}
	out := make([]res, n)
	errs := parallel(n, func(i int) error {
		ok, h, err := l.AcquireLease(f.ctx, f.tenant, "reconcile", fmt.Sprint("owner-", i), time.Minute)
		out[i] = res{ok, h}
		return err
	})
	winner := ""
	for i, err := range errs {
		if err != nil {
			t.Fatalf("acquire #%d: %v", i, err)
		}
		if out[i].ok {
			if winner != "" {
				t.Fatalf("two owners acquired the lease: %s and %s", winner, out[i].holder)
			}
			winner = out[i].holder
		}
	}
	if winner == "" {
		t.Fatal("nobody acquired the lease")
	}
	for i, r := range out {
		if r.holder != winner {
			t.Errorf("acquire #%d saw holder %q; want %q", i, r.holder, winner)
		}
	}
}

func run(id string, n int) store.RunRecord {
	return store.RunRecord{ID: id, StartedAt: at(n), Data: []byte(fmt.Sprintf(`{"runId":%q,"n":%d,"note":"ü \u2028 {x}"}`, id, n))}
}

func runIDs(rs []store.RunRecord) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}

func (f *fixture) listRuns(l store.Runs, tenant string, limit int) []store.RunRecord {
	f.t.Helper()
	rs, err := l.ListRuns(f.ctx, tenant, limit)
	if err != nil {
		f.t.Fatalf("ListRuns(%s, %d): %v", tenant, limit, err)
	}
	return rs
}

func testRuns(t *testing.T, f *fixture) {
	l := leasesOf(t, f)
	if rs := f.listRuns(l, f.tenant, 10); len(rs) != 0 {
		t.Fatalf("ListRuns of a new tenant = %v", runIDs(rs))
	}
	if _, err := l.GetRun(f.ctx, f.tenant, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetRun of an unknown id: %v; want ErrNotFound", err)
	}
	// Saved out of order; keep 3.
	for _, n := range []int{3, 1, 5, 2, 4} {
		if err := l.SaveRun(f.ctx, f.tenant, run(fmt.Sprint("run-", n), n), 3); err != nil {
			t.Fatalf("SaveRun #%d: %v", n, err)
		}
	}
	rs := f.listRuns(l, f.tenant, 0)
	wantStrings(t, "ListRuns(all) ids", runIDs(rs), []string{"run-5", "run-4", "run-3"})
	for _, r := range rs {
		var n int
		fmt.Sscan(r.ID[len("run-"):], &n)
		want := run(r.ID, n)
		wantTime(t, r.ID+" StartedAt", r.StartedAt, want.StartedAt)
		if string(r.Data) != string(want.Data) {
			t.Errorf("%s Data = %s; want %s", r.ID, r.Data, want.Data)
		}
	}
	wantStrings(t, "ListRuns(2) ids", runIDs(f.listRuns(l, f.tenant, 2)), []string{"run-5", "run-4"})
	for _, id := range []string{"run-1", "run-2"} {
		if _, err := l.GetRun(f.ctx, f.tenant, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetRun(%s) after trimming: %v; want ErrNotFound", id, err)
		}
	}
	// Upsert: same id, new data and start time.
	up := run("run-3", 9)
	if err := l.SaveRun(f.ctx, f.tenant, up, 3); err != nil {
		t.Fatal(err)
	}
	got, err := l.GetRun(f.ctx, f.tenant, "run-3")
	if err != nil || string(got.Data) != string(up.Data) || !got.StartedAt.Equal(up.StartedAt) {
		t.Fatalf("GetRun after upsert = %+v, %v; want %+v", got, err, up)
	}
	wantStrings(t, "ids after upsert", runIDs(f.listRuns(l, f.tenant, 0)), []string{"run-3", "run-5", "run-4"})
	// Equal start times order by id, greatest first.
	for _, id := range []string{"tie-a", "tie-b"} {
		if err := l.SaveRun(f.ctx, f.tenant, run(id, 20), 10); err != nil {
			t.Fatal(err)
		}
	}
	wantStrings(t, "ids with a tie", runIDs(f.listRuns(l, f.tenant, 2)), []string{"tie-b", "tie-a"})
	// Tenants are isolated.
	other := f.newTenant()
	if rs := f.listRuns(l, other, 0); len(rs) != 0 {
		t.Errorf("another tenant sees runs %v", runIDs(rs))
	}
	if _, err := l.GetRun(f.ctx, other, "run-3"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetRun from another tenant: %v; want ErrNotFound", err)
	}
	if err := l.SaveRun(f.ctx, f.tenant, store.RunRecord{StartedAt: t0}, 3); err == nil {
		t.Error("SaveRun without an id: no error")
	}
	if err := l.SaveRun(f.ctx, f.tenant, run("k0", 1), 0); err == nil {
		t.Error("SaveRun with keep 0: no error")
	}
}

func testRunsConcurrentSave(t *testing.T, f *fixture) {
	l := leasesOf(t, f)
	const n, keep = 12, 5
	errs := parallel(n, func(i int) error {
		return l.SaveRun(f.ctx, f.tenant, run(fmt.Sprintf("c-%02d", i), i), keep)
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("SaveRun #%d: %v", i, err)
		}
	}
	var want []string
	for i := n - 1; i >= n-keep; i-- {
		want = append(want, fmt.Sprintf("c-%02d", i))
	}
	// Every run that was saved after a newer one may have been trimmed at
	// once; what remains must be exactly the newest keep.
	got := runIDs(f.listRuns(l, f.tenant, 0))
	if !slices.Equal(got, want) {
		t.Errorf("runs after concurrent saves = %v; want %v", got, want)
	}
}
