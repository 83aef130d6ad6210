package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/axonflow/axonflow-sync/store"
)

// testLogWrites checks store.Logged on the backend: every user and group
// write through it leaves one entry, written by the backend with the
// change (a failed one a rejected entry, through record), no-op changes
// and version mismatches leave none, reads leave none.
func testLogWrites(t *testing.T, f *fixture) {
	var logErrs []error
	w := store.Logged(f.s, func(ctx context.Context, tenant string, e store.LogEntry) {
		if err := f.s.AppendLog(ctx, tenant, e); err != nil {
			logErrs = append(logErrs, err)
		}
	})
	ctx := store.WithWriter(f.ctx, store.Writer{Actor: store.ActorReconciler, ID: "run-1"})
	tenant := f.tenant

	u := user("ada@example.com", "", 1)
	u.Created, u.LastModified = time.Now(), time.Now()
	if err := w.CreateUser(ctx, tenant, u); err != nil {
		t.Fatal(err)
	}
	dup := user("ADA@example.com", "", 2)
	if err := w.CreateUser(ctx, tenant, dup); err == nil {
		t.Fatal("duplicate CreateUser succeeded")
	}
	next := *f.getUser(tenant, u.ID)
	next.Attrs = next.Attrs.Clone()
	next.Attrs["active"] = false
	if err := w.UpdateUser(ctx, tenant, &next, next.Version); err != nil {
		t.Fatal(err)
	}
	stale := next
	if err := w.UpdateUser(ctx, tenant, &stale, 1); err == nil {
		t.Fatal("UpdateUser with a stale version succeeded")
	}
	g := group("Admins", "", 1)
	if err := w.CreateGroup(ctx, tenant, g, []string{u.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.UpdateGroup(ctx, tenant, g.ID, store.GroupChange{Add: []string{u.ID}}); err != nil { // already a member
		t.Fatal(err)
	}
	if _, err := w.UpdateGroup(ctx, tenant, g.ID, store.GroupChange{Remove: []string{u.ID}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.UpdateGroup(ctx, tenant, g.ID, store.GroupChange{Add: []string{"ghost"}}); err == nil {
		t.Fatal("adding an unknown member succeeded")
	}
	if _, err := w.GetGroup(ctx, tenant, g.ID); err != nil {
		t.Fatal(err)
	}
	if err := w.DeleteGroup(ctx, tenant, g.ID, 0); err != nil {
		t.Fatal(err)
	}
	if len(logErrs) != 0 {
		t.Fatalf("log errors: %v", logErrs)
	}

	es := f.queryLog(tenant, store.LogQuery{})
	type row struct {
		op, rt, name string
		status       int
	}
	want := []row{
		{"delete", "Group", "Admins", 204},
		{"update", "Group", "Admins", 400},
		{"remove_members", "Group", "Admins", 200},
		{"create", "Group", "Admins", 201},
		{"deactivate", "User", "ada@example.com", 200},
		{"create", "User", "ADA@example.com", 409},
		{"create", "User", "ada@example.com", 201},
	}
	if len(es) != len(want) {
		for _, e := range es {
			t.Logf("%s %s %q %d", e.Operation, e.ResourceType, e.Name, e.Status)
		}
		t.Fatalf("%d entries; want %d", len(es), len(want))
	}
	for i, w := range want {
		e := es[i]
		if (row{e.Operation, e.ResourceType, e.Name, e.Status}) != w || e.Actor != store.ActorReconciler || e.ActorID != "run-1" {
			t.Errorf("entry %d = %s %s %q %d by %s/%s; want %+v by reconciler/run-1", i, e.Operation, e.ResourceType, e.Name, e.Status,
				e.Actor, e.ActorID, w)
		}
	}
	if c := es[2].Changes; len(c) != 1 || c[0].Attr != "members" || c[0].RemovedCount != 1 || c[0].Removed[0] != u.ID {
		t.Errorf("remove_members changes = %+v", c)
	}
	if c := es[4].Changes; len(c) != 1 || c[0].Attr != "active" || c[0].Before != true || c[0].After != false {
		t.Errorf("deactivate changes = %+v", c)
	}
	if e := es[5]; e.ScimType != "uniqueness" || e.Detail == "" || e.ResourceID != "" || len(e.Changes) != 0 {
		t.Errorf("rejected create = %+v", e)
	}
	if e := es[1]; e.ScimType != "invalidValue" || e.Detail == "" {
		t.Errorf("rejected member add = %+v", e)
	}
}
