package sync

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/axonflow/axonflow-sync/mapping"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/sync/oktatest"
)

// org is a tenant with one or more drift entries of every kind but
// conflict, all on objects from Okta push.
type org struct {
	ada, bob, cy, dee, eve                  string // Okta user ids
	axAda, axCy, axDee, axEve, axFay, axGus string // AxonFlow user ids
	eng, sales, ops                         string // Okta group ids
	axEng, axOps, axLegacy                  string // AxonFlow group ids
}

func seedOrg(e *env) org {
	var o org
	o.ada = e.oktaUser("ada@example.com", "Ada", "Lovelace", "")
	o.bob = e.oktaUser("bob@example.com", "Bob", "Builder", oktatest.StatusProvisioned)
	o.cy = e.oktaUser("cy@example.com", "Cy", "Young", "")
	o.dee = e.okta.AddUser(oktatest.User{Login: "dee@example.com", Email: "dee@example.com", FirstName: "Dee", LastName: "Dee",
		Status: oktatest.StatusSuspended})
	e.okta.AssignUser(app, o.dee, oktatest.ScopeUser, "")
	o.eve = e.oktaUser("eve@example.com", "Eve", "Adams", "")
	o.eng = e.oktaGroup("Engineering", o.ada, o.bob, o.cy)
	o.sales = e.oktaGroup("Sales", o.eve)
	o.ops = e.oktaGroup("Ops Team")

	push := mapping.OriginOktaPush
	o.axAda = e.pushUser(o.ada, "ada@example.com", "Ada", "Lovelace", true, push)
	o.axCy = e.pushUser(o.cy, "cy@example.com", "Cy", "Old", true, push) // lastName differs
	if u, err := e.st.GetUser(e.ctx, e.tenant, o.axCy); err == nil {
		u.Attrs["emails"] = []any{map[string]any{"value": "cy@old.example.com", "type": "work", "primary": true}}
		if err := e.st.UpdateUser(e.ctx, e.tenant, u, 0); err != nil {
			e.t.Fatal(err)
		}
	}
	o.axDee = e.pushUser(o.dee, "dee@example.com", "Dee", "Dee", true, push)    // suspended in Okta
	o.axEve = e.pushUser(o.eve, "eve@example.com", "Eve", "Adams", false, push) // active in Okta
	o.axFay = e.pushUser("00uFAY00000000000000", "fay@example.com", "Fay", "Gone", true, push)
	o.axGus = e.pushUser("00uGUS00000000000000", "gus@example.com", "Gus", "Gone", false, push)
	o.axEng = e.pushGroup("Engineering", push, "", o.axAda, o.axFay)
	o.axOps = e.pushGroup("Ops", mapping.OriginReconciler, o.ops)
	o.axLegacy = e.pushGroup("Legacy", push, "", o.axGus)
	return o
}

func kinds(rep *Report) map[Kind]int {
	out := map[Kind]int{}
	for k, n := range rep.Summary {
		if n > 0 {
			out[k] = n
		}
	}
	return out
}

