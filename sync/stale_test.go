package sync

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	gosync "sync"
	"testing"

	"time"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/sync/oktatest"
)

// TestPushDuringPullDeactivatesNothing: while the run reads Okta's app
// users (the page is held until the push is done), Okta assigns and pushes
// a new user and adds an existing user to a group. The snapshot lacks both;
// with the default guards the run would deactivate the new user as an
// orphan and remove the membership. Both are deferred instead, and the next
// run (Okta's snapshot now has them) finds no drift.
func TestPushDuringPullDeactivatesNothing(t *testing.T) {
	allBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		e.limits = DefaultLimits()
		var ids, oktaIDs []string
		for i := range 12 {
			login := fmt.Sprintf("u%02d@example.com", i)
			oid := e.oktaUser(login, "U", fmt.Sprint(i), "")
			oktaIDs = append(oktaIDs, oid)
			ids = append(ids, e.pushUser(oid, login, "U", fmt.Sprint(i), true, mapping.OriginOktaPush))
		}
		// 11 of the 12 are members (so one removal stays under maxChangePercent).
		gOkta := e.oktaGroup("Engineering", oktaIDs[:11]...)
		gid := e.pushGroup("Engineering", mapping.OriginOktaPush, gOkta, ids[:11]...)
		if rep := e.run(ModeCorrect); len(rep.Drift) != 0 {
			t.Fatalf("baseline drift: %+v", rep.Drift)
		}

		var once gosync.Once
		var newID string
		// Okta knows the person; the assignment happens during the read.
		newOkta := e.okta.AddUser(oktatest.User{Login: "new@example.com", Email: "new@example.com", FirstName: "New", LastName: "Person"})
		e.okta.AddFault(oktatest.Fault{Route: oktatest.RouteAppUsers, Kind: oktatest.FaultDelay, Times: -1,
			Match: func(*http.Request) bool {
				once.Do(func() {
					// The page is answered after this: Okta's snapshot has
					// neither change, the store has both.
					newID = e.pushUser(newOkta, "new@example.com", "New", "Person", true, mapping.OriginOktaPush)
					if _, err := e.st.UpdateGroup(e.ctx, e.tenant, gid, storeAdd(ids[11])); err != nil {
						t.Errorf("push membership: %v", err)
					}
				})
				return false
			}})
		rep := e.run(ModeCorrect)
		for _, a := range rep.Applied {
			if a.Action == ActDeactivateUser || a.Action == ActRemoveMember {
				t.Errorf("applied %s %s during a push", a.Action, a.AxonflowID)
			}
		}
		if len(rep.Refused) != 0 {
			t.Errorf("refused %+v; the default guards allow these corrections", rep.Refused)
		}
		var got []string
		for _, d := range rep.Deferred {
			if !strings.Contains(d.Reason, "after this run's Okta read began") {
				t.Errorf("deferred reason %q", d.Reason)
			}
			got = append(got, string(d.Action)+" "+d.AxonflowID+" "+d.Member)
		}
		slices.Sort(got)
		want := []string{"deactivate_user " + newID + " ", "remove_member " + gid + " " + ids[11]}
		if !slices.Equal(got, want) {
			t.Fatalf("deferred %q; want %q", got, want)
		}
		u, err := e.st.GetUser(e.ctx, e.tenant, newID)
		if err != nil || !mapping.IdentityOf(u).Active {
			t.Fatalf("pushed user deactivated: %v %v", u, err)
		}
		ms, _ := e.st.GroupMembers(e.ctx, e.tenant, gid)
		if !slices.Contains(ms, ids[11]) {
			t.Fatalf("pushed membership removed: %v", ms)
		}
		if !strings.Contains(string(rep.JSON()), `"deferred": [`) {
			t.Errorf("report JSON lacks deferred")
		}

		// Okta's own state catches up (what it pushed): no drift remains.
		e.okta.ClearFaults()
		e.okta.AssignUser(app, newOkta, oktatest.ScopeUser, "")
		e.okta.AddGroupMember(gOkta, oktaIDs[11])
		rep = e.run(ModeCorrect)
		if len(rep.Drift) != 0 {
			t.Errorf("drift after Okta caught up: %+v", rep.Drift)
		}
		if len(rep.Deferred) != 0 {
			t.Errorf("deferred again: %+v", rep.Deferred)
		}
	})
}

