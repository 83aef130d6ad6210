package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// testUpdateWith checks store.UpdateUserWith and store.UpdateGroupWith on
// the backend, also through store.Logged: concurrent read-modify-writes
// lose no update (each retried on ErrVersionMismatch), a no-op writes
// nothing (version and lastModified kept, no log entry), the updater's
// error is returned as it is, a missing resource is ErrNotFound, and every
// write through Logged leaves exactly one entry.
func testUpdateWith(t *testing.T, f *fixture) {
	st := store.Logged(f.s, func(context.Context, string, store.LogEntry) {
		t.Error("no entry is recorded apart from its write here")
	})
	ctx := store.WithWriter(f.ctx, store.Writer{Actor: store.ActorReconciler, ID: "run-u"})
	u := f.createUser(f.tenant, "counter@example.com", "")

	// Concurrent increments of one counter: none is lost. Fewer writers
	// than store.MaxUpdateRetries, so no one runs out of retries.
	const writers = 6
	errs := parallel(writers, func(int) error {
		_, _, err := store.UpdateUserWith(ctx, st, f.tenant, u.ID, nil, func(old mapping.User) (mapping.User, error) {
			n, _ := strconv.Atoi(fmt.Sprint(old.Attrs["title"]))
			old.Attrs = old.Attrs.Clone()
			old.Attrs["title"] = strconv.Itoa(n + 1)
			old.LastModified = at(1)
			return old, nil
		})
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	got := f.getUser(f.tenant, u.ID)
	if got.Attrs["title"] != strconv.Itoa(writers) || got.Version != 1+writers {
		t.Fatalf("after %d concurrent increments: title %v, version %d; want %d, %d", writers, got.Attrs["title"], got.Version, writers, 1+writers)
	}

	// A no-op writes nothing.
	res, changed, err := store.UpdateUserWith(ctx, st, f.tenant, u.ID, got, func(old mapping.User) (mapping.User, error) {
		old.LastModified = at(2)
		return old, nil
	})
	if err != nil || changed || res.Version != got.Version {
		t.Fatalf("no-op update: %v, changed %v, version %d; want nothing written", err, changed, res.Version)
	}
	if again := f.getUser(f.tenant, u.ID); again.Version != got.Version || !again.LastModified.Equal(got.LastModified) {
		t.Fatalf("no-op update changed the user: %+v", again)
	}

	// The updater's error, and a missing user.
	boom := errors.New("boom")
	if _, _, err := store.UpdateUserWith(ctx, st, f.tenant, u.ID, nil, func(old mapping.User) (mapping.User, error) { return old, boom }); err != boom {
		t.Errorf("updater error: %v; want it returned as it is", err)
	}
	if _, _, err := store.UpdateUserWith(ctx, st, f.tenant, "ghost", nil, func(old mapping.User) (mapping.User, error) { return old, nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing user: %v; want ErrNotFound", err)
	}

	// Groups: concurrent versioned renames built on the name read.
	g := f.createGroup(f.tenant, "n", "")
	errs = parallel(writers, func(int) error {
		_, _, err := store.UpdateGroupWith(ctx, st, f.tenant, g.ID, nil, func(old mapping.Group) (store.GroupChange, bool, error) {
			attrs := old.Attrs.Clone()
			attrs["displayName"] = old.DisplayName() + "+"
			return store.GroupChange{Attrs: attrs, ExpectVersion: old.Version, At: at(3)}, true, nil
		})
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("group writer %d: %v", i, err)
		}
	}
	if gg := f.getGroup(f.tenant, g.ID); gg.DisplayName() != "n++++++" || gg.Version != 1+writers {
		t.Fatalf("after %d concurrent renames: %q, version %d; want %q, %d", writers, gg.DisplayName(), gg.Version, "n++++++", 1+writers)
	}
	if _, changed, err := store.UpdateGroupWith(ctx, st, f.tenant, g.ID, nil, func(mapping.Group) (store.GroupChange, bool, error) {
		return store.GroupChange{}, false, nil
	}); err != nil || changed {
		t.Errorf("group no-op: %v, changed %v", err, changed)
	}

	// One entry per write, none for the no-ops.
	es := f.queryLog(f.tenant, store.LogQuery{Limit: 1000})
	if len(es) != 2*writers {
		t.Fatalf("%d log entries; want %d (one per write)", len(es), 2*writers)
	}
	for _, e := range es {
		if e.Actor != store.ActorReconciler || e.ActorID != "run-u" || e.Operation != "update" || e.Status != 200 || len(e.Changes) != 1 {
			t.Errorf("entry %+v; want a reconciler update with its one change", e)
		}
	}
}