func TestReportEveryDriftKind(t *testing.T) {
	allBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		o := seedOrg(e)
		// A conflict: Okta's hal@example.com and an AxonFlow user of that
		// userName whose externalId names another Okta user.
		hal := e.oktaUser("hal@example.com", "Hal", "Nine", "")
		axHal := e.pushUser("00uOTHER000000000000", "HAL@example.com", "Hal", "Nine", false, mapping.OriginOktaPush)
		before := e.snapshot()
		rep := e.run(ModeReport)
		sameSnapshot(t, "report mode", before, e.snapshot())

		want := map[Kind]int{
			KindUserMissing: 1, KindUserOrphaned: 1, KindUserAttributes: 2, KindUserStatus: 2,
			KindGroupMissing: 1, KindGroupOrphaned: 1, KindGroupAttributes: 1,
			KindMembershipMissing: 3, KindMembershipExtra: 1, KindConflict: 1,
		}
		if got := kinds(rep); !mapsEqual(got, want) {
			t.Fatalf("summary %v\nwant    %v\ndrift: %s", got, want, rep.JSON())
		}
		if !rep.Complete || rep.IncompleteReason != "" || len(rep.Applied) != 0 || rep.Remaining() != 14 {
			t.Fatalf("complete %v reason %q applied %d remaining %d", rep.Complete, rep.IncompleteReason, len(rep.Applied), rep.Remaining())
		}
		check := func(k Kind, pred func(Drift) bool) {
			t.Helper()
			for _, d := range findDrift(rep, k) {
				if pred(d) {
					return
				}
			}
			t.Errorf("no %s entry as expected in %+v", k, findDrift(rep, k))
		}
		check(KindUserMissing, func(d Drift) bool { return d.OktaID == o.bob && d.UserName == "bob@example.com" && d.AxonflowID == "" })
		check(KindUserOrphaned, func(d Drift) bool { return d.AxonflowID == o.axFay && d.UserName == "fay@example.com" })
		check(KindUserAttributes, func(d Drift) bool {
			return d.AxonflowID == o.axCy && d.Field == "name.familyName" && d.Okta == "Young" && d.AxonFlow == "Old"
		})
		check(KindUserAttributes, func(d Drift) bool {
			return d.Field == `emails[type eq "work"].value` && d.Okta == "cy@example.com" && d.AxonFlow == "cy@old.example.com"
		})
		check(KindUserStatus, func(d Drift) bool { return d.AxonflowID == o.axDee && d.Okta == "false" && d.AxonFlow == "true" })
		check(KindUserStatus, func(d Drift) bool { return d.AxonflowID == o.axEve && d.Okta == "true" && d.AxonFlow == "false" })
		check(KindGroupMissing, func(d Drift) bool { return d.OktaID == o.sales && d.DisplayName == "Sales" })
		check(KindGroupOrphaned, func(d Drift) bool { return d.AxonflowID == o.axLegacy })
		check(KindGroupAttributes, func(d Drift) bool {
			return d.AxonflowID == o.axOps && d.Field == "displayName" && d.Okta == "Ops Team" && d.AxonFlow == "Ops"
		})
		check(KindMembershipMissing, func(d Drift) bool { return d.AxonflowID == o.axEng && d.Okta == o.bob && d.AxonFlow == "" })
		check(KindMembershipMissing, func(d Drift) bool { return d.AxonflowID == o.axEng && d.Okta == o.cy && d.AxonFlow == o.axCy })
		check(KindMembershipMissing, func(d Drift) bool { return d.OktaID == o.sales && d.AxonflowID == "" && d.AxonFlow == o.axEve })
		check(KindMembershipExtra, func(d Drift) bool { return d.AxonflowID == o.axEng && d.AxonFlow == o.axFay })
		check(KindConflict, func(d Drift) bool { return d.OktaID == hal && d.AxonflowID == axHal && d.Field == "userName" })

		// The stored report is the JSON printed.
		got, err := e.runner.GetRun(e.ctx, e.tenant, rep.RunID)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.JSON()) != string(rep.JSON()) {
			t.Errorf("stored report differs:\n%s\nvs\n%s", got.JSON(), rep.JSON())
		}
	})
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestCorrectConvergesAndIsIdempotent(t *testing.T) {
	allBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		o := seedOrg(e)
		rep := e.run(ModeCorrect)
		if len(rep.Refused) != 0 {
			t.Fatalf("refused: %+v", rep.Refused)
		}
		for _, a := range rep.Applied {
			if a.Result != ResultOK {
				t.Errorf("correction failed: %+v", a)
			}
		}
		if rep.Remaining() != 0 {
			t.Errorf("remaining %d after correct", rep.Remaining())
		}
		// Apply order: users, groups, membership adds, removals, group
		// deletions, deactivations.
		var order []Action
		for _, a := range rep.Applied {
			if len(order) == 0 || order[len(order)-1] != a.Action {
				order = append(order, a.Action)
			}
		}
		wantOrder := []Action{ActUpdateUser, ActCreateUser, ActUpdateGroup, ActLinkGroup, ActCreateGroup,
			ActAddMember, ActRemoveMember, ActDeleteGroup, ActDeactivateUser}
		if !slices.Equal(order, wantOrder) {
			t.Errorf("apply order %v; want %v", order, wantOrder)
		}

		again := e.run(ModeReport)
		if len(again.Drift) != 0 {
			t.Fatalf("drift after correct:\n%s", again.JSON())
		}
		// The created user and group carry Origin reconciler; the group its Okta id.
		bobID, err := e.st.FindUser(e.ctx, e.tenant, store.IndexUserName, "bob@example.com")
		if err != nil {
			t.Fatal(err)
		}
		bob, _ := e.st.GetUser(e.ctx, e.tenant, bobID)
		if bob.Origin != mapping.OriginReconciler || bob.ExternalID() != o.bob || !bob.Active() {
			t.Errorf("created user %+v", bob)
		}
		salesID, err := e.st.FindGroup(e.ctx, e.tenant, store.IndexDisplayName, "Sales")
		if err != nil {
			t.Fatal(err)
		}
		sales, _ := e.st.GetGroup(e.ctx, e.tenant, salesID)
		if sales.Origin != mapping.OriginReconciler || sales.OktaID != o.sales {
			t.Errorf("created group %+v", sales)
		}
		if eng, _ := e.st.GetGroup(e.ctx, e.tenant, o.axEng); eng.OktaID != o.eng {
			t.Errorf("Engineering not linked to its Okta id: %+v", eng)
		}
		fay, _ := e.st.GetUser(e.ctx, e.tenant, o.axFay)
		if fay == nil || fay.Active() {
			t.Errorf("orphaned user not deactivated (or deleted): %+v", fay)
		}
		if _, err := e.st.GetGroup(e.ctx, e.tenant, o.axLegacy); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("orphaned group not deleted: %v", err)
		}

		// Idempotent: a second correct run writes nothing.
		before := e.snapshot()
		third := e.run(ModeCorrect)
		if len(third.Drift) != 0 || len(third.Applied) != 0 {
			t.Fatalf("second correct run: drift %d applied %d", len(third.Drift), len(third.Applied))
		}
		sameSnapshot(t, "second correct run", before, e.snapshot())
	})
}

