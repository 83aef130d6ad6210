package sync

import (
	"testing"

	"github.com/axonflow/axonflow-sync/store"
)

// TestCorrectionsInProvisioningLog: every correction of a correct run is in
// the tenant's provisioning log with actor reconciler and the run id, with
// what it changed; a report run writes nothing there.
func TestCorrectionsInProvisioningLog(t *testing.T) {
	allBackends(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		o := seedOrg(e)
		e.run(ModeReport)
		if es, err := e.st.QueryLog(e.ctx, e.tenant, store.LogQuery{}); err != nil || len(es) != 0 {
			t.Fatalf("log after a report run: %v, %v; want nothing", es, err)
		}
		rep := e.run(ModeCorrect)
		es, err := e.st.QueryLog(e.ctx, e.tenant, store.LogQuery{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) == 0 {
			t.Fatal("no log entries after a correct run")
		}
		type key struct{ op, rt, name string }
		got := map[key]store.LogEntry{}
		for _, le := range es {
			if le.Actor != store.ActorReconciler || le.ActorID != rep.RunID || le.Rejected() {
				t.Errorf("entry %+v: want actor reconciler, run %s, accepted", le, rep.RunID)
			}
			got[key{le.Operation, le.ResourceType, le.Name}] = le
		}
		for _, want := range []key{
			{"create", "User", "bob@example.com"},
			{"update", "User", "cy@example.com"},
			{"deactivate", "User", "dee@example.com"},
			{"reactivate", "User", "eve@example.com"},
			{"deactivate", "User", "fay@example.com"},
			{"create", "Group", "Sales"},
			{"update", "Group", "Ops Team"},
			{"link", "Group", "Engineering"},
			{"add_members", "Group", "Engineering"},
			{"remove_members", "Group", "Engineering"},
			{"add_members", "Group", "Sales"},
			{"delete", "Group", "Legacy"},
		} {
			if _, ok := got[want]; !ok {
				t.Errorf("no %s %s %q entry; have %v", want.op, want.rt, want.name, got)
			}
		}
		// What changed is recorded, before → after.
		cy := got[key{"update", "User", "cy@example.com"}]
		found := false
		for _, c := range cy.Changes {
			if c.Attr == "name.familyName" && c.Before == "Old" && c.After == "Young" {
				found = true
			}
		}
		if !found || cy.ResourceID != o.axCy {
			t.Errorf("cy's update: id %s changes %+v; want %s with name.familyName Old → Young", cy.ResourceID, cy.Changes, o.axCy)
		}
		rm := got[key{"remove_members", "Group", "Engineering"}]
		if len(rm.Changes) != 1 || rm.Changes[0].RemovedCount != 1 || rm.Changes[0].Removed[0] != o.axFay {
			t.Errorf("Engineering's removal: %+v; want fay (%s) removed", rm.Changes, o.axFay)
		}
		// The log can be searched by name and actor like any other entry.
		byName, err := e.st.QueryLog(e.ctx, e.tenant, store.LogQuery{Name: "DEE@example.com", Actor: store.ActorReconciler})
		if err != nil || len(byName) != 1 || byName[0].Operation != "deactivate" {
			t.Errorf("dee's entries: %+v, %v", byName, err)
		}
	})
}