// TestDestructiveCorrectionRecheckedBeforeWrite: a user changed after
// planning (after the store was read) is not deactivated: the Applier
// re-reads it right before the write.
func TestDestructiveCorrectionRecheckedBeforeWrite(t *testing.T) {
	allBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		keep := e.oktaUser("keep@example.com", "K", "P", "")
		e.pushUser(keep, "keep@example.com", "K", "P", true, mapping.OriginOktaPush)
		gone := e.pushUser("00ugone", "gone@example.com", "G", "O", true, mapping.OriginOktaPush)
		e.runner.o.beforeApply = func(string) {
			u, err := e.st.GetUser(e.ctx, e.tenant, gone)
			if err != nil {
				t.Error(err)
				return
			}
			u.Attrs = u.Attrs.Clone()
			u.Attrs["displayName"] = "Pushed Again"
			if err := e.st.UpdateUser(e.ctx, e.tenant, u, u.Version); err != nil {
				t.Error(err)
			}
		}
		rep := e.run(ModeCorrect)
		if len(rep.Applied) != 0 || len(rep.Deferred) != 1 || rep.Deferred[0].AxonflowID != gone ||
			!strings.Contains(rep.Deferred[0].Reason, "changed in AxonFlow") {
			t.Fatalf("applied %+v deferred %+v; want the deactivation deferred", rep.Applied, rep.Deferred)
		}
		u, _ := e.st.GetUser(e.ctx, e.tenant, gone)
		if !mapping.IdentityOf(u).Active {
			t.Fatal("user deactivated after it changed")
		}
		// The next run, with nothing changing, deactivates it.
		e.runner.o.beforeApply = nil
		rep = e.run(ModeCorrect)
		if len(rep.Deferred) != 0 || len(rep.Applied) != 1 || rep.Applied[0].Action != ActDeactivateUser {
			t.Fatalf("second run applied %+v deferred %+v", rep.Applied, rep.Deferred)
		}
	})
}

// storeAdd is a GroupChange adding uids, as a push of the membership.
func storeAdd(uids ...string) store.GroupChange {
	return store.GroupChange{Add: uids, At: time.Now().UTC()}
}

// pushingStore adds a member to a group right before each DeleteGroup of
// it reaches the store: a SCIM push landing between the Applier's last
// read of the group and its delete.
type pushingStore struct {
	store.State
	member string
}

func (s *pushingStore) DeleteGroup(ctx context.Context, tenant, id string, expectVersion int64) error {
	if _, err := s.State.UpdateGroup(ctx, tenant, id, storeAdd(s.member)); err != nil {
		return err
	}
	return s.State.DeleteGroup(ctx, tenant, id, expectVersion)
}

// TestGroupDeleteRacingAPush: an orphaned group that gains a member between
// the Applier's re-read and its delete is not deleted: the delete is
// conditioned on the version read, and the correction is deferred.
func TestGroupDeleteRacingAPush(t *testing.T) {
	allBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		keep := e.oktaUser("keep@example.com", "K", "P", "")
		e.pushUser(keep, "keep@example.com", "K", "P", true, mapping.OriginOktaPush)
		uid := e.pushUser("00ulate", "late@example.com", "L", "A", true, mapping.OriginOperator)
		gid := e.pushGroup("Old Team", mapping.OriginOktaPush, "")
		r := NewRunner(RunnerOptions{Store: loggedStore(t, &pushingStore{State: e.st, member: uid}), Logger: testLogger(t),
			Replica: "test-replica", LeaseTTL: 5 * time.Second})
		rep, err := r.Run(e.ctx, e.options(ModeCorrect))
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Deferred) != 1 || rep.Deferred[0].AxonflowID != gid || !strings.Contains(rep.Deferred[0].Reason, "changed in AxonFlow") {
			t.Fatalf("applied %+v deferred %+v; want the group deletion deferred (drift %+v refused %+v plan %q)", rep.Applied, rep.Deferred, rep.Drift, rep.Refused, rep.PlanID)
		}
		if ms, err := e.st.GroupMembers(e.ctx, e.tenant, gid); err != nil || len(ms) != 1 {
			t.Fatalf("group after the deferred delete: members %v, %v", ms, err)
		}
	})
}
