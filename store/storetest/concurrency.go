package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
)

// parallel runs fn(0..n-1) in n goroutines released together and returns
// their errors by index.
func parallel(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func testConcurrentAddMembers(t *testing.T, f *fixture) {
	const n = 50
	ids := f.createUsers("ca", n)
	g := f.createGroup(f.tenant, "Concurrent", "")
	errs := parallel(n, func(i int) error {
		_, err := f.s.UpdateGroup(f.ctx, f.tenant, g.ID, store.GroupChange{Add: []string{ids[i]}, At: at(i + 10)})
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("add #%d: %v", i, err)
		}
	}
	wantStrings(t, "members", f.members(f.tenant, g.ID), sorted(ids))
	// Every add was a real change: the version counts each exactly once.
	if got := f.getGroup(f.tenant, g.ID); got.Version != n+1 {
		t.Errorf("Version after %d concurrent adds = %d; want %d", n, got.Version, n+1)
	}
	ug, err := f.s.UserGroups(f.ctx, f.tenant, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		wantStrings(t, "UserGroups("+id+")", ug[id], []string{g.ID})
	}
}

func testConcurrentCreateUser(t *testing.T, f *fixture) {
	const rounds = 20
	for r := range rounds {
		name := fmt.Sprintf("race-%d@example.com", r)
		users := []*mapping.User{user(name, "", r), user(fmt.Sprintf("RACE-%d@example.com", r), "", r)}
		errs := parallel(2, func(i int) error { return f.s.CreateUser(f.ctx, f.tenant, users[i]) })
		ok := -1
		for i, err := range errs {
			var ce *store.ConflictError
			switch {
			case err == nil && ok < 0:
				ok = i
			case err == nil:
				t.Errorf("round %d: both creates succeeded", r)
			case !errors.As(err, &ce) || ce.Attr != "userName":
				t.Errorf("round %d: create #%d: %v; want nil or userName conflict", r, i, err)
			}
		}
		if ok < 0 {
			t.Errorf("round %d: no create succeeded: %v", r, errs)
			continue
		}
		f.wantFindUser(f.tenant, store.IndexUserName, name, users[ok].ID)
		_, err := f.s.GetUser(f.ctx, f.tenant, users[1-ok].ID)
		wantNotFound(t, err, fmt.Sprintf("round %d: loser", r))
	}
	// Same externalId, different userNames.
	for r := range rounds / 2 {
		ext := fmt.Sprintf("ext-race-%d", r)
		users := []*mapping.User{user(fmt.Sprintf("xa-%d", r), ext, r), user(fmt.Sprintf("xb-%d", r), ext, r)}
		errs := parallel(2, func(i int) error { return f.s.CreateUser(f.ctx, f.tenant, users[i]) })
		wins := 0
		for i, err := range errs {
			var ce *store.ConflictError
			switch {
			case err == nil:
				wins++
				f.wantFindUser(f.tenant, store.IndexExternalID, ext, users[i].ID)
			case !errors.As(err, &ce) || ce.Attr != "externalId":
				t.Errorf("externalId round %d: create #%d: %v", r, i, err)
			}
		}
		if wins != 1 {
			t.Errorf("externalId round %d: %d creates succeeded; want 1", r, wins)
		}
	}
	p, err := f.s.ListUsers(f.ctx, f.tenant, 0, 1000)
	if err != nil || p.Total != rounds+rounds/2 || len(p.Items) != p.Total {
		t.Errorf("ListUsers: %d items, Total %d, %v; want %d", len(p.Items), p.Total, err, rounds+rounds/2)
	}
}

func testConcurrentUpdateUser(t *testing.T, f *fixture) {
	const writers = 8
	u := f.createUser(f.tenant, "cu@example.com", "")
	for v := int64(1); v <= 5; v++ {
		errs := parallel(writers, func(i int) error {
			upd := &mapping.User{ID: u.ID, Attrs: mapping.Attrs{
				"userName": "cu@example.com", "title": fmt.Sprintf("w%d-v%d", i, v),
			}, LastModified: at(int(v))}
			return f.s.UpdateUser(f.ctx, f.tenant, upd, v)
		})
		wins := 0
		for i, err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, store.ErrVersionMismatch):
				t.Errorf("v%d writer %d: %v", v, i, err)
			}
		}
		if wins != 1 {
			t.Fatalf("v%d: %d writers won; want exactly 1", v, wins)
		}
		if got := f.getUser(f.tenant, u.ID); got.Version != v+1 {
			t.Fatalf("v%d: Version = %d; want %d", v, got.Version, v+1)
		}
	}
	// Concurrent renames of different users to one name: one wins.
	ids := f.createUsers("cr", writers)
	errs := parallel(writers, func(i int) error {
		upd := &mapping.User{ID: ids[i], Attrs: mapping.Attrs{"userName": "Target@example.com"}, LastModified: at(9)}
		return f.s.UpdateUser(f.ctx, f.tenant, upd, 0)
	})
	winner := ""
	for i, err := range errs {
		var ce *store.ConflictError
		switch {
		case err == nil && winner == "":
			winner = ids[i]
		case err == nil:
			t.Errorf("two renames to one userName succeeded")
		case !errors.As(err, &ce) || ce.Attr != "userName":
			t.Errorf("rename %d: %v", i, err)
		}
	}
	if winner == "" {
		t.Fatalf("no rename succeeded")
	}
	f.wantFindUser(f.tenant, store.IndexUserName, "target@example.com", winner)
	for i, id := range ids {
		if id != winner {
			f.wantFindUser(f.tenant, store.IndexUserName, fmt.Sprintf("cr-%d@example.com", i), id)
		}
	}
}