func TestReportJSONShape(t *testing.T) {
	e := newEnv(t, "redis")
	seedOrg(e)
	rep := e.run(ModeReport)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(rep.JSON(), &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"applied", "complete", "deferred", "drift", "finishedAt", "incompleteReason", "mode", "okta", "refused",
		"runId", "startedAt", "summary", "tenant", "trigger"}
	if !slices.Equal(keys, want) {
		t.Fatalf("report keys %v; want %v", keys, want)
	}
	var okta map[string]int64
	_ = json.Unmarshal(m["okta"], &okta)
	for _, k := range []string{"apiCalls", "pages", "retries", "rateLimited"} {
		if _, ok := okta[k]; !ok {
			t.Errorf("okta lacks %s: %s", k, m["okta"])
		}
	}
	var summary map[string]int
	_ = json.Unmarshal(m["summary"], &summary)
	if len(summary) != len(Kinds) {
		t.Errorf("summary %v does not list every kind", summary)
	}
	var drift []map[string]any
	_ = json.Unmarshal(m["drift"], &drift)
	allowed := map[string]bool{"kind": true, "userName": true, "displayName": true, "oktaId": true, "axonflowId": true,
		"field": true, "okta": true, "axonflow": true}
	for _, d := range drift {
		for k := range d {
			if !allowed[k] {
				t.Errorf("drift entry has key %q: %v", k, d)
			}
		}
		if _, hasField := d["field"]; hasField {
			_, o := d["okta"]
			_, a := d["axonflow"]
			if !o || !a {
				t.Errorf("entry with field lacks okta/axonflow: %v", d)
			}
		}
	}
	var table strings.Builder
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"DRIFT SUMMARY", "user_missing", "bob@example.com", "Report mode: nothing was changed"} {
		if !strings.Contains(table.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, table.String())
		}
	}
}