func testConcurrentUpdateGroup(t *testing.T, f *fixture) {
	const writers = 6
	ids := f.createUsers("cg", writers)
	g := f.createGroup(f.tenant, "CG", "")
	errs := parallel(writers, func(i int) error {
		_, err := f.s.UpdateGroup(f.ctx, f.tenant, g.ID, store.GroupChange{
			ExpectVersion: 1, Attrs: mapping.Attrs{"displayName": fmt.Sprintf("CG-%d", i)},
			Add: []string{ids[i]}, At: at(i + 1),
		})
		return err
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner < 0:
			winner = i
		case err == nil:
			t.Errorf("two UpdateGroup with ExpectVersion 1 succeeded")
		case !errors.Is(err, store.ErrVersionMismatch):
			t.Errorf("writer %d: %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no writer won")
	}
	got := f.getGroup(f.tenant, g.ID)
	if got.Version != 2 || got.DisplayName() != fmt.Sprintf("CG-%d", winner) {
		t.Errorf("group after race = %+v; want version 2, CG-%d", got, winner)
	}
	wantStrings(t, "members after race", f.members(f.tenant, g.ID), []string{ids[winner]})
}

func testConcurrentDeleteUserAddMember(t *testing.T, f *fixture) {
	// A user deleted while being added to a group must not be left behind
	// as a dangling member: either the add wins and the delete then removes
	// the membership, or the delete wins and the add fails as unknown.
	const n = 20
	ids := f.createUsers("dm", n)
	g := f.createGroup(f.tenant, "Dangling", "")
	errs := parallel(2*n, func(i int) error {
		if i%2 == 0 {
			return f.s.DeleteUser(f.ctx, f.tenant, ids[i/2])
		}
		_, err := f.s.UpdateGroup(f.ctx, f.tenant, g.ID, store.GroupChange{Add: []string{ids[i/2]}, At: at(i)})
		return err
	})
	for i, err := range errs {
		var ue *store.UnknownMembersError
		if i%2 == 0 && err != nil {
			t.Errorf("DeleteUser #%d: %v", i/2, err)
		}
		if i%2 == 1 && err != nil && !errors.As(err, &ue) {
			t.Errorf("add #%d: %v; want nil or UnknownMembersError", i/2, err)
		}
	}
	wantStrings(t, "members after deletes", f.members(f.tenant, g.ID), nil)
	ug, err := f.s.UserGroups(f.ctx, f.tenant, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		wantStrings(t, "UserGroups(deleted "+id+")", ug[id], nil)
	}
}

func testLargeGroup(t *testing.T, f *fixture) {
	const n = 5000
	ids := f.createUsers("lg", n+1)
	g := group("Large", "", 1)
	if err := f.s.CreateGroup(f.ctx, f.tenant, g, ids[:n/2]); err != nil {
		t.Fatalf("CreateGroup(%d members): %v", n/2, err)
	}
	const batch = 500
	for i := n / 2; i < n; i += batch {
		f.update(f.tenant, g.ID, store.GroupChange{Add: ids[i:min(i+batch, n)], At: at(i)})
	}
	if got := len(f.members(f.tenant, g.ID)); got != n {
		t.Fatalf("GroupMembers: %d; want %d", got, n)
	}
	before := f.getGroup(f.tenant, g.ID).Version
	got := f.update(f.tenant, g.ID, store.GroupChange{Add: []string{ids[n]}, At: at(n + 1)})
	if got.Version != before+1 {
		t.Errorf("Version = %d; want %d", got.Version, before+1)
	}
	wantStrings(t, "GroupMembers", f.members(f.tenant, g.ID), sorted(ids))
	wantStrings(t, "UserGroups(last)", f.userGroups(f.tenant, ids[n]), []string{g.ID})
	// Removing one and re-adding an existing one behave the same at scale.
	got = f.update(f.tenant, g.ID, store.GroupChange{Add: []string{ids[0]}, Remove: []string{ids[1]}, At: at(n + 2)})
	if got.Version != before+2 {
		t.Errorf("Version = %d; want %d", got.Version, before+2)
	}
	if m := f.members(f.tenant, g.ID); len(m) != n {
		t.Errorf("GroupMembers after remove: %d; want %d", len(m), n)
	}
}
